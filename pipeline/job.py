"""`htlm-pipeline`: the Apache Beam job from Common Crawl WARCs to deduplicated MHTML shards.

Shape (thin Beam shells around the pure core in extract.py, dedup.py, report.py):

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
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from htlm.pipeline import dedup, reasons, sources
from htlm.pipeline.beam_io import (
    InputFiles,
    WriteShards,
    open_source,
    print_help,
    read_jsonl_gz,
    runner_options,
    write_jsonl_gz,
    write_text,
)
from htlm.pipeline.extract import (
    DEAD_LETTER,
    DOCUMENT,
    REJECTED,
    DedupConfig,
    ExtractConfig,
    SourceFailed,
    dead_letter,
    extract,
    isolated_outcome,
    outcome_for_page,
    rejected_outcome,
)
from htlm.pipeline.filters import FilterConfig, parse_langs
from htlm.pipeline.isolation import IsolatedCall
from htlm.pipeline.mhtml import SimplifyConfig
from htlm.pipeline.report import histogram, log_edges, merge_histograms, render_report
from htlm.pipeline.warc import ReaderLimits, read_pages

from htlm.extras import require_for

SUMMARY = "summary"
INTERMEDIATE_DIR = "intermediate"
LENGTH_EDGES = log_edges(10, 10_000_000)
RATIO_EDGES = [i / 20 for i in range(21)]
DEDUP_PRIORITY = (reasons.DUP_URL, reasons.DUP_CONTENT, reasons.NEAR_DUP)


class HtlmPipelineOptions(PipelineOptions):
    """The job's own flags; every standard Beam flag (--runner, --project, ...) works beside them."""

    @classmethod
    def _add_argparse_args(cls, parser: Any) -> None:
        parser.add_argument(
            "--input",
            action="append",
            default=[],
            help="WARC/ARC files: a local glob, gs://..., s3://... or https://... (repeatable)",
        )
        parser.add_argument(
            "--crawl", help="a Common Crawl id, e.g. CC-MAIN-2024-22: its warc.paths.gz is read at run time"
        )
        parser.add_argument(
            "--crawl_base_url",
            "--crawl-base-url",
            default=sources.COMMON_CRAWL_BASE,
            help="where crawls live: https://data.commoncrawl.org/ (default) or s3://commoncrawl/",
        )
        parser.add_argument(
            "--max_files", "--max-files", type=int, help="with --crawl: only the first N WARCs"
        )
        parser.add_argument("--output", help="output folder (local, gs:// or s3://), required")
        parser.add_argument(
            "--langs", default="all", help="keep these languages (en,de,...) or 'all' (default)"
        )
        parser.add_argument(
            "--min_lang_score",
            type=float,
            default=FilterConfig.min_lang_score,
            help="language-ID probability below which the page's own lang attribute decides",
        )
        parser.add_argument(
            "--min_text_chars",
            "--min-text-chars",
            type=int,
            default=FilterConfig.min_text_chars,
            help="drop documents with less text (too-short)",
        )
        parser.add_argument(
            "--max_text_chars",
            "--max-text-chars",
            type=int,
            default=FilterConfig.max_text_chars,
            help="drop documents with more text (too-long)",
        )
        parser.add_argument(
            "--min_text_ratio",
            type=float,
            default=SimplifyConfig.min_text_ratio,
            help="keep a page only if text/MHTML characters exceed this (paper: 0.46)",
        )
        parser.add_argument("--no_near_dup", action="store_true", help="skip MinHash near-duplicate removal")
        parser.add_argument(
            "--minhash_perm", type=int, default=DedupConfig.num_perm, help="MinHash permutations"
        )
        parser.add_argument(
            "--minhash_threshold",
            type=float,
            default=DedupConfig.threshold,
            help="Jaccard similarity treated as near-duplicate (sets LSH bands x rows)",
        )
        parser.add_argument(
            "--shingle_size",
            type=int,
            default=DedupConfig.shingle_size,
            help="words per shingle (CJK: characters)",
        )
        parser.add_argument(
            "--docs_per_shard",
            type=int,
            default=50_000,
            help="documents per output shard; the shard count follows at run time",
        )
        parser.add_argument(
            "--keep_rejected_pages",
            action="store_true",
            help="store the full page in rejected-* records (large)",
        )
        parser.add_argument(
            "--max_record_bytes",
            type=int,
            default=ReaderLimits().max_record_bytes,
            help="larger WARC records are skipped and counted as too-large",
        )
        parser.add_argument(
            "--warc_timeout",
            type=float,
            default=4 * 3600,
            help="seconds one WARC may take before it is dead-lettered",
        )
        parser.add_argument(
            "--record_timeout",
            type=float,
            default=120.0,
            help="seconds one page may take to simplify; each page runs in a child process, so a hang or a "
            "crash in a C library costs that page only (0 = in-process, no isolation)",
        )
        parser.add_argument("--max_concurrent_downloads", type=int, default=4, help="per worker process")
        parser.add_argument(
            "--http_retries",
            type=int,
            default=5,
            help="retries per https WARC (503, SlowDown, dropped connections)",
        )
        parser.add_argument("--http_backoff", type=float, default=1.0, help="first retry delay (s), doubling")
        parser.add_argument("--no_progress", action="store_true", help="no progress bar")  # fmt: skip


# ---------------------------------------------------------------------------------------
# Pure helpers (no Beam state): configuration, paths, serialisation.


def extract_config(options: HtlmPipelineOptions) -> ExtractConfig:
    """The per-WARC configuration the flags describe."""
    return ExtractConfig(
        simplify=SimplifyConfig(min_text_ratio=options.min_text_ratio),
        filters=FilterConfig(
            langs=parse_langs(options.langs),
            min_lang_score=options.min_lang_score,
            min_text_chars=options.min_text_chars,
            max_text_chars=options.max_text_chars,
        ),
        dedup=DedupConfig(
            num_perm=options.minhash_perm,
            threshold=options.minhash_threshold,
            shingle_size=options.shingle_size,
            near_dup=not options.no_near_dup,
        ),
        keep_rejected_pages=options.keep_rejected_pages,
    )


def intermediate_path(output: str, source: str) -> str:
    """Where one WARC's outcomes are committed: named after it, unique per source path."""
    digest = hashlib.blake2b(source.encode(), digest_size=6).hexdigest()
    name = source.rstrip("/").rsplit("/", 1)[-1]
    return FileSystems.join(output, INTERMEDIATE_DIR, f"{name}.{digest}.jsonl.gz")


def doc_id(record: dict[str, Any]) -> str:
    """A document's identity: its WARC file and record id (record ids alone may repeat)."""
    return f"{record['warc_file']} {record['warc_record_id']}"


# ---------------------------------------------------------------------------------------
# Beam transforms.


EXTRACTED = "extracted"


class ExtractWarc(beam.DoFn):
    """Read + simplify + filter one WARC and commit its outcomes to an intermediate file.

    A WARC whose intermediate file already exists was committed by an earlier run: it is not
    read again. Emits one small element naming the intermediate file (outcomes are streamed
    from it by `read_intermediate`, so memory stays flat), or a dead letter and a failed
    summary when the WARC's byte stream itself fails.
    """

    def __init__(self, options: HtlmPipelineOptions) -> None:
        self.options = options
        self.config = extract_config(options)

    def setup(self) -> None:
        sources.set_max_concurrent_downloads(self.options.max_concurrent_downloads)
        self.isolated = None
        if self.options.record_timeout > 0:
            page_outcome = functools.partial(outcome_for_page, config=self.config)
            self.isolated = IsolatedCall(page_outcome, self.options.record_timeout)

    def teardown(self) -> None:
        if self.isolated is not None:
            self.isolated.close()

    def _extract(self, path: str, target: str) -> None:
        try:
            stream = open_source(path, self.options)
        except OSError as error:
            raise SourceFailed(f"cannot open {path}: {error}") from error
        with stream:
            outcome = isolated_outcome(self.isolated) if self.isolated is not None else None
            limits = ReaderLimits(max_record_bytes=self.options.max_record_bytes)
            entries = read_pages(stream, path, limits=limits)
            write_jsonl_gz(target, extract(entries, self.config, outcome))

    def process(self, path: str) -> Iterator[dict[str, Any]]:
        started = time.perf_counter()
        target = intermediate_path(self.options.output, path)
        resumed = FileSystems.exists(target)
        if not resumed:
            try:
                self._extract(path, target)
            except SourceFailed as error:  # the WARC's bytes could not be had; output errors propagate
                Metrics.counter("htlm", "dead_letter:read").inc()
                yield dead_letter(path, None, None, "read", error)
                yield {"kind": SUMMARY, "warc_file": path, "records": 1, "failed": True}
                return
        seconds = time.perf_counter() - started
        yield {
            "kind": EXTRACTED,
            "warc_file": path,
            "intermediate": target,
            "resumed": resumed,
            "seconds": seconds,
        }


def read_intermediate(element: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Stream a WARC's committed outcomes, then its summary; pass failures through."""
    if element["kind"] != EXTRACTED:
        yield element
        return
    records = 0
    for outcome in read_jsonl_gz(element["intermediate"]):
        records += 1
        Metrics.counter("htlm", outcome.get("reason") or outcome["kind"]).inc()
        yield outcome
    yield {"kind": SUMMARY, **{k: v for k, v in element.items() if k != "kind"}, "records": records}


def _dead_letter_from_beam(failure: tuple[Any, Any]) -> Iterator[dict[str, Any]]:
    """Beam's exception-handling output (element, (type, repr, traceback)) as our dead letter."""
    path, (error_type, error, frames) = failure
    trace = "".join(frames) if isinstance(frames, list) else str(frames)
    yield dead_letter(
        str(path), None, None, "extract", f"{getattr(error_type, '__name__', error_type)}: {error}", trace
    )
    yield {"kind": SUMMARY, "warc_file": str(path), "records": 1, "failed": True}


def _doc_ref(record: dict[str, Any]) -> dedup.DocRef:
    return dedup.DocRef(doc_id(record), record["url"], record["fetch_date"], record["text_chars"])


def _group_losers(reason: str) -> Any:
    def losers(group: tuple[str, Iterable[dedup.DocRef]]) -> Iterator[tuple[str, str]]:
        members = list(group[1])
        if len(members) > 1:
            for loser in dedup.losers_in_group(members):
                yield loser, reason

    return losers


class Dedup(beam.PTransform):
    """Exact-URL, exact-content and MinHash-LSH near-duplicate removal across all inputs.

    Decisions are made on small references (id, URL, date, length), grouped by each key; a
    document is dropped when it loses in any group (the first reason in URL, content, near-dup
    order is reported). The global order behind `dedup.losers_in_group` means the most
    preferred document of every cluster survives, whatever the order of the input.
    Returns (kept documents, rejected outcomes).
    """

    def __init__(self, near_dup: bool) -> None:
        super().__init__()
        self.near_dup = near_dup

    def expand(self, documents: beam.PCollection) -> tuple[beam.PCollection, beam.PCollection]:
        refs = documents | "Refs" >> beam.Map(lambda record: (record["_dedup"], _doc_ref(record)))
        losers = [
            refs
            | "UrlKey" >> beam.Map(lambda keyed: (keyed[0]["url_key"], keyed[1]))
            | "ByUrl" >> beam.GroupByKey()
            | "UrlLosers" >> beam.FlatMap(_group_losers(reasons.DUP_URL)),
            refs
            | "ContentKey" >> beam.Map(lambda keyed: (keyed[0]["content_key"], keyed[1]))
            | "ByContent" >> beam.GroupByKey()
            | "ContentLosers" >> beam.FlatMap(_group_losers(reasons.DUP_CONTENT)),
        ]
        if self.near_dup:
            losers.append(
                refs
                | "BandKeys"
                >> beam.FlatMap(lambda keyed: [(band, keyed[1]) for band in keyed[0].get("bands", [])])
                | "ByBand" >> beam.GroupByKey()
                | "BandLosers" >> beam.FlatMap(_group_losers(reasons.NEAR_DUP))
            )
        by_id = documents | "ById" >> beam.Map(lambda record: (doc_id(record), record))
        joined = {"doc": by_id, "lost": losers | "Losers" >> beam.Flatten()} | "Join" >> beam.CoGroupByKey()
        decided = joined | "Decide" >> beam.FlatMap(_decide).with_outputs(REJECTED, main=DOCUMENT)
        return decided[DOCUMENT], decided[REJECTED]


def _decide(joined: tuple[str, dict[str, list]]) -> Iterator[Any]:
    """Kept document or dedup rejection for one id (same-id copies beyond the first are dup-content)."""
    _, group = joined
    docs = sorted(group["doc"], key=lambda record: (record["url"], record["fetch_date"]))
    lost = set(group["lost"])
    for index, record in enumerate(docs):
        reason = next((r for r in DEDUP_PRIORITY if r in lost), None)
        if reason is None and index > 0:
            reason = reasons.DUP_CONTENT
        if reason is None:
            yield {key: value for key, value in record.items() if key not in ("_dedup", "kind")}
        else:
            Metrics.counter("htlm", reason).inc()
            outcome = rejected_outcome(
                record["url"], record["warc_file"], record["warc_record_id"], reason, "dedup"
            )
            yield beam.pvalue.TaggedOutput(REJECTED, outcome)


# ---------------------------------------------------------------------------------------
# Statistics.


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
    reader_drops = sum(rejected.get(reason, 0) for reason in reasons.READER_REASONS)
    # too-large is also a reader reason and lang a filter here: each is counted in one stage only.
    simplify_only = set(reasons.SIMPLIFY_REASONS) - set(reasons.READER_REASONS) - set(reasons.FILTER_REASONS)
    simplify_drops = sum(rejected.get(reason, 0) for reason in simplify_only)
    filter_drops = sum(rejected.get(reason, 0) for reason in reasons.FILTER_REASONS)
    dedup_drops = sum(rejected.get(reason, 0) for reason in reasons.DEDUP_REASONS)
    html_pages = records_in - reader_drops - dead.get("read", 0) - dead.get("extract", 0)
    simplified = html_pages - simplify_drops - dead.get("simplify", 0)
    return {
        "records_in": records_in,
        "kept": kept,
        "dropped": dropped,
        "dead_lettered": dead,
        "inputs": {
            "files": len(summaries),
            "skipped_already_done": sum(1 for summary in summaries if summary.get("resumed")),
            "failed": sum(1 for summary in summaries if summary.get("failed")),
        },
        "funnel": [
            ["records in", records_in],
            ["HTML pages read", html_pages],
            ["simplified", simplified],
            ["after filters", simplified - filter_drops],
            ["after dedup", simplified - filter_drops - dedup_drops],
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


def _write_stats(
    _: Any, output: str, summaries: list, rejected: dict, dead: dict, documents: dict, shards: list
) -> dict:
    stats = build_stats(summaries, rejected, dead, documents, shards)
    stats["outputs"] = {
        kind: sorted(path.rsplit("/", 1)[-1] for path, _ in shards if shard_kind(path) == kind)
        for kind in ("documents", "rejected", "dead_letter")
    }
    _remove_stale_shards(output, {path for path, _ in shards})
    write_text(FileSystems.join(output, "stats.json"), json.dumps(stats, indent=2, sort_keys=True) + "\n")
    return stats


def _remove_stale_shards(output: str, current: set[str]) -> None:
    """Shards left by an earlier run with another shard count would mislead readers: remove them."""
    for prefix in ("documents", "rejected", "dead_letter"):
        pattern = FileSystems.join(output, f"{prefix}-*-of-*.jsonl.gz")
        stale = [m.path for m in FileSystems.match([pattern])[0].metadata_list if m.path not in current]
        if stale:
            FileSystems.delete(stale)


# ---------------------------------------------------------------------------------------
# The pipeline.


def build(pipeline: beam.Pipeline, options: HtlmPipelineOptions) -> beam.PCollection:
    """Add the whole job to `pipeline`; returns the PCollection holding the final stats dict."""
    specs = list(options.input) + ([f"crawl:{options.crawl}"] if options.crawl else [])
    output = options.output
    config = extract_config(options)
    extract_step = beam.ParDo(ExtractWarc(options)).with_exception_handling(timeout=options.warc_timeout)
    paths = pipeline | "Inputs" >> InputFiles(specs, options)
    good, bad = paths | "ExtractWarc" >> extract_step
    outcomes = (
        (good, bad | "BeamDeadLetters" >> beam.FlatMap(_dead_letter_from_beam))
        | "AllExtracted" >> beam.Flatten()
        | "ReadIntermediate" >> beam.FlatMap(read_intermediate)
        | "SpreadRecords" >> beam.Reshuffle()
    )
    by_kind = outcomes | "ByKind" >> beam.Partition(
        lambda outcome, _: (DOCUMENT, REJECTED, DEAD_LETTER, SUMMARY).index(outcome["kind"]), 4
    )
    documents, rejected, dead, summaries = by_kind
    kept, dedup_rejected = documents | "Dedup" >> Dedup(config.dedup.near_dup)
    all_rejected = (rejected, dedup_rejected) | "AllRejected" >> beam.Flatten()

    def record_key(record: dict) -> str:
        return f"{record['warc_file']} {record.get('warc_record_id') or ''} {record.get('url') or ''}"

    shards = (
        kept | "WriteDocuments" >> WriteShards(output, "documents", options.docs_per_shard, doc_id),
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
            _write_stats,
            output=output,
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

    pattern = FileSystems.join(output, INTERMEDIATE_DIR, "*.jsonl.gz")
    with tqdm(total=total, unit="warc", desc="extract", disable=None) as bar:
        while not stop.wait(1.0):
            try:
                done = len(FileSystems.match([pattern])[0].metadata_list)
            except Exception:  # the folder may not exist yet
                done = 0
            bar.update(done - bar.n)


def parse_options(argv: list[str] | None) -> HtlmPipelineOptions:
    """Parse the job's flags (see `runner_options`) and check that the inputs exist."""
    if argv and ("-h" in argv or "--help" in argv):
        print_help("htlm-pipeline", __doc__, HtlmPipelineOptions)
        raise SystemExit(0)
    job = runner_options(argv).view_as(HtlmPipelineOptions)
    if not job.input and not job.crawl:
        raise SystemExit("htlm-pipeline: give --input PATTERN (repeatable) and/or --crawl CC-MAIN-YYYY-WW")
    if not job.output:
        raise SystemExit("htlm-pipeline: give --output FOLDER (local, gs:// or s3://)")
    crawl_base = job.crawl_base_url if job.crawl else None
    require_for("htlm-pipeline", [*job.input, job.output, crawl_base], job.view_as(StandardOptions).runner)
    for spec in job.input:
        if not sources.is_url(spec) and "://" not in spec and not FileSystems.match([spec])[0].metadata_list:
            raise SystemExit(f"htlm-pipeline: --input {spec!r} matches no file")
    return job


def format_summary(stats: dict[str, Any], output: str, seconds: float) -> str:
    """The human summary printed when the job ends."""
    lines = [
        f"htlm-pipeline: {stats['inputs']['files']} WARC(s), {stats['records_in']} records in {seconds:.1f}s "
        f"({stats['records_in'] / max(seconds, 1e-9):.0f} records/s); "
        f"{stats['inputs']['skipped_already_done']} resumed from intermediate files",
        f"  kept          {stats['kept']:>8}",
        f"  dropped       {sum(stats['dropped'].values()):>8}",
    ]
    lines += [f"    {reason:<22}{count:>8}" for reason, count in stats["dropped"].items()]
    lines.append(f"  dead-lettered {sum(stats['dead_lettered'].values()):>8}")
    lines.append(f"  invariant records_in == kept + dropped + dead-lettered: {stats['invariant']['holds']}")
    lines.append(f"  output -> {output} (documents-*.jsonl.gz, stats.json, report.html)")
    return "\n".join(lines)


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the job; returns the stats it wrote."""
    options = parse_options(argv)
    started = time.perf_counter()
    local_inputs = [m for spec in options.input if not sources.is_url(spec) for m in _local_matches(spec)]
    stop = threading.Event()
    watcher = None
    if not options.no_progress and options.view_as(StandardOptions).runner in ("DirectRunner", None):
        total = len(local_inputs) if local_inputs and not options.crawl else None
        watcher = threading.Thread(target=_watch_progress, args=(options.output, total, stop), daemon=True)
        watcher.start()
    try:
        with beam.Pipeline(options=options) as pipeline:
            build(pipeline, options)
    finally:
        stop.set()
        if watcher is not None:
            watcher.join(timeout=5)
    stats_path = FileSystems.join(options.output, "stats.json")
    with FileSystems.open(stats_path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
        stats = json.loads(stream.read())
    seconds = time.perf_counter() - started
    stats["elapsed_seconds"] = round(seconds, 3)
    stats["rates"] = {"records_per_second": round(stats["records_in"] / max(seconds, 1e-9), 2)}
    write_text(stats_path, json.dumps(stats, indent=2, sort_keys=True) + "\n")
    write_text(FileSystems.join(options.output, "report.html"), render_report(stats))
    print(format_summary(stats, options.output, seconds), file=sys.stderr)
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
