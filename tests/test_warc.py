"""WARC/ARC reader: exact accounting on every real test file, and hand-made edge cases."""

from __future__ import annotations

import gzip
import io
import random
import zlib
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from htlm.pipeline.reading import Dropped, Page, ReaderLimits, read_pages, status_code
from htlm.pipeline.reasons import (
    DECODE_ERROR,
    HTTP_STATUS,
    NOT_HTML,
    NOT_RESPONSE,
    READ_ERROR,
    READER_REASONS,
    TOO_LARGE,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import WARC_DATA
from tests.warcs import http_block, response_record

PAGE = "page"

# Expected entries per file: pages and drops per reason; the total is their sum. Why each
# number is what it is, one line per file (counts cross-checked against warcio below where
# warcio reads the file, and against a by-hand walk of gzip members and Content-Lengths).
EXPECTED: dict[str, dict[str, int]] = {
    # 822 records: warcinfo + 261 request + 261 metadata + 38 dns responses; 261 HTTP
    # responses = 47 non-200 (2x301, 5x302, 40x404) + 214 x 200 of which 94 text/html.
    "aut-warc/IAH-20080430204825-00000-blackbook.warc.gz": {
        PAGE: 94,
        NOT_HTML: 120,
        HTTP_STATUS: 47,
        NOT_RESPONSE: 561,
    },
    # Whole-file gzip ARC: filedesc + dns, robots.txt (text/plain); the next header has date
    # "null" (garbage run) and the one after declares 680 bytes where 477 remain (truncated).
    "aut-warc/badexample.arc.gz": {NOT_RESPONSE: 2, NOT_HTML: 1, READ_ERROR: 2},
    # 2 warcinfo + 2 request, and 2 text/plain responses.
    "aut-warc/example.txt.warc.gz": {NOT_RESPONSE: 4, NOT_HTML: 2},
    # 2 warcinfo + 15 request + 5 revisit; 10 responses: one 301, 4 HTML, 5 other types.
    "aut-warc/issue-493.warc": {NOT_RESPONSE: 22, HTTP_STATUS: 1, NOT_HTML: 5, PAGE: 4},
    # warcinfo, 2 request, metadata, 2 resource; responses: a 307 and one HTML page.
    "aut-warc/issue-514.warc": {NOT_RESPONSE: 6, HTTP_STATUS: 1, PAGE: 1},
    # warcinfo, request, metadata and the an.wikipedia.org page.
    "cc-whirlwind/whirlwind.warc.gz": {NOT_RESPONSE: 3, PAGE: 1},
    # warcinfo + one metadata (WAT JSON) record.
    "cc-whirlwind/whirlwind.warc.wat.gz": {NOT_RESPONSE: 2},
    # warcinfo + one conversion (WET text) record.
    "cc-whirlwind/whirlwind.warc.wet.gz": {NOT_RESPONSE: 2},
    # warcinfo + 22 request + metadata + 2 resource; 22 HTML 200 responses.
    "dolma-wget-warc/sample-0000.warc.gz": {NOT_RESPONSE: 26, PAGE: 22},
    # warcinfo + 15 request + metadata + 2 resource; 15 HTML 200 responses.
    "dolma-wget-warc/sample-0001.warc.gz": {NOT_RESPONSE: 19, PAGE: 15},
    # One whole-file gzip member with 12 complete records, then 34 bytes of junk.
    "gowarc-corrupted/corrupted-mid-record.warc.gz.open": {PAGE: 12, READ_ERROR: 1},
    # One gzip member with 30 complete records, then 55 bytes of junk.
    "gowarc-corrupted/corrupted-trailing-bytes.warc.gz.open": {PAGE: 30, READ_ERROR: 1},
    # A valid gzip member holding zero bytes: nothing to report.
    "gowarc-corrupted/empty.warc.gz.open": {},
    # One gzip member with 50 synthetic HTML responses.
    "gowarc-corrupted/good.warc.gz.open": {PAGE: 50},
    # One synthetic HTML response.
    "gowarc-corrupted/single-record.warc.gz.open": {PAGE: 1},
    # One gzip member with 10 synthetic HTML responses.
    "gowarc-corrupted/skip-non-open.warc.gz": {PAGE: 10},
    # warcinfo, request, and a text/javascript response.
    "gowarc-corrupted/test.warc.gz": {NOT_RESPONSE: 2, NOT_HTML: 1},
    # A single CC response record, no warcinfo.
    "jwarc/cc.warc.gz": {PAGE: 1},
    # A single warcinfo record behind a gzip FEXTRA header.
    "jwarc/gzip_extra_sl.warc.gz": {NOT_RESPONSE: 1},
    # 30 request + 30 responses: the index page and 29 images/CSS/JS.
    "node-warc/books.toscrape.warc": {NOT_RESPONSE: 30, NOT_HTML: 29, PAGE: 1},
    # warcinfo + metadata + 14 request; 14 responses: 6 non-200, 6 CSS/JS/images, 1 HTML, and
    # one chrome-extension:// response, no web page: not-response (it was not-html; warcio
    # reads HTTP heads of http(s) responses only).
    "node-warc/parseMe.warc.gz": {NOT_RESPONSE: 17, HTTP_STATUS: 6, NOT_HTML: 6, PAGE: 1},
    # Three WARC-Type: unknown records sized to hit buffer boundaries.
    "resiliparse-fastwarc/block-sized-records.warc.gz": {NOT_RESPONSE: 3},
    # One response whose gzip stream is cut mid-record: one truncated-record read-error.
    "resiliparse-fastwarc/clipped.warc.gz": {READ_ERROR: 1},
    # WARC/0.18 warcinfo + 29 EUC-JP HTML responses (lying Content-Encoding: gzip).
    "resiliparse-fastwarc/clueweb-quirk.warc.gz": {NOT_RESPONSE: 1, PAGE: 29},
    # Real CC WARC: warcinfo + 17 request + 16 metadata; 16 HTML responses.
    "resiliparse-fastwarc/warcfile.warc.gz": {NOT_RESPONSE: 34, PAGE: 16},
    # filedesc and two more headers with lengths -1/abc: their extent is unknown (read-error).
    # The 1-byte record holds no HTTP head: its framing is sound, so http-status (our own
    # framer said read-error). warcio reads the filedesc's version and field-name lines as part
    # of its header, as the ARC format has it (our own framer counted them as a junk run).
    "warcio/bad.arc": {READ_ERROR: 3, HTTP_STATUS: 1},
    # Whole-file gzip: 2 warcinfo + 2 request + revisit, and the example.com page.
    "warcio/example-bad-non-chunked.warc.gz": {NOT_RESPONSE: 5, PAGE: 1},
    # Whole-file gzip: warcinfo + 2 request + revisit, a 200 page and a 302.
    "warcio/example-bad.warc.gz.bad": {NOT_RESPONSE: 4, HTTP_STATUS: 1, PAGE: 1},
    # 4 request records.
    "warcio/example-digest.warc": {NOT_RESPONSE: 4},
    # warcinfo + request, and one chunked HTML response.
    "warcio/example-iana.org-chunked.warc": {NOT_RESPONSE: 2, PAGE: 1},
    # 2 warcinfo + a resource record.
    "warcio/example-resource.warc.gz": {NOT_RESPONSE: 3},
    # warcinfo + a resource record.
    "warcio/example-space-in-target-uri.warc.gz": {NOT_RESPONSE: 2},
    # filedesc; the page's ARC length counts CRs the file no longer has: 12 bytes short at EOF.
    "warcio/example-space-in-url.arc": {NOT_RESPONSE: 1, READ_ERROR: 1},
    # 2 warcinfo + request, and the page, whose Content-Length leaves out its last 2 bytes
    # (folded into it, not a garbage entry of their own).
    "warcio/example-trunc.warc": {NOT_RESPONSE: 3, PAGE: 1},
    # warcinfo, request, metadata, 2 resource, and the page behind a <...> target URI.
    "warcio/example-wget-bad-target-uri.warc.gz": {NOT_RESPONSE: 5, PAGE: 1},
    # A response whose block continues in a second gzip member, and a request. warcio frames
    # one record per member (WARC 1.1 annex D), so the response is cut at its member's end
    # (read-error) and the rest of its block, in member two, is a garbage run (read-error);
    # our own framer joined the two members into one page.
    "warcio/example-wrong-chunks.warc.gz": {NOT_RESPONSE: 1, READ_ERROR: 2},
    # ARC: filedesc and the example.com page.
    "warcio/example.arc": {NOT_RESPONSE: 1, PAGE: 1},
    # The same ARC, gzipped per record.
    "warcio/example.arc.gz": {NOT_RESPONSE: 1, PAGE: 1},
    # 2 warcinfo + 2 request + revisit, and the page.
    "warcio/example.warc": {NOT_RESPONSE: 5, PAGE: 1},
    # The same, gzipped per record.
    "warcio/example.warc.gz": {NOT_RESPONSE: 5, PAGE: 1},
    # 3 request + 3 JSON responses to POSTs.
    "warcio/post-test.warc.gz": {NOT_RESPONSE: 3, NOT_HTML: 3},
    # One response with repeated WARC headers and a status line without reason phrase.
    "webarchive-commons/mutliple-headers.warc": {PAGE: 1},
}

# Files warcio reads end to end: no framing damage, no ARC, no whole-file gzip (warcio
# raises after the first record; we read on).
WARCIO_READABLE = sorted(
    name
    for name, counts in EXPECTED.items()
    if READ_ERROR not in counts
    and ".arc" not in name
    and name
    not in {
        "gowarc-corrupted/good.warc.gz.open",
        "gowarc-corrupted/skip-non-open.warc.gz",
        "warcio/example-bad-non-chunked.warc.gz",
        "warcio/example-bad.warc.gz.bad",
    }
)


def archive_files() -> list[str]:
    return sorted(
        str(path.relative_to(WARC_DATA))
        for path in WARC_DATA.rglob("*")
        if path.is_file() and (".warc" in path.name or ".arc" in path.name)
    )


@cache
def entries_of(name: str) -> tuple[Page | Dropped, ...]:
    return tuple(read_pages(WARC_DATA / name))


def tally(entries: tuple[Page | Dropped, ...] | list[Page | Dropped]) -> dict[str, int]:
    return dict(Counter(PAGE if isinstance(e, Page) else e.reason for e in entries))


def test_table_covers_every_archive_file():
    assert sorted(EXPECTED) == archive_files()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts(name):
    entries = entries_of(name)
    assert tally(entries) == {k: v for k, v in EXPECTED[name].items() if v}
    assert len(entries) == sum(EXPECTED[name].values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_entry_accounted(name):
    entries = entries_of(name)
    pages = [e for e in entries if isinstance(e, Page)]
    dropped = [e for e in entries if isinstance(e, Dropped)]
    assert len(entries) == len(pages) + len(dropped)
    assert all(e.reason in READER_REASONS for e in dropped)
    assert all(e.warc_file == Path(name).name for e in entries)
    # Records (not garbage runs) have ids, unique within a file, except where the writer
    # repeated one: example-digest.warc holds one WARC-Record-ID four times.
    ids = [e.record_id for e in entries if e.record_id is not None]
    assert len(set(ids)) == (1 if name == "warcio/example-digest.warc" else len(ids))
    for page in pages:
        assert page.status == 200 and page.url and page.record_id and page.html is not None
        assert page.charset_source in ("bom", "http", "meta", "detected")


@pytest.mark.parametrize("name", WARCIO_READABLE)
def test_agrees_with_warcio(name):
    """warcio's record types and HTTP statuses give the same split where it reads the file."""
    expected: Counter[str] = Counter()
    with open(WARC_DATA / name, "rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response" or record.http_headers is None:
                expected[NOT_RESPONSE] += 1
            elif record.http_headers.get_statuscode() != "200":
                expected[HTTP_STATUS] += 1
            else:
                content_type = record.http_headers.get_header("Content-Type") or ""
                html = content_type.split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml")
                expected[PAGE if html else NOT_HTML] += 1
    assert tally(entries_of(name)) == dict(expected)


def test_offsets_point_at_gzip_members():
    """Per-record gzip: a page's offset is where its member starts (what a CDX index holds)."""
    name = "resiliparse-fastwarc/warcfile.warc.gz"
    data = (WARC_DATA / name).read_bytes()
    pages = [e for e in entries_of(name) if isinstance(e, Page)]
    for page in pages:
        record = zlib.decompressobj(31).decompress(data[page.offset :])
        assert record.startswith(b"WARC/1.0")
        assert page.record_id.encode() in record[:2000]


def test_whole_file_gzip_offsets_unknown_after_first():
    entries = entries_of("warcio/example-bad.warc.gz.bad")
    assert entries[0].offset == 0
    assert all(e.offset == -1 for e in entries[1:])


def test_clipped_record_reports_the_gzip_truncation_once():
    (entry,) = entries_of("resiliparse-fastwarc/clipped.warc.gz")
    assert isinstance(entry, Dropped) and entry.reason == READ_ERROR
    assert entry.url and entry.record_id
    assert "truncated record" in entry.detail and "gzip stream truncated" in entry.detail


def test_garbage_after_good_records():
    entries = entries_of("gowarc-corrupted/corrupted-trailing-bytes.warc.gz.open")
    assert all(isinstance(e, Page) for e in entries[:-1])
    assert [e.url for e in entries[:3]] == [f"https://test-site-{i}.example.com/page/{i}" for i in range(3)]
    assert entries[-1].reason == READ_ERROR and "55 bytes" in entries[-1].detail


def test_arc_fields():
    (filedesc, page) = entries_of("warcio/example.arc.gz")
    assert filedesc.reason == NOT_RESPONSE and filedesc.url.startswith("filedesc://")
    assert page.url == "http://example.com/" and page.date == "2014-02-16T05:02:21Z"
    assert page.record_id == "<urn:arc:example.arc.gz:171>" and page.offset == 171
    assert "Example Domain" in page.html


def test_arc_url_with_spaces():
    truncated = entries_of("warcio/example-space-in-url.arc")[1]
    assert truncated.url == (
        "http://example.com/index.cfm?FuseAction=Email&EmailTitle=Examples%20From%20The%20Live%20Web&IsPopUp=False"
    )


def test_warc_quirks_on_real_files():
    wget = [e for e in entries_of("warcio/example-wget-bad-target-uri.warc.gz") if isinstance(e, Page)]
    assert wget[0].url == "http://example.com/"  # <...> stripped
    clueweb = [e for e in entries_of("resiliparse-fastwarc/clueweb-quirk.warc.gz") if isinstance(e, Page)]
    assert clueweb[0].date == "2008-10-294T05:21:46-0700"  # invalid date kept as found
    assert clueweb[0].body.lstrip().startswith(b"<")  # Content-Encoding: gzip lied
    (page,) = entries_of("webarchive-commons/mutliple-headers.warc")
    assert page.status == 200 and page.date == "2024-09-27T10:47:02Z"
    (chunked,) = [e for e in entries_of("warcio/example-iana.org-chunked.warc") if isinstance(e, Page)]
    assert chunked.html.rstrip().endswith("</html>") and "\r\n1f" not in chunked.html


class ReadOnly:
    """A non-seekable stream with only read(), returning short reads."""

    def __init__(self, data: bytes, seed: int = 0) -> None:
        self._data = io.BytesIO(data)
        self._random = random.Random(seed)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, self._random.randint(1, 5000)))


@pytest.mark.parametrize(
    "name",
    [
        "resiliparse-fastwarc/warcfile.warc.gz",
        "warcio/example.arc",
        "aut-warc/badexample.arc.gz",
        "gowarc-corrupted/corrupted-mid-record.warc.gz.open",
        "resiliparse-fastwarc/clipped.warc.gz",
        "warcio/example-trunc.warc",
        "node-warc/books.toscrape.warc",
    ],
)
def test_streaming_equals_path(name):
    streamed = tuple(read_pages(ReadOnly((WARC_DATA / name).read_bytes()), Path(name).name))
    assert streamed == entries_of(name)


# ---------------------------------------------------------------------------------------
# Hand-made records.

HTML = b"<!doctype html><html><head><title>t</title></head><body><p>Hello world</p></body></html>"


def http(
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html"),),
    body: bytes = HTML,
) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def record(
    block: bytes = b"",
    kind: str = "response",
    url: str = "http://example.com/",
    extra: tuple[tuple[str, str], ...] = (),
    uid: int = 1,
) -> bytes:
    headers = [
        "WARC/1.0",
        f"WARC-Type: {kind}",
        f"WARC-Record-ID: <urn:uuid:{uid}>",
        f"WARC-Target-URI: {url}",
        "WARC-Date: 2024-05-18T01:58:10.123Z",
        "Content-Type: application/http; msgtype=response",
        *(f"{k}: {v}" for k, v in extra),
        f"Content-Length: {len(block)}",
    ]
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + block + b"\r\n\r\n"


def gz(*records: bytes) -> bytes:
    return b"".join(gzip.compress(r) for r in records)


def read(data: bytes, **limits: int) -> list[Page | Dropped]:
    return list(read_pages(io.BytesIO(data), "test.warc.gz", limits=ReaderLimits(**limits)))


def test_simple_page_fields():
    (page,) = read(gz(record(http())))
    assert page.url == "http://example.com/" and page.record_id == "<urn:uuid:1>"
    assert page.date == "2024-05-18T01:58:10Z" and page.offset == 0
    assert page.headers == (("Content-Type", "text/html"),)
    assert page.body == HTML and page.html == HTML.decode()
    assert (page.charset, page.charset_source) == ("utf-8", "detected")


def test_chunked_body():
    rest = f"{len(HTML) - 16:x}".encode()
    chunked = b"10\r\n" + HTML[:16] + b"\r\n" + rest + b"\r\n" + HTML[16:] + b"\r\n0\r\n\r\n"
    (page,) = read(
        gz(
            record(
                http(headers=(("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")), body=chunked)
            )
        )
    )
    assert page.body == HTML


def test_invalid_chunking_keeps_body():
    headers = (("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"))
    (page,) = read(gz(record(http(headers=headers))))
    assert page.body == HTML


def test_lying_content_encoding():
    (page,) = read(gz(record(http(headers=(("Content-Type", "text/html"), ("Content-Encoding", "gzip"))))))
    assert page.body == HTML


def test_real_gzip_content_encoding():
    headers = (("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"))
    (page,) = read(gz(record(http(headers=headers, body=gzip.compress(HTML)))))
    assert page.body == HTML and page.charset_source == "http"


def test_deflate_content_encoding():
    headers = (("Content-Type", "text/html"), ("Content-Encoding", "deflate"))
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    pages = read(
        gz(
            record(http(headers=headers, body=zlib.compress(HTML))),
            record(http(headers=headers, body=raw.compress(HTML) + raw.flush()), uid=2),
        )
    )
    assert [p.body for p in pages] == [HTML, HTML]


def test_corrupt_content_encoding_is_decode_error():
    headers = (("Content-Type", "text/html"), ("Content-Encoding", "gzip"))
    (dropped,) = read(gz(record(http(headers=headers, body=b"\x1f\x8b\x08\x00garbage-not-deflate"))))
    assert dropped.reason == DECODE_ERROR


def test_content_encoding_bomb_is_too_large():
    headers = (("Content-Type", "text/html"), ("Content-Encoding", "gzip"))
    bomb = gzip.compress(b"<html>" + b" " * (5 << 20))
    (dropped,) = read(gz(record(http(headers=headers, body=bomb))), max_record_bytes=1 << 20)
    assert dropped.reason == TOO_LARGE


def test_status_404():
    (dropped,) = read(gz(record(http(status=404))))
    assert dropped.reason == HTTP_STATUS and "404" in dropped.detail and dropped.url == "http://example.com/"


def test_non_html_content_type():
    (dropped,) = read(gz(record(http(headers=(("Content-Type", "image/png"),), body=b"\x89PNG\r\n"))))
    assert dropped.reason == NOT_HTML


def test_generic_content_type_is_sniffed():
    octet = (("Content-Type", "application/octet-stream"),)
    identified = (("WARC-Identified-Payload-Type", "text/html"),)
    entries = read(
        gz(
            record(http(headers=octet)),
            record(http(headers=(), body=b"plain words"), uid=2),
            record(http(headers=(), body=b"{}"), extra=identified, uid=3),
        )
    )
    assert [type(e).__name__ for e in entries] == ["Page", "Dropped", "Page"]
    assert entries[1].reason == NOT_HTML


def test_binary_html_is_decode_error():
    (dropped,) = read(gz(record(http(body=b"<html>\x00\x01\x02\xff" * 50))))
    assert dropped.reason == DECODE_ERROR


def test_too_large_record_is_skipped_and_next_read():
    big = http(body=b"<html>" + b"x" * 5000)
    entries = read(gz(record(big), record(http(), uid=2)), max_record_bytes=1000)
    assert [getattr(e, "reason", "page") for e in entries] == [TOO_LARGE, "page"]
    assert entries[0].url == "http://example.com/"


def test_garbage_between_records():
    entries = read(gz(record(http())) + b"JUNK" * 100 + gz(record(http(), uid=2)))
    assert [getattr(e, "reason", "page") for e in entries] == ["page", READ_ERROR, "page"]
    assert "400 bytes" in entries[1].detail and entries[2].offset == len(gz(record(http()))) + 400


def test_garbage_between_uncompressed_records():
    data = record(http()) + b"some junk\nmore junk\n" + record(http(), uid=2)
    entries = read(data)
    assert [getattr(e, "reason", "page") for e in entries] == ["page", READ_ERROR, "page"]
    assert "20 bytes" in entries[1].detail
    assert entries[2].offset == data.index(b"WARC/1.0", 10)


def test_an_understated_content_length_invents_no_record(caplog):
    """The bytes a too-short Content-Length leaves out belong to its record, in plain and gzip files;
    garbage after the record's two line ends stays garbage (the test above)."""
    first = record(http())
    declared = len(http())
    short = first.replace(f"Content-Length: {declared}".encode(), f"Content-Length: {declared - 7}".encode())
    assert short != first
    for data in (short + record(http(), uid=2), gz(short, record(http(), uid=2))):
        entries = read(data)
        assert [getattr(e, "reason", "page") for e in entries] == ["page", "page"]
        assert [e.record_id for e in entries] == ["<urn:uuid:1>", "<urn:uuid:2>"]
    assert "understates its block: 11 more bytes" in caplog.text  # 7 bytes and the 4 of the line ends


def test_truncated_last_member():
    data = gz(record(http()), record(http(), uid=2))
    entries = read(data[:-30])
    assert [getattr(e, "reason", "page") for e in entries] == ["page", READ_ERROR]
    assert entries[1].record_id == "<urn:uuid:2>" and "truncated" in entries[1].detail


def test_truncated_uncompressed_record():
    entries = read(record(http())[:-50])
    assert [e.reason for e in entries] == [READ_ERROR]


def test_corrupt_member_in_the_middle():
    first, second, third = (
        gzip.compress(record(http())),
        bytearray(gzip.compress(record(http(), uid=2))),
        gzip.compress(record(http(), uid=3)),
    )
    second[30:40] = b"\xff" * 10
    entries = read(first + bytes(second) + third)
    assert isinstance(entries[0], Page) and isinstance(entries[-1], Page)
    assert entries[-1].record_id == "<urn:uuid:3>"
    assert [e.reason for e in entries[1:-1]] == [READ_ERROR]


def test_record_types_and_missing_fields():
    entries = read(
        gz(
            record(b"software: x\r\n", kind="warcinfo"),
            record(b"GET / HTTP/1.1\r\n\r\n", kind="request", uid=2),
            record(http(), kind="revisit", uid=3),
            record(b"not http at all", uid=4),  # framing sound, HTTP head malformed: http-status
            record(http(), url="", uid=5).replace(b"WARC-Target-URI: \r\n", b""),
            record(http(), uid=6).replace(b"Content-Length", b"Content-Lenght"),
            record(http(), uid=7),
        )
    )
    assert [getattr(e, "reason", "page") for e in entries] == [
        NOT_RESPONSE,
        NOT_RESPONSE,
        NOT_RESPONSE,
        HTTP_STATUS,
        READ_ERROR,
        READ_ERROR,
        "page",
    ]


def test_target_uri_cleanup_and_header_tolerance():
    data = record(http(), url="<http://example.com/a b>").replace(b"WARC/1.0\r\n", b"WARC/1.1\n")
    repeated = b"warc-type: response\r\nWARC-Type: request\r\njunk line\r\n"  # first wins; junk skipped
    data = data.replace(b"WARC-Type: response\r\n", repeated)
    (page,) = read(data)
    assert page.url == "http://example.com/a%20b"


def test_header_block_limit():
    huge = record(http(), extra=(("X-Big", "y" * 5000),))
    entries = read(huge + record(http(), uid=2), max_header_bytes=1024)
    assert [getattr(e, "reason", "page") for e in entries] == [READ_ERROR, "page"]


def test_empty_and_garbage_inputs():
    assert read(b"") == []
    assert [e.reason for e in read(b"\x1f\x8b")] == [READ_ERROR]
    assert [e.reason for e in read(b"hello\nworld\n")] == [READ_ERROR]
    assert [e.reason for e in read(bytes(range(256)) * 10)] == [READ_ERROR]


def test_read_failure_becomes_read_error():
    class Failing:
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int) -> bytes:
            self.calls += 1
            if self.calls > 1:
                raise ConnectionResetError("peer went away")
            return gz(record(http()))[:-20]

    entries = list(read_pages(Failing(), "x"))
    assert [e.reason for e in entries] == [READ_ERROR]
    assert "peer went away" in entries[0].detail


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_input_never_raises(data):
    clean = (
        gz(record(http()), record(http(status=301), uid=2))
        if data.draw(st.booleans())
        else record(http()) + record(http(headers=(), body=b"x"), uid=2)
    )
    buf = bytearray(clean)
    for _ in range(data.draw(st.integers(0, 4))):
        pos = data.draw(st.integers(0, len(buf)))
        op = data.draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        if op == "flip" and pos < len(buf):
            buf[pos] = data.draw(st.integers(0, 255))
        elif op == "insert":
            buf[pos:pos] = data.draw(st.binary(max_size=40))
        elif op == "delete":
            del buf[pos : pos + data.draw(st.integers(1, 40))]
        else:
            del buf[pos:]
    entries = read(bytes(buf))
    assert all(isinstance(e, Page) or e.reason in READER_REASONS for e in entries)


def test_brotli_content_encoding():
    import brotli

    headers = (("Content-Type", "text/html"), ("Content-Encoding", "br"))
    big = HTML + b"<p>" + b"abc" * 100_000
    (page,) = read(gz(record(http(headers=headers, body=brotli.compress(big)))))
    assert page.body == big


def test_status_code_recovery():
    assert status_code("HTTP/1.1", "200 OK") == 200
    assert status_code("HTTP/1.0", "404") == 404  # no reason phrase
    assert status_code("HTTP/1.1", "HTTP/1.1 200 OK") == 200  # repeated protocol token
    assert status_code("200", "OK") == 200  # missing protocol token
    assert status_code("http/2", "301 Moved") == 301
    assert status_code("HTTP/1.1", "OK") is None
    assert status_code("<html>not", "http</html>") is None
    assert status_code("HTTP/1.1", "2000 OK") is None


# Sound WARC framing (warcio's writer) around a sloppy HTTP head: recovered as warcio and
# browsers read it, never a read-error.
SLOPPY_HEADS = {
    "repeated protocol token": (http_block(HTML, "HTTP/1.1 HTTP/1.1 200 OK"), 200),
    "missing protocol token": (http_block(HTML, "200 OK"), 200),
    "missing reason phrase": (http_block(HTML, "HTTP/1.1 200"), 200),
    "header lines without a colon": (
        http_block(HTML, headers=("Content-Type: text/html", "this line has no colon", "X-Ok: yes")),
        200,
    ),
    "bare LF line ends": (http_block(HTML).replace(b"\r\n", b"\n", 3), 200),
    "chunked header on a body that is not chunked": (
        http_block(HTML, headers=("Content-Type: text/html", "Transfer-Encoding: chunked")),
        200,
    ),
}


@pytest.mark.parametrize("case", sorted(SLOPPY_HEADS))
def test_sloppy_http_head_is_recovered(case):
    block, status = SLOPPY_HEADS[case]
    (page,) = read(response_record("http://example.com/", block))
    assert isinstance(page, Page), page
    assert page.status == status and page.body == HTML and page.html == HTML.decode()
    if case == "header lines without a colon":
        assert ("X-Ok", "yes") in page.headers and all("no colon" not in name for name, _ in page.headers)


@pytest.mark.parametrize(
    "status_line", ["HTTP/1.1 OK", "<html><body>no head at all</body></html>", "HTTP/1.1 2OO OK"]
)
def test_unrecoverable_http_head_is_http_status_with_the_line(status_line):
    (dropped,) = read(response_record("http://example.com/", http_block(HTML, status_line)))
    assert dropped.reason == HTTP_STATUS and status_line[:40] in dropped.detail


def test_sloppy_heads_in_an_uncompressed_warc_keep_the_records_after_them():
    blocks = [block for block, _ in SLOPPY_HEADS.values()] + [
        http_block(HTML, "HTTP/1.1 OK"),
        http_block(HTML),
    ]
    data = b"".join(response_record(f"http://example.com/{i}", b, gzip=False) for i, b in enumerate(blocks))
    entries = read(data)
    assert [getattr(e, "reason", PAGE) for e in entries] == [PAGE] * len(SLOPPY_HEADS) + [HTTP_STATUS, PAGE]


def warcio_framed_ids(path: Path) -> set[str]:
    """Ids of the records warcio reads whole (every block byte its Content-Length declares)."""
    framed: set[str] = set()
    with open(path, "rb") as stream:
        try:
            for record in ArchiveIterator(stream):
                record.raw_stream.read()
                if getattr(record.raw_stream, "limit", None) == 0:
                    framed.add(record.rec_headers.get_header("WARC-Record-ID"))
        except Exception:  # warcio stops here (whole-file gzip, garbage): what it framed so far counts
            pass
    return framed


@pytest.mark.parametrize("name", [n for n in sorted(EXPECTED) if ".arc" not in n])
def test_no_record_warcio_frames_is_a_read_error(name):
    framed = warcio_framed_ids(WARC_DATA / name)
    errors = {e.record_id for e in entries_of(name) if isinstance(e, Dropped) and e.reason == READ_ERROR}
    assert not framed & errors


def test_warcio_frames_most_records():
    """The check above is not empty: warcio frames ~1,200 of the records in tests/data."""
    framed = sum(len(warcio_framed_ids(WARC_DATA / n)) for n in EXPECTED if ".arc" not in n)
    assert framed > 1000


def test_an_overstated_content_length_never_swallows_the_next_record():
    """A Content-Length that runs over the next record's header. Uncompressed: the record is cut
    there (read-error) and the swallowed record is read after all. In a whole-file gzip, where
    the bytes cannot be gone back to, the framing check counts the record that was lost."""
    from tests.warcs import http_block as block
    from tests.warcs import response_record as rec

    records = [rec(f"http://example.com/{i}", block(HTML), gzip=False) for i in range(3)]
    first, declared = records[0], len(records[0].split(b"\r\n\r\n", 1)[1]) - 4  # its block
    longer = first.replace(
        f"Content-Length: {declared}\r\n".encode(),
        f"Content-Length: {declared + len(records[1])}\r\n".encode(),
        1,
    )
    assert longer != first
    entries = read(longer + records[1] + records[2])
    assert [getattr(e, "reason", PAGE) for e in entries] == [READ_ERROR, PAGE, PAGE]
    assert "overstates" in entries[0].detail and [e.url for e in entries[1:]] == [
        "http://example.com/1",
        "http://example.com/2",
    ]
    whole = read(gzip.compress(longer + records[1] + records[2]))
    assert [getattr(e, "reason", PAGE) for e in whole] == [PAGE, PAGE, READ_ERROR]  # 1, 3; 2 counted
    assert "framing check: 1 WARC record header" in whole[2].detail
    assert not any("framing check" in e.detail for e in read(b"".join(records)) if isinstance(e, Dropped))
