"""MinHash signatures of shingle sets (numpy, 61-bit universal hashing, deterministic everywhere)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np

DEFAULT_NUM_PERM = 128
MERSENNE_61 = (1 << 61) - 1
_MASK64 = (1 << 64) - 1
_P = np.uint64(MERSENNE_61)
_M32 = np.uint64(0xFFFFFFFF)
_M29 = np.uint64((1 << 29) - 1)
_S3, _S29, _S32, _S61 = np.uint64(3), np.uint64(29), np.uint64(32), np.uint64(61)
_CHUNK = 512  # shingles per block: num_perm x block temporaries of 512 KB stay in cache (measured best)


def _mod_p(v: np.ndarray) -> np.ndarray:
    """v mod 2**61-1 for any uint64 array."""
    v = (v & _P) + (v >> _S61)  # < 2**61 + 8, congruent to v
    return np.minimum(v, v - _P)  # v - p wraps around to a huge value when v < p


class MinHasher:
    """MinHash signatures with `num_perm` universal hash functions h_i(x) = (a_i*x + b_i) mod (2**61-1).

    Why this family: (a*x+b) mod a Mersenne prime is the textbook universal hash; p = 2**61-1
    exceeds the 2**32 of 32-bit variants, so distinct shingles almost never collide, and
    reducing mod p needs only shifts and masks.

    a_i in [1, p) and b_i in [0, p) come from blake2b of (seed, i), not from a numpy random
    stream, so every process, machine and numpy version gets the same functions.

    `signature` computes the products exactly in uint64: with a = a1*2**32 + a0 and
    x = x1*2**32 + x0 (a, x < 2**61), a*x = a1*x1*2**64 + (a1*x0 + a0*x1)*2**32 + a0*x0, and
    since 2**61 = 1 (mod p): 2**64 = 8, and mid*2**32 = (mid >> 29) + (mid & (2**29-1))*2**32.
    Every partial sum stays below 2**64 (see the bounds in the code); a test checks the result
    against Python integers. Cost: ~1.1 µs per shingle at num_perm=128 (one core).
    """

    def __init__(self, num_perm: int = DEFAULT_NUM_PERM, seed: int = 1) -> None:
        if num_perm < 1:
            raise ValueError(f"num_perm must be >= 1, got {num_perm}")
        self.num_perm = num_perm
        self.seed = seed
        a, b = [], []
        for i in range(num_perm):
            digest = hashlib.blake2b(f"htlm-minhash:{seed}:{i}".encode(), digest_size=16).digest()
            a.append(int.from_bytes(digest[:8], "little") % (MERSENNE_61 - 1) + 1)
            b.append(int.from_bytes(digest[8:], "little") % MERSENNE_61)
        self.a = np.array(a, dtype=np.uint64)
        self.b = np.array(b, dtype=np.uint64)

    def __repr__(self) -> str:
        return f"MinHasher(num_perm={self.num_perm}, seed={self.seed})"

    def signature(self, shingles: Iterable[int] | np.ndarray) -> np.ndarray:
        """The MinHash signature (uint64 array of length num_perm, values < 2**61-1) of a shingle set.

        Accepts a set of ints in [0, 2**64) (`shingles`) or a uint64 array (`shingle_hashes`).
        The empty set gets the sentinel signature of all 2**64-1 (larger than any real value),
        which `shingles` never produces.
        """
        if isinstance(shingles, np.ndarray):
            x = shingles.astype(np.uint64, copy=False).ravel()
        else:
            items = shingles if isinstance(shingles, (set, frozenset, list, tuple)) else list(shingles)
            x = np.fromiter(items, dtype=np.uint64, count=len(items))
        result = np.full(self.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
        if x.size == 0:
            return result
        x = _mod_p(x)
        a0, a1 = (self.a & _M32)[:, None], (self.a >> _S32)[:, None]  # a1 < 2**29
        b = self.b[:, None]
        for start in range(0, x.size, _CHUNK):
            xc = x[start : start + _CHUNK]
            x0, x1 = xc & _M32, xc >> _S32  # x1 < 2**29
            lo = a0 * x0  # < 2**64
            mid = a1 * x0  # < 2**61
            mid += a0 * x1  # < 2**62
            s = a1 * x1  # < 2**58
            s <<= _S3  # a1*x1*2**64 = 8*a1*x1 < 2**61
            s += mid >> _S29  # < 2**33
            mid &= _M29
            mid <<= _S32  # < 2**61
            s += mid
            s += lo & _P  # < 2**61
            s += lo >> _S61  # <= 7
            s += b  # < 2**61; in all s < 4*2**61 + 2**34 < 2**64
            block = _mod_p(s).min(axis=1)
            np.minimum(result, block, out=result)
        return result


def _reference_signature(
    shingles: Iterable[int], num_perm: int = DEFAULT_NUM_PERM, seed: int = 1
) -> list[int]:
    """Slow pure-Python MinHash with the same functions as `MinHasher`, for tests."""
    hasher = MinHasher(num_perm, seed)
    items = list(shingles)
    if not items:
        return [_MASK64] * num_perm
    return [
        min((a * x + b) % MERSENNE_61 for x in items)
        for a, b in zip(hasher.a.tolist(), hasher.b.tolist(), strict=True)
    ]


def jaccard(a: set[Any] | frozenset[Any], b: set[Any] | frozenset[Any]) -> float:
    """|a ∩ b| / |a ∪ b|, the similarity MinHash estimates; 1.0 for two empty sets (they are equal)."""
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The fraction of positions where two signatures agree: an unbiased estimate of the Jaccard
    similarity of their shingle sets (standard error sqrt(J(1-J)/num_perm), ~0.035 at 128)."""
    sig_a, sig_b = np.asarray(sig_a), np.asarray(sig_b)
    if sig_a.shape != sig_b.shape or sig_a.ndim != 1 or sig_a.size == 0:
        raise ValueError(
            f"signatures must be 1-D, non-empty and of one length: {sig_a.shape} vs {sig_b.shape}"
        )
    return float(np.count_nonzero(sig_a == sig_b)) / sig_a.size
