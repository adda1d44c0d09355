"""The project's SentencePiece BPE model as a Hugging Face `tokenizers` tokenizer with fairseq ids.

SentencePiece's BPE encodes by merging, again and again, the adjacent pair of symbols whose
concatenation is the highest-scoring piece; user-defined pieces (`<mask>`, the bare HTML
tags) are matched first and never merged; characters outside the vocabulary become byte
pieces. `tokenizers`' BPE does the same with merges ranked by the score of the piece they make,
user-defined pieces as added tokens, byte fallback on, and the training settings of
`htlm.pipeline.tokenizer.settings` (identity normalisation, spaces written `▁`, no dummy
prefix). Ids are the fairseq ids of `dict.txt`, so the model's embedding rows line up.

The one text the two encode differently is a literal `▁` (U+2581) in the input: ours writes
its UTF-8 bytes, `tokenizers` cannot tell it from an escaped space.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Sequence
from typing import Any

from htlm.pipeline.tokenizer.encoder import Tokenizer
from htlm.pipeline.tokenizer.specials import (
    BOS_ID,
    EOS_ID,
    FAIRSEQ_SPECIALS,
    META_SPACE,
    PAD_ID,
    UNK_ID,
)

# sentencepiece_model.proto: ModelProto.pieces = 1; SentencePiece.piece = 1, .score = 2, .type = 3
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of a serialized protobuf message, in order."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def piece_table(model_proto: bytes) -> list[tuple[str, float, int]]:
    """(piece, score, type) of every piece of a serialized SentencePiece model, in id order.

    Read from the protobuf bytes directly: the piece types (user-defined in particular) are not
    exposed by `SentencePieceProcessor`, and sentencepiece's generated protobuf module refuses
    to load under the protobuf runtime Beam pins.
    """
    pieces = []
    for number, wire, value in _fields(model_proto):
        if number != 1 or wire != 2:
            continue
        piece, score, kind = "", 0.0, NORMAL
        for field, field_wire, field_value in _fields(value):
            if field == 1 and field_wire == 2:
                piece = field_value.decode("utf-8")
            elif field == 2 and field_wire == 5:
                score = struct.unpack("<f", field_value)[0]
            elif field == 3 and field_wire == 0:
                kind = field_value
        pieces.append((piece, score, kind))
    return pieces


def bpe_merges(pieces: Sequence[tuple[str, float, int]]) -> list[tuple[str, str]]:
    """The merges that reproduce SentencePiece's BPE: every split of a normal piece into two
    normal pieces, ranked by the score of the piece made (highest first, then by id)."""
    normal = {piece: (score, i) for i, (piece, score, kind) in enumerate(pieces) if kind == NORMAL}
    ranked = []
    for piece, (score, index) in normal.items():
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in normal and right in normal:
                ranked.append((-score, index, normal[left][1], left, right))
    ranked.sort()
    return [(left, right) for *_, left, right in ranked]


def check_settings(tokenizer: Tokenizer) -> None:
    """Raise ValueError unless the model was trained with the settings this conversion assumes."""
    spec = tokenizer.sp.serialized_model_proto()
    if any(kind not in (NORMAL, UNKNOWN, CONTROL, USER_DEFINED, BYTE) for _, _, kind in piece_table(spec)):
        raise ValueError("the SentencePiece model has unused pieces, which the conversion does not handle")
    probe = f"a  b{META_SPACE}\n"
    pieces = tokenizer.pieces(" x")
    if not pieces or pieces[0] not in (META_SPACE + "x", META_SPACE):
        raise ValueError("the SentencePiece model does not write spaces as '▁' pieces")
    if tokenizer.pieces("x")[0].startswith(META_SPACE):
        raise ValueError("the SentencePiece model adds a dummy prefix; htlm tokenizers do not")
    if tokenizer.decode(tokenizer.encode(probe)) != probe:
        raise ValueError("the SentencePiece model normalises text; htlm tokenizers keep it byte-exact")


def build_hf_tokenizer(tokenizer: Tokenizer, vocab_size: int | None = None) -> Any:
    """A `tokenizers.Tokenizer` that encodes as `tokenizer` does (fairseq ids), framing `<s> … </s>`.

    `vocab_size` (the model's embedding rows) pads the vocabulary with fairseq's
    `madeupword` symbols when the dictionary has more entries than the SentencePiece model.
    Literal `<s>`, `</s>`, `<pad>` and `<unk>` in the text are encoded as text, as ours does
    (`encode_special_tokens`), while `<mask>` and the HTML symbols are single pieces.
    """
    from tokenizers import AddedToken, decoders, normalizers, processors
    from tokenizers import Tokenizer as HfTokenizer
    from tokenizers.models import BPE

    check_settings(tokenizer)
    pieces = piece_table(tokenizer.sp.serialized_model_proto())
    vocab = {}
    for sp_id, (piece, _, kind) in enumerate(pieces):
        fairseq_id = int(tokenizer.sp_to_fairseq[sp_id])
        vocab[FAIRSEQ_SPECIALS[fairseq_id] if kind in (UNKNOWN, CONTROL) else piece] = fairseq_id
    for extra in range(len(tokenizer.symbols), vocab_size or 0):
        vocab[f"madeupword{extra - len(tokenizer.symbols):04d}"] = extra
    hf = HfTokenizer(
        BPE(vocab=vocab, merges=bpe_merges(pieces), unk_token=FAIRSEQ_SPECIALS[UNK_ID], byte_fallback=True)
    )
    hf.normalizer = normalizers.Replace(" ", META_SPACE)
    hf.decoder = decoders.Sequence(
        [decoders.Replace(META_SPACE, " "), decoders.ByteFallback(), decoders.Fuse()]
    )
    hf.add_special_tokens([AddedToken(symbol, special=True, normalized=False) for symbol in FAIRSEQ_SPECIALS])
    hf.add_tokens(
        [
            AddedToken(piece, special=False, normalized=False)
            for piece, _, kind in pieces
            if kind == USER_DEFINED
        ]
    )
    hf.encode_special_tokens = True
    bos, eos = FAIRSEQ_SPECIALS[BOS_ID], FAIRSEQ_SPECIALS[EOS_ID]
    hf.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, BOS_ID), (eos, EOS_ID)],
    )
    return hf


def special_tokens() -> dict[str, str]:
    """The special-token attributes of the exported tokenizer (fairseq's names).

    No `mask_token`: transformers splits every named special token found in the text when
    `split_special_tokens` is on (which keeps a literal `<s>` text, as in training), and
    `<mask>` must stay one piece in the text. It is an ordinary added token (id 4) instead.
    """
    bos, pad, eos, unk = (FAIRSEQ_SPECIALS[i] for i in (BOS_ID, PAD_ID, EOS_ID, UNK_ID))
    return {
        "bos_token": bos,
        "eos_token": eos,
        "sep_token": eos,
        "cls_token": bos,
        "pad_token": pad,
        "unk_token": unk,
    }


def save_hf_tokenizer(
    tokenizer: Tokenizer, out_dir: str | os.PathLike[str], vocab_size: int, max_length: int
) -> Any:
    """Write tokenizer.json + tokenizer_config.json (a `PreTrainedTokenizerFast`); returns it."""
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_hf_tokenizer(tokenizer, vocab_size),
        split_special_tokens=True,
        model_max_length=max_length,
        **special_tokens(),
    )
    fast.save_pretrained(str(out_dir))
    return fast
