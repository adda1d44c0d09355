"""LSH banding: the band keys a near-duplicate pass groups on, and the band/row split for a threshold."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import numpy as np
from htlm.pipeline.dedup.minhash import DEFAULT_NUM_PERM, MinHasher
from htlm.pipeline.dedup.shingles import DEFAULT_SHINGLE_SIZE, shingle_hashes

DEFAULT_THRESHOLD = 0.8


def _integrate(f: Any, lo: float, hi: float, steps: int = 1000) -> float:
    xs = np.linspace(lo, hi, steps + 1)
    ys = f(xs)
    return float(np.sum((ys[1:] + ys[:-1]) * (xs[1:] - xs[:-1])) / 2)


def optimal_bands(
    num_perm: int = DEFAULT_NUM_PERM,
    threshold: float = DEFAULT_THRESHOLD,
    false_positive_weight: float | None = None,
    false_negative_weight: float | None = None,
) -> tuple[int, int]:
    """The (bands, rows) with bands*rows == num_perm that minimises the weighted LSH error at `threshold`.

    The datasketch approach: two documents of Jaccard similarity s share at least one band with
    probability P(s) = 1 - (1 - s**rows)**bands. The false positive weight is the integral of
    P over [0, threshold], the false negative weight the integral of 1 - P over
    [threshold, 1]; their weighted sum is minimised (trapezoid rule, 1,000 steps). Unlike
    datasketch only exact divisors are tried, since `band_keys` uses every row of the
    signature. Ties go to fewer bands (fewer keys to shuffle).

    Weights: by default each side is weighted by the inverse of its width (1-threshold and
    threshold after normalising: 0.2 and 0.8 at threshold 0.8), i.e. the mean false positive
    rate below the threshold is traded against the mean false negative rate above it. Pass
    (0.5, 0.5) for datasketch's equal weights. Why not those: at threshold 0.8 the false
    positive interval is four times as wide as the false negative one, so equal weights on the
    integrals buy precision with recall; they pick (8, 16), which finds a pair of similarity
    0.8 with probability 0.20 only.

    Defaults: num_perm=128, threshold=0.8 give (16, 8) (`DEFAULT_BANDS, DEFAULT_ROWS`):
    P(0.9) = 1.00, P(0.8) = 0.95, P(0.7) = 0.61, P(0.6) = 0.24, P(0.5) = 0.06, P(0.3) = 0.001
    (the curve's midpoint is (1/16)**(1/8) = 0.71). FineWeb's MinHash (112 = 14 bands x 8
    rows, word 5-grams) is the same design. No pair check follows the buckets, so a false
    positive drops a document: P(0.5) = 0.06 is the price of P(0.8) = 0.95.
    """
    if num_perm < 1:
        raise ValueError(f"num_perm must be >= 1, got {num_perm}")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if false_positive_weight is None or false_negative_weight is None:
        false_positive_weight, false_negative_weight = 1.0 - threshold, threshold
    best: tuple[float, int, int] | None = None
    for bands in range(1, num_perm + 1):
        if num_perm % bands:
            continue
        rows = num_perm // bands

        def p_share(s: np.ndarray, bands: int = bands, rows: int = rows) -> np.ndarray:
            return 1.0 - (1.0 - s**rows) ** bands

        fp = _integrate(p_share, 0.0, threshold)
        fn = _integrate(lambda s, p=p_share: 1.0 - p(s), threshold, 1.0)
        error = false_positive_weight * fp + false_negative_weight * fn
        if best is None or error < best[0] - 1e-12:
            best = (error, bands, rows)
    assert best is not None
    return best[1], best[2]


DEFAULT_BANDS, DEFAULT_ROWS = 16, 8  # == optimal_bands(128, 0.8); a test keeps them in step


def band_keys(signature: np.ndarray, bands: int = DEFAULT_BANDS, rows: int = DEFAULT_ROWS) -> list[str]:
    """The LSH bucket keys of a signature: f"{band}:{hex blake2b-128 of the band's rows}", one per band.

    Two documents are near-duplicate candidates iff they share a key; the Beam job groups on
    these keys. The band index is part of the key so that equal rows in different bands do not
    meet. Rows are hashed as little-endian uint64, so keys agree across machines.
    Raises ValueError unless bands*rows == len(signature).
    """
    signature = np.asarray(signature)
    if bands < 1 or rows < 1 or bands * rows != signature.size:
        raise ValueError(f"bands*rows must equal the signature length: {bands}*{rows} != {signature.size}")
    data = signature.astype("<u8", copy=False).tobytes()
    width = rows * 8
    return [
        f"{band}:{hashlib.blake2b(data[band * width : (band + 1) * width], digest_size=16).hexdigest()}"
        for band in range(bands)
    ]


def near_dup_keys(
    text: str,
    hasher: MinHasher | None = None,
    bands: int = DEFAULT_BANDS,
    rows: int = DEFAULT_ROWS,
    n: int = DEFAULT_SHINGLE_SIZE,
) -> list[str]:
    """The LSH band keys of a text with the defaults: shingle_hashes -> MinHasher.signature -> band_keys.

    Pass one `MinHasher` per worker (building it hashes num_perm seeds) to save that work.
    """
    if hasher is None:
        hasher = _default_hasher()
    return band_keys(hasher.signature(shingle_hashes(text, n)), bands, rows)


@functools.cache
def _default_hasher() -> MinHasher:
    return MinHasher()
