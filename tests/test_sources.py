"""HTTP sources and crawl listings, against a real HTTP server on 127.0.0.1 with scripted faults.

The server supports ``Range: bytes=N-`` and, per path, plays a queue of faults (one per
request, then normal answers): error statuses, a body cut off at half its Content-Length, a
chunked body cut off (IncompleteRead), a stall past the client's timeout, a server that
ignores Range, inconsistent Content-Range, a file that changes size, capped ranges. Delays
are recorded through the injected ``sleep``: nothing here really waits for a backoff.
"""

from __future__ import annotations

import gc
import gzip
import io
import pickle
import queue
import random
import threading
from collections.abc import Iterator
from email.utils import formatdate

import pytest
from htlm.pipeline.reading import Dropped, read_pages, retry, sources
from htlm.pipeline.reading.sources import (
    USER_AGENT,
    HttpStream,
    SourceError,
    crawl_paths_url,
    is_url,
    max_concurrent_downloads,
    open_url,
    read_warc_paths,
    set_max_concurrent_downloads,
)

from tests.conftest import WARC_DATA
from tests.fault_server import FaultServer

WHIRLWIND = WARC_DATA / "cc-whirlwind" / "whirlwind.warc.gz"
LARGE = random.Random(20240522).randbytes(3 * 1024 * 1024 + 12345)
SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
CLIENT_TIMEOUT = 2.0


class Recorder:
    """An injected ``sleep`` that records the delays asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture(autouse=True)
def default_cap() -> Iterator[None]:
    yield
    set_max_concurrent_downloads(sources.DEFAULT_MAX_CONCURRENT_DOWNLOADS)


def fetch(url: str, chunk: int = 64 * 1024, **kwargs: object) -> tuple[bytes, HttpStream]:
    kwargs.setdefault("timeout", CLIENT_TIMEOUT)
    kwargs.setdefault("jitter", 0.0)
    kwargs.setdefault("sleep", Recorder())
    with open_url(url, **kwargs) as stream:  # type: ignore[arg-type]
        parts = []
        while part := stream.read(chunk):
            assert len(part) <= chunk
            parts.append(part)
    return b"".join(parts), stream


# -- plain downloads -------------------------------------------------------------------


def test_plain_download_is_the_file(server: FaultServer) -> None:
    data = WHIRLWIND.read_bytes()
    url = server.add("/whirlwind.warc.gz", data)
    body, stream = fetch(url)
    assert body == data
    assert (stream.attempts, stream.resumes, stream.bytes_read, stream.size) == (1, 0, len(data), len(data))
    (headers,) = server.seen("/whirlwind.warc.gz")
    assert headers["user-agent"] == USER_AGENT
    assert headers["accept-encoding"] == "identity"
    assert "range" not in headers
    assert stream.closed


def test_stream_is_a_raw_readable_unseekable_stream(server: FaultServer) -> None:
    url = server.add("/large.bin", LARGE)
    with open_url(url, timeout=CLIENT_TIMEOUT) as stream:
        assert stream.readable() and not stream.seekable()
        assert stream.name == url
        buffered = io.BufferedReader(stream, buffer_size=32 * 1024)
        assert buffered.read(10) == LARGE[:10]
        assert buffered.read() == LARGE[10:]
        assert stream.tell() == len(LARGE)
        assert stream.read(100) == b""
    with pytest.raises(ValueError):
        stream.read(1)


def test_empty_file(server: FaultServer) -> None:
    body, stream = fetch(server.add("/empty", b""))
    assert body == b"" and stream.size == 0


def test_read_pages_over_http_equals_local(server: FaultServer) -> None:
    """The WARC reader gets the same entries from the HTTP stream as from the file, even with drops."""
    url = server.add("/cc/whirlwind.warc.gz", WHIRLWIND.read_bytes(), ("drop",), ("ok",), ("drop",))
    local = list(read_pages(WHIRLWIND))
    with open_url(url, timeout=CLIENT_TIMEOUT, jitter=0.0, sleep=Recorder()) as stream:
        remote = list(read_pages(stream))
    assert remote == local
    assert stream.resumes >= 1


# -- retries -----------------------------------------------------------------------------


def test_503_retry_after_then_slowdown_then_ok(server: FaultServer) -> None:
    data = WHIRLWIND.read_bytes()
    url = server.add(
        "/busy.warc.gz",
        data,
        ("status", 503, {"Retry-After": "0"}, b"busy"),
        ("status", 503, {"Content-Type": "application/xml"}, SLOWDOWN),
    )
    sleep = Recorder()
    body, stream = fetch(url, sleep=sleep, backoff=1.0)
    assert body == data
    assert stream.attempts == 3 and stream.resumes == 0
    # Retry-After: 0 is honoured as is; the SlowDown retry is the second failure: backoff * 2**1.
    assert sleep.delays == [0.0, 2.0]


def test_backoff_is_exponential_and_capped(server: FaultServer) -> None:
    url = server.add(
        "/flaky",
        LARGE,
        *[("status", status, {}, b"") for status in (500, 502, 504, 429, 408)],
    )
    sleep = Recorder()
    body, stream = fetch(url, sleep=sleep, retries=5, backoff=0.5, max_backoff=3.0)
    assert body == LARGE and stream.attempts == 6
    assert sleep.delays == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_retry_after_is_capped_and_jitter_is_small(server: FaultServer) -> None:
    url = server.add(
        "/later", LARGE, ("status", 429, {"Retry-After": "3600"}, b""), *[("status", 503, {}, b"")] * 3
    )
    sleep = Recorder()
    random.seed(7)
    body, _ = fetch(url, sleep=sleep, backoff=1.0, max_backoff=10.0, jitter=0.1)
    assert body == LARGE
    assert sleep.delays[0] == 10.0
    for delay, base in zip(sleep.delays[1:], [2.0, 4.0, 8.0], strict=True):
        assert base <= delay <= base * 1.1


def test_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert retry.retry_after("0") == 0.0
    assert retry.retry_after(" 12 ") == 12.0
    assert retry.retry_after("-5") == 0.0
    assert retry.retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30.0)
    assert retry.retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert retry.retry_after("soon") is None
    assert retry.retry_after(None) is None


def test_404_is_not_retried(server: FaultServer) -> None:
    sleep = Recorder()
    url = server.url("/missing.warc.gz")
    with pytest.raises(SourceError) as info:
        open_url(url, sleep=sleep, timeout=CLIENT_TIMEOUT)
    err = info.value
    assert isinstance(err, OSError)
    assert err.status == 404 and err.attempts == 1 and err.url == url
    assert url in str(err) and "404" in str(err) and "not retried" in str(err)
    assert len(server.seen("/missing.warc.gz")) == 1
    assert sleep.delays == []


def test_403_with_s3_code_is_not_retried(server: FaultServer) -> None:
    denied = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
    url = server.add("/denied", b"x", ("status", 403, {}, denied))
    with pytest.raises(SourceError, match=r"HTTP 403 .*\(AccessDenied\) \(not retried\)"):
        open_url(url, sleep=Recorder(), timeout=CLIENT_TIMEOUT)
    assert len(server.seen("/denied")) == 1


def test_always_503_gives_up_after_retries_plus_one(server: FaultServer) -> None:
    url = server.add("/down", b"x", *[("status", 503, {}, SLOWDOWN)] * 10)
    sleep = Recorder()
    with pytest.raises(SourceError) as info:
        open_url(url, retries=3, backoff=0.25, sleep=sleep, jitter=0.0, timeout=CLIENT_TIMEOUT)
    message = str(info.value)
    assert info.value.attempts == 4 and info.value.status == 503
    assert len(server.seen("/down")) == 4
    assert url in message and "giving up after 4 attempt(s)" in message
    assert "HTTP 503" in message and "SlowDown" in message
    assert sleep.delays == [0.25, 0.5, 1.0]


def test_connection_refused_is_retried_then_reported(server: FaultServer) -> None:
    srv = FaultServer()  # bound, never serving, closed: its port now refuses connections
    url = srv.url("/gone")
    srv.server_close()
    sleep = Recorder()
    with pytest.raises(SourceError, match=r"giving up after 3 attempt\(s\).*request failed") as info:
        open_url(url, retries=2, sleep=sleep, jitter=0.0, timeout=CLIENT_TIMEOUT)
    assert info.value.status is None
    assert sleep.delays == [1.0, 2.0]


# -- resuming ------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [WHIRLWIND.read_bytes(), LARGE], ids=["whirlwind", "large"])
def test_drop_mid_body_resumes_with_range(server: FaultServer, payload: bytes) -> None:
    url = server.add("/drop", payload, ("drop",))
    sleep = Recorder()
    body, stream = fetch(url, sleep=sleep)
    assert body == payload
    assert stream.resumes == 1 and stream.attempts == 2
    first, second = server.seen("/drop")
    assert "range" not in first
    assert second["range"] == f"bytes={len(payload) // 2}-"
    assert sleep.delays == [1.0]


def test_repeated_drops_resume_each_time(server: FaultServer) -> None:
    url = server.add("/drops", LARGE, ("drop",), ("drop",), ("drop",))
    body, stream = fetch(url, retries=3)
    assert body == LARGE and stream.resumes == 3 and stream.attempts == 4
    expected, offset = [None], 0
    for _ in range(3):  # each drop delivers half of what was left
        offset += (len(LARGE) - offset) // 2
        expected.append(f"bytes={offset}-")
    assert [headers.get("range") for headers in server.seen("/drops")] == expected


def test_server_ignoring_range_gets_prefix_skipped(server: FaultServer) -> None:
    url = server.add("/norange", LARGE, ("drop",), ("ignore_range",))
    body, stream = fetch(url)
    assert body == LARGE and stream.resumes == 1
    assert server.seen("/norange")[1]["range"] == f"bytes={len(LARGE) // 2}-"


def test_drop_while_skipping_an_ignored_range_is_retried(server: FaultServer) -> None:
    url = server.add("/norange-drop", LARGE, ("drop",), ("ignore_range", 0.25), ("ignore_range",))
    sleep = Recorder()
    body, stream = fetch(url, sleep=sleep)
    assert body == LARGE
    assert stream.attempts == 3 and stream.resumes == 1
    assert sleep.delays == [1.0, 2.0]


def test_chunked_body_cut_off_resumes(server: FaultServer) -> None:
    """No Content-Length: the cut shows as IncompleteRead, and the resume learns the size."""
    url = server.add("/chunked", LARGE, ("chunked_drop", 0.4))
    body, stream = fetch(url)
    assert body == LARGE and stream.resumes == 1 and stream.size == len(LARGE)


def test_chunked_body_cut_at_its_end_finishes_on_416(server: FaultServer) -> None:
    url = server.add("/chunked-end", LARGE, ("chunked_drop", 1.0))
    body, stream = fetch(url)
    assert body == LARGE and stream.attempts == 2
    assert server.seen("/chunked-end")[1]["range"] == f"bytes={len(LARGE)}-"


def test_unknown_length_body_shorter_than_the_known_size_is_a_drop(server: FaultServer) -> None:
    url = server.add("/short-chunked", LARGE, ("drop",), ("chunked_short", 0.75))
    sleep = Recorder()
    body, stream = fetch(url, sleep=sleep)
    assert body == LARGE
    assert stream.attempts == 3 and stream.resumes == 2
    assert server.seen("/short-chunked")[2]["range"] == f"bytes={int(len(LARGE) * 0.75)}-"
    assert sleep.delays == [1.0, 2.0]


def test_stall_mid_body_times_out_and_resumes(server: FaultServer) -> None:
    url = server.add("/stall", LARGE, ("stall", 1.0))
    body, stream = fetch(url, timeout=0.3)
    assert body == LARGE and stream.resumes == 1


def test_capped_ranges_are_continued_without_spending_retries(server: FaultServer) -> None:
    url = server.add("/capped", LARGE, ("drop",), ("cap_range", 500_000), ("cap_range", 500_000))
    body, stream = fetch(url, retries=1)
    assert body == LARGE
    assert stream.attempts == 4 and stream.resumes == 3


def test_drops_beyond_the_budget_fail_the_read(server: FaultServer) -> None:
    url = server.add("/bad-link", LARGE, *[("drop",)] * 10)
    stream = open_url(url, retries=2, sleep=Recorder(), jitter=0.0, timeout=CLIENT_TIMEOUT)
    with stream, pytest.raises(SourceError, match=r"giving up after 3 attempt\(s\).*body ended early"):
        while stream.read(64 * 1024):
            pass
    assert 0 < stream.bytes_read < len(LARGE)


def test_failed_read_becomes_a_read_error_entry(server: FaultServer) -> None:
    data = WHIRLWIND.read_bytes()
    url = server.add("/dead.warc.gz", data, *[("drop",)] * 10)
    with open_url(url, retries=1, sleep=Recorder(), jitter=0.0, timeout=CLIENT_TIMEOUT) as stream:
        entries = list(read_pages(stream))
    errors = [e for e in entries if isinstance(e, Dropped) and "giving up" in e.detail]
    assert len(errors) == 1 and url in errors[0].detail
    assert errors[0].warc_file == "dead.warc.gz"


def test_inconsistent_content_range_is_an_error(server: FaultServer) -> None:
    url = server.add("/badrange", LARGE, ("drop",), ("bad_range",))
    with open_url(url, sleep=Recorder(), timeout=CLIENT_TIMEOUT) as stream:
        with pytest.raises(SourceError, match="inconsistent response"):
            while stream.read(64 * 1024):
                pass
        assert stream.attempts == 2


def test_file_changing_size_mid_download_is_an_error(server: FaultServer) -> None:
    url = server.add("/changing", LARGE, ("drop",), ("changed", LARGE + b"more"))
    with open_url(url, sleep=Recorder(), timeout=CLIENT_TIMEOUT) as stream:
        with pytest.raises(SourceError, match="file changed during download"):
            while stream.read(64 * 1024):
                pass
        with pytest.raises(SourceError):  # the stream stays failed
            stream.read(10)


def test_etag_changing_mid_download_is_an_error(server: FaultServer) -> None:
    url = server.add("/etag", LARGE, ("drop",), ("etag", '"v2"'), etag='"v1"')
    stream = open_url(url, sleep=Recorder(), timeout=CLIENT_TIMEOUT)
    with stream, pytest.raises(SourceError, match=r"ETag changed"):
        while stream.read(64 * 1024):
            pass


def test_etag_unchanged_resumes(server: FaultServer) -> None:
    body, stream = fetch(server.add("/etag-ok", LARGE, ("drop",), etag='"v1"'))
    assert body == LARGE and stream.resumes == 1


# -- concurrency cap -----------------------------------------------------------------------


def test_concurrency_cap_blocks_the_third_stream(server: FaultServer) -> None:
    set_max_concurrent_downloads(2)
    assert max_concurrent_downloads() == 2
    url = server.add("/cap", LARGE)
    opened: queue.Queue[HttpStream] = queue.Queue()
    threads = [
        threading.Thread(target=lambda: opened.put(open_url(url, timeout=CLIENT_TIMEOUT)), daemon=True)
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    first, second = opened.get(timeout=5), opened.get(timeout=5)
    set_max_concurrent_downloads(2)  # as another DoFn instance's setup does: the pool stays
    with pytest.raises(queue.Empty):
        opened.get(timeout=0.3)  # the third waits for a slot
    first.close()
    third = opened.get(timeout=5)
    for stream in (second, third):
        assert stream.read(5) == LARGE[:5]
        stream.close()
    for thread in threads:
        thread.join(timeout=5)
        assert not thread.is_alive()


def test_slots_come_back_on_failure_exit_and_garbage_collection(server: FaultServer) -> None:
    set_max_concurrent_downloads(1)
    url = server.add("/one", b"abc")
    for _ in range(3):  # a failed open releases its slot
        with pytest.raises(SourceError):
            open_url(server.url("/nope"), timeout=CLIENT_TIMEOUT)
    with open_url(url, timeout=CLIENT_TIMEOUT) as stream:
        assert stream.read() == b"abc"
    stream = open_url(url, timeout=CLIENT_TIMEOUT)
    del stream
    gc.collect()
    done = threading.Event()

    def reopen() -> None:
        open_url(url, timeout=CLIENT_TIMEOUT).close()
        done.set()

    threading.Thread(target=reopen, daemon=True).start()
    assert done.wait(timeout=5)


def test_set_max_concurrent_downloads_rejects_nonsense() -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            set_max_concurrent_downloads(bad)  # type: ignore[arg-type]


# -- small helpers ---------------------------------------------------------------------------


def test_open_url_rejects_non_http() -> None:
    with pytest.raises(ValueError, match="not an http"):
        open_url("s3://commoncrawl/crawl-data/x.warc.gz")


def test_is_url() -> None:
    assert is_url("https://data.commoncrawl.org/crawl-data/x.warc.gz")
    assert is_url("HTTP://example.org/a")
    assert not is_url("s3://commoncrawl/x")
    assert not is_url("gs://bucket/x")
    assert not is_url("/tmp/http://x")
    assert not is_url("httpx://a")


def test_source_error_pickles() -> None:
    err = SourceError(
        "https://x/y: HTTP 404 Not Found (not retried)", url="https://x/y", status=404, attempts=1
    )
    back = pickle.loads(pickle.dumps(err))
    assert (str(back), back.url, back.status, back.attempts) == (str(err), "https://x/y", 404, 1)


# -- crawl listings --------------------------------------------------------------------------


def test_crawl_paths_url() -> None:
    expected = "https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-22/warc.paths.gz"
    assert crawl_paths_url("CC-MAIN-2024-22") == expected
    assert crawl_paths_url("CC-MAIN-2024-22", "https://data.commoncrawl.org") == expected
    assert (
        crawl_paths_url("CC-MAIN-2024-22", "s3://commoncrawl/")
        == "s3://commoncrawl/crawl-data/CC-MAIN-2024-22/warc.paths.gz"
    )
    assert (
        crawl_paths_url("CC-MAIN-2021-04", "s3://commoncrawl")
        == "s3://commoncrawl/crawl-data/CC-MAIN-2021-04/warc.paths.gz"
    )
    for bad in ("CC-MAIN-2024-5", "cc-main-2024-22", "CC-MAIN-2024-22/", " CC-MAIN-2024-22", "2024-22", ""):
        with pytest.raises(ValueError, match=r"CC-MAIN-YYYY-WW.*collinfo"):
            crawl_paths_url(bad)


def paths_file(lines: list[str], compress: bool = True) -> io.BytesIO:
    text = "".join(line + "\n" for line in lines).encode()
    return io.BytesIO(gzip.compress(text) if compress else text)


SEGMENT = "crawl-data/CC-MAIN-2024-22/segments/1715971057216.39/warc"
PATHS = [f"{SEGMENT}/CC-MAIN-20240517233122-20240518023122-{i:05d}.warc.gz" for i in range(5)]


def test_read_warc_paths_joins_in_file_order() -> None:
    urls = read_warc_paths(paths_file(PATHS), "https://data.commoncrawl.org/")
    assert urls == ["https://data.commoncrawl.org/" + path for path in PATHS]
    assert read_warc_paths(paths_file(PATHS), "s3://commoncrawl") == ["s3://commoncrawl/" + p for p in PATHS]


def test_read_warc_paths_max_files_and_blank_lines() -> None:
    lines = ["", PATHS[0], "   ", PATHS[1] + "\r", "", PATHS[2], PATHS[3]]
    base = "https://data.commoncrawl.org"
    assert read_warc_paths(paths_file(lines), base, max_files=3) == [f"{base}/{p}" for p in PATHS[:3]]
    assert read_warc_paths(paths_file(lines), base, max_files=0) == []
    assert len(read_warc_paths(paths_file(lines), base, max_files=100)) == 4
    assert read_warc_paths(paths_file(lines, compress=False), base) == [f"{base}/{p}" for p in PATHS[:4]]
    with pytest.raises(ValueError):
        read_warc_paths(paths_file(lines), base, max_files=-1)


def test_read_warc_paths_rejects_bad_lines_by_number() -> None:
    with pytest.raises(ValueError, match=r"line 3 .*index\.html"):
        read_warc_paths(paths_file([PATHS[0], "", "crawl-data/index.html", PATHS[1]]), "s3://commoncrawl/")
    with pytest.raises(ValueError, match="line 1 "):
        read_warc_paths(paths_file(["https://elsewhere.org/" + PATHS[0]]), "s3://commoncrawl/")
    plain_warc = f"{SEGMENT}/x.warc"
    assert read_warc_paths(paths_file([plain_warc]), "/mirror/") == [f"/mirror/{plain_warc}"]
    # A bad line after max_files is never read.
    assert len(read_warc_paths(paths_file([PATHS[0], "junk"]), "s3://commoncrawl/", max_files=1)) == 1


def test_read_warc_paths_from_a_served_listing(server: FaultServer) -> None:
    """The job's path: fetch warc.paths.gz over HTTP, then list the WARCs under the same base."""
    base = server.url("/")
    listing = paths_file(PATHS).getvalue()
    server.add("/crawl-data/CC-MAIN-2024-22/warc.paths.gz", listing, ("drop",))
    with open_url(
        crawl_paths_url("CC-MAIN-2024-22", base), sleep=Recorder(), timeout=CLIENT_TIMEOUT
    ) as stream:
        urls = read_warc_paths(stream, base, max_files=2)
    assert urls == [base + p for p in PATHS[:2]]
