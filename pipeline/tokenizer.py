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

Pure: sentencepiece, numpy and the standard library (no Beam, no fairseq import).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import heapq
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sentencepiece as spm

MASK = "<mask>"
META_SPACE = "\u2581"  # SentencePiece's whitespace symbol "▁"

# fairseq's Dictionary(): these four come first, in this order, before the lines of dict.txt.
FAIRSEQ_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
BOS_ID, PAD_ID, EOS_ID, UNK_ID = range(4)

# fairseq stores token ids as uint16 when the dictionary has fewer than this many symbols
# (`indexed_dataset.best_fitting_int_dtype`: `max_int_to_represent < 65500`).
UINT16_LIMIT = 65_500
FAIRSEQ_PADDING_FACTOR = 8  # --padding-factor default: dictionaries built by fairseq are padded to x8

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


# ---------------------------------------------------------------------------------------------
# Sampling the training corpus


def _record_key(record: dict[str, Any]) -> str:
    return str(record.get("warc_record_id") or record.get("url") or "")


def _sample_hash(seed: int, key: str) -> int:
    digest = hashlib.blake2b(f"{seed}\x00{key}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _records(paths: Sequence[Path]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    for path_index, path in enumerate(paths):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line_number, line in enumerate(lines):
                if line.strip():
                    yield path_index, line_number, json.loads(line)


def sample_documents(
    paths: Iterable[str | os.PathLike[str]], sample_docs: int, seed: int = 0
) -> Iterator[str]:
    """A deterministic sample of `sample_docs` MHTML strings from `documents-*.jsonl.gz` files.

    Why this way: each record gets the blake2b hash of (seed, its WARC record id, or its URL
    when that is missing) and the `sample_docs` smallest hashes win ("bottom-k"). That is a
    uniform sample without replacement which depends only on the set of records and the seed:
    not on how the files were listed (paths are sorted), how records are spread over shards,
    or the machine; a larger sample contains every smaller one with the same seed. A seeded
    reservoir would depend on the visiting order. Two streaming passes (hashes, then the
    chosen documents) keep memory at O(sample_docs) integers rather than documents.
    Documents come out in file order; records with an empty `mhtml` are skipped.
    """
    if sample_docs < 0:
        raise ValueError(f"sample_docs must be >= 0, got {sample_docs}")
    files = sorted({Path(p) for p in paths}, key=str)
    hashed = (
        (_sample_hash(seed, _record_key(record)), path_index, line_number)
        for path_index, line_number, record in _records(files)
        if record.get("mhtml")
    )
    chosen = {(path_index, line) for _, path_index, line in heapq.nsmallest(sample_docs, hashed)}
    for path_index, line_number, record in _records(files):
        if (path_index, line_number) in chosen:
            yield record["mhtml"]


# ---------------------------------------------------------------------------------------------
# Training


def training_sentences(
    document: str, max_bytes: int = TokenizerSettings.max_sentence_length
) -> Iterator[str]:
    """Cut one document into SentencePiece training sentences of at most `max_bytes` UTF-8 bytes.

    Why: SentencePiece drops training sentences longer than its `max_sentence_length`, and
    MHTML pages (one line each) are usually longer. Line breaks separate sentences (so no
    piece ever holds one and `dict.txt` stays one symbol per line; a newline encodes as a byte
    piece). A long line is cut right before a space that follows a non-space: with
    `split_by_whitespace` no piece crosses that point, so training sees the same words. Lines
    without such a space (CJK text) are cut before a `<`, else at a character boundary.
    Joining the sentences of a line gives the line back.
    """
    if max_bytes < 4:
        raise ValueError("max_bytes must be at least 4 (one UTF-8 character)")
    for line in document.splitlines():
        data = line.encode("utf-8", "replace")
        start = 0
        while len(data) - start > max_bytes:
            cut = _cut_point(data, start, start + max_bytes)
            yield data[start:cut].decode("utf-8")
            start = cut
        if start < len(data):
            yield data[start:].decode("utf-8")


def _cut_point(data: bytes, start: int, limit: int) -> int:
    """The largest cut in (start, limit] before a word-starting space, a `<`, or a character."""
    pos = data.rfind(b" ", start + 1, limit + 1)
    while pos > start and data[pos - 1] == 0x20:  # inside a run of spaces: cut before the run
        pos = data.rfind(b" ", start + 1, pos)
    if pos > start:
        return pos
    pos = data.rfind(b"<", start + 1, limit + 1)
    if pos > start:
        return pos
    pos = limit
    while data[pos] & 0xC0 == 0x80:  # never inside a UTF-8 sequence
        pos -= 1
    return pos


def train_tokenizer(
    documents: Iterable[str], model_prefix: str | os.PathLike[str], settings: TokenizerSettings | None = None
) -> TokenizerCard:
    """Train SentencePiece on MHTML documents; write the model, vocab, fairseq dict.txt and card.

    Files: `<prefix>.model`, `<prefix>.vocab` (piece TAB score), `dict.txt` in the same folder
    (see `fairseq_dictionary_lines`) and `<prefix>.card.json` (the returned card).
    Deterministic: the same documents in the same order with the same settings give a
    byte-identical `.model` (the model is trained in memory, so the output path is not
    recorded in it). Why documents and not files: the caller decides the sample
    (`sample_documents`) and SentencePiece's own sampling is not reproducible.
    """
    settings = settings or TokenizerSettings()
    prefix = Path(model_prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    corpus = {"documents": 0, "characters": 0, "utf8_bytes": 0, "training_sentences": 0}
    kept: list[str] = []  # the first documents, to measure bytes per token after training

    def sentences() -> Iterator[str]:
        for document in documents:
            corpus["documents"] += 1
            corpus["characters"] += len(document)
            corpus["utf8_bytes"] += len(document.encode("utf-8", "replace"))
            if len(kept) < 200:
                kept.append(document)
            for sentence in training_sentences(document, settings.max_sentence_length):
                corpus["training_sentences"] += 1
                yield sentence

    model = io.BytesIO()
    spm.set_random_generator_seed(settings.seed)
    spm.SentencePieceTrainer.train(
        sentence_iterator=sentences(), model_writer=model, minloglevel=1, **settings.trainer_kwargs()
    )
    model_bytes = model.getvalue()
    model_path = prefix.with_name(prefix.name + ".model")
    model_path.write_bytes(model_bytes)
    tokenizer = Tokenizer(model_path)
    vocab_path = prefix.with_name(prefix.name + ".vocab")
    with open(vocab_path, "w", encoding="utf-8", newline="\n") as out:
        for i in range(tokenizer.sp.get_piece_size()):
            out.write(f"{tokenizer.sp.id_to_piece(i)}\t{tokenizer.sp.get_score(i):g}\n")
    dict_path = prefix.parent / "dict.txt"
    write_fairseq_dictionary(tokenizer.sp, dict_path)

    tokens = sum(len(tokenizer.encode(document)) for document in kept)
    card = TokenizerCard(
        settings=dataclasses.asdict(settings),
        sentencepiece_version=spm.__version__,
        corpus=corpus,
        vocab_size=tokenizer.sp.get_piece_size(),
        dictionary_size=tokenizer.vocab_size,
        special_ids={**dict(zip(FAIRSEQ_SPECIALS, range(4), strict=True)), MASK: tokenizer.mask_id},
        files={"model": model_path.name, "vocab": vocab_path.name, "dict": dict_path.name},
        model_sha256=hashlib.sha256(model_bytes).hexdigest(),
        bytes_per_token=round(sum(len(d.encode("utf-8", "replace")) for d in kept) / max(tokens, 1), 4),
        examples=[
            {"text": text, "pieces": tokenizer.pieces(text), "ids": tokenizer.encode(text)}
            for text in CARD_EXAMPLES
        ],
    )
    prefix.with_name(prefix.name + ".card.json").write_text(card.to_json(), encoding="utf-8")
    return card


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
