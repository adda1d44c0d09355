"""`htlm-simplify`: turn HTML files or WARC/ARC files into Minimal HTML, with a full account.

One HTML page in and no --output: prints its MHTML. Anything else: writes one JSON document
record per kept page (JSONL, gzipped when the name ends in .gz) and ends with a summary of
records in, kept, dropped per reason and characters removed. Every record is counted once.
"""

from __future__ import annotations

import argparse
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
from htlm.pipeline.filters import parse_langs
from htlm.pipeline.reading import Dropped, Page, read_pages
from htlm.pipeline.reading.charset import UndecodableError, decode_html
from htlm.pipeline.records import document_record, rejection_record
from htlm.pipeline.simplify import MHTML, Rejection, SimplifyConfig, simplify
from tqdm import tqdm

_ARCHIVE_STARTS = (b"WARC/", b"filedesc://")


@dataclass
class Summary:
    """What a run did: counts per outcome and the sizes behind the characters-removed figure."""

    files: int = 0
    records_in: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    input_bytes: int = 0
    html_chars_kept: int = 0
    mhtml_chars_kept: int = 0
    unreadable_files: list[str] = field(default_factory=list)

    @property
    def chars_removed(self) -> float:
        """Share of the kept pages' characters that simplification removed."""
        return 1 - self.mhtml_chars_kept / self.html_chars_kept if self.html_chars_kept else 0.0

    def as_dict(self, seconds: float) -> dict[str, Any]:
        return {
            "files": self.files,
            "records_in": self.records_in,
            "kept": self.kept,
            "dropped": dict(sorted(self.dropped.items())),
            "chars_removed": round(self.chars_removed, 4),
            "input_bytes": self.input_bytes,
            "seconds": round(seconds, 3),
            "unreadable_files": self.unreadable_files,
        }


def is_archive(path: Path) -> bool:
    """Whether a file is a WARC/ARC (by name, else by its first bytes, gzipped or not)."""
    name = path.name.lower()
    if ".warc" in name or ".arc" in name:
        return True
    with open(path, "rb") as stream:
        head = stream.read(4096)
    if head.startswith(b"\x1f\x8b"):
        with contextlib.suppress(OSError, EOFError):
            head = gzip.GzipFile(fileobj=io.BytesIO(head)).read(64)
    return head.lstrip().startswith(_ARCHIVE_STARTS)


def read_html_file(path: Path) -> Page | Dropped:
    """Read one HTML file (plain or .gz) as a Page, so it takes the same road as a WARC record."""
    with open(path, "rb") as stream:
        body = stream.read()
    if body.startswith(b"\x1f\x8b"):
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError) as error:
            return Dropped(reasons.READ_ERROR, str(path), None, path.resolve().as_uri(), str(error), 0)
    url = path.resolve().as_uri()
    try:
        html, charset, source = decode_html(body, None)
    except UndecodableError as error:
        return Dropped(reasons.DECODE_ERROR, str(path), None, url, str(error), 0)
    return Page(url, str(path), url, "", 200, (), body, html, charset, source, 0)


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


def iter_entries(paths: list[Path], summary: Summary, progress: tqdm) -> Iterator[Page | Dropped]:
    """Yield every page and dropped record of the inputs; unreadable files are noted, not fatal."""
    for path in paths:
        summary.files += 1
        try:
            if is_archive(path):
                with open(path, "rb") as stream:
                    yield from read_pages(_CountingReader(stream, progress), str(path))
            else:
                entry = read_html_file(path)
                progress.update(path.stat().st_size)
                yield entry
        except OSError as error:
            summary.unreadable_files.append(f"{path}: {error.strerror or error}")
            print(f"htlm-simplify: cannot read {path}: {error.strerror or error}", file=sys.stderr)


def run(
    paths: list[Path],
    config: SimplifyConfig,
    documents: IO[str],
    rejected: IO[str] | None = None,
    show_progress: bool | None = None,
) -> Summary:
    """Simplify every page of `paths`, writing document records to `documents`; return the account."""
    summary = Summary()
    summary.input_bytes = sum(path.stat().st_size for path in paths if path.is_file())
    with tqdm(
        total=summary.input_bytes,
        unit="B",
        unit_scale=True,
        desc="simplify",
        disable=None if show_progress is None else not show_progress,
    ) as progress:
        for entry in iter_entries(paths, summary, progress):
            summary.records_in += 1
            if isinstance(entry, Dropped):
                reason, detail = entry.reason, entry.detail
            else:
                result = simplify(entry.html, config)
                if isinstance(result, MHTML):
                    summary.kept += 1
                    summary.html_chars_kept += len(entry.html)
                    summary.mhtml_chars_kept += result.mhtml_chars
                    documents.write(json.dumps(document_record(entry, result), ensure_ascii=False) + "\n")
                    continue
                reason, detail = result.reason, result.detail
            summary.dropped[reason] += 1
            if rejected is not None:
                record = rejection_record(entry.url, entry.warc_file, entry.record_id, reason, detail)
                rejected.write(json.dumps(record, ensure_ascii=False) + "\n")
            progress.set_postfix(kept=summary.kept, dropped=summary.records_in - summary.kept, refresh=False)
    return summary


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
        f"  kept     {summary.kept:>8}   characters removed from kept pages: {summary.chars_removed:.1%}",
        f"  dropped  {sum(summary.dropped.values()):>8}",
    ]
    lines += [f"    {reason:<22}{count:>6}" for reason, count in summary.dropped.most_common()]
    if summary.unreadable_files:
        lines.append(f"  unreadable files: {len(summary.unreadable_files)} (see messages above)")
    if output and output != "-":
        lines.append(f"  documents -> {output}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="htlm-simplify",
        description=(
            "Simplify web pages into Minimal HTML (MHTML) as in HTLM (Aghajanyan et al., 2021): drop "
            "scripts, styles, headers, footers, forms and every subtree without a text element of "
            ">= 128 characters (64 for lists, tables, spans), keep only class/id attributes, and keep "
            "a page only if its text/HTML ratio is > 0.46. Inputs are HTML files (plain or .gz) or "
            "WARC/ARC files (gzipped or not)."
        ),
        epilog=(
            "examples:\n"
            "  htlm-simplify page.html                      # print one page's MHTML\n"
            "  htlm-simplify crawl.warc.gz -o docs.jsonl.gz # JSONL document records + summary\n"
            "  htlm-simplify *.warc.gz -o docs.jsonl.gz --langs en --rejected rejected.jsonl.gz"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", type=Path, help="HTML or WARC/ARC files")
    parser.add_argument("-o", "--output", help="JSONL of document records ('-' = stdout; .gz compresses)")
    parser.add_argument(
        "--rejected", help="also write one JSONL line per dropped record: url, record id, reason"
    )
    parser.add_argument("--stats", help="write the summary as JSON to this file")
    parser.add_argument(
        "--langs",
        default="all",
        help="comma-separated lang codes a page's <html lang> must have, or 'all' "
        "(default: all; the paper kept 'en')",
    )
    parser.add_argument("--min-text-ratio", type=float, default=SimplifyConfig.min_text_ratio)
    parser.add_argument("--min-text-chars", type=int, default=SimplifyConfig.min_text_chars)
    parser.add_argument("--min-text-chars-short", type=int, default=SimplifyConfig.min_text_chars_short)
    parser.add_argument(
        "--keep-attributes", default="class,id", help="attributes kept on elements (default: class,id)"
    )
    parser.add_argument("--max-input-chars", type=int, default=SimplifyConfig.max_input_chars)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    return parser


def config_from_args(args: argparse.Namespace) -> SimplifyConfig:
    """The simplifier configuration the command-line flags describe."""
    return SimplifyConfig(
        min_text_chars=args.min_text_chars,
        min_text_chars_short=args.min_text_chars_short,
        min_text_ratio=args.min_text_ratio,
        keep_attributes=frozenset(filter(None, args.keep_attributes.split(","))),
        langs=parse_langs(args.langs),
        max_input_chars=args.max_input_chars,
    )


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


def _print_one(path: Path, config: SimplifyConfig) -> int:
    entry = read_html_file(path)
    if isinstance(entry, Dropped):
        print(f"htlm-simplify: {path}: dropped ({entry.reason}): {entry.detail}", file=sys.stderr)
        return 1
    result = simplify(entry.html, config)
    if isinstance(result, Rejection):
        print(f"htlm-simplify: {path}: rejected ({result.reason}): {result.detail}", file=sys.stderr)
        return 1
    print(result.html)
    return 0


if __name__ == "__main__":
    sys.exit(main())
