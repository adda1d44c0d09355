"""The run report: histograms of per-document figures and a self-contained `report.html`.

The Beam job writes `stats.json` beside its shards and renders it with `render_report`
into one HTML page a data engineer opens in a browser: headline numbers and the
kept + dropped + dead-lettered invariant, the filter funnel, drops per reason, length and
text-ratio histograms, languages and the output files. The page has no external
resources and needs no JavaScript: charts are inline SVG drawn by two helpers (a
horizontal bar chart and a vertical histogram), and every piece of text is escaped, since
URLs, reasons and language tags come from the web.

Modules: `histograms` (built by the job's workers and combiners), `charts` (SVG), `format`
(escaping, numbers), this one (the sections) and the page template `report.html`.

Pure Python, no Beam: `histogram`, `log_edges` and `merge_histograms` are what the job's
workers and combiners use to build the `histograms` entries of the stats.
"""

from __future__ import annotations

import importlib.resources
import json
import os
from collections.abc import Callable, Mapping
from string import Template

from htlm.pipeline.report.charts import bar_chart, histogram_chart
from htlm.pipeline.report.format import (
    GREEN,
    NO_DATA,
    RED,
    TEAL,
    as_pairs,
    esc,
    fmt_count,
    fmt_duration,
    fmt_pct,
    fmt_size,
    num,
    section,
)

TEXT_RATIO_THRESHOLD = 0.46  # SimplifyConfig.min_text_ratio, the paper's bar; stats may override
TOP_LANGUAGES = 20
MAX_OUTPUT_FILES = 20  # per kind; the rest are counted, not listed


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
    return _PAGE.substitute(title=esc(_title(stats)), body=body)


def write_report(stats: dict, path: str | os.PathLike[str]) -> None:
    """Render `stats` with `render_report` and write the page to `path` as UTF-8."""
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(render_report(stats))


_PAGE = Template(
    importlib.resources.files("htlm.pipeline.report").joinpath("report.html").read_text(encoding="utf-8")
)


def _guard(section: Callable[[Mapping], str], stats: Mapping) -> str:
    """A section's HTML; a section that cannot be drawn from malformed data says so instead."""
    try:
        return section(stats)
    except Exception as error:
        name = section.__name__.strip("_").replace("_", " ")
        reason = f"no data (could not render: {error})"
        return f'<section><h2>{esc(name)}</h2><p class="nodata">{esc(reason)}</p></section>'


def _title(stats: Mapping) -> str:
    title = stats.get("title")
    return title if isinstance(title, str) and title.strip() else "htlm pipeline run"


# ---------------------------------------------------------------------------------------------
# Sections


def _header(stats: Mapping) -> str:
    records_in, kept = num(stats.get("records_in")), num(stats.get("kept"))
    dropped = as_pairs(stats.get("dropped"))
    dead = as_pairs(stats.get("dead_lettered"))
    elapsed = num(stats.get("elapsed_seconds"))
    inputs = stats.get("inputs") if isinstance(stats.get("inputs"), Mapping) else {}
    rates = as_pairs(stats.get("rates"))

    cards: list[tuple[str, str, str]] = []
    if records_in is not None:
        cards.append(("records in", fmt_count(records_in), ""))
    if kept is not None:
        share = fmt_pct(kept, records_in)
        cards.append(("kept", fmt_count(kept), f"{share} of records in" if share else ""))
    if dropped:
        total = sum(v for _, v in dropped)
        share = fmt_pct(total, records_in)
        cards.append(("dropped", fmt_count(total), f"{share} · {len(dropped)} reasons" if share else ""))
    if dead:
        total = sum(v for _, v in dead)
        cards.append(("dead-lettered", fmt_count(total), ", ".join(f"{k} {fmt_count(v)}" for k, v in dead)))
    if elapsed is not None:
        cards.append(("elapsed", fmt_duration(elapsed), ""))
    for key, value in rates:
        label = {"records_per_second": "records / s", "mb_per_second": "MB / s"}.get(
            key, key.replace("_", " ")
        )
        cards.append((label, f"{value:,.3g}" if value < 1000 else fmt_count(round(value)), ""))
    if (files := num(inputs.get("files"))) is not None:
        cards.append(("input files", fmt_count(files), ""))
    if (size := num(inputs.get("bytes"))) is not None:
        cards.append(("input size", fmt_size(size), f"{fmt_count(size)} bytes"))
    if (skipped := num(inputs.get("skipped_already_done"))) is not None:
        cards.append(("files skipped", fmt_count(skipped), "already done"))

    started = stats.get("started")
    meta = f'<p class="meta">started {esc(started)}</p>' if started else ""
    card_html = "".join(
        f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{esc(v)}</div>'
        f'<div class="s">{esc(s)}</div></div>'
        for k, v, s in cards
    )
    card_html = f'<div class="cards">{card_html}</div>' if cards else NO_DATA
    return (
        f"<header><h1>{esc(_title(stats))}</h1>{meta}{card_html}"
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
        left, right = num(given.get("records_in")), num(given.get("kept_plus_dropped_plus_dead"))
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
        sides = f": {fmt_count(left)} {'=' if left == right else '≠'} {fmt_count(right)}"
    if holds is None:
        return (
            f'<p class="invariant unknown">Invariant records in = kept + dropped + dead-lettered{sides}</p>'
        )
    verdict = "holds" if holds else "DOES NOT HOLD"
    return (
        f'<p class="invariant {"ok" if holds else "bad"}">{"✓" if holds else "✗"} Invariant {verdict}: '
        f"records in = kept + dropped + dead-lettered{esc(sides)}{esc(source)}</p>"
    )


def _funnel(stats: Mapping) -> str:
    pairs = as_pairs(stats.get("funnel"))
    base = num(stats.get("records_in")) or (pairs[0][1] if pairs else None)
    note = '<p class="note">Records left after each stage, as a share of records in.</p>' if pairs else ""
    return section("Filter funnel", bar_chart(pairs, total=base, color=TEAL) + note)


def _dropped(stats: Mapping) -> str:
    pairs = sorted(as_pairs(stats.get("dropped")), key=lambda p: (-p[1], p[0]))
    records_in = num(stats.get("records_in"))
    note = '<p class="note">Shares are of records in.</p>' if pairs and records_in else ""
    return section("Dropped, per reason", bar_chart(pairs, total=records_in, color=RED) + note)


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
            parts.append(f"<h3>{esc(heading)}</h3>" + histogram_chart(hists[key], log=key in named))
    return section("Lengths", "".join(parts) or NO_DATA)


def _text_ratio(stats: Mapping) -> str:
    hists = _histograms(stats)
    threshold = num(stats.get("text_ratio_threshold"))
    threshold = TEXT_RATIO_THRESHOLD if threshold is None else threshold
    if "text_ratio" not in hists:
        return section("Text ratio", NO_DATA)
    chart = histogram_chart(
        hists["text_ratio"], log=False, marker=threshold, marker_label=f"threshold {threshold:g}"
    )
    note = (
        f'<p class="note">Text characters / MHTML characters; pages at or below {threshold:g} '
        "are dropped as low-text-ratio.</p>"
    )
    return section("Text ratio", chart + note)


def _languages(stats: Mapping) -> str:
    pairs = sorted(as_pairs(stats.get("languages")), key=lambda p: (-p[1], p[0]))
    if len(pairs) > TOP_LANGUAGES:
        rest = sum(v for _, v in pairs[TOP_LANGUAGES:])
        pairs = [*pairs[:TOP_LANGUAGES], (f"other ({len(pairs) - TOP_LANGUAGES} languages)", rest)]
    total = sum(v for _, v in pairs) or None
    note = '<p class="note">Kept documents per <code>&lt;html lang&gt;</code>; shares are of their total.</p>'
    return section("Languages", bar_chart(pairs, total=total, color=GREEN) + (note if pairs else ""))


def _outputs(stats: Mapping) -> str:
    outputs = stats.get("outputs")
    if not isinstance(outputs, Mapping) or not outputs:
        return section("Outputs", NO_DATA)
    parts = []
    for kind, files in outputs.items():
        files = [files] if isinstance(files, str) else list(files) if isinstance(files, list | tuple) else []
        heading = f"{str(kind).replace('_', ' ')} ({len(files)} file{'' if len(files) == 1 else 's'})"
        if files:
            items = "".join(f"<li>{esc(name)}</li>" for name in files[:MAX_OUTPUT_FILES])
            if len(files) > MAX_OUTPUT_FILES:
                items += f"<li>… and {len(files) - MAX_OUTPUT_FILES:,} more</li>"
            listing = f'<ul class="files{" many" if len(files) > 8 else ""}">{items}</ul>'
        else:
            listing = '<p class="nodata">none</p>'
        parts.append(f"<h3>{esc(heading)}</h3>{listing}")
    return section("Outputs", "".join(parts))


def _raw(stats: Mapping) -> str:
    if not stats:
        return ""
    text = json.dumps(stats, indent=2, ensure_ascii=False, default=str)
    return f"<section><details><summary>stats.json</summary><pre>{esc(text)}</pre></details></section>"
