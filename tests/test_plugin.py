"""The fairseq plugin on a data-bin of the real test pages: training, resume, the loader, safety, errors."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from fairseq import checkpoint_utils
from htlm.model import load, user_dir
from htlm.model.architectures import VocabularyMismatchError
from htlm.model.checkpoints import UnsafeCheckpointError, load_checkpoint_file
from htlm.model.task import DataBinError, HtlmDenoisingConfig, HtlmDenoisingTask
from htlm.pipeline.tokenizer.databin import write_split

from tests.conftest import ROOT
from tests.test_tokenizer import Corpus, shared_corpus
from tests.training import TRAIN_FLAGS, htlm_train, shared_checkpoint, train_losses


@pytest.fixture(scope="module")
def corpus(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return shared_corpus(pytestconfig, tmp_path_factory)


@pytest.fixture(scope="module")
def trained(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    return shared_checkpoint(pytestconfig, tmp_path_factory)


def task_for(shard: Path, **overrides: object) -> HtlmDenoisingTask:
    cfg = HtlmDenoisingConfig(data=str(shard), seed=1, dataset_impl=None, save_dir="", tokens_per_sample=64)
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return HtlmDenoisingTask.setup_task(cfg)


def batch_loss(model: torch.nn.Module, batch: dict) -> float:
    """Mean token cross-entropy (nats) of the model on a denoising batch, padding left out."""
    with torch.no_grad():
        logits = model(**batch["net_input"])[0].float()
    return torch.nn.functional.cross_entropy(
        logits.view(-1, logits.size(-1)), batch["target"].view(-1), ignore_index=1
    ).item()


def valid_batch(task: HtlmDenoisingTask, size: int = 8) -> dict:
    task.load_dataset("valid")
    dataset = task.datasets["valid"]
    return dataset.collater([dataset[i] for i in range(size)])


# --- training ------------------------------------------------------------------------------------


def test_loss_falls_over_training(trained: tuple[Path, Path, str]) -> None:
    _, checkpoints, log = trained
    losses = train_losses(log)
    assert len(losses) == 30  # every 10 of 300 updates
    first, last = np.mean(losses[:3]), np.mean(losses[-3:])
    assert last < first - 1.0, losses  # bits per token
    for name in ("checkpoint_last.pt", "checkpoint_best.pt", "spm.model", "dict.txt"):
        assert (checkpoints / name).is_file()


def test_checkpoint_last_resumes(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    shard, checkpoints, _ = trained
    save = tmp_path / "resumed"
    shutil.copytree(checkpoints, save)
    done = htlm_train(shard, *TRAIN_FLAGS, "--max-update", "320", "--save-dir", save, "--disable-validation")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Loaded checkpoint" in done.stderr and "@ 300 updates" in done.stderr
    assert (
        torch.load(save / "checkpoint_last.pt", weights_only=True)["extra_state"]["train_iterator"][
            "iterations_in_epoch"
        ]
        == 320
    )


def test_plain_fairseq_train_with_the_installed_user_dir(
    trained: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """`fairseq-train --user-dir "$(htlm-train --print-user-dir)"` works as the README says."""
    shard, _, _ = trained
    printed = htlm_train("--print-user-dir")
    assert printed.returncode == 0 and printed.stdout.strip() == user_dir()
    fairseq_train = Path(sys.executable).with_name("fairseq-train")
    done = subprocess.run(
        [str(fairseq_train), str(shard), "--user-dir", user_dir(), "--task", "htlm_denoising", *TRAIN_FLAGS,
         "--max-update", "3", "--save-dir", str(tmp_path / "ck"), "--disable-validation"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "ck" / "checkpoint_last.pt").is_file()


# --- the loader --------------------------------------------------------------------------------


def test_loader_agrees_with_fairseq_and_after_a_move(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    shard, checkpoints, _ = trained
    loaded = load(checkpoints, device="cpu")
    assert not loaded.model.training and loaded.checkpoint.name == "checkpoint_best.pt"
    assert len(loaded.dictionary) == loaded.tokenizer.vocab_size
    batch = valid_batch(task_for(shard))
    ours = batch_loss(loaded.model, batch)
    models, _, _ = checkpoint_utils.load_model_ensemble_and_task([str(checkpoints / "checkpoint_best.pt")])
    theirs = batch_loss(models[0].eval(), batch)
    assert ours == pytest.approx(theirs, abs=1e-6)
    assert ours < np.log(len(loaded.dictionary)) - 1.0  # trained, not a fresh init

    moved = tmp_path / "elsewhere" / "run"
    shutil.copytree(checkpoints, moved)
    again = load(moved / "checkpoint_best.pt", device="cpu")
    assert batch_loss(again.model, batch) == ours
    assert again.task.cfg.data == str(moved)


def test_loader_errors(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, checkpoints, _ = trained
    with pytest.raises(FileNotFoundError, match=re.escape("no checkpoint_best.pt or checkpoint_last.pt")):
        load(tmp_path)
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(checkpoints / "checkpoint_last.pt", bare)
    with pytest.raises(FileNotFoundError, match=re.escape("no spm.model beside the checkpoint")):
        load(bare)

    other = tmp_path / "other-vocab"
    shutil.copytree(checkpoints, other)
    state = load_checkpoint_file(other / "checkpoint_best.pt")
    for key in (
        "encoder.embed_tokens.weight",
        "decoder.embed_tokens.weight",
        "decoder.output_projection.weight",
    ):
        state["model"][key] = state["model"][key][:3000]
    torch.save(state, other / "checkpoint_best.pt")
    with pytest.raises(VocabularyMismatchError, match=r"embeddings for 3000 symbols.*has 4000"):
        load(other)


def test_a_checkpoint_that_would_run_code_is_refused(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, checkpoints, _ = trained
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil"
    shutil.copytree(checkpoints, evil)
    state = load_checkpoint_file(evil / "checkpoint_best.pt")
    state["extra_state"]["payload"] = Payload()
    torch.save(state, evil / "checkpoint_best.pt", pickle_protocol=pickle.HIGHEST_PROTOCOL)
    with pytest.raises(UnsafeCheckpointError, match=r"refused to load.*nothing of it was run"):
        load(evil)
    assert not marker.exists()


# --- the task ------------------------------------------------------------------------------------


def test_samples_are_deterministic_and_differ_per_epoch(trained: tuple[Path, Path, str]) -> None:
    shard, _, _ = trained
    first, second = task_for(shard), task_for(shard)
    for task in (first, second):
        task.load_dataset("valid")
    a, b = first.datasets["valid"], second.datasets["valid"]
    for index in (0, 5, 17):
        assert torch.equal(a[index]["source"], b[index]["source"])
    b.set_epoch(2)
    assert any(not torch.equal(a[i]["source"], b[i]["source"]) for i in range(5))
    assert all(torch.equal(a[i]["target"], b[i]["target"]) for i in range(5))


def test_size_hints_on_real_pages(trained: tuple[Path, Path, str]) -> None:
    """With ε = 0 every hint is its span's true length, written as its digits right after its <mask>."""
    shard, _, _ = trained
    task = task_for(shard, size_hint_noise=0.0, size_hint_prob=1.0, tokens_per_sample=256)
    task.load_dataset("valid")
    dataset, tokenizer = task.datasets["valid"], task.tokenizer
    checked = 0
    for index in range(0, len(dataset), 7):
        target, source, spans = dataset.noised(index)
        assert source[0] == target[0] == 0 and source[-1] == target[-1] == 2 and len(target) <= 256
        masks = (source == task.mask_idx).nonzero().flatten().tolist()
        assert len(masks) == len(spans)
        hint_tokens = 0
        for at, span in zip(masks, spans, strict=True):
            assert span.hint == span.length
            digits = tokenizer.mask_token_ids(span.hint)[1:]
            assert source[at + 1 : at + 1 + len(digits)].tolist() == digits
            assert tokenizer.decode(digits) == str(span.length)
            hint_tokens += len(digits)
        assert len(target) - (len(source) - hint_tokens) == sum(span.length - 1 for span in spans)
        checked += len(spans)
    assert checked > 100


def test_bad_data_bins_get_clear_errors(
    corpus: Corpus, trained: tuple[Path, Path, str], tmp_path: Path
) -> None:
    shard, _, _ = trained
    with pytest.raises(DataBinError, match="give its shard folders"):
        task_for(shard.parent)
    with pytest.raises(DataBinError, match="tokens-per-sample 2048 exceeds the model's 1024 positions"):
        task_for(shard, tokens_per_sample=2048)

    swapped = tmp_path / "swapped" / "shard0"
    shutil.copytree(shard, swapped)
    lines = (shard / "dict.txt").read_text(encoding="utf-8").splitlines()
    lines[10], lines[11] = lines[11], lines[10]
    (swapped / "dict.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataBinError, match=r"dict.txt does not match the tokenizer \(id 14 is"):
        task_for(swapped, spm_model=str(shard.parent / "spm.model"))

    alone = tmp_path / "alone" / "shard0"
    shutil.copytree(shard, alone)
    with pytest.raises(DataBinError, match="found no tokenizer for this data-bin"):
        task_for(alone)

    empty = tmp_path / "empty" / "shard0"
    empty.mkdir(parents=True)
    shutil.copy(shard / "dict.txt", empty)
    shutil.copy(shard.parent / "spm.model", empty.parent)
    write_split(empty / "train", [], corpus.tokenizer.vocab_size)
    with pytest.raises(DataBinError, match="holds no documents"):
        task_for(empty).load_dataset("train")
    with pytest.raises(DataBinError, match=re.escape("valid.bin/.idx: not found")):
        task_for(empty).load_dataset("valid")


def test_htlm_train_prints_one_line_for_a_bad_data_bin(trained: tuple[Path, Path, str]) -> None:
    shard, _, _ = trained
    done = htlm_train(shard, *TRAIN_FLAGS, "--tokens-per-sample", "4096", "--max-update", "1")
    assert done.returncode == 2
    assert "htlm-train: --tokens-per-sample 4096 exceeds" in done.stderr and "Traceback" not in done.stderr


def test_the_plugin_from_a_site_packages_install(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    """Installed from a wheel (not the checkout), `--user-dir SITE/htlm/model` is the plugin folder."""
    shard, _, _ = trained
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    build = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=300)  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("htlm-*.whl")
    install = subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert install.returncode == 0, install.stderr
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = "import htlm.model; print(htlm.model.user_dir())"
    where = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert where.stdout.strip() == str(site / "htlm" / "model")
    fairseq_train = Path(sys.executable).with_name("fairseq-train")
    done = subprocess.run(
        [str(fairseq_train), str(shard), "--user-dir", str(site / "htlm" / "model"),
         "--task", "htlm_denoising", *TRAIN_FLAGS, "--max-update", "2", "--save-dir", str(tmp_path / "ck"),
         "--disable-validation"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert load(tmp_path / "ck").model is not None


def test_init_from_bart_copies_all_but_the_token_embeddings(
    trained: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """A checkpoint standing in for BART-large: the transformer is copied, the embeddings start afresh."""
    shard, checkpoints, _ = trained
    source = load_checkpoint_file(checkpoints / "checkpoint_best.pt")["model"]
    done = htlm_train(
        shard, *TRAIN_FLAGS, "--init-from-bart", checkpoints / "checkpoint_best.pt", "--lr", "1e-12",
        "--max-update", "1", "--save-dir", tmp_path / "ck", "--disable-validation", "--dropout", "0",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "re-initialised: encoder.embed_tokens.weight, decoder.embed_tokens.weight" in done.stderr
    started = load_checkpoint_file(tmp_path / "ck" / "checkpoint_last.pt")["model"]
    layer = "encoder.layers.0.self_attn.k_proj.weight"
    assert torch.allclose(started[layer], source[layer], atol=1e-6)
    assert torch.allclose(
        started["decoder.embed_positions.weight"], source["decoder.embed_positions.weight"], atol=1e-6
    )
    assert not torch.allclose(
        started["encoder.embed_tokens.weight"], source["encoder.embed_tokens.weight"], atol=1e-2
    )
    assert load(tmp_path / "ck").model is not None  # the loader does not look for the BART file again
