"""`htlm-simplify` end to end on the bundled real WARCs and on HTML files."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import lxml.etree as etree
import pytest
from htlm.pipeline.simplify.cli import main

from tests.conftest import DEMO_WARCS, WARC_DATA

WARCS = sorted(DEMO_WARCS)
RECORD_FIELDS = {
    "url", "warc_file", "warc_record_id", "fetch_date", "lang", "title", "mhtml",
    "html_bytes", "text_chars", "mhtml_chars",
}  # fmt: skip
LONG = "A paragraph long enough to pass the paper's bar of one hundred and twenty-eight characters, " * 3


def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[dict], list[dict]]:
    out = tmp_path_factory.mktemp("demo")
    argv = [*map(str, WARCS), "-o", str(out / "docs.jsonl.gz"), "--rejected", str(out / "rejected.jsonl.gz")]
    assert main([*argv, "--stats", str(out / "stats.json"), "-q"]) == 0
    stats = json.loads((out / "stats.json").read_text())
    return out, stats, read_jsonl(out / "docs.jsonl.gz"), read_jsonl(out / "rejected.jsonl.gz")


def test_bundled_warcs_are_real_and_licensed() -> None:
    assert len(WARCS) == 4
    for warc in WARCS:
        assert (warc.parent / "LICENSE").is_file()


def test_every_record_accounted(demo_run: tuple[Path, dict, list[dict], list[dict]]) -> None:
    _, stats, documents, rejected = demo_run
    # 50 + 30 (resiliparse) + 4 (whirlwind) + 48 (dolma) records in the four files.
    assert stats["records_in"] == 132
    assert stats["records_in"] == stats["kept"] + sum(stats["dropped"].values())
    assert stats["kept"] == len(documents) and sum(stats["dropped"].values()) == len(rejected)
    assert stats["dropped"]["read/not-response"] == 64  # warcinfo/request/metadata/resource records
    assert 0.5 < stats["bytes_removed"] < 1


def test_document_records_follow_the_contract(demo_run: tuple[Path, dict, list[dict], list[dict]]) -> None:
    _, _, documents, rejected = demo_run
    assert documents
    for record in documents:
        assert set(record) == RECORD_FIELDS
        assert record["warc_record_id"].startswith("<urn:") and record["url"].startswith("http")
        assert (
            record["mhtml_chars"] == len(record["mhtml"])
            and record["text_chars"] / record["mhtml_chars"] > 0.46
        )
        root = etree.fromstring(record["mhtml"], etree.HTMLParser())
        assert etree.tostring(root, encoding="unicode", method="html") == record["mhtml"]
    assert {record["reason"] for record in rejected} <= {
        "read/not-response", "read/not-html", "read/http-status", "read/decode-error",
        "simplify/empty-after-simplify", "simplify/low-text-ratio", "filter/too-short",
    }  # the job's filters too: the same per-record path  # fmt: skip
    assert any("wikipedia.org" in record["url"] for record in documents)  # the whirlwind capture


def test_rerun_is_byte_identical(tmp_path: Path, demo_run: tuple[Path, dict, list[dict], list[dict]]) -> None:
    out, *_ = demo_run
    assert main([*map(str, WARCS), "-o", str(tmp_path / "again.jsonl"), "-q"]) == 0
    first = [json.dumps(record) for record in read_jsonl(out / "docs.jsonl.gz")]
    assert first == [json.dumps(record) for record in read_jsonl(tmp_path / "again.jsonl")]


def test_japanese_pages_decode(demo_run: tuple[Path, dict, list[dict], list[dict]]) -> None:
    _, _, documents, _ = demo_run
    japanese = [record for record in documents if record["warc_file"].endswith("clueweb-quirk.warc.gz")]
    assert japanese and all("\ufffd" not in record["mhtml"] for record in japanese)
    assert any("の" in record["mhtml"] for record in japanese)


def test_one_html_page_prints_mhtml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.html.gz"
    page.write_bytes(gzip.compress(f"<html lang='en'><title>T</title><p>{LONG}</p><nav>menu</nav>".encode()))
    assert main([str(page)]) == 0
    assert (
        capsys.readouterr().out.strip()
        == f'<html lang="en"><head><title>T</title></head><body><p>{LONG.strip()}</p></body></html>'
    )


def test_rejected_page_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "short.html"
    page.write_text("<p>too short</p>")
    assert main([str(page)]) == 1
    assert "simplify/empty-after-simplify" in capsys.readouterr().err


def test_missing_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.warc.gz")]) == 2
    assert "not a file" in capsys.readouterr().err


def test_corrupt_warc_is_counted_not_fatal(tmp_path: Path) -> None:
    clipped = WARC_DATA / "resiliparse-fastwarc" / "clipped.warc.gz"
    assert (
        main([str(clipped), "-o", str(tmp_path / "d.jsonl"), "--stats", str(tmp_path / "s.json"), "-q"]) == 0
    )
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats == stats | {"records_in": 1, "kept": 0, "dropped": {"read/read-error": 1}}


def test_console_script_summary(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "htlm.pipeline.simplify.cli", *map(str, WARCS)]
    result = subprocess.run(
        [*command, "-o", str(tmp_path / "d.jsonl.gz")], capture_output=True, text=True, check=True
    )
    assert "132 records" in result.stderr and "kept" in result.stderr and "read/not-response" in result.stderr
    assert f"documents -> {tmp_path / 'd.jsonl.gz'}" in result.stderr
    assert not (tmp_path / "d.jsonl.gz.partial").exists()


def test_langs_flag(tmp_path: Path) -> None:
    argv = [
        *map(str, WARCS),
        "-o",
        str(tmp_path / "en.jsonl"),
        "--langs",
        "en",
        "--stats",
        str(tmp_path / "s.json"),
    ]
    assert main([*argv, "-q"]) == 0
    assert {record["lang"].split("-")[0] for record in read_jsonl(tmp_path / "en.jsonl")} == {"en"}
    assert json.loads((tmp_path / "s.json").read_text())["dropped"]["filter/lang"] > 0


def test_language_is_decided_as_the_job_decides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A German page declaring lang="en": the language-ID model decides, in htlm-simplify as in the job."""
    german = (
        "Die Stadtverwaltung hat am Dienstag den neuen Haushalt vorgestellt, der vier Prozent mehr Geld " * 3
    )
    page = tmp_path / "page.html"
    page.write_text(f"<html lang='en'><title>T</title><p>{german}</p></html>")
    assert main([str(page), "--langs", "en"]) == 1
    assert "filter/lang" in capsys.readouterr().err
    assert main([str(page), "--langs", "de"]) == 0


def test_html_inputs_have_the_readers_limits(tmp_path: Path) -> None:
    """A gzip bomb of an HTML file is read up to the record limit, then counted as read/too-large."""
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"<html><body>" + b" " * (12 << 20)))
    cut = tmp_path / "cut.html.gz"
    cut.write_bytes(gzip.compress(f"<p>{LONG}</p>".encode())[:-12])
    stats = tmp_path / "s.json"
    assert main([str(bomb), str(cut), "-o", str(tmp_path / "d.jsonl"), "--stats", str(stats), "-q"]) == 0
    assert json.loads(stats.read_text())["dropped"] == {"read/too-large": 1, "read/read-error": 1}
