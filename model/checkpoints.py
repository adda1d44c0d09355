"""Safe checkpoint loading: `torch.load(weights_only=True)` with exactly the globals fairseq stores.

torch ≥ 2.6 loads with `weights_only=True` by default, which refuses every class not on an
allow-list. fairseq checkpoints pickle an `argparse.Namespace` (the legacy model args), and
the state rank 0 broadcasts to the other ranks on a multi-GPU resume goes through
`torch.load` again with omegaconf containers, `typing.Any`, builtins and fairseq's tensor
placeholder in it. Importing the plugin allow-lists those and nothing else, so
`fairseq-train` resume, `fairseq-generate` and `htlm.model.load` work while a checkpoint
carrying any other class (a pickled payload that would run code) is refused.

A checkpoint that unpickles safely can still run code when it is *built*: its stored config
names the task and architecture fairseq builds, and some builders `eval()` config strings
(`fconv`'s layer spec, wav2vec's feature spec). `check_buildable` admits only the tasks and
architectures on `ALLOWED_TASKS`/`ALLOWED_ARCHS` (read the way fairseq reads them, from a
`cfg` or a legacy `args` Namespace) and bounds the model's dimensions by the tensors the file
really holds, before anything is built or allocated. A zip whose members inflate beyond the
file's size (torch never compresses) is refused before it is inflated.
"""

from __future__ import annotations

import argparse
import collections
import os
import typing
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from fairseq.distributed.utils import _TensorPlaceholder
from omegaconf import DictConfig, ListConfig
from omegaconf.base import ContainerMetadata, Metadata
from omegaconf.nodes import AnyNode

# What a fairseq checkpoint (single process) and its multi-GPU broadcast hold besides tensors.
FAIRSEQ_CHECKPOINT_GLOBALS: tuple[Any, ...] = (
    argparse.Namespace,
    DictConfig,
    ListConfig,
    ContainerMetadata,
    Metadata,
    AnyNode,
    typing.Any,
    dict,
    list,
    int,
    collections.defaultdict,
    _TensorPlaceholder,
)


# What a checkpoint's config may make fairseq build: our task and fairseq's BART family.
ALLOWED_TASKS = frozenset({"htlm_denoising"})
ALLOWED_ARCHS = frozenset({"htlm_tiny", "htlm_base", "htlm_large", "bart_base", "bart_large"})
# torch.save stores members uncompressed: beyond this, the zip's directory announces a bomb.
MAX_INFLATION = 1.05
INFLATION_SLACK_BYTES = 1 << 20
# Generous bounds on one dimension, checked before any arithmetic on them.
MAX_LAYERS, MAX_WIDTH, MAX_POSITIONS = 256, 1 << 16, 1 << 17
# The config may describe at most this many times the parameters the file holds (plus the slack).
PARAMETER_SLACK, PARAMETER_SLACK_COUNT = 1.25, 1 << 20


class UnsafeCheckpointError(ValueError):
    """A checkpoint holds something other than tensors and the allow-listed fairseq globals,
    or its config would build something outside the allow-list of tasks and architectures."""


def allow_fairseq_checkpoints() -> None:
    """Allow-list the globals of fairseq checkpoints for `torch.load(weights_only=True)` (idempotent)."""
    torch.serialization.add_safe_globals(list(FAIRSEQ_CHECKPOINT_GLOBALS))


def load_checkpoint_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The state of one checkpoint file, loaded on CPU with `weights_only=True` and the allow-list.

    Raises FileNotFoundError for a missing file and UnsafeCheckpointError, naming what the
    file tried to load, for a checkpoint with anything else in it (nothing of it is run).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint file")
    check_inflation(path)
    allow_fairseq_checkpoints()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        if "weights_only" in str(error) or "Unsupported global" in str(error):
            raise UnsafeCheckpointError(
                f"{path}: refused to load: it holds objects outside the allow-list of fairseq "
                f"checkpoint classes (only load checkpoints you trust; nothing of it was run).\n"
                f"torch said: {str(error).splitlines()[0]}"
            ) from None
        raise ValueError(f"{path}: not a readable checkpoint ({error})") from error
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"{path}: not a fairseq checkpoint (no 'model' entry)")
    return state


def check_inflation(path: Path) -> None:
    """Refuse a zip checkpoint whose members add up to more than the file (a decompression bomb),
    from the zip's directory, before anything is inflated."""
    if not zipfile.is_zipfile(path):
        return  # torch's legacy format: raw storages, nothing compressed
    on_disk = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{path}: not a readable checkpoint ({error})") from error
    if inflated > on_disk * MAX_INFLATION + INFLATION_SLACK_BYTES:
        raise UnsafeCheckpointError(
            f"{path}: refused to load: its {on_disk:,} bytes inflate to {inflated:,} "
            f"(torch.save never compresses; this is not a checkpoint torch wrote)"
        )


def _get(config: Any, key: str, default: Any = None) -> Any:
    if isinstance(config, Mapping):
        return config.get(key, default)
    return getattr(config, key, default)


def model_name(model_config: Any) -> Any:
    """The architecture fairseq's `models.build_model` would build for this config, found its way."""
    name = _get(model_config, "_name") or _get(model_config, "arch")
    if not name and isinstance(model_config, Mapping) and len(model_config) == 1:
        name = next(iter(model_config))
    return name


def task_name(task_config: Any) -> Any:
    """The task fairseq's `tasks.setup_task` would set up for this config, found its way."""
    name = _get(task_config, "task")
    return name if isinstance(name, str) else _get(task_config, "_name")


def stored_config(state: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """(task name, architecture, model config) as fairseq will read them from a checkpoint: a legacy
    `args` Namespace wins over `cfg`, and its `arch` becomes the model's `_name`."""
    args = state.get("args")
    if args is not None:
        return _get(args, "task", "translation"), _get(args, "arch"), args
    cfg = state.get("cfg")
    if cfg is None:
        return None, None, None
    model = _get(cfg, "model")
    return task_name(_get(cfg, "task")), model_name(model), model


def check_buildable(state: Mapping[str, Any], where: str) -> None:
    """Raise UnsafeCheckpointError unless the stored config names an allowed task and architecture
    and describes no more parameters than the checkpoint holds. Call before building anything."""
    task, arch, model_config = stored_config(state)
    if model_config is None:
        raise UnsafeCheckpointError(f"{where}: refused to load: no stored model config (cfg or args)")
    if task not in ALLOWED_TASKS:
        raise UnsafeCheckpointError(
            f"{where}: refused to load: its config builds task {task!r}; allowed: "
            f"{', '.join(sorted(ALLOWED_TASKS))}"
        )
    if arch not in ALLOWED_ARCHS:
        raise UnsafeCheckpointError(
            f"{where}: refused to load: its config builds architecture {arch!r}; allowed: "
            f"{', '.join(sorted(ALLOWED_ARCHS))}"
        )
    described = described_parameters(model_config, where)
    held = sum(t.numel() for t in state.get("model", {}).values() if isinstance(t, torch.Tensor))
    if described > held * PARAMETER_SLACK + PARAMETER_SLACK_COUNT:
        raise UnsafeCheckpointError(
            f"{where}: refused to load: its config describes ~{described:,} parameters but the file "
            f"holds {held:,} (a config that would allocate what the checkpoint cannot fill)"
        )


def _dimension(model_config: Any, key: str, default: int, upper: int, where: str) -> int:
    value = _get(model_config, key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= upper:
        raise UnsafeCheckpointError(f"{where}: refused to load: model config {key}={value!r} (0..{upper})")
    return value


def described_parameters(model_config: Any, where: str = "the checkpoint") -> int:
    """The parameters (without token embeddings) a BART-family config describes; every dimension is
    range-checked first. Defaults are BART-large's, as its architecture function would set them."""
    total = 0
    for side, attention_blocks in (("encoder", 1), ("decoder", 2)):
        width = _dimension(model_config, f"{side}_embed_dim", 1024, MAX_WIDTH, where)
        ffn = _dimension(model_config, f"{side}_ffn_embed_dim", 4 * width, MAX_WIDTH * 4, where)
        layers = _dimension(model_config, f"{side}_layers", 12, MAX_LAYERS, where)
        positions = _dimension(model_config, f"max_{'source' if side == 'encoder' else 'target'}_positions",
                               1024, MAX_POSITIONS, where)  # fmt: skip
        total += layers * (attention_blocks * 4 * width * width + 2 * width * ffn) + positions * width
    return total
