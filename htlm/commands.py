"""Console scripts of the model stage: each checks its extra first (a base install gets one line)."""

from __future__ import annotations

from htlm.extras import require


def train() -> int:
    """`htlm-train`: fairseq-train with the htlm plugin (see htlm.model.train_cli)."""
    require("htlm-train", "training", "fairseq", "train")
    from htlm.model.train_cli import main

    return main()
