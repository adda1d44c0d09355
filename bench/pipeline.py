"""Benchmark: the Beam job's overhead over the bare library loop, and what a crawl would cost.

The pages are real (tests/data/pages: the scrapinghub benchmark, Readability's test pages,
inscriptis' real-world pages); the WARC framing around them is built with warcio's writer
(`tests/warcs.py`: WARC/1.1 response records, one gzip member per record). Each page is
written --copies times under different URLs, so dedup has real work.

  (a) library loop: read_pages + extract (simplify, filters, dedup keys), one process
  (b) the DirectRunner job, one worker (in-memory): the same, plus intermediates, dedup,
      sharding, stats
Runs both at --copies and at twice that, and prints docs/s, the overhead ratio b/a of each
run, and the marginal ratio between the two runs (the job's fixed start-up cost, a few
seconds, removed: what matters at ~35,000 pages per WARC; target <= 1.3), then core-seconds
per 1,000 pages and the projected core-hours for one Common Crawl dump (~90,000 WARCs).

    python bench/pipeline.py [--copies 4]
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import tempfile
import time
from pathlib import Path

from htlm.pipeline.beam import job
from htlm.pipeline.extract import ExtractConfig, extract
from htlm.pipeline.reading import read_pages

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test helpers' WARC writer
from tests.warcs import write_warc  # noqa: E402

PAGE_DATA = ROOT / "tests" / "data" / "pages"
CRAWL_WARCS, PAGES_PER_WARC = 90_000, 35_000


def real_pages() -> list[bytes]:
    paths = sorted((PAGE_DATA / "scrapinghub-article-extraction-benchmark" / "html").glob("*.html.gz"))
    paths += sorted((PAGE_DATA / "mozilla-readability" / "test-pages").glob("*/source.html.gz"))
    paths += sorted((PAGE_DATA / "inscriptis-html" / "html").glob("real-world/*.html"))
    return [gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes() for p in paths]


def library_loop(warc: Path) -> tuple[float, int]:
    config = ExtractConfig()
    started = time.perf_counter()
    outcomes = sum(1 for _ in extract(read_pages(io.BytesIO(warc.read_bytes()), str(warc)), config))
    return time.perf_counter() - started, outcomes


def beam_job(warc: Path, output: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    argv = ["--input", str(warc), "--output", str(output), "--no_progress"]
    stats = job.run([*argv, "--direct_running_mode=in_memory", "--direct_num_workers=1"])
    return time.perf_counter() - started, stats


def make_warc(path: Path, pages: list[bytes], copies: int) -> int:
    entries = [(f"https://copy{c}.example/{n}", page) for c in range(copies) for n, page in enumerate(pages)]
    return write_warc(str(path), entries)


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    pages = real_pages()
    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        for copies in (args.copies, 2 * args.copies):
            warc = Path(tmp) / f"real-pages-{copies}.warc.gz"
            records = make_warc(warc, pages, copies)
            library_loop(warc)  # warm caches (language model, hashers) so both sides start equal
            loop_seconds, outcomes = library_loop(warc)
            job_seconds, stats = beam_job(warc, Path(tmp) / f"out-{copies}")
            assert outcomes == stats["records_in"] == records
            timings[records] = (loop_seconds, job_seconds)
            print(
                f"{records} records ({len(pages)} real pages x {copies}; WARC framing built here, "
                f"{warc.stat().st_size / 1e6:.1f} MB gzipped): (a) library loop {records / loop_seconds:.1f} "
                f"docs/s ({loop_seconds:.1f}s), (b) DirectRunner job {records / job_seconds:.1f} docs/s "
                f"({job_seconds:.1f}s, 1 worker); overhead b/a = {job_seconds / loop_seconds:.2f}x"
            )
    (small, (loop_small, job_small)), (large, (loop_large, job_large)) = sorted(timings.items())
    marginal = (job_large - job_small) / (loop_large - loop_small)
    print(f"marginal overhead per extra record (start-up removed) = {marginal:.2f}x  (target <= 1.3x)")
    per_thousand = (job_large - job_small) / (large - small) * 1000
    core_hours = per_thousand / 1000 * PAGES_PER_WARC * CRAWL_WARCS / 3600
    print(f"core-seconds per 1,000 pages (job, marginal): {per_thousand:.1f}")
    print(
        f"projected: {per_thousand / 1000 * PAGES_PER_WARC / 60:.1f} core-minutes per WARC of "
        f"{PAGES_PER_WARC:,} pages; {core_hours:,.0f} core-hours for one dump ({CRAWL_WARCS:,} WARCs)"
    )


if __name__ == "__main__":
    main()
