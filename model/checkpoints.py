"""Safe checkpoint loading: `torch.load(weights_only=True)` with exactly the globals fairseq stores.

torch ≥ 2.6 loads with `weights_only=True` by default, which refuses every class not on an
allow-list. fairseq checkpoints pickle an `argparse.Namespace` (the legacy model args), and
the state rank 0 broadcasts to the other ranks on a multi-GPU resume goes through
`torch.load` again with omegaconf containers, `typing.Any`, builtins and fairseq's tensor
placeholder in it. Importing the plugin allow-lists those and nothing else, so
`fairseq-train` resume, `fairseq-generate` and `htlm.model.load` work while a checkpoint
carrying any other class (a pickled payload that would run code) is refused.
"""

from __future__ import annotations

import argparse
import collections
import os
import typing
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


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint holds something other than tensors and the allow-listed fairseq globals."""


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
