"""Benchmark: our MinHash signatures against datasketch's on the same shingles of real pages.

The pages are real (tests/data/pages: scrapinghub and Readability), simplified to MHTML; the
input of both is our 64-bit shingle hashes (`shingle_hashes`), fed to datasketch with an
identity hash function (its fastest fair path). One core, CPU time, best of --rounds. Also
prints the mean absolute Jaccard error of both against the exact Jaccard of the shingle sets,
and how many page pairs share an LSH band (16 x 8) under each. Nothing here is a pass/fail test.

    python bench/minhash.py [--rounds 5]      # datasketch is optional: pip install datasketch
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import time
from pathlib import Path

import numpy as np
from htlm.pipeline.dedup import MinHasher, band_keys, shingle_hashes
from htlm.pipeline.simplify import MHTML, SimplifyConfig, simplify

PAGE_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "pages"


def real_texts() -> list[str]:
    paths = sorted((PAGE_DATA / "scrapinghub-article-extraction-benchmark" / "html").glob("*.html.gz"))
    paths += sorted((PAGE_DATA / "mozilla-readability" / "test-pages").glob("*/source.html.gz"))
    results = (simplify(gzip.decompress(p.read_bytes()), SimplifyConfig(min_text_ratio=0.0)) for p in paths)
    return [r.text for r in results if isinstance(r, MHTML)]


def ours(hashes: list[np.ndarray]) -> list[np.ndarray]:
    hasher = MinHasher()
    return [hasher.signature(h) for h in hashes]


def datasketch_signatures(hashes: list[np.ndarray]) -> list[np.ndarray]:
    from datasketch import MinHash

    template = MinHash(num_perm=128, hashfunc=lambda x: x, scheme="affine64")  # 64-bit, as ours
    out = []
    for h in hashes:
        m = template.copy()
        m.update_batch(h.tolist())
        out.append(m.hashvalues)
    return out


def best(function, hashes, rounds: int) -> tuple[float, list[np.ndarray]]:
    seconds, result = float("inf"), []
    for _ in range(rounds):
        started = time.process_time()
        result = function(hashes)
        seconds = min(seconds, time.process_time() - started)
    return seconds, result


def quality(hashes: list[np.ndarray], signatures: list[np.ndarray]) -> tuple[float, int]:
    """Mean |estimated - exact| Jaccard over pairs that share a shingle, and pairs sharing a band."""
    sets = [set(h.tolist()) for h in hashes]
    bands = [set(band_keys(np.asarray(s, dtype=np.uint64))) for s in signatures]
    errors, banded = [], 0
    for i, j in itertools.combinations(range(len(sets)), 2):
        banded += bool(bands[i] & bands[j])
        inter = len(sets[i] & sets[j])
        if inter:
            exact = inter / len(sets[i] | sets[j])
            errors.append(abs(float(np.mean(signatures[i] == signatures[j])) - exact))
    return float(np.mean(errors)), banded


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    hashes = [shingle_hashes(text) for text in real_texts()]
    hashes = [h for h in hashes if h.size]
    print(
        f"{len(hashes)} real pages, {sum(h.size for h in hashes):,} shingles, best of {args.rounds}, CPU time"
    )
    engines = {"htlm MinHasher": ours}
    try:
        import datasketch

        engines[f"datasketch {datasketch.__version__}"] = datasketch_signatures
    except ImportError:
        print("datasketch not installed: skipped (pip install datasketch)")
    results = {name: best(function, hashes, args.rounds) for name, function in engines.items()}
    for name, (seconds, signatures) in results.items():
        error, banded = quality(hashes, signatures)
        print(
            f"  {name:<20} {len(hashes) / seconds:8.0f} pages/s ({seconds:.3f}s)  "
            f"Jaccard MAE {error:.4f}  pairs sharing a band {banded}"
        )
    if len(results) > 1:
        (_, (base, _)), (other, (seconds, _)) = list(results.items())[:2]
        print(f"{other} / htlm MinHasher = {seconds / base:.2f}x  (>1 means ours is faster)")


if __name__ == "__main__":
    main()
