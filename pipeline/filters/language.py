"""Language of a document: what a language-ID model says of its text, the declared `lang` when it is unsure.

A page's `<html lang>` is often a template default, so the language is what a language-ID
model (py3langid: langid.py's model, shipped inside the PyPI package, nothing downloaded)
says about the MHTML text when it is confident (probability >= `min_score`), and the
declared `lang` otherwise (short texts). HTLM kept `lang="en"` pages and then filtered with
fastText; `--langs` makes the set a parameter, `None` keeps every language.
"""

from __future__ import annotations

import functools
from typing import Any

LANG_ID_CHARS = 3000  # the model converges long before this; bounded cost per document


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str, float]:
    """The most likely language of `text` (ISO 639-1) and its probability, from py3langid."""
    if not text.strip():
        return "", 0.0
    lang, score = _identifier().classify(text[:LANG_ID_CHARS])
    return str(lang), float(score)


def primary_subtag(lang: str) -> str:
    """`en-US` -> `en`; the comparison key for language sets."""
    return lang.strip().lower().replace("_", "-").split("-")[0]


def resolve_language(declared: str, text: str, min_score: float) -> tuple[str, str, float]:
    """Decide a document's language: (lang, source, model score) with source "model" or "declared"."""
    detected, score = detect_language(text)
    if detected and score >= min_score:
        return detected, "model", score
    return primary_subtag(declared), "declared", score


def parse_langs(value: str) -> frozenset[str] | None:
    """`--langs en,de` -> {"en", "de"}; `all` (or empty) -> None."""
    langs = frozenset(primary_subtag(lang) for lang in value.split(",") if lang.strip())
    return None if not langs or "all" in langs else langs
