"""Console scripts of the model stage: each checks its extras first (a base install gets one line)."""

from __future__ import annotations

import importlib

from htlm.extras import require


def _run(target: str) -> int:
    """Import `module:function` (only now: it pulls in fairseq) and run it."""
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)()


def train() -> int:
    """`htlm-train`: fairseq-train with the htlm plugin (see htlm.model.train_cli)."""
    require("htlm-train", "training", "fairseq", "train")
    return _run("htlm.model.train_cli:main")


def export_hf() -> int:
    """`htlm-export-hf`: a checkpoint as a Hugging Face BART folder (see htlm.model.export_hf)."""
    require("htlm-export-hf", "Hugging Face exports", "fairseq", "train", "transformers", "hf")
    return _run("htlm.model.export_hf:main")


def prompt() -> int:
    """`htlm-prompt`: HTML prompts over a checkpoint (see htlm.prompts.cli)."""
    require("htlm-prompt", "prompting", "fairseq", "train", "rouge_score", "train")
    return _run("htlm.prompts.cli:main")


def autoprompt() -> int:
    """`htlm-autoprompt`: a new prompt file written by the model (see htlm.prompts.autoprompt)."""
    require("htlm-autoprompt", "auto-prompting", "fairseq", "train")
    return _run("htlm.prompts.cli:autoprompt_main")


def demo() -> int:
    """`htlm-demo`: the whole chain on the bundled data (see htlm.demo.run)."""
    require("htlm-demo", "the demo (it trains a model)", "fairseq", "train", "rouge_score", "train")
    return _run("htlm.demo.run:main")
