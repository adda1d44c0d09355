"""The demo's measurements on held-out pages: title ROUGE against two baselines, length control
by size hints, and the denoiser's perplexity on MHTML against the same pages as plain text."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from lxml import html as lxml_html

from htlm.model.noising import NoiseConfig, noise, sample_rng, word_flags, word_starts
from htlm.model.task import hint_table
from htlm.pipeline.simplify.config import RejectPage
from htlm.pipeline.simplify.mhtml import parse
from htlm.prompts.engine import Progress, PromptEngine
from htlm.prompts.metrics import rouge
from htlm.prompts.template import PromptTemplate, parse_template
from htlm.prompts.window import encode_document

# The paper's title-as-summary prompt over a page's MHTML body (the page goes through the simplifier).
TITLE_PROMPT = """---
description: the page title from its MHTML body (the demo's zero-shot prompt)
task: generate
fields: {"page": "page"}
reference: title
---
<html><head><title><mask></title></head><body>{{page}}</body></html>"""
LENGTH_HINTS = (4, 8, 16)


@dataclass(frozen=True)
class HeldOutPage:
    """A held-out page: its raw HTML (the prompt input), its MHTML and its real title."""

    name: str
    html: str
    mhtml: str
    title: str


def body_text(mhtml: str) -> str:
    """The whitespace-collapsed text of an MHTML document's body."""
    body = lxml_html.fromstring(mhtml).find("body")
    return " ".join(body.text_content().split()) if body is not None else ""


def first_h1(page: str) -> str:
    """The text of the raw page's first <h1> ("" when there is none): a baseline title.

    The raw page, not its MHTML: the text rule drops most headings (they are short)."""
    try:
        heading = parse(page).find(".//h1")
    except RejectPage:
        return ""
    return " ".join(heading.xpath("string()").split()) if heading is not None else ""


def first_words(text: str, n: int) -> str:
    """The first `n` words of `text`: the lead baseline."""
    return " ".join(text.split()[:n])


def title_prompt() -> PromptTemplate:
    """The title prompt (no default hint: the engine's `size_hint` sets it, None leaves a bare <mask>)."""
    return parse_template(TITLE_PROMPT, name="demo title prompt")


def title_results(
    loaded: Any, pages: Sequence[HeldOutPage], hint: int, progress: Progress | None = None, **engine: Any
) -> list[dict[str, Any]]:
    """Generated titles (the paper's size-hint policy, hint s̄) for every held-out page."""
    rows = [{"page": page.html, "title": page.title} for page in pages]
    return PromptEngine(loaded, title_prompt(), size_hint=hint, **engine).generate(rows, progress=progress)


def rouge_with_baselines(
    results: Sequence[dict[str, Any]], pages: Sequence[HeldOutPage], lead_words: int
) -> dict[str, dict[str, float]]:
    """ROUGE-1/2/L (x100) of the generated titles and of the two baselines, against the real titles."""
    references = [page.title for page in pages]
    systems = {
        "htlm (generated title)": [str(r.get("answer") or "") for r in results],
        f"first {lead_words} words of the body": [first_words(body_text(p.mhtml), lead_words) for p in pages],
        "first <h1> of the page": [first_h1(p.html) for p in pages],
    }
    return {name: rouge(outputs, references)[0] for name, outputs in systems.items()}


def length_control(
    loaded: Any, pages: Sequence[HeldOutPage], progress: Progress | None = None, **engine: Any
) -> dict[str, dict[int, float]]:
    """Mean |generated length - hint| in tokens, for each hint, with the hint and without any.

    Without a hint the same output is compared with every hint: the gap the hint should close.
    Rows with no extracted answer count with length 0.
    """
    tokenizer = loaded.tokenizer
    rows = [{"page": page.html, "title": page.title} for page in pages]

    def lengths(results: list[dict[str, Any]]) -> list[int]:
        return [len(tokenizer.encode(str(r.get("answer") or ""))) for r in results]

    engine = {**engine, "retries": 0}
    unhinted = lengths(PromptEngine(loaded, title_prompt(), **engine).generate(rows, progress=progress))
    out: dict[str, dict[int, float]] = {"with the hint": {}, "without a hint": {}}
    for hint in LENGTH_HINTS:
        hinted = lengths(
            PromptEngine(loaded, title_prompt(), size_hint=hint, **engine).generate(rows, progress=progress)
        )
        out["with the hint"][hint] = statistics.mean(abs(n - hint) for n in hinted)
        out["without a hint"][hint] = statistics.mean(abs(n - hint) for n in unhinted)
    return out


def denoising_perplexity(loaded: Any, documents: Sequence[str], window: int, seed: int = 1) -> float:
    """Perplexity of the denoiser on `documents`: each cut to the window, noised as in training
    (fixed seed per document), scored token by token against the original."""
    tokenizer = loaded.tokenizer
    begins, ends = word_flags(tokenizer.symbols)
    hints = hint_table(tokenizer, 4 * window + 1)
    engine = PromptEngine(loaded, title_prompt(), window=window)
    pairs = []
    for index, text in enumerate(documents):
        target = [*encode_document(tokenizer, text)[: window - 1], tokenizer.eos_id]
        body = np.asarray(target[1:-1], dtype=np.int64)
        source, _ = noise(
            body, word_starts(body, begins, ends), tokenizer.mask_id, lambda n: hints[min(n, len(hints) - 1)],
            NoiseConfig(), sample_rng(seed, 0, index), max_length=window - 2,
        )  # fmt: skip
        pairs.append(([tokenizer.bos_id, *source.tolist(), tokenizer.eos_id], target))
    total = sum(engine.log_likelihoods(pairs))
    return math.exp(-total / sum(len(target) for _, target in pairs))
