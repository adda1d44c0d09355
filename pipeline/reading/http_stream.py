"""`HttpStream`: one URL's body as a streaming, retrying, resuming binary stream (see `sources`)."""

from __future__ import annotations

import contextlib
import http.client
import io
import re
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

from htlm.pipeline.reading.retry import (
    RETRY_STATUSES,
    Transient,
    backoff_delay,
    content_length,
    describe,
    retry_after,
)

USER_AGENT = "htlm/0.1 (+https://github.com/htlm/htlm; HTLM Common Crawl pipeline)"
DEFAULT_MAX_CONCURRENT_DOWNLOADS = 4

_ERROR_BODY_BYTES = 4096  # of an error response, read to find S3's error code and for the message
_SKIP_CHUNK = 64 * 1024
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)\s*", re.IGNORECASE)
_S3_CODE = re.compile(rb"<Code>\s*([A-Za-z]+)\s*</Code>")


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
                        self._pending_drop = f"connection lost after {self._progress()}: {describe(exc)}"
                        return len(partial)
                    self._drop(f"connection lost after {self._progress()}: {describe(exc)}")
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
            except Transient as exc:
                self._fail(exc)

    def _drop(self, cause: str) -> None:
        self._close_response()
        self._fail(Transient(cause))

    def _fail(self, exc: Transient) -> None:
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
        self._sleep(
            backoff_delay(self._failures - 1, exc.retry_after, self._backoff, self._max_backoff, self._jitter)
        )

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
            raise Transient(f"request failed: {describe(reason)}") from exc
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
            raise Transient(what, retry_after(exc.headers.get("Retry-After")), status)
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
        length = content_length(resp)
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
                raise Transient(
                    f"connection lost while skipping {offset} already-read bytes: {describe(exc)}"
                ) from exc
            if not n:
                if self._segment_end is None:  # unknown length: the file is shorter than before
                    self._changed(f"body of {offset - left} bytes is shorter than the {offset} already read")
                raise Transient(f"body ended while skipping {offset} already-read bytes")
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
