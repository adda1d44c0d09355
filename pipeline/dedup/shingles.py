"""Word shingles of a text, hashed to 64 bits: the sets MinHash estimates the Jaccard similarity of."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

import numpy as np
from htlm.pipeline.dedup.exact import normalize_text

DEFAULT_SHINGLE_SIZE = 5

# Scripts written without spaces between words: each character is a token of its own (with
# any combining marks that follow it). Han (with iteration marks), Hiragana, Katakana, Thai,
# Lao, Myanmar, Khmer. Hangul is written with spaces and stays word-tokenised.
_NO_SPACE_RANGES = (
    "\u3005-\u3007\u3021-\u3029\u3038-\u303b"  # 々〆〇, Hangzhou numerals, 〸〹〺〻
    "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"  # Hiragana, Katakana (ー included), Katakana ext.
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ext. A, unified, compatibility
    "\U00020000-\U0002fa1f\U00030000-\U0003134f"  # CJK ext. B-F, compat. supplement, ext. G
    "\uff66-\uff9f"  # half-width Katakana (NFKC maps most of them to full width anyway)
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Myanmar, Khmer
)


@functools.cache
def _tokenizer() -> tuple[dict[int, str], re.Pattern[str], re.Pattern[str]]:
    """The tokeniser's tables, built on first use (scanning the Unicode tables takes ~0.1 s).

    A translation table turns separators into spaces: punctuation, symbols, separators,
    controls, private-use characters (icon fonts) and "_"; format characters (soft hyphen,
    joiners, bidi marks) are deleted, except the zero-width space, a separator. Letters,
    digits and combining marks stay, so a Devanagari or Arabic word keeps its vowel signs
    (a `\\w+` regex would cut it at each).
    Chunks holding a no-space character are then cut by a regex into single characters (with
    the combining marks that follow them) and runs of other characters. Planes 0 and 1 are
    scanned; characters above are left as they are (CJK in planes 2 and 3 is in the no-space
    ranges). Big regex character classes are slow in `re`, hence the table.
    """
    table: dict[int, str] = {}
    marks: list[int] = []
    for cp in range(0x20000):
        category = unicodedata.category(chr(cp))
        if category[0] in "PSZ" or category in ("Cc", "Co"):
            table[cp] = " "
        elif category == "Cf":
            table[cp] = ""
        elif category[0] == "M":
            marks.append(cp)
    table[ord("_")] = " "
    table[0x200B] = " "  # zero-width space
    marks += range(0xE0100, 0xE01F0)  # variation selectors supplement
    ranges: list[str] = []
    start = prev = marks[0]
    for cp in [*marks[1:], -1]:
        if cp != prev + 1:
            ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
            start = cp
        prev = cp
    no_space = re.compile(f"[{_NO_SPACE_RANGES}]")
    split = re.compile(f"[{_NO_SPACE_RANGES}][{''.join(ranges)}]*|[^{_NO_SPACE_RANGES}]+")
    return table, no_space, split


def tokenize(text: str) -> list[str]:
    """The tokens of `normalize_text(text)`: words, and single characters of CJK/Thai-like scripts.

    Why per character for Chinese, Japanese, Thai, Lao, Khmer and Myanmar: they have no spaces,
    so word n-grams would see a whole sentence as one token; character n-grams are the usual
    choice for near-duplicate detection there. Punctuation and symbols are not tokens.
    """
    table, no_space, split = _tokenizer()
    tokens: list[str] = []
    for chunk in normalize_text(text).translate(table).split():
        if chunk.isascii() or not no_space.search(chunk):
            tokens.append(chunk)
        else:
            tokens.extend(split.findall(chunk))
    return tokens


_MASK64 = (1 << 64) - 1
# Multiplier of the polynomial that combines token hashes into a shingle hash (odd, from the
# golden ratio), and the two multipliers of MurmurHash3's 64-bit finaliser.
_POLY = np.uint64(0x9E3779B97F4A7C15)
_FMIX1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def _token_hash(token: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little"
    )


def shingle_hashes(text: str, n: int = DEFAULT_SHINGLE_SIZE) -> np.ndarray:
    """The distinct 64-bit hashes of the token n-grams of `text`, sorted, as a uint64 array.

    The fast path behind `shingles` (no Python set); what `MinHasher.signature` wants.

    Hash: each distinct token gets blake2b-64 (little-endian); the n-gram at position i is
    `fmix64(sum_j h[i+j] * K**(n-1-j) mod 2**64)` with K = 0x9E3779B97F4A7C15 and fmix64
    MurmurHash3's finaliser, vectorised with numpy. That costs ~0.4 µs per token against
    ~1.1 µs for one blake2b per n-gram, and is as stable (fixed arithmetic, no seeds). Texts
    with fewer than `n` tokens (including none) give one shingle: blake2b-64 of their tokens
    joined by U+001F, so a short text is still comparable with itself.
    """
    if n < 1:
        raise ValueError(f"shingle size must be >= 1, got {n}")
    tokens = tokenize(text)
    if len(tokens) < n:
        return np.array([_token_hash("\x1f".join(tokens))], dtype=np.uint64)
    ids: dict[str, int] = {}
    index = np.fromiter((ids.setdefault(t, len(ids)) for t in tokens), dtype=np.intp, count=len(tokens))
    table = np.fromiter((_token_hash(t) for t in ids), dtype=np.uint64, count=len(ids))
    h = table[index]
    count = len(tokens) - n + 1
    acc = h[:count].copy()
    for j in range(1, n):
        acc *= _POLY
        acc += h[j : j + count]
    acc ^= acc >> _S33
    acc *= _FMIX1
    acc ^= acc >> _S33
    acc *= _FMIX2
    acc ^= acc >> _S33
    return np.unique(acc)


def shingles(text: str, n: int = DEFAULT_SHINGLE_SIZE) -> set[int]:
    """The set of 64-bit hashes of the word n-grams of `normalize_text(text)` (see `shingle_hashes`).

    Words come from `tokenize`, which splits Chinese, Japanese, Thai and similar scripts into
    characters (they are written without spaces), so there the shingles are character n-grams.
    Texts shorter than `n` tokens give one shingle of the whole text.
    """
    return set(shingle_hashes(text, n).tolist())
