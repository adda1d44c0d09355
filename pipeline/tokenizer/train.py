"""Training the SentencePiece model: a deterministic sample of documents, cut into training sentences."""

import dataclasses
import gzip
import hashlib
import heapq
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sentencepiece as spm
from htlm.pipeline.records import doc_id
from htlm.pipeline.tokenizer.dictionary import write_fairseq_dictionary
from htlm.pipeline.tokenizer.encoder import Tokenizer
from htlm.pipeline.tokenizer.settings import CARD_EXAMPLES, TokenizerCard, TokenizerSettings
from htlm.pipeline.tokenizer.specials import FAIRSEQ_SPECIALS, MASK

# ---------------------------------------------------------------------------------------------
# Sampling the training corpus


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
        (_sample_hash(seed, doc_id(record)), path_index, line_number)
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
    Raises ValueError, with what to do, when there is nothing to train on (no documents, or
    only blank ones) or SentencePiece refuses the corpus (e.g. a vocabulary larger than it holds).
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
            if not document.strip():  # nothing to learn from: counted, not fed
                corpus["blank_documents"] = corpus.get("blank_documents", 0) + 1
                continue
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
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=sentences(), model_writer=model, minloglevel=1, **settings.trainer_kwargs()
        )
    except RuntimeError as error:  # SentencePiece's own message names the cause; say what to do
        if not corpus["training_sentences"]:
            blank = corpus.get("blank_documents", 0)
            raise ValueError(f"no text to train on: {blank} document(s), all empty or whitespace") from None
        hint = " (lower --vocab-size or give more documents)" if "too high" in str(error) else ""
        raise ValueError(
            f"SentencePiece could not train on {corpus['documents']} document(s): {error}{hint}"
        ) from None
    card = _write_files(prefix, model.getvalue(), settings, corpus, kept)
    prefix.with_name(prefix.name + ".card.json").write_text(card.to_json(), encoding="utf-8")
    return card


def _write_files(
    prefix: Path, model_bytes: bytes, settings: TokenizerSettings, corpus: dict[str, int], kept: list[str]
) -> TokenizerCard:
    """Write the model, the vocab and dict.txt beside it; return the card describing them."""
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
    return TokenizerCard(
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
