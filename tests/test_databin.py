"""fairseq data-bin writing on real MHTML: read back with fairseq's loader, splits, length stats."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from fairseq.data import Dictionary, data_utils, indexed_dataset
from htlm.pipeline.report import histogram, merge_histograms
from htlm.pipeline.tokenizer.databin import (
    LENGTH_EDGES,
    split_of,
    token_stats,
    token_stats_from_counts,
    write_split,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_tokenizer import Corpus, shared_corpus


@pytest.fixture(scope="module")
def corpus(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return shared_corpus(pytestconfig, tmp_path_factory)


@pytest.fixture(scope="module")
def encoded(corpus: Corpus) -> list[list[int]]:
    return corpus.tokenizer.encode_batch([mhtml for _, mhtml in corpus.pages])


def page_url(name: str) -> str:
    return f"https://example.org/pages/{name}"


def test_write_and_read_back_with_fairseq(corpus: Corpus, encoded: list[list[int]], tmp_path: Path) -> None:
    tok = corpus.tokenizer
    shutil.copy(corpus.prefix.parent / "dict.txt", tmp_path / "dict.txt")
    dictionary = Dictionary.load(str(tmp_path / "dict.txt"))
    splits: dict[str, list[int]] = {"train": [], "valid": []}
    for index, (name, _) in enumerate(corpus.pages):
        splits[split_of(page_url(name), 0.2)].append(index)
    assert splits["train"] and splits["valid"]

    for split, indices in splits.items():
        documents, tokens = write_split(tmp_path / split, (encoded[i] for i in indices), len(dictionary))
        assert documents == len(indices)
        assert tokens == sum(len(encoded[i]) + 1 for i in indices)
        assert (tmp_path / f"{split}.bin").stat().st_size == 2 * tokens  # uint16 on disk
        assert not list(tmp_path.glob("*.tmp.*"))

        dataset = data_utils.load_indexed_dataset(str(tmp_path / split), dictionary, dataset_impl=None)
        assert isinstance(dataset, indexed_dataset.MMapIndexedDataset)  # format inferred from the header
        assert dataset._index.dtype == np.uint16
        assert len(dataset) == documents
        assert list(dataset.sizes) == [len(encoded[i]) + 1 for i in indices]
        for position, i in enumerate(indices):
            item = dataset[position]
            assert item[-1].item() == dictionary.eos() == tok.eos_id
            assert item[:-1].tolist() == encoded[i]
            assert tok.decode(item[:-1].tolist()) == corpus.pages[i][1]


@pytest.mark.parametrize("vocab_size", [100, 70_001])
def test_byte_identical_to_fairseqs_builder(encoded: list[list[int]], tmp_path: Path, vocab_size: int):
    """Our numpy writer and fairseq's MMapIndexedDatasetBuilder write the same bytes (uint16 and uint32)."""
    import torch

    documents = [[5 + i % 90 for i in doc[:500]] for doc in encoded[:40]] + [[99, 7]]
    write_split(tmp_path / "ours", documents, vocab_size)
    builder = indexed_dataset.make_builder(str(tmp_path / "theirs.bin"), impl="mmap", vocab_size=vocab_size)
    for document in documents:
        builder.add_item(torch.tensor([*document, 2]))
    builder.finalize(str(tmp_path / "theirs.idx"))
    for suffix in (".bin", ".idx"):
        assert (tmp_path / f"ours{suffix}").read_bytes() == (tmp_path / f"theirs{suffix}").read_bytes()


def test_write_split_edge_cases(tmp_path: Path) -> None:
    assert write_split(tmp_path / "a", [[5, 6], [], np.array([7]), (8, 9, 10)], 100) == (3, 9)
    dataset = indexed_dataset.MMapIndexedDataset(str(tmp_path / "a"))
    assert [dataset[i].tolist() for i in range(len(dataset))] == [[5, 6, 2], [7, 2], [8, 9, 10, 2]]

    assert write_split(tmp_path / "wide", [[70_000]], 70_001) == (1, 2)  # large vocabularies: uint32
    assert indexed_dataset.MMapIndexedDataset(str(tmp_path / "wide"))._index.dtype == np.uint32

    for bad in ([[5, 100]], [[5, -1]], [[5, 2, 6]], [[1]], [[0, 5]], [[[5, 6]]]):
        with pytest.raises(ValueError):
            write_split(tmp_path / "bad", [[5, 6], *bad], 100)
        assert not list(tmp_path.glob("bad*")), bad  # nothing half-written is left behind


def test_split_of_is_stable_and_disjoint_by_url() -> None:
    # fixed values: a change here re-splits every data-bin ever written
    assert split_of("https://example.com/", 0.5) == "train"
    assert split_of("https://en.wikipedia.org/wiki/HTML", 0.5) == "train"
    assert split_of("https://www.bbc.co.uk/news", 0.5) == "valid"
    assert split_of("https://de.wikipedia.org/wiki/Hypertext", 0.5) == "valid"
    # spellings that dedup treats as one URL land in one split
    for spelling in (
        "http://bbc.co.uk/news",
        "https://WWW.BBC.co.uk/news/",
        "https://bbc.co.uk/news?utm_source=x#top",
    ):
        assert split_of(spelling, 0.5) == "valid"

    urls = [f"https://site{i % 97}.example/{i}/page" for i in range(10_000)]
    valid = {u for u in urls if split_of(u, 0.1) == "valid"}
    assert abs(len(valid) / len(urls) - 0.1) < 0.012  # 4 standard deviations of a binomial
    assert {u for u in urls if split_of(u, 0.05) == "valid"} <= valid  # a larger fraction only adds
    assert all(split_of(u, 0.0) == "train" and split_of(u, 1.0) == "valid" for u in urls[:100])
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            split_of("https://example.com/", bad)


def test_token_stats() -> None:
    stats = token_stats([10, 20, 1000, 1024, 1025, 5000, 2_000_000])
    assert stats["documents"] == 7 and stats["tokens"] == 2_008_079
    assert stats["median"] == 1024 and stats["max"] == 2_000_000
    assert stats["share_within_window"] == round(4 / 7, 4)
    assert stats["histogram"]["edges"] == LENGTH_EDGES and sum(stats["histogram"]["counts"]) == 7
    assert stats["histogram"]["counts"][-1] == 1  # above 10^6: the overflow bin
    merged = merge_histograms(stats["histogram"], token_stats([10])["histogram"])
    assert sum(merged["counts"]) == 8
    empty = token_stats([])
    assert empty["documents"] == 0 and empty["mean"] is None and sum(empty["histogram"]["counts"]) == 0
    with pytest.raises(ValueError):
        token_stats([5, -1])


@settings(max_examples=200, deadline=None)
@given(lengths=st.lists(st.integers(0, 3000) | st.integers(0, 2_000_000), min_size=1, max_size=60))
def test_token_stats_agree_with_numpy(lengths: list[int]) -> None:
    stats = token_stats(lengths)
    assert stats == token_stats_from_counts(Counter(lengths))  # the combiner's entry point
    assert stats["tokens"] == sum(lengths) and stats["max"] == max(lengths)
    for key, q in (("median", 50), ("p90", 90), ("p99", 99)):
        assert stats[key] == round(float(np.percentile(lengths, q)), 2), key
    assert stats["mean"] == round(float(np.mean(lengths)), 2)
    assert stats["share_within_window"] == round(sum(n <= 1024 for n in lengths) / len(lengths), 4)
    assert stats["histogram"] == histogram(lengths, LENGTH_EDGES)  # the report's binning


def test_real_page_lengths(encoded: list[list[int]], figures: list[str]) -> None:
    stats = token_stats(len(ids) for ids in encoded)
    assert stats["documents"] == len(encoded) and 0 < stats["share_within_window"] < 1
    figures.append(
        f"tokenizer (test model: BPE, vocab 4,000 vs 32,000 in production, so longer): "
        f"{stats['documents']} real MHTML pages, {stats['mean']:.0f} tokens/page mean, "
        f"median {stats['median']:.0f}, p90 {stats['p90']:.0f}; "
        f"{stats['share_within_window']:.1%} fit in 1024 tokens (HTLM: ~85% with GPT-2 BPE on CC pages)"
    )
