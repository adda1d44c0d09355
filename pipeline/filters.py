"""Document filters after simplification: language and length, each a named step with a reason.

Language: a page's `<html lang>` is often a template default, so the language is what a
language-ID model (py3langid: langid.py's model, shipped inside the PyPI package, nothing
downloaded) says about the MHTML text when it is confident (probability >= `min_lang_score`),
and the declared `lang` otherwise (short texts). HTLM kept `lang="en"` pages and then
filtered with fastText; `--langs` makes the set a parameter, `None` keeps every language.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from htlm.pipeline import reasons

LANG_ID_CHARS = 3000  # the model converges long before this; bounded cost per document


@dataclass(frozen=True)
class FilterConfig:
    """Which documents to keep after simplification."""

    langs: Collection[str] | None = None  # primary subtags, e.g. {"en", "de"}; None = all
    min_lang_score: float = 0.5  # below this the declared lang attribute is trusted instead
    min_text_chars: int = 200  # shorter documents carry too little text to train on
    max_text_chars: int = 1_000_000  # longer ones are almost always dumps or spam


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


def filter_reason(text_chars: int, lang: str, config: FilterConfig) -> str | None:
    """The reason a simplified document is dropped by the filters, or None to keep it."""
    if text_chars < config.min_text_chars:
        return reasons.TOO_SHORT
    if text_chars > config.max_text_chars:
        return reasons.TOO_LONG
    if config.langs is not None and primary_subtag(lang) not in config.langs:
        return reasons.LANG
    return None


def parse_langs(value: str) -> frozenset[str] | None:
    """`--langs en,de` -> {"en", "de"}; `all` (or empty) -> None."""
    langs = frozenset(primary_subtag(lang) for lang in value.split(",") if lang.strip())
    return None if not langs or "all" in langs else langs
