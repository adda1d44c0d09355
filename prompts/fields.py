"""Input values as what a placeholder inserts, in units a too-long input is cut by.

`text` fields are strings, cut by words and escaped when the template is rendered. `table`
fields are rows (a list of lists, the first the header) or a mapping (two columns), written
as an HTML table with every cell escaped and cut by rows. `page` fields are raw HTML pages,
reduced to their MHTML body by the project's simplifier (the one the training data went
through) and cut by top-level blocks. Units always join back into well-formed markup, so a
cut never leaves a tag open.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from htlm.pipeline.simplify import MHTML, SimplifyConfig, simplify
from lxml import etree
from lxml import html as lxml_html

# Prompting wants the page's content even when a crawl filter would drop it.
PROMPT_SIMPLIFY = SimplifyConfig(min_text_ratio=0.0)
MAX_VALUE_CHARS = 1_000_000
WORDS = re.compile(r"\s*\S+")
BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL)
MASK_TAGS = re.compile(r"</?mask\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class FieldValue:
    """A value as `head + ''.join(units[:k]) + tail`, for any number k of units kept."""

    head: str
    units: tuple[str, ...]
    tail: str

    def text(self, keep: int | None = None) -> str:
        return self.head + "".join(self.units[:keep]) + self.tail


def field_value(kind: str, value: Any) -> FieldValue:
    """`value` as a field of `kind`; ValueError says what is wrong with it (for the row's error)."""
    if value is None:
        raise ValueError("is null")
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        raise ValueError(f"has {len(value):,} characters; at most {MAX_VALUE_CHARS:,}")
    if kind == "text":
        if isinstance(value, dict | list):
            raise ValueError("is not a string")
        return FieldValue("", tuple(WORDS.findall(str(value))), "")
    if kind == "table":
        return table_value(value)
    if kind == "page":
        if not isinstance(value, str):
            raise ValueError("a page field holds the page's HTML as a string")
        return page_value(value)
    raise ValueError(f"unknown field kind {kind!r}")


def table_value(value: Any) -> FieldValue:
    """Rows (a list of lists, the first the header) or a mapping as an HTML table, cells escaped."""
    if isinstance(value, Mapping):
        header: list[str] = []
        rows = [[str(key), _cell(cell)] for key, cell in value.items()]
    elif isinstance(value, list) and value and all(isinstance(row, list) for row in value):
        header, rows = (
            [_cell(cell) for cell in value[0]],
            [[_cell(cell) for cell in row] for row in value[1:]],
        )
    else:
        raise ValueError("a table is a list of rows (lists) or a mapping")
    head = "<table>" + (_row("th", header) if header else "")
    return FieldValue(head, tuple(_row("td", row) for row in rows), "</table>")


def _row(tag: str, cells: list[str]) -> str:
    return "<tr>" + "".join(f"<{tag}>{html.escape(cell, quote=False)}</{tag}>" for cell in cells) + "</tr>"


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        raise ValueError("a table cell must be a string or a number")
    return "" if value is None else str(value)


def page_value(page: str) -> FieldValue:
    """The MHTML body of a raw page, as its top-level blocks; ValueError if the simplifier rejects it."""
    result = simplify(page, PROMPT_SIMPLIFY)
    if not isinstance(result, MHTML):
        detail = f": {result.detail}" if result.detail else ""
        raise ValueError(f"the simplifier rejected the page ({result.reason}{detail})")
    body = lxml_html.fromstring(result.html).find("body")
    if body is None:
        return FieldValue("", (), "")
    blocks = [html.escape(body.text, quote=False)] if body.text and body.text.strip() else []
    blocks += [etree.tostring(child, encoding="unicode", method="html") for child in body]
    # an element named <mask> in the page would read as a mask slot: keep its text only
    return FieldValue("", tuple(MASK_TAGS.sub("", block) for block in blocks), "")
