"""`htlm-demo --quick`: every stage of the demo on the real bundled data, artifacts checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from htlm.pipeline.reading.warc import read_pages

from htlm.demo.pages import ground_truth_pages, is_held_out, write_warc
from tests.conftest import PAGE_DATA, ROOT
from tests.test_plugin import task_for


def test_demo_warc_wraps_the_real_pages_byte_for_byte(tmp_path: Path) -> None:
    pages = ground_truth_pages(PAGE_DATA)
    assert len(pages) == 311 and len({page.url for page in pages}) == 311
    held = [page for page in pages if is_held_out(page.url, 0.1)]
    assert 15 <= len(held) <= 45 and held == [
        p for p in ground_truth_pages(PAGE_DATA) if is_held_out(p.url, 0.1)
    ]
    path = tmp_path / "demo.warc.gz"
    assert write_warc(pages[:5], path) == 5
    read = [page for page in read_pages(str(path)) if hasattr(page, "body")]
    assert [(p.url, p.body) for p in read] == [(p.url, p.html) for p in pages[:5]]


def test_quick_demo_runs_every_stage(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("htlm-demo")), "--quick", "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert len(list((out / "data").glob("documents-*.jsonl.gz"))) >= 1
    stats = json.loads((out / "data" / "stats.json").read_text())
    assert stats["kept"] > 200 and stats["invariant"]
    task = task_for(out / "data-bin" / "shard0")  # the data-bin loads, with its tokenizer
    task.load_dataset("train")
    assert len(task.datasets["train"]) > 100
    from htlm.model import load

    loaded = load(out / "checkpoints", device="cpu")  # loadable, in eval mode
    assert not loaded.model.training
    results = json.loads((out / "results.json").read_text())
    assert len(results["examples"]) == 4 and all(isinstance(e["answer"], str) for e in results["examples"])
    assert set(results["rouge"]) == {"htlm (generated title)", "first <h1> of the page"} | {
        name for name in results["rouge"] if name.startswith("first ") and name.endswith(" words of the body")
    }
    assert all(v > 1 for v in results["perplexity"].values())
    report = (out / "report.html").read_text()
    assert "Training loss" in report and "<svg" in report and "ROUGE-1" in report
    assert f"report: {out / 'report.html'}" in done.stdout
    figures = ("loss.png", "rouge.png", "lengths.png", "length-control.png")
    assert all((out / "figures" / name).stat().st_size > 5000 for name in figures)
