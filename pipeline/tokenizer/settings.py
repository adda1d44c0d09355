"""SentencePiece settings for MHTML (each with why), and the card written beside a trained model."""

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from htlm.pipeline.tokenizer.specials import (
    BOS_ID,
    EOS_ID,
    FAIRSEQ_PADDING_FACTOR,
    FAIRSEQ_SPECIALS,
    MASK,
    META_SPACE,
    PAD_ID,
    UINT16_LIMIT,
    UNK_ID,
)

# Bare tags that MHTML keeps verbatim thousands of times (counted on the 304 real test pages:
# </a> 10,079, </span> 5,475, </p> 4,585, <p> 3,620, </div> 2,290, </li> 1,933, ...) plus the
# document frame and the tags prompts are written with. As user-defined symbols they are always
# one piece; measured on held-out real pages this gives 2.9% (4k vocab) to 3.8% (16k vocab)
# fewer tokens per document than `<mask>` alone.
HTML_SYMBOLS = (
    "</a>", "<a>", "</span>", "</p>", "<p>", "</div>", "</li>", "<li>", "<br>", "<span>", "<div>",
    "<title>", "</title>", "<html>", "</html>", "<body>", "</body>", "<head>", "</head>",
    "<ul>", "</ul>", "<ol>", "</ol>", "<b>", "</b>", "<i>", "</i>", "<em>", "</em>",
    "<strong>", "</strong>", "<sup>", "</sup>", "<h1>", "</h1>", "<h2>", "</h2>", "<h3>", "</h3>",
    "<td>", "</td>", "<tr>", "</tr>", "<table>", "</table>", "<article>", "</article>",
)  # fmt: skip

# Strings whose tokenization goes into the card, so a reader sees what the model does.
CARD_EXAMPLES = (
    '<html lang="en"><head><title>Example</title></head><body><p>Hello, world!</p></body></html>',
    "<title> <mask>12 </title>",
    '<div class="post"><p>Größe 42,5 cm\tÜber\n  drei Zeilen</p></div>',
    "<p>日本語のテキスト。</p><p>Привет, мир!</p><p>안녕하세요</p>",
)


def max_vocab_size(extra_symbols: int = 1, padding_factor: int = FAIRSEQ_PADDING_FACTOR) -> int:
    """The largest SentencePiece vocabulary whose fairseq dictionary still stores ids as uint16.

    Why: fairseq picks uint16 only below 65,500 symbols; the bound leaves room for
    `extra_symbols` appended after `dict.txt` is read (the denoising task's `<mask>`, which a
    model trained here already has) and for padding the dictionary to a multiple of
    `padding_factor` (fairseq's `pad_to_multiple_`, default 8), so the data stays uint16 whatever
    the plugin does with those two knobs.
    """
    size = UINT16_LIMIT - 1
    while math.ceil((size + extra_symbols) / padding_factor) * padding_factor >= UINT16_LIMIT:
        size -= 1
    return size


@dataclass(frozen=True)
class TokenizerSettings:
    """SentencePiece training settings for MHTML, each with the reason it was chosen.

    Measured on the 304 real pages of the test data (half for training, half held out):
    BPE needs 3-4.5% fewer tokens per held-out page than unigram at the same vocabulary
    (4k: 3,184 vs 3,288; 16k: 2,594 vs 2,711) and trains 10-20x faster.
    """

    # BPE, as HTLM (GPT-2 BPE): fewer tokens per page than unigram on MHTML (see above), and
    # merges are deterministic and cheap to train. Subword sampling (unigram's extra) is not used.
    model_type: str = "bpe"
    # 32k pieces: fairseq stores ids as uint16 below 65,500 (checked in __post_init__).
    vocab_size: int = 32_000
    # Multilingual crawl: rarer characters go to byte pieces instead of using up the vocabulary.
    character_coverage: float = 0.9995
    # Nothing ever becomes <unk>: characters outside the vocabulary are written as UTF-8 bytes.
    byte_fallback: bool = True
    # Size hints are decimal numbers: one piece per digit, so `<mask>12` has one tokenization.
    split_digits: bool = True
    # Markup and text byte-exact: no NFKC (it would rewrite full-width forms, ligatures, ...).
    normalization_rule_name: str = "identity"
    # Runs of spaces (inside <pre>) are data; folding them would break the round trip.
    remove_extra_whitespaces: bool = False
    # A page starts with `<html`, not a space; a dummy prefix would add a space that is not in
    # the text and make a prompt fragment tokenize differently from the same text in a page.
    add_dummy_prefix: bool = False
    # Runs of spaces become pieces like `▁▁▁▁` instead of one piece per space.
    allow_whitespace_only_pieces: bool = True
    # Pieces never cross a space: a word starts a piece (`▁word`), which whole-word span masking
    # relies on, and training sentences can be cut before any space losslessly. Allowing pieces
    # across spaces saved 2-4.5% tokens on the test pages; word-aligned masking is worth more.
    split_by_whitespace: bool = True
    # Long enough for every frequent tag fragment (`▁class="`, `<blockquote>`); 24 changed the
    # held-out token count by less than 0.01%.
    max_sentencepiece_length: int = 16
    # `<mask>` first (so its id is fixed at 4), then the frequent bare HTML tags (HTML_SYMBOLS).
    user_defined_symbols: tuple[str, ...] = (MASK, *HTML_SYMBOLS)
    # Bytes per training sentence; longer ones SentencePiece would skip, so documents are cut
    # (`training_sentences`) to at most this many bytes.
    max_sentence_length: int = 4192
    # 0 = train on every sentence fed. SentencePiece's own sampling (input_sentence_size > 0)
    # is not reproducible across processes even with set_random_generator_seed (measured), so
    # the sample is drawn by `sample_documents` instead and its size bounds the memory.
    input_sentence_size: int = 0
    shuffle_input_sentence: bool = False
    # The learned pieces are identical for 1, 2 and 8 threads (measured), but the .model file
    # records this number, so it is fixed here rather than taken from the machine.
    num_threads: int = 16
    # SentencePiece's global RNG seed, set before training (used only by sampling options).
    seed: int = 0

    def __post_init__(self) -> None:
        limit = max_vocab_size()
        if not 0 < self.vocab_size <= limit:
            raise ValueError(
                f"vocab_size={self.vocab_size}: must be between 1 and {limit}, so that the fairseq "
                f"dictionary (plus an appended <mask>, padded to a multiple of {FAIRSEQ_PADDING_FACTOR}) "
                f"stays below {UINT16_LIMIT} symbols and token ids are stored as uint16"
            )
        if self.model_type not in ("bpe", "unigram"):
            raise ValueError(f"model_type={self.model_type!r}: use 'bpe' or 'unigram'")
        symbols = self.user_defined_symbols
        if not symbols or symbols[0] != MASK:
            raise ValueError(f"user_defined_symbols must start with {MASK!r} (its id is fixed at 4)")
        if len(set(symbols)) != len(symbols):
            raise ValueError("user_defined_symbols has duplicates")
        for symbol in symbols:
            if not symbol or "," in symbol or any(c.isspace() or c == META_SPACE for c in symbol):
                raise ValueError(f"user-defined symbol {symbol!r}: no whitespace, '▁' or ','")
            if symbol in FAIRSEQ_SPECIALS or symbol[0].isdigit():
                # a symbol starting with a digit would swallow the digits of a size hint
                raise ValueError(f"user-defined symbol {symbol!r}: a fairseq special or starts with a digit")
        if self.max_sentence_length < 16:
            raise ValueError("max_sentence_length must be at least 16 bytes")

    def trainer_kwargs(self) -> dict[str, Any]:
        """The keyword arguments for `SentencePieceTrainer.train`, fairseq's special ids included."""
        kwargs = dataclasses.asdict(self)
        kwargs.pop("seed")
        kwargs["user_defined_symbols"] = list(self.user_defined_symbols)
        kwargs.update(
            bos_id=BOS_ID,
            pad_id=PAD_ID,
            eos_id=EOS_ID,
            unk_id=UNK_ID,
            bos_piece=FAIRSEQ_SPECIALS[BOS_ID],
            pad_piece=FAIRSEQ_SPECIALS[PAD_ID],
            eos_piece=FAIRSEQ_SPECIALS[EOS_ID],
            unk_piece=FAIRSEQ_SPECIALS[UNK_ID],
        )
        return kwargs


@dataclass(frozen=True)
class TokenizerCard:
    """What was trained, on what, and how it tokenizes: written as `<model_prefix>.card.json`."""

    settings: dict[str, Any]
    sentencepiece_version: str
    corpus: dict[str, int]
    vocab_size: int
    dictionary_size: int
    special_ids: dict[str, int]
    files: dict[str, str]
    model_sha256: str
    bytes_per_token: float
    examples: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        """The card as indented JSON (non-ASCII kept readable)."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=2) + "\n"
