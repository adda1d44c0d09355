"""Benchmark: prompting throughput of htlm_tiny on CPU, batched against one row at a time.

A tiny model is trained here on the real pages of tests/data (or `--checkpoint` reuses one).
Printed, all measured in this run on the same rows:
  (a) generation (title-summary prompt, beam 5, no retries): rows/s batched and one at a time
  (b) scoring (the sentiment prompt, two labels, page texts as reviews): rows/s batched and one at a time
and the batching speed-up of each. Both modes give the same answers and scores (checked by
the tests); nothing here is a pass/fail test.

    python bench/prompt.py [--rows 32] [--batch-size 16] [--updates 200] [--checkpoint DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from htlm.model import load
from htlm.prompts.cli import shipped_prompts
from htlm.prompts.engine import PromptEngine
from htlm.prompts.template import load_template
from lxml import html as lxml_html

sys.path.insert(0, str(Path(__file__).parent))
from train_cpu import make_databin, real_mhtml


def train(folder: Path, updates: int) -> Path:
    shard = make_databin(folder, vocab_size=4000)
    command = [
        str(Path(sys.executable).with_name("htlm-train")), str(shard), "--arch", "htlm_tiny",
        "--criterion", "cross_entropy", "--optimizer", "adam", "--lr", "1e-3", "--lr-scheduler",
        "inverse_sqrt", "--warmup-updates", "50", "--clip-norm", "1.0", "--dropout", "0",
        "--tokens-per-sample", "128", "--batch-size", "16", "--max-update", str(updates),
        "--num-workers", "0", "--seed", "1", "--cpu", "--disable-validation", "--no-epoch-checkpoints",
        "--save-dir", str(folder / "checkpoints"),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return folder / "checkpoints"


def rate(run, rows: list[dict]) -> float:
    started = time.perf_counter()
    results = run(rows)
    seconds = time.perf_counter() - started
    assert len(results) == len(rows) and not any(r["error"] for r in results), results[:2]
    return len(rows) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--checkpoint", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as scratch:
        checkpoint = args.checkpoint or train(Path(scratch), args.updates)
        loaded = load(checkpoint, device="cpu")
        pages = real_mhtml()[-args.rows :]
        documents = [{"document": lxml_html.fromstring(page).text_content()} for page in pages]
        summary = load_template(shipped_prompts()["title-summary"])
        sentiment = load_template(shipped_prompts()["sentiment"])
        print(f"{len(pages)} real pages, window {PromptEngine(loaded, summary).window} tokens, 1 thread")
        for name, template, rows, call in (
            ("generation (beam 5)", summary, documents, "generate"),
            ("scoring (2 labels)", sentiment, [{"review": row["document"]} for row in documents], "score"),
        ):
            batched = PromptEngine(loaded, template, batch_size=args.batch_size, retries=0)
            single = PromptEngine(loaded, template, batch_size=1, retries=0)
            fast = rate(getattr(batched, call), rows)
            slow = rate(getattr(single, call), rows)
            print(
                f"{name:22} batched ({args.batch_size}): {fast:7.2f} rows/s   "
                f"one at a time: {slow:7.2f} rows/s   speed-up {fast / slow:.2f}x"
            )
        print("(generation without the size-hint retries: each retry is one more generation of a failed row)")


if __name__ == "__main__":
    main()
