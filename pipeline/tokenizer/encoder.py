"""`Tokenizer`: text <-> fairseq ids, the one encoder of binarize, the training task and prompting."""

import os
from collections.abc import Iterable, Sequence

import numpy as np
import sentencepiece as spm
from htlm.pipeline.tokenizer.dictionary import fairseq_id_table
from htlm.pipeline.tokenizer.specials import BOS_ID, EOS_ID, MASK, META_SPACE, PAD_ID, UNK_ID

# ---------------------------------------------------------------------------------------------
# Encoding


class Tokenizer:
    """A trained model: text <-> fairseq dictionary ids, the one encoder for training and prompts.

    `encode`/`decode` speak fairseq ids (the ids in the data-bin and in the model's embedding
    table); `pieces` shows the SentencePiece pieces of the same segmentation.
    """

    def __init__(self, model_file: str | os.PathLike[str]) -> None:
        self.sp = spm.SentencePieceProcessor(model_file=str(model_file))
        self.sp_to_fairseq, self.symbols = fairseq_id_table(self.sp)
        size = self.sp.get_piece_size()
        self.fairseq_to_sp = np.full(len(self.symbols), -1, dtype=np.int64)
        for sp_id in range(size):
            if self.fairseq_to_sp[self.sp_to_fairseq[sp_id]] < 0:
                self.fairseq_to_sp[self.sp_to_fairseq[sp_id]] = sp_id
        self._identity = len(self.symbols) == size and bool(np.all(self.sp_to_fairseq == np.arange(size)))
        sp_mask = self.sp.piece_to_id(MASK)
        if self.sp.id_to_piece(sp_mask) != MASK:
            raise ValueError(f"{model_file}: the model has no {MASK!r} piece")
        self._sp_mask = sp_mask
        self.mask_id = int(self.sp_to_fairseq[sp_mask])
        self._meta_space_bytes = [self.sp.piece_to_id(f"<0x{b:02X}>") for b in META_SPACE.encode()]
        self.bos_id, self.pad_id, self.eos_id, self.unk_id = BOS_ID, PAD_ID, EOS_ID, UNK_ID

    @property
    def vocab_size(self) -> int:
        """The number of fairseq dictionary symbols, specials included (ids are below it)."""
        return len(self.symbols)

    def _encode_sp(self, text: str) -> list[int]:
        if MASK in text:
            out: list[int] = []
            for i, part in enumerate(text.split(MASK)):
                if i:
                    out.append(self._sp_mask)
                out.extend(self._encode_sp(part))
            return out
        if META_SPACE in text:  # SentencePiece would read it back as a space
            out = []
            for i, part in enumerate(text.split(META_SPACE)):
                if i:
                    out.extend(self._meta_space_bytes)
                out.extend(self.sp.encode(part))
            return out
        return self.sp.encode(text)

    def _to_fairseq(self, sp_ids: list[int]) -> list[int]:
        if self._identity:
            return sp_ids
        return self.sp_to_fairseq[np.asarray(sp_ids, dtype=np.int64)].tolist()

    def encode(self, text: str) -> list[int]:
        """The fairseq ids of `text` (no bos/eos added): the encoder of training and prompting.

        Exact: `decode(encode(text)) == text`. `<mask>` is one id and the text on either side
        of it is encoded independently (see the module docstring for the invariant).
        """
        return self._to_fairseq(self._encode_sp(text))

    def encode_batch(self, texts: Sequence[str], num_threads: int = 0) -> list[list[int]]:
        """`encode` over many texts, the plain ones in SentencePiece's thread pool (0 = all cores)."""
        plain = [i for i, t in enumerate(texts) if MASK not in t and META_SPACE not in t]
        out: list[list[int]] = [[] for _ in texts]
        for i, ids in zip(
            plain, self.sp.encode([texts[i] for i in plain], num_threads=num_threads), strict=True
        ):
            out[i] = self._to_fairseq(ids)
        for i, text in enumerate(texts):
            if MASK in text or META_SPACE in text:
                out[i] = self.encode(text)
        return out

    def decode(self, ids: Iterable[int]) -> str:
        """The text of fairseq ids; bos/pad/eos decode to nothing. Raises ValueError on ids
        outside the tokenizer's dictionary (e.g. fairseq's `madeupword` padding)."""
        array = np.asarray(list(ids), dtype=np.int64)
        if array.size and (array.min() < 0 or array.max() >= self.vocab_size):
            raise ValueError(f"ids outside the dictionary of {self.vocab_size} symbols")
        return self.sp.decode(self.fairseq_to_sp[array].tolist())

    def pieces(self, text: str) -> list[str]:
        """The SentencePiece pieces of `encode(text)`, for reading and debugging."""
        return [self.sp.id_to_piece(i) for i in self._encode_sp(text)]

    @staticmethod
    def mask_text(size_hint: int | None = None) -> str:
        """The text of a mask slot: `<mask>` followed by the size hint in decimal, if any."""
        if size_hint is None:
            return MASK
        if isinstance(size_hint, bool) or not isinstance(size_hint, int | np.integer) or size_hint < 0:
            raise ValueError(f"size hint must be a non-negative integer, got {size_hint!r}")
        return f"{MASK}{int(size_hint)}"

    def mask_token_ids(self, size_hint: int | None = None) -> list[int]:
        """The ids of a mask slot, `[mask_id, *digit ids]`: what the noiser writes in training.

        Defined as `encode(mask_text(size_hint))`, so it is by construction what a prompt's
        `<mask>12` encodes to; the size hint is one id per decimal digit.
        """
        return self.encode(self.mask_text(size_hint))
