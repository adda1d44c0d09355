"""The Beam job end to end on DirectRunner: exact accounting, dedup, determinism, resumption."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from htlm.pipeline.beam import job

from tests.conftest import DEMO_WARCS, PAGE_DATA, WARC_DATA
from tests.fault_server import FaultServer
from tests.warcs import write_warc

IN_MEMORY = ["--direct_running_mode=in_memory", "--no_progress"]


def run(
    output: Path, *inputs: str | Path, extra: tuple[str, ...] = (), runner: list[str] = IN_MEMORY
) -> dict:
    argv = [arg for path in inputs for arg in ("--input", str(path))]
    return job.run([*argv, "--output", str(output), *runner, *extra])


def lines(output: Path, prefix: str) -> list[dict]:
    records = []
    for shard in sorted(output.glob(f"{prefix}-*-of-*.jsonl.gz")):
        with gzip.open(shard, "rt", encoding="utf-8") as stream:
            records += [json.loads(line) for line in stream]
    return records


def assert_accounted(stats: dict, output: Path) -> None:
    """records_in == kept + dropped + dead-lettered, both in stats.json and in the files written."""
    documents, rejected, dead = (
        lines(output, "documents"),
        lines(output, "rejected"),
        lines(output, "dead_letter"),
    )
    assert stats["invariant"]["holds"]
    assert stats["records_in"] == len(documents) + len(rejected) + len(dead)
    assert stats["kept"] == len(documents)
    assert sum(stats["dropped"].values()) == len(rejected)
    assert sum(stats["dead_lettered"].values()) == len(dead)
    assert json.loads((output / "stats.json").read_text())["records_in"] == stats["records_in"]


BUNDLED = {
    "simplify/empty-after-simplify": 14,
    "simplify/low-text-ratio": 12,
    "dedup/near-dup": 1,
    "read/not-response": 64,
    "filter/too-short": 6,
}


def test_bundled_warcs_default_multiprocess_runner(tmp_path: Path) -> None:
    stats = run(tmp_path, *DEMO_WARCS, runner=["--no_progress"])
    # near-dup: two uraharajuku.st shop pages with the same description (Jaccard 0.80).
    assert (stats["records_in"], stats["kept"], stats["dropped"]) == (132, 35, BUNDLED)
    # The funnel is a group-by on the stage each reason carries.
    assert stats["dropped_by_stage"] == {"read": 64, "simplify": 26, "filter": 6, "dedup": 1}
    assert [n for _, n in stats["funnel"]] == [132, 132 - 64, 132 - 64 - 26, 132 - 64 - 26 - 6, 35]
    assert_accounted(stats, tmp_path)
    for record in lines(tmp_path, "documents"):
        assert set(record) >= {"url", "warc_file", "warc_record_id", "fetch_date", "lang", "mhtml"}
        assert set(record) >= {"html_bytes", "text_chars", "mhtml_chars"}
        assert "_dedup" not in record and "kind" not in record
    assert (tmp_path / "report.html").read_text().count("<svg") >= 3
    assert len(list((tmp_path / "intermediate").glob("*.jsonl.gz"))) == 4


def test_every_real_and_corrupt_warc(tmp_path: Path) -> None:
    stats = run(tmp_path, WARC_DATA / "*" / "*.warc*", WARC_DATA / "*" / "*.arc*")
    assert stats["inputs"]["files"] == 42
    assert stats["records_in"] == 1313
    assert (
        stats["dropped"]["read/read-error"] == 11
    )  # truncated gzip, garbage, cut records: counted, not fatal
    assert stats["dropped"]["read/not-response"] == 780  # see test_warc.EXPECTED for each file
    assert stats["kept"] == 107
    assert_accounted(stats, tmp_path)


def test_same_warc_listed_twice_and_copied(tmp_path: Path) -> None:
    warc = WARC_DATA / "dolma-wget-warc" / "sample-0000.warc.gz"
    once = run(tmp_path / "once", warc)
    copy = tmp_path / "copy-of-sample.warc.gz"
    shutil.copy(warc, copy)
    twice = run(tmp_path / "twice", warc, warc, tmp_path / "*.warc.gz")
    assert twice["kept"] == once["kept"] > 0
    assert (
        twice["dropped"]["dedup/dup-url"] == once["kept"]
    )  # every document of the copy loses to the original
    urls = [record["url"] for record in lines(tmp_path / "twice", "documents")]
    assert len(urls) == len(set(urls))
    assert_accounted(twice, tmp_path / "twice")


def real_page() -> bytes:
    bench = PAGE_DATA / "scrapinghub-article-extraction-benchmark" / "html"
    return gzip.decompress(sorted(bench.glob("*.html.gz"))[2].read_bytes())


def test_near_duplicates_collapse(tmp_path: Path) -> None:
    page = real_page().decode("utf-8")
    words = page.split(" ")
    edited = " ".join(
        word + "s" if index % 97 == 50 else word for index, word in enumerate(words)
    )  # ~1% of words
    assert edited != page
    other = gzip.decompress(
        sorted((PAGE_DATA / "scrapinghub-article-extraction-benchmark" / "html").glob("*.html.gz"))[
            3
        ].read_bytes()
    )
    write_warc(
        str(tmp_path / "pages.warc.gz"),
        [("https://news.example/a", page.encode()), ("https://mirror.example/a-copy", edited.encode()),
         ("https://news.example/b", other)],
    )  # fmt: skip
    stats = run(tmp_path / "out", tmp_path / "pages.warc.gz")
    assert stats["kept"] == 2 and stats["dropped"] == {"dedup/near-dup": 1}
    # The rule keeps the copy with more text: the edited one (its edits add letters).
    assert {record["url"] for record in lines(tmp_path / "out", "rejected")} == {"https://news.example/a"}
    kept = {record["url"] for record in lines(tmp_path / "out", "documents")}
    assert kept == {"https://mirror.example/a-copy", "https://news.example/b"}
    off = run(tmp_path / "off", tmp_path / "pages.warc.gz", extra=("--no_near_dup",))
    assert off["kept"] == 3


def test_rerun_is_byte_identical_and_resumes(tmp_path: Path) -> None:
    inputs = DEMO_WARCS
    first = run(tmp_path, *inputs)
    snapshot = {path.name: path.read_bytes() for path in tmp_path.glob("*-of-*.jsonl.gz")}
    second = run(tmp_path, *inputs)
    assert second["inputs"]["skipped_already_done"] == 4 and first["inputs"]["skipped_already_done"] == 0
    assert {path.name: path.read_bytes() for path in tmp_path.glob("*-of-*.jsonl.gz")} == snapshot

    # A crash mid-run: one WARC's intermediate never committed (a stale .partial), shards missing.
    intermediate = sorted((tmp_path / "intermediate").glob("*.jsonl.gz"))[0]
    intermediate.rename(intermediate.with_name(intermediate.name + ".partial"))
    (tmp_path / "documents-00000-of-00001.jsonl.gz").unlink()
    third = run(tmp_path, *inputs)
    assert third["inputs"]["skipped_already_done"] == 3
    assert {path.name: path.read_bytes() for path in tmp_path.glob("*-of-*.jsonl.gz")} == snapshot


def test_shard_count_follows_the_data_and_stale_shards_go(tmp_path: Path) -> None:
    stats = run(tmp_path, *DEMO_WARCS, extra=("--docs_per_shard", "10"))
    shards = sorted(path.name for path in tmp_path.glob("documents-*.jsonl.gz"))
    assert shards == [f"documents-{i:05d}-of-00004.jsonl.gz" for i in range(4)]
    assert stats["outputs"]["documents"] == shards
    run(tmp_path, *DEMO_WARCS, extra=("--docs_per_shard", "100"))
    assert sorted(path.name for path in tmp_path.glob("documents-*.jsonl.gz")) == [
        "documents-00000-of-00001.jsonl.gz"
    ]


def test_language_filter(tmp_path: Path) -> None:
    stats = run(tmp_path, *DEMO_WARCS, extra=("--langs", "ja"))
    documents = lines(tmp_path, "documents")
    assert documents and {record["lang"] for record in documents} == {"ja"}
    assert stats["dropped"]["filter/lang"] > 0
    assert_accounted(stats, tmp_path)


def test_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="matches no file"):
        run(tmp_path, tmp_path / "nothing-*.warc.gz")


SLOWDOWN = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
HTTP = ("--http_retries", "2", "--http_backoff", "0.05")


def test_https_inputs_retry_and_a_broken_file_is_dead_lettered(tmp_path: Path, server: FaultServer) -> None:
    whirlwind = (WARC_DATA / "cc-whirlwind" / "whirlwind.warc.gz").read_bytes()
    sample = (WARC_DATA / "dolma-wget-warc" / "sample-0000.warc.gz").read_bytes()
    warcfile = (WARC_DATA / "resiliparse-fastwarc" / "warcfile.warc.gz").read_bytes()
    ok = server.add("/a/whirlwind.warc.gz", whirlwind)
    flaky = server.add(
        "/b/sample-0000.warc.gz", sample, ("status", 503, {}, b"busy"), ("status", 503, {}, SLOWDOWN)
    )
    broken = server.add("/c/warcfile.warc.gz", warcfile, *[("drop",)] * 10)  # cut mid-body, every time
    stats = run(tmp_path, ok, flaky, broken, extra=HTTP)
    assert stats["records_in"] == 4 + 48 + 1  # whirlwind + sample-0000 + one dead letter for the broken file
    assert stats["dead_lettered"] == {"read": 1}
    (letter,) = lines(tmp_path, "dead_letter")
    assert letter["warc_file"] == broken and letter["stage"] == "read"
    assert "warcfile.warc.gz" in letter["error"] and "attempt" in letter["error"]
    assert len(server.seen("/b/sample-0000.warc.gz")) == 3  # two 503s, then the file
    assert_accounted(stats, tmp_path)
    local = run(tmp_path / "local", WARC_DATA / "cc-whirlwind" / "whirlwind.warc.gz",
                WARC_DATA / "dolma-wget-warc" / "sample-0000.warc.gz")  # fmt: skip
    assert local["kept"] == stats["kept"]


def test_crawl_listing_is_read_at_run_time(tmp_path: Path, server: FaultServer) -> None:
    crawl = "CC-MAIN-2024-22"
    names = ["whirlwind.warc.gz", "sample-0000.warc.gz"]
    listing = "".join(f"crawl-data/{crawl}/segments/1/warc/{name}\n" for name in names)
    server.add(f"/crawl-data/{crawl}/warc.paths.gz", gzip.compress(listing.encode()))
    for name, folder in zip(names, ["cc-whirlwind", "dolma-wget-warc"], strict=True):
        server.add(f"/crawl-data/{crawl}/segments/1/warc/{name}", (WARC_DATA / folder / name).read_bytes())
    argv = ["--crawl", crawl, "--crawl_base_url", server.url("/"), "--max_files", "1", *HTTP]
    stats = job.run([*argv, "--output", str(tmp_path), *IN_MEMORY])
    assert stats["inputs"]["files"] == 1 and stats["records_in"] == 4
    assert {record["warc_file"] for record in lines(tmp_path, "documents")} == {
        server.url(f"/crawl-data/{crawl}/segments/1/warc/whirlwind.warc.gz")
    }


def test_a_page_that_times_out_costs_only_that_page(tmp_path: Path) -> None:
    write_warc(
        str(tmp_path / "two.warc.gz"),
        [("https://a.example/", real_page()), ("https://b.example/", real_page())],
    )
    stats = run(tmp_path / "out", tmp_path / "two.warc.gz", extra=("--record_timeout", "0.000001"))
    assert stats["records_in"] == 2 and stats["dead_lettered"] == {"simplify": 2}
    letters = lines(tmp_path / "out", "dead_letter")
    assert {letter["url"] for letter in letters} == {"https://a.example/", "https://b.example/"}
    assert all("timed out" in letter["error"] and letter["warc_record_id"] for letter in letters)
    assert_accounted(stats, tmp_path / "out")


def test_a_warc_past_its_timeout_is_dead_lettered_by_beam(tmp_path: Path) -> None:
    warc = WARC_DATA / "dolma-wget-warc" / "sample-0000.warc.gz"
    stats = run(tmp_path, warc, extra=("--warc_timeout", "0.001", "--record_timeout", "0"))
    assert stats["records_in"] == 1 and stats["dead_lettered"] == {"extract": 1}
    (letter,) = lines(tmp_path, "dead_letter")
    assert letter["warc_file"] == str(warc) and "Timeout" in letter["error"]
    assert_accounted(stats, tmp_path)


def test_help_lists_the_jobs_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        job.run(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--input", "--crawl", "--langs", "--record_timeout", "--runner", "--project"):
        assert flag in text
    from htlm.pipeline.tokenizer.cli import main as tokenizer_main

    assert tokenizer_main(["binarize", "--help"]) == 0
    assert "--spm_model" in capsys.readouterr().out
