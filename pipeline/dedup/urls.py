"""URL canonical form: one key for a page fetched under several spellings (the URL pass of dedup)."""

from __future__ import annotations

import contextlib
import encodings.idna
import re
import urllib.parse

# Query parameters that only track the visitor: dropped. Matched case-insensitively on the
# percent-decoded name; every name starting with "utm_" is dropped too.
TRACKING_PARAMS = frozenset(
    ["fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "ref_src", "igshid"]
)

_SPECIAL_SCHEMES = frozenset(["http", "https"])
# http and https are one scheme here, so both of their default ports go (see normalize_url).
_DEFAULT_PORTS = {"http": {"80", "443"}, "https": {"80", "443"}, "ftp": {"21"}}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = "!$&'()*+,;="
_PATH_SAFE = frozenset(_SUB_DELIMS + ":@/")
_QUERY_KEY_SAFE = frozenset("!$'()*+,;:@/?")  # no "&" or "=": they delimit the pairs
_QUERY_VALUE_SAFE = _QUERY_KEY_SAFE | {"="}
_HOST_SAFE = frozenset(_SUB_DELIMS)
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
# RFC 3986, appendix B: matches every string.
_URI_RE = re.compile(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$", re.DOTALL)
_PORT_RE = re.compile(r"[0-9]*")
# Label separators IDNA accepts besides "." (ideographic and fullwidth full stops).
_IDNA_DOTS_RE = re.compile("[.\u3002\uff0e\uff61]")
_PCT_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))  # what browsers strip around a URL


def normalize_url(url: str) -> str:
    """The canonical form of a URL, so that one page fetched under several spellings gets one key.

    Why: Common Crawl holds the same page under http/https, with and without `www.`, with
    tracking parameters and fragments; the URL pass of the dedup job groups on this string.

    Rules, for URLs with an authority (`scheme://host...`):

    - scheme lower-cased; **http becomes https** (the same document served both ways);
    - userinfo (`user:pass@`) dropped: it does not name a different document, and keys should
      not carry credentials;
    - host percent-decoded (when the escapes are UTF-8), lower-cased, trailing dot dropped,
      IDNA-encoded to ASCII per label (Python's built-in IDNA 2003 codec, so `ß` maps to
      `ss`); a label IDNA rejects is kept lower-cased and percent-encoded; IPv6 literals are
      only lower-cased;
    - **leading `www.` labels stripped** (`www.example.com` -> `example.com`), but not when
      that would leave a single label (`www.com` stays);
    - default ports dropped: :80 and :443 for http(s) (both, since the schemes are merged),
      :21 for ftp; leading zeros of a port dropped; an empty port (`host:`) dropped;
    - path: percent-encoding normalised (escapes of unreserved characters decoded, other
      escapes upper-cased, characters not allowed in a path, non-ASCII included, encoded as
      UTF-8 escapes, a stray `%` encoded as `%25`), then `.`/`..` segments resolved
      (RFC 3986 §5.2.4), then trailing `/` stripped except for the root; an empty path is `/`;
      for http(s) a backslash counts as `/`, as browsers read it;
    - query: split on `&`, empty pairs dropped, each name and value percent-normalised,
      tracking parameters (`utm_*` and `TRACKING_PARAMS`) dropped, the rest sorted; `?`
      dropped when nothing is left;
    - fragment dropped; tabs and newlines inside dropped and surrounding whitespace stripped,
      as browsers do.

    A string without an authority (`mailto:x`, `not a url`) comes back stripped, with its
    fragment dropped and its scheme lower-cased. Never raises, and is idempotent:
    `normalize_url(normalize_url(u)) == normalize_url(u)`.
    """
    try:
        return _normalize_url(url)
    except Exception:  # a bug must not kill a worker: fall back to a stable string
        return str(url).strip()


def _normalize_url(url: str) -> str:
    url = url.strip(_C0_AND_SPACE)
    url = url.replace("\t", "").replace("\n", "").replace("\r", "")
    scheme_match = _SCHEME_RE.match(url)
    if (
        scheme_match
        and url[scheme_match.end() : scheme_match.end() + 1] == ":"
        and scheme_match.group().lower() in _SPECIAL_SCHEMES
    ):
        url = url.replace("\\", "/")
    scheme, authority, path, query, _fragment = _URI_RE.match(url).groups()  # type: ignore[union-attr]
    if scheme is not None and not _SCHEME_RE.fullmatch(scheme):
        scheme = None
    if scheme is None or authority is None:
        head = url.partition("#")[0].rstrip(_C0_AND_SPACE)
        if scheme is not None:
            head = scheme.lower() + head[len(scheme) :]
        return head

    scheme = scheme.lower()
    hostport = authority.rpartition("@")[2]
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            host, port = hostport.lower(), ""
        else:
            host, port = hostport[: end + 1].lower(), hostport[end + 1 :]
            port = port[1:] if port.startswith(":") else _pct(port, frozenset())
    else:
        host, _, port = hostport.partition(":") if hostport.count(":") == 1 else (hostport, "", "")
        host = _normalize_host(host)
    if _PORT_RE.fullmatch(port):
        port = str(int(port)) if port else ""
        if port in _DEFAULT_PORTS.get(scheme, ()):
            port = ""
    else:
        port = _pct(port, frozenset())
    if scheme in _SPECIAL_SCHEMES:
        scheme = "https"

    path = _remove_dot_segments(_pct(path, _PATH_SAFE)).rstrip("/") or "/"
    out = f"{scheme}://{host}{':' + port if port else ''}{path}"
    if query:
        pairs = []
        for pair in query.split("&"):
            if not pair:
                continue
            name, eq, value = pair.partition("=")
            name = _pct(name, _QUERY_KEY_SAFE)
            plain = _PCT_RE.sub(lambda m: chr(int(m.group(1), 16)), name).lower()
            if plain.startswith("utm_") or plain in TRACKING_PARAMS:
                continue
            pairs.append(name + eq + _pct(value, _QUERY_VALUE_SAFE))
        if pairs:
            out += "?" + "&".join(sorted(pairs))
    return out


def _pct(text: str, safe: frozenset[str]) -> str:
    """Normalise percent-encoding: decode escaped unreserved characters, upper-case other
    escapes, escape every character that is neither unreserved nor in `safe` (as UTF-8)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "%" and i + 2 < n and text[i + 1] in _HEXDIGITS and text[i + 2] in _HEXDIGITS:
            decoded = chr(int(text[i + 1 : i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
            i += 3
            continue
        if ch in _UNRESERVED or ch in safe:
            out.append(ch)
        else:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _normalize_host(host: str) -> str:
    if "%" in host:
        with contextlib.suppress(UnicodeDecodeError):  # escapes that are not UTF-8 stay escaped
            decoded = urllib.parse.unquote(host, errors="strict")
            if "%" not in decoded:  # else "%2541" would decode twice over two calls
                host = decoded
    labels = []
    for label in _IDNA_DOTS_RE.split(host):
        if not label.isascii():
            with contextlib.suppress(UnicodeError, ValueError):  # rejected: escaped below
                label = encodings.idna.ToASCII(label).decode("ascii")
        # lower-case all but the hex digits of escapes, which _pct upper-cases
        labels.append(_PCT_RE.sub(lambda m: m.group(0).upper(), _pct(label, _HOST_SAFE).lower()))
    labels = ".".join(labels).split(".")  # an escaped dot (%2e) decoded above is a separator too
    while labels and labels[-1] == "" and len(labels) > 1:
        labels.pop()  # trailing dot(s)
    while len(labels) > 2 and labels[0] == "www":
        labels.pop(0)
    return ".".join(labels)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 for the absolute (or empty) path of a URL with an authority."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")[1:]
    for segment in segments:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    if segments and segments[-1] in (".", ".."):
        out.append("")  # "/a/b/.." is the directory "/a/"
    return "/" + "/".join(out)
