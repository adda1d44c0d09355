"""Fitting a filled template into the model's window by cutting inputs, never the template.

The encoding is the training one: `[<s>] + encode(document) + [</s>]`. When that is longer
than the window, every field is cut to at most C units (words, table rows, page blocks) for
the largest C that fits: the longest inputs lose the most, short ones are kept whole, and
the template's own markup always stays. The row records how much each field lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from htlm.pipeline.tokenizer.encoder import Tokenizer
from htlm.prompts.fields import FieldValue
from htlm.prompts.template import PromptTemplate, Rendered


class WindowError(ValueError):
    """The template alone (inputs emptied) is longer than the window."""


@dataclass(frozen=True)
class Fitted:
    """A document that fits: its rendering, token ids (with <s>, </s>) and what was cut."""

    rendered: Rendered
    ids: list[int]
    texts: dict[str, str]  # field -> the (possibly cut) text inserted
    cut_units: dict[str, int] = field(default_factory=dict)  # field -> units dropped
    cut_tokens: int = 0  # tokens the cuts saved


def encode_document(tokenizer: Tokenizer, text: str) -> list[int]:
    """The ids of a document exactly as training framed it: <s> + tokens + </s>."""
    return [tokenizer.bos_id, *tokenizer.encode(text), tokenizer.eos_id]


def fit(
    template: PromptTemplate,
    values: Mapping[str, FieldValue],
    tokenizer: Tokenizer,
    window: int,
    fills: Sequence[str | None] | None = None,
    hints: Sequence[int | None] | None = None,
    masked_fields: Sequence[str] = (),
    reserve: int = 0,
) -> Fitted:
    """The longest rendering of `values` whose ids fit in `window - reserve` tokens.

    `reserve` keeps room for what the model will write into the slots. Raises WindowError
    when even empty inputs do not fit.
    """
    budget = window - reserve

    def attempt(cap: int | None) -> tuple[Rendered, list[int], dict[str, str]]:
        texts = {name: value.text(cap) for name, value in values.items()}
        rendered = template.render(texts, fills=fills, hints=hints, masked_fields=masked_fields)
        return rendered, encode_document(tokenizer, rendered.text), texts

    rendered, ids, texts = attempt(None)
    if len(ids) <= budget:
        return Fitted(rendered, ids, texts)
    full = len(ids)
    # every unit (a word with its space, a row, a block) is at least one token
    low, high = 0, min(budget, max((len(value.units) for value in values.values()), default=0))
    best = attempt(0)
    if len(best[1]) > budget:
        raise WindowError(
            f"the template alone needs {len(best[1])} tokens with empty inputs; the window holds {budget}"
            + (f" ({window} minus {reserve} kept for the answer)" if reserve else "")
        )
    while low < high:  # the largest cap that fits
        middle = (low + high + 1) // 2
        candidate = attempt(middle)
        if len(candidate[1]) <= budget:
            low, best = middle, candidate
        else:
            high = middle - 1
    rendered, ids, texts = best
    cut = {name: len(value.units) - low for name, value in values.items() if len(value.units) > low}
    return Fitted(rendered, ids, texts, cut, full - len(ids))
