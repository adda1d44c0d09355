"""Small lxml helpers the steps share: text of a node, whitespace collapsing, dropping a tree or a tag."""

from __future__ import annotations

import re
from collections.abc import Iterable

import lxml.etree as etree
from htlm.pipeline.simplify.config import CONTROL_CHARS, Element


def collapse(text: str | None) -> str:
    return " ".join(CONTROL_CHARS.sub("", text).split()) if text else ""


def collapse_keep_edges(text: str) -> str:
    """Collapse whitespace runs to one space, keeping one at either edge if there was one there."""
    core = " ".join(text.split())
    if not core:
        return " " if text else ""
    return f"{' ' if text[0].isspace() else ''}{core}{' ' if text[-1].isspace() else ''}"


def set_text(element: Element, slot: str, text: str) -> None:
    try:
        setattr(element, slot, text or None)
    except ValueError:  # lxml refuses control characters; rare enough to clean only on failure
        setattr(element, slot, CONTROL_CHARS.sub("", text) or None)


def text_len(text: str | None) -> int:
    """Characters of `text` once whitespace runs are collapsed and the ends stripped."""
    if not text:
        return 0
    words = text.split()
    return sum(map(len, words)) + len(words) - 1 if words else 0


# Han, kana, Hangul: one character carries about a word, so recall mode counts it as WIDE_WEIGHT.
WIDE_CHARS = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
WIDE_WEIGHT = 3


def weighted_text_len(text: str | None) -> int:
    """`text_len`, with each Han, kana or Hangul character counted as WIDE_WEIGHT characters."""
    chars = text_len(text)
    if not chars or text.isascii():  # type: ignore[union-attr]
        return chars
    return chars + (WIDE_WEIGHT - 1) * len(WIDE_CHARS.findall(text))  # type: ignore[arg-type]


def text_of(element: Element) -> str:
    return etree.tostring(element, method="text", encoding="unicode", with_tail=False)


def drop_trees(elements: Iterable[Element]) -> None:
    """Remove many subtrees at once, keeping their tails where they were: linear in the children.

    Dropping siblings one by one appends each tail to a growing string (quadratic when a page
    has 300,000 of them); here each parent's children are walked once and every run of
    surviving text joined once. The result is the same as dropping each element in turn.
    """
    by_parent: dict[Element, set[Element]] = {}
    for element in elements:
        parent = element.getparent()
        if parent is not None:
            by_parent.setdefault(parent, set()).add(element)
    for parent, dropped in by_parent.items():
        parts, last = [parent.text or ""], None
        for child in list(parent):
            if child in dropped:
                parts.append(child.tail or "")
                parent.remove(child)
            else:
                _settle(parent, last, parts)
                parts, last = [child.tail or ""], child
        _settle(parent, last, parts)


def _settle(parent: Element, last: Element | None, parts: list[str]) -> None:
    """Give the text gathered since `last` (None: the parent's start) back to the tree, in one join."""
    if len(parts) > 1:
        set_text(parent if last is None else last, "text" if last is None else "tail", "".join(parts))


def drop_tag(element: Element) -> None:
    """Remove `element`'s tag, keeping its text, children and tail in place."""
    parent = element.getparent()
    previous = element.getprevious()
    lead = element.text or ""
    if previous is not None:
        previous.tail = (previous.tail or "") + lead
    else:
        parent.text = (parent.text or "") + lead
    index = parent.index(element)
    children = list(element)
    if children:
        children[-1].tail = (children[-1].tail or "") + (element.tail or "")
    elif element.tail:
        if previous is not None:
            previous.tail += element.tail
        else:
            parent.text += element.tail
    parent[index : index + 1] = children


def has_text(text: str | None) -> bool:
    return bool(text and text.strip())
