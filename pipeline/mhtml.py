"""The Minimal-HTML (MHTML) simplifier of HTLM (Aghajanyan et al., 2021, §2.1).

`simplify(html)` turns one raw page into MHTML or says why it cannot. Each rule of the
paper is a named step below, with the paper's numbers as the defaults of `SimplifyConfig`:

1. `remove_non_content`   scripts, styles, media, form controls, iframes (C-level strip).
2. boilerplate            headers, footers, copyright blocks, forms, dialogs and hidden nodes
                          (`is_boilerplate`, `is_hidden`, `mentions_copyright`). A header, footer
                          or form that holds most of the page's text is unwrapped instead of
                          dropped: ASP.NET wraps whole pages in one <form>, some sites put the
                          article inside one <header>.
3. the text rule          drop every subtree that holds no text element of >= 128 characters
                          (>= 64 for lists, tables and spans).
   Steps 2 and 3 are decided in one bottom-up walk (`prune`), the only pass in Python over the
   whole tree, and then applied.
4. `strip_attributes`     keep only `class` and `id` (a parameter).
5. `fold_divs`            fold chains of directly nested <div>s into one with merged attributes.
6. `normalize_whitespace` and `repair_nesting`, so the output re-parses to the same tree.
7. the text/HTML ratio (> 0.46) and language checks.

How "text element" is read: the text of an element is its running text — its own text
nodes plus the full text of its phrasing (inline) children such as <a>, <b>, <em>, <span>,
measured after collapsing whitespace. Block children (<p>, <div>, <li>, ...) are elements
of their own. A subtree is kept when its root's running text reaches the root's bar
(64 for ul/ol/dl/li/dt/dd/table parts/span, 128 otherwise) or any child subtree is kept.
Phrasing children of a kept element are part of its text and never pruned apart from it.
A list or table whose items hold only phrasing content is kept or dropped whole, so a kept
table never loses cells and a kept list never loses items.

Pure: lxml only, no Beam or fairseq, so it runs the same in a notebook, a test or a worker.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from dataclasses import dataclass, field

import lxml.etree as etree
from htlm.pipeline import reasons
from htlm.pipeline.charset import UndecodableError, decode_html

# Elements that are never content.
NON_CONTENT_TAGS = (
    "script", "style", "noscript", "template", "svg", "math", "iframe", "frame", "frameset",
    "object", "embed", "applet", "canvas", "img", "picture", "video", "audio", "source", "track",
    "map", "area", "input", "button", "select", "option", "optgroup", "textarea", "datalist",
    "output", "progress", "meter", "dialog", "link", "meta", "base", "param", "noembed", "noframes",
)  # fmt: skip

# Phrasing (inline) content: part of the running text of the element that holds it.
PHRASING_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "big",
        "br",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "ins",
        "kbd",
        "label",
        "mark",
        "nobr",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "time",
        "tt",
        "u",
        "var",
        "wbr",
    ]
)

# Roots whose bar is the lower one: lists, tables, spans.
SHORT_BAR_TAGS = frozenset(
    [
        "ul",
        "ol",
        "dl",
        "li",
        "dt",
        "dd",
        "menu",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "caption",
        "span",
    ]
)

# Containers kept whole when their items hold only phrasing content.
ATOMIC_TAGS = frozenset(["ul", "ol", "dl", "menu", "table"])
ATOMIC_PARTS = frozenset(
    ["li", "dt", "dd", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col"]
)

BOILERPLATE_TAGS = frozenset(("header", "footer", "form"))
BOILERPLATE_ROLES = frozenset(("banner", "contentinfo"))
DIALOG_ROLES = frozenset(("dialog", "alertdialog"))
BOILERPLATE_WORDS = frozenset(("header", "footer", "masthead", "copyright", "copyrights", "colophon"))
_COPYRIGHT = re.compile(r"©|\(c\)\s*\d{4}|copyright\s*(?:©|\(c\)|\d{4})|all rights reserved", re.IGNORECASE)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
Element = etree._Element


@dataclass(frozen=True)
class SimplifyConfig:
    """The parameters of `simplify`; defaults are the paper's numbers where it gives one."""

    min_text_chars: int = 128  # bar for a text element (paper)
    min_text_chars_short: int = 64  # bar for lists, tables and spans (paper)
    min_text_ratio: float = 0.46  # text chars / MHTML chars must be greater (paper)
    keep_attributes: frozenset[str] = frozenset(("class", "id"))  # paper; CM3 adds e.g. href, alt
    langs: Collection[str] | None = None  # None keeps every language; the paper kept {"en"}
    max_input_chars: int = 4_000_000  # hostile-page guard
    max_depth: int = 200  # libxml2 flattens below depth 255; deeper pages are rejected
    wrapper_share: float = 0.5  # a header/footer/form with this share of the page's prose is unwrapped,
    wrapper_prose_chars: int = 1000  # ... and so is one holding this much prose
    max_copyright_chars: int = 200  # a copyright block is a short element mentioning it
    non_content_tags: tuple[str, ...] = NON_CONTENT_TAGS
    boilerplate_words: frozenset[str] = field(default=BOILERPLATE_WORDS)


DEFAULT_CONFIG = SimplifyConfig()


@dataclass(frozen=True)
class MHTML:
    """A simplified page: the MHTML string and the measurements the filters use."""

    html: str
    title: str
    lang: str
    text_chars: int
    mhtml_chars: int
    input_chars: int
    text: str  # the body's text, whitespace-collapsed: for language ID and dedup

    @property
    def text_ratio(self) -> float:
        return self.text_chars / self.mhtml_chars if self.mhtml_chars else 0.0


@dataclass(frozen=True)
class Rejection:
    """Why a page produced no MHTML: one name from `htlm.pipeline.reasons` and a detail."""

    reason: str
    detail: str = ""


class _Reject(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def simplify(html: bytes | str, config: SimplifyConfig = DEFAULT_CONFIG) -> MHTML | Rejection:
    """Simplify one raw HTML page into Minimal HTML, or return the `Rejection` saying why not.

    Bytes are decoded with the project's charset rules (BOM, `<meta>`, detection). Never
    raises on any input: every failure becomes a named rejection, so callers can count it.
    """
    try:
        return _simplify(html, config)
    except _Reject as rejected:
        return Rejection(rejected.reason, rejected.detail)
    except (etree.LxmlError, ValueError, RecursionError) as error:
        return Rejection(reasons.PARSE_ERROR, f"{type(error).__name__}: {error}"[:300])


def _simplify(html: bytes | str, config: SimplifyConfig) -> MHTML:
    if isinstance(html, bytes):
        if len(html) > config.max_input_chars:
            raise _Reject(reasons.TOO_LARGE, f"{len(html)} bytes > {config.max_input_chars}")
        try:
            html = decode_html(html, None)[0]
        except UndecodableError as error:
            raise _Reject(reasons.DECODE_ERROR, str(error)) from None
    input_chars = len(html)
    if input_chars > config.max_input_chars:
        raise _Reject(reasons.TOO_LARGE, f"{input_chars} characters > {config.max_input_chars}")

    root = parse(html)
    lang = document_lang(root)
    if config.langs is not None and lang.split("-")[0] not in config.langs:
        raise _Reject(reasons.LANG, f"lang={lang or 'missing'}")
    title = document_title(root)
    body = document_body(root)

    remove_non_content(body, config)
    prune(body, config)
    strip_attributes(body, config.keep_attributes)
    fold_divs(body)
    normalize_whitespace(body)
    repair_nesting(body)

    if len(body) == 0 and not (body.text or "").strip():
        raise _Reject(reasons.EMPTY_AFTER_SIMPLIFY, "no text element survived")
    document = build_document(body, title, lang)
    document, out = stable_serialization(document)
    text = _collapse(_text_of(document.find("body")))
    text_chars = len(_collapse(title)) + len(text)
    ratio = text_chars / len(out)
    if ratio <= config.min_text_ratio:
        raise _Reject(reasons.LOW_TEXT_RATIO, f"text/html={ratio:.3f} <= {config.min_text_ratio}")
    return MHTML(out, title, lang, text_chars, len(out), input_chars, text)


def parse(html: str) -> Element:
    """Parse a page with lxml's forgiving HTML parser, comments and PIs dropped.

    lxml refuses a str that starts with `<?xml ... encoding=...?>`, so that declaration is cut.
    IE conditional comments are comments to libxml2 and go with them; the downlevel-revealed
    markers (`<![if !IE]>`, `<![endif]>`) are dropped by the parser (tested).
    """
    html = _XML_DECL.sub("", html, count=1)
    if not html.strip():
        raise _Reject(reasons.EMPTY_AFTER_SIMPLIFY, "empty document")
    try:
        root = etree.fromstring(html, parser=_PARSER)
    except etree.ParserError as error:
        raise _Reject(reasons.PARSE_ERROR, str(error)) from None
    if root is None:
        raise _Reject(reasons.PARSE_ERROR, "no document element")
    return root


def document_lang(root: Element) -> str:
    """The root's `lang` (or `xml:lang`), lower-cased, e.g. `en-us`; empty when missing."""
    lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    return _collapse(lang).lower().replace("_", "-")


def document_title(root: Element) -> str:
    """The text of the first <title>, whitespace-collapsed (prompts rely on it)."""
    title = root.find(".//title")
    return _collapse(_text_of(title)) if title is not None else ""


def document_body(root: Element) -> Element:
    """The <body>, created from whatever content sits outside <head> when a page has none."""
    body = root.find("body")
    if body is not None:
        return body
    body = etree.Element("body")
    for child in list(root):
        if child.tag != "head":
            body.append(child)
    root.append(body)
    return body


def remove_non_content(body: Element, config: SimplifyConfig) -> None:
    """Drop the elements that are never content (scripts, styles, media, form controls, ...)."""
    etree.strip_elements(body, *config.non_content_tags, with_tail=False)


def is_hidden(element: Element) -> bool:
    """A node the reader never sees: `hidden`, an open dialog (`role=dialog`, `aria-modal`)."""
    return (
        element.get("hidden") is not None
        or element.get("role") in DIALOG_ROLES
        or element.get("aria-modal") == "true"
    )


def is_boilerplate(element: Element, words: frozenset[str] = BOILERPLATE_WORDS) -> bool:
    """A header, footer or form: by tag, by ARIA role (banner, contentinfo), or by a class/id word.

    Words are matched whole after splitting on punctuation and camelCase, so `site-header`,
    `footerNav` and `copyright_bar` match while `headline` or `subheading` do not.
    """
    if element.tag in BOILERPLATE_TAGS or element.get("role") in BOILERPLATE_ROLES:
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

    Cheap substring tests run on every text node (or-chained: faster than a regex or any());
    the regex only on the few that pass them.
    """
    if not text:
        return False
    hinted = (
        "©" in text or "opyright" in text or "OPYRIGHT" in text or "ights " in text or "IGHTS " in text
        or "(c)" in text or "(C)" in text
    )  # fmt: skip
    return hinted and _COPYRIGHT.search(text) is not None


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
            raise _Reject(reasons.TOO_DEEP, f"depth > {config.max_depth}")
        tag = element.tag
        block = tag not in PHRASING_TAGS
        text = _text_of(element) if len(element) else element.text
        if text is None or len(text) <= self.short_raw_chars:
            chars = _text_len(text)
            if chars <= config.max_copyright_chars and mentions_copyright(text):
                return False, 0, 0, True, False  # a copyright block: its parent drops it
            if chars < self.lowest_bar:
                return False, 0 if block else chars, 0, block, True
        start, loose_start = len(self.drops), len(self.loose)
        running = _text_len(element.text)
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
                running += _text_len(tail)
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
    for element in walk.drops + walk.hidden:
        if element.getparent() is not None:
            _drop_tree(element)
    for element in wrappers:
        if _is_attached(element, body):
            _drop_tag(element)
    remove_empty(body)


def remove_empty(body: Element) -> None:
    """Remove elements left with no text and no children (shells of removed content), bottom-up."""
    for element in list(body.iterdescendants()):
        if element.tag != "br" and len(element) == 0 and not _has_text(element.text):
            parent = element.getparent()
            _drop_tree(element)
            while (
                parent is not None and parent is not body and len(parent) == 0 and not _has_text(parent.text)
            ):
                grandparent = parent.getparent()
                _drop_tree(parent)
                parent = grandparent


def _is_attached(element: Element, body: Element) -> bool:
    return any(ancestor is body for ancestor in element.iterancestors())


def strip_attributes(body: Element, keep: Collection[str]) -> None:
    """Keep only the attributes named in `keep` (by default `class` and `id`), whitespace-collapsed."""
    for element in body.iter(etree.Element):
        attrib = element.attrib
        for name in list(attrib):
            if name not in keep:
                del attrib[name]
            else:
                value = _collapse(attrib[name])
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
        while (
            len(div) == 1 and div[0].tag == "div" and not _has_text(div.text) and not _has_text(div[0].tail)
        ):
            inner = div[0]
            classes = _merge_words(div.get("class"), inner.get("class"))
            if classes:
                div.set("class", classes)
            if inner.get("id") and not div.get("id"):
                div.set("id", inner.get("id"))
            _drop_tag(inner)


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
            text = _collapse_keep_edges(element.text)
            if block:
                text = text.lstrip()
                if len(element) == 0 or element[0].tag not in PHRASING_TAGS:
                    text = text.rstrip()
            elif len(element) and element[0].tag not in PHRASING_TAGS:
                text = text.rstrip()
            _set_text(element, "text", text)
        if element.tail is not None and element is not body:
            tail = _collapse_keep_edges(element.tail)
            following = element.getnext()
            if block:
                tail = tail.lstrip()
            if following is None:
                if element.getparent().tag not in PHRASING_TAGS:
                    tail = tail.rstrip()
            elif following.tag not in PHRASING_TAGS:
                tail = tail.rstrip()
            _set_text(element, "tail", tail)


def repair_nesting(body: Element) -> None:
    """Rename or unwrap elements whose nesting an HTML parser would silently change on re-parse.

    A <p> holding block content would be closed early, so it becomes a <div>; a link inside a
    link loses its inner tag.
    """
    for paragraph in body.iter("p"):
        if any(child.tag not in PHRASING_TAGS for child in paragraph.iterdescendants()):
            paragraph.tag = "div"
    for link in body.xpath(".//a[ancestor::a]"):
        _drop_tag(link)


def stable_serialization(document: Element, max_rounds: int = 3) -> tuple[Element, str]:
    """Serialize `document` so that parsing the output gives back the same tree.

    `repair_nesting` fixes the common cases up front; HTML parsers also auto-close some inline
    elements around blocks (`<b><p>`), so the output is re-parsed until it is a fixed point.
    Control characters, which do not survive a round trip, are removed from the output here,
    once, rather than from every text node.
    """
    out = etree.tostring(document, encoding="unicode", method="html")
    if _CONTROL.search(out):
        out = _CONTROL.sub("", out)
        document = etree.fromstring(out, parser=_PARSER)
        out = etree.tostring(document, encoding="unicode", method="html")
    for _ in range(max_rounds):
        reparsed = etree.fromstring(out, parser=_PARSER)
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


def _collapse(text: str | None) -> str:
    return " ".join(_CONTROL.sub("", text).split()) if text else ""


def _collapse_keep_edges(text: str) -> str:
    """Collapse whitespace runs to one space, keeping one at either edge if there was one there."""
    core = " ".join(text.split())
    if not core:
        return " " if text else ""
    return f"{' ' if text[0].isspace() else ''}{core}{' ' if text[-1].isspace() else ''}"


def _set_text(element: Element, slot: str, text: str) -> None:
    try:
        setattr(element, slot, text or None)
    except ValueError:  # lxml refuses control characters; rare enough to clean only on failure
        setattr(element, slot, _CONTROL.sub("", text) or None)


def _text_len(text: str | None) -> int:
    """Characters of `text` once whitespace runs are collapsed and the ends stripped."""
    if not text:
        return 0
    words = text.split()
    return sum(map(len, words)) + len(words) - 1 if words else 0


def _text_of(element: Element) -> str:
    return etree.tostring(element, method="text", encoding="unicode", with_tail=False)


def _drop_tree(element: Element) -> None:
    """Remove `element` and its subtree, keeping its tail text where it was."""
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _drop_tag(element: Element) -> None:
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


def _has_text(text: str | None) -> bool:
    return bool(text and text.strip())
