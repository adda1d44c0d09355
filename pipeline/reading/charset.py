"""Decode HTML bytes to text the way a browser would, but never into silent mojibake.

Sources are tried in browser order: byte-order mark, the HTTP ``charset`` parameter, a
``<meta>``/XML declaration in the first 4 KiB, then detection (strict UTF-8, then
charset_normalizer). Labels map to codecs per the WHATWG Encoding Standard (``gb2312`` is
decoded as GB18030, ``iso-8859-1`` as windows-1252, ...). A declared charset is accepted only
if it decodes the body with at most 0.1% undecodable bytes; otherwise the next source is
tried, and when none decodes honestly UndecodableError says what was tried.
"""

from __future__ import annotations

import codecs
import re
import threading

import webencodings
from charset_normalizer import CharsetMatch, CharsetMatches, from_bytes
from charset_normalizer.md import mess_ratio
from webencodings.labels import LABELS as _WHATWG_LABELS

# Share of bytes a declared charset may fail on (replaced by U+FFFD) and still be used.
MAX_BAD_BYTE_SHARE = 0.001
# charset_normalizer's chaos ("mess") ratio above which a detection is not trusted. 0.2 is
# the library's own default cut-off: text in its right codec scores near 0, random bytes
# score above it in every codec, so best() is None for them.
MAX_CHAOS = 0.2
META_SCAN_BYTES = 4096
BINARY_SCAN_BYTES = 1024

# UTF-32's BOMs first: FF FE 00 00 also starts with UTF-16 LE's FF FE.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Short undeclared Latin text gives detection too little to go on: a handful of é, ö, ñ bytes
# decode in many code pages, and detection picks among equals (Urdu cp1006, Baltic cp775/cp1257,
# hp-roman8, EBCDIC cp037, a CJK code page, ...). When detection is unsure (windows-1252 fits as
# well as its pick), the page has few non-ASCII bytes, they all read as Western letters or
# punctuation in windows-1252, and that reading is plausible by detection's own measure (its chaos
# around those bytes at most MAX_CHAOS), windows-1252 (the web's most common legacy encoding) is
# taken instead. Other scripts (Cyrillic, Greek, Hebrew, Polish, Hungarian, CJK) read in
# windows-1252 as runs of accented letters and symbols, which that measure rejects.
SHORT_LATIN_BYTES = 200
_CONTEXT = re.compile(r"\S{0,16}[^\x00-\x7f]\S{0,16}")  # the words around each non-ASCII character
# What windows-1252 text in Western languages holds above ASCII: letters and the punctuation of
# running text. Not the symbols other code pages' letters land on (¹ ³ ¦ ¤ Ÿ ...: Polish ą ł ś ź).
_WESTERN = frozenset(
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿŒœŠšŽž\u00a0¡¿«»°©®€£§·‘’‚“”„•…–—™"
)
_ASCII = bytes(range(0x80))
_LETTER_THEN_INVERTED = re.compile(r"\w[¡¿]")  # Spanish ¡ ¿ open a sentence, never follow a letter

# WHATWG encoding (webencodings.lookup(label).name) -> the Python codec we decode it with.
# Labels and their normalisation come from webencodings (the standard's own table). The codecs are
# webencodings' except GBK, whose decoder the standard defines as gb18030's (webencodings uses
# Python's narrower gbk). "replacement" (iso-2022-kr, hz-gb-2312, ...) and x-user-defined are left
# out on purpose: unknown, so the next source or detection decides.
_CODECS: dict[str, str] = {
    "utf-8": "utf-8", "ibm866": "cp866", "iso-8859-2": "iso8859_2", "iso-8859-3": "iso8859_3",
    "iso-8859-4": "iso8859_4", "iso-8859-5": "iso8859_5", "iso-8859-6": "iso8859_6",
    "iso-8859-7": "iso8859_7", "iso-8859-8": "iso8859_8", "iso-8859-8-i": "iso8859_8",
    "iso-8859-10": "iso8859_10", "iso-8859-13": "iso8859_13", "iso-8859-14": "iso8859_14",
    "iso-8859-15": "iso8859_15", "iso-8859-16": "iso8859_16", "koi8-r": "koi8_r", "koi8-u": "koi8_u",
    "macintosh": "mac_roman", "x-mac-cyrillic": "mac_cyrillic", "windows-874": "cp874",
    "windows-1250": "cp1250", "windows-1251": "cp1251", "windows-1252": "cp1252",
    "windows-1253": "cp1253", "windows-1254": "cp1254", "windows-1255": "cp1255",
    "windows-1256": "cp1256", "windows-1257": "cp1257", "windows-1258": "cp1258",
    "gbk": "gb18030", "gb18030": "gb18030", "big5": "big5hkscs", "euc-jp": "euc_jp",
    "iso-2022-jp": "iso2022_jp", "shift_jis": "cp932", "euc-kr": "cp949",
    "utf-16be": "utf-16-be", "utf-16le": "utf-16-le",
}  # fmt: skip
LABELS: dict[str, str] = {label: _CODECS[name] for label, name in _WHATWG_LABELS.items() if name in _CODECS}
_ASCII_WS_AND_QUOTES = " \t\n\f\r\"'"


_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([^\s"';,]+)""", re.IGNORECASE)
_META = re.compile(rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml\s[^>]*?encoding\s*=\s*["']\s*([-\w.:]+)""", re.IGNORECASE)

_tls = threading.local()


def _count_bad_bytes(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeDecodeError)
    _tls.bad += exc.end - exc.start
    return "\ufffd", exc.end


codecs.register_error("htlm.count", _count_bad_bytes)


class UndecodableError(ValueError):
    """No charset source decodes the body without (much) loss."""


def codec_for_label(label: str | None) -> str | None:
    """Map a charset label to a Python codec name as browsers do (WHATWG); None when unknown."""
    if not label:
        return None
    encoding = webencodings.lookup(label.strip(_ASCII_WS_AND_QUOTES))
    return None if encoding is None else _CODECS.get(encoding.name)


def looks_binary(body: bytes) -> bool:
    """True when the first KiB holds a NUL byte: no text encoding we accept produces one."""
    return b"\x00" in body[:BINARY_SCAN_BYTES]


def decode_html(body: bytes, http_content_type: str | None) -> tuple[str, str, str]:
    """Decode an HTML body; return (text, codec, source) with source in bom/http/meta/detected.

    Raises UndecodableError for binary bodies and bodies that no source decodes honestly.
    Valid UTF-8 that holds non-ASCII text overrides a declared legacy charset: a legacy
    encoding of real text is essentially never valid UTF-8, so the declaration is what lies,
    and following it would produce mojibake.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text = _decode(body[len(bom) :], codec)
            if text is not None:
                return text, codec, "bom"
            break
    http_label = _http_charset(http_content_type)
    if looks_binary(body):
        http_codec = codec_for_label(http_label) or ""
        text = _decode(body, http_codec) if http_codec.startswith("utf-16") else None
        if text is None:
            raise UndecodableError("binary body: NUL byte in the first KiB")
        return text, http_codec, "http"  # UTF-16 without BOM, said so by the server
    tried: list[str] = []
    for source, label in (("http", http_label), ("meta", meta_charset(body))):
        if label is None:
            continue
        codec = codec_for_label(label)
        if codec is None:
            tried.append(f"{source} label {label!r} unknown")
            continue
        if codec.startswith("utf-16"):
            # An ASCII-compatible page (no NUL bytes, see above) cannot be UTF-16; browsers
            # treat such a declaration as UTF-8.
            codec = "utf-8"
        if codec != "utf-8" and _is_utf8_text(body):
            return _decode(body, "utf-8") or "", "utf-8", "detected"
        text = _decode(body, codec)
        if text is not None:
            return text, codec, source
        tried.append(f"{source} {codec} fails on over {MAX_BAD_BYTE_SHARE:.1%} of bytes")
    result = _detect(body)
    if result is not None:
        return result[0], result[1], "detected"
    tried.append("detection found no plausible charset")
    raise UndecodableError("; ".join(tried))


def _http_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type)
    return match.group(1) if match else None


def meta_charset(body: bytes) -> str | None:
    """Return the charset label declared by an XML declaration or <meta> in the first 4 KiB."""
    head = body[:META_SCAN_BYTES]
    match = _XML_DECL.match(head) or _META.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def _decode(body: bytes, codec: str) -> str | None:
    """Decode strictly; else with U+FFFD if at most MAX_BAD_BYTE_SHARE of the bytes fail; else None."""
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        _tls.bad = 0
        text = body.decode(codec, "htlm.count")
        if _tls.bad > MAX_BAD_BYTE_SHARE * len(body):
            return None
    return text.removeprefix("\ufeff")


def _is_utf8_text(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _codec_for_detected(name: str) -> str:
    # charset_normalizer reports Python codec names (cp1251, euc_jp, gb2312, latin_1):
    # route them through the WHATWG labels so gb2312 still decodes as GB18030.
    python_name = codecs.lookup(name).name
    for candidate in (name, name.replace("_", "-"), python_name, python_name.replace("_", "-")):
        codec = codec_for_label(candidate)
        if codec is not None:
            return codec
    return python_name


def _detect(body: bytes) -> tuple[str, str] | None:
    if body.isascii() or _is_utf8_text(body):
        return _decode(body, "utf-8") or "", "utf-8"
    results = from_bytes(body, threshold=MAX_CHAOS)
    best = results.best()
    if best is None or best.chaos > MAX_CHAOS:
        return None
    codec = _codec_for_detected(best.encoding)
    if codec != "cp1252" and _detection_unsure(results, best) and _short_western(body):
        codec = "cp1252"
    text = _decode(body, codec)
    return None if text is None else (text, codec)


def _detection_unsure(results: CharsetMatches, best: CharsetMatch) -> bool:
    """Whether windows-1252 fits as well as detection's pick: a candidate decoding as windows-1252
    does (``could_be_from_charset``) is as orderly, or windows-1252 was never weighed (detection
    stopped early on equally good candidates)."""
    weighed = [match for match in results if "cp1252" in match.could_be_from_charset]
    return not weighed or any(match.chaos <= best.chaos for match in weighed)


def _short_western(body: bytes) -> bool:
    """Whether a page with few non-ASCII bytes reads as plausible Western text in windows-1252."""
    high = len(body.translate(None, _ASCII))  # bytes >= 0x80, counted in C
    if high > SHORT_LATIN_BYTES:
        return False
    try:
        text = body.decode("cp1252")
    except UnicodeDecodeError:
        return False
    if not all(char in _WESTERN for char in text if ord(char) >= 0x80) or _LETTER_THEN_INVERTED.search(text):
        return False
    around = " ".join(_CONTEXT.findall(text))  # the words around the non-ASCII characters
    return mess_ratio(around, maximum_threshold=1.0) <= MAX_CHAOS
