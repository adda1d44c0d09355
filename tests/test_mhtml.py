"""The MHTML simplifier: one test per rule on small handmade pages, plus properties and traps."""

from __future__ import annotations

import lxml.etree as etree
import pytest
from htlm.pipeline import reasons
from htlm.pipeline.simplify import MHTML, Rejection, SimplifyConfig, simplify
from htlm.pipeline.simplify.boilerplate import is_boilerplate, mentions_copyright
from htlm.pipeline.simplify.config import NON_CONTENT_TAGS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LONG = (
    "The committee met on Tuesday to discuss the annual budget, which grew by four percent "
    "after a long debate about schools, roads and the new public library downtown."
)  # 160 characters: a text element that passes the 128 bar
MEDIUM = "Ninety-one apples, forty pears and a dozen plums for the market."  # 64..127 characters
SHORT = "Read more"
NO_RATIO = SimplifyConfig(min_text_ratio=0.0)


def page(body: str, head: str = "<title>A page</title>", lang: str = "en") -> str:
    return f'<!DOCTYPE html><html lang="{lang}"><head>{head}</head><body>{body}</body></html>'


def mhtml(html: str | bytes, config: SimplifyConfig = NO_RATIO) -> MHTML:
    result = simplify(html, config)
    assert isinstance(result, MHTML), result
    return result


def body_of(result: MHTML) -> etree._Element:
    return etree.fromstring(result.html, etree.HTMLParser()).find("body")


def test_lengths_of_fixtures() -> None:
    assert len(LONG) >= 128 and 64 <= len(MEDIUM) < 128 and len(SHORT) < 64


# --- rule: drop subtrees without a text element of >= 128 (>= 64 for lists, tables, spans) ---


def test_long_paragraph_kept_short_siblings_dropped() -> None:
    result = mhtml(page(f"<div><p>{LONG}</p><p>{SHORT}</p></div><div><p>{MEDIUM}</p></div>"))
    assert LONG in result.html
    assert SHORT not in result.html
    assert MEDIUM not in result.html  # a <p> of < 128 characters fails the bar


def test_inline_children_count_towards_their_paragraph() -> None:
    half = LONG[:80]
    rest = LONG[80:]
    result = mhtml(page(f"<p>{half}<a href='/x'>linked words</a> and <b>{rest}</b></p>"))
    body = body_of(result)
    paragraph = body.find("p")
    assert paragraph is not None and paragraph.find("a") is not None and paragraph.find("b") is not None


def test_list_items_use_the_lower_bar_and_lists_stay_whole() -> None:
    result = mhtml(page(f"<p>{LONG}</p><ul><li>{MEDIUM}</li><li>{SHORT}</li></ul><ul><li>{SHORT}</li></ul>"))
    body = body_of(result)
    lists = body.findall("ul")
    assert len(lists) == 1
    assert [li.text for li in lists[0]] == [MEDIUM, SHORT]  # kept whole: no item is lost


def test_table_cells_use_the_lower_bar_and_tables_stay_whole() -> None:
    table = f"<table><tr><th>Name</th><th>Note</th></tr><tr><td>A</td><td>{MEDIUM}</td></tr></table>"
    result = mhtml(page(f"<p>{LONG}</p>{table}"))
    cells = body_of(result).findall(".//td") + body_of(result).findall(".//th")
    assert sorted(cell.text for cell in cells) == sorted(["Name", "Note", "A", MEDIUM])


def test_layout_table_is_pruned_inside() -> None:
    layout = f"<table><tr><td><div>{SHORT}</div></td><td><div><p>{LONG}</p></div></td></tr></table>"
    result = mhtml(page(layout))
    assert LONG in result.html and SHORT not in result.html


def test_span_uses_the_lower_bar() -> None:
    result = mhtml(page(f"<div><span>{MEDIUM}</span></div><div><em>{MEDIUM}</em></div>"))
    assert result.html.count(MEDIUM) == 1
    assert body_of(result).find(".//span").text == MEDIUM


def test_short_loose_text_of_a_container_goes() -> None:
    result = mhtml(page(f"<div>Posted by <a href='/u'>someone</a><p>{LONG}</p>tail words</div>"))
    assert "Posted by" not in result.html and "someone" not in result.html and "tail words" not in result.html
    assert LONG in result.html


def test_nothing_passes_means_empty() -> None:
    result = simplify(page(f"<p>{SHORT}</p><p>{MEDIUM}</p>"))
    assert result == Rejection(reasons.EMPTY_AFTER_SIMPLIFY, "no text element survived")


# --- rule: remove headers, footers, copyright blocks, forms, iframes, non-content ---


@pytest.mark.parametrize(
    "wrapper",
    [
        "<header>{}</header>",
        "<footer>{}</footer>",
        "<form action='/s'>{}</form>",
        "<div role='banner'>{}</div>",
        "<div role='contentinfo'>{}</div>",
        "<div class='site-header'>{}</div>",
        "<div id='footerNav'>{}</div>",
        "<div class='page_footer wide'>{}</div>",
        "<div class='masthead'>{}</div>",
        "<section class='copyright'>{}</section>",
    ],
)
def test_boilerplate_dropped(wrapper: str) -> None:
    boiler = LONG.replace("committee", "boilerplate")
    result = mhtml(page(f"<main><p>{LONG}</p><p>{LONG}</p></main>" + wrapper.format(f"<p>{boiler}</p>")))
    assert "boilerplate" not in result.html
    assert LONG in result.html


@pytest.mark.parametrize("names", ["headline", "subheading", "header-image-credit-footerless", "thead"])
def test_boilerplate_words_match_whole_words(names: str) -> None:
    element = etree.fromstring(f"<div class='{names}'/>")
    assert is_boilerplate(element) == (names == "header-image-credit-footerless")


def test_copyright_block_dropped_but_not_long_text_mentioning_it() -> None:
    notice = "<div><p>Copyright © 2021 Example Media Group. All rights reserved. No reproduction.</p></div>"
    prose = LONG + " The court's copyright ruling was discussed at length by the members present."
    result = mhtml(page(f"<p>{LONG}</p><ul><li>{MEDIUM}</li></ul>{notice}<p>{prose}</p>"))
    assert "All rights reserved" not in result.html
    assert prose in result.html


@pytest.mark.parametrize(
    ("text", "expected"),
    [("© 2020 ACME", True), ("Copyright 2019 ACME", True), ("All Rights Reserved.", True),
     ("(c) 2018 ACME", True), ("COPYRIGHT 2017 ACME", True), ("ALL RIGHTS RESERVED", True),
     ("the copyright office ruled", False), ("plain text", False)],
)  # fmt: skip
def test_mentions_copyright(text: str, expected: bool) -> None:
    assert mentions_copyright(text) is expected


def test_whole_page_in_one_form_is_unwrapped_not_dropped() -> None:
    aspnet = (
        "<form method='post' action='./Default.aspx' id='form1'><input type='hidden' name='__VIEWSTATE' "
        f"value='dDwtMTA4MzE0MjEwNTs7Pg=='/><div class='page'><h1>News</h1><p>{LONG}</p><p>{LONG}</p></div>"
        "<input type='submit' value='Search'/></form>"
    )
    result = mhtml(page(aspnet))
    assert result.html.count(LONG) == 2
    assert "<form" not in result.html and "__VIEWSTATE" not in result.html and "Search" not in result.html


def test_article_inside_one_header_is_unwrapped() -> None:
    result = mhtml(page(f"<header><div class='entry'><p>{LONG}</p><p>{LONG}</p></div></header>"))
    assert result.html.count(LONG) == 2 and "<header" not in result.html


def test_article_inside_article_header_class_survives_sidebar() -> None:
    article = "".join(f"<p>{LONG} ({n})</p>" for n in range(8))
    sidebar = "".join(f"<p>{LONG} [{n}]</p>" for n in range(9))
    result = mhtml(page(f"<div class='article-header'><h1>T</h1>{article}</div><aside>{sidebar}</aside>"))
    assert f"{LONG} (7)" in result.html  # 1,300+ characters of prose: a wrapper, not a header


VOID = {"area", "base", "embed", "frame", "img", "input", "link", "meta", "param", "source", "track"}


@pytest.mark.parametrize("tag", sorted(set(NON_CONTENT_TAGS) - {"frameset"}))
def test_non_content_elements_removed(tag: str) -> None:
    content = "" if tag in VOID else LONG.replace("committee", "xyzzy")
    hostile = f"<{tag} class='k'>{content}</{tag}>"
    result = mhtml(page(f"<p>{LONG}</p><div>{hostile}<p>{LONG}</p></div>"))
    assert "xyzzy" not in result.html and f"<{tag}" not in result.html


@pytest.mark.parametrize(
    "hidden",
    ["<div hidden>{}</div>", "<dialog open>{}</dialog>", "<div role='dialog'>{}</div>",
     "<div aria-modal='true'>{}</div>", "<input type='hidden' value='{}'>", "<noscript>{}</noscript>",
     "<template>{}</template>"],
)  # fmt: skip
def test_hidden_and_dialogs_removed(hidden: str) -> None:
    cookie = "We use cookies to improve your experience; by continuing you accept them and our policy. " * 2
    result = mhtml(page(f"<p>{LONG}</p>" + hidden.format(cookie)))
    assert "cookies" not in result.html


def test_comments_and_ie_conditional_comments_do_not_leak() -> None:
    html = page(
        f"<!--[if lt IE 9]><p>Please upgrade your browser</p><![endif]--><p>{LONG}</p>"
        "<![if !IE]><p>x</p><![endif]><!--[if !IE]><!--><p>y</p><!--<![endif]-->"
        f"<p>{LONG[:100]} <!--[if IE]>ie only text<![endif]--> {LONG[100:]}</p><!-- a comment -->",
        head="<title>T</title><!--[if lt IE 9]><script src='html5shiv.js'></script><![endif]-->",
    )
    result = mhtml(html)
    for leak in ("upgrade", "ie only", "[if", "endif", "<!--", "html5shiv", "a comment"):
        assert leak not in result.html


# --- rule: fold nested divs; keep class and id only; title and lang kept ---


def test_nested_divs_fold_with_merged_attributes() -> None:
    html = page(
        "<div class='a' id='outer'><div class='b'><div class='c a' id='inner'>"
        f"<p>{LONG}</p></div></div></div>"
    )
    body = body_of(mhtml(html))
    (div,) = body.findall(".//div")
    assert div.get("class") == "a b c" and div.get("id") == "outer"
    assert div.find("p").text == LONG


def test_divs_with_text_between_do_not_fold() -> None:
    body = body_of(mhtml(page(f"<div class='a'><div class='b'><p>{LONG}</p></div>{LONG}</div>")))
    assert len(body.findall(".//div")) == 2


def test_only_class_and_id_attributes_kept() -> None:
    html = page(
        "<div class='c' id='i' style='color:red' data-x='1' onclick='evil()'>"
        f"<p lang='fr' title='t'>{LONG}</p>"
        f"<a href='https://example.com' rel='nofollow' class='link'>{LONG}</a></div>"
    )
    body = body_of(mhtml(html))
    for element in body.iter():
        assert set(element.attrib) <= {"class", "id"}
    assert body.find(".//a").get("class") == "link"


def test_kept_attributes_are_a_parameter() -> None:
    config = SimplifyConfig(min_text_ratio=0.0, keep_attributes=frozenset({"class", "id", "href"}))
    result = mhtml(page(f"<p>{LONG}<a href='https://example.com/x' class='k' rel='r'>x</a></p>"), config)
    assert body_of(result).find(".//a").attrib == {"href": "https://example.com/x", "class": "k"}


def test_title_and_lang_kept_head_dropped() -> None:
    head = "<meta charset='utf-8'><title>  Budget   news </title><link rel='stylesheet'><style>p{}</style>"
    result = mhtml(page(f"<p>{LONG}</p>", head=head, lang="en-US"))
    assert result.title == "Budget news" and result.lang == "en-us"
    assert result.html.startswith('<html lang="en-us"><head><title>Budget news</title></head><body>')


# --- ratio, language, limits ---


def test_text_ratio_threshold() -> None:
    html = page("<div class='x y z'>" * 40 + f"<p>{LONG}</p>" + "</div>" * 40)
    measured = mhtml(html)
    assert simplify(html, SimplifyConfig(min_text_ratio=measured.text_ratio - 0.01)) == measured
    rejected = simplify(html, SimplifyConfig(min_text_ratio=measured.text_ratio))
    assert isinstance(rejected, Rejection) and rejected.reason == reasons.LOW_TEXT_RATIO
    assert measured.text_ratio > 0.46  # default threshold keeps a plain page


def test_default_ratio_rejects_markup_heavy_page() -> None:
    cells = "".join(f"<td class='cell-{n} value'><span class='v'>{n}</span></td>" for n in range(60))
    html = page(f"<p>{LONG}</p><table><tr>{cells}</tr><tr><td>{MEDIUM}</td></tr></table>")
    result = simplify(html)
    assert isinstance(result, Rejection) and result.reason == reasons.LOW_TEXT_RATIO


@pytest.mark.parametrize("lang", ["en", "en-GB", "de", ""])
def test_language_is_not_the_simplifiers_decision(lang: str) -> None:
    """The simplifier reports the declared lang and never drops for it: the filters decide (one owner)."""
    result = simplify(page(f"<p>{LONG}</p>", lang=lang), SimplifyConfig(min_text_ratio=0.0))
    assert isinstance(result, MHTML) and result.lang == lang.lower()


def test_all_languages_by_default() -> None:
    assert isinstance(simplify(page(f"<p>{LONG}</p>", lang="ja")), MHTML)


def test_input_size_limit() -> None:
    config = SimplifyConfig(max_input_chars=10_000)
    result = simplify(page(f"<p>{LONG}</p>" * 100), config)
    assert isinstance(result, Rejection) and result.reason == reasons.PAGE_TOO_LARGE
    assert isinstance(simplify(page(f"<p>{LONG}</p>" * 100).encode(), config), Rejection)


def test_depth_limit() -> None:
    deep = page("<div>" * 150 + f"<p>{LONG}</p>" + "</div>" * 150)
    assert isinstance(simplify(deep, SimplifyConfig(min_text_ratio=0.0)), MHTML)
    result = simplify(deep, SimplifyConfig(max_depth=100))
    assert isinstance(result, Rejection) and result.reason == reasons.TOO_DEEP


def test_hostile_depth_does_not_crash() -> None:
    result = simplify("<div>" * 100_000 + LONG)
    assert isinstance(result, (MHTML, Rejection))


# --- traps seen on real pages ---


def test_xml_declaration_with_encoding() -> None:
    html = '<?xml version="1.0" encoding="utf-8"?>\n' + page(f"<p>{LONG}</p>")
    assert LONG in mhtml(html).html
    assert LONG in mhtml(html.encode("utf-8")).html


def test_page_without_body_tag() -> None:
    result = mhtml(f"<html><head><title>No body</title></head><p>{LONG}</p><p>{LONG}</p></html>")
    assert result.html.count(LONG) == 2 and result.title == "No body"


def test_page_without_html_head_or_body() -> None:
    assert LONG in mhtml(f"<p>{LONG}</p>").html


@pytest.mark.parametrize(
    "payload", ["", "   ", "\x00\x01", "<html></html>", "<!-- only -->", "<frameset></frameset>"]
)
def test_empty_pages_are_rejected_not_raised(payload: str) -> None:
    result = simplify(payload)
    assert isinstance(result, Rejection) and result.reason in (
        reasons.EMPTY_AFTER_SIMPLIFY,
        reasons.PARSE_ERROR,
    )


def test_bytes_input_uses_meta_charset() -> None:
    html = page(f"<p>{LONG} Über café</p>", head="<meta charset='windows-1252'><title>t</title>")
    assert "Über café" in mhtml(html.encode("cp1252")).html


def test_whitespace_normalised() -> None:
    result = mhtml(page(f"<div>\n\n   <p>\n  {LONG[:50]}\n\n   {LONG[50:]}  </p>\n   </div>"))
    assert f"<p>{LONG}</p>" in result.html


def test_control_characters_removed() -> None:
    result = mhtml(page(f"<p>{LONG}\x01\x08 end</p>"))
    assert "\x01" not in result.html and "\x08" not in result.html


def test_paragraph_holding_a_block_becomes_div_so_output_reparses() -> None:
    result = mhtml(f"<html><body><p>{LONG}<table><tr><td>{MEDIUM}</td></tr></table></p></body></html>")
    assert reparse(result.html) == result.html


def test_text_counts() -> None:
    result = mhtml(page(f"<p>{LONG}</p>", head="<title>Hello</title>"))
    assert result.text_chars == len("Hello") + len(LONG)
    assert result.mhtml_chars == len(result.html)


# --- properties ---


def reparse(html: str) -> str:
    root = etree.fromstring(html, etree.HTMLParser())
    return etree.tostring(root, encoding="unicode", method="html")


ALLOWED_ATTRIBUTES = {"class", "id"}
REMOVED_TAGS = set(NON_CONTENT_TAGS) | {"header", "footer", "form"}
tags = st.sampled_from(
    [
        "div",
        "p",
        "span",
        "a",
        "ul",
        "li",
        "table",
        "tr",
        "td",
        "b",
        "header",
        "footer",
        "form",
        "script",
        "style",
        "iframe",
        "section",
        "article",
        "h1",
        "br",
        "img",
        "svg",
    ]
)
attributes = st.sampled_from(["", " class='a b'", " id='x'", " style='x'", " href='/'", " onclick='y'",
                              " hidden", " role='banner'", " class='site-footer'"])  # fmt: skip
words = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)


@st.composite
def html_documents(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 30))):
        tag = draw(tags)
        parts.append(
            draw(st.sampled_from([f"<{tag}{draw(attributes)}>", f"</{tag}>", draw(words), LONG, MEDIUM]))
        )
    return "".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2000), st.text(max_size=2000), html_documents()))
def test_simplify_never_raises(payload: bytes | str) -> None:
    result = simplify(payload)
    assert isinstance(result, (MHTML, Rejection))
    assert isinstance(result, MHTML) or result.reason in (*reasons.SIMPLIFY_REASONS, reasons.DECODE_ERROR)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html_documents())
def test_output_reparses_and_holds_no_removed_kinds(payload: str) -> None:
    result = simplify(payload, NO_RATIO)
    if isinstance(result, Rejection):
        return
    assert reparse(result.html) == result.html
    root = etree.fromstring(result.html, etree.HTMLParser())
    for element in root.iter(etree.Element):
        assert set(element.attrib) <= ALLOWED_ATTRIBUTES | ({"lang"} if element.tag == "html" else set())
        assert element.tag not in REMOVED_TAGS


def test_recall_mode_keeps_short_prose_between_kept_blocks() -> None:
    long = "This paragraph is long enough to be a text element under the paper's rule of 128 characters. " * 2
    page = (
        f"<html><body><nav><ul><li>{'Home news sport weather culture travel ' * 4}</li></ul></nav>"
        f"<div><h2>A short heading</h2><p>{long}</p><p>A short line between.</p><p>{long}</p>"
        f"<ul><li><a>{'Related story link text ' * 4}</a></li>"
        f"<li><a>{'Another related link ' * 4}</a></li></ul>"
        f"<p>{'中文的段落很短但是内容很多' * 4}</p></div></body></html>"
    )
    paper = simplify(page, SimplifyConfig(min_text_ratio=0.0))
    recall = simplify(page, SimplifyConfig(min_text_ratio=0.0, mode="recall"))
    assert "A short line between." not in paper.text and "A short heading" not in paper.text
    assert "A short line between." in recall.text and "A short heading" in recall.text
    assert "Home news" in paper.text and "Home news" not in recall.text  # a nav
    assert "Related story" in paper.text and "Related story" not in recall.text  # a list of links
    assert "中文" not in paper.text and "中文" in recall.text  # 52 wide characters count as 156
    assert recall.html.startswith("<html><head></head><body><div><h2>A short heading</h2><p>")
    with pytest.raises(ValueError, match="mode"):
        SimplifyConfig(mode="fast")
