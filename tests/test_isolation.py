"""IsolatedCall: a hang or a crash costs one item; the next item runs in a fresh child."""

from __future__ import annotations

import ctypes
import os
import time

import pytest
from htlm.pipeline.isolation import IsolatedCall, IsolationError


def behave(item: str) -> str:
    if item == "hang":
        time.sleep(60)
    if item == "exit":
        os._exit(3)
    if item == "segfault":
        ctypes.string_at(0)  # reads address 0: SIGSEGV inside C code
    if item == "raise":
        raise ValueError("bad item")
    return item.upper()


def test_results_timeouts_and_crashes_cost_one_item() -> None:
    with IsolatedCall(behave, timeout=5) as call:
        assert call.call("a") == "A"
        with pytest.raises(IsolationError, match="died"):
            call.call("segfault")
        assert call.call("b") == "B"
        with pytest.raises(IsolationError, match="exit code 3"):
            call.call("exit")
        with pytest.raises(IsolationError, match="ValueError: bad item"):
            call.call("raise")
        assert call.call("c") == "C"
        assert call.restarts == 2


def test_timeout_kills_and_restarts() -> None:
    with IsolatedCall(behave, timeout=0.5) as call:
        assert call.call("warm") == "WARM"  # the first call also pays for the child's start
        started = time.monotonic()
        with pytest.raises(IsolationError, match="timed out"):
            call.call("hang")
        assert time.monotonic() - started < 10
        assert call.call("d") == "D"
