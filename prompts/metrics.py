"""Evaluation of prompt results: ROUGE-1/2/L (rouge-score, stemmed) and accuracy with a confusion matrix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def rouge(
    predictions: Sequence[str], references: Sequence[str]
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Mean ROUGE F1 (x100) over the pairs, and each pair's scores (rouge-score, Porter stemmer)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    each = [
        {name: round(100 * score.fmeasure, 2) for name, score in scorer.score(reference, prediction).items()}
        for prediction, reference in zip(predictions, references, strict=True)
    ]
    means = {name: round(sum(s[name] for s in each) / len(each), 2) if each else 0.0 for name in ROUGE_TYPES}
    return means, each


def accuracy(predicted: Sequence[str], gold: Sequence[str]) -> tuple[float, dict[str, dict[str, int]]]:
    """Accuracy (x100) and the confusion matrix {gold: {predicted: count}} over every label seen."""
    pairs = Counter(zip(gold, predicted, strict=True))
    labels = sorted(set(gold) | set(predicted))
    matrix = {g: {p: pairs[(g, p)] for p in labels} for g in labels}
    correct = sum(count for (g, p), count in pairs.items() if g == p)
    return (round(100 * correct / len(gold), 2) if gold else 0.0), matrix


def format_confusion(matrix: dict[str, dict[str, int]]) -> str:
    """The confusion matrix as a text table: rows are gold labels, columns predictions."""
    labels = list(matrix)
    width = max([len("gold \\ predicted"), *map(len, labels)]) + 2
    cell = max([6, *map(len, labels)]) + 2
    lines = ["gold \\ predicted".ljust(width) + "".join(label.rjust(cell) for label in labels)]
    lines += [g.ljust(width) + "".join(str(matrix[g][p]).rjust(cell) for p in labels) for g in labels]
    return "\n".join(lines)


def evaluate(results: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    """The summary metrics of a run over the rows that have an answer and a reference."""
    usable = [r for r in results if not r.get("error") and r.get("reference") is not None]
    if metric == "rouge":
        answers = [r["answer"] if isinstance(r["answer"], str) else " ".join(r["answer"]) for r in usable]
        means, each = rouge(answers, [str(r["reference"]) for r in usable])
        for row, scores in zip(usable, each, strict=True):
            row["rouge"] = scores
        return {"metric": "rouge", "rows": len(usable), **means}
    if metric == "accuracy":
        value, matrix = accuracy([r["label"] for r in usable], [str(r["reference"]) for r in usable])
        for row in usable:
            row["correct"] = row["label"] == str(row["reference"])
        return {"metric": "accuracy", "rows": len(usable), "accuracy": value, "confusion": matrix}
    raise ValueError(f"metric {metric!r}: use rouge or accuracy")
