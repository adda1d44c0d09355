"""Filters after simplification: `language` (what language a document is in) and `rules` (keep or drop)."""

from htlm.pipeline.filters.language import detect_language, parse_langs, primary_subtag, resolve_language
from htlm.pipeline.filters.rules import FilterConfig, filter_reason

__all__ = [
    "FilterConfig",
    "detect_language",
    "filter_reason",
    "parse_langs",
    "primary_subtag",
    "resolve_language",
]
