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
- a framing check: WARC header lines that lay inside another record's block (an overstated
  Content-Length) are counted, one read-error each;
- recovering the status of a sloppy HTTP head (`responses.py`), size limits, Content-Encoding
  (bounded, `http.py`) and charset (`charset.py`).

warcio's readers made strict live in `framing.py`, the entries in `entries.py`. `read_pages`
is the one entry point.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from htlm.pipeline.reading.entries import Dropped, Entry, Origin, ReaderLimits
from htlm.pipeline.reading.framing import (
    BLOCK,
    GZIP_MAGIC,
    GZIP_RESYNC,
    PADDING,
    GzipBreak,
    Loader,
    StrictReader,
    Tape,
)
from htlm.pipeline.reading.responses import clean_url, framing_error, record_entry
from htlm.pipeline.reasons import (
    READ_ERROR,
)
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

_WARC_LINE = re.compile(rb"WARC/(?:1\.1|1\.0|0\.17|0\.18)[ \t\r]*\n?")  # the versions warcio reads
_ARC_DATE = re.compile(r"\d{8,20}")


# warcio logs a warning for each target URI with spaces it repairs; the repair is the answer.
logging.getLogger("warcio.recordloader").setLevel(logging.ERROR)


def read_pages(
    source: str | os.PathLike[str] | BinaryIO,
    warc_file: str | None = None,
    *,
    limits: ReaderLimits | None = None,
) -> Iterator[Entry]:
    """Yield one Page or Dropped per record of a WARC or ARC file, gzipped or not.

    ``source`` is a path or a binary file object (it may be non-seekable, e.g. an HTTP
    stream; it is read in blocks and never whole). ``warc_file`` names the file in the
    entries (default: the base name of the path). Opening a path may raise OSError, here;
    iteration itself never raises: corrupt gzip, garbage, truncation and read failures
    become ``Dropped(read-error)`` entries, so that records in == pages + dropped.
    """
    limits = limits or ReaderLimits()
    if isinstance(source, (str, os.PathLike)):
        name = warc_file or os.path.basename(os.fspath(source))
        return _iterate(open(source, "rb"), name, limits, close=True)  # closed by _iterate
    name = warc_file or os.path.basename(str(getattr(source, "name", "") or "<stream>"))
    return _iterate(source, name, limits, close=False)


def _iterate(stream: BinaryIO, warc_file: str, limits: ReaderLimits, close: bool) -> Iterator[Entry]:
    try:
        yield from _ResyncingIterator(Tape(stream), warc_file, limits)
    finally:
        if close:
            stream.close()


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

    def __init__(self, tape: Tape, warc_file: str, limits: ReaderLimits) -> None:
        super().__init__(tape, verify_http=False, arc2warc=False)
        head = tape.read(2)
        tape.unread(head)
        self.gzipped = head.startswith(GZIP_MAGIC)
        self.loader = Loader(verify_http=False, arc2warc=False)
        self.reader = StrictReader(tape, self.gzipped, limits.max_header_bytes)
        if not self.gzipped:  # keep what a record may span, so an overstated length can be undone
            tape.history_limit = limits.max_record_bytes + limits.max_header_bytes + 4 * BLOCK
        self.tape = tape
        self.warc_file = warc_file
        self.limits = limits
        self.in_member = 0  # records and garbage runs met so far in the current gzip member
        self.record_starts = 0  # WARC header lines records were read from (the framing check)
        self.lines_seen_before = 0  # WARC header lines seen by readers replaced after a gzip break
        self.cut_reported = False
        self.blank_lines_after = 0  # line ends between the last block and the line after it

    def _iterate_records(self) -> Iterator[Entry]:  # type: ignore[override]
        pending: _Break | None = None
        while True:
            try:
                entry = self._next_entry()
            except GzipBreak as exc:
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
        yield from self._framing_check()

    def _framing_check(self) -> Iterator[Dropped]:
        """One read-error per WARC header line that no record started from: it lay inside another
        record's block, whose Content-Length overstated it (or a WARC was archived inside a record)."""
        swallowed = self.lines_seen_before + self.reader.warc_lines_seen - self.record_starts
        if swallowed <= 0:
            return
        detail = (
            f"framing check: {swallowed} WARC record header(s) lay inside other records' blocks and "
            "were not read (a Content-Length overstates its record, or a WARC is archived inside one)"
        )
        logging.getLogger(__name__).warning("%s: %s", self.warc_file, detail)
        for _ in range(swallowed):
            yield Dropped(READ_ERROR, self.warc_file, None, None, detail, -1)

    def _consume_blanklines(self) -> tuple[bytes | None, int]:
        # warcio's takes one non-blank line after a record as blank (with a warning on
        # stderr); here it is left for the loop, which counts it as garbage.
        blank = 0
        self.blank_lines_after = 0
        while True:
            line = self.reader.readline()
            if not line:
                return None, blank
            if line.strip():
                return line, blank
            flood = self.reader.skip_blank()
            blank += len(line) + flood
            self.blank_lines_after += 2 if flood else 1

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
        if _WARC_LINE.fullmatch(line):
            self.record_starts += 1
        try:
            record = self.record = self._next_record(line)
        except GzipBreak:
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

    def _record_entry(self, record: ArcWarcRecord, origin: Origin) -> Entry:
        """The entry of a record whose header warcio read; its block is read or skipped to the end."""
        framing = framing_error(record)
        if framing is not None:
            skipped = self._skip_to_header(True)
            return origin.drop(READ_ERROR, f"{framing}; {skipped} bytes skipped")
        try:
            entry = record_entry(record, origin, self.limits)
            self.read_to_end()
        except GzipBreak as exc:
            brk = self._resync_gzip(exc)
            return origin.drop(READ_ERROR, f"truncated record: {brk.describe() if brk else exc}")
        overstated = self._overstated(record, origin)
        if overstated is not None:
            return overstated
        self._skip_leftover(record.format, origin)
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

    def _overstated(self, record: ArcWarcRecord, origin: Origin) -> Entry | None:
        """In an uncompressed file, a block that ran over the next record's header: cut it there.

        The record becomes a read-error, and reading goes back to that header (the tape keeps the
        bytes), so the records the declared length swallowed are read after all."""
        if self.gzipped or origin.offset < 0:
            return None
        end = self.tape.tell() - self.reader.rem_length() - len(self.next_line or b"")
        inside = self.reader.first_line_after(origin.offset)  # O(1) amortised: earlier lines dropped
        if inside is None or inside >= end or not self.tape.rewind_to(inside):
            return None  # nothing swallowed, or too far back: the framing check counts it
        self.lines_seen_before += self.reader.offsets_dropped  # the lines before `inside`
        self.reader = StrictReader(self.tape, False, self.limits.max_header_bytes)
        self.next_line = None
        detail = (
            f"Content-Length {record.length} overstates the record: the next one starts at offset {inside}"
        )
        return origin.drop(READ_ERROR, detail)

    def _skip_leftover(self, record_format: str, origin: Origin) -> None:
        """Fold the bytes after an understated block into its record: no garbage entry of its own.

        A block ends with two line ends and the next header. Content before those two line ends
        is the rest of the block its Content-Length left out (garbage after them is garbage
        between records). The record keeps the entry its declared block gave; the log says
        how much was left over. ARC records end with one line end, so there the two cannot be
        told apart and what follows stays a garbage run.
        """
        line = self.next_line
        if record_format != "warc" or not line or self.blank_lines_after >= 2 or self._is_header(line):
            return
        self.next_line = None
        leftover = len(line) + self._skip_to_header(line.endswith(b"\n"))
        logging.getLogger(__name__).warning(
            "%s: record %s: Content-Length understates its block: %d more bytes before the next record",
            self.warc_file,
            origin.record_id,
            leftover,
        )

    def _header_line(self) -> bytes:
        """The next non-blank line, moving on to the next gzip member at a member's end; b"" at the end."""
        while True:
            line, self.next_line = self.next_line or self.reader.readline(), None
            if line.strip():
                return line
            if line:
                self.reader.skip_blank()
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

    def _resync_gzip(self, exc: GzipBreak) -> _Break | None:
        """Find the next gzip member in the raw bytes after a member that did not inflate."""
        member = self.reader.member_offset
        garbage = exc.at_member_start and not exc.data.startswith(GZIP_MAGIC)
        head = exc.data[:1] if exc.at_member_start else b""  # step past the member that failed
        self.tape.unread(exc.data[len(head) :])
        skipped, padding = self.tape.skip_to(GZIP_RESYNC)
        self.lines_seen_before += self.reader.warc_lines_seen
        self.reader = StrictReader(self.tape, True, self.limits.max_header_bytes)
        self.next_line, self.in_member, self.cut_reported = None, 0, False
        if not garbage:
            resumed = self.tape.pos
            return _Break(
                f"corrupt gzip member at offset {member} ({exc}), resumed at offset {resumed}", member
            )
        if padding and not head.strip(PADDING):
            return None
        where = "trailing garbage" if self.tape.at_end() else "garbage skipped"
        return _Break(f"{where}: {skipped + len(head)} bytes at offset {member}", member)

    # -- records -> entries ------------------------------------------------------------

    def _origin(self, record: ArcWarcRecord, offset: int, stream_pos: int) -> Origin:
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
        return Origin(self.warc_file, record_id, clean_url(url), offset)


def _is_arc_header(line: bytes) -> bool:
    """Whether a line is an ARC v1 header (URL IP date type length); URLs may hold spaces.

    A line with a valid shape but a non-numeric length is one: the record reports it.
    """
    if not line.endswith(b"\n") or line[:1].isspace():
        return False
    fields = line.decode("utf-8", "replace").split()
    return len(fields) >= 5 and bool(_ARC_DATE.fullmatch(fields[-3])) and ":" in " ".join(fields[:-4])
