"""Read HTML pages out of WARC and ARC files, accounting for every record met.

warcio frames the records: its ArchiveIterator, record loader, header parsers and buffered
readers do the gzip members, the WARC/ARC headers, the HTTP heads and the de-chunking. What
warcio lacks is ours, in a subclass of its iterator:

- resynchronising past corruption instead of stopping or raising: a gzip member that does not
  inflate (the next gzip header is searched for in the raw bytes), garbage between records
  (the next record header line is searched for), a gzip member holding many records (a
  whole-file gzip, read on), a record cut short;
- accounting: every record, and every run of unreadable bytes, becomes one `Page` or one
  `Dropped` with a reason, never an exception and never silence;
- recovering the status of a sloppy HTTP head (a repeated or missing protocol token);
- size limits, Content-Encoding (bounded, see http.py) and charset (charset.py).

`read_pages` is the one entry point.
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from htlm.pipeline.charset import UndecodableError, decode_html
from htlm.pipeline.http import (
    GENERIC_MEDIA_TYPES,
    HTML_MEDIA_TYPES,
    ContentDecodingError,
    ContentTooLarge,
    decode_content,
    header_value,
    is_html,
    media_type,
)
from htlm.pipeline.reasons import (
    DECODE_ERROR,
    HTTP_STATUS,
    NOT_HTML,
    NOT_RESPONSE,
    READ_ERROR,
    TOO_LARGE,
)
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader, DecompressingBufferedReader
from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders

STREAM_FAILED = "read failed"  # marks a Dropped whose cause is the byte stream itself raising
_BLOCK = 16 * 1024  # warcio's read size
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_RESYNC = b"\x1f\x8b\x08"  # magic + deflate method: what a real member starts with
_PADDING = b" \t\r\n\x00"
_WARC_LINE = re.compile(rb"WARC/(?:1\.1|1\.0|0\.17|0\.18)[ \t\r]*\n?")  # the versions warcio reads
_HTTP_TOKEN = re.compile(r"HTTP/\d+(?:\.\d+)?", re.IGNORECASE)
_ARC_DATE = re.compile(r"\d{8,20}")
_WARC_DATE = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z")

# warcio logs a warning for each target URI with spaces it repairs; the repair is the answer.
logging.getLogger("warcio.recordloader").setLevel(logging.ERROR)


@dataclass(frozen=True, slots=True)
class Page:
    """A decoded HTML page from one response record."""

    url: str
    warc_file: str
    record_id: str
    date: str  # YYYY-MM-DDTHH:MM:SSZ when parseable, else as found in the record
    status: int
    headers: tuple[tuple[str, str], ...]  # HTTP headers as found
    body: bytes  # payload after transfer and content decoding
    html: str
    charset: str  # codec used
    charset_source: str  # bom, http, meta or detected
    offset: int  # byte offset of the record in the raw file, -1 when not known


@dataclass(frozen=True, slots=True)
class Dropped:
    """A record (or run of unreadable bytes) that yields no page, and why."""

    reason: str  # one of htlm.pipeline.reasons.READER_REASONS
    warc_file: str
    record_id: str | None
    url: str | None
    detail: str
    offset: int


@dataclass(frozen=True, slots=True)
class ReaderLimits:
    """Bounds that keep memory flat whatever the input."""

    max_record_bytes: int = 10 * 1024 * 1024  # larger records are skipped unread: too-large
    max_header_bytes: int = 64 * 1024  # a header line, or a WARC header block, longer than this is garbage


Entry = Page | Dropped


def read_pages(
    source: str | os.PathLike[str] | BinaryIO,
    warc_file: str | None = None,
    *,
    limits: ReaderLimits = ReaderLimits(),
) -> Iterator[Entry]:
    """Yield one Page or Dropped per record of a WARC or ARC file, gzipped or not.

    ``source`` is a path or a binary file object (it may be non-seekable, e.g. an HTTP
    stream; it is read in blocks and never whole). ``warc_file`` names the file in the
    entries (default: the base name of the path). Opening a path may raise OSError, here;
    iteration itself never raises: corrupt gzip, garbage, truncation and read failures
    become ``Dropped(read-error)`` entries, so that records in == pages + dropped.
    """
    if isinstance(source, (str, os.PathLike)):
        name = warc_file or os.path.basename(os.fspath(source))
        return _iterate(open(source, "rb"), name, limits, close=True)  # closed by _iterate
    name = warc_file or os.path.basename(str(getattr(source, "name", "") or "<stream>"))
    return _iterate(source, name, limits, close=False)


def _iterate(stream: BinaryIO, warc_file: str, limits: ReaderLimits, close: bool) -> Iterator[Entry]:
    try:
        yield from _ResyncingIterator(_Tape(stream), warc_file, limits)
    finally:
        if close:
            stream.close()


# ---------------------------------------------------------------------------------------
# The raw bytes, and warcio's reader over them made strict.


class _Tape:
    """The raw input as warcio reads it (read, tell), plus push-back and skipping for resync.

    A read that raises ends the input; the error is kept for the accounting.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._pushed = b""
        self.pos = 0  # raw offset of the next byte read
        self.error: str | None = None
        self.error_reported = False  # told in a record's detail already

    def read(self, size: int | None = -1) -> bytes:
        size = _BLOCK if size is None or size < 0 else size
        if self._pushed:
            data, self._pushed = self._pushed[:size], self._pushed[size:]
        elif self.error is None:
            try:
                data = self._stream.read(size)
            except Exception as exc:  # any failure: iteration must not raise, it becomes a read-error
                self.error = f"{STREAM_FAILED} at offset {self.pos}: {exc!r}"
                data = b""
        else:
            data = b""
        self.pos += len(data)
        return data

    def tell(self) -> int:
        return self.pos

    def unread(self, data: bytes) -> None:
        self._pushed = data + self._pushed
        self.pos -= len(data)

    def at_end(self) -> bool:
        probe = self.read(1)
        self.unread(probe)
        return not probe

    def skip_to(self, pattern: bytes) -> tuple[int, bool]:
        """Skip to the next ``pattern`` (or the end); return (bytes skipped, all were padding)."""
        skipped, padding, tail = 0, True, b""
        while True:
            data = self.read(_BLOCK)
            window = tail + data
            found = window.find(pattern)
            if found >= 0:
                self.unread(window[found:])
                part = window[:found]
            elif not data:
                part = window
            else:  # keep a tail that may be the start of a pattern cut at the block boundary
                keep = min(len(window), len(pattern) - 1)
                part, tail = window[: len(window) - keep], window[len(window) - keep :]
            skipped += len(part)
            padding = padding and not part.strip(_PADDING)
            if found >= 0 or not data:
                return skipped, padding


class _GzipBreak(Exception):
    """A gzip member did not inflate; ``data`` holds the raw bytes handed to the decompressor."""

    def __init__(self, data: bytes, error: str, at_member_start: bool) -> None:
        super().__init__(error)
        self.data = data
        self.at_member_start = at_member_start


class _Reader(DecompressingBufferedReader):
    """warcio's reader of the file's bytes, with three changes.

    A gzip error raises `_GzipBreak` (warcio writes it to stderr and reads on as if the
    stream had ended, or takes the bytes as uncompressed); a line is never longer than the
    limit (warcio's are unbounded); and the raw offset of each gzip member is kept.
    """

    def __init__(self, tape: _Tape, gzipped: bool, line_limit: int) -> None:
        super().__init__(tape, block_size=_BLOCK, decomp_type="gzip" if gzipped else None)
        self.line_limit = line_limit
        self.member_offset = tape.tell()
        self.member_fed = False  # bytes were handed to the current member's decompressor

    def _decompress(self, data: bytes) -> bytes:
        if self.decompressor is None or not data:
            return data
        self.member_fed = True
        try:
            return self.decompressor.decompress(data)
        except zlib.error as exc:
            raise _GzipBreak(data, str(exc), self.num_block_read == 0) from None

    def readline(self, length: int | None = None) -> bytes:
        return super().readline(self.line_limit if length is None else min(length, self.line_limit))

    def read_next_member(self) -> bool:
        pending = len(self.decompressor.unused_data) if self.decompressor else 0
        if not super().read_next_member():
            return False
        self.member_offset = self.stream.tell() - pending
        self.member_fed = False
        return True

    def truncated_member(self) -> bool:
        """True when the input ended inside a gzip member."""
        return self.decompressor is not None and not self.decompressor.eof and self.member_fed

    def position(self) -> int:
        """Offset in the decompressed stream of the next byte to be read."""
        buffered = self.buff_size - self.buff.tell() if self.buff else 0
        return self.num_read - buffered


class _Loader(ArcWarcRecordLoader):
    """warcio's record loader, also reading responses without target URI or with blank lines first."""

    def load_http_headers(self, rec_type: str, uri: str | None, stream: Any, length: int | None) -> Any:
        if uri is None:
            return None
        if rec_type != "response" or length == 0 or not uri.startswith(self.HTTP_SCHEMES):
            return super().load_http_headers(rec_type, uri, stream, length)
        line = stream.readline()
        for _ in range(8):  # a few writers put blank lines before the status line
            if line.strip() or not line:
                break
            line = stream.readline()
        return self.http_parser.parse(stream, line) if line else None


# ---------------------------------------------------------------------------------------
# The iterator: warcio's, reading on past what it would stop at.


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where a record came from, for the Page or Dropped it becomes."""

    warc_file: str
    record_id: str | None
    url: str | None
    offset: int

    def drop(self, reason: str, detail: str) -> Dropped:
        return Dropped(reason, self.warc_file, self.record_id, self.url, detail, self.offset)


@dataclass(slots=True)
class _Break:
    """Unreadable input between records; consecutive breaks merge into one entry."""

    detail: str
    offset: int
    count: int = 1
    end: int = -1

    def merge(self, other: _Break) -> None:
        self.count += 1
        self.end = other.offset

    def describe(self) -> str:
        if self.count == 1:
            return self.detail
        return f"{self.detail}; {self.count - 1} more unreadable stretch(es) up to offset {self.end}"


def _merged(pending: _Break | None, brk: _Break) -> _Break:
    if pending is None:
        return brk
    pending.merge(brk)
    return pending


class _ResyncingIterator(ArchiveIterator):
    """Yields a Page or Dropped per record, and a Dropped per unreadable stretch of the input."""

    def __init__(self, tape: _Tape, warc_file: str, limits: ReaderLimits) -> None:
        super().__init__(tape, verify_http=False, arc2warc=False)
        head = tape.read(2)
        tape.unread(head)
        self.gzipped = head.startswith(_GZIP_MAGIC)
        self.loader = _Loader(verify_http=False, arc2warc=False)
        self.reader = _Reader(tape, self.gzipped, limits.max_header_bytes)
        self.tape = tape
        self.warc_file = warc_file
        self.limits = limits
        self.in_member = 0  # records and garbage runs met so far in the current gzip member
        self.cut_reported = False

    def _iterate_records(self) -> Iterator[Entry]:  # type: ignore[override]
        pending: _Break | None = None
        while True:
            try:
                entry = self._next_entry()
            except _GzipBreak as exc:
                entry = self._resync_gzip(exc)
                if entry is None:
                    continue
            if isinstance(entry, _Break):
                pending = _merged(pending, entry)
                continue
            if pending is not None:
                yield Dropped(READ_ERROR, self.warc_file, None, None, pending.describe(), pending.offset)
                pending = None
            if entry is None:
                break
            yield entry
        if self.tape.error is not None and not self.tape.error_reported:
            yield Dropped(READ_ERROR, self.warc_file, None, None, self.tape.error, self.tape.pos)

    def _consume_blanklines(self) -> tuple[bytes | None, int]:
        # warcio's takes one non-blank line after a record as blank (with a warning on
        # stderr); here it is left for the loop, which counts it as garbage.
        blank = 0
        while True:
            line = self.reader.readline()
            if not line:
                return None, blank
            if line.strip():
                return line, blank
            blank += len(line)

    # -- one step: a record, a garbage run, a break, or None at the end -----------------

    def _next_entry(self) -> Entry | _Break | None:
        line = self._header_line()
        if not line:
            return self._end_of_input()
        offset, stream_pos = self._offset_of(line), self.reader.position() - len(line)
        self.in_member += 1
        if not self._is_header(line):
            skipped = len(line) + self._skip_to_header(line.endswith(b"\n"))
            where = f"offset {offset}" if offset >= 0 else f"uncompressed offset {stream_pos}"
            return _Break(f"garbage skipped: {skipped} bytes at {where}", offset)
        try:
            record = self.record = self._next_record(line)
        except _GzipBreak:
            raise
        except Exception as exc:  # warcio rejected the header: read on as garbage
            skipped = self._skip_to_header(True)
            return _Break(f"unreadable record header ({exc}); {skipped} bytes skipped", offset)
        return self._record_entry(record, self._origin(record, offset, stream_pos))

    def _end_of_input(self) -> _Break | None:
        """None at the end, or the break of a gzip member the input ended in (once)."""
        if not self.gzipped or not self.reader.truncated_member() or self.cut_reported or self.tape.error:
            return None
        self.cut_reported = True
        return _Break(self._cut_detail(), self.reader.member_offset)

    def _cut_detail(self) -> str:
        member = self.reader.member_offset
        return f"gzip stream truncated: member at offset {member} cut at offset {self.tape.pos}"

    def _record_entry(self, record: ArcWarcRecord, origin: _Origin) -> Entry:
        """The entry of a record whose header warcio read; its block is read or skipped to the end."""
        framing = self._framing_error(record)
        if framing is not None:
            skipped = self._skip_to_header(True)
            return origin.drop(READ_ERROR, f"{framing}; {skipped} bytes skipped")
        try:
            entry = self._entry(record, origin)
            self.read_to_end()
        except _GzipBreak as exc:
            brk = self._resync_gzip(exc)
            return origin.drop(READ_ERROR, f"truncated record: {brk.describe() if brk else exc}")
        missing = record.raw_stream.limit
        if not missing:
            return entry
        detail = f"truncated record: {record.length - missing} of {record.length} block bytes"
        if self.tape.error is not None:
            self.tape.error_reported = True
            detail += f"; {self.tape.error}"
        elif self.gzipped and self.reader.truncated_member():
            self.cut_reported = True
            detail += f"; {self._cut_detail()}"
        return origin.drop(READ_ERROR, detail)

    def _header_line(self) -> bytes:
        """The next non-blank line, moving on to the next gzip member at a member's end; b"" at the end."""
        while True:
            line, self.next_line = self.next_line or self.reader.readline(), None
            if line.strip():
                return line
            if line:
                continue
            if not (self.gzipped and self.reader.decompressor and self.reader.read_next_member()):
                return b""
            self.in_member = 0

    def _offset_of(self, line: bytes) -> int:
        """Raw offset of a record whose header line was just read, -1 when not known.

        Exact for uncompressed input; for gzip, the member's offset for the first record
        of a member (what a CDX index holds), unknown for the others of a whole-file gzip.
        """
        if not self.gzipped:
            return self.tape.tell() - self.reader.rem_length() - len(line)
        return self.reader.member_offset if self.in_member == 0 else -1

    def _is_header(self, line: bytes) -> bool:
        if self.known_format != "arc" and _WARC_LINE.fullmatch(line):
            return True
        return self.known_format != "warc" and _is_arc_header(line)

    def _skip_to_header(self, at_line_start: bool) -> int:
        """Skip lines up to the next record header line (kept as next_line); return the bytes skipped."""
        skipped = 0
        while True:
            line = self.reader.readline()
            if not line:
                return skipped
            if at_line_start and line.strip() and self._is_header(line):
                self.next_line = line
                return skipped
            skipped += len(line)
            at_line_start = line.endswith(b"\n")

    def _resync_gzip(self, exc: _GzipBreak) -> _Break | None:
        """Find the next gzip member in the raw bytes after a member that did not inflate."""
        member = self.reader.member_offset
        garbage = exc.at_member_start and not exc.data.startswith(_GZIP_MAGIC)
        head = exc.data[:1] if exc.at_member_start else b""  # step past the member that failed
        self.tape.unread(exc.data[len(head) :])
        skipped, padding = self.tape.skip_to(_GZIP_RESYNC)
        self.reader = _Reader(self.tape, True, self.limits.max_header_bytes)
        self.next_line, self.in_member, self.cut_reported = None, 0, False
        if not garbage:
            resumed = self.tape.pos
            return _Break(
                f"corrupt gzip member at offset {member} ({exc}), resumed at offset {resumed}", member
            )
        if padding and not head.strip(_PADDING):
            return None
        where = "trailing garbage" if self.tape.at_end() else "garbage skipped"
        return _Break(f"{where}: {skipped + len(head)} bytes at offset {member}", member)

    # -- records -> entries ------------------------------------------------------------

    def _origin(self, record: ArcWarcRecord, offset: int, stream_pos: int) -> _Origin:
        headers = record.rec_headers
        if record.format == "arc":
            url = headers.get_header("uri")
            record_id = None
        else:
            url = headers.get_header("WARC-Target-URI")
            record_id = headers.get_header("WARC-Record-ID")
        if record_id is None:
            where = offset if offset >= 0 else f"{self.reader.member_offset}+u{stream_pos}"
            record_id = f"<urn:{'arc' if record.format == 'arc' else 'warc'}:{self.warc_file}:{where}>"
        return _Origin(self.warc_file, record_id, _clean_url(url), offset)

    def _framing_error(self, record: ArcWarcRecord) -> str | None:
        """Why the record's extent is unknown (so the bytes after it are garbage), or None."""
        headers = record.rec_headers
        if record.format == "arc":
            length = (headers.get_header("length") or "").strip()
            return (
                None
                if length.isascii() and length.isdigit()
                else f"ARC header with invalid length {length!r}"
            )
        length = (headers.get_header("Content-Length") or "").strip()
        if not (length.isascii() and length.isdigit()):
            return f"no valid Content-Length ({length!r})"
        return None

    def _entry(self, record: ArcWarcRecord, origin: _Origin) -> Entry:
        """What a framed record holds: a Page, or why not (the reasons in the order they are checked)."""
        headers = record.rec_headers
        if headers.total_len > self.limits.max_header_bytes:
            return origin.drop(
                READ_ERROR, f"record header of {headers.total_len} bytes over {self.limits.max_header_bytes}"
            )
        if record.format == "arc":
            scheme = (origin.url or "").split(":", 1)[0].lower()
            if scheme not in ("http", "https"):
                return origin.drop(NOT_RESPONSE, f"ARC {scheme} record")
            date, identified = headers.get_header("archive-date") or "", None
        else:
            record_type = (record.rec_type or "").lower()
            if record_type != "response":
                return origin.drop(NOT_RESPONSE, f"WARC-Type {record_type or '(missing)'}")
            date = headers.get_header("WARC-Date") or ""
            identified = headers.get_header("WARC-Identified-Payload-Type")
        if record.length > self.limits.max_record_bytes:
            return origin.drop(
                TOO_LARGE, f"record block of {record.length} bytes over {self.limits.max_record_bytes}"
            )
        http = record.http_headers
        content_type = (record.content_type or "").lower()
        if not (record.format == "arc" or content_type.startswith("application/http") or _looks_http(http)):
            return origin.drop(NOT_RESPONSE, f"response without HTTP payload ({content_type or 'no type'})")
        if origin.url is None:
            return origin.drop(READ_ERROR, "response record without WARC-Target-URI")
        scheme = origin.url.split(":", 1)[0].lower()
        if scheme not in ("http", "https"):
            return origin.drop(NOT_RESPONSE, f"{scheme} response")
        if http is None:
            return origin.drop(HTTP_STATUS, "no HTTP status line: the block is empty")
        return _http_entry(origin, _iso_date(date), record, http, identified, self.limits)


def _looks_http(http: StatusAndHeaders | None) -> bool:
    return http is not None and bool(_HTTP_TOKEN.match(http.protocol or ""))


def status_code(protocol: str, status_line: str) -> int | None:
    """The HTTP status code of a status line, recovered where it is unambiguous, else None.

    warcio splits the line at its first space into ``protocol`` and the rest. Repeated
    protocol tokens (``HTTP/1.1 HTTP/1.1 200 OK``) and a missing one (``200 OK``) are read as
    browsers read them; a missing reason phrase is fine.
    """
    tokens = f"{protocol} {status_line}".split()
    while tokens and _HTTP_TOKEN.fullmatch(tokens[0]):
        tokens.pop(0)
    if tokens and len(tokens[0]) == 3 and tokens[0].isascii() and tokens[0].isdigit():
        return int(tokens[0])
    return None


def _http_entry(
    origin: _Origin,
    date: str,
    record: ArcWarcRecord,
    http: StatusAndHeaders,
    identified: str | None,
    limits: ReaderLimits,
) -> Entry:
    """Turn an HTTP response into a Page, or say why not."""
    status = status_code(http.protocol or "", http.statusline or "")
    if status is None:
        line = f"{http.protocol} {http.statusline}".strip()
        return origin.drop(HTTP_STATUS, f"no HTTP status code in status line {line[:80]!r}")
    if status != 200:
        return origin.drop(HTTP_STATUS, f"HTTP status {status}")
    headers = tuple(http.headers)
    content_type = header_value(headers, "Content-Type")
    declared = media_type(content_type)
    if declared not in HTML_MEDIA_TYPES and declared not in GENERIC_MEDIA_TYPES:
        return origin.drop(NOT_HTML, f"Content-Type {declared}")
    body = _payload(record, headers)
    try:
        body = decode_content(headers, body, limits.max_record_bytes)
    except ContentTooLarge as exc:
        return origin.drop(TOO_LARGE, str(exc))
    except ContentDecodingError as exc:
        return origin.drop(DECODE_ERROR, str(exc))
    if not is_html(headers, body, identified):
        return origin.drop(NOT_HTML, f"Content-Type {declared or '(none)'} and no HTML tag in the first KiB")
    try:
        html, codec, source = decode_html(body, content_type)
    except UndecodableError as exc:
        return origin.drop(DECODE_ERROR, str(exc))
    assert origin.record_id is not None and origin.url is not None
    return Page(
        origin.url,
        origin.warc_file,
        origin.record_id,
        date,
        status,
        headers,
        body,
        html,
        codec,
        source,
        origin.offset,
    )


def _payload(record: ArcWarcRecord, headers: tuple[tuple[str, str], ...]) -> bytes:
    """The HTTP body with the transfer coding undone by warcio (a body that is not chunked stays as is).

    Common Crawl stores bodies de-chunked and renames the header to
    ``X-Crawler-Transfer-Encoding``, which is therefore not applied.
    """
    transfer = (header_value(headers, "Transfer-Encoding") or "").lower()
    stream = ChunkedDataReader(record.raw_stream) if "chunked" in transfer else record.raw_stream
    return stream.read()


def _is_arc_header(line: bytes) -> bool:
    """Whether a line is an ARC v1 header (URL IP date type length); URLs may hold spaces.

    A line with a valid shape but a non-numeric length is one: the record reports it.
    """
    if not line.endswith(b"\n") or line[:1].isspace():
        return False
    fields = line.decode("utf-8", "replace").split()
    return len(fields) >= 5 and bool(_ARC_DATE.fullmatch(fields[-3])) and ":" in " ".join(fields[:-4])


def _clean_url(url: str | None) -> str | None:
    """Strip ``<...>`` (wget, WARC 1.0 drafts) and percent-encode spaces in a target URI."""
    if url is None:
        return None
    url = url.strip()
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1].strip()
    return url.replace(" ", "%20") or None


def _iso_date(value: str) -> str:
    """Normalize a WARC or ARC (14-digit) date to YYYY-MM-DDTHH:MM:SSZ; keep it raw if it does not parse."""
    value = value.strip()
    match = _WARC_DATE.fullmatch(value)
    if match:
        return f"{match.group(1)}T{match.group(2)}Z"
    if len(value) == 14 and value.isdigit():
        try:
            return datetime.strptime(value, "%Y%m%d%H%M%S").strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return value
    return value
