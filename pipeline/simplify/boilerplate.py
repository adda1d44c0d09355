"""Non-content and boilerplate: scripts, media, headers, footers, forms, copyright blocks, hidden nodes."""

from __future__ import annotations

import functools
import re

from htlm.pipeline.simplify import compiled
from htlm.pipeline.simplify.config import (
    BOILERPLATE_ROLES,
    BOILERPLATE_TAGS,
    BOILERPLATE_WORDS,
    DIALOG_ROLES,
    Element,
    SimplifyConfig,
)

_COPYRIGHT = re.compile(r"©|\(c\)\s*\d{4}|copyright\s*(?:©|\(c\)|\d{4})|all rights reserved", re.IGNORECASE)
# Substrings one of which every copyright notice holds (`_COPYRIGHT` needs one): a cheap test first.
COPYRIGHT_HINTS = ("©", "opyright", "OPYRIGHT", "ights ", "IGHTS ", "(c)", "(C)")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def remove_non_content(body: Element, config: SimplifyConfig) -> None:
    """Drop the elements that are never content (scripts, styles, media, form controls, ...)."""
    compiled.strip_elements(body, config.non_content_tags)


def is_hidden(element: Element) -> bool:
    """A node the reader never sees: `hidden`, an open dialog (`role=dialog`, `aria-modal`)."""
    return (
        element.get("hidden") is not None
        or element.get("role") in DIALOG_ROLES
        or element.get("aria-modal") == "true"
    )


def is_boilerplate(
    element: Element, words: frozenset[str] = BOILERPLATE_WORDS, tags: frozenset[str] = BOILERPLATE_TAGS
) -> bool:
    """A header, footer or form: by tag, by ARIA role (banner, contentinfo), or by a class/id word.

    Words are matched whole after splitting on punctuation and camelCase, so `site-header`,
    `footerNav` and `copyright_bar` match while `headline` or `subheading` do not.
    """
    if element.tag in tags or element.get("role") in BOILERPLATE_ROLES:
        return True
    joined = f"{element.get('class') or ''} {element.get('id') or ''}"
    if not _word_hint(words).search(joined):
        return False
    return not words.isdisjoint(_WORD_SPLIT.split(_CAMEL.sub(" ", joined).lower()))


@functools.cache
def _word_hint(words: frozenset[str]) -> re.Pattern[str]:
    """A case-insensitive substring pre-filter for `is_boilerplate`; the word check after it is exact."""
    return re.compile("|".join(map(re.escape, sorted(words))), re.IGNORECASE)


def mentions_copyright(text: str | None) -> bool:
    """Whether a text node carries a copyright notice: `©`, "Copyright 2021", "All rights reserved".

    The substring tests of COPYRIGHT_HINTS run first; the regex only on the few texts that pass them.
    """
    if not text or not any(hint in text for hint in COPYRIGHT_HINTS):
        return False
    return _COPYRIGHT.search(text) is not None
