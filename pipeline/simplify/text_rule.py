"""The text rule: one bottom-up walk keeps the subtrees holding a text element (>= 128 characters, or 64).

The walk exists twice: `_Walk` in Python, and the same decisions compiled (`_walk.pyx`, see
`compiled`). `decide` uses the compiled one when it is in use; the tests check that both give
the same decisions on every real page and on generated trees.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from htlm.pipeline import reasons
from htlm.pipeline.simplify import compiled
from htlm.pipeline.simplify.boilerplate import (
    COPYRIGHT_HINTS,
    is_boilerplate,
    is_hidden,
    mentions_copyright,
)
from htlm.pipeline.simplify.config import (
    ATOMIC_PARTS,
    ATOMIC_TAGS,
    BOILERPLATE_ROLES,
    BOILERPLATE_TAGS,
    DEFAULT_CONFIG,
    DIALOG_ROLES,
    HEADING_TAGS,
    PHRASING_TAGS,
    RECALL_BOILERPLATE_TAGS,
    RECALL_BOILERPLATE_WORDS,
    RUN_TAGS,
    SHORT_BAR_TAGS,
    Element,
    RejectPage,
    SimplifyConfig,
)
from htlm.pipeline.simplify.tidy import is_attached, remove_empty
from htlm.pipeline.simplify.tree import WIDE_WEIGHT, drop_tag, text_len, text_of, weighted_text_len

if compiled.passes is not None:
    compiled.passes.configure(WIDE_WEIGHT, COPYRIGHT_HINTS)


class Decisions(NamedTuple):
    """What the walk decided for one body; `prune` applies it."""

    kept: bool  # the body holds a text element
    prose: int  # characters of the text elements that reach their bar, over the page
    drops: list[Element]  # subtrees failing the text rule, and copyright blocks
    hidden: list[Element]  # hidden subtrees, removed whatever their parent's fate
    loose: list[tuple[Element, list[Element]]]  # kept for its blocks: (element, its failing phrasing)
    boilerplate: list[tuple[Element, int]]  # (element, prose chars inside it)


def decide(body: Element, config: SimplifyConfig = DEFAULT_CONFIG) -> Decisions:
    """Run the text-rule walk over `body`: the compiled one when in use, else `_Walk`."""
    if compiled.in_use():
        decided = compiled.passes.decide(body, config, _callbacks(config), *_compiled_sets(config))
        if decided is not None:  # None: a node type only the Python walk models
            return Decisions(*decided)
    walk = _Walk(body, config)
    kept, _, prose, *_ = walk.visit(body, 0)
    return Decisions(kept, prose, walk.drops, walk.hidden, walk.loose, walk.boilerplate)


def prose_like(element: Element, config: SimplifyConfig) -> bool:
    """Recall mode: `element` has text, is no copyright notice, and at most `max_link_share` is link text."""
    text = text_of(element)
    chars = text_len(text)
    if not chars or (chars <= config.max_copyright_chars and mentions_copyright(text)):
        return False
    links = sum(text_len(text_of(link)) for link in element.iter("a"))
    return links <= config.max_link_share * chars


def boilerplate_sets(config: SimplifyConfig) -> tuple[frozenset[str], frozenset[str]]:
    """The class/id words and the tags that mark boilerplate in `config`'s mode."""
    recall = config.mode == "recall"
    words = config.boilerplate_words | (RECALL_BOILERPLATE_WORDS if recall else frozenset())
    return words, BOILERPLATE_TAGS | (RECALL_BOILERPLATE_TAGS if recall else frozenset())


class _Callbacks:
    """The exact checks the compiled walk asks Python for, bound to one config."""

    def __init__(self, config: SimplifyConfig) -> None:
        words, tags = boilerplate_sets(config)
        self.mentions_copyright = mentions_copyright
        self.is_boilerplate = functools.partial(is_boilerplate, words=words, tags=tags)
        self.max_depth = config.max_depth

    def reject_too_deep(self) -> RejectPage:
        return RejectPage(reasons.TOO_DEEP, f"depth > {self.max_depth}")


@functools.cache
def _callbacks(config: SimplifyConfig) -> _Callbacks:
    return _Callbacks(config)


@functools.cache
def _compiled_sets(config: SimplifyConfig) -> tuple:
    """The tag classes (bit, tags) and string sets the compiled `decide` takes, for `config`."""
    words, tags = boilerplate_sets(config)
    bits = compiled.passes.TAG_BITS
    tag_classes = (
        (bits["phrasing"], PHRASING_TAGS), (bits["short_bar"], SHORT_BAR_TAGS), (bits["atomic"], ATOMIC_TAGS),
        (bits["atomic_part"], ATOMIC_PARTS), (bits["run"], RUN_TAGS), (bits["heading"], HEADING_TAGS),
        (bits["boilerplate"], tags),
    )  # fmt: skip
    return tag_classes, DIALOG_ROLES, BOILERPLATE_ROLES, words


class _Walk:
    """One bottom-up walk deciding the boilerplate and text rules; `prune` then edits the tree."""

    def __init__(self, body: Element, config: SimplifyConfig) -> None:
        self.config = config
        self.root = body
        self.drops: list[Element] = []  # subtrees failing the text rule, or copyright blocks
        self.hidden: list[Element] = []  # hidden subtrees, removed whatever their parent's fate
        self.loose: list[tuple[Element, list[Element]]] = []  # short running text: (element, its phrasing)
        self.boilerplate: list[tuple[Element, int]] = []  # (element, prose chars inside it)
        self.measure = weighted_text_len if config.mode == "recall" else text_len
        self.boilerplate_words, self.boilerplate_tags = boilerplate_sets(config)
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
            chars = self.measure(text)
            if chars <= config.max_copyright_chars and mentions_copyright(text):
                return False, 0, 0, True, False  # a copyright block: its parent drops it
            if chars < self.lowest_bar:
                return False, 0 if block else chars, 0, block, True
        start, loose_start = len(self.drops), len(self.loose)
        measure = self.measure
        running = measure(element.text)
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
                running += measure(tail)
        bar = config.min_text_chars_short if tag in SHORT_BAR_TAGS else config.min_text_chars
        passes = running >= bar
        if passes and config.mode == "recall" and not prose_like(element, config):
            passes = False  # a menu or link list: long, but not text
        if passes:
            prose += running
        kept = passes or any_kept
        if kept and tag in ATOMIC_TAGS and pure:
            del self.drops[start:]
            del self.loose[loose_start:]
        elif kept:
            rescued = self._rescued(block_children) if config.mode == "recall" else ()
            self.drops.extend(
                child for child, child_kept in block_children if not child_kept and child not in rescued
            )
            if not passes and (running or phrasing_children):
                # Kept for its blocks only: its own short running text is a text element that fails.
                self.loose.append(
                    (element, [child for child, child_kept in phrasing_children if not child_kept])
                )
        if (
            (tag in self.boilerplate_tags or element.keys())
            and element is not self.root
            and is_boilerplate(element, self.boilerplate_words, self.boilerplate_tags)
        ):
            self.boilerplate.append((element, prose))
            pure = False
        return kept, running, prose, block, pure and tag not in ATOMIC_TAGS

    def _rescued(self, children: list[tuple[Element, bool]]) -> set[Element]:
        """Recall mode: the failing prose blocks that belong to the kept text around them.

        A short block of RUN_TAGS is kept when the nearest kept sibling before it and the nearest
        after it are reached through RUN_TAGS siblings only (it sits inside a run of prose), or
        when it is a heading directly followed by a kept sibling. Blocks that are mostly link text
        (menus, "related" lines) or carry a copyright notice are not rescued.
        """
        kept_before = []
        seen = False
        for child, kept in children:
            seen = kept or (seen and child.tag in RUN_TAGS)
            kept_before.append(seen)
        rescued = set()
        seen_after = False
        for index in range(len(children) - 1, -1, -1):
            child, kept = children[index]
            if not kept and child.tag in RUN_TAGS:
                before = index > 0 and kept_before[index - 1]
                heading_first = (
                    child.tag in HEADING_TAGS and index + 1 < len(children) and children[index + 1][1]
                )
                if ((before and seen_after) or heading_first) and prose_like(child, self.config):
                    rescued.add(child)
            seen_after = kept or (seen_after and child.tag in RUN_TAGS)
        return rescued


def prune(body: Element, config: SimplifyConfig = DEFAULT_CONFIG) -> None:
    """Apply the boilerplate rules and the text rule to `body` (see the module docstring).

    Hidden nodes and copyright blocks are dropped. A header, footer or form is dropped unless it
    holds at least `wrapper_share` of the page's prose (the text of elements that pass the text
    rule) or `wrapper_prose_chars` of it: then it is a wrapper and only its tag goes. Every
    subtree holding no text element of >= `min_text_chars` (>= `min_text_chars_short` for lists,
    tables, spans) is dropped.
    Containers left with no text by these removals go too. Also enforces `max_depth`.
    """
    decided = decide(body, config)
    if not decided.kept:
        body.text = None
        body[:] = []
        return
    wrappers = []
    drops = list(decided.drops)
    for element, prose in decided.boilerplate:
        if prose and (prose >= config.wrapper_share * decided.prose or prose >= config.wrapper_prose_chars):
            wrappers.append(element)
        else:
            drops.append(element)
    for element, phrasing in decided.loose:
        element.text = None
        for child in element:
            child.tail = None
        for child in phrasing:
            element.remove(child)
    compiled.drop_trees(drops + decided.hidden, body)
    for element in wrappers:
        if is_attached(element, body):
            drop_tag(element)
    remove_empty(body)
