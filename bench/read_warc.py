"""Benchmark: our WARC reader against warcio and FastWARC on the same real WARC bytes.

Each engine reads every record and its full (decompressed) block of the real WARCs in
tests/data/warc that all three can read, best of --rounds rounds (CPU time). Ours also
parses HTTP, decodes bodies and charsets, and accounts for every record. Nothing here is a
pass/fail test.

    python bench/read_warc.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from pathlib import Path

from htlm.pipeline.reading import read_pages

WARC_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "warc"
FILES = [
    "aut-warc/IAH-20080430204825-00000-blackbook.warc.gz",
    "resiliparse-fastwarc/warcfile.warc.gz",
    "resiliparse-fastwarc/clueweb-quirk.warc.gz",
    "dolma-wget-warc/sample-0000.warc.gz",
    "dolma-wget-warc/sample-0001.warc.gz",
    "node-warc/books.toscrape.warc",
]


def ours(data: bytes) -> int:
    return sum(1 for _ in read_pages(io.BytesIO(data), "bench"))


def warcio_reader(data: bytes) -> int:
    from warcio.archiveiterator import ArchiveIterator

    count = 0
    for record in ArchiveIterator(io.BytesIO(data)):
        record.content_stream().read()
        count += 1
    return count


def fastwarc_reader(data: bytes) -> int:
    from fastwarc.warc import ArchiveIterator

    count = 0
    for record in ArchiveIterator(io.BytesIO(data), parse_http=True):
        record.reader.read()
        count += 1
    return count


def best(function: Callable[[bytes], int], blobs: list[bytes], rounds: int) -> tuple[float, int]:
    seconds, records = float("inf"), 0
    for _ in range(rounds):
        started = time.process_time()
        records = sum(function(blob) for blob in blobs)
        seconds = min(seconds, time.process_time() - started)
    return seconds, records


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    blobs = [(WARC_DATA / name).read_bytes() for name in FILES]
    megabytes = sum(map(len, blobs)) / 1e6
    print(f"{len(blobs)} real WARC files, {megabytes:.1f} MB on disk, best of {args.rounds} rounds, CPU time")
    engines = {"htlm read_pages": ours, "warcio": warcio_reader}
    try:
        import fastwarc  # noqa: F401

        engines["fastwarc"] = fastwarc_reader
    except ImportError:
        print("fastwarc not installed: skipped (pip install fastwarc)")
    results = {name: best(function, blobs, args.rounds) for name, function in engines.items()}
    for name, (seconds, records) in results.items():
        print(f"  {name:<20} {records:6d} entries {megabytes / seconds:7.1f} MB/s ({seconds:.3f}s)")
    base = results["htlm read_pages"][0]
    for name in ("warcio", "fastwarc"):
        if name in results:
            print(f"{name} / htlm read_pages = {results[name][0] / base:.2f}x  (>1 means ours is faster)")


if __name__ == "__main__":
    main()
