"""`htlm-tokenizer train` + `binarize` end to end: fairseq reads the shards and they decode back exactly."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from htlm.pipeline.simplify import MHTML, SimplifyConfig, simplify
from htlm.pipeline.tokenizer import Tokenizer
from htlm.pipeline.tokenizer.cli import main

from tests.conftest import PAGE_DATA


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """A documents shard made of real pages (many scripts), as htlm-pipeline writes them."""
    folder = tmp_path_factory.mktemp("docs")
    pages = sorted((PAGE_DATA / "scrapinghub-article-extraction-benchmark" / "html").glob("*.html.gz"))[:80]
    records = []
    for index, path in enumerate(pages):
        result = simplify(
            gzip.decompress(path.read_bytes()).decode("utf-8"), SimplifyConfig(min_text_ratio=0.0)
        )
        if isinstance(result, MHTML):
            url = f"https://site{index % 7}.example/{path.name.split('.')[0][:12]}"
            records.append({"url": url, "warc_file": "test.warc.gz", "warc_record_id": f"<urn:uuid:{index}>",
                            "mhtml": result.html, "lang": result.lang})  # fmt: skip
    with gzip.open(folder / "documents-00000-of-00001.jsonl.gz", "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    return folder, records


@pytest.fixture(scope="module")
def trained(corpus: tuple[Path, list[dict]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder, _ = corpus
    prefix = tmp_path_factory.mktemp("tok") / "spm"
    pattern = str(folder / "documents-*.jsonl.gz")
    assert main(["train", "--input", pattern, "--model-prefix", str(prefix), "--vocab-size", "3000"]) == 0
    return prefix.with_suffix(".model")


def binarize(corpus: Path, model: Path, destdir: Path, *extra: str) -> dict:
    argv = ["binarize", "--input", str(corpus / "documents-*.jsonl.gz"), "--spm-model", str(model)]
    argv += ["--destdir", str(destdir), "--direct_running_mode=in_memory", *extra]
    assert main(argv) == 0
    return json.loads((destdir / "stats.json").read_text())


def test_train_writes_model_dictionary_and_card(trained: Path) -> None:
    card = json.loads(trained.with_suffix(".card.json").read_text())
    assert card["vocab_size"] == 3000 and (trained.parent / "dict.txt").is_file()
    assert Tokenizer(trained).mask_token_ids(12)[0] == Tokenizer(trained).mask_id


def test_binarized_shards_load_in_fairseq_and_decode_exactly(
    corpus: tuple[Path, list[dict]], trained: Path, tmp_path: Path
) -> None:
    from fairseq.data import Dictionary, data_utils

    folder, records = corpus
    stats = binarize(
        folder, trained, tmp_path / "data-bin", "--valid-fraction", "0.2", "--train-docs-per-shard", "30"
    )
    tokenizer = Tokenizer(trained)
    assert (tmp_path / "data-bin" / "spm.model").read_bytes() == Path(trained).read_bytes()
    dictionary = Dictionary.load(str(tmp_path / "data-bin" / "shard0" / "dict.txt"))
    assert len(dictionary) == tokenizer.vocab_size
    expected = {record["mhtml"]: tokenizer.encode(record["mhtml"]) for record in records}
    seen = []
    shards = sorted((tmp_path / "data-bin").glob("shard*"))
    assert len(shards) == -(-stats["splits"]["train"]["documents"] // 30) >= 2  # ceil
    for shard in shards:
        for split in ("train", "valid"):
            if not (shard / f"{split}.idx").exists():
                continue
            dataset = data_utils.load_indexed_dataset(str(shard / split), dictionary, dataset_impl="mmap")
            for index in range(len(dataset)):
                ids = dataset[index].tolist()
                assert ids[-1] == dictionary.eos()
                text = tokenizer.decode(ids[:-1])
                assert expected[text] == ids[:-1]  # round trip, and the token count is the encoder's
                seen.append((split, text))
    assert sorted(text for _, text in seen) == sorted(expected)
    assert stats["tokens_per_document"]["documents"] == len(records)
    assert stats["tokens_per_document"]["tokens"] == sum(map(len, expected.values()))
    assert stats["splits"]["valid"]["documents"] == sum(1 for split, _ in seen if split == "valid") > 0


def test_split_is_stable_and_disjoint_by_url(
    corpus: tuple[Path, list[dict]], trained: Path, tmp_path: Path
) -> None:
    folder, records = corpus
    first = binarize(folder, trained, tmp_path / "a", "--valid-fraction", "0.3")
    second = binarize(folder, trained, tmp_path / "b", "--valid-fraction", "0.3")
    for name in ("train.bin", "train.idx", "valid.bin", "valid.idx"):
        assert (tmp_path / "a" / "shard0" / name).read_bytes() == (
            tmp_path / "b" / "shard0" / name
        ).read_bytes()
    assert first["splits"] == second["splits"]
    from htlm.pipeline.tokenizer.databin import split_of

    by_url: dict[str, set[str]] = {}
    for record in records:
        by_url.setdefault(record["url"], set()).add(split_of(record["url"], 0.3))
    assert all(len(splits) == 1 for splits in by_url.values())
