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
    wanted = char_grams(reference, n)
    return len(wanted & char_grams(candidate, n)) / len(wanted) if wanted else 1.0


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


def char_grams(text: str, n: int = 5) -> set[str]:
    text = " ".join(text.lower().split())
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def recall_and_leakage(pages: list[tuple[str, str]], config: SimplifyConfig) -> dict[str, float]:
    """Per page and over all pages: the share of the article's 5-grams in the MHTML body text
    (recall) and the share of the body text's 5-grams that are not the article's (leakage).
    `recall_long` is the per-page recall over the pages whose article is at least one text
    element long (`min_text_chars`): no rule that keeps the text rule can keep the others."""
    recalls, leaks, found, wanted, stray, written, long = [], [], 0, 0, 0, 0, []
    for html, article in pages:
        result = simplify(html, config)
        article_grams = char_grams(article)
        body_grams = char_grams(result.text) if isinstance(result, MHTML) else set()
        recalls.append(len(article_grams & body_grams) / len(article_grams) if article_grams else 1.0)
        if len(article) >= config.min_text_chars:
            long.append(recalls[-1])
        leaks.append(len(body_grams - article_grams) / len(body_grams) if body_grams else 0.0)
        found, wanted = found + len(article_grams & body_grams), wanted + len(article_grams)
        stray, written = stray + len(body_grams - article_grams), written + len(body_grams)
    return {
        "recall": statistics.mean(recalls), "leakage": statistics.mean(leaks),
        "recall_all": found / wanted, "leakage_all": stray / written,
        "recall_long": statistics.mean(long), "long_pages": len(long),
    }  # fmt: skip


def test_recall_mode_keeps_more_article_text_and_leaks_less(
    scrapinghub: list[tuple[str, str, str]], figures: list[str]
) -> None:
    sets = {
        "scrapinghub": [(html, article) for _, html, article in scrapinghub],
        "readability": [
            (gzip.decompress(source.read_bytes()).decode("utf-8", "replace"),
             text_of((source.parent / "expected.html").read_text()))
            for source in readability_cases()
        ],
    }  # fmt: skip
    measured = {}
    for name, pages in sets.items():
        for mode in ("paper", "recall"):
            m = measured[name, mode] = recall_and_leakage(
                pages, SimplifyConfig(min_text_ratio=0.0, mode=mode)
            )
            figures.append(
                f"{name} ({len(pages)} pages), mode {mode}: article text kept mean {m['recall']:.1%} "
                f"(all pages together {m['recall_all']:.1%}; mean over the {m['long_pages']} whose article "
                f"is at least {SimplifyConfig().min_text_chars} characters {m['recall_long']:.1%}), "
                f"non-article text in the output mean {m['leakage']:.1%} (together {m['leakage_all']:.1%})"
            )
    for name in sets:
        paper, recall = measured[name, "paper"], measured[name, "recall"]
        assert recall["recall"] > paper["recall"] and recall["leakage"] < paper["leakage"]
        assert recall["recall_all"] >= 0.90 and recall["leakage_all"] <= 0.12 and recall["leakage"] <= 0.12
        assert recall["recall_long"] >= 0.90
    assert measured["scrapinghub", "recall"]["recall"] >= 0.90
