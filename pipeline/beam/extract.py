"""ExtractWarc: read + simplify + filter one WARC and commit its outcomes to an intermediate file.

The expensive, resumable step of the job. One intermediate file per WARC under
`<output>/intermediate/`, committed atomically; a re-run reads that file back instead of
extracting again. The work itself is the pure `htlm.pipeline.extract.extract`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from htlm.pipeline.beam.files import (
    delete_files,
    escape_glob,
    fs_path,
    link_problem,
    open_source,
    read_jsonl_gz,
    write_jsonl_gz,
)
from htlm.pipeline.config import JobConfig, fingerprint
from htlm.pipeline.extract import (
    REPEATED_ID,
    SourceFailed,
    dead_letter,
    extract,
    isolated_outcome,
    outcome_for_page,
)
from htlm.pipeline.isolation import IsolatedCall
from htlm.pipeline.reading import read_pages, sources
from htlm.pipeline.simplify import compiled

SUMMARY = "summary"
EXTRACTED = "extracted"
END = "end"  # the last line of a whole intermediate file: {"kind": "end", "records": N}
INTERMEDIATE_DIR = "intermediate"
MAX_NAME = 100  # characters of a WARC's name kept in its intermediate's (file names stop at 255 bytes)


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


def source_identity(path: str) -> dict[str, Any]:
    """What a WARC's content is known by before reading it: size and mtime where the filesystem says."""
    if sources.is_url(path):
        return {"path": path}  # no listing for https: the URL names it (Common Crawl files never change)
    try:
        (meta,) = FileSystems.match([escape_glob(path)])[0].metadata_list
    except (ValueError, OSError):
        return {"path": path}
    return {"path": path, "size": meta.size_in_bytes, "mtime": meta.last_updated_in_seconds}


def intermediate_path(output: str, source: str, key: str) -> str:
    """Where one WARC's outcomes are committed: `<name>.<path digest>.<content key>.jsonl.gz`.

    `key` is the `fingerprint` of what determines the outcomes (the source's size and mtime,
    the extract config, the reader limits), so a re-run with other flags, or after the file
    changed, never reuses work made from something else.
    """
    digest = hashlib.blake2b(source.encode("utf-8", "surrogateescape"), digest_size=6).hexdigest()
    name = re.sub(r"[^\w.+-]", "_", display_path(source.rstrip("/").rsplit("/", 1)[-1]))[:MAX_NAME]
    return FileSystems.join(output, INTERMEDIATE_DIR, f"{name}.{digest}.{key}.jsonl.gz")


def display_path(path: str) -> str:
    """A path as records and messages show it: bytes that are not UTF-8 as \\xNN, never a lone surrogate."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def check_intermediate(path: str) -> str | None:
    """None if a committed intermediate is whole (all lines JSON, the end line's count right), else why."""
    records = 0
    try:
        for outcome in read_jsonl_gz(path):
            if outcome.get("kind") == END:
                found = outcome.get("records")
                return None if found == records else f"end line counts {found} records, the file {records}"
            records += 1
    except (OSError, EOFError, ValueError) as error:  # gzip cut or corrupt, a line that is not JSON
        return f"unreadable after {records} record(s): {error}"
    return f"no end line after {records} record(s)"


class ExtractWarc(beam.DoFn):
    """Read + simplify + filter one WARC and commit its outcomes to an intermediate file.

    A WARC whose intermediate file (for this content and config) exists and is whole was
    committed by an earlier run: it is not read again. One that is cut or corrupt is named,
    removed and redone. Emits one small element naming the intermediate file (outcomes are
    streamed from it by `read_intermediate`, so memory stays flat), or a dead letter and a
    failed summary when the WARC's byte stream itself fails. Work past `warc_timeout` (Beam
    has given up on it) is not committed.
    """

    def __init__(self, config: JobConfig) -> None:
        self.config = config
        self.config_key = fingerprint(config.extract, config.limits)

    def setup(self) -> None:
        sources.set_max_concurrent_downloads(self.config.source.max_concurrent_downloads)
        if note := compiled.fallback_note():
            logging.warning("htlm-pipeline: %s", note)
        self.isolated = None
        if self.config.record_timeout > 0:
            page_outcome = functools.partial(outcome_for_page, config=self.config.extract)
            self.isolated = IsolatedCall(page_outcome, self.config.record_timeout)

    def teardown(self) -> None:
        if self.isolated is not None:
            self.isolated.close()

    def _extract(self, path: str, target: str, deadline: float) -> bool:
        try:
            stream = open_source(path, self.config.source)
        except OSError as error:
            problem = link_problem(path)
            why = f"{problem}: {error}" if problem else str(error)
            raise SourceFailed(f"cannot open {path}: {why}") from error
        with stream:
            outcome = isolated_outcome(self.isolated) if self.isolated is not None else None
            outcomes = _with_end_line(
                extract(
                    read_pages(stream, display_path(path), limits=self.config.limits),
                    self.config.extract,
                    outcome,
                )
            )
            return write_jsonl_gz(target, outcomes, commit_if=lambda: time.monotonic() < deadline) >= 0

    def _resume_state(self, path: str, target: str) -> tuple[bool, str | None]:
        """(resumed, why redone): a whole intermediate is resumed, a damaged one removed and redone."""
        if FileSystems.exists(target):
            problem = check_intermediate(target)
            if problem is None:
                return True, None
            logging.warning("htlm-pipeline: %s is damaged (%s): redoing %s", target, problem, path)
            delete_files([target])
            return False, "corrupt"
        same_source = escape_glob(target.rsplit(".", 3)[0]) + ".*.jsonl.gz"  # other keys, same WARC
        if FileSystems.match([same_source])[0].metadata_list:
            return False, "changed"  # made from other flags or another version of the file
        return False, None

    def process(self, element: str | bytes) -> Iterator[dict[str, Any]]:
        path, started = fs_path(element), time.perf_counter()
        key = fingerprint(self.config_key, source_identity(path))
        target = intermediate_path(self.config.output, path, key)
        resumed, redone = self._resume_state(path, target)
        committed = resumed
        if not resumed:
            try:
                # False when Beam's timeout gave up on it (and dead-lettered it): nothing committed
                committed = self._extract(path, target, time.monotonic() + self.config.warc_timeout)
            except SourceFailed as error:  # the WARC's bytes could not be had; output errors propagate
                Metrics.counter("htlm/dead_letter", "read").inc()
                yield dead_letter(display_path(path), None, None, "read", error)
                yield {"kind": SUMMARY, "warc_file": display_path(path), "records": 1, "failed": True}
        if committed:
            yield {
                "kind": EXTRACTED,
                "warc_file": display_path(path),
                "intermediate": target,
                "resumed": resumed,
                "redone": redone,
                "seconds": time.perf_counter() - started,
            }


def _with_end_line(outcomes: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    records = 0
    for outcome in outcomes:
        records += 1
        yield outcome
    yield {"kind": END, "records": records}


def read_intermediate(element: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Stream a WARC's committed outcomes, then its summary; pass failures through."""
    if element["kind"] != EXTRACTED:
        yield element
        return
    records = repeated = 0
    for outcome in read_jsonl_gz(element["intermediate"]):
        if outcome["kind"] == END:
            continue
        records += 1
        repeated += REPEATED_ID in (outcome.get("warc_record_id") or "")
        count_outcome(outcome)
        yield outcome
    summary = {k: v for k, v in element.items() if k != "kind"}
    yield {"kind": SUMMARY, **summary, "records": records, "repeated_record_ids": repeated}


def dead_letter_from_beam(failure: tuple[Any, Any]) -> Iterator[dict[str, Any]]:
    """Beam's exception-handling output (element, (type, repr, traceback)) as our dead letter."""
    path, (error_type, error, frames) = failure
    trace = "".join(frames) if isinstance(frames, list) else str(frames)
    name = display_path(fs_path(path) if isinstance(path, (str, bytes)) else str(path))
    yield dead_letter(
        name, None, None, "extract", f"{getattr(error_type, '__name__', error_type)}: {error}", trace
    )
    yield {"kind": SUMMARY, "warc_file": name, "records": 1, "failed": True}
