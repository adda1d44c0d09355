"""Hostile inputs, round 3 (issue 21): one test per class, each checking the mechanism, not the clock."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.warcs import http_block, response_record


class _CountingList(list):
    """A list that counts the items read out of it (iteration and indexing)."""

    reads = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        for item in super().__iter__():
            _CountingList.reads += 1
            yield item

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        found = super().__getitem__(index)
        _CountingList.reads += len(found) if isinstance(index, slice) else 1
        return found


def test_reading_an_uncompressed_warc_is_linear_in_its_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """The overstated-length check looked at every WARC line offset seen so far for each record:
    N records cost N^2 offset reads (100k records took 247 s). Four times the records must cost
    about four times the reads, not sixteen."""
    from htlm.pipeline.reading import Page, framing, read_pages

    original = framing.StrictReader.__init__

    def counting_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        self.warc_line_offsets = _CountingList(self.warc_line_offsets)

    monkeypatch.setattr(framing.StrictReader, "__init__", counting_init)
    record = response_record("http://a.example/", http_block(b"<p>hi</p>"), gzip=False)
    reads = {}
    for n in (500, 2000):
        _CountingList.reads = 0
        entries = list(read_pages(io.BytesIO(record * n), "many.warc"))
        assert len(entries) == n and all(isinstance(entry, Page) for entry in entries)
        reads[n] = _CountingList.reads
    assert reads[2000] <= 5 * max(reads[500], 1), reads


def test_a_listing_line_is_read_bounded_and_a_long_one_is_named() -> None:
    """A `warc.paths.gz` holding one 20 MB line: an error naming the file and the line, reached
    without ever holding the line (a 2 GiB one gave MemoryError)."""
    import gzip
    import tracemalloc

    from htlm.pipeline.reading.crawl import MAX_LISTING_LINE_BYTES, read_warc_paths

    good = "crawl-data/CC-MAIN-2024-22/segments/1/warc/a.warc.gz"
    long_line = "crawl-data/" + "x" * 20_000_000 + ".warc.gz"
    listing = io.BytesIO(gzip.compress(f"{good}\n{long_line}\n{good}\n".encode(), compresslevel=1))
    listing.name = "warc.paths.gz"
    del long_line
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"line 2 of warc\.paths\.gz is longer than .*bytes"):
            read_warc_paths(listing, "https://data.commoncrawl.org/")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_LISTING_LINE_BYTES + 1_000_000, peak


SHORT_LATIN_1_PAGES = [
    "<p>naïve façade señor</p>",
    "<p>déjà vu</p>",
    "<p>Kürbis</p>",
    "<p>Håkon</p>",
    "São Tomé",
    "<html><head><title>naïve</title></head><body><p>naïve</p></body></html>",
    "<!DOCTYPE html><html><body><h1>Hello</h1><p>Mañana and more English words here.</p></body></html>",
    '<html><head><meta charset="x-foo"></head><body>Grüße aus Köln</body></html>',
]


def test_short_latin_1_pages_undeclared_or_mislabelled_read_as_windows_1252() -> None:
    """Detection has too little to go on in a few accented bytes and picked rare code pages
    (Urdu cp1006, Baltic cp775, hp-roman8, EBCDIC, ...): windows-1252 reads them right."""
    from htlm.pipeline.reading.charset import decode_html

    wrong = []
    for page in SHORT_LATIN_1_PAGES:
        for content_type in (None, "text/html; charset=x-unknown-label"):
            text, codec, _ = decode_html(page.encode("latin-1"), content_type)
            if (text, codec) != (page, "cp1252"):
                wrong.append((page, content_type, codec, text))
    assert wrong == []


def test_a_100k_deep_nest_of_divs_is_too_deep_not_empty() -> None:
    """libxml2 stops parsing at depth 256 and the text below is lost: that is the page being too
    deep (`simplify/too-deep`), not a page with no text (`simplify/empty-after-simplify`)."""
    from htlm.pipeline import reasons
    from htlm.pipeline.simplify import simplify

    text = "<p>" + "The committee met on Tuesday to discuss the annual budget after a long debate. " * 5
    html = "<html><body>" + "<div>" * 100_000 + text + "</p>" + "</div>" * 100_000 + "</body></html>"
    result = simplify(html)
    assert getattr(result, "reason", None) == reasons.TOO_DEEP, result


def test_links_a_recursive_glob_cannot_follow_are_counted_and_named(tmp_path: Path) -> None:
    """`in/**/*.warc.gz` over a dangling link and a link loop: Beam's listing dropped both without
    a word. Each is an input that could not be read: a dead letter naming why, in the counts."""
    import gzip
    import json
    import os

    from htlm.pipeline.beam import job

    from tests.conftest import WARC_DATA

    folder = tmp_path / "in" / "sub"
    folder.mkdir(parents=True)
    (folder / "a.warc.gz").write_bytes((WARC_DATA / "cc-whirlwind" / "whirlwind.warc.gz").read_bytes())
    os.symlink(tmp_path / "gone.warc.gz", folder / "dangling.warc.gz")
    os.symlink("loop2.warc.gz", folder / "loop1.warc.gz")
    os.symlink("loop1.warc.gz", folder / "loop2.warc.gz")
    out = tmp_path / "out"
    argv = ["--input", str(tmp_path / "in" / "**" / "*.warc.gz"), "--output", str(out)]
    stats = job.run([*argv, "--direct_running_mode=in_memory", "--no_progress"])
    assert stats["inputs"]["files"] == 4 and stats["dead_lettered"] == {"read": 3}
    assert stats["invariant"]["holds"]
    (shard,) = out.glob("dead_letter-*.jsonl.gz")
    with gzip.open(shard, "rt") as lines:
        errors = sorted(json.loads(line)["error"] for line in lines)
    assert ["dangling-link" in errors[0], "link-loop" in errors[1], "link-loop" in errors[2]] == [True] * 3


def test_binarize_refuses_a_non_empty_destdir_unless_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stale `shard7/` left in the destdir would be read by `fairseq-train data-bin/shard0:...:shard7`:
    a non-empty destdir is refused in one line naming --overwrite, which clears exactly that folder."""
    import gzip
    import json

    from htlm.pipeline.tokenizer import TokenizerSettings, train_tokenizer
    from htlm.pipeline.tokenizer.cli import main

    text = "<p>" + " ".join(f"word{i % 97} token{i % 13}" for i in range(3000)) + "</p>"
    train_tokenizer([text] * 3, tmp_path / "tok" / "spm", TokenizerSettings(vocab_size=340, num_threads=1))
    shard = tmp_path / "documents-00000-of-00001.jsonl.gz"
    with gzip.open(shard, "wt", encoding="utf-8") as out:
        out.write(
            json.dumps({"url": "https://e.example/", "warc_file": "w", "warc_record_id": "1", "mhtml": text})
        )
    destdir, sibling = tmp_path / "db", tmp_path / "db-other"
    (destdir / "shard7").mkdir(parents=True)
    (destdir / "shard7" / "train.bin").write_bytes(b"stale")
    sibling.mkdir()
    argv = ["binarize", "--input", str(shard), "--spm-model", str(tmp_path / "tok" / "spm.model")]
    argv += ["--destdir", str(destdir), "--direct_running_mode=in_memory"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and "--overwrite" in err and str(destdir) in err
    assert (destdir / "shard7" / "train.bin").exists()
    assert main([*argv, "--overwrite"]) == 0
    assert not (destdir / "shard7").exists() and (destdir / "shard0" / "train.bin").exists()
    assert sibling.exists()
