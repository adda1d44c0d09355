"""The retry policy of https sources: what a transient failure is, Retry-After, the backoff delay."""

from __future__ import annotations

import email.utils
import http.client
import random
import time

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class Transient(Exception):
    """One failed attempt that may be retried: ``cause`` for messages, server's Retry-After."""

    def __init__(self, cause: str, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after
        self.status = status


def backoff_delay(
    k: int, retry_after: float | None, backoff: float, max_backoff: float, jitter: float
) -> float:
    """Seconds to wait before retry k (0, 1, ...): the server's Retry-After if given, else
    ``backoff * 2**k`` plus up to ``jitter`` of it at random; capped at ``max_backoff``."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), max_backoff)
    base = min(backoff * 2.0**k, max_backoff)
    return base + (random.uniform(0.0, jitter * base) if jitter else 0.0)


def content_length(resp: http.client.HTTPResponse) -> int | None:
    value = resp.headers.get("Content-Length")
    if value is None or resp.headers.get("Transfer-Encoding"):
        return None
    try:
        length = int(value.strip())
    except ValueError:
        return None
    return length if length >= 0 else None


def retry_after(value: str | None, now: float | None = None) -> float | None:
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


def describe(exc: BaseException | str) -> str:
    if isinstance(exc, str):
        return exc
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
