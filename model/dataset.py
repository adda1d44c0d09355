"""`HtlmDenoisingDataset`: the fairseq shell around `noising.noise` (one document block per item).

Differences from fairseq's `DenoisingDataset`, each on purpose: the noise comes from one
numpy Generator per (seed, epoch, index) and torch's global RNG is never used, so a sample
is the same in every run, worker and resume; whole words come from the dictionary's symbols
(no BPE object, so SentencePiece works); no rotation, permutation or random insertion; the
size hint follows each hinted `<mask>`; `nsentences` counts the samples of a batch (the
stock collater reports the first source's length there).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from fairseq.data import FairseqDataset
from fairseq.data.denoising_dataset import collate
from htlm.model.noising import NoiseConfig, Span, noise, sample_rng, word_starts


class DocumentBlocks(FairseqDataset):
    """`<s> block </s>` items: every document cut into consecutive blocks of at most `block` tokens.

    A block never spans two documents (fairseq's `complete_doc` keeps a document longer than
    the block whole, which then exceeds the model's positions). `documents` yields 1-d
    tensors without eos.
    """

    def __init__(self, documents: Any, sizes: np.ndarray, block: int, bos: int, eos: int) -> None:
        sizes = np.asarray(sizes, dtype=np.int64)
        per_document = np.maximum(1, -(-sizes // block))
        self.document = np.repeat(np.arange(len(sizes)), per_document)
        first_block = np.cumsum(per_document) - per_document
        self.start = (np.arange(len(self.document)) - first_block[self.document]) * block
        self.end = np.minimum(self.start + block, sizes[self.document])
        self.sizes = self.end - self.start + 2
        self.documents, self.bos, self.eos = documents, bos, eos

    def __getitem__(self, index: int) -> torch.Tensor:
        tokens = self.documents[int(self.document[index])][self.start[index] : self.end[index]]
        return torch.cat([tokens.new([self.bos]), tokens, tokens.new([self.eos])])

    def __len__(self) -> int:
        return len(self.sizes)


class HtlmDenoisingDataset(FairseqDataset):
    """Items `{"id", "source", "target"}`: target = `<s> block </s>`, source = its noised version.

    `blocks` yields 1-d LongTensors that start with bos and end with eos; `begins_word` /
    `ends_word` are per-symbol flags (see `noising.word_starts`); `hint_table[n]` holds the
    ids of the decimal number n (n beyond the table is written as the table's last entry).
    """

    def __init__(
        self,
        blocks: Any,
        sizes: np.ndarray,
        *,
        pad: int,
        eos: int,
        mask_id: int,
        begins_word: np.ndarray,
        ends_word: np.ndarray,
        hint_table: Sequence[list[int]],
        config: NoiseConfig,
        seed: int,
        max_source_positions: int,
    ) -> None:
        self.blocks = blocks
        self.sizes = np.asarray(sizes)
        self.pad, self.eos, self.mask_id = pad, eos, mask_id
        self.begins_word, self.ends_word = begins_word, ends_word
        self.hint_table = hint_table
        self.config = config
        self.seed = seed
        self.max_source_positions = max_source_positions
        self.epoch = 1

    def _hint_ids(self, n: int) -> list[int]:
        return self.hint_table[min(n, len(self.hint_table) - 1)]

    def set_epoch(self, epoch: int, **unused: Any) -> None:
        """Noise differs per epoch: fairseq calls this before each epoch's iterator."""
        self.epoch = epoch

    @property
    def can_reuse_epoch_itr_across_epochs(self) -> bool:
        return True  # batches depend on sizes only; the noise is drawn per item from (seed, epoch, index)

    def noised(self, index: int) -> tuple[torch.Tensor, torch.Tensor, list[Span]]:
        """(target, source, spans) of one sample: the item, with the spans it was noised with."""
        target = self.blocks[index]
        body = target[1:-1].numpy()
        source, spans = noise(
            body,
            word_starts(body, self.begins_word, self.ends_word),
            self.mask_id,
            self._hint_ids,
            self.config,
            sample_rng(self.seed, self.epoch, index),
            max_length=self.max_source_positions - 2,
        )
        bos, eos = int(target[0]), int(target[-1])
        return target, torch.from_numpy(np.concatenate(([bos], source, [eos]))), spans

    def __getitem__(self, index: int) -> dict[str, Any]:
        target, source, _ = self.noised(index)
        return {"id": index, "source": source, "target": target}

    def __len__(self) -> int:
        return len(self.blocks)

    def collater(self, samples: list[dict[str, Any]], pad_to_length: Any = None) -> dict[str, Any]:
        """fairseq's denoising batch (padded source/target, shifted decoder input)."""
        batch = collate(samples, self.pad, self.eos, None, pad_to_length=pad_to_length)
        if batch:
            batch["nsentences"] = len(samples)
        return batch

    def num_tokens(self, index: int) -> int:
        return int(self.sizes[index])

    def size(self, index: int) -> int:
        return int(self.sizes[index])

    def ordered_indices(self) -> np.ndarray:
        """By length, ties in index order (fairseq shuffles the batches per epoch with its seed)."""
        return np.argsort(self.sizes, kind="mergesort")

    @property
    def supports_prefetch(self) -> bool:
        return False
