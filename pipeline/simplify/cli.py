"""`htlm-simplify`: turn HTML files or WARC/ARC files into Minimal HTML, with a full account.

One HTML page in and no --output: prints its MHTML. Anything else: writes one JSON document
record per kept page (JSONL, gzipped when the name ends in .gz) and ends with a summary of
records in, kept, dropped per reason and bytes removed. Every record is counted once.

Each record takes the job's own per-record path (`htlm.pipeline.extract.extract`: the
reader's page, the simplifier, the language and length filters), so a page kept or dropped
here is kept or dropped by `htlm-pipeline` too, for the same reason; only dedup, which needs
every input at once, is the job's alone.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from htlm.pipeline import reasons
from htlm.pipeline.extract import DOCUMENT, REJECTED, ExtractConfig, SourceFailed, extract
from htlm.pipeline.reading import read_pages
from htlm.pipeline.reading.files import is_archive, read_html_file
from htlm.pipeline.simplify import compiled
from htlm.pipeline.simplify.flags import build_parser, config_from_args
from tqdm import tqdm


@dataclass
class Summary:
    """What a run did: counts per outcome and the sizes behind the characters-removed figure."""

    files: int = 0
    records_in: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    dead_lettered: Counter[str] = field(default_factory=Counter)
    input_bytes: int = 0
    html_bytes_kept: int = 0
    mhtml_bytes_kept: int = 0
    unreadable_files: list[str] = field(default_factory=list)

    @property
    def bytes_removed(self) -> float:
        """Share of the kept pages' HTML bytes that simplification removed."""
        return 1 - self.mhtml_bytes_kept / self.html_bytes_kept if self.html_bytes_kept else 0.0

    def as_dict(self, seconds: float) -> dict[str, Any]:
        return {
            "files": self.files,
            "records_in": self.records_in,
            "kept": self.kept,
            "dropped": dict(sorted(self.dropped.items())),
            "dead_lettered": dict(sorted(self.dead_lettered.items())),
            "bytes_removed": round(self.bytes_removed, 4),
            "input_bytes": self.input_bytes,
            "seconds": round(seconds, 3),
            "unreadable_files": self.unreadable_files,
        }


class _CountingReader(io.RawIOBase):
    """A read-through wrapper that advances a progress bar by the bytes read."""

    def __init__(self, stream: BinaryIO, progress: tqdm) -> None:
        self._stream, self._progress = stream, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        self._progress.update(len(data))
        return len(data)


def file_outcomes(path: Path, config: ExtractConfig, progress: tqdm) -> Iterator[dict[str, Any]]:
    """The outcomes of one input file (a WARC/ARC or one HTML page), as the job computes them."""
    if is_archive(path):
        with open(path, "rb") as stream:
            yield from extract(read_pages(_CountingReader(stream, progress), str(path)), config)
    else:
        entry = read_html_file(path)
        progress.update(path.stat().st_size)
        yield from extract([entry], config)


def run(
    paths: list[Path],
    config: ExtractConfig,
    documents: IO[str],
    rejected: IO[str] | None = None,
    show_progress: bool | None = None,
) -> Summary:
    """Simplify and filter every page of `paths`, writing document records to `documents`; the account."""
    summary = Summary()
    summary.input_bytes = sum(path.stat().st_size for path in paths if path.is_file())
    with tqdm(
        total=summary.input_bytes,
        unit="B",
        unit_scale=True,
        desc="simplify",
        disable=None if show_progress is None else not show_progress,
    ) as progress:
        for path in paths:
            summary.files += 1
            try:
                for outcome in file_outcomes(path, config, progress):
                    _count(outcome, summary, documents, rejected)
                    progress.set_postfix(
                        kept=summary.kept, dropped=summary.records_in - summary.kept, refresh=False
                    )
            except (OSError, SourceFailed) as error:  # the file's bytes failed: counted, the run goes on
                summary.unreadable_files.append(f"{path}: {error}")
                summary.records_in += 1
                summary.dropped[reasons.READ_ERROR] += 1
                print(f"htlm-simplify: cannot read {path}: {error}", file=sys.stderr)
    return summary


def _count(outcome: dict[str, Any], summary: Summary, documents: IO[str], rejected: IO[str] | None) -> None:
    summary.records_in += 1
    kind = outcome.pop("kind")
    if kind == DOCUMENT:
        summary.kept += 1
        summary.html_bytes_kept += outcome["html_bytes"]
        summary.mhtml_bytes_kept += len(outcome["mhtml"].encode("utf-8"))
        documents.write(json.dumps(outcome, ensure_ascii=False) + "\n")
        return
    if kind == REJECTED:
        summary.dropped[outcome["reason"]] += 1
    else:
        summary.dead_lettered[outcome["stage"]] += 1
    if rejected is not None:
        rejected.write(json.dumps(outcome, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def open_output(target: str | None) -> Iterator[IO[str] | None]:
    """Open a JSONL output: None -> nothing, '-' -> stdout, *.gz -> gzip; written atomically."""
    if target is None:
        yield None
        return
    if target == "-":
        yield sys.stdout
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(partial, "wt", encoding="utf-8") as stream:
            yield stream
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def format_summary(summary: Summary, seconds: float, output: str | None) -> str:
    """The human summary printed at the end of a run."""
    rate = summary.records_in / seconds if seconds else 0.0
    lines = [
        f"htlm-simplify: {summary.files} file(s), {summary.records_in} records in {seconds:.1f}s "
        f"({rate:.0f} records/s, {summary.input_bytes / 1e6 / max(seconds, 1e-9):.1f} MB/s)",
        f"  kept     {summary.kept:>8}   bytes removed from kept pages: {summary.bytes_removed:.1%}",
        f"  dropped  {sum(summary.dropped.values()):>8}",
    ]
    lines += [f"    {reason:<30}{count:>6}" for reason, count in summary.dropped.most_common()]
    if summary.dead_lettered:
        lines.append(
            f"  dead-lettered {sum(summary.dead_lettered.values()):>3}   (processing raised; see --rejected)"
        )
    if summary.unreadable_files:
        lines.append(f"  unreadable files: {len(summary.unreadable_files)} (see messages above)")
    if output and output != "-":
        lines.append(f"  documents -> {output}")
    if note := compiled.fallback_note():
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    missing = [str(path) for path in args.inputs if not path.is_file()]
    if missing:
        print(f"htlm-simplify: not a file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if len(args.inputs) == 1 and args.output is None and not is_archive(args.inputs[0]):
        return _print_one(args.inputs[0], config)

    started = time.perf_counter()
    with open_output(args.output or "-") as documents, open_output(args.rejected) as rejected:
        summary = run(args.inputs, config, documents, rejected, show_progress=False if args.quiet else None)
    seconds = time.perf_counter() - started
    if args.stats:
        Path(args.stats).write_text(json.dumps(summary.as_dict(seconds), indent=2) + "\n")
    if not args.quiet:
        print(format_summary(summary, seconds, args.output), file=sys.stderr)
    return 1 if summary.unreadable_files else 0


def _print_one(path: Path, config: ExtractConfig) -> int:
    (outcome,) = extract([read_html_file(path)], config)
    if outcome["kind"] != DOCUMENT:
        why = outcome.get("reason") or f"dead letter, {outcome.get('stage')}"
        print(
            f"htlm-simplify: {path}: dropped ({why}): {outcome.get('detail') or outcome.get('error')}",
            file=sys.stderr,
        )
        return 1
    print(outcome["mhtml"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
