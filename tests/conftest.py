"""Shared test helpers: where the real test data lives, and figures printed after the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from htlm.demo.run import BUNDLED_WARCS

pytest_plugins = ("tests.fault_server",)  # the `server` fixture: a local HTTP server with scripted faults

ROOT = Path(__file__).resolve().parents[1]
WARC_DATA = ROOT / "tests" / "data" / "warc"  # every real WARC/ARC file, corrupt ones included
PAGE_DATA = ROOT / "tests" / "data" / "pages"  # real HTML pages with ground truth
# The four sound real crawls that `make demo` reads.
DEMO_WARCS = tuple(WARC_DATA / name for name in BUNDLED_WARCS)

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
