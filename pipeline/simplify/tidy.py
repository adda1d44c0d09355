"""After pruning: empty elements, attributes, nested-div folding, whitespace and nesting repairs."""

from __future__ import annotations

from collections.abc import Collection

import lxml.etree as etree
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
    for div in list(body.iter("div")):
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
    for paragraph in body.iter("p"):
        if any(child.tag not in PHRASING_TAGS for child in paragraph.iterdescendants()):
            paragraph.tag = "div"
    for link in body.xpath(".//a[ancestor::a]"):
        drop_tag(link)
