"""Common Crawl listings: a crawl's `warc.paths.gz` URL, and the absolute WARC URLs it lists."""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator
from typing import BinaryIO

COMMON_CRAWL_BASE = "https://data.commoncrawl.org/"
# A listed path is ~140 bytes; a line past this is not a path (and is never held whole).
MAX_LISTING_LINE_BYTES = 64 * 1024
_CRAWL_ID = re.compile(r"CC-MAIN-\d{4}-\d{2}")


def _join(base_url: str, path: str) -> str:
    if not base_url:
        raise ValueError("base_url is empty")
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def crawl_paths_url(crawl: str, base_url: str = COMMON_CRAWL_BASE) -> str:
    """The URL of a crawl's list of WARC files, ``<base>/crawl-data/<crawl>/warc.paths.gz``.

    ``crawl`` must be a Common Crawl id like ``CC-MAIN-2024-22`` (checked, so that a typo
    fails at job construction rather than as a 404 on a worker). ``base_url`` may end in
    ``/`` or not: ``https://data.commoncrawl.org/`` (default) or ``s3://commoncrawl/`` or a
    mirror; the result has the same scheme.
    """
    if not isinstance(crawl, str) or not _CRAWL_ID.fullmatch(crawl):
        raise ValueError(
            f"crawl id must look like CC-MAIN-YYYY-WW, e.g. CC-MAIN-2024-22 (the ids are listed at "
            f"https://index.commoncrawl.org/collinfo.json), got {crawl!r}"
        )
    return _join(base_url, f"crawl-data/{crawl}/warc.paths.gz")


def read_warc_paths(
    stream: BinaryIO,
    base_url: str,
    max_files: int | None = None,
    *,
    name: str | None = None,
    max_line_bytes: int = MAX_LISTING_LINE_BYTES,
) -> list[str]:
    """Read a ``warc.paths.gz`` listing and return absolute WARC URLs, in file order.

    Each non-blank line is a path relative to the bucket root (``crawl-data/CC-MAIN-.../
    warc/....warc.gz``), joined to ``base_url``. The stream may be gzipped (as published) or
    plain text. Only the first ``max_files`` paths are returned (None: all), and reading stops
    there, so later lines are neither decompressed nor checked. A line that does not end in
    ``.warc.gz`` or ``.warc``, is an absolute URL, is not UTF-8, or is longer than
    ``max_line_bytes`` raises ValueError naming the file (``name``, else the stream's name) and
    the line number: a wrong file (an index listing, an HTML error page, one huge line) fails
    loudly. Lines are read at most ``max_line_bytes`` at a time, so memory stays bounded.
    """
    if max_files is not None and max_files < 0:
        raise ValueError(f"max_files must be >= 0 or None, got {max_files}")
    if max_files == 0:
        return []
    label = name or str(getattr(stream, "name", "") or getattr(stream, "url", "") or "the WARC paths file")
    head = stream.read(2)
    rest = io.BufferedReader(_Prefixed(head, stream))
    source: io.BufferedIOBase = gzip.GzipFile(fileobj=rest, mode="rb") if head == b"\x1f\x8b" else rest
    urls: list[str] = []
    for number, raw in enumerate(_bounded_lines(source, max_line_bytes), start=1):
        if raw is None:
            raise ValueError(
                f"line {number} of {label} is longer than {max_line_bytes} bytes: not a listing of "
                "WARC paths (check the file, or the --crawl / base URL that named it)"
            )
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ValueError(f"line {number} of {label} is not UTF-8: {raw[:200]!r}") from None
        if not line:
            continue
        if "://" in line or not line.endswith((".warc.gz", ".warc")):
            raise ValueError(
                f"line {number} of {label} is not a relative path to a .warc.gz or .warc file: {line[:200]!r}"
            )
        urls.append(_join(base_url, line))
        if max_files is not None and len(urls) >= max_files:
            break
    return urls


def _bounded_lines(source: io.BufferedIOBase, max_bytes: int) -> Iterator[bytes | None]:
    """The lines of `source`, each read at most `max_bytes` (+ its line end) at a time; None for a
    longer one (and iteration should stop there: its rest is not skipped)."""
    while True:
        raw = source.readline(max_bytes + 2)  # room for "\r\n"
        if not raw:
            return
        if len(raw) > max_bytes and len(raw.rstrip(b"\r\n")) > max_bytes:
            yield None
            return
        yield raw


class _Prefixed(io.RawIOBase):
    """``prefix`` then the rest of ``stream``: lets read_warc_paths sniff gzip on a pipe."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        super().__init__()
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._prefix:
            n = min(len(view), len(self._prefix))
            view[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)
