"""Escaping and number formatting for the report: every string from the web is escaped here."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

BLUE, LIGHT_BLUE, RED, GREEN, TEAL = "#4c78a8", "#a7c4e2", "#e45756", "#54a24b", "#2a9d8f"


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def num(value: Any) -> float | None:
    """A finite number, or None for anything else (bools, strings, NaN, None)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def as_pairs(value: Any) -> list[tuple[str, float]]:
    """(label, number) pairs from a mapping or a list of pairs; unusable entries are skipped."""
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = [item for item in value if isinstance(item, list | tuple) and len(item) == 2]
    else:
        return []
    pairs = []
    for label, number in items:
        number = num(number)
        if number is not None:
            pairs.append(("(none)" if label is None or label == "" else str(label), number))
    return pairs


def fmt_count(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def fmt_pct(part: float, whole: float | None) -> str:
    if not whole:
        return ""
    share = 100 * part / whole
    return "<0.1%" if 0 < share < 0.1 else f"{share:.1f}%"


def fmt_si(value: float) -> str:
    """Short number: 100, 1.78k, 10k, 1M, 0.46."""
    value = float(f"{value:.3g}")
    for unit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= unit:
            return f"{value / unit:.3g}{suffix}"
    return f"{value:.3g}"


def fmt_size(value: float) -> str:
    for unit, suffix in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if value >= unit:
            return f"{value / unit:.1f} {suffix}"
    return f"{int(value)} B"


def fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def section(heading: str, content: str) -> str:
    return f"<section><h2>{esc(heading)}</h2>\n{content}\n</section>"


NO_DATA = '<p class="nodata">no data</p>'
