"""HTLM's text infilling with size hints (model/noising.py), on token sequences of real pages' shape."""

from __future__ import annotations

import numpy as np
import pytest
from htlm.model.noising import (
    NoiseConfig,
    apply_spans,
    choose_spans,
    noise,
    noisy_hint,
    sample_rng,
    word_flags,
    word_starts,
)

MASK = 4
DIGITS = {str(d): 100 + d for d in range(10)}


def hint_ids(n: int) -> list[int]:
    return [DIGITS[c] for c in str(n)]


def document(rng: np.random.Generator, words: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Tokens of `words` words of 1-4 subword pieces each, and the word-start flags."""
    pieces = rng.integers(1, 5, size=words)
    tokens = rng.integers(200, 4000, size=int(pieces.sum()))
    starts = np.zeros(len(tokens), dtype=bool)
    starts[np.concatenate(([0], np.cumsum(pieces)[:-1]))] = True
    return tokens, starts


def test_with_no_noise_every_hint_is_the_true_length() -> None:
    config = NoiseConfig(hint_prob=1.0, hint_noise=0.0)
    rng = sample_rng(1, 0, 0)
    for _ in range(50):
        _, spans = noise(*document(rng), MASK, hint_ids, config, rng)
        assert spans and all(span.hint == span.length for span in spans)


def test_lengths_add_up() -> None:
    """target - (source - hint tokens) == sum of the spans' true lengths - one <mask> per span."""
    rng = sample_rng(2, 0, 0)
    for _ in range(200):
        tokens, starts = document(rng, words=int(rng.integers(1, 600)))
        source, spans = noise(tokens, starts, MASK, hint_ids, NoiseConfig(), rng)
        hint_tokens = sum(len(hint_ids(span.hint)) for span in spans if span.hint is not None)
        assert len(tokens) - (len(source) - hint_tokens) == sum(span.length - 1 for span in spans)
        assert np.count_nonzero(source == MASK) == len(spans)


def test_masked_share_hint_share_and_noise_spread() -> None:
    config = NoiseConfig()
    rng = sample_rng(3, 0, 0)
    masked_words = words = hinted = spans_seen = 0
    relative: list[float] = []
    for _ in range(300):
        _, starts = document(rng)
        spans = choose_spans(starts, config, rng)
        words += int(starts.sum())
        masked_words += sum(int(starts[s.start : s.start + s.length].sum()) for s in spans)
        spans_seen += len(spans)
        hinted += sum(s.hint is not None for s in spans)
        relative += [(s.hint - s.length) / s.length for s in spans if s.hint is not None and s.length >= 20]
    assert abs(masked_words / words - 0.3) < 0.01
    assert abs(hinted / spans_seen - 0.8) < 0.03
    assert abs(np.std(relative) - 0.1) < 0.02 and abs(np.mean(relative) + 0.025) < 0.02  # floor: ~-0.5/m


def test_the_same_seed_epoch_and_index_give_the_same_sample() -> None:
    tokens, starts = document(sample_rng(0, 0, 0))
    first = noise(tokens, starts, MASK, hint_ids, NoiseConfig(), sample_rng(7, 3, 11))
    again = noise(tokens, starts, MASK, hint_ids, NoiseConfig(), sample_rng(7, 3, 11))
    other = noise(tokens, starts, MASK, hint_ids, NoiseConfig(), sample_rng(7, 3, 12))
    assert np.array_equal(first[0], again[0]) and first[1] == again[1]
    assert not np.array_equal(first[0], other[0])


def test_spans_are_whole_words_and_the_rest_is_untouched() -> None:
    rng = sample_rng(4, 0, 0)
    tokens, starts = document(rng)
    spans = choose_spans(starts, NoiseConfig(), rng)
    for span in spans:
        assert starts[span.start] and (
            span.start + span.length == len(tokens) or starts[span.start + span.length]
        )
    source = apply_spans(tokens, spans, MASK, hint_ids)
    kept = np.ones(len(tokens), dtype=bool)
    for span in spans:
        kept[span.start : span.start + span.length] = False
    assert [t for t in source if (t != MASK and t < 100) or t >= 200] == tokens[kept].tolist()


def test_hint_formula_and_edges() -> None:
    assert noisy_hint(12, 0.0, sample_rng(0, 0, 0)) == 12
    assert noisy_hint(1, 5.0, sample_rng(0, 0, 1)) >= 1
    empty, spans = noise(
        np.array([], dtype=np.int64),
        np.array([], dtype=bool),
        MASK,
        hint_ids,
        NoiseConfig(),
        sample_rng(0, 0, 0),
    )
    assert empty.size == 0 and spans == []
    with pytest.raises(ValueError):
        NoiseConfig(mask_ratio=1.5)


def test_hints_are_dropped_from_the_end_when_the_source_would_not_fit() -> None:
    """One-token words: every hinted mask grows the source; capped, it fits; the first spans keep theirs."""
    config = NoiseConfig(hint_prob=1.0, hint_noise=0.0, mask_ratio=0.1, poisson_lambda=0.05)
    tokens = np.arange(200, 600)
    starts = np.ones(len(tokens), dtype=bool)
    free, _ = noise(tokens, starts, MASK, hint_ids, config, sample_rng(5, 0, 0))
    assert len(free) > len(tokens)
    capped, spans = noise(tokens, starts, MASK, hint_ids, config, sample_rng(5, 0, 0), max_length=len(tokens))
    assert len(capped) <= len(tokens)
    hinted = [span.hint is not None for span in spans]
    assert any(hinted) and not all(hinted)
    assert hinted == sorted(hinted, reverse=True)  # the dropped hints are the last ones


def test_word_starts_from_symbols_and_from_the_token_before() -> None:
    begins = np.zeros(10, dtype=bool)
    ends = np.zeros(10, dtype=bool)
    begins[[1, 5]] = True  # "▁word" pieces and tags
    ends[5] = True  # a tag: what follows it begins a word
    tokens = np.array([7, 8, 1, 8, 5, 8, 8, 1])
    assert word_starts(tokens, begins, ends).tolist() == [True, False, True, False, True, True, False, True]
    assert word_starts(np.array([], dtype=np.int64), begins, ends).tolist() == []


def test_word_flags_from_symbols() -> None:
    symbols = [
        "<s>",
        "<pad>",
        "</s>",
        "<unk>",
        "<mask>",
        "\u2581the",
        "ing",
        "<p>",
        "</p>",
        '">',
        "<0xE2>",
        "<a",
    ]
    begins, ends = word_flags(symbols)
    assert begins.tolist() == [True] * 6 + [False, True, True, False, False, True]
    assert ends.tolist() == [True] * 5 + [False, False, True, True, True, False, False]
