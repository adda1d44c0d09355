"""A real HTTP server on 127.0.0.1 with scripted faults, shared by the source and job tests.

It supports ``Range: bytes=N-`` and, per path, plays a queue of faults (one per request,
then normal answers): error statuses, a body cut off at half its Content-Length, a chunked
body cut off, a stall, a server that ignores Range, inconsistent Content-Range, a file that
changes size, capped ranges. It stops itself after 60 s whatever the test does.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.files: dict[str, bytes] = {}
        self.etags: dict[str, str] = {}
        self.faults: dict[str, deque[tuple]] = defaultdict(deque)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def add(self, path: str, body: bytes, *faults: tuple, etag: str | None = None) -> str:
        self.files[path] = body
        if etag:
            self.etags[path] = etag
        self.faults[path].extend(faults)
        return self.url(path)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that closes early (a test done with a stream) is not news

    def seen(self, path: str) -> list[dict[str, str]]:
        with self.lock:
            return [headers for p, headers in self.requests if p == path]


class FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # the server never waits on a silent client for long
    server: FaultServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        srv = self.server
        path = urlsplit(self.path).path
        with srv.lock:
            srv.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
            fault = srv.faults[path].popleft() if srv.faults[path] else ("ok",)
        body = srv.files.get(path)
        kind = fault[0]
        if body is None:
            self.reply(404, b"not found")
            return
        if kind == "status":
            _, status, headers, payload = fault
            self.reply(status, payload, headers)
            return
        if kind == "changed":  # the file is replaced by another one
            body = fault[1]
            kind = "ok"
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if match and kind != "ignore_range":
            start = int(match.group(1))
            if start >= len(body):
                self.reply(416, b"", {"Content-Range": f"bytes */{len(body)}"})
                return
        end = len(body)
        if kind == "cap_range":  # answer fewer bytes than asked for, as some CDNs do
            end = min(end, start + fault[1])
        if kind == "bad_range":  # a Content-Range that does not start where we asked
            start = max(start - 10, 0)
        part = body[start:end]
        if kind == "chunked_short":  # ignores Range, chunked, cleanly ends after fault[1] of the file
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            cut = body[: int(len(body) * fault[1])]
            for i in range(0, len(cut), 8192):
                piece = cut[i : i + 8192]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True
            return
        if kind == "chunked_drop":  # chunked, cut after fault[1] of the part, no last chunk
            self.send_response(200 if not match else 206)
            if match:
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            cut = part[: int(len(part) * fault[1])]
            for i in range(0, len(cut), 8192):
                piece = cut[i : i + 8192]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.close_connection = True
            return
        if (match and kind != "ignore_range") or kind == "cap_range":
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(part)))
        self.send_header("Content-Type", "application/octet-stream")
        if path in srv.etags:
            self.send_header("ETag", fault[1] if kind == "etag" else srv.etags[path])
        self.send_header("Connection", "close")
        self.end_headers()
        if kind == "ignore_range" and len(fault) > 1:  # ignores Range, and drops after fault[1] of it
            self.wfile.write(part[: int(len(part) * fault[1])])
            self.close_connection = True
            return
        if kind in ("drop", "stall"):  # full Content-Length announced, half sent, then gone
            self.wfile.write(part[: len(part) // 2])
            self.wfile.flush()
            if kind == "stall":
                time.sleep(fault[1])
            self.close_connection = True
            return
        self.wfile.write(part)
        self.close_connection = True

    def reply(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultServer]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    srv = FaultServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    watchdog = threading.Timer(60.0, srv.shutdown)  # stops itself even if teardown never runs
    watchdog.daemon = True
    watchdog.start()
    try:
        yield srv
    finally:
        watchdog.cancel()
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)
