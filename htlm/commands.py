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


def prompt() -> int:
    """`htlm-prompt`: HTML prompts over a checkpoint (see htlm.prompts.cli)."""
    require("htlm-prompt", "prompting", "fairseq", "train", "rouge_score", "train")
    from htlm.prompts.cli import main

    return main()


def autoprompt() -> int:
    """`htlm-autoprompt`: a new prompt file written by the model (see htlm.prompts.autoprompt)."""
    require("htlm-autoprompt", "auto-prompting", "fairseq", "train")
    from htlm.prompts.cli import autoprompt_main

    return autoprompt_main()


def demo() -> int:
    """`htlm-demo`: the whole chain on the bundled data (see htlm.demo.run)."""
    require("htlm-demo", "the demo (it trains a model)", "fairseq", "train", "rouge_score", "train")
    from htlm.demo.run import main

    return main()
