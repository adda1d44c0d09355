"""PNG figures of the demo (matplotlib, no display): loss curve, lengths, ROUGE, length control."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def write_pngs(folder: Path, results: Mapping[str, Any], lengths: Sequence[int]) -> list[Path]:
    """Write the figures into `folder`; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(figure: Any, name: str) -> None:
        path = folder / name
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)

    figure, axes = plt.subplots(figsize=(7, 3.5))
    curve = results["loss_curve"]
    axes.plot([u for u, _ in curve], [loss for _, loss in curve])
    axes.set(xlabel="update", ylabel="train loss (bits/token)", title="htlm_tiny training loss")
    save(figure, "loss.png")

    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.hist(lengths, bins=30, log=False)
    axes.set(xlabel="MHTML characters per kept document", ylabel="documents", title="Document lengths")
    save(figure, "lengths.png")

    figure, axes = plt.subplots(figsize=(7, 3.5))
    names = list(results["rouge"])
    for offset, key in enumerate(("rouge1", "rouge2", "rougeL")):
        axes.bar([i + 0.27 * offset for i in range(len(names))], [results["rouge"][n][key] for n in names],
                 width=0.27, label=key)  # fmt: skip
    axes.set_xticks([i + 0.27 for i in range(len(names))], names, fontsize=7)
    axes.set(ylabel="F1 x 100", title="Held-out titles: ROUGE")
    axes.legend()
    save(figure, "rouge.png")

    figure, axes = plt.subplots(figsize=(7, 3.5))
    gaps = results["length_control"]
    hints = list(gaps["with the hint"])
    for offset, key in enumerate(("with the hint", "without a hint")):
        axes.bar(
            [i + 0.4 * offset for i in range(len(hints))], [gaps[key][h] for h in hints], width=0.4, label=key
        )
    axes.set_xticks([i + 0.2 for i in range(len(hints))], [f"hint {h}" for h in hints])
    axes.set(ylabel="mean |length - hint| (tokens)", title="Length control")
    axes.legend()
    save(figure, "length-control.png")
    return written
