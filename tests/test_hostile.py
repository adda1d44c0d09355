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
