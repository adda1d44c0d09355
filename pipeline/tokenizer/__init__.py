"""The SentencePiece tokenizer trained on MHTML, and the fairseq `dict.txt` derived from it.

Contract (DESIGN.md §3): `<mask>` is one dictionary symbol; a size hint is the decimal number
written right after it (`<mask>12`); both are tokenized by `Tokenizer.encode`, the one
function that the data-bin stage (training) and the prompt engine (prompting) call.

How the pieces fit together:

- The SentencePiece model is trained with its control ids laid out as fairseq's built-in
  specials (`<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3). `dict.txt` lists every other piece in
  SentencePiece id order, so **SentencePiece id == fairseq id** for a model trained here
  (`Tokenizer.sp_to_fairseq` is the identity; it is a table so that models trained with other
  ids still map correctly).
- `<mask>` is SentencePiece's first user-defined symbol (id 4) and therefore also in
  `dict.txt` at fairseq id 4. fairseq's `DenoisingTask` calls `dictionary.add_symbol("<mask>")`
  after reading `dict.txt`; that returns the existing id 4 and appends nothing, so the model's
  mask id, the tokenizer's mask id and the embedding size agree without any extra step.
- Size-hint digits are single pieces (`split_digits`), so `<mask>12` is always
  `[mask_id, id("1"), id("2")]` (`Tokenizer.mask_token_ids(12)`).
- Invariant (tested): for any strings `a`, `b`,
  ``encode(a + mask_text(n) + b) == encode(a) + mask_token_ids(n) + encode(b)``. `encode`
  cuts the text at every literal `<mask>` before SentencePiece sees it, so the pieces around a
  mask never depend on the other side of it. (When `b` starts with a digit the ids still agree,
  but the hint `12` followed by `3` reads as `123`: writers of hints must not put digits right
  after one.) A literal `<mask>` inside a crawled page becomes the mask id too.
- Round trip: `decode(encode(s)) == s` for every string `s` of valid Unicode: identity
  normalization, no dummy prefix, no whitespace folding, and byte fallback for characters not
  in the vocabulary. The one character SentencePiece cannot keep apart from a space is its own
  meta symbol `▁` (U+2581); `encode` writes a literal `▁` as its three UTF-8 byte pieces.

Training feeds documents cut into *training sentences* (`training_sentences`): SentencePiece
skips sentences longer than `max_sentence_length` bytes and MHTML pages are usually longer.
Cuts fall right before a space, where with `split_by_whitespace` no piece can cross anyway, so
cutting loses nothing; encoding at binarize time is on the whole document.

Modules: `specials` (ids both sides agree on), `settings`, `train`, `dictionary` (dict.txt),
`encoder` (`Tokenizer`), `databin` (fairseq's mmap files), `cli` (`htlm-tokenizer`). Importing
this package imports no Beam and no fairseq: the model plugin and prompting use it as is.

Pure: sentencepiece, numpy and the standard library (no Beam, no fairseq import).
"""

from htlm.pipeline.tokenizer.dictionary import (
    fairseq_dictionary_lines,
    fairseq_id_table,
    write_fairseq_dictionary,
)
from htlm.pipeline.tokenizer.encoder import Tokenizer
from htlm.pipeline.tokenizer.settings import TokenizerCard, TokenizerSettings, max_vocab_size
from htlm.pipeline.tokenizer.specials import (
    BOS_ID,
    EOS_ID,
    FAIRSEQ_PADDING_FACTOR,
    FAIRSEQ_SPECIALS,
    MASK,
    PAD_ID,
    UINT16_LIMIT,
    UNK_ID,
)
from htlm.pipeline.tokenizer.train import sample_documents, train_tokenizer, training_sentences

__all__ = [
    "BOS_ID",
    "EOS_ID",
    "FAIRSEQ_PADDING_FACTOR",
    "FAIRSEQ_SPECIALS",
    "MASK",
    "PAD_ID",
    "UINT16_LIMIT",
    "UNK_ID",
    "Tokenizer",
    "TokenizerCard",
    "TokenizerSettings",
    "fairseq_dictionary_lines",
    "fairseq_id_table",
    "max_vocab_size",
    "sample_documents",
    "train_tokenizer",
    "training_sentences",
    "write_fairseq_dictionary",
]
