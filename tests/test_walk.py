"""The compiled passes (`_walk.pyx`) do exactly what their pure-Python twins do.

The text-rule walk is compared decision by decision (which elements are dropped, hidden,
trimmed, boilerplate, in order) on every real page in both modes, and on generated trees full
of the cases the byte-level shortcuts must get right (copyright hints split by tags, non-ASCII
class names, wide characters, odd whitespace, control characters, hidden nodes, depth limits);
the passes after it by the whole simplifier's output on generated trees (and on every real
page in test_simplify_golden.py); the text measures on generated text.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator

import lxml.etree as etree
import pytest
from htlm.pipeline.simplify import simplify
from htlm.pipeline.simplify.config import BOILERPLATE_WORDS, CONTROL_CHARS, MODES, RejectPage, SimplifyConfig
from htlm.pipeline.simplify.tree import WIDE_CHARS, text_len, weighted_text_len
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_simplify_golden import real_pages

text_rule = importlib.import_module("htlm.pipeline.simplify.text_rule")
compiled = importlib.import_module("htlm.pipeline.simplify.compiled")
mhtml = importlib.import_module("htlm.pipeline.simplify.mhtml")
passes = compiled.passes


def test_the_compiled_walk_is_built_and_in_use() -> None:
    """`make install` builds it; without it simplify runs on, about 2x slower (README)."""
    assert passes is not None, f"the compiled passes did not import: {compiled.ERROR}"
    assert compiled.in_use()


@contextlib.contextmanager
def passes_of(walk: str) -> Iterator[None]:
    """Run the body with the compiled passes (`walk="compiled"`) or their Python twins (`"python"`)."""
    with pytest.MonkeyPatch.context() as patch:
        if walk == "python":
            patch.setenv(compiled.PURE_PYTHON_VARIABLE, "1")
        else:
            patch.delenv(compiled.PURE_PYTHON_VARIABLE, raising=False)
        assert compiled.in_use() == (walk == "compiled")
        yield


def decisions(body: etree._Element, config: SimplifyConfig, walk: str) -> object:
    """What `decide` returns with `walk`, elements named by their path (or the rejection)."""
    path = body.getroottree().getpath
    with passes_of(walk):
        try:
            kept, prose, drops, hidden, loose, boilerplate = text_rule.decide(body, config)
        except RejectPage as rejected:
            return ("rejected", rejected.reason, rejected.detail)
    return (
        kept,
        prose,
        [path(element) for element in drops],
        [path(element) for element in hidden],
        [(path(element), [path(child) for child in phrasing]) for element, phrasing in loose],
        [(path(element), chars) for element, chars in boilerplate],
    )


def both_walks(body: etree._Element, config: SimplifyConfig) -> tuple[object, object]:
    return decisions(body, config, "compiled"), decisions(body, config, "python")


def prepared_body(html: bytes | str, config: SimplifyConfig) -> etree._Element:
    """The body as `simplify` hands it to `prune`."""
    if isinstance(html, bytes):
        html = mhtml.decode_html(html, None)[0]
    body = mhtml.document_body(mhtml.parse(html))
    mhtml.remove_non_content(body, config)
    return body


@pytest.mark.parametrize("mode", MODES)
def test_same_decisions_on_every_real_page(mode: str) -> None:
    config = SimplifyConfig(mode=mode)
    differ = []
    for name, raw in real_pages().items():
        try:
            body = prepared_body(raw, config)
        except RejectPage:
            continue
        ours, theirs = both_walks(body, config)
        if ours != theirs:
            differ.append(name)
    assert differ == []


WORDS = ["lorem", "ipsum", "dolor", "sit", "amet", "All rights reserved", "Copy", "right", "©", "(c)",
         "2021", "文章", "記事です", "한국어", "\u00a0", "\u3000", "\u2028", "\x1c", "\t", "\n  ", " ",
         "ſhare", "\x01", "a\x0bb", "\x7f"]  # fmt: skip
TAGS = ["div", "p", "span", "a", "b", "li", "ul", "table", "tr", "td", "header", "footer", "nav", "aside",
        "h2", "section", "form", "blockquote", "pre", "br", "em"]  # fmt: skip
ATTRIBUTES = ['', ' class="header"', ' class="site-Nav"', ' id="comments"', ' class="ſhare"', ' hidden',
              ' role="dialog"', ' role="banner"', ' class="headline"', ' aria-modal="true"',
              ' class="HEADER x"', ' class="post"', ' id="footerNav"', ' class="Kolophon"',
              ' class="coo\u212aie-bar"', ' class=" two  words "', ' id="x\x01y"', ' class="\u3000"',
              ' style="color: red"', ' xml:lang="en"', ' class="x9Header"', ' class="HEADERbar"',
              f' class="{"a" * 70}-header"', ' id="" class=""']  # fmt: skip
# With "cookie" a boilerplate word, the Kelvin sign above lower-cases into it: only Python's test sees that.
EXTRA_WORDS = [frozenset(), frozenset(["cookie", "Header"])]  # a word with capitals never matches


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> str:
    """Random HTML: nested tags with attributes and text that exercise every rule."""
    parts = []
    for _ in range(draw(st.integers(0, 4 if depth < 5 else 0))):
        if draw(st.booleans()):
            words = draw(st.lists(st.sampled_from(WORDS), max_size=40))
            parts.append(" ".join(words) if draw(st.booleans()) else "".join(words))
        else:
            tag = draw(st.sampled_from(TAGS))
            attributes = draw(st.sampled_from(ATTRIBUTES))
            parts.append(f"<{tag}{attributes}>{draw(trees(depth + 1))}</{tag}>")
    return "".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    html=trees(),
    mode=st.sampled_from(MODES),
    bars=st.sampled_from([(128, 64), (12, 6), (40, 200)]),
    extra_words=st.sampled_from(EXTRA_WORDS),
)
def test_same_decisions_on_generated_trees(
    html: str, mode: str, bars: tuple[int, int], extra_words: frozenset[str]
) -> None:
    config = SimplifyConfig(
        mode=mode, min_text_chars=bars[0], min_text_chars_short=bars[1], max_depth=6,
        boilerplate_words=BOILERPLATE_WORDS | extra_words,
    )  # fmt: skip
    body = prepared_body(f"<html><body><div>{html}</div></body></html>", config)
    ours, theirs = both_walks(body, config)
    assert ours == theirs


@pytest.mark.parametrize("short_text", [True, False])
def test_too_deep_is_rejected_only_where_the_python_walk_reaches(short_text: bool) -> None:
    """Inside a subtree too short to hold a text element the depth is never looked at."""
    text = "word " * (5 if short_text else 400)
    html = f"<html><body>{'<div>' * 40}{text}{'</div>' * 40}<p>{'long text ' * 30}</p></body></html>"
    config = SimplifyConfig(max_depth=20)
    ours, theirs = both_walks(prepared_body(html, config), config)
    assert ours == theirs
    assert (ours[0] == "rejected") == (not short_text)


def test_a_comment_in_the_tree_falls_back_to_the_python_walk() -> None:
    config = SimplifyConfig()
    html = f"<html><body><p>{'some words ' * 20}</p><div>{'more ' * 40}</div></body></html>"
    body = prepared_body(html, config)
    body[1].append(etree.Comment(" left by a caller "))
    callbacks = text_rule._Callbacks(config)
    assert passes.decide(body, config, callbacks, *text_rule._compiled_sets(config)) is None
    ours, theirs = both_walks(body, config)
    assert ours == theirs and ours[0] is True


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60))
def test_text_measures_are_pythons(text: str) -> None:
    assert passes.text_measures(text) == (len(text), text_len(text), weighted_text_len(text))


def test_every_whitespace_and_wide_code_point_is_counted_as_python_does() -> None:
    spaces = "".join(chr(code) for code in range(1, sys.maxunicode + 1) if chr(code).isspace())
    assert passes.text_measures(f"a{spaces}b") == (len(spaces) + 2, 3, 3)
    for code in range(1, 0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        assert passes.wide_code_point(code) == bool(WIDE_CHARS.fullmatch(chr(code))), hex(code)


@pytest.mark.parametrize(
    "notice", ["© 2020", "Copyright 2020", "COPYRIGHT 2020", "All rights reserved", "ALL RIGHTS RESERVED",
               "(c) 2020", "(C) 2020", "Copy<b>right</b> 2020"],
)  # fmt: skip
def test_every_copyright_hint_is_anchored(notice: str) -> None:
    """Each hint holds an anchor character, so no notice is skipped by the byte test before the regex."""
    config = SimplifyConfig()
    html = f"<html><body><div><p>{'text ' * 40}</p><span id=n>x {notice}</span></div></body></html>"
    ours, theirs = both_walks(prepared_body(html, config), config)
    assert ours == theirs and any(path.endswith("span") for path in ours[2])


@pytest.mark.parametrize("extra_words", EXTRA_WORDS)
@pytest.mark.parametrize("attributes", ATTRIBUTES)
@pytest.mark.parametrize("mode", MODES)
def test_same_decisions_for_each_attribute(attributes: str, extra_words: frozenset[str], mode: str) -> None:
    """Hidden; boilerplate by tag, role or class/id word (camelCase, non-ASCII); on a block reached."""
    config = SimplifyConfig(mode=mode, boilerplate_words=BOILERPLATE_WORDS | extra_words)
    long = "some words of text " * 10
    html = f"<html><body><div><p>{long}</p><div{attributes}><p>{long}</p><a>x</a></div></div></body></html>"
    ours, theirs = both_walks(prepared_body(html, config), config)
    assert ours == theirs


def simplified(html: str, config: SimplifyConfig, walk: str) -> object:
    """`simplify`'s whole result with the compiled passes or without."""
    with passes_of(walk):
        return simplify(html, config)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html=trees(), mode=st.sampled_from(MODES), bars=st.sampled_from([(128, 64), (12, 6)]))
def test_same_output_on_generated_trees(html: str, mode: str, bars: tuple[int, int]) -> None:
    """The whole simplifier, every compiled pass (whitespace, attributes, folds, nesting, empties, text)."""
    config = SimplifyConfig(mode=mode, min_text_chars=bars[0], min_text_chars_short=bars[1], min_text_ratio=0)
    page = f"<html><body><div class=' a  b '><div id=i>{html}</div></div></body></html>"
    assert simplified(page, config, "compiled") == simplified(page, config, "python")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40))
def test_control_characters_are_found_as_the_regex_finds_them(text: str) -> None:
    assert passes.has_control_characters(text) == (CONTROL_CHARS.search(text) is not None)


def test_the_first_title_is_the_one_find_returns() -> None:
    for raw in list(real_pages().values())[:80]:
        root = mhtml.parse(mhtml.decode_html(raw, None)[0])
        assert passes.first_descendant(root, "title") is root.find(".//title")
    root = etree.fromstring("<html><body><p>no title</p></body></html>", etree.HTMLParser())
    assert passes.first_descendant(root, "title") is None


def test_the_pure_python_fallback_is_announced(monkeypatch) -> None:
    from htlm.pipeline.simplify.cli import Summary, format_summary

    assert compiled.fallback_note() == "" and "note:" not in format_summary(Summary(), 1.0, None)
    monkeypatch.setenv("HTLM_SIMPLIFY_PURE_PYTHON", "1")
    assert "HTLM_SIMPLIFY_PURE_PYTHON is set" in format_summary(Summary(), 1.0, None)
