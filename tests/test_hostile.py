"""Hostile inputs and operator mistakes, one test per class: nothing lost, destroyed or resumed stale."""

from __future__ import annotations

from pathlib import Path

import pytest
from htlm.pipeline.beam import job

from tests.conftest import WARC_DATA

WARC = WARC_DATA / "cc-whirlwind" / "whirlwind.warc.gz"
IN_MEMORY = ["--direct_running_mode=in_memory", "--no_progress"]


def run(output: Path, *inputs: Path | str, extra: tuple[str, ...] = ()) -> dict:
    argv = [arg for path in inputs for arg in ("--input", str(path))]
    return job.run([*argv, "--output", str(output), *IN_MEMORY, *extra])


def test_an_output_path_with_glob_characters_is_literal(tmp_path: Path) -> None:
    """`--output runs/exp[1]` must never touch `runs/exp1`, which the path read as a glob matches."""
    bystander = tmp_path / "exp1"
    bystander.mkdir()
    decoys = [
        bystander / "stats.json",
        bystander / "documents-00000-of-00002.jsonl.gz",
        bystander / "report.html",
    ]
    for decoy in decoys:
        decoy.write_text("not yours")
    output = tmp_path / "exp[1]"
    run(output, WARC)
    run(output, WARC, extra=("--docs_per_shard", "1"))  # a new shard count: stale shards are removed
    run(output, WARC)  # and again: stats.json and report.html are replaced
    assert all(decoy.read_text() == "not yours" for decoy in decoys)
    assert sorted(p.name for p in output.glob("documents-*")) == ["documents-00000-of-00001.jsonl.gz"]


def test_an_input_glob_that_matches_the_output_is_refused(tmp_path: Path) -> None:
    (tmp_path / "crawl").mkdir()
    (tmp_path / "crawl" / "a.warc.gz").write_bytes(WARC.read_bytes())
    run(tmp_path / "crawl" / "out", tmp_path / "crawl" / "a.warc.gz")
    with pytest.raises(SystemExit, match="inside --output"):
        run(tmp_path / "crawl" / "out", tmp_path / "crawl" / "**" / "*.gz")


def documents_file(path: Path, texts: list[str]) -> Path:
    import gzip
    import json

    with gzip.open(path, "wt", encoding="utf-8") as out:
        for i, text in enumerate(texts):
            out.write(json.dumps({"url": f"https://e.example/{i}", "warc_file": "w", "warc_record_id": str(i),
                                  "mhtml": text}) + "\n")  # fmt: skip
    return path


@pytest.mark.parametrize("texts", [[], ["   ", "\n\t", ""]], ids=["empty", "whitespace-only"])
def test_tokenizer_train_on_nothing_is_one_clear_line(
    tmp_path: Path, texts: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from htlm.pipeline.tokenizer.cli import main

    shard = documents_file(tmp_path / "documents-00000-of-00001.jsonl.gz", texts)
    assert main(["train", "--input", str(shard), "--model-prefix", str(tmp_path / "tok" / "spm")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "no text to train on" in err and "Traceback" not in err


def test_binarize_on_an_empty_input_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from htlm.pipeline.tokenizer import TokenizerSettings, train_tokenizer
    from htlm.pipeline.tokenizer.cli import main

    text = "<p>" + " ".join(f"word{i % 97} token{i % 13}" for i in range(3000)) + "</p>"
    train_tokenizer([text] * 3, tmp_path / "tok" / "spm", TokenizerSettings(vocab_size=340, num_threads=1))
    empty = documents_file(tmp_path / "documents-00000-of-00001.jsonl.gz", [])
    argv = ["binarize", "--input", str(empty), "--spm-model", str(tmp_path / "tok" / "spm.model")]
    assert main([*argv, "--destdir", str(tmp_path / "db"), "--direct_running_mode=in_memory"]) == 1
    assert "hold no documents" in capsys.readouterr().err
    assert (
        main([*argv[:2], str(tmp_path / "nothing-*.jsonl.gz"), *argv[3:], "--destdir", str(tmp_path / "x")])
        == 2
    )
