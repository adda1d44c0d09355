"""fairseq data-bin writing: token ids -> `MMapIndexedDataset` files, train/valid split, length stats.

A data-bin folder holds `dict.txt` (from `htlm.pipeline.tokenizer`) and, per split,
`train.bin`/`train.idx` and `valid.bin`/`valid.idx` in fairseq's "mmap" indexed-dataset
format, which `fairseq-train --dataset-impl mmap` (the default) reads; several shard folders
are read as `data-bin/shard0:data-bin/shard1:...`.

fairseq's own `MMapIndexedDatasetBuilder` writes the files (it works under numpy 2; what
breaks there is `np.compat` in `TokenBlockDataset` at read time, see FAIRSEQ_NOTES.md). The
format, for reference: `.bin` is the documents' ids back to back in the index's dtype
(uint16 below 65,500 symbols); `.idx` is `MMIDIDX\\x00\\x00`, version 1 (uint64), a dtype code
(uint8, 8 = uint16), the number of documents (uint64), then the sizes (int32) and the byte
offsets (int64) of the documents.

Pure apart from fairseq's writer: numpy, torch (the writer takes tensors) and the standard library.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from htlm.pipeline.dedup import normalize_url
from htlm.pipeline.report import log_edges

BOS_ID, PAD_ID, EOS_ID, UNK_ID = range(4)  # fairseq Dictionary's built-in specials
WINDOW = 1024  # BART/HTLM sequence length: the share of documents that fit is reported
LENGTH_EDGES = log_edges(10, 1_000_000, per_decade=4)  # fixed, so histograms of runs merge


def import_indexed_dataset() -> Any:
    """fairseq's `indexed_dataset` module, imported without fairseq's side effect on logging.

    Importing any part of fairseq imports all its tasks, and `tasks/text_to_speech.py` calls
    `logging.basicConfig(level=DEBUG)`, which would flood every later log call with DEBUG
    lines (Beam's included). The root logger's level and handlers are put back afterwards.
    """
    import logging

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        from fairseq.data import indexed_dataset
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
    return indexed_dataset


def write_split(
    prefix: str | os.PathLike[str], documents: Iterable[Sequence[int]], vocab_size: int
) -> tuple[int, int]:
    """Write documents of fairseq ids as `prefix.bin`/`prefix.idx`; return (documents, tokens).

    Each document gets the eos id (2) appended, as `fairseq-preprocess` does
    (`append_eos=True`), so documents stay apart in the stream. Documents longer than the model
    window are kept whole: fairseq's `TokenBlockDataset` cuts them into blocks at train time.
    Empty documents are skipped. `vocab_size` is the fairseq dictionary size: ids must lie in
    [0, vocab_size) and it picks the on-disk dtype (uint16 below 65,500). Ids of `<s>`, `<pad>`
    or `</s>` inside a document raise ValueError (an encoder never emits them; one would break
    document boundaries). `tokens` counts what is written, eos included. The files appear
    under their names only when complete (written under a temporary prefix, then renamed).
    """
    import torch  # fairseq's writer, imported here: it takes seconds and only writers need it

    indexed_dataset = import_indexed_dataset()
    prefix = os.fspath(prefix)
    if vocab_size <= EOS_ID:
        raise ValueError(f"vocab_size must exceed the specials, got {vocab_size}")
    temporary = prefix + ".tmp"
    builder = indexed_dataset.make_builder(
        indexed_dataset.data_file_path(temporary), impl="mmap", vocab_size=vocab_size
    )
    count = tokens = 0
    try:
        for document in documents:
            ids = np.asarray(document, dtype=np.int64)
            if ids.size == 0:
                continue
            if ids.ndim != 1 or ids.min() < 0 or ids.max() >= vocab_size:
                raise ValueError(f"document {count}: ids must be a flat sequence in [0, {vocab_size})")
            if np.isin(ids, (BOS_ID, PAD_ID, EOS_ID)).any():
                raise ValueError(f"document {count}: contains a <s>, <pad> or </s> id")
            builder.add_item(torch.from_numpy(np.append(ids, EOS_ID)))
            count += 1
            tokens += ids.size + 1
        builder.finalize(indexed_dataset.index_file_path(temporary))
    except BaseException:
        getattr(builder, "_data_file", None) and builder._data_file.close()  # no close() in the builder
        for path in (indexed_dataset.data_file_path(temporary), indexed_dataset.index_file_path(temporary)):
            if os.path.exists(path):
                os.remove(path)
        raise
    os.replace(indexed_dataset.data_file_path(temporary), indexed_dataset.data_file_path(prefix))
    os.replace(indexed_dataset.index_file_path(temporary), indexed_dataset.index_file_path(prefix))
    return count, tokens


def split_of(url: str, valid_fraction: float) -> Literal["train", "valid"]:
    """ "valid" for about `valid_fraction` of URLs, else "train": stable everywhere, disjoint by URL.

    Why: the split must not change between runs, shards or machines, and one page must never
    be in both splits. The key is the dedup stage's `normalize_url` (so spellings of one URL
    that dedup merges also land in one split), hashed with blake2b (no salted `hash()`), read
    as a fraction of 2**64 and compared with `valid_fraction`.
    """
    if not 0.0 <= valid_fraction <= 1.0:
        raise ValueError(f"valid_fraction must be in [0, 1], got {valid_fraction!r}")
    key = normalize_url(url).encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(key, digest_size=8, person=b"htlm-split").digest()
    return "valid" if int.from_bytes(digest, "big") < valid_fraction * 2.0**64 else "train"


def token_stats(lengths: Iterable[int], window: int = WINDOW) -> dict[str, Any]:
    """Tokens per document: count, total, mean/median/p90/p99/max, a histogram, the share that fits.

    Why: the window share says how much of each page the model sees (HTLM reports ~85% of MHTML
    documents within 1024 GPT-2 BPE tokens). Pass lengths without the eos. The histogram uses
    fixed log-spaced edges (`LENGTH_EDGES`, 10 .. 10^6 tokens, 4 bins per decade, overflow last)
    in the report's format, so stats of shards merge with `report.merge_histograms`. Statistics
    of an empty input are None. Same result as `token_stats_from_counts` of the length counts.
    """
    return token_stats_from_counts(Counter(int(n) for n in lengths), window)


def token_stats_from_counts(counts: Mapping[int, int], window: int = WINDOW) -> dict[str, Any]:
    """`token_stats` from {length: number of documents}: exact, and what a Beam combiner can merge.

    Why: a job over millions of documents counts lengths (a few thousand distinct values)
    instead of collecting them; percentiles interpolate linearly between order statistics, as
    numpy's default does, so both entry points agree.
    """
    items = sorted((int(length), int(n)) for length, n in counts.items() if n)
    if any(length < 0 or n < 0 for length, n in items):
        raise ValueError("lengths and counts must be non-negative")
    values = np.array([length for length, _ in items], dtype=np.int64)
    weights = np.array([n for _, n in items], dtype=np.int64)
    documents = int(weights.sum())
    empty = documents == 0
    cumulative = np.cumsum(weights)

    def percentile(q: float) -> float:
        position = (documents - 1) * q / 100
        low = math.floor(position)
        below = values[np.searchsorted(cumulative, low, side="right")]
        above = values[np.searchsorted(cumulative, min(low + 1, documents - 1), side="right")]
        return round(float(below + (position - low) * (above - below)), 2)

    tokens = int((values * weights).sum())
    edges = LENGTH_EDGES
    bins = [0] * len(edges)
    for length, n in items:
        bins[max(bisect.bisect_right(edges, length) - 1, 0)] += n
    return {
        "documents": documents,
        "tokens": tokens,
        "mean": None if empty else round(tokens / documents, 2),
        "median": None if empty else percentile(50),
        "p90": None if empty else percentile(90),
        "p99": None if empty else percentile(99),
        "max": None if empty else int(values[-1]),
        "window": window,
        "share_within_window": None if empty else round(int(weights[values <= window].sum()) / documents, 4),
        "histogram": {"edges": list(edges), "counts": bins},
    }
