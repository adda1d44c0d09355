"""Run one function per item in a child process with a timeout, surviving the child's death.

The per-WARC step simplifies tens of thousands of untrusted pages. A page that makes the
parser loop, or a crash inside a C library (libxml2), must cost that one record, not the
worker: `IsolatedCall` sends each item to a long-lived child process, waits at most
`timeout` seconds, and on a timeout or a dead child kills and restarts the child and raises
`IsolationError` for that item only.

The child is a fresh interpreter (`python -m htlm.pipeline.isolation`) speaking
length-prefixed pickles over its stdin/stdout. Unlike multiprocessing's fork (unsafe in a
process running gRPC threads, as a Beam worker does) or spawn (which re-imports the parent's
`__main__`), it depends on nothing but this module being importable.
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
from collections.abc import Callable
from typing import IO, Any

READY = "ready"
STARTUP_TIMEOUT = 120.0  # seconds for a child to import its modules
_HEADER = struct.Struct("!Q")


class IsolationError(RuntimeError):
    """The item timed out, raised, or killed the child process; the message says which."""


def _send(stream: IO[bytes], value: Any) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("child closed its output")
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("child output cut short")
    return pickle.loads(payload)


def _child_main() -> None:
    """The child's loop: receive the function, then answer (ok, value) for each item."""
    output = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    sys.path[:0] = [entry for entry in _receive(sys.stdin.buffer) if entry not in sys.path]  # the parent's
    function = _receive(sys.stdin.buffer)
    _send(output, READY)
    while True:
        try:
            item = _receive(sys.stdin.buffer)
        except EOFError:
            return
        try:
            _send(output, (True, function(item)))
        except Exception as error:  # reported to the parent, which decides what to do
            _send(output, (False, f"{type(error).__name__}: {error}"))


class IsolatedCall:
    """`call(item)` runs `function(item)` in a child process, at most `timeout` seconds per item.

    `function` and items must be picklable (a module-level function or a functools.partial of
    one); the child must be able to import the modules they come from.
    """

    def __init__(self, function: Callable[[Any], Any], timeout: float) -> None:
        self.function, self.timeout = function, timeout
        self._process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def _start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "htlm.pipeline.isolation"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        try:
            _send(self._process.stdin, sys.path)  # so the child can import whatever defined `function`
            _send(self._process.stdin, self.function)
            ready = self._wait(STARTUP_TIMEOUT) and _receive(self._process.stdout) == READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            code = self._kill()
            raise IsolationError(f"child process did not start (exit code {code})")

    def _wait(self, timeout: float) -> bool:
        readable, _, _ = select.select([self._process.stdout], [], [], timeout)
        return bool(readable)

    def call(self, item: Any) -> Any:
        """The function's result for `item`; IsolationError on timeout, crash or exception."""
        if self._process is None or self._process.poll() is not None:
            self._start()
        try:
            _send(self._process.stdin, item)
            if not self._wait(self.timeout):
                self._kill()
                raise IsolationError(f"timed out after {self.timeout:g}s (child restarted)")
            ok, value = _receive(self._process.stdout)
        except (EOFError, OSError) as error:
            code = self._kill()
            raise IsolationError(f"child process died (exit code {code}): {error}") from None
        if not ok:
            raise IsolationError(value)
        return value

    def _kill(self) -> int | None:
        code = None
        if self._process is not None:
            self._process.kill()
            code = self._process.wait(timeout=10)
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
            self.restarts += 1
        self._process = None
        return code

    def close(self) -> None:
        """Stop the child process (idempotent)."""
        if self._process is not None:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
            self._process.stdout.close()
        self._process = None

    def __enter__(self) -> IsolatedCall:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


if __name__ == "__main__":
    _child_main()
