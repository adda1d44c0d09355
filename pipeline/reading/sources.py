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

Modules: this one (`open_url`, the per-process download slots), `http_stream` (`HttpStream`),
`retry` (transient failures, Retry-After, backoff), `crawl` (a crawl's `warc.paths.gz`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from htlm.pipeline.reading.crawl import COMMON_CRAWL_BASE, crawl_paths_url, read_warc_paths
from htlm.pipeline.reading.http_stream import (
    DEFAULT_MAX_CONCURRENT_DOWNLOADS,
    USER_AGENT,
    HttpStream,
    SourceError,
)

_slots_lock = threading.Lock()
_slots = threading.BoundedSemaphore(DEFAULT_MAX_CONCURRENT_DOWNLOADS)
_max_slots = DEFAULT_MAX_CONCURRENT_DOWNLOADS

__all__ = [
    "COMMON_CRAWL_BASE",
    "DEFAULT_MAX_CONCURRENT_DOWNLOADS",
    "USER_AGENT",
    "HttpStream",
    "SourceError",
    "crawl_paths_url",
    "is_url",
    "max_concurrent_downloads",
    "open_url",
    "read_warc_paths",
    "set_max_concurrent_downloads",
]


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
