"""`load(checkpoint_dir)`: a trained checkpoint as model + dictionary + tokenizer + task, ready to run.

The one loader of the project (prompts, export, the demo). A checkpoint folder written by
`fairseq-train --task htlm_denoising` holds the checkpoints, `spm.model` and `dict.txt`
(the task copies both when training starts), so it loads on any machine and path: the
training run's data and plugin paths stored in the checkpoint are replaced by this folder and
this installation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from fairseq import tasks
from fairseq.checkpoint_utils import _upgrade_state_dict
from fairseq.data import Dictionary
from htlm.model.architectures import check_vocabulary
from htlm.model.checkpoints import check_buildable, load_checkpoint_file
from htlm.model.task import DICTIONARY_FILE, TOKENIZER_FILE
from htlm.pipeline.tokenizer.encoder import Tokenizer
from omegaconf import OmegaConf, open_dict

CHECKPOINT_PREFERENCE = ("checkpoint_best.pt", "checkpoint_last.pt")


def user_dir() -> str:
    """The `--user-dir` for this installation (checkout: model/; wheel: site-packages/htlm/model)."""
    return os.path.dirname(os.path.abspath(__file__))


@dataclass
class LoadedModel:
    """A checkpoint ready to run: the model in eval mode on `device`, and what encodes its inputs."""

    model: Any  # htlm.model.architectures.HtlmModel
    task: Any  # htlm.model.task.HtlmDenoisingTask
    dictionary: Dictionary
    tokenizer: Tokenizer
    cfg: Any
    checkpoint: Path
    device: torch.device


def checkpoint_file(path: str | os.PathLike[str]) -> Path:
    """The checkpoint a path names: the file, or a folder's checkpoint_best.pt, else checkpoint_last.pt."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such checkpoint file or folder")
    for name in CHECKPOINT_PREFERENCE:
        if (path / name).is_file():
            return path / name
    found = sorted(p.name for p in path.glob("*.pt"))
    raise FileNotFoundError(
        f"{path}: no {' or '.join(CHECKPOINT_PREFERENCE)}"
        + (f" (found {', '.join(found)}: give one of them)" if found else " and no other .pt file")
    )


def load(
    checkpoint_dir: str | os.PathLike[str],
    device: str | torch.device | None = None,
) -> LoadedModel:
    """Load a checkpoint (a folder or one .pt file in it) with its dictionary and tokenizer, in eval mode.

    `device` defaults to CUDA when available, else CPU. Raises FileNotFoundError when the
    folder lacks the checkpoint, spm.model or dict.txt, UnsafeCheckpointError for a file
    holding anything but tensors and fairseq's config classes or whose config would build a
    task or architecture outside the allow-list (checked before anything is built), and
    VocabularyMismatchError when the checkpoint's embeddings do not fit the folder's dict.txt.
    """
    path = checkpoint_file(checkpoint_dir)
    folder = path.parent
    for name in (TOKENIZER_FILE, DICTIONARY_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"{folder}: no {name} beside the checkpoint; copy the one the model was trained with "
                f"(training with --task htlm_denoising puts it there)"
            )
    state = load_checkpoint_file(path)
    check_buildable(state, str(path))  # before fairseq converts or builds anything from the config
    if state.get("cfg") is not None:
        state["cfg"] = OmegaConf.create(state["cfg"], flags={"allow_objects": True})
    state = _upgrade_state_dict(state)
    cfg = state["cfg"]
    check_buildable({"cfg": cfg, "model": state["model"]}, str(path))  # and as fairseq will read it
    with open_dict(cfg):
        cfg.common.user_dir = user_dir()
        cfg.task.data = str(folder)
        cfg.task.spm_model = str(folder / TOKENIZER_FILE)
        cfg.task.save_dir = ""
        if getattr(cfg.model, "init_from_bart", None):
            cfg.model.init_from_bart = None  # the weights come from this checkpoint
    task = tasks.setup_task(cfg.task)
    check_vocabulary(state["model"], len(task.dictionary), where=str(path))
    model = task.build_model(cfg.model, from_checkpoint=True)
    model.load_state_dict(state["model"], strict=True, model_cfg=cfg.model)
    target = (
        torch.device(device)
        if device is not None
        else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    )
    model.to(target).eval()
    return LoadedModel(model, task, task.dictionary, task.tokenizer, cfg, path, target)
