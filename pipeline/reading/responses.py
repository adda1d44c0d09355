"""A framed record -> a `Page` or why not: type, size, HTTP status (recovered when sloppy), body, charset."""

from __future__ import annotations

import re
from datetime import datetime

from htlm.pipeline.reading.charset import UndecodableError, decode_html
from htlm.pipeline.reading.entries import Entry, Origin, Page, ReaderLimits
from htlm.pipeline.reading.http import (
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
from warcio.bufferedreaders import ChunkedDataReader
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders

_HTTP_TOKEN = re.compile(r"HTTP/\d+(?:\.\d+)?", re.IGNORECASE)
_ARC_DATE = re.compile(r"\d{8,20}")
_WARC_DATE = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z")


def framing_error(record: ArcWarcRecord) -> str | None:
    """Why the record's extent is unknown (so the bytes after it are garbage), or None."""
    headers = record.rec_headers
    if record.format == "arc":
        length = (headers.get_header("length") or "").strip()
        return None if length.isascii() and length.isdigit() else f"ARC header with invalid length {length!r}"
    length = (headers.get_header("Content-Length") or "").strip()
    if not (length.isascii() and length.isdigit()):
        return f"no valid Content-Length ({length!r})"
    return None


def record_entry(record: ArcWarcRecord, origin: Origin, limits: ReaderLimits) -> Entry:
    """What a framed record holds: a Page, or why not (the reasons in the order they are checked)."""
    headers = record.rec_headers
    if headers.total_len > limits.max_header_bytes:
        return origin.drop(
            READ_ERROR, f"record header of {headers.total_len} bytes over {limits.max_header_bytes}"
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
    if record.length > limits.max_record_bytes:
        return origin.drop(TOO_LARGE, f"record block of {record.length} bytes over {limits.max_record_bytes}")
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
    return http_entry(origin, iso_date(date), record, http, identified, limits)


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


def http_entry(
    origin: Origin,
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


def clean_url(url: str | None) -> str | None:
    """Strip ``<...>`` (wget, WARC 1.0 drafts) and percent-encode spaces in a target URI."""
    if url is None:
        return None
    url = url.strip()
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1].strip()
    return url.replace(" ", "%20") or None


def iso_date(value: str) -> str:
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
