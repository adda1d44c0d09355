"""Charset decoding: real non-UTF-8 pages come out readable; labels, BOMs, meta, failures."""

from __future__ import annotations

import codecs
import random
from functools import cache

import pytest
from htlm.pipeline.reading import Page, read_pages
from htlm.pipeline.reading.charset import (
    UndecodableError,
    codec_for_label,
    decode_html,
    looks_binary,
    meta_charset,
)

from tests.conftest import WARC_DATA


@cache
def pages_of(name: str) -> dict[str, Page]:
    return {e.url: e for e in read_pages(WARC_DATA / name) if isinstance(e, Page)}


# (file, url, codec, source, words read in the decoded page by eye)
REAL_PAGES = [
    # windows-1251, declared in the HTTP header: a fire-safety equipment shop.
    (
        "resiliparse-fastwarc/warcfile.warc.gz",
        "http://01spb.ru/company/",
        "cp1251",
        "http",
        ["О компании", "пожарной безопасности", "Огнетушители"],
    ),
    # gb2312 in the HTTP header (decoded as GB18030, its superset): a job site.
    (
        "resiliparse-fastwarc/warcfile.warc.gz",
        "http://0760.jxtdw.com/area/sanxiang/",
        "gb18030",
        "http",
        ["关于我们", "企业招聘", "个人求职"],
    ),
    ("resiliparse-fastwarc/warcfile.warc.gz", "http://037426.cn/", "gb18030", "http", ["视频", "KUNSHAN"]),
    # gbk in <meta>: a casting maker, a steel trader, a forum page.
    (
        "resiliparse-fastwarc/warcfile.warc.gz",
        "http://0755krk.com/76104/list_4_1.html",
        "gb18030",
        "meta",
        ["不锈钢精密铸造件系列", "产品分类"],
    ),
    (
        "resiliparse-fastwarc/warcfile.warc.gz",
        "http://041696.com/15477/list_6_4.html",
        "gb18030",
        "meta",
        ["上海特舟实业有限公司", "企业公告"],
    ),
    (
        "resiliparse-fastwarc/warcfile.warc.gz",
        "http://077678u.info/erxiaoshujinguang/list_6_2.html",
        "gb18030",
        "meta",
        ["加入收藏", "当前位置", "上一页"],
    ),
    # iso-8859-1 in <meta>, decoded as windows-1252: the 0x92 quote proves the difference.
    (
        "resiliparse-fastwarc/warcfile.warc.gz",
        "http://06.live-radsport.ch/fahrerstatistik_801/Anthony_Ravard.html",
        "cp1252",
        "meta",
        ["España", "Höhepunkte", "für", "Übersichten", "d’Italia"],
    ),
    (
        "resiliparse-fastwarc/warcfile.warc.gz",
        "http://06.live-radsport.ch/tippspiel/stats_140_petzi.html",
        "cp1252",
        "meta",
        ["España", "Höhepunkte", "Übersichten", "d’Italia"],
    ),
    # ISO-8859-1 in the HTTP header (these three 2008 pages are plain ASCII in fact).
    (
        "aut-warc/IAH-20080430204825-00000-blackbook.warc.gz",
        "http://www.archive.org/about/credits.php",
        "cp1252",
        "http",
        ["Internet Archive: Credits", "Wayback Machine"],
    ),
    (
        "aut-warc/IAH-20080430204825-00000-blackbook.warc.gz",
        "http://www.archive.org/about/jobs.php",
        "cp1252",
        "http",
        ["Internet Archive: Jobs", "Wayback Machine"],
    ),
    (
        "aut-warc/IAH-20080430204825-00000-blackbook.warc.gz",
        "http://www.archive.org/donate/",
        "cp1252",
        "http",
        ["Internet Archive: Donate", "Wayback Machine"],
    ),
]


URLS = [page[1] for page in REAL_PAGES]


@pytest.mark.parametrize(("name", "url", "codec", "source", "words"), REAL_PAGES, ids=URLS)
def test_real_pages_are_readable(name, url, codec, source, words):
    page = pages_of(name)[url]
    assert (page.charset, page.charset_source) == (codec, source)
    assert "\ufffd" not in page.html
    for word in words:
        assert word in page.html


def test_clueweb_euc_jp_pages():
    pages = pages_of("resiliparse-fastwarc/clueweb-quirk.warc.gz")
    assert len(pages) == 29
    for page in pages.values():
        assert (page.charset, page.charset_source) == ("euc_jp", "http")
        assert "\ufffd" not in page.html
        for word in ("吉田カバン", "お買い物かご", "会社紹介", "財布"):
            assert word in page.html


def test_real_utf8_page_with_one_stray_latin1_byte():
    """forums.php says UTF-8 and holds one windows-1252 byte ("Caf\\xe9"): accepted, one U+FFFD."""
    page = pages_of("aut-warc/IAH-20080430204825-00000-blackbook.warc.gz")[
        "http://www.archive.org/iathreads/forums.php"
    ]
    assert (page.charset, page.charset_source) == ("utf-8", "http")
    assert page.html.count("\ufffd") == 1 and "Net Caf\ufffd Forum" in page.html


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("gb2312", "gb18030"),
        ("GBK", "gb18030"),
        ("x-gbk", "gb18030"),
        ("gb_2312-80", "gb18030"),
        ("iso-8859-1", "cp1252"),
        ("Latin1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("ascii", "cp1252"),
        ("shift_jis", "cp932"),
        ("sjis", "cp932"),
        ("x-sjis", "cp932"),
        ("euc-kr", "cp949"),
        ("tis-620", "cp874"),
        ("iso-8859-9", "cp1254"),
        (" 'UTF8' ", "utf-8"),
        ("windows-1251", "cp1251"),
        ("euc-jp", "euc_jp"),
        ("big5", "big5hkscs"),
        ("koi8-r", "koi8_r"),
        ("no-such-charset", None),
        ("", None),
        (None, None),
        ("iso-2022-kr", None),
        ("x-user-defined", None),
    ],
)
def test_label_mapping(label, codec):
    assert codec_for_label(label) == codec


def test_every_mapped_codec_exists():
    from htlm.pipeline.reading.charset import LABELS

    for codec in set(LABELS.values()):
        codecs.lookup(codec)


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_bom_wins_and_is_stripped(bom, codec):
    body = bom + "<p>Grüße</p>".encode(codec)
    assert decode_html(body, "text/html; charset=iso-8859-1") == ("<p>Grüße</p>", codec, "bom")


@pytest.mark.parametrize(
    "head",
    [
        b'<meta charset="windows-1251">',
        b"<META CHARSET=windows-1251 />",
        b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">',
        b"<meta content='text/html;charset=windows-1251' http-equiv='content-type'>",
        b'<?xml version="1.0" encoding="windows-1251"?><html>',
    ],
)
def test_meta_detection(head):
    body = head + "<p>Привет, мир</p>".encode("cp1251")
    assert meta_charset(body).lower() == "windows-1251"
    assert decode_html(body, "text/html") == (body.decode("cp1251"), "cp1251", "meta")


def test_meta_beyond_4kib_is_not_seen():
    assert meta_charset(b" " * 5000 + b'<meta charset="koi8-r">') is None


def test_http_charset_beats_meta():
    body = '<meta charset="utf-8"><p>Привет</p>'.encode("koi8_r")
    assert decode_html(body, 'text/html; charset="KOI8-R"') == (body.decode("koi8_r"), "koi8_r", "http")


def test_unknown_label_falls_through():
    body = '<meta charset="cp1251"><p>Привет</p>'.encode("cp1251")
    assert decode_html(body, "text/html; charset=bogus-charset")[1:] == ("cp1251", "meta")


def test_wrong_declared_charset_falls_through():
    """UTF-8 declared, body is GBK text: too many bytes fail, detection takes over."""
    body = ("<p>" + "中华人民共和国成立于一九四九年，首都是北京。" * 20 + "</p>").encode("gbk")
    text, codec, source = decode_html(body, "text/html; charset=utf-8")
    assert (codec, source) == ("gb18030", "detected")
    assert "中华人民共和国" in text and "\ufffd" not in text


def test_declared_legacy_charset_but_valid_utf8():
    body = "<p>Crème brûlée à la française</p>".encode()
    assert decode_html(body, "text/html; charset=iso-8859-1") == (body.decode(), "utf-8", "detected")


def test_stray_invalid_bytes_in_utf8_are_tolerated():
    text = "<p>" + "Grüße aus Köln. " * 200 + "</p>"
    body = text.encode().replace(b"K\xc3\xb6ln", b"K\xf6ln", 2)  # two Latin-1 bytes in 3807: under 0.1%
    decoded, codec, source = decode_html(body, "text/html; charset=utf-8")
    assert (codec, source) == ("utf-8", "http") and decoded.count("\ufffd") == 2


def test_many_invalid_bytes_are_not_tolerated():
    body = ("<p>" + "Grüße aus Köln. " * 20).encode("latin-1")
    text, codec, source = decode_html(body, "text/html; charset=utf-8")
    assert source == "detected" and codec != "utf-8" and "Köln" in text


def test_random_bytes_are_undecodable():
    rng = random.Random(7)
    noisy = bytes(rng.randrange(1, 256) for _ in range(4000))  # no NUL: detection must reject it
    with pytest.raises(UndecodableError, match="detection"):
        decode_html(noisy, None)
    with pytest.raises(UndecodableError, match="utf-8"):
        decode_html(noisy, "text/html; charset=utf-8")


def test_binary_is_undecodable():
    assert looks_binary(b"GIF89a\x00\x01")
    assert not looks_binary(b"<html>" + b" " * 2000 + b"\x00")  # only the first KiB is checked
    with pytest.raises(UndecodableError, match="binary"):
        decode_html(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/html")


def test_ascii_and_empty():
    assert decode_html(b"<p>plain</p>", None) == ("<p>plain</p>", "utf-8", "detected")
    assert decode_html(b"", None) == ("", "utf-8", "detected")


def test_utf16_without_bom_declared_by_http():
    body = "<p>Grüße</p>".encode("utf-16-le")
    assert decode_html(body, "text/html; charset=UTF-16") == ("<p>Grüße</p>", "utf-16-le", "http")


def test_utf16_declared_in_meta_means_utf8():
    body = '<meta charset="utf-16"><p>é</p>'.encode()
    assert decode_html(body, None)[1:] == ("utf-8", "meta")


SHORT_LEGACY_PAGES = [
    ("<p>Café crème brûlée à la française.</p>", "latin-1"),
    ("<p>¿Qué tal? ¡Señor Muñoz — “hola”!</p>", "cp1252"),
    ("<p>Ærlig talt, på øya.</p>", "latin-1"),
    ("<p>Não há razão para ação.</p>", "latin-1"),
    ("<p>Příliš žluťoučký kůň úpěl ďábelské ódy.</p>", "cp1250"),  # not Western: stays cp1250
    ("<p>Zażółć gęślą jaźń</p>", "cp1250"),
    ("<p>Árvíztűrő tükörfúrógép</p>", "cp1250"),
    ("<p>Привет, как дела? Всё хорошо.</p>", "cp1251"),
]


@pytest.mark.parametrize(("text", "encoding"), SHORT_LEGACY_PAGES, ids=[e for _, e in SHORT_LEGACY_PAGES])
def test_short_undeclared_legacy_pages_are_not_mojibake(text: str, encoding: str) -> None:
    """Detection is unsure on a few accented bytes: Western Latin text reads as windows-1252."""
    decoded, _, source = decode_html(text.encode(encoding), None)
    assert decoded == text and source == "detected"


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_utf32_with_a_bom_is_not_read_as_utf16(codec: str) -> None:
    bom = codecs.BOM_UTF32_LE if codec.endswith("le") else codecs.BOM_UTF32_BE
    text, used, source = decode_html(bom + "<p>Grüße, ünïcode</p>".encode(codec), None)
    assert (text, used, source) == ("<p>Grüße, ünïcode</p>", codec, "bom")
