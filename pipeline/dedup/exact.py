"""Exact content: the normalised text and its hash (the content pass of dedup)."""

from __future__ import annotations

import hashlib
import unicodedata


def normalize_text(text: str) -> str:
    """Text as compared for duplicates: NFKC, case-folded, whitespace runs as one space, stripped.

    Why: the same page re-rendered differs in whitespace, case of headings, full-width vs
    half-width forms and composed vs decomposed accents; none of that makes a new document.
    NFKC is applied again after case folding (NFKC_Casefold style) so the result is stable
    under a second call.
    """
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(text.split())  # str.split() splits on the same characters as re's \s


def content_key(text: str) -> str:
    """Hex blake2b-128 of `normalize_text(text)`: the group key of the exact-content pass.

    128 bits make an accidental collision among billions of documents negligible (~2**-64).
    """
    return hashlib.blake2b(normalize_text(text).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
