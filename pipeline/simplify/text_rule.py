"""The text rule: one bottom-up walk keeps the subtrees holding a text element (>= 128 characters, or 64)."""

from __future__ import annotations

from htlm.pipeline import reasons
from htlm.pipeline.simplify.boilerplate import is_boilerplate, is_hidden, mentions_copyright
from htlm.pipeline.simplify.config import (
    ATOMIC_PARTS,
    ATOMIC_TAGS,
    BOILERPLATE_TAGS,
    DEFAULT_CONFIG,
    PHRASING_TAGS,
    SHORT_BAR_TAGS,
    Element,
    RejectPage,
    SimplifyConfig,
)
from htlm.pipeline.simplify.tidy import is_attached, remove_empty
from htlm.pipeline.simplify.tree import drop_tag, drop_trees, text_len, text_of


class _Walk:
    """One bottom-up walk deciding the boilerplate and text rules; `prune` then edits the tree."""

    def __init__(self, body: Element, config: SimplifyConfig) -> None:
        self.config = config
        self.root = body
        self.drops: list[Element] = []  # subtrees failing the text rule, or copyright blocks
        self.hidden: list[Element] = []  # hidden subtrees, removed whatever their parent's fate
        self.loose: list[tuple[Element, list[Element]]] = []  # short running text: (element, its phrasing)
        self.boilerplate: list[tuple[Element, int]] = []  # (element, prose chars inside it)
        self.lowest_bar = min(config.min_text_chars, config.min_text_chars_short)
        # Raw text longer than this cannot collapse below either threshold (whitespace runs aside).
        self.short_raw_chars = 8 * max(self.lowest_bar, config.max_copyright_chars)

    def visit(self, element: Element, depth: int) -> tuple[bool, int, int, bool, bool]:
        """Measure `element`'s subtree and record what to remove inside it.

        Returns (kept, running, prose, block, pure): `kept` — it holds a text element that reaches
        its bar; `running` — characters of its running text; `prose` — characters of the text
        elements inside it that reach their bar; `block` — it is, or holds, a block; `pure` — it
        holds no block but list/table parts.

        A subtree whose whole text is shorter than the lowest bar cannot hold a text element, and
        one of at most `max_copyright_chars` carrying a copyright notice is a copyright block: both
        are decided from the subtree's text (extracted in C) without walking inside them.
        """
        config = self.config
        if depth > config.max_depth:
            raise RejectPage(reasons.TOO_DEEP, f"depth > {config.max_depth}")
        tag = element.tag
        block = tag not in PHRASING_TAGS
        text = text_of(element) if len(element) else element.text
        if text is None or len(text) <= self.short_raw_chars:
            chars = text_len(text)
            if chars <= config.max_copyright_chars and mentions_copyright(text):
                return False, 0, 0, True, False  # a copyright block: its parent drops it
            if chars < self.lowest_bar:
                return False, 0 if block else chars, 0, block, True
        start, loose_start = len(self.drops), len(self.loose)
        running = text_len(element.text)
        prose = 0
        any_kept = False
        pure = True
        block_children: list[tuple[Element, bool]] = []
        phrasing_children: list[tuple[Element, bool]] = []
        for child in element:
            if child.keys() and is_hidden(child):
                self.hidden.append(child)
                continue
            kept, child_running, child_prose, child_block, child_pure = self.visit(child, depth + 1)
            any_kept |= kept
            prose += child_prose
            pure &= child_pure and (not child_block or child.tag in ATOMIC_PARTS)
            if child_block:
                block = True
                block_children.append((child, kept))
            else:
                running += child_running
                phrasing_children.append((child, kept))
            tail = child.tail
            if tail and not tail.isspace():
                running += text_len(tail)
        bar = config.min_text_chars_short if tag in SHORT_BAR_TAGS else config.min_text_chars
        passes = running >= bar
        if passes:
            prose += running
        kept = passes or any_kept
        if kept and tag in ATOMIC_TAGS and pure:
            del self.drops[start:]
            del self.loose[loose_start:]
        elif kept:
            self.drops.extend(child for child, child_kept in block_children if not child_kept)
            if not passes and (running or phrasing_children):
                # Kept for its blocks only: its own short running text is a text element that fails.
                self.loose.append(
                    (element, [child for child, child_kept in phrasing_children if not child_kept])
                )
        if (
            (tag in BOILERPLATE_TAGS or element.keys())
            and element is not self.root
            and is_boilerplate(element, config.boilerplate_words)
        ):
            self.boilerplate.append((element, prose))
            pure = False
        return kept, running, prose, block, pure and tag not in ATOMIC_TAGS


def prune(body: Element, config: SimplifyConfig = DEFAULT_CONFIG) -> None:
    """Apply the boilerplate rules and the text rule to `body` (see the module docstring).

    Hidden nodes and copyright blocks are dropped. A header, footer or form is dropped unless it
    holds at least `wrapper_share` of the page's prose (the text of elements that pass the text
    rule) or `wrapper_prose_chars` of it: then it is a wrapper and only its tag goes. Every
    subtree holding no text element of >= `min_text_chars` (>= `min_text_chars_short` for lists,
    tables, spans) is dropped.
    Containers left with no text by these removals go too. Also enforces `max_depth`.
    """
    walk = _Walk(body, config)
    kept, _, page_prose, *_ = walk.visit(body, 0)
    if not kept:
        body.text = None
        body[:] = []
        return
    wrappers = []
    for element, prose in walk.boilerplate:
        if prose and (prose >= config.wrapper_share * page_prose or prose >= config.wrapper_prose_chars):
            wrappers.append(element)
        else:
            walk.drops.append(element)
    for element, phrasing in walk.loose:
        element.text = None
        for child in element:
            child.tail = None
        for child in phrasing:
            element.remove(child)
    drop_trees(walk.drops + walk.hidden)
    for element in wrappers:
        if is_attached(element, body):
            drop_tag(element)
    remove_empty(body)
