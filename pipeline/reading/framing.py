"""warcio's readers, made strict where warcio guesses, over a raw byte tape that can push back and skip.

`Tape` is the raw input (read/tell for warcio; push-back, pattern search and a rewind over the last
record's span for resync);
`StrictReader` is warcio's DecompressingBufferedReader raising `GzipBreak` where warcio would
print to stderr and read on, with bounded lines and member offsets; `Loader` is warcio's
record loader, also reading responses without a target URI or with blank lines first.
"""

from __future__ import annotations

import collections
import re
import zlib
from typing import Any, BinaryIO

from htlm.pipeline.reading.entries import STREAM_FAILED
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.recordloader import ArcWarcRecordLoader

BLOCK = 16 * 1024  # warcio's read size
GZIP_MAGIC = b"\x1f\x8b"
WARC_LINE_IN_STREAM = re.compile(rb"\nWARC/(?:1\.1|1\.0|0\.17|0\.18)[ \t]*\r?\n")
GZIP_RESYNC = b"\x1f\x8b\x08"  # magic + deflate method: what a real member starts with
PADDING = b" \t\r\n\x00"


class Tape:
    """The raw input as warcio reads it (read, tell), plus push-back and skipping for resync.

    A read that raises ends the input; the error is kept for the accounting.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._pushed = b""
        self.pos = 0  # raw offset of the next byte read
        self.error: str | None = None
        self.error_reported = False  # told in a record's detail already
        self.history_limit = 0  # with > 0, the last bytes read are kept so `rewind_to` can go back
        self._history: collections.deque[tuple[int, bytes]] = collections.deque()  # (offset, bytes)
        self._history_bytes = 0
        self._history_end = 0  # raw offset just past the kept bytes

    def read(self, size: int | None = -1) -> bytes:
        size = BLOCK if size is None or size < 0 else size
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
        if self.history_limit and self.pos > self._history_end:
            new = data[len(data) - (self.pos - self._history_end) :]
            self._history.append((self._history_end, new))
            self._history_bytes += len(new)
            self._history_end = self.pos
            while self._history_bytes - len(self._history[0][1]) >= self.history_limit:
                self._history_bytes -= len(self._history.popleft()[1])
        return data

    def tell(self) -> int:
        return self.pos

    def rewind_to(self, offset: int) -> bool:
        """Serve the bytes from raw `offset` again (they must still be kept); False if they are not."""
        start = self._history[0][0] if self._history else self._history_end
        if not start <= offset <= self.pos:
            return False
        kept = b"".join(chunk for at, chunk in self._history if at + len(chunk) > offset)
        first = next(at for at, chunk in self._history if at + len(chunk) > offset) if kept else offset
        self._pushed = kept[offset - first : self.pos - first] + self._pushed
        self.pos = offset
        return True

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
            data = self.read(BLOCK)
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
            padding = padding and not part.strip(PADDING)
            if found >= 0 or not data:
                return skipped, padding


class GzipBreak(Exception):
    """A gzip member did not inflate; ``data`` holds the raw bytes handed to the decompressor."""

    def __init__(self, data: bytes, error: str, at_member_start: bool) -> None:
        super().__init__(error)
        self.data = data
        self.at_member_start = at_member_start


class StrictReader(DecompressingBufferedReader):
    """warcio's reader of the file's bytes, with these changes.

    A gzip error raises `GzipBreak` (warcio writes it to stderr and reads on as if the
    stream had ended, or takes the bytes as uncompressed); a line is never longer than the
    limit (warcio's are unbounded); the raw offset of each gzip member is kept; WARC header
    lines are counted, with their offsets, for the framing check; blank runs skip in bulk.
    """

    def __init__(self, tape: Tape, gzipped: bool, line_limit: int) -> None:
        super().__init__(tape, block_size=BLOCK, decomp_type="gzip" if gzipped else None)
        self.line_limit = line_limit
        self.member_offset = tape.tell()
        self.member_fed = False  # bytes were handed to the current member's decompressor
        self.warc_lines_seen = 0  # WARC/x.y header lines at a line start in everything read
        # Where the ones not yet passed start (uncompressed input only: the overstated-length check's
        # input); `first_line_after` drops those passed, so a file of N records costs N, not N^2.
        self.warc_line_offsets: list[int] = []
        self.offsets_dropped = 0
        self.keep_offsets = not gzipped
        self.start = tape.tell()
        self._scan_tail = b"\n"  # the stream's start counts as a line start

    def _process_read(self, data: bytes) -> None:
        super()._process_read(data)
        if self.buff is not None and self.buff_size:
            self._count_warc_lines(self.buff.getvalue())

    def _count_warc_lines(self, data: bytes) -> None:
        """Count WARC header lines in the stream, across block boundaries: the framing check's input."""
        window = self._scan_tail + data
        skip = len(self._scan_tail)
        base = self.start + self.num_read - len(data) - skip  # stream offset of window[0]
        for match in WARC_LINE_IN_STREAM.finditer(window):
            if match.end() > skip:
                self.warc_lines_seen += 1
                if self.keep_offsets:
                    self.warc_line_offsets.append(base + match.start() + 1)
        self._scan_tail = window[-16:]

    def first_line_after(self, offset: int) -> int | None:
        """The offset of the first WARC header line seen after `offset`, None if none yet.

        The lines at or before `offset` are dropped (counted in `offsets_dropped`): records are
        read in order, so they are never asked about again."""
        offsets = self.warc_line_offsets
        passed = 0
        while passed < len(offsets) and offsets[passed] <= offset:
            passed += 1
        del offsets[:passed]
        self.offsets_dropped += passed
        return offsets[0] if offsets else None

    def skip_blank(self) -> int:
        """Skip the whitespace at the head of the buffered bytes in one step; return how much.

        A flood of blank lines would otherwise cost one Python `readline` per line."""
        if self.buff is None:
            return 0
        start = self.buff.tell()
        if start >= self.buff_size or self.buff.getbuffer()[start] not in b" \t\r\n":
            return 0  # the usual case: the next line has content, nothing to copy
        rest = self.buff.getbuffer()[start : self.buff_size]
        skipped = len(rest) - len(bytes(rest).lstrip(b" \t\r\n"))
        rest.release()
        self.buff.seek(start + skipped)
        return skipped

    def _decompress(self, data: bytes) -> bytes:
        if self.decompressor is None or not data:
            return data
        self.member_fed = True
        try:
            return self.decompressor.decompress(data)
        except zlib.error as exc:
            raise GzipBreak(data, str(exc), self.num_block_read == 0) from None

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


class Loader(ArcWarcRecordLoader):
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
