"""The SentencePiece tokenizer on real MHTML: exact round trip, the mask contract, dict.txt, determinism.

A small tokenizer (vocab 4,000, ~1.5 s) is trained once per session on the MHTML of the
scrapinghub benchmark and Readability's test pages; test_databin reuses it via `shared_corpus`.
"""

from __future__ import annotations

import gzip
import itertools
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from fairseq.data import Dictionary
from htlm.pipeline.simplify import MHTML, SimplifyConfig, simplify
from htlm.pipeline.tokenizer import (
    FAIRSEQ_PADDING_FACTOR,
    MASK,
    UINT16_LIMIT,
    Tokenizer,
    TokenizerCard,
    TokenizerSettings,
    fairseq_dictionary_lines,
    max_vocab_size,
    sample_documents,
    train_tokenizer,
    training_sentences,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import PAGE_DATA

SMALL = TokenizerSettings(vocab_size=4000, num_threads=2)  # production default: 32,000


@dataclass(frozen=True)
class Corpus:
    pages: list[tuple[str, str]]  # (page name, MHTML)
    prefix: Path  # model prefix: prefix.model, prefix.vocab, prefix.card.json; dict.txt beside
    card: TokenizerCard
    tokenizer: Tokenizer


def real_mhtml_pages() -> list[tuple[str, str]]:
    """MHTML of every real test page the simplifier keeps (ratio filter off), in path order."""
    sources = sorted((PAGE_DATA / "scrapinghub-article-extraction-benchmark" / "html").glob("*.html.gz"))
    sources += sorted((PAGE_DATA / "mozilla-readability" / "test-pages").glob("*/source.html.gz"))
    pages = []
    for path in sources:
        result = simplify(gzip.decompress(path.read_bytes()), SimplifyConfig(min_text_ratio=0.0))
        if isinstance(result, MHTML):
            name = path.name.split(".")[0] if path.parent.name == "html" else path.parent.name
            pages.append((name, result.html))
    return pages


def shared_corpus(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """The real pages and the small tokenizer trained on them, built once per pytest session."""
    cached = getattr(config, "_htlm_tokenizer_corpus", None)
    if cached is None:
        pages = real_mhtml_pages()
        prefix = tmp_path_factory.mktemp("tokenizer") / "tok"
        card = train_tokenizer((mhtml for _, mhtml in pages), prefix, SMALL)
        cached = Corpus(pages, prefix, card, Tokenizer(prefix.with_suffix(".model")))
        config._htlm_tokenizer_corpus = cached  # type: ignore[attr-defined]
    return cached


@pytest.fixture(scope="module")
def corpus(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return shared_corpus(pytestconfig, tmp_path_factory)


@pytest.fixture(scope="module")
def tok(corpus: Corpus) -> Tokenizer:
    return corpus.tokenizer


# --- settings -----------------------------------------------------------------------------------


def test_vocab_size_bound_keeps_fairseq_ids_uint16() -> None:
    limit = max_vocab_size()
    # the bound survives fairseq appending <mask> and padding to a multiple of 8
    assert -(-(limit + 1) // FAIRSEQ_PADDING_FACTOR) * FAIRSEQ_PADDING_FACTOR < UINT16_LIMIT
    assert -(-(limit + 2) // FAIRSEQ_PADDING_FACTOR) * FAIRSEQ_PADDING_FACTOR >= UINT16_LIMIT
    assert TokenizerSettings().vocab_size == 32_000
    TokenizerSettings(vocab_size=limit)
    for bad in (limit + 1, 65_500, 70_000, 0):
        with pytest.raises(ValueError, match="uint16"):
            TokenizerSettings(vocab_size=bad)


@pytest.mark.parametrize(
    "symbols",
    [("<p>", MASK), (MASK, "<p>", "<p>"), (MASK, "a b"), (MASK, "a,b"), (MASK, "1st"), (MASK, "<pad>"), ()],
)
def test_bad_user_defined_symbols(symbols: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        TokenizerSettings(user_defined_symbols=symbols)


# --- round trip ---------------------------------------------------------------------------------


def test_round_trip_on_every_real_page(corpus: Corpus, tok: Tokenizer) -> None:
    scripts = {"Japanese": "[\u3040-\u30ff]", "Korean": "[\uac00-\ud7a3]", "Russian": "[\u0400-\u04ff]"}
    seen = dict.fromkeys(scripts, 0)
    assert len(corpus.pages) > 300
    for name, mhtml in corpus.pages:
        ids = tok.encode(mhtml)
        assert tok.decode(ids) == mhtml, name
        assert tok.unk_id not in ids, name  # byte fallback: nothing is unknown
        assert min(ids) > tok.eos_id and max(ids) < tok.vocab_size
        for script, pattern in scripts.items():
            seen[script] += bool(re.search(pattern, mhtml))
    assert all(seen.values()), seen  # the test really covers these scripts
    assert sum("\n" in mhtml for _, mhtml in corpus.pages) > 0  # and <pre> newlines


def test_batch_and_plain_sentencepiece_agree(corpus: Corpus, tok: Tokenizer) -> None:
    texts = [mhtml for _, mhtml in corpus.pages]
    encoded = tok.encode_batch(texts, num_threads=2)
    assert encoded == [tok.encode(text) for text in texts]
    # with SP ids laid out as fairseq's, a page without `<mask>`/`▁` is SentencePiece's own encoding
    pairs = zip(encoded, texts, strict=True)
    plain = [(ids, text) for ids, text in pairs if "\u2581" not in text and MASK not in text]
    assert len(plain) > 300 and all(ids == tok.sp.encode(text) for ids, text in plain)


AWKWARD = (
    "\n", "\r\n", "\r", "\t", " ", "   ", "\u2581", "\u2581\u2581 ", "<mask>", "<mask>7", "<p>", "</p>",
    "\u3000", "\x00", "\ufeff", "日本語", "한국어", "Привет", "e\u0301", "\U0001f600", "<s>", "</s>", "<unk>",
)  # fmt: skip
texts = st.lists(
    st.one_of(st.characters(codec="utf-8"), st.sampled_from(AWKWARD), st.text(max_size=8)), max_size=40
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=texts)
def test_round_trip_on_any_string(corpus: Corpus, text: str) -> None:
    tok = corpus.tokenizer
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.unk_id not in ids
    assert tok.pieces(text) == [tok.sp.id_to_piece(i) for i in ids]  # SP id == fairseq id here


def test_literal_meta_space_is_kept(tok: Tokenizer) -> None:
    # SentencePiece reads its own "▁" back as a space; encode writes it as three byte pieces
    assert tok.pieces("a\u2581b") == ["a", "<0xE2>", "<0x96>", "<0x81>", "b"]
    assert tok.decode(tok.encode("a\u2581 b")) == "a\u2581 b"


def test_decode_rejects_ids_outside_the_dictionary(tok: Tokenizer) -> None:
    assert tok.decode([tok.bos_id, *tok.encode("x"), tok.eos_id, tok.pad_id]) == "x"
    with pytest.raises(ValueError):
        tok.decode([tok.vocab_size])


# --- the mask contract --------------------------------------------------------------------------


def test_mask_and_size_hint_tokens(tok: Tokenizer) -> None:
    assert tok.mask_id == 4 == tok.sp.piece_to_id(MASK)
    assert tok.encode(MASK) == tok.mask_token_ids() == tok.mask_token_ids(None) == [tok.mask_id]
    digit = {str(d): tok.encode(str(d)) for d in range(10)}
    assert all(len(ids) == 1 for ids in digit.values())
    for hint in [*range(1001), 12_345, 1_000_000]:
        expected = [tok.mask_id] + [digit[c][0] for c in str(hint)]
        assert tok.mask_token_ids(hint) == expected == tok.encode(f"<mask>{hint}")
    assert tok.pieces("<title> <mask>12 </title>") == ["<title>", "▁", MASK, "1", "2", "▁", "</title>"]
    for bad in (-1, True, 1.5, "12"):
        with pytest.raises(ValueError):
            tok.mask_token_ids(bad)  # type: ignore[arg-type]


def test_no_learned_piece_merges_digits_or_the_mask(tok: Tokenizer) -> None:
    sp = tok.sp
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if sp.is_byte(i) or sp.is_control(i) or sp.is_unknown(i) or piece in SMALL.user_defined_symbols:
            continue
        assert len(piece) == 1 or not any(c.isdigit() for c in piece), piece
        assert MASK not in piece and "\n" not in piece and "\r" not in piece, piece


@settings(max_examples=300, deadline=None)
@given(a=texts, b=texts, hint=st.none() | st.integers(0, 10**6))
def test_mask_slot_encodes_independently_of_its_context(
    corpus: Corpus, a: str, b: str, hint: int | None
) -> None:
    tok = corpus.tokenizer
    slot = tok.mask_text(hint)
    assert tok.encode(a + slot + b) == tok.encode(a) + tok.mask_token_ids(hint) + tok.encode(b)


def test_mask_slot_inside_real_pages(corpus: Corpus, tok: Tokenizer) -> None:
    rng = random.Random(0)
    for _, mhtml in corpus.pages:
        for _ in range(3):
            i, hint = rng.randrange(len(mhtml) + 1), rng.randrange(1, 300)
            a, b = mhtml[max(i - 3000, 0) : i], mhtml[i : i + 3000]  # a window of the page around i
            ids = tok.encode(a + f"<mask>{hint}" + b)
            assert ids == tok.encode(a) + tok.mask_token_ids(hint) + tok.encode(b)
            # SentencePiece on its own agrees: `<mask>` is an atomic user-defined symbol there too
            assert ids == tok.sp.encode(a + f"<mask>{hint}" + b) or "\u2581" in mhtml


# --- dict.txt -----------------------------------------------------------------------------------


def test_dict_txt_loads_in_fairseq_with_the_same_ids(corpus: Corpus, tok: Tokenizer) -> None:
    path = corpus.prefix.parent / "dict.txt"
    dictionary = Dictionary.load(str(path))
    sp = tok.sp
    assert len(dictionary) == tok.vocab_size == sp.get_piece_size() == SMALL.vocab_size
    assert list(tok.sp_to_fairseq) == list(range(sp.get_piece_size()))  # SP id == fairseq id
    for sp_id in range(sp.get_piece_size()):
        piece = sp.id_to_piece(sp_id)
        assert dictionary.index(piece) == tok.sp_to_fairseq[sp_id], piece
        assert dictionary[int(tok.sp_to_fairseq[sp_id])] == piece == tok.symbols[sp_id]
    assert (dictionary.bos(), dictionary.pad(), dictionary.eos(), dictionary.unk()) == (0, 1, 2, 3)
    # the denoising task's add_symbol("<mask>") finds the existing symbol and appends nothing
    assert dictionary.add_symbol(MASK) == tok.mask_id and len(dictionary) == tok.vocab_size
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == fairseq_dictionary_lines(sp)
    counts = [int(line.rsplit(" ", 1)[1]) for line in lines]
    assert counts == sorted(counts, reverse=True) and len(set(counts)) == len(counts)


# --- training -----------------------------------------------------------------------------------


def test_card(corpus: Corpus) -> None:
    card = json.loads(corpus.prefix.with_suffix(".card.json").read_text(encoding="utf-8"))
    assert card == json.loads(corpus.card.to_json())
    assert card["corpus"]["documents"] == len(corpus.pages)
    assert card["corpus"]["characters"] == sum(len(m) for _, m in corpus.pages)
    assert card["vocab_size"] == card["dictionary_size"] == 4000
    assert card["special_ids"] == {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, MASK: 4}
    assert card["settings"]["model_type"] == "bpe" and card["sentencepiece_version"]
    assert {"text": "<title> <mask>12 </title>"}.items() <= card["examples"][1].items()
    assert card["examples"][1]["pieces"] == ["<title>", "▁", MASK, "1", "2", "▁", "</title>"]
    for name in card["files"].values():
        assert (corpus.prefix.parent / name).is_file()


def test_training_is_deterministic(corpus: Corpus, tmp_path: Path) -> None:
    documents = [mhtml for _, mhtml in corpus.pages]
    train_tokenizer(documents, tmp_path / "again" / "tok", SMALL)
    for suffix in (".model", ".vocab", ".card.json"):
        first = corpus.prefix.with_suffix(suffix).read_bytes()
        assert (tmp_path / "again" / f"tok{suffix}").read_bytes() == first, suffix
    assert (tmp_path / "again" / "dict.txt").read_bytes() == (corpus.prefix.parent / "dict.txt").read_bytes()
    # another thread count learns the same pieces and scores (only the recorded spec differs)
    train_tokenizer(documents, tmp_path / "one" / "tok", TokenizerSettings(vocab_size=4000, num_threads=1))
    assert (tmp_path / "one" / "tok.vocab").read_bytes() == corpus.prefix.with_suffix(".vocab").read_bytes()


@settings(max_examples=200, deadline=None)
@given(text=texts, max_bytes=st.integers(4, 64))
def test_training_sentences_cut_losslessly(text: str, max_bytes: int) -> None:
    sentences = list(training_sentences(text, max_bytes))
    assert "".join(sentences) == "".join(text.splitlines())
    assert all(0 < len(s.encode()) <= max_bytes and not s.splitlines()[1:] for s in sentences)


def test_training_sentences_cut_before_words(corpus: Corpus) -> None:
    cuts = before_space = 0
    for _, mhtml in corpus.pages:
        for line in mhtml.splitlines():
            sentences = list(training_sentences(line, 4192))
            assert "".join(sentences) == line
            for previous, sentence in itertools.pairwise(sentences):
                cuts += 1
                before_space += sentence[0] == " " and previous[-1] != " "
    assert cuts > 100 and before_space / cuts > 0.95


# --- sampling -----------------------------------------------------------------------------------


def write_shards(folder: Path, records: list[dict], shards: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for k in range(shards):
        path = folder / f"documents-{k:05d}-of-{shards:05d}.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as out:
            out.writelines(json.dumps(r) + "\n" for r in records[k::shards])
        paths.append(path)
    return paths


def test_sample_documents_is_deterministic_and_order_free(corpus: Corpus, tmp_path: Path) -> None:
    records = [
        {"url": f"https://example.org/{name}", "warc_record_id": f"<urn:uuid:{i:08d}>", "mhtml": mhtml}
        for i, (name, mhtml) in enumerate(corpus.pages)
    ]
    records.append({"url": "https://example.org/empty", "warc_record_id": "<urn:uuid:x>", "mhtml": ""})
    three = write_shards(tmp_path / "three", records, 3)
    five = write_shards(tmp_path / "five", records[::-1], 5)

    sample = list(sample_documents(three, 40, seed=7))
    assert len(sample) == len(set(sample)) == 40
    assert list(sample_documents(three[::-1], 40, seed=7)) == sample  # listing order does not matter
    assert set(sample_documents([str(p) for p in five], 40, seed=7)) == set(sample)  # nor sharding
    assert set(sample_documents(three, 40, seed=8)) != set(sample)
    assert set(sample_documents(three, 20, seed=7)) < set(sample)  # a smaller sample is nested
    everything = list(sample_documents(three, 10_000, seed=7))
    assert sorted(everything) == sorted(m for _, m in corpus.pages)  # the empty document is skipped
    assert list(sample_documents(three, 0)) == []
    with pytest.raises(ValueError):
        list(sample_documents(three, -1))
