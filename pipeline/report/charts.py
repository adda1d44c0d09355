"""Inline SVG charts (no JavaScript, no external resources): a horizontal bar chart and a histogram."""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from htlm.pipeline.report.format import BLUE, LIGHT_BLUE, NO_DATA, RED, esc, fmt_count, fmt_pct, fmt_si, num


def bar_chart(pairs: Sequence[tuple[str, float]], *, total: float | None = None, color: str = BLUE) -> str:
    """A horizontal bar chart: one row per (label, value), the value and its share of `total`."""
    if not pairs:
        return NO_DATA
    width, row, bar = 1000, 26, 17
    longest = max(len(label) for label, _ in pairs)
    label_w = min(300, max(90, 7 * longest + 16))
    fit = (label_w - 16) // 7
    value_w = 150
    span = width - label_w - value_w
    peak = max((value for _, value in pairs), default=0) or 1
    height = row * len(pairs) + 6
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img">']
    for i, (label, value) in enumerate(pairs):
        y = 3 + i * row
        mid = y + row / 2 + 4
        length = max(0.0, value) / peak * span
        shown = label if len(label) <= fit else label[: fit - 1] + "…"
        share = fmt_pct(value, total)
        text = fmt_count(value) + (f"  ({share})" if share else "")
        out.append(
            f'<text x="{label_w - 8}" y="{mid:.1f}" text-anchor="end">{esc(shown)}'
            f"<title>{esc(label)}</title></text>"
            f'<rect x="{label_w}" y="{y + (row - bar) / 2:.1f}" width="{length:.1f}" height="{bar}" '
            f'fill="{color}">'
            f"<title>{esc(label)}: {esc(text)}</title></rect>"
            f'<text x="{label_w + length + 6:.1f}" y="{mid:.1f}">{esc(text)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class _Frame:
    """Where a histogram's plot sits in its SVG, and its scales."""

    bins: int
    ymax: float
    width: int = 1000
    height: int = 220
    left: int = 60
    right: int = 20
    top: int = 22
    bottom: int = 42

    @property
    def bin_w(self) -> float:
        return (self.width - self.left - self.right) / self.bins

    @property
    def base(self) -> float:
        return self.height - self.bottom

    def y(self, value: float) -> float:
        return self.base - value / self.ymax * (self.base - self.top)


def histogram_chart(
    hist: Any, *, log: bool, marker: float | None = None, marker_label: str = "", color: str = BLUE
) -> str:
    """A vertical histogram of a `histogram` dict: equal-width bars, edge labels, optional marker line.

    With ``log`` the edges are labelled at powers of ten (1k, 10k, 1M). A counts list as long
    as the edges has an open-ended last bin, drawn lighter; one shorter by one has none.
    """
    data = _histogram_data(hist)
    if isinstance(data, str):
        return data
    edges, counts = data
    ymax, ticks = nice_ticks(max(counts))
    frame = _Frame(bins=len(counts), ymax=ymax)
    out = [f'<svg class="chart" viewBox="0 0 {frame.width} {frame.height}" role="img">']
    out += _y_grid(frame, ticks) + _bars(frame, edges, counts, color) + _x_axis(frame, edges, log)
    if marker is not None and edges[0] <= marker <= edges[-1] and len(edges) > 1:
        out.append(_marker(frame, edges, marker, marker_label))
    out.append("</svg>")
    notes = [f"{fmt_count(sum(counts))} values", f"{len(counts)} {'log-spaced ' if log else ''}bins"]
    if edges[0] > 0:
        notes.append(f"the first bar includes values below {fmt_si(edges[0])}")
    if len(counts) == len(edges):
        notes.append(f"the last, lighter bar counts values ≥ {fmt_si(edges[-1])}")
    return "".join(out) + f'<p class="note">{esc(" · ".join(notes))}</p>'


def _histogram_data(hist: Any) -> tuple[list[float], list[float]] | str:
    """(edges, counts) of a histogram dict, or the no-data paragraph saying why not."""
    if not isinstance(hist, Mapping):
        return NO_DATA
    edges = [num(e) for e in hist.get("edges") or []]
    counts = [num(c) for c in hist.get("counts") or []]
    if not edges or not counts or None in edges or None in counts:
        return NO_DATA
    if len(counts) not in (len(edges), len(edges) - 1):
        return '<p class="nodata">no data (edges and counts do not match)</p>'
    if sum(counts) <= 0:
        return '<p class="nodata">no data (no values counted)</p>'
    return edges, counts  # type: ignore[return-value]


def _y_grid(frame: _Frame, ticks: list[float]) -> list[str]:
    out, x1, x2 = [], frame.left, frame.width - frame.right
    for tick in ticks:
        y = frame.y(tick)
        out.append(
            f'<line x1="{x1}" x2="{x2}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ec"/>'
            f'<text class="muted" x="{x1 - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(fmt_si(tick))}</text>'
        )
    return out


def _bars(frame: _Frame, edges: list[float], counts: list[float], color: str) -> list[str]:
    out = []
    for i, count in enumerate(counts):
        x, top = frame.left + i * frame.bin_w, frame.y(count)
        last = i + 1 >= len(edges)
        span = f"≥ {fmt_si(edges[i])}" if last else f"{fmt_si(edges[i])} – {fmt_si(edges[i + 1])}"
        if i == 0:
            span += " (and below)"
        out.append(
            f'<rect x="{x + 1:.1f}" y="{top:.1f}" width="{max(frame.bin_w - 2, 1):.1f}" '
            f'height="{frame.base - top:.1f}" fill="{LIGHT_BLUE if last else color}">'
            f"<title>{esc(span)}: {esc(fmt_count(count))}</title></rect>"
        )
        if count > 0 and frame.bin_w >= 22:
            out.append(
                f'<text x="{x + frame.bin_w / 2:.1f}" y="{top - 4:.1f}" text-anchor="middle">'
                f"{esc(fmt_si(count))}</text>"
            )
    return out


def _x_axis(frame: _Frame, edges: list[float], log: bool) -> list[str]:
    base = frame.base
    out = [
        f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{base}" y2="{base}" stroke="#5b6474"/>'
    ]
    for i in labelled_edges(edges, log):
        x = frame.left + i * frame.bin_w
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 5}" stroke="#5b6474"/>'
            f'<text x="{x:.1f}" y="{base + 19}" text-anchor="middle">{esc(fmt_si(edges[i]))}</text>'
        )
    return out


def _marker(frame: _Frame, edges: list[float], marker: float, label: str) -> str:
    i = min(bisect.bisect_right(edges, marker) - 1, len(edges) - 2)
    x = frame.left + (i + (marker - edges[i]) / (edges[i + 1] - edges[i])) * frame.bin_w
    top = frame.top
    return (
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 8}" y2="{frame.base}" stroke="{RED}" stroke-width="2" '
        f'stroke-dasharray="6 4"/><text class="marker" x="{x + 6:.1f}" y="{top + 4}">{esc(label)}</text>'
    )


def nice_ticks(peak: float) -> tuple[float, list[float]]:
    """A round top for the y axis and its ticks (steps of 1, 2 or 5 times a power of ten)."""
    raw = max(peak, 1) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(step, 1)
    top = math.ceil(max(peak, 1) / step) * step
    return top, [k * step for k in range(round(top / step) + 1)]


def labelled_edges(edges: Sequence[float], log: bool) -> list[int]:
    """Which edges get a label: powers of ten on a log axis, else about ten evenly spread."""
    if log:
        decades = [
            i for i, e in enumerate(edges) if e > 0 and abs(math.log10(e) - round(math.log10(e))) < 1e-6
        ]
        if len(decades) >= 2:
            return decades[:: math.ceil(len(decades) / 12)]
    return list(range(0, len(edges), math.ceil(len(edges) / 11)))
