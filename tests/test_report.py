"""The run report: histogram helpers and the self-contained HTML page."""

from __future__ import annotations

import itertools
import json
import math
import random

import lxml.html
import pytest
from htlm.pipeline.report import histogram, log_edges, merge_histograms, render_report, write_report

HOSTILE = "<script>alert(1)</script>"


def example_stats() -> dict:
    """A run over the four bundled WARCs, as the Beam job would write it."""
    rng = random.Random(7)
    html_bytes = [rng.lognormvariate(11, 1.2) for _ in range(46)]
    text_chars = [rng.lognormvariate(8, 1) for _ in range(46)]
    mhtml_chars = [t / rng.uniform(0.3, 0.9) for t in text_chars]
    ratios = [t / m for t, m in zip(text_chars, mhtml_chars, strict=True)]
    lengths = log_edges(100, 1e7)
    return {
        "title": "htlm pipeline run",
        "started": "2026-11-27T10:00:00Z",
        "elapsed_seconds": 12.3,
        "inputs": {"files": 4, "bytes": 680000, "skipped_already_done": 0},
        "records_in": 132,
        "kept": 30,
        "dropped": {
            "read/not-response": 64,
            "simplify/low-text-ratio": 13,
            "dedup/dup-url": 2,
            "dedup/near-dup": 1,
            "read/not-html": 21,
        },
        "dead_lettered": {"read": 1, "simplify": 0},
        "funnel": [
            ["records in", 132],
            ["HTML responses", 60],
            ["simplified", 46],
            ["after filters", 33],
            ["after dedup", 30],
        ],
        "histograms": {
            "html_bytes": histogram(html_bytes, lengths),
            "text_chars": histogram(text_chars, lengths),
            "mhtml_chars": histogram(mhtml_chars, lengths),
            "text_ratio": histogram(ratios, [i / 20 for i in range(21)]),
        },
        "languages": {"en": 20, "ja": 8, "de": 2},
        "rates": {"records_per_second": 10.7, "mb_per_second": 0.05},
        "outputs": {
            "documents": ["documents-00000-of-00001.jsonl.gz"],
            "rejected": ["rejected-00000-of-00001.jsonl.gz"],
            "dead_letter": ["dead-letter-00000-of-00001.jsonl.gz"],
        },
        "invariant": {"records_in": 132, "kept_plus_dropped_plus_dead": 132, "holds": True},
    }


def parse(page: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page)


def visible(tree: lxml.html.HtmlElement) -> str:
    """The page's text outside the CSS and the collapsed raw stats.json."""
    tree = lxml.html.document_fromstring(lxml.html.tostring(tree))
    for element in tree.xpath("//style | //details"):
        element.drop_tree()
    return tree.text_content()


def svgs(page: str) -> int:
    return len(parse(page).xpath("//svg"))


def assert_self_contained(tree: lxml.html.HtmlElement) -> None:
    assert not tree.xpath("//script | //link | //img | //iframe | //object | //embed")
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for name in ("src", "href", "xlink:href", "action"):
            assert "http" not in (element.get(name) or ""), (element.tag, name)
        assert "url(" not in (element.get("style") or "")
    assert "@import" not in "".join(tree.xpath("//style/text()"))


# --- histogram, log_edges, merge_histograms ---------------------------------------------------


def test_histogram_bins_underflow_and_overflow() -> None:
    hist = histogram([-5, 0, 0.5, 1, 1.5, 2, 2.99, 3, 3, 100], [0, 1, 2, 3])
    assert hist == {"edges": [0, 1, 2, 3], "counts": [3, 2, 2, 3]}
    assert len(hist["counts"]) == len(hist["edges"])
    assert sum(hist["counts"]) == 10


def test_histogram_edges_are_lower_inclusive() -> None:
    assert histogram([1, 2, 3], [1, 2, 3])["counts"] == [1, 1, 1]
    assert histogram([math.inf, -math.inf], [0, 1])["counts"] == [1, 1]


def test_histogram_empty_input_and_nan() -> None:
    assert histogram([], [0, 1, 2]) == {"edges": [0, 1, 2], "counts": [0, 0, 0]}
    assert histogram(iter([math.nan, 0.5]), [0, 1])["counts"] == [1, 0]


def test_histogram_single_edge_is_under_and_overflow() -> None:
    assert histogram([-1, 0, 1], [0])["counts"] == [3]


@pytest.mark.parametrize("edges", [[], [1, 1], [2, 1], [0, math.inf], [0, math.nan]])
def test_histogram_rejects_bad_edges(edges: list[float]) -> None:
    with pytest.raises(ValueError):
        histogram([1], edges)


def test_log_edges_decades() -> None:
    edges = log_edges(100, 1e7)
    assert len(edges) == 21
    assert edges[0] == 100 and edges[-1] == 1e7
    assert edges[4] == 1000 and edges[8] == 10_000 and edges[16] == 1_000_000
    assert edges[1] == pytest.approx(177.828, rel=1e-5)
    assert all(lo < hi for lo, hi in itertools.pairwise(edges))
    ratios = [hi / lo for lo, hi in itertools.pairwise(edges)]
    assert ratios == pytest.approx([10**0.25] * 20, rel=1e-5)


def test_log_edges_per_decade_and_partial_decade() -> None:
    assert log_edges(1, 1000, per_decade=1) == [1, 10, 100, 1000]
    edges = log_edges(100, 5000, per_decade=2)  # reaches at least `high`
    assert edges == [100, 316.228, 1000, 3162.28, 10000]


@pytest.mark.parametrize(("low", "high", "per_decade"), [(0, 10, 4), (10, 10, 4), (10, 1, 4), (1, 10, 0)])
def test_log_edges_rejects_bad_arguments(low: float, high: float, per_decade: int) -> None:
    with pytest.raises(ValueError):
        log_edges(low, high, per_decade)


def test_merge_histograms_sums_and_matches_one_pass() -> None:
    edges = log_edges(100, 1e7)
    values = [10 ** random.Random(i).uniform(1, 8) for i in range(500)]
    merged = merge_histograms(histogram(values[:200], edges), histogram(values[200:], edges))
    assert merged == histogram(values, edges)
    a = {"edges": [0, 1], "counts": [1, 2]}
    assert merge_histograms(a, a) == {"edges": [0, 1], "counts": [2, 4]}
    assert a == {"edges": [0, 1], "counts": [1, 2]}  # inputs untouched


def test_merge_histograms_empty_is_identity() -> None:
    a = histogram([1, 5], [0, 2, 4])
    assert merge_histograms({}, a) == a
    assert merge_histograms(a, {}) == a
    assert merge_histograms({}, {}) == {}
    assert merge_histograms(histogram([], [0, 2, 4]), a) == a


def test_merge_histograms_rejects_different_edges() -> None:
    with pytest.raises(ValueError):
        merge_histograms(histogram([1], [0, 2]), histogram([1], [0, 3]))
    with pytest.raises(ValueError):
        merge_histograms({"edges": [0, 1], "counts": [1, 2]}, {"edges": [0, 1], "counts": [1]})


# --- render_report ----------------------------------------------------------------------------


def test_full_report_parses_and_shows_everything() -> None:
    stats = example_stats()
    page = render_report(stats)
    tree = parse(page)
    assert tree.findtext(".//title") == "htlm pipeline run"
    # One chart each: funnel, dropped, three length histograms, text ratio, languages.
    assert svgs(page) == 7
    text = visible(tree)
    for number in (
        "132",
        "30",
        "64",
        "13",
        "22.7%",
        "12.3 s",
        "10.7",
        "0.05",
        "680.0 kB",
        "2026-11-27T10:00:00Z",
    ):
        assert number in text, number
    for label in (
        "records in",
        "HTML responses",
        "after dedup",
        "read/not-response",
        "dedup/near-dup",
        "en",
        "ja",
    ):
        assert label in text, label
    assert "48.5%" in text  # not-response, of records in
    assert "documents-00000-of-00001.jsonl.gz" in text and "dead-letter-00000-of-00001.jsonl.gz" in text
    for tick in ("1k", "10k", "100k", "1M"):
        assert f">{tick}<" in page, tick
    assert "threshold 0.46" in text
    assert tree.xpath("//*[contains(@class, 'invariant') and contains(@class, 'ok')]")
    assert_self_contained(tree)


def test_dropped_reasons_sorted_by_count() -> None:
    tree = parse(render_report(example_stats()))
    section = next(s for s in tree.xpath("//section") if "Dropped" in s.findtext("h2"))
    labels = [t.text for t in section.xpath(".//svg/text[@text-anchor='end']")]
    assert labels == [
        "read/not-response",
        "read/not-html",
        "simplify/low-text-ratio",
        "dedup/dup-url",
        "dedup/near-dup",
    ]


def test_empty_stats_render_no_data() -> None:
    for stats in ({}, None, [], {"histograms": {}, "languages": {}, "funnel": [], "outputs": {}}):
        page = render_report(stats)  # type: ignore[arg-type]
        tree = parse(page)
        assert svgs(page) == 0
        assert "no data" in visible(tree)
        assert_self_contained(tree)


def test_partial_stats_render_what_is_there() -> None:
    page = render_report({"records_in": 5, "languages": {"en": 5}})
    assert svgs(page) == 1
    text = visible(parse(page))
    assert "5" in text and "en" in text and "no data" in text


def test_broken_invariant_is_red() -> None:
    stats = example_stats()
    stats["invariant"] = {"records_in": 132, "kept_plus_dropped_plus_dead": 131, "holds": False}
    tree = parse(render_report(stats))
    (line,) = tree.xpath("//*[contains(@class, 'invariant')]")
    assert "bad" in line.get("class") and "132 ≠ 131" in visible(line)


def test_invariant_computed_when_missing() -> None:
    stats = example_stats()
    del stats["invariant"]
    tree = parse(render_report(stats))
    (line,) = tree.xpath("//*[contains(@class, 'invariant')]")
    assert "ok" in line.get("class") and "132 = 132" in visible(line)  # 30 + 101 + 1
    stats["kept"] = 29
    (line,) = parse(render_report(stats)).xpath("//*[contains(@class, 'invariant')]")
    assert "bad" in line.get("class")


def test_hostile_text_is_escaped() -> None:
    stats = example_stats()
    stats["title"] = HOSTILE
    stats["started"] = HOSTILE
    stats["dropped"][HOSTILE] = 3
    stats["languages"][HOSTILE] = 1
    stats["funnel"].append([HOSTILE, 2])
    stats["dead_lettered"][HOSTILE] = 1
    stats["histograms"][HOSTILE] = histogram([1, 2], [0, 1])
    stats["outputs"][HOSTILE] = ["http://evil.example/" + HOSTILE, '"><img src=http://x onerror=alert(1)>']
    stats["rates"][HOSTILE] = 1.0
    page = render_report(stats)
    tree = parse(page)
    assert not tree.xpath("//script")
    assert not tree.xpath("//img")
    assert_self_contained(tree)
    assert HOSTILE in visible(tree)  # shown, as text
    assert "<script>" not in page


def test_malformed_values_never_raise() -> None:
    stats = {
        "records_in": "lots",
        "kept": None,
        "elapsed_seconds": math.nan,
        "inputs": ["a"],
        "dropped": {"x": "3", "y": True, "z": 4},
        "dead_lettered": 7,
        "funnel": [["a"], "b", ["c", 1, 2], ["d", 5]],
        "histograms": {
            "html_bytes": {"edges": [1, 2], "counts": [1, 2, 3, 4]},
            "text_chars": {"edges": "nope"},
            "mhtml_chars": 5,
            "text_ratio": {"edges": [0, 0.5, 1], "counts": [0, 0, 0]},
        },
        "languages": {None: 3, "": 1, 5: 2},
        "rates": None,
        "outputs": {"documents": "one.jsonl.gz", "rejected": None},
        "invariant": {"holds": "yes"},
        "unserialisable": {1, 2},
    }
    page = render_report(stats)
    tree = parse(page)
    text = visible(tree)
    assert "no data" in text and "one.jsonl.gz" in text and "(none)" in text
    assert svgs(page) == 3  # dropped (z), funnel (d), languages


def test_histogram_without_overflow_bin_and_many_languages() -> None:
    languages = {f"l{i:02d}": 100 - i for i in range(30)}
    stats = {"histograms": {"text_ratio": {"edges": [0, 0.5, 1], "counts": [3, 4]}}, "languages": languages}
    page = render_report(stats)
    assert svgs(page) == 2
    text = visible(parse(page))
    assert "l19" in text and "l20" not in text
    assert "other (10 languages)" in text and str(sum(range(71, 81))) in text


def test_write_report_utf8(tmp_path) -> None:
    stats = example_stats()
    stats["languages"]["日本語"] = 1
    path = tmp_path / "report.html"
    write_report(stats, path)
    page = path.read_bytes().decode("utf-8")
    assert page == render_report(stats)
    assert "日本語" in page
    json.dumps(stats)  # the example is what stats.json would hold
