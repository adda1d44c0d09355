"""After pruning: empty elements, attributes, nested-div folding, whitespace and nesting repairs.

Each pass runs compiled when the compiled passes are in use (`compiled`): the same rule, decided
on libxml2's nodes, with the rare structural edits still made here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import lxml.etree as etree
from htlm.pipeline.simplify import compiled
from htlm.pipeline.simplify.config import PHRASING_TAGS, Element
from htlm.pipeline.simplify.tree import (
    collapse,
    collapse_keep_edges,
    drop_tag,
    drop_trees,
    has_text,
    set_text,
)


def remove_empty(body: Element) -> None:
    """Remove elements left with no text and no children (shells of removed content), bottom-up.

    An element goes when it has no text of its own and every child goes with no text in its
    tail (a tail with text would move into it). Decided children first in one pass, then the
    top-most of those removed at once: linear in the page.
    """
    if compiled.in_use():
        compiled.drop_trees(compiled.passes.empty_elements(body), body)
        return
    descendants = list(body.iterdescendants())  # holds the proxies, so set membership is stable
    empty: set[Element] = set()
    for element in reversed(descendants):  # every element after all of its descendants
        if (
            element.tag != "br"
            and not has_text(element.text)
            and all(child in empty and not has_text(child.tail) for child in element)
        ):
            empty.add(element)
    drop_trees(element for element in descendants if element in empty and element.getparent() not in empty)


def is_attached(element: Element, body: Element) -> bool:
    return any(ancestor is body for ancestor in element.iterancestors())


def strip_attributes(body: Element, keep: Collection[str]) -> None:
    """Keep only the attributes named in `keep` (by default `class` and `id`), whitespace-collapsed."""
    if compiled.in_use() and not any(name.startswith("{") for name in keep):
        compiled.passes.strip_attributes(body, keep, compiled.Callbacks)
        return
    for element in body.iter(etree.Element):
        attrib = element.attrib
        for name in list(attrib):
            if name not in keep:
                del attrib[name]
            else:
                value = collapse(attrib[name])
                if value:
                    attrib[name] = value
                else:
                    del attrib[name]


def fold_divs(body: Element) -> None:
    """Fold each chain of directly nested <div>s (nothing else between them) into one <div>.

    The folded <div> carries the union of the class words, and the outermost id (an element can
    hold only one id; inner ids are dropped).
    """
    divs: Iterable[Element] = (
        compiled.passes.fold_candidates(body) if compiled.in_use() else list(body.iter("div"))
    )
    for div in divs:
        while len(div) == 1 and div[0].tag == "div" and not has_text(div.text) and not has_text(div[0].tail):
            inner = div[0]
            classes = _merge_words(div.get("class"), inner.get("class"))
            if classes:
                div.set("class", classes)
            if inner.get("id") and not div.get("id"):
                div.set("id", inner.get("id"))
            drop_tag(inner)


def _merge_words(first: str | None, second: str | None) -> str:
    words = (first or "").split() + (second or "").split()
    return " ".join(dict.fromkeys(words))


def normalize_whitespace(body: Element) -> None:
    """Collapse whitespace runs to one space and trim it at block boundaries (not inside <pre>)."""
    if compiled.in_use():
        compiled.passes.normalize_whitespace(body, _phrasing_class(), compiled.Callbacks)
        return
    preformatted = {node for pre in body.iter("pre") for node in pre.iter()}
    for element in body.iter(etree.Element):
        if element in preformatted:
            continue
        block = element.tag not in PHRASING_TAGS
        if element.text is not None:
            text = collapse_keep_edges(element.text)
            if block:
                text = text.lstrip()
                if len(element) == 0 or element[0].tag not in PHRASING_TAGS:
                    text = text.rstrip()
            elif len(element) and element[0].tag not in PHRASING_TAGS:
                text = text.rstrip()
            set_text(element, "text", text)
        if element.tail is not None and element is not body:
            tail = collapse_keep_edges(element.tail)
            following = element.getnext()
            if block:
                tail = tail.lstrip()
            if following is None:
                if element.getparent().tag not in PHRASING_TAGS:
                    tail = tail.rstrip()
            elif following.tag not in PHRASING_TAGS:
                tail = tail.rstrip()
            set_text(element, "tail", tail)


def repair_nesting(body: Element) -> None:
    """Rename or unwrap elements whose nesting an HTML parser would silently change on re-parse.

    A <p> holding block content would be closed early, so it becomes a <div>; a link inside a
    link loses its inner tag.
    """
    if compiled.in_use():
        paragraphs, nested_links = compiled.passes.nesting_repairs(body, _phrasing_class())
    else:
        paragraphs = [
            paragraph
            for paragraph in body.iter("p")
            if any(child.tag not in PHRASING_TAGS for child in paragraph.iterdescendants())
        ]
        nested_links = body.xpath(".//a[ancestor::a]")
    for paragraph in paragraphs:
        paragraph.tag = "div"
    for link in nested_links:
        drop_tag(link)


def _phrasing_class() -> tuple[tuple[int, frozenset[str]], ...]:
    """The one tag class the compiled passes here need, as (bit, tags)."""
    return ((compiled.passes.TAG_BITS["phrasing"], PHRASING_TAGS),)
