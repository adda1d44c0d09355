"""Benchmark: `simplify` against an lxml parse of the same pages (the floor) and against peers.

Runs on one core over the real HTML pages in tests/data/pages (scrapinghub benchmark,
Mozilla Readability's test pages, inscriptis' real-world pages), decoded to str beforehand so
that every engine does the same work. Prints docs/s and MB/s per engine and the ratios:
  simplify / lxml-parse   (target: <= 2x), for the paper's rules and for --mhtml_mode recall
  trafilatura / simplify  (target: >= 10x)
and the compiled passes against their pure-Python twins (HTLM_SIMPLIFY_PURE_PYTHON), which
give the same output. Timings are the best of --rounds rounds, the engines taking turns in each
(so a machine whose speed drifts slows them alike). Nothing here is a pass/fail test.

    python bench/simplify.py [--rounds 5] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from collections.abc import Callable
from pathlib import Path

import lxml.etree as etree
from htlm.pipeline.simplify import SimplifyConfig, compiled, simplify

PAGE_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "pages"


def load_pages(limit: int | None) -> list[str]:
    """The real pages, decoded (all are UTF-8 or declared so)."""
    paths = sorted((PAGE_DATA / "scrapinghub-article-extraction-benchmark" / "html").glob("*.html.gz"))
    paths += sorted((PAGE_DATA / "mozilla-readability" / "test-pages").glob("*/source.html.gz"))
    paths += sorted((PAGE_DATA / "inscriptis-html" / "html").glob("real-world/*.html"))
    pages = []
    for path in paths:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        pages.append(raw.decode("utf-8", "replace"))
    return pages[:limit] if limit else pages


def engines() -> dict[str, Callable[[str], object]]:
    """Name -> function of one page. Peers are skipped (with a note) when not installed."""
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)

    def lxml_parse(html: str) -> object:
        return etree.fromstring(html.encode("utf-8") if html.lstrip().startswith("<?xml") else html, parser)

    def pure_python(html: str) -> object:
        os.environ[compiled.PURE_PYTHON_VARIABLE] = "1"
        try:
            return simplify(html)
        finally:
            del os.environ[compiled.PURE_PYTHON_VARIABLE]

    recall = SimplifyConfig(mode="recall")
    found: dict[str, Callable[[str], object]] = {
        "lxml parse (floor)": lxml_parse,
        "htlm simplify": simplify,
        "htlm simplify (recall)": lambda html: simplify(html, recall),
        "htlm simplify (pure Python)": pure_python,
    }
    try:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        found["resiliparse minimal_html"] = lambda html: extract_plain_text(
            HTMLTree.parse(html), preserve_formatting="minimal_html"
        )
    except ImportError:
        print("resiliparse not installed: skipped (pip install resiliparse)")
    try:
        import trafilatura

        found["trafilatura html"] = lambda html: trafilatura.extract(html, output_format="html")
    except ImportError:
        print("trafilatura not installed: skipped (pip install trafilatura)")
    return found


def best_times(
    functions: dict[str, Callable[[str], object]], pages: list[str], rounds: int
) -> dict[str, float]:
    """The best CPU time of each engine over `rounds` rounds, the engines taking turns within each
    round, so that a machine whose speed drifts (shared cores) slows them all alike."""
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, function in functions.items():
            started = time.process_time()
            for html in pages:
                function(html)
            best[name] = min(best[name], time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, help="use only the first N pages")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    if not compiled.in_use():
        print(f"note: {compiled.fallback_note()}")
    pages = load_pages(args.limit)
    megabytes = sum(len(html.encode("utf-8")) for html in pages) / 1e6
    print(f"{len(pages)} real pages, {megabytes:.1f} MB, one core, best of {args.rounds} rounds (CPU time)")
    seconds = best_times(engines(), pages, args.rounds)
    for name in seconds:
        print(
            f"  {name:<26} {len(pages) / seconds[name]:8.1f} docs/s {megabytes / seconds[name]:7.2f} MB/s"
            f"  ({seconds[name]:.2f}s)"
        )
    ours, floor = seconds["htlm simplify"], seconds["lxml parse (floor)"]
    print(f"simplify / lxml parse = {ours / floor:.2f}x  (target <= 2x)")
    print(f"simplify (recall) / lxml parse = {seconds['htlm simplify (recall)'] / floor:.2f}x")
    print(f"pure-Python passes / compiled = {seconds['htlm simplify (pure Python)'] / ours:.2f}x")
    for peer in ("resiliparse minimal_html", "trafilatura html"):
        if peer in seconds:
            print(f"{peer} / simplify = {seconds[peer] / ours:.2f}x  (>1 means simplify is faster)")


if __name__ == "__main__":
    main()
