"""Answers out of a regenerated document: the text between each slot's prefix and suffix.

The model rewrites the whole prompt document; the answer to slot i is what it wrote after
the template text just before the slot and before the template text just after it. The
anchors are the last (first) few characters of that text, with the nearest tag alone as a
fallback, searched left to right so several slots are found in order.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

ANCHOR_CHARS = 32
LAST_TAG = re.compile(r"<[^<>]*>\s*$")
FIRST_TAG = re.compile(r"^\s*<[^<>]*>")


@dataclass(frozen=True)
class Answer:
    """One slot's answer; `found` is False when the prefix was not in the output, `complete` is
    False when the suffix was not (the answer then runs to the next tag or the end)."""

    text: str
    found: bool
    complete: bool


def _prefix_anchors(prefix: str) -> list[str]:
    anchors = [prefix[-ANCHOR_CHARS:].lstrip()]
    tag = LAST_TAG.search(prefix)
    if tag:
        anchors.append(tag.group(0).rstrip())
    return [anchor for anchor in dict.fromkeys(anchors) if anchor]


def _suffix_anchors(suffix: str) -> list[str]:
    anchors = [suffix[:ANCHOR_CHARS].rstrip()]
    tag = FIRST_TAG.match(suffix)
    if tag:
        anchors.append(tag.group(0).lstrip())
    return [anchor for anchor in dict.fromkeys(anchors) if anchor]


def _find(output: str, anchors: list[str], start: int) -> tuple[int, int] | None:
    """(start, end) of the first anchor (in preference order) found at or after `start`."""
    for anchor in anchors:
        at = output.find(anchor, start)
        if at >= 0:
            return at, at + len(anchor)
    return None


def extract_answers(output: str, prefixes: Sequence[str], suffixes: Sequence[str]) -> list[Answer]:
    """The answer of every slot in `output`, given the filled text before and after each slot.

    Answers are text: tags dropped, entities decoded (`&amp;` -> `&`), whitespace collapsed. A
    slot whose prefix cannot be found gets `Answer("", found=False, complete=False)`; the slots
    after it are still searched.
    """
    answers = []
    cursor = 0
    for prefix, suffix in zip(prefixes, suffixes, strict=True):
        anchors = _prefix_anchors(prefix)
        if anchors:
            hit = _find(output, anchors, cursor)
            if hit is None:
                answers.append(Answer("", found=False, complete=False))
                continue
            begin = hit[1]
        else:
            begin = cursor
        ends = _suffix_anchors(suffix)
        if not ends:  # the slot ends the document
            answers.append(Answer(_clean(output[begin:]), found=True, complete=True))
            cursor = len(output)
            continue
        hit = _find(output, ends, begin)
        if hit is None:
            tag = output.find("<", begin)
            stop = tag if tag >= 0 else len(output)
            answers.append(Answer(_clean(output[begin:stop]), found=True, complete=False))
            cursor = stop
        else:
            answers.append(Answer(_clean(output[begin : hit[0]]), found=True, complete=True))
            cursor = hit[0]
    return answers


def _clean(text: str) -> str:
    """The text of an answer: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^<>]*>", " ", text)).split())
