"""The output document, serialised until it re-parses to itself."""

from __future__ import annotations

import lxml.etree as etree
from htlm.pipeline.simplify import compiled
from htlm.pipeline.simplify.config import CONTROL_CHARS, PARSER, Element


def stable_serialization(document: Element, max_rounds: int = 3) -> tuple[Element, str]:
    """Serialize `document` so that parsing the output gives back the same tree.

    `repair_nesting` fixes the common cases up front; HTML parsers also auto-close some inline
    elements around blocks (`<b><p>`), so the output is re-parsed until it is a fixed point.
    Control characters, which do not survive a round trip, are removed from the output here,
    once, rather than from every text node.
    """
    out = etree.tostring(document, encoding="unicode", method="html")
    if _has_control_characters(out):
        out = CONTROL_CHARS.sub("", out)
        document = etree.fromstring(out, parser=PARSER)
        out = etree.tostring(document, encoding="unicode", method="html")
    for _ in range(max_rounds):
        reparsed = etree.fromstring(out, parser=PARSER)
        again = etree.tostring(reparsed, encoding="unicode", method="html")
        if again == out:
            break
        document, out = reparsed, again
    return document, out


def build_document(body: Element, title: str, lang: str) -> Element:
    """Assemble `<html lang><head><title/></head><body/></html>` around the simplified body."""
    document = etree.Element("html")
    if lang:
        document.set("lang", lang)
    head = etree.SubElement(document, "head")
    if title:
        etree.SubElement(head, "title").text = title
    body.tail = None
    body.attrib.clear()
    document.append(body)
    return document


def _has_control_characters(text: str) -> bool:
    if compiled.in_use():
        return compiled.passes.has_control_characters(text)
    return CONTROL_CHARS.search(text) is not None
