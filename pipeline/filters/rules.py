"""Document filters after simplification: length and language, each a named step with a reason."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from htlm.pipeline import reasons
from htlm.pipeline.filters.language import primary_subtag


@dataclass(frozen=True)
class FilterConfig:
    """Which documents to keep after simplification."""

    langs: Collection[str] | None = None  # primary subtags, e.g. {"en", "de"}; None = all
    min_lang_score: float = 0.5  # below this the declared lang attribute is trusted instead
    min_text_chars: int = 200  # shorter documents carry too little text to train on
    max_text_chars: int = 1_000_000  # longer ones are almost always dumps or spam


def filter_reason(text_chars: int, lang: str, config: FilterConfig) -> str | None:
    """The reason a simplified document is dropped by the filters, or None to keep it."""
    if text_chars < config.min_text_chars:
        return reasons.TOO_SHORT
    if text_chars > config.max_text_chars:
        return reasons.TOO_LONG
    if config.langs is not None and primary_subtag(lang) not in config.langs:
        return reasons.LANG
    return None
