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


def intermediates(output: Path) -> list[Path]:
    return sorted((output / "intermediate").glob("*.jsonl.gz"))


def test_resume_never_reuses_work_made_from_other_flags_or_another_file(tmp_path: Path) -> None:
    warc = tmp_path / "w.warc.gz"
    warc.write_bytes(WARC.read_bytes())
    out = tmp_path / "out"
    first = run(out, warc)
    assert run(out, warc)["inputs"]["skipped_already_done"] == 1  # same file, same flags: resumed
    strict = run(out, warc, extra=("--min_text_chars", "100000"))  # other flags: redone, and they apply
    assert strict["inputs"]["skipped_already_done"] == 0 and strict["inputs"]["redone"] == {"changed": 1}
    assert strict["kept"] == 0 < first["kept"]
    import os

    warc.write_bytes(WARC.read_bytes() + WARC.read_bytes())  # the WARC changed: twice the records
    os.utime(warc, (1, 1))
    grown = run(out, warc)
    assert grown["inputs"]["redone"] == {"changed": 1} and grown["records_in"] == 2 * first["records_in"]


def test_a_damaged_intermediate_is_named_and_redone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "out"
    first = run(out, WARC)
    (committed,) = intermediates(out)
    committed.write_bytes(committed.read_bytes()[:-25])  # cut: the end line is gone
    again = run(out, WARC)
    assert again["inputs"]["redone"] == {"corrupt": 1} and again["records_in"] == first["records_in"]
    assert any(committed.name in message and "damaged" in message for message in caplog.messages)
    assert run(out, WARC)["inputs"]["skipped_already_done"] == 1  # whole again


def test_a_second_run_into_a_folder_in_use_refuses(tmp_path: Path) -> None:
    import json
    import os
    import socket

    out = tmp_path / "out"
    out.mkdir()
    lock = out / ".htlm.lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": "now"}))
    with pytest.raises(SystemExit, match="in use by another run"):
        run(out, WARC)
    assert lock.exists() and not (out / "stats.json").exists()
    lock.write_text(json.dumps({"pid": 2**22 + 12345, "host": socket.gethostname(), "started": "then"}))
    assert run(out, WARC)["records_in"] == 4  # a lock whose process is gone is taken over
    assert not lock.exists()


def test_a_warc_past_its_timeout_is_never_committed_later(tmp_path: Path) -> None:
    import time

    stats = run(tmp_path, WARC, extra=("--warc_timeout", "0.001", "--record_timeout", "0"))
    assert stats["dead_lettered"] == {"extract": 1}
    time.sleep(3)  # the abandoned thread has long finished reading this small WARC
    assert intermediates(tmp_path) == []


def test_a_repeated_record_id_never_makes_an_unrelated_page_a_duplicate(tmp_path: Path) -> None:
    """Two different pages under one WARC-Record-ID: both kept, the repeat counted."""
    import gzip

    from tests.conftest import PAGE_DATA
    from tests.warcs import http_block, response_record

    pages = sorted((PAGE_DATA / "scrapinghub-article-extraction-benchmark" / "html").glob("*.html.gz"))[:2]
    first, second = (
        gzip.decompress(
            response_record(f"https://site{i}.example/", http_block(gzip.decompress(p.read_bytes())))
        )
        for i, p in enumerate(pages)
    )
    record_id = first.split(b"WARC-Record-ID: ", 1)[1].split(b"\r\n", 1)[0]
    second_id = second.split(b"WARC-Record-ID: ", 1)[1].split(b"\r\n", 1)[0]
    warc = tmp_path / "same-id.warc.gz"
    warc.write_bytes(gzip.compress(first) + gzip.compress(second.replace(second_id, record_id)))
    stats = run(tmp_path / "out", warc)
    assert stats["kept"] == 2 and stats["dropped"] == {} and stats["inputs"]["repeated_record_ids"] == 1


@pytest.mark.parametrize(
    "name", [b"caf\xe9-\xff.warc.gz", b"x" * 230 + b".warc.gz"], ids=["not-utf8", "long"]
)
def test_awkward_warc_file_names_are_handled(tmp_path: Path, name: bytes) -> None:
    import os

    folder = tmp_path / "in"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), name), "wb") as out:
        out.write(WARC.read_bytes())
    first = run(tmp_path / "out", folder / "*.warc.gz")
    assert first["records_in"] == 4 and first["dead_lettered"] == {} and first["kept"] == 1
    assert run(tmp_path / "out", folder / "*.warc.gz")["inputs"]["skipped_already_done"] == 1


def test_removing_300000_siblings_is_linear() -> None:
    """A 6 MB page of 300,000 short and 300,000 empty siblings: a few seconds, not the quarter hour
    that joining each removed tail into one growing string took (run apart, with a hard limit)."""
    import subprocess
    import sys

    code = """
import resource, sys
from htlm.pipeline.simplify import SimplifyConfig, simplify
long = "The committee met on Tuesday to discuss the annual budget, which grew after a long debate. " * 3
siblings = "<p>ab</p> cd " * 300_000 + "<section></section>\\n" * 300_000
html = "<html><body><div><p>" + long + "</p>" + siblings + "</div></body></html>"
result = simplify(html, SimplifyConfig(min_text_ratio=0.0, max_input_chars=10_000_000))
assert result.html.count("<p>") == 1 and "<section>" not in result.html and "cd cd" in result.html
print(resource.getrusage(resource.RUSAGE_SELF).ru_utime)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 40  # ~4 s here; the quadratic version needed ~1,500 s


def test_a_blank_line_flood_is_skipped_in_bulk() -> None:
    """50 MB of blank lines between two records: read past in a blink, not one Python call per line
    (which took ~18 s of CPU for this input)."""
    import io
    import time

    from htlm.pipeline.reading import Page, read_pages

    from tests.warcs import http_block, response_record

    html = b"<html><body><p>hello world</p></body></html>"
    page = response_record("http://a.example/", http_block(html), gzip=False)
    data = page + b"\r\n" * 25_000_000 + page.replace(b"http://a.example/", b"http://b.example/")
    started = time.process_time()
    entries = list(read_pages(io.BytesIO(data), "flood.warc"))
    assert [e.url for e in entries if isinstance(e, Page)] == ["http://a.example/", "http://b.example/"]
    assert time.process_time() - started < 8  # ~0.3 s here
