"""The demo's `report.html`: funnel, lengths, training loss, sample documents and the prompt results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from htlm.pipeline.report.charts import bar_chart, histogram_chart
from htlm.pipeline.report.format import esc
from htlm.pipeline.report.histograms import histogram, log_edges

STYLE = """body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap;font-size:12px;max-height:18em;overflow:auto}
.chart{width:100%;height:auto}.note{color:#666;font-size:13px}"""


def line_chart(points: Sequence[tuple[float, float]], x_label: str, y_label: str) -> str:
    """A small inline SVG line chart of (x, y) points."""
    if len(points) < 2:
        return '<p class="note">not enough points</p>'
    width, height, pad = 1000, 300, 50
    xs, ys = [x for x, _ in points], [y for _, y in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = lambda x: pad + (x - x0) / ((x1 - x0) or 1) * (width - 2 * pad)  # noqa: E731
    sy = lambda y: height - pad - (y - y0) / ((y1 - y0) or 1) * (height - 2 * pad)  # noqa: E731
    path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img">'
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{path}"/>'
        f'<text x="{pad}" y="{height - 12}" font-size="13">{esc(x_label)}: {x0:g} … {x1:g}</text>'
        f'<text x="{pad}" y="20" font-size="13">{esc(y_label)}: {y1:.2f} (top) … {y0:.2f} (bottom)</text>'
        "</svg>"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render(
    results: Mapping[str, Any], stats: Mapping[str, Any], documents: Sequence[Mapping[str, Any]]
) -> str:
    """The report page from the demo's results, the Beam job's stats and its documents."""
    funnel = [("records in", stats.get("records_in", 0)), ("kept", stats.get("kept", 0))]
    funnel += [(f"dropped: {stage}", n) for stage, n in (stats.get("dropped_by_stage") or {}).items()]
    lengths = [len(doc["mhtml"]) for doc in documents]
    rouge_rows = [
        (name, *(f"{r[key]:.2f}" for key in ("rouge1", "rouge2", "rougeL")))
        for name, r in results["rouge"].items()
    ]
    gaps = results["length_control"]
    length_rows = [
        (hint, f"{gaps['with the hint'][hint]:.2f}", f"{gaps['without a hint'][hint]:.2f}")
        for hint in gaps["with the hint"]
    ]
    example_rows = [
        (r["name"], r["title"], r["answer"], r["size_hints"], r["attempts"]) for r in results["examples"]
    ]
    head = f"<head><meta charset='utf-8'><title>htlm demo</title><style>{STYLE}</style></head>"
    pipeline_report = '<a href="data/report.html">data/report.html</a>'
    parts = [
        f"<!doctype html><html>{head}<body>",
        "<h1>htlm demo: real WARCs → MHTML → htlm_tiny → zero-shot titles</h1>",
        f"<p>{esc(results['disclaimer'])}</p>",
        "<h2>Data funnel</h2>",
        bar_chart(funnel, total=stats.get("records_in") or None),
        f'<p class="note">The Beam job\'s own report (every drop reason): {pipeline_report}</p>',
        "<h2>MHTML length (characters per kept document)</h2>",
        histogram_chart(histogram(lengths, log_edges(100, 1_000_000)), log=True),
        "<h2>Training loss</h2>",
        line_chart(results["loss_curve"], "update", "train loss (bits per token)"),
        "<h2>Zero-shot titles on held-out pages: ROUGE-1/2/L</h2>",
        table(["system", "ROUGE-1", "ROUGE-2", "ROUGE-L"], rouge_rows),
        "<h2>Length control: mean |generated length − hint| (tokens)</h2>",
        table(["hint", "with the hint", "without a hint"], length_rows),
        "<h2>Held-out perplexity of the denoiser</h2>",
        table(["input", "perplexity"], [(k, f"{v:.2f}") for k, v in results["perplexity"].items()]),
        "<h2>Held-out pages: real and generated titles</h2>",
        table(["page", "real title", "generated", "hint", "tries"], example_rows),
        "<h2>Sample MHTML documents</h2>",
        *[f"<p>{esc(doc.get('url', ''))}</p><pre>{esc(doc['mhtml'][:3000])}</pre>" for doc in documents[:3]],
        "</body></html>",
    ]
    return "\n".join(parts)


def write(
    path: Path, results: Mapping[str, Any], stats: Mapping[str, Any], documents: Sequence[Mapping]
) -> None:
    path.write_text(render(results, stats, documents), encoding="utf-8")
