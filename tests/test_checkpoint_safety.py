"""Checkpoints are untrusted input: a config that would run code, a zip bomb, a config larger than its
weights are refused before anything is built, inflated or allocated (a flag file shows nothing ran)."""

from __future__ import annotations

import argparse
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import torch
from htlm.model import load
from htlm.model.checkpoints import (
    ALLOWED_ARCHS,
    UnsafeCheckpointError,
    check_buildable,
    described_parameters,
    load_checkpoint_file,
)
from htlm.prompts.cli import main as prompt_main

from tests.training import shared_checkpoint


@pytest.fixture(scope="module")
def trained(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    return shared_checkpoint(pytestconfig, tmp_path_factory)


def copy_checkpoint(checkpoints: Path, target: Path) -> tuple[Path, dict]:
    shutil.copytree(checkpoints, target)
    for extra in target.glob("checkpoint_last.pt"):
        extra.unlink()
    return target / "checkpoint_best.pt", load_checkpoint_file(target / "checkpoint_best.pt")


def payload(marker: Path) -> str:
    """An fconv layer spec that creates `marker` when fconv's builder eval()s it."""
    return f"__import__('pathlib').Path({str(marker)!r}).touch() or [(64, 3)] * 2"


def legacy_args(state: dict, **changes: object) -> argparse.Namespace:
    """A fairseq 0.10-style `args` Namespace holding the checkpoint's own settings, with `changes`."""
    cfg = state["cfg"]
    flat: dict[str, object] = {}
    for section in ("common", "dataset", "optimization", "checkpoint", "task"):
        flat.update({k: v for k, v in (cfg.get(section) or {}).items() if k != "_name"})
    flat.update(vars(cfg["model"]))
    flat.update(task="htlm_denoising", criterion="cross_entropy", optimizer="adam", lr_scheduler="fixed")
    flat.update(changes)
    return argparse.Namespace(**flat)


def test_a_config_whose_builder_would_eval_code_is_refused_before_building(
    trained: tuple[Path, Path, str], tmp_path: Path
) -> None:
    _, checkpoints, _ = trained
    marker = tmp_path / "code-ran"
    via_cfg, state = copy_checkpoint(checkpoints, tmp_path / "via-cfg")
    state["cfg"]["model"].__dict__.update(_name="fconv", arch="fconv", encoder_layers=payload(marker))
    torch.save(state, via_cfg)
    with pytest.raises(UnsafeCheckpointError, match=r"architecture 'fconv'"):
        load(via_cfg.parent, device="cpu")
    assert not marker.exists()

    via_args, state = copy_checkpoint(checkpoints, tmp_path / "via-args")
    state["args"] = legacy_args(state, arch="fconv", encoder_layers=payload(marker))
    torch.save(state, via_args)
    with pytest.raises(UnsafeCheckpointError, match=r"architecture 'fconv'"):
        load(via_args.parent, device="cpu")
    assert not marker.exists()

    other_task, state = copy_checkpoint(checkpoints, tmp_path / "other-task")
    state["args"] = legacy_args(state, task="translation", arch="htlm_tiny")
    torch.save(state, other_task)
    with pytest.raises(UnsafeCheckpointError, match=r"task 'translation'"):
        load(other_task.parent, device="cpu")

    # the command line says it in one line, and builds nothing either
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"document": "a page"}) + "\n")
    output = tmp_path / "out.jsonl"
    code = prompt_main(["--prompt", "title-summary", "--checkpoint", str(via_args.parent),
                        "--input", str(rows), "--output", str(output), "--device", "cpu"])  # fmt: skip
    assert code == 2 and not marker.exists()


def test_a_legacy_args_checkpoint_of_an_allowed_architecture_loads(
    trained: tuple[Path, Path, str], tmp_path: Path
) -> None:
    _, checkpoints, _ = trained
    legacy, state = copy_checkpoint(checkpoints, tmp_path / "legacy")
    state["args"] = legacy_args(state)
    del state["cfg"]
    torch.save(state, legacy)
    loaded = load(legacy.parent, device="cpu")
    assert loaded.cfg.model._name == "htlm_tiny"
    assert set(ALLOWED_ARCHS) >= {"htlm_tiny", "bart_large"}


def test_a_zip_bomb_is_refused_from_its_directory(trained: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, checkpoints, _ = trained
    bomb = tmp_path / "bomb" / "checkpoint_best.pt"
    shutil.copytree(checkpoints, bomb.parent)
    with zipfile.ZipFile(checkpoints / "checkpoint_best.pt") as source, \
            zipfile.ZipFile(bomb, "w") as target:  # fmt: skip
        for member in source.infolist():
            target.writestr(member.filename, source.read(member))
        hidden = f"{source.namelist()[0].split('/')[0]}/data/9999"
        target.writestr(hidden, bytes(128 << 20), compress_type=zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < (checkpoints / "checkpoint_best.pt").stat().st_size + (1 << 20)
    with pytest.raises(UnsafeCheckpointError, match=r"inflate to 1\d\d,\d{3},\d{3}"):
        load(bomb.parent, device="cpu")


def test_a_config_larger_than_its_weights_is_refused_before_allocation(
    trained: tuple[Path, Path, str], tmp_path: Path
) -> None:
    _, checkpoints, _ = trained
    huge, state = copy_checkpoint(checkpoints, tmp_path / "huge")
    state["cfg"]["model"].__dict__.update(encoder_layers=12, decoder_layers=12, encoder_embed_dim=1024,
                                          decoder_embed_dim=1024, encoder_ffn_embed_dim=4096,
                                          decoder_ffn_embed_dim=4096)  # fmt: skip
    torch.save(state, huge)
    with pytest.raises(UnsafeCheckpointError, match=r"describes ~\d[\d,]+ parameters but the file holds"):
        load(huge.parent, device="cpu")
    for bad in ("1024", -1, 10**9, True):
        with pytest.raises(UnsafeCheckpointError, match="encoder_embed_dim"):
            described_parameters(argparse.Namespace(encoder_embed_dim=bad))
    with pytest.raises(UnsafeCheckpointError, match="no stored model config"):
        check_buildable({"model": {}}, "x.pt")
