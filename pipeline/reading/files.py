"""Local input files of `htlm-simplify`: a WARC/ARC file, or one HTML page read as if it were a record."""

from __future__ import annotations

import contextlib
import gzip
import io
import zlib
from pathlib import Path

from htlm.pipeline import reasons
from htlm.pipeline.reading.charset import UndecodableError, decode_html
from htlm.pipeline.reading.entries import Dropped, Page, ReaderLimits

_ARCHIVE_STARTS = (b"WARC/", b"filedesc://")


def is_archive(path: Path) -> bool:
    """Whether a file is a WARC/ARC (by name, else by its first bytes, gzipped or not)."""
    name = path.name.lower()
    if ".warc" in name or ".arc" in name:
        return True
    with open(path, "rb") as stream:
        head = stream.read(4096)
    if head.startswith(b"\x1f\x8b"):
        with contextlib.suppress(OSError, EOFError):
            head = gzip.GzipFile(fileobj=io.BytesIO(head)).read(64)
    return head.lstrip().startswith(_ARCHIVE_STARTS)


def read_html_file(path: Path, limits: ReaderLimits | None = None) -> Page | Dropped:
    """One HTML file (plain or .gz) as a Page, so it takes the same road as a WARC record.

    The reader's rules apply: at most `max_record_bytes` (gzip included, so no bomb is
    inflated whole) or `read/too-large`, and the charset decoded here, once.
    """
    limit = (limits or ReaderLimits()).max_record_bytes
    url = path.resolve().as_uri()
    with open(path, "rb") as raw:  # a file that cannot be opened is the caller's to report
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        try:
            body = (gzip.GzipFile(fileobj=raw) if gzipped else raw).read(limit + 1)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:  # a corrupt or cut .gz
            return Dropped(reasons.READ_ERROR, str(path), None, url, f"corrupt gzip: {error}", 0)
    if len(body) > limit:
        return Dropped(reasons.TOO_LARGE, str(path), None, url, f"page over {limit} bytes", 0)
    try:
        html, charset, source = decode_html(body, None)
    except UndecodableError as error:
        return Dropped(reasons.DECODE_ERROR, str(path), None, url, str(error), 0)
    return Page(url, str(path), url, "", 200, (), body, html, charset, source, 0)
