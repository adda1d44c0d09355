"""`htlm-pipeline`: the Apache Beam job from Common Crawl WARCs to deduplicated MHTML shards.

Shape (thin Beam shells, one module each in this package, around the pure core):

    InputFiles ─► ExtractWarc ─┬─► documents ─► Dedup ─► WriteShards (documents, rejected)
                 (read+simplify ├─► rejected ────────────► WriteShards
                  +filter; one  ├─► dead letters ────────► WriteShards
                  committed     └─► per-WARC summaries ──► stats.json, report.html
                  file per WARC)

ExtractWarc is the expensive, resumable step: it writes one intermediate file per WARC under
`<output>/intermediate/`, committed atomically, and re-runs read that file back instead of
extracting again. Everything after it (dedup, sharding) is cheap and recomputed each run.
Outputs are deterministic: shards are assigned by a stable hash and sorted, gzip carries no
timestamp, so re-running over the same input gives byte-identical files.

Modules: `options` (flags -> one `JobConfig`), `files` (listing, atomic JSONL.gz, shards),
`extract` (ExtractWarc), `dedup` (the Dedup transform), `stats` (stats.json, report.html),
this one (the graph, the run, the summary).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import StandardOptions
from htlm.pipeline import reasons
from htlm.pipeline.beam.dedup import Dedup
from htlm.pipeline.beam.extract import (
    INTERMEDIATE_DIR,
    SUMMARY,
    ExtractWarc,
    dead_letter_from_beam,
    read_intermediate,
)
from htlm.pipeline.beam.files import InputFiles, WriteShards, escape_glob, output_lock
from htlm.pipeline.beam.options import InputOptions, PipelineJobOptions, job_config, parse_pipeline_options
from htlm.pipeline.beam.stats import DocumentStats, write_stats
from htlm.pipeline.config import JobConfig
from htlm.pipeline.extract import DEAD_LETTER, DOCUMENT, REJECTED
from htlm.pipeline.reading import sources
from htlm.pipeline.records import doc_id


def build(pipeline: beam.Pipeline, specs: list[str], config: JobConfig) -> beam.PCollection:
    """Add the whole job to `pipeline` for the input specs; returns the PCollection of the final stats."""
    output = config.output
    extract_step = beam.ParDo(ExtractWarc(config)).with_exception_handling(timeout=config.warc_timeout)
    paths = pipeline | "Inputs" >> InputFiles(specs, config.source)
    good, bad = paths | "ExtractWarc" >> extract_step
    outcomes = (
        (good, bad | "BeamDeadLetters" >> beam.FlatMap(dead_letter_from_beam))
        | "AllExtracted" >> beam.Flatten()
        | "ReadIntermediate" >> beam.FlatMap(read_intermediate)
        | "SpreadRecords" >> beam.Reshuffle()
    )
    by_kind = outcomes | "ByKind" >> beam.Partition(
        lambda outcome, _: (DOCUMENT, REJECTED, DEAD_LETTER, SUMMARY).index(outcome["kind"]), 4
    )
    documents, rejected, dead, summaries = by_kind
    kept, dedup_rejected = documents | "Dedup" >> Dedup(config.extract.dedup.near_dup)
    all_rejected = (rejected, dedup_rejected) | "AllRejected" >> beam.Flatten()

    def record_key(record: dict) -> str:
        return f"{record['warc_file']} {record.get('warc_record_id') or ''} {record.get('url') or ''}"

    shards = (
        kept | "WriteDocuments" >> WriteShards(output, "documents", config.docs_per_shard, doc_id),
        all_rejected | "WriteRejected" >> WriteShards(output, "rejected", 1_000_000, record_key),
        dead | "WriteDeadLetters" >> WriteShards(output, "dead_letter", 1_000_000, record_key),
    ) | "AllShards" >> beam.Flatten()
    reason_counts = (
        all_rejected | "Reasons" >> beam.Map(lambda r: r["reason"]) | beam.combiners.Count.PerElement()
    )
    stage_counts = (
        dead | "Stages" >> beam.Map(lambda r: r["stage"]) | "StageCount" >> beam.combiners.Count.PerElement()
    )
    document_stats = kept | "DocumentStats" >> beam.CombineGlobally(DocumentStats())
    return (
        pipeline
        | "Finish" >> beam.Create([None])
        | "WriteStats"
        >> beam.Map(
            write_stats,
            config=config,
            summaries=beam.pvalue.AsList(summaries),
            rejected=beam.pvalue.AsDict(reason_counts),
            dead=beam.pvalue.AsDict(stage_counts),
            documents=beam.pvalue.AsSingleton(document_stats),
            shards=beam.pvalue.AsList(shards),
        )
    )


def _watch_progress(output: str, total: int | None, stop: threading.Event) -> None:
    """A progress bar in the launching process: committed intermediate files / inputs."""
    from tqdm import tqdm

    pattern = FileSystems.join(escape_glob(output), INTERMEDIATE_DIR, "*.jsonl.gz")
    with tqdm(total=total, unit="warc", desc="extract", disable=None) as bar:
        while not stop.wait(1.0):
            try:
                done = len(FileSystems.match([pattern])[0].metadata_list)
            except Exception:  # the folder may not exist yet
                done = 0
            bar.update(done - bar.n)


def _redone(stats: dict[str, Any]) -> str:
    redone = stats["inputs"].get("redone") or {}
    why = {"changed": "input or flags changed", "corrupt": "intermediate damaged"}
    return "".join(f", {n} redone ({why.get(reason, reason)})" for reason, n in sorted(redone.items()))


def format_summary(stats: dict[str, Any], output: str, seconds: float) -> str:
    """The human summary printed when the job ends."""
    lines = [
        f"htlm-pipeline: {stats['inputs']['files']} WARC(s), {stats['records_in']} records in {seconds:.1f}s "
        f"({stats['records_in'] / max(seconds, 1e-9):.0f} records/s); "
        f"{stats['inputs']['skipped_already_done']} resumed from intermediate files{_redone(stats)}",
        f"  kept          {stats['kept']:>8}",
        f"  dropped       {sum(stats['dropped'].values()):>8}",
    ]
    for stage in reasons.STAGES:  # grouped by the stage that dropped them, in pipeline order
        names = {r: n for r, n in stats["dropped"].items() if reasons.stage_of(r) == stage}
        if names:
            detail = ", ".join(
                f"{r.split('/', 1)[1]} {n}" for r, n in sorted(names.items(), key=lambda i: -i[1])
            )
            lines.append(f"    {stage:<12}{sum(names.values()):>8}   {detail}")
    lines.append(f"  dead-lettered {sum(stats['dead_lettered'].values()):>8}")
    lines.append(f"  invariant records_in == kept + dropped + dead-lettered: {stats['invariant']['holds']}")
    lines.append(f"  output -> {output} (documents-*.jsonl.gz, stats.json, report.html)")
    return "\n".join(lines)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the job; returns the stats it wrote."""
    options = parse_pipeline_options(argv, __doc__)
    config = job_config(options)
    inputs, job = options.view_as(InputOptions).input, options.view_as(PipelineJobOptions)
    specs = list(inputs) + ([f"crawl:{job.crawl}"] if job.crawl else [])
    stop = threading.Event()
    watcher = None
    if not job.no_progress and options.view_as(StandardOptions).runner in ("DirectRunner", None):
        local = [m for spec in inputs if not sources.is_url(spec) for m in _local_matches(spec)]
        total = len(local) if local and not job.crawl else None
        watcher = threading.Thread(target=_watch_progress, args=(config.output, total, stop), daemon=True)
        watcher.start()
    try:
        with output_lock(config.output, "htlm-pipeline"), beam.Pipeline(options=options) as pipeline:
            build(pipeline, specs, config)
    finally:
        stop.set()
        if watcher is not None:
            watcher.join(timeout=5)
    stats_path = FileSystems.join(config.output, "stats.json")
    with FileSystems.open(stats_path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
        stats = json.loads(stream.read())
    print(format_summary(stats, config.output, time.time() - config.started), file=sys.stderr)
    return stats


def _local_matches(spec: str) -> list[str]:
    try:
        return [m.path for m in FileSystems.match([spec])[0].metadata_list]
    except Exception:
        return []


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    stats = run(sys.argv[1:] if argv is None else argv)
    return 0 if stats["invariant"]["holds"] else 1


if __name__ == "__main__":
    sys.exit(main())
