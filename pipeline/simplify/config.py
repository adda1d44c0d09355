"""The simplifier's settings (the paper's numbers as defaults), tag classes, and its results."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.etree as etree

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

# Recall mode: blocks of running prose, whose short members still belong to the text around them.
RUN_TAGS = frozenset(
    ["p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "dl", "figure"]
)
HEADING_TAGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
MODES = ("paper", "recall")
MODE_HELP = (
    "'paper': HTLM's text rule, element by element (default); 'recall': the same output structure, but "
    "short prose blocks between kept ones are kept, menus and link lists are not, nav/aside/comment blocks "
    "go, and Han/kana/Hangul count 3 characters each (README: the MHTML rules)"
)
# Recall mode also drops these, by tag or by a class/id word (unless they hold most of the prose).
RECALL_BOILERPLATE_TAGS = frozenset(("nav", "aside"))
RECALL_BOILERPLATE_WORDS = frozenset(
    (
        "comment", "comments", "related", "sidebar", "nav", "navigation", "menu", "submenu", "share",
        "sharing", "social", "promo", "newsletter", "widget", "breadcrumb", "breadcrumbs",
        "recommended", "trending", "subscribe", "popular", "advert", "ads", "outbrain", "taboola",
    )
)  # fmt: skip

BOILERPLATE_TAGS = frozenset(("header", "footer", "form"))
BOILERPLATE_ROLES = frozenset(("banner", "contentinfo"))
DIALOG_ROLES = frozenset(("dialog", "alertdialog"))
BOILERPLATE_WORDS = frozenset(("header", "footer", "masthead", "copyright", "copyrights", "colophon"))

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
Element = etree._Element


@dataclass(frozen=True)
class SimplifyConfig:
    """The parameters of `simplify`; defaults are the paper's numbers where it gives one."""

    min_text_chars: int = 128  # bar for a text element (paper)
    min_text_chars_short: int = 64  # bar for lists, tables and spans (paper)
    min_text_ratio: float = 0.46  # text chars / MHTML chars must be greater (paper)
    keep_attributes: frozenset[str] = frozenset(("class", "id"))  # paper; CM3 adds e.g. href, alt
    max_input_chars: int = 4_000_000  # hostile-page guard
    max_depth: int = 200  # libxml2 flattens below depth 255; deeper pages are rejected
    wrapper_share: float = 0.5  # a header/footer/form with this share of the page's prose is unwrapped,
    wrapper_prose_chars: int = 1000  # ... and so is one holding this much prose
    max_copyright_chars: int = 200  # a copyright block is a short element mentioning it
    non_content_tags: tuple[str, ...] = NON_CONTENT_TAGS
    boilerplate_words: frozenset[str] = field(default=BOILERPLATE_WORDS)
    # "paper": the text rule per element. "recall": a short prose block (RUN_TAGS) that sits
    # between two kept siblings, or a heading right before one, is kept with them (see text_rule).
    mode: str = "paper"
    max_link_share: float = 0.5  # recall mode: a short block mostly made of link text is not rescued

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode={self.mode!r}: use one of {', '.join(MODES)}")


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


class RejectPage(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail
