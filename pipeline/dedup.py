"""Deduplication core: exact URL, exact content and MinHash-LSH near-duplicates, the Beam way.

The Beam job deduplicates documents across workers and input files in three passes, each
"compute keys per document -> GroupByKey -> drop the losers of each group":

1. **URL**: key `normalize_url(url)`; group; `losers_in_group` drops all but one.
2. **Content**: key `content_key(text)` (blake2b-128 of `normalize_text`); same.
3. **Near-duplicates**: `near_dup_keys(text)` = `band_keys(MinHasher().signature(shingle_hashes(text)))`;
   group by band key; a document is dropped iff it is a loser (`losers_in_bucket`) in at least
   one bucket.

Which document survives is decided by one total order, `keep_order_key`: the most text first,
then the earliest fetch date, then the smallest doc_id (then the url). Every worker computes
the same winner whatever order a group's members arrive in.

Why every near-duplicate cluster keeps at least one document: take any set of documents
linked by shared buckets (a connected component) and let g be its member with the smallest
`keep_order_key`. Every bucket that holds g holds only members of g's component, so g is the
smallest member of that bucket and wins it; g is therefore a loser nowhere and survives.
This needs doc_ids to be unique (one DocRef per doc_id), which the job ensures by keying on
the WARC record id. The rule may drop more than pairwise similarity alone would (A~B and B~C
drop B and C when A wins, even if A and C are not similar) and may keep several members of a
component that no single bucket joins; that is the usual price of resolving LSH buckets in one
GroupByKey without a connected-components pass.

Determinism across processes and machines: no salted `hash()`, no numpy random streams
(whose algorithms numpy may change between versions). Every hash is blake2b or explicit
64-bit arithmetic, MinHash parameters come from blake2b of the seed, and byte order is fixed
(little-endian). Tokenisation depends on the Unicode tables of the Python version, which
setup.py pins to 3.11.

Pure: numpy and the standard library only, no Beam import.
"""

from __future__ import annotations

import contextlib
import encodings.idna
import functools
import hashlib
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_BANDS",
    "DEFAULT_NUM_PERM",
    "DEFAULT_ROWS",
    "DEFAULT_SHINGLE_SIZE",
    "DEFAULT_THRESHOLD",
    "MERSENNE_61",
    "TRACKING_PARAMS",
    "DocRef",
    "MinHasher",
    "band_keys",
    "content_key",
    "estimated_jaccard",
    "jaccard",
    "keep_order_key",
    "losers_in_bucket",
    "losers_in_group",
    "near_dup_keys",
    "normalize_text",
    "normalize_url",
    "optimal_bands",
    "preferred",
    "shingle_hashes",
    "shingles",
    "tokenize",
]

# ---------------------------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Exact content
# ---------------------------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """Text as compared for duplicates: NFKC, case-folded, whitespace runs as one space, stripped.

    Why: the same page re-rendered differs in whitespace, case of headings, full-width vs
    half-width forms and composed vs decomposed accents; none of that makes a new document.
    NFKC is applied again after case folding (NFKC_Casefold style) so the result is stable
    under a second call.
    """
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(text.split())  # str.split() splits on the same characters as re's \s


def content_key(text: str) -> str:
    """Hex blake2b-128 of `normalize_text(text)`: the group key of the exact-content pass.

    128 bits make an accidental collision among billions of documents negligible (~2**-64).
    """
    return hashlib.blake2b(normalize_text(text).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# ---------------------------------------------------------------------------------------------
# Shingles
# ---------------------------------------------------------------------------------------------

DEFAULT_SHINGLE_SIZE = 5

# Scripts written without spaces between words: each character is a token of its own (with
# any combining marks that follow it). Han (with iteration marks), Hiragana, Katakana, Thai,
# Lao, Myanmar, Khmer. Hangul is written with spaces and stays word-tokenised.
_NO_SPACE_RANGES = (
    "\u3005-\u3007\u3021-\u3029\u3038-\u303b"  # 々〆〇, Hangzhou numerals, 〸〹〺〻
    "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"  # Hiragana, Katakana (ー included), Katakana ext.
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ext. A, unified, compatibility
    "\U00020000-\U0002fa1f\U00030000-\U0003134f"  # CJK ext. B-F, compat. supplement, ext. G
    "\uff66-\uff9f"  # half-width Katakana (NFKC maps most of them to full width anyway)
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Myanmar, Khmer
)


@functools.cache
def _tokenizer() -> tuple[dict[int, str], re.Pattern[str], re.Pattern[str]]:
    """The tokeniser's tables, built on first use (scanning the Unicode tables takes ~0.1 s).

    A translation table turns separators into spaces: punctuation, symbols, separators,
    controls, private-use characters (icon fonts) and "_"; format characters (soft hyphen,
    joiners, bidi marks) are deleted, except the zero-width space, a separator. Letters,
    digits and combining marks stay, so a Devanagari or Arabic word keeps its vowel signs
    (a `\\w+` regex would cut it at each).
    Chunks holding a no-space character are then cut by a regex into single characters (with
    the combining marks that follow them) and runs of other characters. Planes 0 and 1 are
    scanned; characters above are left as they are (CJK in planes 2 and 3 is in the no-space
    ranges). Big regex character classes are slow in `re`, hence the table.
    """
    table: dict[int, str] = {}
    marks: list[int] = []
    for cp in range(0x20000):
        category = unicodedata.category(chr(cp))
        if category[0] in "PSZ" or category in ("Cc", "Co"):
            table[cp] = " "
        elif category == "Cf":
            table[cp] = ""
        elif category[0] == "M":
            marks.append(cp)
    table[ord("_")] = " "
    table[0x200B] = " "  # zero-width space
    marks += range(0xE0100, 0xE01F0)  # variation selectors supplement
    ranges: list[str] = []
    start = prev = marks[0]
    for cp in [*marks[1:], -1]:
        if cp != prev + 1:
            ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
            start = cp
        prev = cp
    no_space = re.compile(f"[{_NO_SPACE_RANGES}]")
    split = re.compile(f"[{_NO_SPACE_RANGES}][{''.join(ranges)}]*|[^{_NO_SPACE_RANGES}]+")
    return table, no_space, split


def tokenize(text: str) -> list[str]:
    """The tokens of `normalize_text(text)`: words, and single characters of CJK/Thai-like scripts.

    Why per character for Chinese, Japanese, Thai, Lao, Khmer and Myanmar: they have no spaces,
    so word n-grams would see a whole sentence as one token; character n-grams are the usual
    choice for near-duplicate detection there. Punctuation and symbols are not tokens.
    """
    table, no_space, split = _tokenizer()
    tokens: list[str] = []
    for chunk in normalize_text(text).translate(table).split():
        if chunk.isascii() or not no_space.search(chunk):
            tokens.append(chunk)
        else:
            tokens.extend(split.findall(chunk))
    return tokens


_MASK64 = (1 << 64) - 1
# Multiplier of the polynomial that combines token hashes into a shingle hash (odd, from the
# golden ratio), and the two multipliers of MurmurHash3's 64-bit finaliser.
_POLY = np.uint64(0x9E3779B97F4A7C15)
_FMIX1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def _token_hash(token: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little"
    )


def shingle_hashes(text: str, n: int = DEFAULT_SHINGLE_SIZE) -> np.ndarray:
    """The distinct 64-bit hashes of the token n-grams of `text`, sorted, as a uint64 array.

    The fast path behind `shingles` (no Python set); what `MinHasher.signature` wants.

    Hash: each distinct token gets blake2b-64 (little-endian); the n-gram at position i is
    `fmix64(sum_j h[i+j] * K**(n-1-j) mod 2**64)` with K = 0x9E3779B97F4A7C15 and fmix64
    MurmurHash3's finaliser, vectorised with numpy. That costs ~0.4 µs per token against
    ~1.1 µs for one blake2b per n-gram, and is as stable (fixed arithmetic, no seeds). Texts
    with fewer than `n` tokens (including none) give one shingle: blake2b-64 of their tokens
    joined by U+001F, so a short text is still comparable with itself.
    """
    if n < 1:
        raise ValueError(f"shingle size must be >= 1, got {n}")
    tokens = tokenize(text)
    if len(tokens) < n:
        return np.array([_token_hash("\x1f".join(tokens))], dtype=np.uint64)
    ids: dict[str, int] = {}
    index = np.fromiter((ids.setdefault(t, len(ids)) for t in tokens), dtype=np.intp, count=len(tokens))
    table = np.fromiter((_token_hash(t) for t in ids), dtype=np.uint64, count=len(ids))
    h = table[index]
    count = len(tokens) - n + 1
    acc = h[:count].copy()
    for j in range(1, n):
        acc *= _POLY
        acc += h[j : j + count]
    acc ^= acc >> _S33
    acc *= _FMIX1
    acc ^= acc >> _S33
    acc *= _FMIX2
    acc ^= acc >> _S33
    return np.unique(acc)


def shingles(text: str, n: int = DEFAULT_SHINGLE_SIZE) -> set[int]:
    """The set of 64-bit hashes of the word n-grams of `normalize_text(text)` (see `shingle_hashes`).

    Words come from `tokenize`, which splits Chinese, Japanese, Thai and similar scripts into
    characters (they are written without spaces), so there the shingles are character n-grams.
    Texts shorter than `n` tokens give one shingle of the whole text.
    """
    return set(shingle_hashes(text, n).tolist())


# ---------------------------------------------------------------------------------------------
# MinHash
# ---------------------------------------------------------------------------------------------

DEFAULT_NUM_PERM = 128
MERSENNE_61 = (1 << 61) - 1
_P = np.uint64(MERSENNE_61)
_M32 = np.uint64(0xFFFFFFFF)
_M29 = np.uint64((1 << 29) - 1)
_S3, _S29, _S32, _S61 = np.uint64(3), np.uint64(29), np.uint64(32), np.uint64(61)
_CHUNK = 512  # shingles per block: num_perm x block temporaries of 512 KB stay in cache (measured best)


def _mod_p(v: np.ndarray) -> np.ndarray:
    """v mod 2**61-1 for any uint64 array."""
    v = (v & _P) + (v >> _S61)  # < 2**61 + 8, congruent to v
    return np.minimum(v, v - _P)  # v - p wraps around to a huge value when v < p


class MinHasher:
    """MinHash signatures with `num_perm` universal hash functions h_i(x) = (a_i*x + b_i) mod (2**61-1).

    Why this family: (a*x+b) mod a Mersenne prime is the textbook universal hash; p = 2**61-1
    exceeds the 2**32 of 32-bit variants, so distinct shingles almost never collide, and
    reducing mod p needs only shifts and masks.

    a_i in [1, p) and b_i in [0, p) come from blake2b of (seed, i), not from a numpy random
    stream, so every process, machine and numpy version gets the same functions.

    `signature` computes the products exactly in uint64: with a = a1*2**32 + a0 and
    x = x1*2**32 + x0 (a, x < 2**61), a*x = a1*x1*2**64 + (a1*x0 + a0*x1)*2**32 + a0*x0, and
    since 2**61 = 1 (mod p): 2**64 = 8, and mid*2**32 = (mid >> 29) + (mid & (2**29-1))*2**32.
    Every partial sum stays below 2**64 (see the bounds in the code); a test checks the result
    against Python integers. Cost: ~1.1 µs per shingle at num_perm=128 (one core).
    """

    def __init__(self, num_perm: int = DEFAULT_NUM_PERM, seed: int = 1) -> None:
        if num_perm < 1:
            raise ValueError(f"num_perm must be >= 1, got {num_perm}")
        self.num_perm = num_perm
        self.seed = seed
        a, b = [], []
        for i in range(num_perm):
            digest = hashlib.blake2b(f"htlm-minhash:{seed}:{i}".encode(), digest_size=16).digest()
            a.append(int.from_bytes(digest[:8], "little") % (MERSENNE_61 - 1) + 1)
            b.append(int.from_bytes(digest[8:], "little") % MERSENNE_61)
        self.a = np.array(a, dtype=np.uint64)
        self.b = np.array(b, dtype=np.uint64)

    def __repr__(self) -> str:
        return f"MinHasher(num_perm={self.num_perm}, seed={self.seed})"

    def signature(self, shingles: Iterable[int] | np.ndarray) -> np.ndarray:
        """The MinHash signature (uint64 array of length num_perm, values < 2**61-1) of a shingle set.

        Accepts a set of ints in [0, 2**64) (`shingles`) or a uint64 array (`shingle_hashes`).
        The empty set gets the sentinel signature of all 2**64-1 (larger than any real value),
        which `shingles` never produces.
        """
        if isinstance(shingles, np.ndarray):
            x = shingles.astype(np.uint64, copy=False).ravel()
        else:
            items = shingles if isinstance(shingles, (set, frozenset, list, tuple)) else list(shingles)
            x = np.fromiter(items, dtype=np.uint64, count=len(items))
        result = np.full(self.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
        if x.size == 0:
            return result
        x = _mod_p(x)
        a0, a1 = (self.a & _M32)[:, None], (self.a >> _S32)[:, None]  # a1 < 2**29
        b = self.b[:, None]
        for start in range(0, x.size, _CHUNK):
            xc = x[start : start + _CHUNK]
            x0, x1 = xc & _M32, xc >> _S32  # x1 < 2**29
            lo = a0 * x0  # < 2**64
            mid = a1 * x0  # < 2**61
            mid += a0 * x1  # < 2**62
            s = a1 * x1  # < 2**58
            s <<= _S3  # a1*x1*2**64 = 8*a1*x1 < 2**61
            s += mid >> _S29  # < 2**33
            mid &= _M29
            mid <<= _S32  # < 2**61
            s += mid
            s += lo & _P  # < 2**61
            s += lo >> _S61  # <= 7
            s += b  # < 2**61; in all s < 4*2**61 + 2**34 < 2**64
            block = _mod_p(s).min(axis=1)
            np.minimum(result, block, out=result)
        return result


def _reference_signature(
    shingles: Iterable[int], num_perm: int = DEFAULT_NUM_PERM, seed: int = 1
) -> list[int]:
    """Slow pure-Python MinHash with the same functions as `MinHasher`, for tests."""
    hasher = MinHasher(num_perm, seed)
    items = list(shingles)
    if not items:
        return [_MASK64] * num_perm
    return [
        min((a * x + b) % MERSENNE_61 for x in items)
        for a, b in zip(hasher.a.tolist(), hasher.b.tolist(), strict=True)
    ]


def jaccard(a: set[Any] | frozenset[Any], b: set[Any] | frozenset[Any]) -> float:
    """|a ∩ b| / |a ∪ b|, the similarity MinHash estimates; 1.0 for two empty sets (they are equal)."""
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The fraction of positions where two signatures agree: an unbiased estimate of the Jaccard
    similarity of their shingle sets (standard error sqrt(J(1-J)/num_perm), ~0.035 at 128)."""
    sig_a, sig_b = np.asarray(sig_a), np.asarray(sig_b)
    if sig_a.shape != sig_b.shape or sig_a.ndim != 1 or sig_a.size == 0:
        raise ValueError(
            f"signatures must be 1-D, non-empty and of one length: {sig_a.shape} vs {sig_b.shape}"
        )
    return float(np.count_nonzero(sig_a == sig_b)) / sig_a.size


# ---------------------------------------------------------------------------------------------
# LSH banding
# ---------------------------------------------------------------------------------------------

DEFAULT_THRESHOLD = 0.8


def _integrate(f: Any, lo: float, hi: float, steps: int = 1000) -> float:
    xs = np.linspace(lo, hi, steps + 1)
    ys = f(xs)
    return float(np.sum((ys[1:] + ys[:-1]) * (xs[1:] - xs[:-1])) / 2)


def optimal_bands(
    num_perm: int = DEFAULT_NUM_PERM,
    threshold: float = DEFAULT_THRESHOLD,
    false_positive_weight: float | None = None,
    false_negative_weight: float | None = None,
) -> tuple[int, int]:
    """The (bands, rows) with bands*rows == num_perm that minimises the weighted LSH error at `threshold`.

    The datasketch approach: two documents of Jaccard similarity s share at least one band with
    probability P(s) = 1 - (1 - s**rows)**bands. The false positive weight is the integral of
    P over [0, threshold], the false negative weight the integral of 1 - P over
    [threshold, 1]; their weighted sum is minimised (trapezoid rule, 1,000 steps). Unlike
    datasketch only exact divisors are tried, since `band_keys` uses every row of the
    signature. Ties go to fewer bands (fewer keys to shuffle).

    Weights: by default each side is weighted by the inverse of its width (1-threshold and
    threshold after normalising: 0.2 and 0.8 at threshold 0.8), i.e. the mean false positive
    rate below the threshold is traded against the mean false negative rate above it. Pass
    (0.5, 0.5) for datasketch's equal weights. Why not those: at threshold 0.8 the false
    positive interval is four times as wide as the false negative one, so equal weights on the
    integrals buy precision with recall; they pick (8, 16), which finds a pair of similarity
    0.8 with probability 0.20 only.

    Defaults: num_perm=128, threshold=0.8 give (16, 8) (`DEFAULT_BANDS, DEFAULT_ROWS`):
    P(0.9) = 1.00, P(0.8) = 0.95, P(0.7) = 0.61, P(0.6) = 0.24, P(0.5) = 0.06, P(0.3) = 0.001
    (the curve's midpoint is (1/16)**(1/8) = 0.71). FineWeb's MinHash (112 = 14 bands x 8
    rows, word 5-grams) is the same design. No pair check follows the buckets, so a false
    positive drops a document: P(0.5) = 0.06 is the price of P(0.8) = 0.95.
    """
    if num_perm < 1:
        raise ValueError(f"num_perm must be >= 1, got {num_perm}")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if false_positive_weight is None or false_negative_weight is None:
        false_positive_weight, false_negative_weight = 1.0 - threshold, threshold
    best: tuple[float, int, int] | None = None
    for bands in range(1, num_perm + 1):
        if num_perm % bands:
            continue
        rows = num_perm // bands

        def p_share(s: np.ndarray, bands: int = bands, rows: int = rows) -> np.ndarray:
            return 1.0 - (1.0 - s**rows) ** bands

        fp = _integrate(p_share, 0.0, threshold)
        fn = _integrate(lambda s, p=p_share: 1.0 - p(s), threshold, 1.0)
        error = false_positive_weight * fp + false_negative_weight * fn
        if best is None or error < best[0] - 1e-12:
            best = (error, bands, rows)
    assert best is not None
    return best[1], best[2]


DEFAULT_BANDS, DEFAULT_ROWS = 16, 8  # == optimal_bands(128, 0.8); a test keeps them in step


def band_keys(signature: np.ndarray, bands: int = DEFAULT_BANDS, rows: int = DEFAULT_ROWS) -> list[str]:
    """The LSH bucket keys of a signature: f"{band}:{hex blake2b-128 of the band's rows}", one per band.

    Two documents are near-duplicate candidates iff they share a key; the Beam job groups on
    these keys. The band index is part of the key so that equal rows in different bands do not
    meet. Rows are hashed as little-endian uint64, so keys agree across machines.
    Raises ValueError unless bands*rows == len(signature).
    """
    signature = np.asarray(signature)
    if bands < 1 or rows < 1 or bands * rows != signature.size:
        raise ValueError(f"bands*rows must equal the signature length: {bands}*{rows} != {signature.size}")
    data = signature.astype("<u8", copy=False).tobytes()
    width = rows * 8
    return [
        f"{band}:{hashlib.blake2b(data[band * width : (band + 1) * width], digest_size=16).hexdigest()}"
        for band in range(bands)
    ]


def near_dup_keys(
    text: str,
    hasher: MinHasher | None = None,
    bands: int = DEFAULT_BANDS,
    rows: int = DEFAULT_ROWS,
    n: int = DEFAULT_SHINGLE_SIZE,
) -> list[str]:
    """The LSH band keys of a text with the defaults: shingle_hashes -> MinHasher.signature -> band_keys.

    Pass one `MinHasher` per worker (building it hashes num_perm seeds) to save that work.
    """
    if hasher is None:
        hasher = _default_hasher()
    return band_keys(hasher.signature(shingle_hashes(text, n)), bands, rows)


@functools.cache
def _default_hasher() -> MinHasher:
    return MinHasher()


# ---------------------------------------------------------------------------------------------
# Which document to keep
# ---------------------------------------------------------------------------------------------

_ISO_DATE_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@dataclass(frozen=True, slots=True)
class DocRef:
    """What dedup needs to know of a document: its id (the WARC record id), url, fetch date, size."""

    doc_id: str
    url: str
    fetch_date: str  # YYYY-MM-DDTHH:MM:SSZ as the reader writes it; anything else sorts after
    text_chars: int

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> DocRef:
        """The DocRef of a document record (`htlm.pipeline.records.document_record`)."""
        return cls(
            doc_id=str(record["warc_record_id"]),
            url=str(record["url"]),
            fetch_date=str(record.get("fetch_date") or ""),
            text_chars=int(record.get("text_chars") or 0),
        )


def keep_order_key(doc: DocRef) -> tuple[int, int, str, str, str]:
    """The sort key of the keep rule: the smallest key is the document kept.

    Rule: the most text (`text_chars`, descending) — the fullest copy is the most useful
    training text; then the earliest fetch date — the first copy seen is the likeliest
    original; dates not in the reader's YYYY-MM-DDTHH:MM:SSZ form (unparseable, empty) sort
    after all real ones; then the smallest doc_id, then the smallest url. Plain integers and
    strings compared by code point: a total order on DocRefs, the same in every process.
    """
    dated = 0 if _ISO_DATE_RE.fullmatch(doc.fetch_date) else 1
    return (-doc.text_chars, dated, doc.fetch_date, doc.doc_id, doc.url)


def preferred(doc_a: DocRef, doc_b: DocRef) -> DocRef:
    """The one of two documents the keep rule keeps (`keep_order_key`); symmetric in its arguments."""
    return doc_a if keep_order_key(doc_a) <= keep_order_key(doc_b) else doc_b


def losers_in_group(members: Iterable[DocRef]) -> list[str]:
    """The doc_ids to drop from one exact-duplicate group (same normalised URL or content key).

    All members but the one the keep rule prefers (the smallest `keep_order_key`), sorted
    and without repeats. Members carrying the winner's doc_id (the same record seen twice)
    are not losers. Independent of the order of `members`; empty for an empty group.
    """
    members = list(members)
    if not members:
        return []
    winner = min(members, key=keep_order_key)
    return sorted({doc.doc_id for doc in members if doc.doc_id != winner.doc_id})


def losers_in_bucket(members: Iterable[DocRef]) -> list[str]:
    """The doc_ids to drop from one LSH bucket (all documents sharing one band key).

    Same rule as `losers_in_group`: all but the preferred member. A document is dropped as a
    near-duplicate iff it is a loser in at least one bucket. The module docstring proves that
    every connected component of the bucket graph keeps at least one document (its overall
    preferred member loses nowhere); the result does not depend on the order of `members`.
    """
    return losers_in_group(members)
