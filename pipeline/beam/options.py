"""The jobs' flags, Beam's defaults for them, and the one `JobConfig` built from them at launch.

`InputOptions` (--input) is shared by `htlm-pipeline` and `htlm-tokenizer binarize`;
`PipelineJobOptions` holds the rest of htlm-pipeline's flags. Every standard Beam flag
(--runner, --project, ...) works beside them.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions
from htlm.pipeline.beam.files import inside
from htlm.pipeline.config import JobConfig, SourceConfig
from htlm.pipeline.extract import DedupConfig, ExtractConfig
from htlm.pipeline.filters import FilterConfig, parse_langs
from htlm.pipeline.reading import ReaderLimits, sources
from htlm.pipeline.simplify.config import MODE_HELP, MODES, SimplifyConfig

from htlm.extras import require_for


class InputOptions(PipelineOptions):
    """--input, the flag both jobs read their files from."""

    @classmethod
    def _add_argparse_args(cls, parser: Any) -> None:
        parser.add_argument(
            "--input",
            action="append",
            default=[],
            help="input files: a local glob, gs://..., s3://... or https://... (repeatable)",
        )


class PipelineJobOptions(PipelineOptions):
    """htlm-pipeline's own flags besides --input."""

    @classmethod
    def _add_argparse_args(cls, parser: Any) -> None:
        _input_flags(parser)
        _filter_flags(parser)
        _dedup_and_output_flags(parser)
        _limit_flags(parser)


def _input_flags(parser: Any) -> None:
    """Flags: where the WARCs come from and where the output goes."""
    parser.add_argument(
        "--crawl", help="a Common Crawl id, e.g. CC-MAIN-2024-22: its warc.paths.gz is read at run time"
    )
    parser.add_argument(
        "--crawl_base_url",
        "--crawl-base-url",
        default=SourceConfig.crawl_base_url,
        help="where crawls live: https://data.commoncrawl.org/ (default) or s3://commoncrawl/",
    )
    parser.add_argument("--max_files", "--max-files", type=int, help="with --crawl: only the first N WARCs")
    parser.add_argument("--output", help="output folder (local, gs:// or s3://), required")


def _filter_flags(parser: Any) -> None:
    """Flags: the simplifier's ratio and the filters."""
    parser.add_argument("--langs", default="all", help="keep these languages (en,de,...) or 'all' (default)")
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
    parser.add_argument(
        "--mhtml_mode",
        "--mhtml-mode",
        choices=MODES,
        default=SimplifyConfig.mode,
        help=MODE_HELP,
    )


def _dedup_and_output_flags(parser: Any) -> None:
    """Flags: dedup and the shards."""
    parser.add_argument("--no_near_dup", action="store_true", help="skip MinHash near-duplicate removal")
    parser.add_argument("--minhash_perm", type=int, default=DedupConfig.num_perm, help="MinHash permutations")
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
        default=JobConfig.docs_per_shard,
        help="documents per output shard; the shard count follows at run time",
    )
    parser.add_argument(
        "--keep_rejected_pages",
        action="store_true",
        help="store the full page in rejected-* records (large)",
    )


def _limit_flags(parser: Any) -> None:
    """Flags: limits, timeouts and https fetching."""
    parser.add_argument(
        "--max_record_bytes",
        type=int,
        default=ReaderLimits().max_record_bytes,
        help="larger WARC records are skipped and counted as too-large",
    )
    parser.add_argument(
        "--warc_timeout",
        type=float,
        default=JobConfig.warc_timeout,
        help="seconds one WARC may take before it is dead-lettered",
    )
    parser.add_argument(
        "--record_timeout",
        type=float,
        default=JobConfig.record_timeout,
        help="seconds one page may take to simplify; each page runs in a child process, so a hang or a "
        "crash in a C library costs that page only (0 = in-process, no isolation)",
    )
    parser.add_argument(
        "--max_concurrent_downloads",
        type=int,
        default=SourceConfig.max_concurrent_downloads,
        help="per worker process",
    )
    parser.add_argument(
        "--http_retries",
        type=int,
        default=SourceConfig.http_retries,
        help="retries per https WARC (503, SlowDown, dropped connections)",
    )
    parser.add_argument(
        "--http_backoff",
        type=float,
        default=SourceConfig.http_backoff,
        help="first retry delay (s), doubling",
    )
    parser.add_argument("--no_progress", action="store_true", help="no progress bar")  # fmt: skip


def job_config(options: PipelineOptions, started: float | None = None) -> JobConfig:
    """The `JobConfig` the flags describe, made once at launch."""
    job = options.view_as(PipelineJobOptions)
    extract = ExtractConfig(
        simplify=SimplifyConfig(min_text_ratio=job.min_text_ratio, mode=job.mhtml_mode),
        filters=FilterConfig(
            langs=parse_langs(job.langs),
            min_lang_score=job.min_lang_score,
            min_text_chars=job.min_text_chars,
            max_text_chars=job.max_text_chars,
        ),
        dedup=DedupConfig(
            num_perm=job.minhash_perm,
            threshold=job.minhash_threshold,
            shingle_size=job.shingle_size,
            near_dup=not job.no_near_dup,
        ),
        keep_rejected_pages=job.keep_rejected_pages,
    )
    source = SourceConfig(
        http_retries=job.http_retries,
        http_backoff=job.http_backoff,
        max_concurrent_downloads=job.max_concurrent_downloads,
        crawl_base_url=job.crawl_base_url,
        max_files=job.max_files,
    )
    return JobConfig(
        output=job.output,
        extract=extract,
        limits=ReaderLimits(max_record_bytes=job.max_record_bytes),
        source=source,
        record_timeout=job.record_timeout,
        warc_timeout=job.warc_timeout,
        docs_per_shard=job.docs_per_shard,
        started=time.time() if started is None else started,
    )


def parse_pipeline_options(argv: list[str] | None, description: str) -> PipelineOptions:
    """htlm-pipeline's flags parsed and checked: inputs exist, extras for gs://, s3://, Dataflow installed."""
    if argv and ("-h" in argv or "--help" in argv):
        print_help("htlm-pipeline", description, InputOptions, PipelineJobOptions)
        raise SystemExit(0)
    options = runner_options(argv)
    inputs, job = options.view_as(InputOptions).input, options.view_as(PipelineJobOptions)
    if not inputs and not job.crawl:
        raise SystemExit("htlm-pipeline: give --input PATTERN (repeatable) and/or --crawl CC-MAIN-YYYY-WW")
    if not job.output:
        raise SystemExit("htlm-pipeline: give --output FOLDER (local, gs:// or s3://)")
    crawl_base = job.crawl_base_url if job.crawl else None
    require_for("htlm-pipeline", [*inputs, job.output, crawl_base], options.view_as(StandardOptions).runner)
    for spec in inputs:
        if sources.is_url(spec) or "://" in spec:
            continue
        matches = [m.path for m in FileSystems.match([spec])[0].metadata_list]
        if not matches:
            raise SystemExit(f"htlm-pipeline: --input {spec!r} matches no file")
        ours = [path for path in matches if inside(path, job.output)]
        if ours:
            raise SystemExit(
                f"htlm-pipeline: --input {spec!r} matches {len(ours)} file(s) inside --output {job.output!r} "
                f"(e.g. {ours[0]}): the job would read its own outputs; narrow the pattern"
            )
    return options


def print_help(prog: str, description: str, *own: type[PipelineOptions]) -> None:
    """`--help` for a Beam job: its own flags, then the standard Beam flags that matter most.

    Beam's own parser registers flags lazily and prints an empty help; this one shows them.
    """
    from apache_beam.options.pipeline_options import GoogleCloudOptions, SetupOptions, WorkerOptions

    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog="Every other Beam flag works too (see Beam's PipelineOptions); runners: DirectRunner "
        "(default, multi-process on all cores), DataflowRunner, FlinkRunner, SparkRunner, PortableRunner.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group = parser.add_argument_group(f"{prog} flags")
    for options in own:
        options._add_argparse_args(group)
    for options in (StandardOptions, DirectOptions, GoogleCloudOptions, WorkerOptions, SetupOptions):
        options._add_argparse_args(parser.add_argument_group(f"Beam: {options.__name__}"))
    parser.print_help()


def runner_options(argv: list[str] | None) -> PipelineOptions:
    """Beam options with our defaults: the multi-process DirectRunner on this machine's cores.

    Beam's SDK workers log every connection at INFO; unless asked otherwise they log errors only,
    so the progress bar and the summary stay readable. Shared by every Beam job of the project.
    """
    argv = list(argv or [])
    if not any(arg.startswith("--default_sdk_harness_log_level") for arg in argv):
        argv.append("--default_sdk_harness_log_level=ERROR")
    options = PipelineOptions(argv)
    standard = options.view_as(StandardOptions)
    direct = options.view_as(DirectOptions)
    if standard.runner is None:
        standard.runner = "DirectRunner"
        if direct.direct_running_mode == "in_memory" and "--direct_running_mode" not in " ".join(argv):
            direct.direct_running_mode = "multi_processing"
            direct.direct_num_workers = direct.direct_num_workers or (os.cpu_count() or 1)
    return options
