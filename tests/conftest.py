"""Shared test helpers: where the real test data lives, and figures printed after the run."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("tests.fault_server",)  # the `server` fixture: a local HTTP server with scripted faults

ROOT = Path(__file__).resolve().parents[1]
WARC_DATA = ROOT / "tests" / "data" / "warc"  # every real WARC/ARC file, corrupt ones included
PAGE_DATA = ROOT / "tests" / "data" / "pages"  # real HTML pages with ground truth
# The four sound real crawls that `make demo` reads (keep in step with the Makefile's DEMO_WARCS).
DEMO_WARCS = tuple(
    WARC_DATA / name
    for name in (
        "cc-whirlwind/whirlwind.warc.gz",
        "dolma-wget-warc/sample-0000.warc.gz",
        "resiliparse-fastwarc/clueweb-quirk.warc.gz",
        "resiliparse-fastwarc/warcfile.warc.gz",
    )
)

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
