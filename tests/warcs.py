"""WARC records for tests and benchmarks, written with warcio's WARCWriter.

The framing is warcio's (WARC/1.1 headers, digests, one gzip member per record); the HTTP
block inside is given byte for byte, so a test can put a malformed HTTP head in sound framing.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterable

from warcio.warcwriter import WARCWriter

DATE = "2024-05-18T01:58:10Z"


def http_block(
    body: bytes,
    status_line: str = "HTTP/1.1 200 OK",
    headers: Iterable[str] = ("Content-Type: text/html; charset=UTF-8",),
) -> bytes:
    """An HTTP response block: the status line and header lines as given, then the body."""
    head = "\r\n".join([status_line, *headers, f"Content-Length: {len(body)}"])
    return (head + "\r\n\r\n").encode("latin-1") + body


def response_record(url: str, block: bytes, date: str = DATE, gzip: bool = True) -> bytes:
    """One WARC response record holding ``block`` as given (the writer would parse and rewrite its head)."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip)
    record_id = uuid.UUID(bytes=hashlib.blake2b(f"{url} {date}".encode(), digest_size=16).digest())
    headers = {"WARC-Date": date, "WARC-Record-ID": f"<urn:uuid:{record_id}>"}
    record = writer.create_warc_record(
        url,
        "resource",  # not parsed as HTTP by the writer; re-typed below
        payload=io.BytesIO(block),
        length=len(block),
        warc_content_type="application/http; msgtype=response",
        warc_headers_dict=headers,
    )
    record.rec_type = "response"
    record.rec_headers.replace_header("WARC-Type", "response")
    writer.write_record(record)
    return out.getvalue()


def write_warc(path: str, pages: Iterable[tuple[str, bytes]], date: str = DATE) -> int:
    """Write (url, HTML body) pairs as a .warc.gz of 200 responses; return the number written."""
    count = 0
    with open(path, "wb") as out:
        for url, body in pages:
            out.write(response_record(url, http_block(body), date))
            count += 1
    return count
