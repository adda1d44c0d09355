"""ExtractWarc: read + simplify + filter one WARC and commit its outcomes to an intermediate file.

The expensive, resumable step of the job. One intermediate file per WARC under
`<output>/intermediate/`, committed atomically; a re-run reads that file back instead of
extracting again. The work itself is the pure `htlm.pipeline.extract.extract`.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from htlm.pipeline.beam.files import open_source, read_jsonl_gz, write_jsonl_gz
from htlm.pipeline.config import JobConfig
from htlm.pipeline.extract import SourceFailed, dead_letter, extract, isolated_outcome, outcome_for_page
from htlm.pipeline.isolation import IsolatedCall
from htlm.pipeline.reading import read_pages, sources

SUMMARY = "summary"
EXTRACTED = "extracted"
INTERMEDIATE_DIR = "intermediate"


def count_outcome(outcome: dict[str, Any]) -> None:
    """One Beam counter per outcome: namespace `htlm/<stage>` for drops (`htlm/read` / `not-html`),
    `htlm/dead_letter` for dead letters (by stage), `htlm` / `document` for kept ones."""
    if outcome.get("reason"):
        stage, _, name = outcome["reason"].partition("/")
        Metrics.counter(f"htlm/{stage}", name).inc()
    elif outcome["kind"] == "dead_letter":
        Metrics.counter("htlm/dead_letter", outcome.get("stage") or "unknown").inc()
    else:
        Metrics.counter("htlm", outcome["kind"]).inc()


def intermediate_path(output: str, source: str) -> str:
    """Where one WARC's outcomes are committed: named after it, unique per source path."""
    digest = hashlib.blake2b(source.encode(), digest_size=6).hexdigest()
    name = source.rstrip("/").rsplit("/", 1)[-1]
    return FileSystems.join(output, INTERMEDIATE_DIR, f"{name}.{digest}.jsonl.gz")


class ExtractWarc(beam.DoFn):
    """Read + simplify + filter one WARC and commit its outcomes to an intermediate file.

    A WARC whose intermediate file already exists was committed by an earlier run: it is not
    read again. Emits one small element naming the intermediate file (outcomes are streamed
    from it by `read_intermediate`, so memory stays flat), or a dead letter and a failed
    summary when the WARC's byte stream itself fails.
    """

    def __init__(self, config: JobConfig) -> None:
        self.config = config

    def setup(self) -> None:
        sources.set_max_concurrent_downloads(self.config.source.max_concurrent_downloads)
        self.isolated = None
        if self.config.record_timeout > 0:
            page_outcome = functools.partial(outcome_for_page, config=self.config.extract)
            self.isolated = IsolatedCall(page_outcome, self.config.record_timeout)

    def teardown(self) -> None:
        if self.isolated is not None:
            self.isolated.close()

    def _extract(self, path: str, target: str) -> None:
        try:
            stream = open_source(path, self.config.source)
        except OSError as error:
            raise SourceFailed(f"cannot open {path}: {error}") from error
        with stream:
            outcome = isolated_outcome(self.isolated) if self.isolated is not None else None
            entries = read_pages(stream, path, limits=self.config.limits)
            write_jsonl_gz(target, extract(entries, self.config.extract, outcome))

    def process(self, path: str) -> Iterator[dict[str, Any]]:
        started = time.perf_counter()
        target = intermediate_path(self.config.output, path)
        resumed = FileSystems.exists(target)
        if not resumed:
            try:
                self._extract(path, target)
            except SourceFailed as error:  # the WARC's bytes could not be had; output errors propagate
                Metrics.counter("htlm/dead_letter", "read").inc()
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
        count_outcome(outcome)
        yield outcome
    yield {"kind": SUMMARY, **{k: v for k, v in element.items() if k != "kind"}, "records": records}


def dead_letter_from_beam(failure: tuple[Any, Any]) -> Iterator[dict[str, Any]]:
    """Beam's exception-handling output (element, (type, repr, traceback)) as our dead letter."""
    path, (error_type, error, frames) = failure
    trace = "".join(frames) if isinstance(frames, list) else str(frames)
    yield dead_letter(
        str(path), None, None, "extract", f"{getattr(error_type, '__name__', error_type)}: {error}", trace
    )
    yield {"kind": SUMMARY, "warc_file": str(path), "records": 1, "failed": True}
