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
7. the text/HTML ratio (> 0.46). The language is the filters' decision, not the simplifier's
   (`htlm.pipeline.filters.language`): `MHTML.lang` is only what the page declares.

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

import re

import lxml.etree as etree
from htlm.pipeline import reasons
from htlm.pipeline.reading.charset import UndecodableError, decode_html
from htlm.pipeline.simplify import compiled
from htlm.pipeline.simplify.boilerplate import remove_non_content
from htlm.pipeline.simplify.config import (
    DEFAULT_CONFIG,
    MHTML,
    PARSER,
    Element,
    Rejection,
    RejectPage,
    SimplifyConfig,
)
from htlm.pipeline.simplify.serialize import build_document, stable_serialization
from htlm.pipeline.simplify.text_rule import prune
from htlm.pipeline.simplify.tidy import fold_divs, normalize_whitespace, repair_nesting, strip_attributes
from htlm.pipeline.simplify.tree import collapse, text_of

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def simplify(html: bytes | str, config: SimplifyConfig = DEFAULT_CONFIG) -> MHTML | Rejection:
    """Simplify one raw HTML page into Minimal HTML, or return the `Rejection` saying why not.

    Bytes are decoded with the project's charset rules (BOM, `<meta>`, detection). Never
    raises on any input: every failure becomes a named rejection, so callers can count it.
    """
    try:
        return _simplify(html, config)
    except RejectPage as rejected:
        return Rejection(rejected.reason, rejected.detail)
    except (etree.LxmlError, ValueError, RecursionError) as error:
        return Rejection(reasons.PARSE_ERROR, f"{type(error).__name__}: {error}"[:300])


def _simplify(html: bytes | str, config: SimplifyConfig) -> MHTML:
    if isinstance(html, bytes):
        if len(html) > config.max_input_chars:
            raise RejectPage(reasons.PAGE_TOO_LARGE, f"{len(html)} bytes > {config.max_input_chars}")
        try:
            html = decode_html(html, None)[0]
        except UndecodableError as error:
            raise RejectPage(reasons.DECODE_ERROR, str(error)) from None
    input_chars = len(html)
    if input_chars > config.max_input_chars:
        raise RejectPage(reasons.PAGE_TOO_LARGE, f"{input_chars} characters > {config.max_input_chars}")

    root = parse(html)
    lang = document_lang(root)
    title = document_title(root)
    body = document_body(root)

    remove_non_content(body, config)
    prune(body, config)
    strip_attributes(body, config.keep_attributes)
    fold_divs(body)
    normalize_whitespace(body)
    repair_nesting(body)

    if len(body) == 0 and not (body.text or "").strip():
        raise RejectPage(reasons.EMPTY_AFTER_SIMPLIFY, "no text element survived")
    document = build_document(body, title, lang)
    document, out = stable_serialization(document)
    text = body_text(document.find("body"))
    text_chars = len(collapse(title)) + len(text)
    ratio = text_chars / len(out)
    if ratio <= config.min_text_ratio:
        raise RejectPage(reasons.LOW_TEXT_RATIO, f"text/html={ratio:.3f} <= {config.min_text_ratio}")
    return MHTML(out, title, lang, text_chars, len(out), input_chars, text)


def body_text(body: Element) -> str:
    """The body's text, whitespace-collapsed (compiled when the compiled passes are in use)."""
    return compiled.passes.collapsed_text(body) if compiled.in_use() else collapse(text_of(body))


def parse(html: str) -> Element:
    """Parse a page with lxml's forgiving HTML parser, comments and PIs dropped.

    lxml refuses a str that starts with `<?xml ... encoding=...?>`, so that declaration is cut.
    IE conditional comments are comments to libxml2 and go with them; the downlevel-revealed
    markers (`<![if !IE]>`, `<![endif]>`) are dropped by the parser (tested).
    """
    html = _XML_DECL.sub("", html, count=1)
    if not html.strip():
        raise RejectPage(reasons.EMPTY_AFTER_SIMPLIFY, "empty document")
    try:
        root = etree.fromstring(html, parser=PARSER)
    except etree.ParserError as error:
        raise RejectPage(reasons.PARSE_ERROR, str(error)) from None
    too_deep = _parser_depth_error(PARSER.error_log)
    if too_deep is not None:
        raise RejectPage(reasons.TOO_DEEP, f"the parser stopped at the nesting limit: {too_deep}")
    if root is None:
        raise RejectPage(reasons.PARSE_ERROR, "no document element")
    return root


def _parser_depth_error(log: etree._ListErrorLog) -> str | None:
    """libxml2's message when it stopped parsing at its nesting limit (depth 256), else None.

    It gives up there and the rest of the page is lost, so the page must count as too deep, not
    as one whose text did not survive."""
    for entry in log:
        if "Excessive depth" in entry.message:
            return entry.message.strip()
    return None


def document_lang(root: Element) -> str:
    """The root's `lang` (or `xml:lang`), lower-cased, e.g. `en-us`; empty when missing."""
    lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    return collapse(lang).lower().replace("_", "-")


def document_title(root: Element) -> str:
    """The text of the first <title>, whitespace-collapsed (prompts rely on it)."""
    if compiled.in_use():
        title = compiled.passes.first_descendant(root, "title")
        return compiled.passes.collapsed_text(title) if title is not None else ""
    title = root.find(".//title")
    return collapse(text_of(title)) if title is not None else ""


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
