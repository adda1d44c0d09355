"""A tiny data-bin from the real test pages and `htlm-train` runs on it, shared by the model tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from htlm.pipeline.tokenizer.databin import write_split

from tests.test_tokenizer import Corpus, shared_corpus

VALID_PAGES = 12
TRAIN_FLAGS = (
    "--arch", "htlm_tiny", "--criterion", "cross_entropy", "--optimizer", "adam", "--lr", "1e-3",
    "--lr-scheduler", "inverse_sqrt", "--warmup-updates", "50", "--clip-norm", "1.0", "--dropout", "0",
    "--attention-dropout", "0", "--tokens-per-sample", "64",
    "--batch-size", "16", "--log-interval", "10", "--log-format", "simple", "--num-workers", "0",
    "--seed", "1", "--no-epoch-checkpoints", "--max-valid-steps", "2", "--cpu",
)  # fmt: skip
# (no dropout, lr 1e-3 and clipping: after 300 updates the decoder reads the encoder; with
# dropout 0.1 and lr 2e-3 it learned a language model that ignores the source)


def make_databin(corpus: Corpus, destdir: Path) -> Path:
    """DESTDIR/shard0/{train,valid}.bin|idx + dict.txt and DESTDIR/spm.model, as binarize lays them out."""
    tokenizer = corpus.tokenizer
    ids = tokenizer.encode_batch([mhtml for _, mhtml in corpus.pages])
    shard = destdir / "shard0"
    shard.mkdir(parents=True)
    write_split(shard / "train", ids[:-VALID_PAGES], tokenizer.vocab_size)
    write_split(shard / "valid", ids[-VALID_PAGES:], tokenizer.vocab_size)
    shutil.copy(corpus.prefix.parent / "dict.txt", shard / "dict.txt")
    shutil.copy(corpus.prefix.with_suffix(".model"), destdir / "spm.model")
    return shard


def htlm_train(*argv: str | os.PathLike[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `htlm-train` console script of this environment."""
    script = Path(sys.executable).with_name("htlm-train")
    return subprocess.run(
        [str(script), *map(str, argv)], capture_output=True, text=True, timeout=900, cwd=cwd
    )


def train_losses(log: str) -> list[float]:
    """The `loss=` of every train_inner line of a fairseq log, in order."""
    return [float(m) for m in re.findall(r"train_inner\W.*? loss=([0-9.]+)", log)]


def shared_checkpoint(
    config: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, str]:
    """(data-bin shard, checkpoint folder, training log) of one 300-update htlm_tiny run per session."""
    cached = getattr(config, "_htlm_checkpoint", None)
    if cached is None:
        root = tmp_path_factory.mktemp("trained")
        shard = make_databin(shared_corpus(config, tmp_path_factory), root / "data-bin")
        done = htlm_train(shard, *TRAIN_FLAGS, "--max-update", "300", "--save-dir", root / "checkpoints")
        assert done.returncode == 0, done.stderr[-3000:]
        cached = (shard, root / "checkpoints", done.stderr + done.stdout)
        config._htlm_checkpoint = cached  # type: ignore[attr-defined]
    return cached
