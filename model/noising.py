"""HTLM's denoising noise, pure numpy: BART text infilling with size hints (Aghajanyan et al., 2021).

Span lengths in words ~ Poisson(λ = 3.5) until `mask_ratio` of the words are covered (spans
that overlap merge, and more are drawn until the ratio is met); each maximal run of masked
words becomes one `<mask>` (no rotation, no sentence permutation, no insertions). For a run
of true length m subword tokens, a share `hint_prob` of the masks carry a size hint:
n = max(1, ⌊N(m, m·ε)⌋), written right after the mask as the tokenized decimal number
(`<mask>12`), so the model learns to steer the length of what it fills in.

No fairseq and no torch: the training task (a thin fairseq shell) and the tests call the
same function, and one `numpy.random.Generator` per (seed, epoch, index) makes a sample the
same on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NoiseConfig:
    """The paper's defaults."""

    mask_ratio: float = 0.3  # share of words masked (BART's default; HTLM does not say)
    poisson_lambda: float = 3.5  # mean span length in words
    hint_prob: float = 0.8  # share of masks that carry a size hint
    hint_noise: float = 0.1  # ε: the hint's standard deviation as a share of the true length

    def __post_init__(self) -> None:
        if not 0.0 <= self.mask_ratio <= 1.0 or not 0.0 <= self.hint_prob <= 1.0:
            raise ValueError("mask_ratio and hint_prob must lie in [0, 1]")
        if self.poisson_lambda <= 0 or self.hint_noise < 0:
            raise ValueError("poisson_lambda must be > 0 and hint_noise >= 0")


@dataclass(frozen=True)
class Span:
    """One masked run: where it starts in the tokens, its true length, and its hint (None: no hint)."""

    start: int
    length: int
    hint: int | None


def noisy_hint(length: int, epsilon: float, rng: np.random.Generator) -> int:
    """n = max(1, ⌊N(m, m·ε)⌋) for a span of true length m (exactly m when ε = 0)."""
    if epsilon == 0:
        return max(1, length)
    return max(1, int(np.floor(rng.normal(length, length * epsilon))))


def choose_spans(word_starts: np.ndarray, config: NoiseConfig, rng: np.random.Generator) -> list[Span]:
    """The masked runs of a document whose tokens begin a word where `word_starts` is true.

    Spans are whole words: a run of masked words covers every subword token of them.
    """
    starts = np.flatnonzero(word_starts)
    words = len(starts)
    to_mask = int(np.ceil(words * config.mask_ratio))
    if words == 0 or to_mask == 0:
        return []
    lengths: list[int] = []
    while sum(lengths) < to_mask:
        lengths += [int(n) for n in rng.poisson(config.poisson_lambda, size=max(4, to_mask // 3)) if n > 0]
    lengths = _trim(lengths, to_mask)
    masked = np.zeros(words, dtype=bool)
    for first, length in zip(rng.choice(words, size=len(lengths), replace=False), lengths, strict=True):
        masked[first : first + length] = True
    while masked.sum() < to_mask:  # overlapping spans merged: top up to the ratio with more spans
        first = int(rng.choice(np.flatnonzero(~masked)))
        masked[
            first : first + min(max(1, int(rng.poisson(config.poisson_lambda))), to_mask - int(masked.sum()))
        ] = True
    bounds = np.append(starts, len(word_starts))  # token range of word w: bounds[w] .. bounds[w + 1]
    spans = []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], masked.astype(np.int8), [0]))))
    for first_word, end_word in zip(edges[::2], edges[1::2], strict=True):
        start, end = int(bounds[first_word]), int(bounds[end_word])
        hint = noisy_hint(end - start, config.hint_noise, rng) if rng.random() < config.hint_prob else None
        spans.append(Span(start, end - start, hint))
    return spans


def _trim(lengths: list[int], total: int) -> list[int]:
    """Keep span lengths up to `total` words, the last one shortened to fit."""
    kept, covered = [], 0
    for length in lengths:
        if covered >= total:
            break
        kept.append(min(length, total - covered))
        covered += kept[-1]
    return kept


def apply_spans(
    tokens: Sequence[int], spans: Sequence[Span], mask_id: int, hint_ids: Callable[[int], list[int]]
) -> np.ndarray:
    """The noised source: each span replaced by `<mask>` and, if it has one, its hint's tokens."""
    out: list[int] = []
    position = 0
    for span in spans:
        out += list(tokens[position : span.start])
        out.append(mask_id)
        if span.hint is not None:
            out += hint_ids(span.hint)
        position = span.start + span.length
    out += list(tokens[position:])
    return np.asarray(out, dtype=np.int64)


def noise(
    tokens: Sequence[int],
    word_starts: np.ndarray,
    mask_id: int,
    hint_ids: Callable[[int], list[int]],
    config: NoiseConfig,
    rng: np.random.Generator,
    max_length: int | None = None,
) -> tuple[np.ndarray, list[Span]]:
    """(noised source, the spans): HTLM's text infilling with size hints on one document's tokens.

    A hint can make the source longer than the document (a one-token span becomes `<mask>`
    and a digit); if it would exceed `max_length` (the model's positions), hints are dropped
    from the last spans until it fits. Without hints the source is never longer than the
    document, so it always fits when the document does.
    """
    spans = choose_spans(np.asarray(word_starts, dtype=bool), config, rng)
    source = apply_spans(tokens, spans, mask_id, hint_ids)
    if max_length is not None and len(source) > max_length:
        spans = _drop_hints(spans, len(source) - max_length, hint_ids)
        source = apply_spans(tokens, spans, mask_id, hint_ids)
    return source, spans


def _drop_hints(spans: list[Span], excess: int, hint_ids: Callable[[int], list[int]]) -> list[Span]:
    """The spans with the hints of the last hinted ones removed until `excess` tokens are saved."""
    kept = list(spans)
    for i in range(len(kept) - 1, -1, -1):
        if excess <= 0:
            break
        hint = kept[i].hint
        if hint is not None:
            excess -= len(hint_ids(hint))
            kept[i] = Span(kept[i].start, kept[i].length, None)
    return kept


def word_starts(tokens: np.ndarray, begins_word: np.ndarray, ends_word: np.ndarray) -> np.ndarray:
    """Which tokens begin a word: the symbol says so (`▁…`, a tag, a special), or the token before
    it ends one (text right after `<p>` has no `▁`). The first token always begins one."""
    tokens = np.asarray(tokens, dtype=np.int64)
    starts = begins_word[tokens].copy()
    if len(tokens):
        starts[1:] |= ends_word[tokens[:-1]]
        starts[0] = True
    return starts


def sample_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of one sample: the same (seed, epoch, index) gives the same noise (for one numpy
    version: PCG64's bits are stable, the distributions drawn from them may change between releases)."""
    return np.random.default_rng([seed, epoch, index])


def word_flags(symbols: Sequence[str], specials: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(begins_word, ends_word) per dictionary symbol, from the symbols alone (no BPE object).

    A piece begins a word if it starts with SentencePiece's `▁` or is markup (starts with `<`:
    tags and `<mask>` are whole pieces); markup ending in `>` (a tag, `">` closing an attribute)
    ends one, so the text right after it begins a new word. The first `specials` symbols
    (`<s>`, `<pad>`, `</s>`, `<unk>`) do both. Byte pieces (`<0xE2>`) do neither: they are
    parts of a character.
    """
    begins = np.zeros(len(symbols), dtype=bool)
    ends = np.zeros(len(symbols), dtype=bool)
    for i, symbol in enumerate(symbols):
        if i < specials:
            begins[i] = ends[i] = True
        elif not (symbol.startswith("<0x") and len(symbol) == 6 and symbol.endswith(">")):
            begins[i] = symbol.startswith(("\u2581", "<"))
            ends[i] = symbol.endswith(">")
    return begins, ends
