"""Statistics of a run: per-document histograms (a CombineFn), the counts, the funnel, the invariant.

`build_stats` is pure; `write_stats` is the job's last step: it writes `stats.json` and
`report.html` once, with the elapsed time counted from the launch (`JobConfig.started`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from htlm.pipeline import reasons
from htlm.pipeline.beam.files import delete_files, escape_glob, write_text
from htlm.pipeline.config import JobConfig
from htlm.pipeline.report import histogram, log_edges, merge_histograms, render_report

LENGTH_EDGES = log_edges(10, 10_000_000)
RATIO_EDGES = [i / 20 for i in range(21)]
SHARD_KINDS = ("documents", "rejected", "dead_letter")


class DocumentStats(beam.CombineFn):
    """Histograms of lengths and text ratio, and languages, over the kept documents."""

    def create_accumulator(self) -> dict[str, Any]:
        return {
            "histograms": {
                "html_bytes": histogram([], LENGTH_EDGES),
                "text_chars": histogram([], LENGTH_EDGES),
                "mhtml_chars": histogram([], LENGTH_EDGES),
                "text_ratio": histogram([], RATIO_EDGES),
            },
            "languages": Counter(),
            "bytes_out": 0,
        }

    def add_input(self, accumulator: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        return self.merge_accumulators([accumulator, self._single(record)])

    def _single(self, record: dict[str, Any]) -> dict[str, Any]:
        ratio = record["text_chars"] / record["mhtml_chars"] if record["mhtml_chars"] else 0.0
        return {
            "histograms": {
                "html_bytes": histogram([record["html_bytes"]], LENGTH_EDGES),
                "text_chars": histogram([record["text_chars"]], LENGTH_EDGES),
                "mhtml_chars": histogram([record["mhtml_chars"]], LENGTH_EDGES),
                "text_ratio": histogram([ratio], RATIO_EDGES),
            },
            "languages": Counter({record["lang"] or "unknown": 1}),
            "bytes_out": len(record["mhtml"].encode("utf-8")),
        }

    def merge_accumulators(self, accumulators: Iterable[dict[str, Any]]) -> dict[str, Any]:
        accumulators = list(accumulators)
        merged = accumulators[0]
        for other in accumulators[1:]:
            for name, value in other["histograms"].items():
                merged["histograms"][name] = merge_histograms(merged["histograms"][name], value)
            merged["languages"] = merged["languages"] + other["languages"]
            merged["bytes_out"] += other["bytes_out"]
        return merged

    def extract_output(self, accumulator: dict[str, Any]) -> dict[str, Any]:
        return {**accumulator, "languages": dict(accumulator["languages"].most_common())}


def shard_kind(path: str) -> str:
    """`.../documents-00000-of-00004.jsonl.gz` -> `documents` (also rejected, dead_letter)."""
    return path.rsplit("/", 1)[-1].split("-", 1)[0]


def build_stats(
    summaries: list[dict],
    rejected: dict[str, int],
    dead: dict[str, int],
    documents: dict,
    shards: list[tuple],
) -> dict[str, Any]:
    """stats.json: counts per outcome, the funnel, histograms, and the accounting invariant."""
    records_in = sum(summary["records"] for summary in summaries)
    kept = sum(lines for path, lines in shards if shard_kind(path) == "documents")
    dropped = dict(sorted(rejected.items(), key=lambda item: -item[1]))
    dead_total = sum(dead.values())
    by_stage = Counter()
    for reason, count in rejected.items():
        by_stage[reasons.stage_of(reason)] += count
    html_pages = records_in - by_stage[reasons.READ] - dead.get("read", 0) - dead.get("extract", 0)
    simplified = html_pages - by_stage[reasons.SIMPLIFY] - dead.get("simplify", 0)
    filtered = simplified - by_stage[reasons.FILTER]
    return {
        "records_in": records_in,
        "kept": kept,
        "dropped": dropped,
        "dropped_by_stage": {stage: by_stage[stage] for stage in reasons.STAGES},
        "dead_lettered": dead,
        "inputs": {
            "files": len(summaries),
            "skipped_already_done": sum(1 for summary in summaries if summary.get("resumed")),
            "redone": dict(Counter(s["redone"] for s in summaries if s.get("redone"))),
            "repeated_record_ids": sum(summary.get("repeated_record_ids", 0) for summary in summaries),
            "failed": sum(1 for summary in summaries if summary.get("failed")),
        },
        "funnel": [
            ["records in", records_in],
            ["HTML pages read", html_pages],
            ["simplified", simplified],
            ["after filters", filtered],
            ["after dedup", filtered - by_stage[reasons.DEDUP]],
        ],
        "histograms": documents.get("histograms", {}),
        "languages": documents.get("languages", {}),
        "bytes_out": documents.get("bytes_out", 0),
        "extract_seconds": round(sum(summary.get("seconds", 0.0) for summary in summaries), 3),
        "invariant": {
            "records_in": records_in,
            "kept_plus_dropped_plus_dead": kept + sum(dropped.values()) + dead_total,
            "holds": records_in == kept + sum(dropped.values()) + dead_total,
        },
    }


def write_stats(
    _: Any, config: JobConfig, summaries: list, rejected: dict, dead: dict, documents: dict, shards: list
) -> dict:
    """The job's last step: stats.json and report.html, each written once."""
    stats = build_stats(summaries, rejected, dead, documents, shards)
    stats["outputs"] = {
        kind: sorted(path.rsplit("/", 1)[-1] for path, _ in shards if shard_kind(path) == kind)
        for kind in SHARD_KINDS
    }
    seconds = max(time.time() - config.started, 1e-9)
    stats["elapsed_seconds"] = round(seconds, 3)
    stats["rates"] = {"records_per_second": round(stats["records_in"] / seconds, 2)}
    _remove_stale_shards(config.output, {path for path, _ in shards})
    write_text(
        FileSystems.join(config.output, "stats.json"), json.dumps(stats, indent=2, sort_keys=True) + "\n"
    )
    write_text(FileSystems.join(config.output, "report.html"), render_report(stats))
    return stats


def _remove_stale_shards(output: str, current: set[str]) -> None:
    """Shards left by an earlier run with another shard count would mislead readers: remove them."""
    for prefix in SHARD_KINDS:
        pattern = FileSystems.join(escape_glob(output), f"{prefix}-*-of-*.jsonl.gz")
        stale = [m.path for m in FileSystems.match([pattern])[0].metadata_list if m.path not in current]
        delete_files(stale)
