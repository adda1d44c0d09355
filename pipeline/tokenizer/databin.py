"""fairseq data-bin writing: token ids -> `MMapIndexedDataset` files, train/valid split, length stats.

A data-bin folder holds `dict.txt` (from `htlm.pipeline.tokenizer`) and, per split,
`train.bin`/`train.idx` and `valid.bin`/`valid.idx` in fairseq's "mmap" indexed-dataset
format, which `fairseq-train --dataset-impl mmap` (the default) reads; several shard folders
are read as `data-bin/shard0:data-bin/shard1:...`.

The files are written here, with numpy, in the format fairseq's `MMapIndexedDatasetBuilder`
writes (byte for byte, a test checks it, and reads every shard back with fairseq's reader),
so binarize needs no fairseq or torch on the machines it runs on (Beam workers included):
`.bin` is the documents' ids back to back in the index's dtype (uint16 below 65,500 symbols,
uint32 below 2**32, as fairseq's `best_fitting_int_dtype` picks); `.idx` is `MMIDIDX\\x00\\x00`,
version 1 (uint64), a dtype code (uint8: 8 = uint16, 9 = uint32, 5 = int64), the number of
documents (uint64), then the sizes (int32) and the byte offsets (int64) of the documents.

Pure: numpy and the standard library.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import os
import struct
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from htlm.pipeline.dedup import normalize_url
from htlm.pipeline.report import log_edges
from htlm.pipeline.tokenizer.specials import BOS_ID, EOS_ID, PAD_ID

WINDOW = 1024  # BART/HTLM sequence length: the share of documents that fit is reported
LENGTH_EDGES = log_edges(10, 1_000_000, per_decade=4)  # fixed, so histograms of runs merge


_INDEX_MAGIC = b"MMIDIDX\x00\x00"
_DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.uint32): 9, np.dtype(np.int64): 5}  # fairseq's codes


def index_dtype(vocab_size: int) -> np.dtype:
    """The on-disk id dtype fairseq picks for a dictionary of `vocab_size` symbols."""
    if vocab_size < 65500:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32 if vocab_size < 4294967295 else np.int64)


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
    prefix = os.fspath(prefix)
    if vocab_size <= EOS_ID:
        raise ValueError(f"vocab_size must exceed the specials, got {vocab_size}")
    dtype = index_dtype(vocab_size)
    temporary = prefix + ".tmp"
    sizes: list[int] = []
    try:
        with open(temporary + ".bin", "wb") as data:
            for document in documents:
                ids = np.asarray(document, dtype=np.int64)
                if ids.size == 0:
                    continue
                where = f"document {len(sizes)}"
                if ids.ndim != 1 or ids.min() < 0 or ids.max() >= vocab_size:
                    raise ValueError(f"{where}: ids must be a flat sequence in [0, {vocab_size})")
                if np.isin(ids, (BOS_ID, PAD_ID, EOS_ID)).any():
                    raise ValueError(f"{where}: contains a <s>, <pad> or </s> id")
                data.write(np.append(ids, EOS_ID).astype(dtype).tobytes())
                sizes.append(ids.size + 1)
        _write_index(temporary + ".idx", sizes, dtype)
    except BaseException:
        for path in (temporary + ".bin", temporary + ".idx"):
            if os.path.exists(path):
                os.remove(path)
        raise
    os.replace(temporary + ".bin", prefix + ".bin")
    os.replace(temporary + ".idx", prefix + ".idx")
    return len(sizes), sum(sizes)


def _write_index(path: str, sizes: list[int], dtype: np.dtype) -> None:
    counts = np.array(sizes, dtype=np.int64)
    pointers = np.concatenate(([0], np.cumsum(counts)[:-1])) * dtype.itemsize if sizes else counts
    with open(path, "wb") as index:
        index.write(_INDEX_MAGIC + struct.pack("<QB", 1, _DTYPE_CODES[dtype]) + struct.pack("<Q", len(sizes)))
        index.write(counts.astype(np.int32).tobytes())
        index.write(pointers.astype(np.int64).tobytes())


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
