"""Read HTML pages out of WARC and ARC files, accounting for every record met.

The framing is ours, not warcio's or FastWARC's: on our test files warcio raises on whole-file
gzip and stops at mid-file garbage, FastWARC reads no ARC and stops silently on corruption, and
neither lets us count and skip garbage. Two layers resync instead: gzip members on the next gzip
magic, records on the next record header line. `read_pages` is the one entry point.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import BinaryIO

from htlm.pipeline.charset import UndecodableError, decode_html
from htlm.pipeline.http import (
    GENERIC_MEDIA_TYPES,
    HTML_MEDIA_TYPES,
    ContentDecodingError,
    ContentTooLarge,
    HttpParseError,
    decode_content,
    decode_transfer,
    header_value,
    is_html,
    media_type,
    parse_http_response,
)
from htlm.pipeline.reasons import (
    DECODE_ERROR,
    HTTP_STATUS,
    NOT_HTML,
    NOT_RESPONSE,
    READ_ERROR,
    TOO_LARGE,
)

CHUNK = 64 * 1024
STREAM_FAILED = "read failed"  # marks a Dropped whose cause is the byte stream itself raising
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_RESYNC = b"\x1f\x8b\x08"  # magic + deflate method: what a real member starts with
_PADDING = b" \t\r\n\x00"
_WARC_START = re.compile(rb"WARC/\d+\.\d+[ \t\r]*\n?")
_ARC_DATE = re.compile(r"\d{8,20}")
_WARC_DATE = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z")


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

    max_record_bytes: int = 10 * 1024 * 1024  # larger records are skipped in chunks: too-large
    max_header_bytes: int = 64 * 1024  # a WARC header block, or one line, longer than this is garbage


Entry = Page | Dropped


def read_pages(
    source: str | os.PathLike[str] | BinaryIO,
    warc_file: str | None = None,
    *,
    limits: ReaderLimits = ReaderLimits(),
) -> Iterator[Entry]:
    """Yield one Page or Dropped per record of a WARC or ARC file, gzipped or not.

    ``source`` is a path or a binary file object (it may be non-seekable, e.g. an HTTP
    stream; it is read in 64 KiB chunks and never whole). ``warc_file`` names the file in the
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
        raw = _RawInput(stream)
        yield from _split(_Segments(raw), warc_file, limits)
    finally:
        if close:
            stream.close()


# ---------------------------------------------------------------------------------------
# Gzip member layer: raw bytes -> decompressed chunks, member starts and breaks.


@dataclass(frozen=True, slots=True)
class _Member:
    """The next decompressed byte is the first output of the gzip member at raw ``offset``."""

    offset: int


@dataclass(slots=True)
class _Break:
    """Unreadable input between two readable stretches; consecutive breaks merge into one."""

    detail: str
    offset: int
    count: int = 1
    end: int = -1

    def describe(self) -> str:
        if self.count == 1:
            return self.detail
        return f"{self.detail}; {self.count - 1} more unreadable stretch(es) up to offset {self.end}"


class _RawInput:
    """Raw bytes of the source with their file offset; read failures end the input."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.buf = b""
        self.pos = 0  # raw offset of buf[0]
        self.eof = False
        self.error: str | None = None

    def fill(self, size: int) -> bool:
        """Read until ``size`` bytes are buffered; False if the input ends first."""
        while len(self.buf) < size and not self.eof:
            try:
                chunk = self._stream.read(CHUNK)
            except Exception as exc:  # any failure: iteration must not raise, it becomes a read-error
                self.error = f"{STREAM_FAILED} at offset {self.pos + len(self.buf)}: {exc!r}"
                chunk = b""
            if chunk:
                self.buf += chunk
            else:
                self.eof = True
        return len(self.buf) >= size

    def consume(self, size: int) -> bytes:
        taken, self.buf = self.buf[:size], self.buf[size:]
        self.pos += len(taken)
        return taken

    def skip_to(self, pattern: bytes) -> tuple[int, bool]:
        """Skip to the next ``pattern`` (or the end); return (bytes skipped, all were padding)."""
        skipped, padding = 0, True
        while True:
            self.fill(len(pattern))
            found = self.buf.find(pattern)
            if found >= 0:
                take = found
            elif self.eof:
                take = len(self.buf)
            else:  # keep a tail that may be the start of a pattern cut by the chunk boundary
                take = len(self.buf) - len(pattern) + 1
            part = self.consume(take)
            skipped += len(part)
            padding = padding and not part.strip(_PADDING)
            if found >= 0 or not self.buf:
                return skipped, padding


def _events(raw: _RawInput) -> Iterator[bytes | _Member | _Break]:
    """Decompressed chunks of the input, with member starts and breaks between them."""
    raw.fill(2)
    if not raw.buf.startswith(_GZIP_MAGIC):
        while raw.fill(1):
            yield raw.consume(len(raw.buf))
        if raw.error:
            yield _Break(raw.error, raw.pos)
        return
    pending: _Break | None = None
    for item in _gzip_members(raw):
        if isinstance(item, _Break):
            if pending is None:
                pending = item
            else:
                pending.count += 1
                pending.end = item.offset
            continue
        if pending is not None:
            yield pending
            pending = None
        yield item
    if raw.error and pending is not None:
        pending.detail = f"{pending.detail} ({raw.error})"
    elif raw.error:
        pending = _Break(raw.error, raw.pos)
    if pending is not None:
        yield pending


def _gzip_members(raw: _RawInput) -> Iterator[bytes | _Member | _Break]:
    while raw.fill(1):
        start = raw.pos
        raw.fill(2)
        if not raw.buf.startswith(_GZIP_MAGIC):
            skipped, padding = raw.skip_to(_GZIP_RESYNC)
            if not padding:
                where = "trailing garbage" if not raw.buf else "garbage skipped"
                yield _Break(f"{where}: {skipped} bytes at offset {start}", start)
            continue
        yield from _one_member(raw, start)


def _one_member(raw: _RawInput, start: int) -> Iterator[bytes | _Member | _Break]:
    decompressor = zlib.decompressobj(31)
    announced = capped = False
    while True:
        if not raw.buf and not capped and not raw.fill(1):
            yield _Break(f"gzip stream truncated: member at offset {start} cut at offset {raw.pos}", start)
            return
        fed = raw.buf
        try:
            out = decompressor.decompress(fed, CHUNK)  # bounded output: no decompression bomb
        except zlib.error as exc:
            resume = max(raw.pos, start + 1)
            raw.consume(resume - raw.pos)
            raw.skip_to(_GZIP_RESYNC)
            yield _Break(f"corrupt gzip member at offset {start} ({exc}), resumed at offset {raw.pos}", start)
            return
        capped = len(out) == CHUNK
        rest = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
        raw.consume(len(fed) - len(rest))
        if out:
            if not announced:
                announced = True
                yield _Member(start)
            yield out
        if decompressor.eof:
            return


# ---------------------------------------------------------------------------------------
# Segment reader: decompressed bytes between two breaks, read by line or by length.


class _Segments:
    """Reads the decompressed stream one segment (stretch between breaks) at a time."""

    def __init__(self, raw: _RawInput) -> None:
        raw.fill(2)
        self.plain = not raw.buf.startswith(_GZIP_MAGIC)
        self._events = _events(raw)
        self._buf = b""
        self._i = 0
        self._base = 0  # decompressed offset of _buf[0]
        self._members: list[tuple[int, int]] = []  # (decompressed offset, raw offset) of member starts
        self.brk: _Break | None = None  # the break that ended the current segment
        self._ended = False
        self._exhausted = False
        self.starved = False  # a read since the flag was cleared wanted bytes past the segment end

    @property
    def pos(self) -> int:
        return self._base + self._i

    def _fill(self) -> bool:
        if self._ended:
            self.starved = True
            return False
        for event in self._events:
            if isinstance(event, bytes):
                self._base += self._i
                self._buf = self._buf[self._i :] + event
                self._i = 0
                return True
            if isinstance(event, _Member):
                self._note_member(self._base + len(self._buf), event.offset)
            else:
                self.brk = event
                self._ended = self.starved = True
                return False
        self._ended = self._exhausted = self.starved = True
        return False

    def _note_member(self, pos: int, offset: int) -> None:
        # Records start at or after _base, and only the last member start before a
        # record matters: keep that one for the bytes already consumed, drop older ones.
        older = [m for m in self._members if m[0] <= self._base]
        self._members = older[-1:] + [m for m in self._members if m[0] > self._base] + [(pos, offset)]

    def next_segment(self) -> bool:
        """Move past the break that ended this segment; False at the end of the input."""
        if self._exhausted:
            return False
        self._ended = False
        self.brk = None
        return True

    def readline(self, limit: int) -> bytes:
        """Read one line (up to ``limit`` bytes; shorter, without newline, at segment end)."""
        while True:
            end = self._buf.find(b"\n", self._i, self._i + limit)
            if end >= 0 or len(self._buf) - self._i >= limit or not self._fill():
                stop = end + 1 if end >= 0 else min(len(self._buf), self._i + limit)
                line = self._buf[self._i : stop]
                self._i = stop
                return line

    def unread(self, size: int) -> None:
        """Step back over the line just read (it is still buffered)."""
        self._i -= size

    def read(self, size: int) -> bytes:
        """Read ``size`` bytes, fewer at the end of the segment."""
        parts = []
        while size > 0:
            part = self._buf[self._i : self._i + size]
            self._i += len(part)
            size -= len(part)
            parts.append(part)
            if size and not self._fill():
                break
        return b"".join(parts)

    def skip(self, size: int) -> int:
        """Skip ``size`` bytes without holding them; return how many were skipped."""
        skipped = 0
        while skipped < size:
            step = min(size - skipped, len(self._buf) - self._i)
            self._i += step
            skipped += step
            if skipped < size and not self._fill():
                break
        return skipped

    def raw_offset(self, pos: int, since: int) -> int:
        """Raw offset of a record starting at decompressed ``pos``, -1 if unknown.

        Exact for uncompressed input. For gzip, the offset of the member whose output
        starts between the end of the previous record (``since``) and ``pos``: only blank
        lines lie between that member start and the record.
        """
        if self.plain:
            return pos
        offset = -1
        for member_pos, member_offset in self._members:
            if since <= member_pos <= pos:
                offset = member_offset
        self._members = [m for m in self._members if m[0] > pos]
        return offset


# ---------------------------------------------------------------------------------------
# Record splitter.


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where a record came from, for the Page or Dropped it becomes."""

    warc_file: str
    record_id: str | None
    url: str | None
    offset: int

    def drop(self, reason: str, detail: str) -> Dropped:
        return Dropped(reason, self.warc_file, self.record_id, self.url, detail, self.offset)


@dataclass(frozen=True, slots=True)
class _ArcHeader:
    url: str
    date: str
    length: str


def _split(reader: _Segments, warc_file: str, limits: ReaderLimits) -> Iterator[Entry]:
    """Split each segment into records and garbage runs; report breaks nobody absorbed.

    A break that cuts a record (or a garbage run) is reported once, in that entry's
    detail; a break between records gets an entry of its own.
    """
    mode: str | None = None  # "warc" or "arc": fixed by the first record header seen
    while True:
        since = reader.pos
        while True:
            start = reader.pos
            line = reader.readline(limits.max_header_bytes)
            if not line:
                break
            if not line.strip():
                continue
            kind = _header_kind(line, mode)
            reader.starved = False
            offset = reader.raw_offset(start, since)
            if kind is None:
                skipped = _skip_garbage(reader, mode, limits, len(line), line.endswith(b"\n"))
                detail = f"garbage skipped: {skipped} bytes at uncompressed offset {start}"
                entry = Dropped(READ_ERROR, warc_file, None, None, detail, offset)
            elif kind == "warc":
                mode = kind
                entry = _read_warc(reader, start, offset, warc_file, limits)
            else:
                mode = kind
                entry = _read_arc(reader, line, start, offset, warc_file, limits)
            since = reader.pos
            if reader.starved and reader.brk is not None and isinstance(entry, Dropped):
                # The segment ended inside this entry: the break is part of its story.
                entry = replace(entry, detail=f"{entry.detail}; {reader.brk.describe()}")
                reader.brk = None
            yield entry
        if reader.brk is not None:
            yield Dropped(READ_ERROR, warc_file, None, None, reader.brk.describe(), reader.brk.offset)
        if not reader.next_segment():
            return


def _header_kind(line: bytes, mode: str | None) -> str | None:
    if mode != "arc" and _WARC_START.fullmatch(line):
        return "warc"
    if mode != "warc" and _parse_arc_header(line) is not None:
        return "arc"
    return None


def _skip_garbage(
    reader: _Segments, mode: str | None, limits: ReaderLimits, skipped: int = 0, at_line_start: bool = True
) -> int:
    """Skip lines up to the next record header line (left unread); return the bytes skipped."""
    while True:
        line = reader.readline(limits.max_header_bytes)
        if not line:
            return skipped
        if at_line_start and _header_kind(line, mode) is not None:
            reader.unread(len(line))
            return skipped
        skipped += len(line)
        at_line_start = line.endswith(b"\n")


def _read_warc(reader: _Segments, start: int, offset: int, warc_file: str, limits: ReaderLimits) -> Entry:
    headers, size = _read_warc_headers(reader, limits)
    record_id = headers.get("warc-record-id") or _synthetic_id("warc", warc_file, offset, start)
    origin = _Origin(warc_file, record_id, _clean_url(headers.get("warc-target-uri")), offset)
    if size < 0:
        return origin.drop(READ_ERROR, "truncated record: input ends inside the WARC header")
    if size > limits.max_header_bytes:
        skipped = _skip_garbage(reader, "warc", limits, at_line_start=False)
        detail = f"WARC header over {limits.max_header_bytes} bytes ({skipped} more bytes skipped)"
        return origin.drop(READ_ERROR, detail)
    length_text = headers.get("content-length", "").strip()
    if not (length_text.isascii() and length_text.isdigit()):
        skipped = _skip_garbage(reader, "warc", limits)
        return origin.drop(READ_ERROR, f"no valid Content-Length ({length_text!r}); {skipped} bytes skipped")
    length = int(length_text)
    record_type = headers.get("warc-type", "").lower()
    wanted = record_type == "response" and length <= limits.max_record_bytes
    block = reader.read(length) if wanted else b""
    got = len(block) if wanted else reader.skip(length)
    if got < length:
        return origin.drop(READ_ERROR, f"truncated record: {got} of {length} block bytes")
    if record_type != "response":
        return origin.drop(NOT_RESPONSE, f"WARC-Type {record_type or '(missing)'}")
    if length > limits.max_record_bytes:
        return origin.drop(TOO_LARGE, f"record block of {length} bytes over {limits.max_record_bytes}")
    content_type = headers.get("content-type", "").lower()
    if not content_type.startswith("application/http") and not block.lstrip(b"\r\n").startswith(b"HTTP/"):
        return origin.drop(NOT_RESPONSE, f"response without HTTP payload ({content_type or 'no type'})")
    if origin.url is None:
        return origin.drop(READ_ERROR, "response record without WARC-Target-URI")
    date = _iso_date(headers.get("warc-date", ""))
    return _http_entry(origin, date, block, headers.get("warc-identified-payload-type"), limits)


def _read_warc_headers(reader: _Segments, limits: ReaderLimits) -> tuple[dict[str, str], int]:
    """Read header lines up to the blank line; return (headers, byte size), size -1 if cut.

    Names are lowercased; a repeated header keeps its first value; lines without a colon
    are skipped; continuation lines extend the header before them.
    """
    headers: dict[str, str] = {}
    size = 0
    last: str | None = None
    while size <= limits.max_header_bytes:
        line = reader.readline(limits.max_header_bytes)
        if not line.endswith(b"\n") and len(line) < limits.max_header_bytes:
            return headers, -1
        size += len(line)
        text = line.strip()
        if not text:
            return headers, size
        if line[:1] in (b" ", b"\t"):
            if last is not None:
                headers[last] += " " + text.decode("utf-8", "replace")
            continue
        name, sep, value = text.partition(b":")
        key = name.strip().decode("latin-1").lower()
        last = None
        if sep and key and key not in headers:
            headers[key] = value.strip().decode("utf-8", "replace")
            last = key
    return headers, size


def _parse_arc_header(line: bytes) -> _ArcHeader | None:
    """Parse an ARC v1 (URL IP date type length) or v2 header line; None if it is not one.

    A line with a valid shape but a non-numeric length still parses: the caller reports
    it. URLs may contain spaces in v1 files, so v1 fields are taken from the right.
    """
    if not line.endswith(b"\n") or line[:1].isspace():
        return None
    fields = line.decode("utf-8", "replace").split()
    if len(fields) < 5:
        return None
    if len(fields) >= 10 and _ARC_DATE.fullmatch(fields[2]):
        url, date = fields[0], fields[2]
    elif _ARC_DATE.fullmatch(fields[-3]):
        url, date = " ".join(fields[:-4]), fields[-3]
    else:
        return None
    if ":" not in url:
        return None
    return _ArcHeader(url, date, fields[-1])


def _read_arc(
    reader: _Segments, line: bytes, start: int, offset: int, warc_file: str, limits: ReaderLimits
) -> Entry:
    header = _parse_arc_header(line)
    assert header is not None
    # ARC records carry no id: a synthetic urn:arc:<file>:<offset> keeps each one traceable.
    record_id = _synthetic_id("arc", warc_file, offset, start)
    origin = _Origin(warc_file, record_id, _clean_url(header.url), offset)
    if not (header.length.isascii() and header.length.isdigit()):
        return origin.drop(READ_ERROR, f"ARC header with invalid length {header.length!r}")
    length = int(header.length)
    scheme = header.url.split(":", 1)[0].lower()
    wanted = scheme in ("http", "https") and length <= limits.max_record_bytes
    block = reader.read(length) if wanted else b""
    got = len(block) if wanted else reader.skip(length)
    if got < length:
        return origin.drop(READ_ERROR, f"truncated record: {got} of {length} block bytes")
    if scheme not in ("http", "https"):
        return origin.drop(NOT_RESPONSE, f"ARC {scheme} record")
    if length > limits.max_record_bytes:
        return origin.drop(TOO_LARGE, f"record block of {length} bytes over {limits.max_record_bytes}")
    return _http_entry(origin, _iso_date(header.date), block, None, limits)


def _http_entry(
    origin: _Origin, date: str, block: bytes, identified: str | None, limits: ReaderLimits
) -> Entry:
    """Turn an HTTP response block into a Page, or say why not."""
    try:
        status, headers, body = parse_http_response(block)
    except HttpParseError as exc:
        return origin.drop(READ_ERROR, str(exc))
    if status != 200:
        return origin.drop(HTTP_STATUS, f"HTTP status {status}")
    content_type = header_value(headers, "Content-Type")
    declared = media_type(content_type)
    if declared not in HTML_MEDIA_TYPES and declared not in GENERIC_MEDIA_TYPES:
        return origin.drop(NOT_HTML, f"Content-Type {declared}")
    body = decode_transfer(headers, body)
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
        tuple(headers),
        body,
        html,
        codec,
        source,
        origin.offset,
    )


def _synthetic_id(kind: str, warc_file: str, offset: int, stream_pos: int) -> str:
    # The raw offset when known, else the offset in the decompressed stream ("u" prefix).
    return f"<urn:{kind}:{warc_file}:{offset if offset >= 0 else f'u{stream_pos}'}>"


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
