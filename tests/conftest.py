"""Shared test helpers: where the real test data lives, and figures printed after the run."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("tests.fault_server",)  # the `server` fixture: a local HTTP server with scripted faults

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT.parent / "shared" / "testdata"  # ../shared/testdata from the project root
BUNDLED_WARCS = ROOT / "tests" / "data" / "warc"

_FIGURES: list[str] = []


@pytest.fixture
def figures() -> list[str]:
    """Lines appended here are printed in pytest's terminal summary (measured figures, not asserts)."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("measured figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
