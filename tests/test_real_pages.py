"""The simplifier on real pages: the scrapinghub benchmark (with ground truth) and Readability's pages."""

from __future__ import annotations

import gzip
import json
import statistics
from pathlib import Path

import lxml.etree as etree
import pytest
from htlm.pipeline.simplify import MHTML, SimplifyConfig, simplify

from tests.conftest import PAGE_DATA

SCRAPINGHUB = PAGE_DATA / "scrapinghub-article-extraction-benchmark"
READABILITY = PAGE_DATA / "mozilla-readability" / "test-pages"


def text_of(html: str) -> str:
    root = etree.fromstring(html, etree.HTMLParser())
    return " ".join(etree.tostring(root, method="text", encoding="unicode").split())


def ngram_recall(reference: str, candidate: str, n: int = 5) -> float:
    """Share of the reference's character n-grams found in the candidate (works for any script)."""
    reference, candidate = " ".join(reference.lower().split()), " ".join(candidate.lower().split())
    wanted = {reference[i : i + n] for i in range(len(reference) - n + 1)}
    have = {candidate[i : i + n] for i in range(len(candidate) - n + 1)}
    return len(wanted & have) / len(wanted) if wanted else 1.0


def reparse(html: str) -> str:
    return etree.tostring(etree.fromstring(html, etree.HTMLParser()), encoding="unicode", method="html")


@pytest.fixture(scope="module")
def scrapinghub() -> list[tuple[str, str, str]]:
    truth = json.loads((SCRAPINGHUB / "ground-truth.json").read_text())
    pages = []
    for path in sorted((SCRAPINGHUB / "html").glob("*.html.gz")):
        page_id = path.name.split(".")[0]
        pages.append(
            (page_id, gzip.decompress(path.read_bytes()).decode("utf-8"), truth[page_id]["articleBody"])
        )
    return pages


def test_scrapinghub_removal_and_survival(
    scrapinghub: list[tuple[str, str, str]], figures: list[str]
) -> None:
    assert len(scrapinghub) == 181
    config = SimplifyConfig(min_text_ratio=0.0)  # measure the rules, not the ratio filter
    removed, survived, ratios = [], [], []
    for _, html, article in scrapinghub:
        result = simplify(html, config)
        if not isinstance(result, MHTML):
            continue
        removed.append(1 - result.mhtml_chars / len(html))
        survived.append(ngram_recall(article, text_of(result.html)))
        ratios.append(result.text_ratio)
    kept_by_ratio = sum(ratio > 0.46 for ratio in ratios)
    figures.append(
        f"scrapinghub ({len(scrapinghub)} real pages): {len(removed)} non-empty MHTML; characters removed "
        f"mean {statistics.mean(removed):.1%} (paper ~94%); ground-truth article text surviving "
        f"(char 5-gram recall) mean {statistics.mean(survived):.1%}, "
        f"median {statistics.median(survived):.1%}; "
        f"text/HTML ratio > 0.46 for {kept_by_ratio}"
    )
    assert len(removed) >= 170
    assert statistics.mean(removed) >= 0.88
    assert statistics.mean(survived) >= 0.80
    assert statistics.median(survived) >= 0.90
    assert kept_by_ratio >= 150


def test_scrapinghub_output_reparses(scrapinghub: list[tuple[str, str, str]]) -> None:
    for page_id, html, _ in scrapinghub:
        result = simplify(html, SimplifyConfig(min_text_ratio=0.0))
        if isinstance(result, MHTML):
            assert reparse(result.html) == result.html, page_id


def readability_cases() -> list[Path]:
    return sorted(READABILITY.glob("*/source.html.gz"))


def test_readability_pages(figures: list[str]) -> None:
    cases = readability_cases()
    assert len(cases) == 130
    recalls, kept = [], 0
    for source in cases:
        html = gzip.decompress(source.read_bytes()).decode("utf-8", "replace")
        result = simplify(html, SimplifyConfig(min_text_ratio=0.0))
        if not isinstance(result, MHTML):
            continue
        kept += 1
        assert reparse(result.html) == result.html, source.parent.name
        expected = text_of((source.parent / "expected.html").read_text())
        recalls.append(ngram_recall(expected, text_of(result.html)))
    figures.append(
        f"readability ({len(cases)} pages): {kept} non-empty MHTML; Readability's article text surviving "
        f"mean {statistics.mean(recalls):.1%}, median {statistics.median(recalls):.1%}"
    )
    assert kept >= 115
    assert statistics.median(recalls) >= 0.85
