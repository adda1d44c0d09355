"""Console scripts of the model stage: each checks its extra first (a base install gets one line)."""

from __future__ import annotations

from htlm.extras import require


def train() -> int:
    """`htlm-train`: fairseq-train with the htlm plugin (see htlm.model.train_cli)."""
    require("htlm-train", "training", "fairseq", "train")
    from htlm.model.train_cli import main

    return main()


def export_hf() -> int:
    """`htlm-export-hf`: a checkpoint as a Hugging Face BART folder (see htlm.model.export_hf)."""
    require("htlm-export-hf", "Hugging Face exports", "fairseq", "train", "transformers", "hf")
    from htlm.model.export_hf import main

    return main()
