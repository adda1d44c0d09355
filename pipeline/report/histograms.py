"""Histograms of per-document figures over fixed edges, mergeable: what workers and combiners build."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Sequence


def histogram(values: Iterable[float], edges: Sequence[float]) -> dict:
    """Count `values` into the bins between increasing `edges`, plus an open-ended last bin.

    Returns ``{"edges": [...], "counts": [...]}`` with ``len(counts) == len(edges)``: bin
    ``i`` counts ``edges[i] <= v < edges[i + 1]``, the last bin counts ``v >= edges[-1]``
    (overflow), and values below ``edges[0]`` are counted in the first bin. NaN values are
    skipped. Raises ValueError unless `edges` is a non-empty, strictly increasing sequence of
    finite numbers.
    """
    edges = _check_edges(edges)
    counts = [0] * len(edges)
    for value in values:
        if value != value:  # NaN belongs to no bin
            continue
        counts[max(bisect.bisect_right(edges, value) - 1, 0)] += 1
    return {"edges": edges, "counts": counts}


def log_edges(low: float, high: float, per_decade: int = 4) -> list[float]:
    """Log-spaced bin edges from `low` up to at least `high`, `per_decade` bins per factor of ten.

    ``log_edges(100, 1e7)`` gives 21 edges, 100, 178, 316, 562, 1000, ... 1e7, rounded to six
    significant digits so that the powers of ten come out exact. For byte and character
    lengths, which span 100 .. 10^7.
    """
    if not (0 < low < high) or not math.isfinite(high):
        raise ValueError(f"log_edges needs 0 < low < high, got low={low!r}, high={high!r}")
    if per_decade < 1:
        raise ValueError(f"per_decade must be at least 1, got {per_decade!r}")
    steps = math.ceil(per_decade * math.log10(high / low) - 1e-9)
    return [float(f"{low * 10 ** (i / per_decade):.6g}") for i in range(steps + 1)]


def merge_histograms(a: dict, b: dict) -> dict:
    """The bin-wise sum of two histograms made by `histogram` over the same edges.

    An empty dict stands for "nothing counted yet" (a combiner's fresh accumulator) and
    merges as the identity. Raises ValueError when the edges or the lengths differ.
    """
    if not a:
        return {"edges": list(b.get("edges", [])), "counts": list(b.get("counts", []))} if b else {}
    if not b:
        return merge_histograms(b, a)
    if list(a["edges"]) != list(b["edges"]):
        raise ValueError("cannot merge histograms with different edges")
    if len(a["counts"]) != len(b["counts"]):
        raise ValueError("cannot merge histograms with different numbers of bins")
    return {
        "edges": list(a["edges"]),
        "counts": [x + y for x, y in zip(a["counts"], b["counts"], strict=True)],
    }


def _check_edges(edges: Sequence[float]) -> list[float]:
    edges = list(edges)
    if not edges:
        raise ValueError("a histogram needs at least one edge")
    if not all(isinstance(e, int | float) and math.isfinite(e) for e in edges):
        raise ValueError("histogram edges must be finite numbers")
    if any(lo >= hi for lo, hi in itertools.pairwise(edges)):
        raise ValueError("histogram edges must be strictly increasing")
    return edges
