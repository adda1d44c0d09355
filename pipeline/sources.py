"""Read WARC files over HTTP(S) and list a Common Crawl crawl's WARC files.

Beam's FileSystems reads local paths, ``gs://`` and ``s3://`` but has no ``http(s)://``
filesystem; Common Crawl's public endpoint is ``https://data.commoncrawl.org/``. This module
fills that gap with the standard library only (urllib/http.client, no Beam, no requests), so
it is unit-testable against a local server.

`open_url(url)` returns an `HttpStream`, a readable, non-seekable raw binary stream:

- **Streaming, bounded memory.** The body is read straight into the caller's buffer, chunk by
  chunk; the file is never held whole (``read_pages`` reads it 64 KiB at a time).
- **Stored bytes.** It sends ``Accept-Encoding: identity`` and never decodes a
  ``Content-Encoding``: a ``.warc.gz`` arrives exactly as stored. It sends a descriptive
  ``User-Agent`` (`USER_AGENT`), as Common Crawl asks of its users. Redirects are followed
  (urllib's defaults).
- **Retries.** Connection errors, timeouts, HTTP 408/429/500/502/503/504 and S3's
  ``SlowDown`` error are retried after ``backoff * 2**k`` seconds (k = 0, 1, 2, ... per
  failure), capped at ``max_backoff``, plus up to ``jitter`` (default 10%) random extra so
  that many workers do not retry in lock step. A ``Retry-After`` header (seconds or an
  HTTP-date) replaces that delay, capped at ``max_backoff``. Other 4xx (403, 404, 416, ...)
  and other statuses are not retried. ``sleep`` is injectable (tests record the delays).
- **Resume.** A connection dropped mid-body (socket error, timeout, ``IncompleteRead``, or a
  body that ends before its ``Content-Length`` without any error) is resumed with
  ``Range: bytes=<bytes already read>-``. A ``206`` must carry a ``Content-Range`` that
  starts at that offset and agrees with ``Content-Length`` and the size seen before; a server
  that ignores ``Range`` and answers ``200`` has the already-read prefix skipped (read and
  discarded, its length checked against the size seen before). An ``ETag`` or size that
  changes between requests means the file changed under us: `SourceError`, not retried, as
  splicing two versions would corrupt the file silently. A ``206`` that covers less than
  asked (some CDNs cap ranges) is continued with a further range request; that is not a
  failure. A body of unknown length (no ``Content-Length``, chunked) is complete at its
  clean end; only an error can reveal a drop there (a resume answered ``416`` with
  ``Content-Range: bytes */<bytes read>`` then means nothing was missing).
- **One retry budget per stream.** Every failed request and every drop counts against the
  same budget of ``retries`` failures; the next failure raises `SourceError` naming the URL,
  the number of attempts, the bytes read so far and the last cause. `open_url` makes the
  first request itself, so a 404 or an exhausted budget raises from `open_url`; a failure
  later raises from ``read()``, where the WARC reader turns it into a ``read-error`` entry
  and the job dead-letters the file.
- **Concurrency cap.** At most `set_max_concurrent_downloads` (default 4) streams are open
  per process: `open_url` blocks until a slot is free, and a stream holds its slot until it
  is closed (``close()``, leaving a ``with`` block, or garbage collection). One Beam worker
  process runs many DoFn threads, and Common Crawl throttles clients that open many
  connections (503 ``SlowDown``), so without a cap more threads mean fewer bytes.
  A stream keeps its slot while it waits to retry: backing off does not let another thread
  start a download in its place.
- **Stats.** ``attempts`` (HTTP requests made), ``resumes`` (successful requests that
  continued a partial body, after a drop or a short range), ``bytes_read`` (body bytes
  delivered), ``size`` (the file's size once known, else None).

Crawl listing: `crawl_paths_url` names a crawl's ``warc.paths.gz`` and `read_warc_paths`
turns that file into absolute WARC URLs, in file order.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import http.client
import io
import random
import re
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import BinaryIO

USER_AGENT = "htlm/0.1 (+https://github.com/htlm/htlm; HTLM Common Crawl pipeline)"
DEFAULT_MAX_CONCURRENT_DOWNLOADS = 4
COMMON_CRAWL_BASE = "https://data.commoncrawl.org/"

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_ERROR_BODY_BYTES = 4096  # of an error response, read to find S3's error code and for the message
_SKIP_CHUNK = 64 * 1024
_CRAWL_ID = re.compile(r"CC-MAIN-\d{4}-\d{2}")
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)\s*", re.IGNORECASE)
_S3_CODE = re.compile(rb"<Code>\s*([A-Za-z]+)\s*</Code>")

_slots_lock = threading.Lock()
_slots = threading.BoundedSemaphore(DEFAULT_MAX_CONCURRENT_DOWNLOADS)
_max_slots = DEFAULT_MAX_CONCURRENT_DOWNLOADS


class SourceError(OSError):
    """A URL could not be read: a status that is not retried, or the retry budget is spent.

    ``url``, ``status`` (the last HTTP status, None for connection failures) and
    ``attempts`` (HTTP requests made) are kept for accounting; the message says it all too.
    """

    def __init__(self, message: str, *, url: str = "", status: int | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = attempts


class _Transient(Exception):
    """One failed attempt that may be retried: ``cause`` for messages, server's Retry-After."""

    def __init__(self, cause: str, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after
        self.status = status


def set_max_concurrent_downloads(n: int) -> None:
    """Set how many `HttpStream`s this process may hold open at once (default 4).

    Common Crawl throttles clients that open many connections, and one Beam worker process
    runs many threads, so downloads share this per-process cap. Setting the current value
    again changes nothing, so every DoFn instance may call it in its ``setup`` while others
    already download. A new value makes a new pool: streams already open keep, and later
    release, their slot in the previous one (so, briefly, both pools' streams may be open).
    """
    global _slots, _max_slots
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"max concurrent downloads must be an int >= 1, got {n!r}")
    with _slots_lock:
        if n == _max_slots:
            return
        _slots = threading.BoundedSemaphore(n)
        _max_slots = n


def max_concurrent_downloads() -> int:
    """The current per-process cap on open `HttpStream`s."""
    return _max_slots


def is_url(path: str) -> bool:
    """True for an ``http://`` or ``https://`` URL (scheme case-insensitive): read by this module.

    Everything else (local paths, ``gs://``, ``s3://``) is for Beam's FileSystems.
    """
    return isinstance(path, str) and path[:8].lower().startswith(("http://", "https://"))


def open_url(
    url: str,
    *,
    retries: int = 5,
    backoff: float = 1.0,
    max_backoff: float = 60.0,
    timeout: float = 60.0,
    sleep: Callable[[float], object] = time.sleep,
    jitter: float = 0.1,
) -> HttpStream:
    """Open an HTTP(S) URL as a streaming, retrying, resuming binary stream.

    Waits for a download slot (see `set_max_concurrent_downloads`), then makes the first
    request, so that a missing file (404/403/other 4xx) or an unreachable server raises
    `SourceError` here rather than at the first ``read()``. ``retries`` is the number of
    failures (failed requests and mid-body drops together) tolerated over the stream's life;
    ``backoff``/``max_backoff`` shape the delay before each retry, ``jitter`` adds up to that
    fraction of random extra (0 for none), ``timeout`` bounds connecting and each socket read,
    and ``sleep`` does the waiting (injectable for tests). Use the stream as a context manager
    or close it: it holds its download slot until closed.
    """
    if not is_url(url):
        raise ValueError(f"not an http(s) URL: {url!r}")
    if retries < 0 or backoff < 0 or max_backoff < 0 or jitter < 0 or timeout <= 0:
        raise ValueError("retries, backoff, max_backoff and jitter must be >= 0 and timeout > 0")
    with _slots_lock:
        slots = _slots
    slots.acquire()
    try:
        stream = HttpStream(
            url,
            retries=retries,
            backoff=backoff,
            max_backoff=max_backoff,
            timeout=timeout,
            sleep=sleep,
            jitter=jitter,
            slot=slots,
        )
    except BaseException:
        slots.release()
        raise
    try:
        stream._open()
    except BaseException:
        stream.close()  # releases the slot
        raise
    return stream


class HttpStream(io.RawIOBase):
    """A readable, non-seekable stream of one URL's body; see the module docstring.

    Made by `open_url`. Holds one download slot until closed. ``read()`` raises
    `SourceError` when the body cannot be completed within the retry budget.
    """

    def __init__(
        self,
        url: str,
        *,
        retries: int,
        backoff: float,
        max_backoff: float,
        timeout: float,
        sleep: Callable[[float], object],
        jitter: float,
        slot: threading.BoundedSemaphore | None,
    ) -> None:
        super().__init__()
        self.url = url
        self.name = url  # read_pages names entries after the base name of ``name``
        self.attempts = 0
        self.resumes = 0
        self.bytes_read = 0
        self.size: int | None = None  # the file's total size once a response said it
        self._retries = retries
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._timeout = timeout
        self._sleep = sleep
        self._jitter = jitter
        self._slot = slot
        self._slot_lock = threading.Lock()
        self._failures = 0
        self._last_status: int | None = None
        self._etag: str | None = None
        self._resp: http.client.HTTPResponse | None = None
        self._segment_end: int | None = None  # offset where the current response's body ends
        self._eof = False
        self._error: SourceError | None = None
        self._pending_drop: str | None = None  # a drop seen after bytes that were delivered first

    # -- io.RawIOBase -------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        """Bytes delivered so far (the position in the body)."""
        return self.bytes_read

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Read up to ``len(buffer)`` body bytes; 0 at the end. Resumes after drops."""
        if self.closed:
            raise ValueError("I/O operation on closed HttpStream")
        view = memoryview(buffer).cast("B")
        if not len(view) or self._eof:
            return 0
        if self._error is not None:
            raise self._error
        try:
            while True:
                if self._pending_drop is not None:
                    cause, self._pending_drop = self._pending_drop, None
                    self._drop(cause)
                if self._resp is None:
                    self._open()
                    if self._eof:
                        return 0
                resp = self._resp
                assert resp is not None
                try:
                    n = resp.readinto(view)
                except (OSError, http.client.HTTPException) as exc:
                    partial = exc.partial if isinstance(exc, http.client.IncompleteRead) else b""
                    if isinstance(partial, bytes) and 0 < len(partial) <= len(view):
                        # A chunked read fails after filling part of the buffer: deliver that
                        # part now, resume at the next call.
                        view[: len(partial)] = partial
                        self.bytes_read += len(partial)
                        self._pending_drop = f"connection lost after {self._progress()}: {_describe(exc)}"
                        return len(partial)
                    self._drop(f"connection lost after {self._progress()}: {_describe(exc)}")
                    continue
                if n:
                    self.bytes_read += n
                    return n
                self._close_response()
                if self._segment_end is not None and self.bytes_read < self._segment_end:
                    self._drop(f"body ended early, after {self._progress()}")
                    continue
                if self.size is not None and self.bytes_read < self.size:
                    if self._segment_end is not None:
                        continue  # a whole 206 that covered less than asked: not a failure, ask for the rest
                    self._drop(f"body of unknown length ended early, after {self._progress()}")
                    continue
                self._eof = True
                return 0
        except SourceError as exc:
            self._error = exc
            raise

    def close(self) -> None:
        """Close the connection and give the download slot back (idempotent)."""
        if not hasattr(self, "_slot_lock"):  # __init__ did not finish: nothing to give back
            super().close()
            return
        try:
            self._close_response()
        finally:
            with self._slot_lock:
                slot, self._slot = self._slot, None
            if slot is not None:
                slot.release()
            super().close()

    # -- requests and retries -----------------------------------------------------------

    def _progress(self) -> str:
        of = f" of {self.size}" if self.size is not None else ""
        return f"{self.bytes_read}{of} bytes"

    def _open(self) -> None:
        """Open a response at the current offset, retrying within the budget."""
        while True:
            try:
                self._request()
                return
            except _Transient as exc:
                self._fail(exc)

    def _drop(self, cause: str) -> None:
        self._close_response()
        self._fail(_Transient(cause))

    def _fail(self, exc: _Transient) -> None:
        """Count one failure; raise SourceError when the budget is spent, else wait."""
        self._close_response()
        self._failures += 1
        if exc.status is not None:
            self._last_status = exc.status
        if self._failures > self._retries:
            raise SourceError(
                f"{self.url}: giving up after {self.attempts} attempt(s) ({self._retries} retries), "
                f"{self._progress()} read; last error: {exc.cause}",
                url=self.url,
                status=exc.status,
                attempts=self.attempts,
            ) from exc
        self._sleep(self._delay(self._failures - 1, exc.retry_after))

    def _delay(self, k: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self._max_backoff)
        base = min(self._backoff * 2.0**k, self._max_backoff)
        return base + (random.uniform(0.0, self._jitter * base) if self._jitter else 0.0)

    def _request(self) -> None:
        """One HTTP request from ``bytes_read`` on; sets ``_resp`` or raises."""
        offset = self.bytes_read
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        request = urllib.request.Request(self.url, headers=headers)
        self.attempts += 1
        try:
            # A fresh opener per request reads proxy settings from the environment as it is now.
            resp = urllib.request.build_opener().open(request, timeout=self._timeout)
        except urllib.error.HTTPError as exc:
            self._http_error(exc, offset)
            return
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            if isinstance(reason, ssl.SSLCertVerificationError):  # retrying cannot help
                raise SourceError(
                    f"{self.url}: TLS certificate not accepted (not retried): {reason}",
                    url=self.url,
                    attempts=self.attempts,
                ) from exc
            raise _Transient(f"request failed: {_describe(reason)}") from exc
        self._resp = resp
        try:
            self._accept(resp, offset)
        except BaseException:
            self._close_response()
            raise
        if offset:
            self.resumes += 1

    def _http_error(self, exc: urllib.error.HTTPError, offset: int) -> None:
        status = exc.code
        try:
            body = exc.read(_ERROR_BODY_BYTES) or b""
        except Exception:  # the body of an error is only informative
            body = b""
        finally:
            exc.close()
        self._last_status = status
        code = _S3_CODE.search(body)
        s3_code = code.group(1).decode("ascii") if code else None
        what = f"HTTP {status} {exc.reason}" + (f" ({s3_code})" if s3_code else "")
        if status == 416 and offset:
            # Resuming exactly at the end of a body whose length was unknown: nothing is missing.
            match = _UNSATISFIED_RANGE.fullmatch(exc.headers.get("Content-Range", "") or "")
            if match and int(match.group(1)) == offset:
                self.size = offset
                self._eof = True
                return
        if status in RETRY_STATUSES or s3_code == "SlowDown":
            raise _Transient(what, _retry_after(exc.headers.get("Retry-After")), status)
        raise SourceError(
            f"{self.url}: {what} (not retried)", url=self.url, status=status, attempts=self.attempts
        )

    def _accept(self, resp: http.client.HTTPResponse, offset: int) -> None:
        """Check a 2xx response against what was asked and seen; skip a prefix sent again."""
        self._last_status = resp.status
        etag = resp.headers.get("ETag")
        if etag:
            if self._etag is None and offset == 0:
                self._etag = etag
            elif self._etag is not None and etag != self._etag:
                self._changed(f"ETag changed from {self._etag} to {etag}")
        length = _content_length(resp)
        if resp.status == 206:
            content_range = resp.headers.get("Content-Range", "") or ""
            match = _CONTENT_RANGE.fullmatch(content_range)
            if not match:
                self._inconsistent(f"206 with Content-Range {content_range!r}, asked for bytes {offset}-")
            start, end = int(match.group(1)), int(match.group(2))
            total = None if match.group(3) == "*" else int(match.group(3))
            if start != offset or end < start or (total is not None and end >= total):
                self._inconsistent(f"206 with Content-Range {content_range!r}, asked for bytes {offset}-")
            if length is not None and length != end - start + 1:
                self._inconsistent(f"Content-Length {length} disagrees with Content-Range {content_range!r}")
            self._set_size(total)
            self._segment_end = end + 1
            return
        if resp.status != 200:
            raise SourceError(
                f"{self.url}: unexpected HTTP {resp.status} {resp.reason} (not retried)",
                url=self.url,
                status=resp.status,
                attempts=self.attempts,
            )
        self._set_size(length)
        self._segment_end = length
        if offset:
            self._skip(resp, offset)

    def _skip(self, resp: http.client.HTTPResponse, offset: int) -> None:
        """The server ignored Range: read and discard the ``offset`` bytes we already have."""
        scratch = bytearray(min(_SKIP_CHUNK, offset))
        left = offset
        while left:
            view = memoryview(scratch)[: min(left, len(scratch))]
            try:
                n = resp.readinto(view)
            except (OSError, http.client.HTTPException) as exc:
                raise _Transient(
                    f"connection lost while skipping {offset} already-read bytes: {_describe(exc)}"
                ) from exc
            if not n:
                if self._segment_end is None:  # unknown length: the file is shorter than before
                    self._changed(f"body of {offset - left} bytes is shorter than the {offset} already read")
                raise _Transient(f"body ended while skipping {offset} already-read bytes")
            left -= n

    def _set_size(self, total: int | None) -> None:
        if total is None:
            return
        if self.size is not None and total != self.size:
            self._changed(f"size changed from {self.size} to {total} bytes")
        if total < self.bytes_read:
            self._changed(f"size {total} is below the {self.bytes_read} bytes already read")
        self.size = total

    def _changed(self, what: str) -> None:
        self._give_up(f"file changed during download ({what}) after {self.bytes_read} bytes")

    def _inconsistent(self, what: str) -> None:
        self._give_up(f"inconsistent response: {what}")

    def _give_up(self, why: str) -> None:
        """Fail without retrying: a retry could only splice two versions of the file together."""
        raise SourceError(
            f"{self.url}: {why} (not retried)", url=self.url, status=self._last_status, attempts=self.attempts
        )

    def _close_response(self) -> None:
        resp, self._resp = self._resp, None
        if resp is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail; it is gone anyway
                resp.close()


def _content_length(resp: http.client.HTTPResponse) -> int | None:
    value = resp.headers.get("Content-Length")
    if value is None or resp.headers.get("Transfer-Encoding"):
        return None
    try:
        length = int(value.strip())
    except ValueError:
        return None
    return length if length >= 0 else None


def _retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date), None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _describe(exc: BaseException | str) -> str:
    if isinstance(exc, str):
        return exc
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- crawl listings ----------------------------------------------------------------------


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


def read_warc_paths(stream: BinaryIO, base_url: str, max_files: int | None = None) -> list[str]:
    """Read a ``warc.paths.gz`` listing and return absolute WARC URLs, in file order.

    Each non-blank line is a path relative to the bucket root (``crawl-data/CC-MAIN-.../
    warc/....warc.gz``), joined to ``base_url``. The stream may be gzipped (as published) or
    plain text. Only the first ``max_files`` paths are returned (None: all), and reading stops
    there, so later lines are neither decompressed nor checked. A line that does not end in
    ``.warc.gz`` or ``.warc``, is an absolute URL, or is not UTF-8 raises ValueError naming its
    line number: a wrong file (an index listing, an HTML error page) fails loudly.
    """
    if max_files is not None and max_files < 0:
        raise ValueError(f"max_files must be >= 0 or None, got {max_files}")
    if max_files == 0:
        return []
    head = stream.read(2)
    rest = io.BufferedReader(_Prefixed(head, stream))
    source: io.BufferedIOBase = gzip.GzipFile(fileobj=rest, mode="rb") if head == b"\x1f\x8b" else rest
    urls: list[str] = []
    for number, raw in enumerate(source, start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ValueError(f"line {number} of the WARC paths file is not UTF-8: {raw[:200]!r}") from None
        if not line:
            continue
        if "://" in line or not line.endswith((".warc.gz", ".warc")):
            raise ValueError(
                f"line {number} of the WARC paths file is not a relative path to a .warc.gz or .warc "
                f"file: {line[:200]!r}"
            )
        urls.append(_join(base_url, line))
        if max_files is not None and len(urls) >= max_files:
            break
    return urls


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
