"""The run report: histograms of per-document figures and a self-contained `report.html`.

The Beam job writes `stats.json` beside its shards and renders it with `render_report`
into one HTML page a data engineer opens in a browser: headline numbers and the
kept + dropped + dead-lettered invariant, the filter funnel, drops per reason, length and
text-ratio histograms, languages and the output files. The page has no external
resources and needs no JavaScript: charts are inline SVG drawn by two helpers (a
horizontal bar chart and a vertical histogram), and every piece of text is escaped, since
URLs, reasons and language tags come from the web.

Pure Python, no Beam: `histogram`, `log_edges` and `merge_histograms` are what the job's
workers and combiners use to build the `histograms` entries of the stats.
"""

from __future__ import annotations

import bisect
import html
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

TEXT_RATIO_THRESHOLD = 0.46  # SimplifyConfig.min_text_ratio, the paper's bar; stats may override
TOP_LANGUAGES = 20
MAX_OUTPUT_FILES = 20  # per kind; the rest are counted, not listed

# ---------------------------------------------------------------------------------------------
# Histograms


def histogram(values: Iterable[float], edges: Sequence[float]) -> dict:
    """Count `values` into the bins between increasing `edges`, plus an open-ended last bin.

    Returns ``{"edges": [...], "counts": [...]}`` with ``len(counts) == len(edges)``: bin
    ``i`` counts ``edges[i] <= v < edges[i + 1]``, the last bin counts ``v >= edges[-1]``
    (overflow), and values below ``edges[0]`` are counted in the first bin. NaN values are
    skipped. Raises ValueError unless `edges` is a non-empty, strictly increasing sequence of
    finite numbers.
    """
    edges = _check_edges(edges)
    counts = [0] * len(edges)
    for value in values:
        if value != value:  # NaN belongs to no bin
            continue
        counts[max(bisect.bisect_right(edges, value) - 1, 0)] += 1
    return {"edges": edges, "counts": counts}


def log_edges(low: float, high: float, per_decade: int = 4) -> list[float]:
    """Log-spaced bin edges from `low` up to at least `high`, `per_decade` bins per factor of ten.

    ``log_edges(100, 1e7)`` gives 21 edges, 100, 178, 316, 562, 1000, ... 1e7, rounded to six
    significant digits so that the powers of ten come out exact. For byte and character
    lengths, which span 100 .. 10^7.
    """
    if not (0 < low < high) or not math.isfinite(high):
        raise ValueError(f"log_edges needs 0 < low < high, got low={low!r}, high={high!r}")
    if per_decade < 1:
        raise ValueError(f"per_decade must be at least 1, got {per_decade!r}")
    steps = math.ceil(per_decade * math.log10(high / low) - 1e-9)
    return [float(f"{low * 10 ** (i / per_decade):.6g}") for i in range(steps + 1)]


def merge_histograms(a: dict, b: dict) -> dict:
    """The bin-wise sum of two histograms made by `histogram` over the same edges.

    An empty dict stands for "nothing counted yet" (a combiner's fresh accumulator) and
    merges as the identity. Raises ValueError when the edges or the lengths differ.
    """
    if not a:
        return {"edges": list(b.get("edges", [])), "counts": list(b.get("counts", []))} if b else {}
    if not b:
        return merge_histograms(b, a)
    if list(a["edges"]) != list(b["edges"]):
        raise ValueError("cannot merge histograms with different edges")
    if len(a["counts"]) != len(b["counts"]):
        raise ValueError("cannot merge histograms with different numbers of bins")
    return {
        "edges": list(a["edges"]),
        "counts": [x + y for x, y in zip(a["counts"], b["counts"], strict=True)],
    }


def _check_edges(edges: Sequence[float]) -> list[float]:
    edges = list(edges)
    if not edges:
        raise ValueError("a histogram needs at least one edge")
    if not all(isinstance(e, int | float) and math.isfinite(e) for e in edges):
        raise ValueError("histogram edges must be finite numbers")
    if any(lo >= hi for lo, hi in itertools.pairwise(edges)):
        raise ValueError("histogram edges must be strictly increasing")
    return edges


# ---------------------------------------------------------------------------------------------
# The page


def render_report(stats: dict) -> str:
    """The run report as one self-contained HTML page (inline CSS and SVG, no scripts).

    Every key of `stats` may be missing, empty or malformed: what is there is rendered, a
    section without usable data says "no data", and nothing raises. Keys read: ``title``,
    ``started``, ``elapsed_seconds``, ``inputs``, ``records_in``, ``kept``, ``dropped``,
    ``dead_lettered``, ``funnel``, ``histograms`` (``html_bytes``, ``text_chars``,
    ``mhtml_chars``, ``text_ratio`` and any other), ``languages``, ``rates``, ``outputs``,
    ``invariant``, and ``text_ratio_threshold`` (default 0.46).
    """
    stats = stats if isinstance(stats, Mapping) else {}
    body = "\n".join(
        _guard(section, stats)
        for section in (
            _header,
            _funnel,
            _dropped,
            _lengths,
            _text_ratio,
            _languages,
            _outputs,
            _raw,
        )
    )
    return _PAGE.format(title=_e(_title(stats)), css=_CSS, body=body)


def write_report(stats: dict, path: str | os.PathLike[str]) -> None:
    """Render `stats` with `render_report` and write the page to `path` as UTF-8."""
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(render_report(stats))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
{body}
<footer>Rendered by htlm.pipeline.report from the run's stats.json.</footer>
</main>
</body>
</html>
"""

_CSS = """
body { margin: 0; background: #f6f7f9; color: #1d2330;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 40px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 10px; }
h3 { font-size: 15px; margin: 16px 0 4px; }
section, header { background: #fff; border: 1px solid #dde1e8; border-radius: 8px;
                  padding: 16px 20px; margin: 0 0 18px; }
.meta, .note, footer { color: #5b6474; font-size: 13px; }
.note { margin: 2px 0 0; }
.nodata { color: #8a93a3; font-style: italic; margin: 4px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px;
         margin: 14px 0; }
.card { border: 1px solid #e3e6ec; border-radius: 6px; padding: 8px 12px; background: #fafbfc; }
.card .k { color: #5b6474; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .s { color: #5b6474; font-size: 12px; }
.invariant { padding: 8px 12px; border-radius: 6px; font-weight: 600; margin: 0; }
.invariant.ok { background: #e3f4e6; color: #1b6b2c; border: 1px solid #9fd4aa; }
.invariant.bad { background: #fde4e2; color: #a3211a; border: 1px solid #f0a39d; }
.invariant.unknown { background: #f0f1f4; color: #5b6474; border: 1px solid #dde1e8; }
svg.chart { display: block; width: 100%; height: auto; }
svg.chart text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #1d2330; }
svg.chart text.muted { fill: #5b6474; }
svg.chart text.marker { fill: #e45756; font-weight: 600; }
ul.files { margin: 4px 0; padding-left: 22px; font: 13px ui-monospace, Menlo, Consolas, monospace; }
ul.files.many { columns: 2; }
details pre { font-size: 12px; overflow-x: auto; background: #fafbfc; padding: 10px; }
footer { text-align: center; }
"""

BLUE, LIGHT_BLUE, RED, GREEN, TEAL = "#4c78a8", "#a7c4e2", "#e45756", "#54a24b", "#2a9d8f"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _guard(section: Callable[[Mapping], str], stats: Mapping) -> str:
    """A section's HTML; a section that cannot be drawn from malformed data says so instead."""
    try:
        return section(stats)
    except Exception as error:
        name = section.__name__.strip("_").replace("_", " ")
        reason = f"no data (could not render: {error})"
        return f'<section><h2>{_e(name)}</h2><p class="nodata">{_e(reason)}</p></section>'


def _title(stats: Mapping) -> str:
    title = stats.get("title")
    return title if isinstance(title, str) and title.strip() else "htlm pipeline run"


def _num(value: Any) -> float | None:
    """A finite number, or None for anything else (bools, strings, NaN, None)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _pairs(value: Any) -> list[tuple[str, float]]:
    """(label, number) pairs from a mapping or a list of pairs; unusable entries are skipped."""
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = [item for item in value if isinstance(item, list | tuple) and len(item) == 2]
    else:
        return []
    pairs = []
    for label, number in items:
        number = _num(number)
        if number is not None:
            pairs.append(("(none)" if label is None or label == "" else str(label), number))
    return pairs


def _count(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def _pct(part: float, whole: float | None) -> str:
    if not whole:
        return ""
    share = 100 * part / whole
    return "<0.1%" if 0 < share < 0.1 else f"{share:.1f}%"


def _si(value: float) -> str:
    """Short number: 100, 1.78k, 10k, 1M, 0.46."""
    value = float(f"{value:.3g}")
    for unit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= unit:
            return f"{value / unit:.3g}{suffix}"
    return f"{value:.3g}"


def _bytes(value: float) -> str:
    for unit, suffix in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if value >= unit:
            return f"{value / unit:.1f} {suffix}"
    return f"{int(value)} B"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _section(heading: str, content: str) -> str:
    return f"<section><h2>{_e(heading)}</h2>\n{content}\n</section>"


NO_DATA = '<p class="nodata">no data</p>'


# ---------------------------------------------------------------------------------------------
# The two chart helpers


def _bar_chart(pairs: Sequence[tuple[str, float]], *, total: float | None = None, color: str = BLUE) -> str:
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
        share = _pct(value, total)
        text = _count(value) + (f"  ({share})" if share else "")
        out.append(
            f'<text x="{label_w - 8}" y="{mid:.1f}" text-anchor="end">{_e(shown)}'
            f"<title>{_e(label)}</title></text>"
            f'<rect x="{label_w}" y="{y + (row - bar) / 2:.1f}" width="{length:.1f}" height="{bar}" '
            f'fill="{color}">'
            f"<title>{_e(label)}: {_e(text)}</title></rect>"
            f'<text x="{label_w + length + 6:.1f}" y="{mid:.1f}">{_e(text)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _histogram_chart(
    hist: Any, *, log: bool, marker: float | None = None, marker_label: str = "", color: str = BLUE
) -> str:
    """A vertical histogram of a `histogram` dict: equal-width bars, edge labels, optional marker line.

    With ``log`` the edges are labelled at powers of ten (1k, 10k, 1M). A counts list as long
    as the edges has an open-ended last bin, drawn lighter; one shorter by one has none.
    """
    if not isinstance(hist, Mapping):
        return NO_DATA
    edges = [_num(e) for e in hist.get("edges") or []]
    counts = [_num(c) for c in hist.get("counts") or []]
    if not edges or not counts or None in edges or None in counts:
        return NO_DATA
    if len(counts) not in (len(edges), len(edges) - 1):
        return '<p class="nodata">no data (edges and counts do not match)</p>'
    total = sum(counts)
    if total <= 0:
        return '<p class="nodata">no data (no values counted)</p>'
    overflow = len(counts) == len(edges)

    width, height = 1000, 220
    left, right, top, bottom = 60, 20, 22, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(counts)
    bin_w = plot_w / n
    ymax, ticks = _nice_ticks(max(counts))
    base = top + plot_h
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img">']
    for tick in ticks:
        y = base - tick / ymax * plot_h
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ec"/>'
            f'<text class="muted" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(_si(tick))}</text>'
        )
    for i, count in enumerate(counts):
        x = left + i * bin_w
        bar_h = count / ymax * plot_h
        last = i + 1 >= len(edges)
        span = f"≥ {_si(edges[i])}" if last else f"{_si(edges[i])} – {_si(edges[i + 1])}"
        if i == 0:
            span += " (and below)"
        fill = LIGHT_BLUE if last else color
        out.append(
            f'<rect x="{x + 1:.1f}" y="{base - bar_h:.1f}" width="{max(bin_w - 2, 1):.1f}" '
            f'height="{bar_h:.1f}" fill="{fill}"><title>{_e(span)}: {_e(_count(count))}</title></rect>'
        )
        if count > 0 and bin_w >= 22:
            out.append(
                f'<text x="{x + bin_w / 2:.1f}" y="{base - bar_h - 4:.1f}" text-anchor="middle">'
                f"{_e(_si(count))}</text>"
            )
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="#5b6474"/>')
    for i in _labelled_edges(edges, log):
        x = left + i * bin_w
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 5}" stroke="#5b6474"/>'
            f'<text x="{x:.1f}" y="{base + 19}" text-anchor="middle">{_e(_si(edges[i]))}</text>'
        )
    if marker is not None and edges[0] <= marker <= edges[-1] and len(edges) > 1:
        i = min(bisect.bisect_right(edges, marker) - 1, len(edges) - 2)
        x = left + (i + (marker - edges[i]) / (edges[i + 1] - edges[i])) * bin_w
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 8}" y2="{base}" stroke="{RED}" stroke-width="2" '
            f'stroke-dasharray="6 4"/><text class="marker" x="{x + 6:.1f}" y="{top + 4}">'
            f"{_e(marker_label)}</text>"
        )
    out.append("</svg>")
    notes = [f"{_count(total)} values", f"{n} {'log-spaced ' if log else ''}bins"]
    if edges[0] > 0:
        notes.append(f"the first bar includes values below {_si(edges[0])}")
    if overflow:
        notes.append(f"the last, lighter bar counts values ≥ {_si(edges[-1])}")
    return "".join(out) + f'<p class="note">{_e(" · ".join(notes))}</p>'


def _nice_ticks(peak: float) -> tuple[float, list[float]]:
    """A round top for the y axis and its ticks (steps of 1, 2 or 5 times a power of ten)."""
    raw = max(peak, 1) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(step, 1)
    top = math.ceil(max(peak, 1) / step) * step
    return top, [k * step for k in range(round(top / step) + 1)]


def _labelled_edges(edges: Sequence[float], log: bool) -> list[int]:
    """Which edges get a label: powers of ten on a log axis, else about ten evenly spread."""
    if log:
        decades = [
            i for i, e in enumerate(edges) if e > 0 and abs(math.log10(e) - round(math.log10(e))) < 1e-6
        ]
        if len(decades) >= 2:
            return decades[:: math.ceil(len(decades) / 12)]
    return list(range(0, len(edges), math.ceil(len(edges) / 11)))


# ---------------------------------------------------------------------------------------------
# Sections


def _header(stats: Mapping) -> str:
    records_in, kept = _num(stats.get("records_in")), _num(stats.get("kept"))
    dropped = _pairs(stats.get("dropped"))
    dead = _pairs(stats.get("dead_lettered"))
    elapsed = _num(stats.get("elapsed_seconds"))
    inputs = stats.get("inputs") if isinstance(stats.get("inputs"), Mapping) else {}
    rates = _pairs(stats.get("rates"))

    cards: list[tuple[str, str, str]] = []
    if records_in is not None:
        cards.append(("records in", _count(records_in), ""))
    if kept is not None:
        share = _pct(kept, records_in)
        cards.append(("kept", _count(kept), f"{share} of records in" if share else ""))
    if dropped:
        total = sum(v for _, v in dropped)
        share = _pct(total, records_in)
        cards.append(("dropped", _count(total), f"{share} · {len(dropped)} reasons" if share else ""))
    if dead:
        total = sum(v for _, v in dead)
        cards.append(("dead-lettered", _count(total), ", ".join(f"{k} {_count(v)}" for k, v in dead)))
    if elapsed is not None:
        cards.append(("elapsed", _duration(elapsed), ""))
    for key, value in rates:
        label = {"records_per_second": "records / s", "mb_per_second": "MB / s"}.get(
            key, key.replace("_", " ")
        )
        cards.append((label, f"{value:,.3g}" if value < 1000 else _count(round(value)), ""))
    if (files := _num(inputs.get("files"))) is not None:
        cards.append(("input files", _count(files), ""))
    if (size := _num(inputs.get("bytes"))) is not None:
        cards.append(("input size", _bytes(size), f"{_count(size)} bytes"))
    if (skipped := _num(inputs.get("skipped_already_done"))) is not None:
        cards.append(("files skipped", _count(skipped), "already done"))

    started = stats.get("started")
    meta = f'<p class="meta">started {_e(started)}</p>' if started else ""
    card_html = "".join(
        f'<div class="card"><div class="k">{_e(k)}</div><div class="v">{_e(v)}</div>'
        f'<div class="s">{_e(s)}</div></div>'
        for k, v, s in cards
    )
    card_html = f'<div class="cards">{card_html}</div>' if cards else NO_DATA
    return (
        f"<header><h1>{_e(_title(stats))}</h1>{meta}{card_html}"
        f"{_invariant(stats, records_in, kept, dropped, dead)}</header>"
    )


def _invariant(
    stats: Mapping,
    records_in: float | None,
    kept: float | None,
    dropped: list[tuple[str, float]],
    dead: list[tuple[str, float]],
) -> str:
    """The kept + dropped + dead-lettered == records in line, green or red."""
    given = stats.get("invariant")
    if isinstance(given, Mapping) and given:
        left, right = _num(given.get("records_in")), _num(given.get("kept_plus_dropped_plus_dead"))
        holds = given.get("holds")
        if not isinstance(holds, bool):
            holds = left == right if left is not None and right is not None else None
        source = ""
    elif records_in is not None and kept is not None and "dropped" in stats:
        left, right = records_in, kept + sum(v for _, v in dropped) + sum(v for _, v in dead)
        holds, source = left == right, " (computed from the counts above)"
    else:
        return (
            '<p class="invariant unknown">Invariant records in = kept + dropped + dead-lettered: no data</p>'
        )
    sides = ""
    if left is not None and right is not None:
        sides = f": {_count(left)} {'=' if left == right else '≠'} {_count(right)}"
    if holds is None:
        return (
            f'<p class="invariant unknown">Invariant records in = kept + dropped + dead-lettered{sides}</p>'
        )
    verdict = "holds" if holds else "DOES NOT HOLD"
    return (
        f'<p class="invariant {"ok" if holds else "bad"}">{"✓" if holds else "✗"} Invariant {verdict}: '
        f"records in = kept + dropped + dead-lettered{_e(sides)}{_e(source)}</p>"
    )


def _funnel(stats: Mapping) -> str:
    pairs = _pairs(stats.get("funnel"))
    base = _num(stats.get("records_in")) or (pairs[0][1] if pairs else None)
    note = '<p class="note">Records left after each stage, as a share of records in.</p>' if pairs else ""
    return _section("Filter funnel", _bar_chart(pairs, total=base, color=TEAL) + note)


def _dropped(stats: Mapping) -> str:
    pairs = sorted(_pairs(stats.get("dropped")), key=lambda p: (-p[1], p[0]))
    records_in = _num(stats.get("records_in"))
    note = '<p class="note">Shares are of records in.</p>' if pairs and records_in else ""
    return _section("Dropped, per reason", _bar_chart(pairs, total=records_in, color=RED) + note)


LENGTHS = (
    ("html_bytes", "HTML size (bytes)"),
    ("text_chars", "Text length (characters)"),
    ("mhtml_chars", "MHTML length (characters)"),
)


def _histograms(stats: Mapping) -> Mapping:
    value = stats.get("histograms")
    return value if isinstance(value, Mapping) else {}


def _lengths(stats: Mapping) -> str:
    hists = _histograms(stats)
    named = dict(LENGTHS)
    others = [(key, str(key).replace("_", " ")) for key in hists if key not in named and key != "text_ratio"]
    parts = []
    for key, heading in [*LENGTHS, *others]:
        if key in hists:
            parts.append(f"<h3>{_e(heading)}</h3>" + _histogram_chart(hists[key], log=key in named))
    return _section("Lengths", "".join(parts) or NO_DATA)


def _text_ratio(stats: Mapping) -> str:
    hists = _histograms(stats)
    threshold = _num(stats.get("text_ratio_threshold"))
    threshold = TEXT_RATIO_THRESHOLD if threshold is None else threshold
    if "text_ratio" not in hists:
        return _section("Text ratio", NO_DATA)
    chart = _histogram_chart(
        hists["text_ratio"], log=False, marker=threshold, marker_label=f"threshold {threshold:g}"
    )
    note = (
        f'<p class="note">Text characters / MHTML characters; pages at or below {threshold:g} '
        "are dropped as low-text-ratio.</p>"
    )
    return _section("Text ratio", chart + note)


def _languages(stats: Mapping) -> str:
    pairs = sorted(_pairs(stats.get("languages")), key=lambda p: (-p[1], p[0]))
    if len(pairs) > TOP_LANGUAGES:
        rest = sum(v for _, v in pairs[TOP_LANGUAGES:])
        pairs = [*pairs[:TOP_LANGUAGES], (f"other ({len(pairs) - TOP_LANGUAGES} languages)", rest)]
    total = sum(v for _, v in pairs) or None
    note = '<p class="note">Kept documents per <code>&lt;html lang&gt;</code>; shares are of their total.</p>'
    return _section("Languages", _bar_chart(pairs, total=total, color=GREEN) + (note if pairs else ""))


def _outputs(stats: Mapping) -> str:
    outputs = stats.get("outputs")
    if not isinstance(outputs, Mapping) or not outputs:
        return _section("Outputs", NO_DATA)
    parts = []
    for kind, files in outputs.items():
        files = [files] if isinstance(files, str) else list(files) if isinstance(files, list | tuple) else []
        heading = f"{str(kind).replace('_', ' ')} ({len(files)} file{'' if len(files) == 1 else 's'})"
        if files:
            items = "".join(f"<li>{_e(name)}</li>" for name in files[:MAX_OUTPUT_FILES])
            if len(files) > MAX_OUTPUT_FILES:
                items += f"<li>… and {len(files) - MAX_OUTPUT_FILES:,} more</li>"
            listing = f'<ul class="files{" many" if len(files) > 8 else ""}">{items}</ul>'
        else:
            listing = '<p class="nodata">none</p>'
        parts.append(f"<h3>{_e(heading)}</h3>{listing}")
    return _section("Outputs", "".join(parts))


def _raw(stats: Mapping) -> str:
    if not stats:
        return ""
    text = json.dumps(stats, indent=2, ensure_ascii=False, default=str)
    return f"<section><details><summary>stats.json</summary><pre>{_e(text)}</pre></details></section>"
