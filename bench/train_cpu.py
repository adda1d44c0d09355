"""Benchmark: htlm_tiny training on CPU against the data loading that feeds it, and the noiser's cost.

Real pages (tests/data/pages) are simplified to MHTML, a tokenizer is trained on them and a
data-bin written. Printed, all measured in this run:
  (a) training: target tokens/s of `htlm-train --arch htlm_tiny` (fairseq's wps, warm-up
      interval left out), one process
  (b) data loading alone: target tokens/s of the same batches (noise + collate), one process;
      b/a must be >= 10 (data loading never the bottleneck)
  (c) noising per sample: HtlmDenoisingDataset (size hints) against fairseq's stock
      DenoisingDataset (span-poisson, whole words, same mask ratio and lambda, no rotation)
      on the same blocks; c_ours/c_stock must be <= 1.20
Nothing here is a pass/fail test.

    python bench/train_cpu.py [--updates 200] [--tokens-per-sample 512] [--batch-size 8]
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from fairseq.data import DenoisingDataset
from htlm.model.task import HtlmDenoisingConfig, HtlmDenoisingTask
from htlm.pipeline.simplify import MHTML, SimplifyConfig, simplify
from htlm.pipeline.tokenizer import Tokenizer, TokenizerSettings, train_tokenizer
from htlm.pipeline.tokenizer.databin import write_split

PAGE_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "pages"


def real_mhtml() -> list[str]:
    paths = sorted((PAGE_DATA / "scrapinghub-article-extraction-benchmark" / "html").glob("*.html.gz"))
    paths += sorted((PAGE_DATA / "mozilla-readability" / "test-pages").glob("*/source.html.gz"))
    results = [simplify(gzip.decompress(p.read_bytes()), SimplifyConfig(min_text_ratio=0.0)) for p in paths]
    return [result.html for result in results if isinstance(result, MHTML)]


def make_databin(folder: Path, vocab_size: int) -> Path:
    documents = real_mhtml()
    train_tokenizer(documents, folder / "spm", TokenizerSettings(vocab_size=vocab_size))
    tokenizer = Tokenizer(folder / "spm.model")
    ids = tokenizer.encode_batch(documents)
    shard = folder / "data-bin" / "shard0"
    shard.mkdir(parents=True)
    write_split(shard / "train", ids[:-10], tokenizer.vocab_size)
    write_split(shard / "valid", ids[-10:], tokenizer.vocab_size)
    shutil.copy(folder / "dict.txt", shard / "dict.txt")
    shutil.copy(folder / "spm.model", shard.parent / "spm.model")
    return shard


def training_rate(shard: Path, save: Path, args: argparse.Namespace) -> float:
    """Target tokens/s of htlm-train (mean wps of the log intervals after the first)."""
    command = [
        str(Path(sys.executable).with_name("htlm-train")), str(shard), "--arch", "htlm_tiny",
        "--criterion", "cross_entropy", "--optimizer", "adam", "--lr", "1e-3", "--lr-scheduler",
        "inverse_sqrt", "--warmup-updates", "20", "--tokens-per-sample", str(args.tokens_per_sample),
        "--batch-size", str(args.batch_size), "--max-update", str(args.updates), "--log-interval", "20",
        "--log-format", "simple", "--num-workers", "0", "--seed", "1", "--cpu", "--disable-validation",
        "--no-save", "--save-dir", str(save),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    rates = [float(x) for x in re.findall(r"train_inner\W.*? wps=([0-9.]+)", done.stderr + done.stdout)]
    return statistics.mean(rates[1:] or rates)


def task_for(shard: Path, tokens_per_sample: int) -> HtlmDenoisingTask:
    cfg = HtlmDenoisingConfig(data=str(shard), seed=1, dataset_impl=None, save_dir="")
    cfg.tokens_per_sample = tokens_per_sample
    task = HtlmDenoisingTask.setup_task(cfg)
    task.load_dataset("train")
    return task


def loading_rate(task: HtlmDenoisingTask, batch_size: int, batches: int) -> float:
    """Target tokens/s of building `batches` batches (noise every sample, collate), one process."""
    dataset = task.datasets["train"]
    order = dataset.ordered_indices()
    tokens, started, index = 0, time.perf_counter(), 0
    for _ in range(batches):
        picked = [int(order[(index + k) % len(order)]) for k in range(batch_size)]
        index += batch_size
        tokens += dataset.collater([dataset[i] for i in picked])["ntokens"]
    return tokens / (time.perf_counter() - started)


def stock_dataset(task: HtlmDenoisingTask) -> DenoisingDataset:
    blocks = task.load_blocks("train")
    return DenoisingDataset(
        blocks, blocks.sizes, task.dictionary, task.mask_idx,
        torch.from_numpy(task.begins_word.astype("uint8")), shuffle=False, seed=1,
        mask=task.cfg.mask_ratio, mask_random=0.0, insert=0.0, rotate=0.0, permute_sentences=0.0,
        bpe="sentencepiece", replace_length=1, mask_length="span-poisson",
        poisson_lambda=task.cfg.poisson_lambda,
    )  # fmt: skip


def per_sample(dataset: object, indices: list[int], rounds: int = 3) -> float:
    """Best-of-rounds seconds per `dataset[i]`."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for i in indices:
            dataset[i]  # type: ignore[index]
        best = min(best, (time.perf_counter() - started) / len(indices))
    return best


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--tokens-per-sample", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--vocab-size", type=int, default=8000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        shard = make_databin(Path(tmp), args.vocab_size)
        task = task_for(shard, args.tokens_per_sample)
        train = training_rate(shard, Path(tmp) / "ck", args)
        loading = loading_rate(task, args.batch_size, batches=100)
        indices = list(range(0, len(task.datasets["train"]), 3))
        ours = per_sample(task.datasets["train"], indices)
        stock = per_sample(stock_dataset(task), indices)
    print(f"htlm_tiny on CPU, tokens-per-sample {args.tokens_per_sample}, batch {args.batch_size}:")
    print(f"  (a) training          {train:10,.0f} target tokens/s  (htlm-train, {args.updates} updates)")
    ratio = loading / train
    print(f"  (b) data loading      {loading:10,.0f} target tokens/s  b/a = {ratio:.1f}x (need >= 10)")
    print(f"  (c) noise per sample  ours {ours * 1e3:.3f} ms, stock DenoisingDataset {stock * 1e3:.3f} ms")
    print(f"      ours/stock = {ours / stock:.2f} (need <= 1.20) over {len(indices)} real blocks")


if __name__ == "__main__":
    main()
