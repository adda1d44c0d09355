"""Write WARC/1.1 response records: for building test corpora and benchmarks from real pages.

The framing is what a crawler writes (one gzip member per record, WARC and HTTP headers as
Common Crawl has them); the pages are whatever the caller passes.
"""

from __future__ import annotations

import gzip
import hashlib
import uuid
from collections.abc import Iterable


def response_record(
    url: str,
    body: bytes,
    date: str = "2024-05-18T01:58:10Z",
    content_type: str = "text/html; charset=UTF-8",
    status: int = 200,
) -> bytes:
    """One gzip-compressed WARC response record holding an HTTP response with `body`."""
    http = (
        f"HTTP/1.1 {status} {'OK' if status == 200 else 'Status'}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Server: nginx\r\n"
        "X-Crawler-Content-Encoding: gzip\r\n"
        "\r\n"
    ).encode() + body
    record_id = uuid.UUID(bytes=hashlib.blake2b(f"{url} {date}".encode(), digest_size=16).digest())
    headers = (
        "WARC/1.1\r\n"
        "WARC-Type: response\r\n"
        f"WARC-Date: {date}\r\n"
        f"WARC-Record-ID: <urn:uuid:{record_id}>\r\n"
        f"WARC-Target-URI: {url}\r\n"
        f"WARC-Payload-Digest: sha1:{hashlib.sha1(body).hexdigest()}\r\n"
        "WARC-Identified-Payload-Type: text/html\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n"
        "\r\n"
    ).encode()
    return gzip.compress(headers + http + b"\r\n\r\n", mtime=0)


def write_warc(path: str, pages: Iterable[tuple[str, bytes]], date: str = "2024-05-18T01:58:10Z") -> int:
    """Write (url, body) pairs as a .warc.gz of response records; returns the number written."""
    count = 0
    with open(path, "wb") as out:
        for url, body in pages:
            out.write(response_record(url, body, date))
            count += 1
    return count
