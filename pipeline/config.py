"""The job's configuration: one frozen value, built once from the flags at launch, handed to every stage.

The Beam shells (`htlm.pipeline.beam`) build it with `beam.options.job_config`; DoFns receive
it instead of the whole `PipelineOptions`, so what a worker depends on is explicit, small to
pickle, and the same object a notebook or a test builds by hand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from htlm.pipeline.extract import ExtractConfig
from htlm.pipeline.reading import ReaderLimits
from htlm.pipeline.reading.sources import COMMON_CRAWL_BASE


@dataclass(frozen=True)
class SourceConfig:
    """How inputs are found and fetched: https retries, download slots, the crawl listing."""

    http_retries: int = 5  # per https WARC (503, SlowDown, dropped connections)
    http_backoff: float = 1.0  # first retry delay in seconds, doubling
    max_concurrent_downloads: int = 4  # per worker process
    crawl_base_url: str = COMMON_CRAWL_BASE
    max_files: int | None = None  # with a crawl: only the first N WARCs


@dataclass(frozen=True)
class JobConfig:
    """Everything the job's stages need to know, and nothing of the runner."""

    output: str
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    limits: ReaderLimits = field(default_factory=ReaderLimits)
    source: SourceConfig = field(default_factory=SourceConfig)
    record_timeout: float = 120.0  # per page, in a child process (0: in-process, no isolation)
    warc_timeout: float = 4 * 3600.0  # per WARC, under Beam's exception handling
    docs_per_shard: int = 50_000
    started: float = 0.0  # launch time (epoch seconds): the elapsed time in stats.json counts from it


def fingerprint(*values: Any) -> str:
    """A short stable hash of configuration values (dataclasses, sets, numbers, strings).

    Canonical JSON (sets sorted, keys sorted), so it is the same in every process: Python's
    `hash()` and the repr of a set are not."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (set, frozenset)):
            return sorted(plain(v) for v in value)
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value

    text = json.dumps([plain(v) for v in values], sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
