"""fairseq's `dict.txt` derived from a SentencePiece model (SentencePiece id == fairseq id)."""

import os
from pathlib import Path

import numpy as np
import sentencepiece as spm
from htlm.pipeline.tokenizer.specials import FAIRSEQ_SPECIALS, UNK_ID

# ---------------------------------------------------------------------------------------------
# fairseq dictionary


def fairseq_id_table(sp: spm.SentencePieceProcessor) -> tuple[np.ndarray, list[str]]:
    """The fairseq id of every SentencePiece id, and the fairseq symbols in fairseq id order.

    SentencePiece's unknown piece maps to fairseq's `<unk>` (3), its control pieces to the
    fairseq special of the same name; every other piece gets the next id after the four
    specials, in SentencePiece id order (so the table is the identity for models trained by
    `train_tokenizer`). Raises ValueError for a piece `dict.txt` cannot hold (a line break, a
    space, or a fairseq special's name) or an unknown control piece.
    """
    size = sp.get_piece_size()
    table = np.empty(size, dtype=np.int64)
    symbols = list(FAIRSEQ_SPECIALS)
    for sp_id in range(size):
        piece = sp.id_to_piece(sp_id)
        if sp.is_unknown(sp_id):
            table[sp_id] = UNK_ID
        elif sp.is_control(sp_id):
            if piece not in FAIRSEQ_SPECIALS:
                raise ValueError(f"control piece {piece!r} has no fairseq counterpart")
            table[sp_id] = FAIRSEQ_SPECIALS.index(piece)
        else:
            if piece in FAIRSEQ_SPECIALS or any(c in piece for c in "\n\r ") or not piece:
                raise ValueError(f"piece {sp_id} {piece!r} cannot be a dict.txt symbol")
            table[sp_id] = len(symbols)
            symbols.append(piece)
    return table, symbols


def fairseq_dictionary_lines(sp: spm.SentencePieceProcessor) -> list[str]:
    """The lines of fairseq's `dict.txt` for a SentencePiece model: `symbol count`, one per piece.

    fairseq's `Dictionary.load` keeps the file's order (it does not sort) and puts its four
    specials first, so symbol k of the file gets id 4 + k. Counts are pseudo-counts that fall
    by one per line (fairseq reads them only to sort when it builds a dictionary itself; falling
    counts keep even a re-sort in this order).
    """
    symbols = fairseq_id_table(sp)[1][len(FAIRSEQ_SPECIALS) :]
    return [f"{symbol} {len(symbols) - rank}" for rank, symbol in enumerate(symbols)]


def write_fairseq_dictionary(sp: spm.SentencePieceProcessor, path: str | os.PathLike[str]) -> Path:
    """Write `dict.txt` for a SentencePiece model (see `fairseq_dictionary_lines`); returns the path."""
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.writelines(line + "\n" for line in fairseq_dictionary_lines(sp))
    return path
