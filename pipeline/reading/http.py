"""HTTP payloads of archived responses: media types, Content-Encoding, HTML sniffing.

warcio parses the HTTP heads and undoes chunking (see warc.py); what is here it lacks.
Archived ``Content-Encoding`` headers lie (Common Crawl and ClueWeb store bodies already
decoded), and a compressed body can be a bomb: `decode_content` is bounded and tolerant
where tolerance cannot invent content, and raises a ``ValueError`` subclass where it would
have to guess (warcio's decoder writes errors to stderr and returns a short body).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

Headers = Sequence[tuple[str, str]]

HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Types that say nothing about the payload: the body is sniffed instead.
GENERIC_MEDIA_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/unknown", "unknown/unknown", "*/*"}
)

_HTML_SNIFF = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>/]", re.IGNORECASE)
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 * 1024


class ContentDecodingError(ValueError):
    """The body cannot be decoded with the Content-Encoding it declares."""


class ContentTooLarge(ValueError):
    """The decoded body would exceed the configured byte limit."""


def header_value(headers: Headers, name: str) -> str | None:
    """Return the first value of header ``name`` (case-insensitive), or None."""
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def media_type(content_type: str | None) -> str:
    """Return the lowercased media type of a Content-Type value ('' when absent)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def decode_content(headers: Headers, body: bytes, max_bytes: int = 10 * 1024 * 1024) -> bytes:
    """Undo ``Content-Encoding`` (gzip, x-gzip, deflate, br, identity), bounded by ``max_bytes``.

    A header that lies (gzip without the gzip magic, or deflate/br on a body that is
    plainly markup) leaves the body unchanged, as browsers do. A compressed body cut short
    yields what decodes (browsers render it too); corrupt data raises
    ContentDecodingError, an unknown coding (or br without the brotli module) too, and an
    output over ``max_bytes`` raises ContentTooLarge. ``X-Crawler-Content-Encoding`` (Common
    Crawl's rename of a header it already applied) is ignored.
    """
    value = header_value(headers, "Content-Encoding")
    if not value:
        return body
    # Codings are listed in the order they were applied; undo them from the last.
    for coding in reversed([c.strip().lower() for c in value.split(",") if c.strip()]):
        body = _decode_one(coding, body, max_bytes)
    return body


def _decode_one(coding: str, body: bytes, max_bytes: int) -> bytes:
    if coding in ("identity", "none", "utf-8", "binary", "7bit", "8bit"):
        return body
    if coding in ("gzip", "x-gzip"):
        if not body.startswith(_GZIP_MAGIC):
            return body
        return _inflate(body, 31, max_bytes)
    if coding == "deflate":
        if len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0:
            return _inflate(body, 15, max_bytes)
        try:
            return _inflate(body, -15, max_bytes)
        except ContentDecodingError:
            if _looks_like_markup(body):
                return body
            raise
    if coding == "br":
        return _unbrotli(body, max_bytes)
    raise ContentDecodingError(f"unsupported Content-Encoding {coding!r}")


def _inflate(body: bytes, wbits: int, max_bytes: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    out = bytearray()
    data = body
    try:
        while True:
            piece = decompressor.decompress(data, _CHUNK)
            out += piece
            if len(out) > max_bytes:
                raise ContentTooLarge(f"decoded body over {max_bytes} bytes")
            data = decompressor.unconsumed_tail
            if decompressor.eof or (not data and len(piece) < _CHUNK):
                break
    except zlib.error as exc:
        raise ContentDecodingError(f"corrupt compressed body: {exc}") from exc
    return bytes(out)


def _unbrotli(body: bytes, max_bytes: int) -> bytes:
    try:
        import brotli  # optional dependency
    except ImportError as exc:
        raise ContentDecodingError("Content-Encoding br needs the 'brotli' module, not installed") from exc
    decompressor = brotli.Decompressor()
    try:
        out = bytearray(decompressor.process(body, output_buffer_limit=_CHUNK))
        while not decompressor.is_finished() and len(out) <= max_bytes:
            piece = decompressor.process(b"", output_buffer_limit=_CHUNK)
            if not piece:
                break  # input exhausted: a truncated stream keeps what decoded
            out += piece
    except brotli.error as exc:
        if _looks_like_markup(body):
            return body
        raise ContentDecodingError(f"corrupt brotli body: {exc}") from exc
    if len(out) > max_bytes:
        raise ContentTooLarge(f"decoded body over {max_bytes} bytes")
    return bytes(out)


def _looks_like_markup(body: bytes) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def is_html(headers: Headers, body: bytes, identified_type: str | None = None) -> bool:
    """Decide whether a response payload is HTML.

    The HTTP Content-Type decides when it names a specific type. When it is missing or
    generic (octet-stream and the like), the WARC-Identified-Payload-Type decides if it
    names HTML, else the first KiB of the body is sniffed for a doctype, html, head or body
    tag, the way browsers sniff unlabeled responses.
    """
    declared = media_type(header_value(headers, "Content-Type"))
    if declared in HTML_MEDIA_TYPES:
        return True
    if declared not in GENERIC_MEDIA_TYPES:
        return False
    if media_type(identified_type) in HTML_MEDIA_TYPES:
        return True
    return sniff_html(body)


def sniff_html(body: bytes) -> bool:
    """True when the first KiB (after a BOM and whitespace) holds a doctype, html, head or body tag."""
    return _HTML_SNIFF.search(body.lstrip(b"\xef\xbb\xbf \t\r\n\x0c")[:1024]) is not None
