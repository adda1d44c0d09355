"""Auto-prompting (HTLM §3): let the model write the HTML around a task's examples, keep it as a prompt.

Each example's blocks (its input fields and its answer, in the order given) are wrapped in
masks, `<mask>block<mask>block<mask>`, and the model regenerates the document. What it wrote
between the blocks becomes the template's markup: the input blocks turn into `{{field}}`
placeholders and the answer into a `<mask>N` slot (N = the answer's length in tokens).
The markup is repaired into well-formed HTML with lxml, the result must pass
`parse_template`, and of all examples the one of lowest perplexity wins.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from htlm.prompts.template import MASK, PromptTemplate, TemplateError, parse_template
from lxml import etree
from lxml import html as lxml_html

# Private-use characters stand for placeholders and the slot while lxml repairs the markup.
OPEN, CLOSE = "\ue000", "\ue001"


@dataclass(frozen=True)
class AutoPrompt:
    """A generated prompt file's text, the template parsed from it, and its perplexity.

    `reproduced` is False when the model did not write the example's blocks back, so the
    markup around them is not the model's (only the placeholders and slot, repaired).
    """

    text: str
    template: PromptTemplate
    perplexity: float
    example: int
    reproduced: bool


def split_around(output: str, blocks: Sequence[str]) -> list[str] | None:
    """What the model wrote before, between and after the blocks, or None if a block is missing."""
    pieces, cursor = [], 0
    for block in blocks:
        at = output.find(html.escape(block, quote=False), cursor)
        if at < 0:
            return None
        pieces.append(output[cursor:at])
        cursor = at + len(html.escape(block, quote=False))
    pieces.append(output[cursor:])
    return pieces


def templatize(pieces: Sequence[str], names: Sequence[str], answer: str, hint: int) -> str:
    """A well-formed prompt body: the model's markup with placeholders and the slot put back."""

    def strip(text: str) -> str:  # the model's own masks and stray marker characters
        return text.replace(MASK, "").replace(OPEN, "").replace(CLOSE, "")

    body = strip(pieces[0])
    for name, piece in zip(names, pieces[1:], strict=True):
        marker = "MASK" if name == answer else name
        body += f"{OPEN}{marker}{CLOSE}" + strip(piece)
    root = lxml_html.document_fromstring(body or "<html></html>")
    text = etree.tostring(root, encoding="unicode", method="html")
    text = re.sub(rf"{OPEN}MASK{CLOSE}", f"{MASK}{hint}", text)
    return re.sub(rf"{OPEN}(\w+){CLOSE}", r"{{\1}}", text)


def prompt_file(body: str, fields: Sequence[str], answer: str, hint: int) -> str:
    """The prompt file text: front matter (a generate task, its fields and reference) and the body."""
    field_list = ", ".join(f'"{name}": "text"' for name in fields)
    return (
        f"---\ndescription: written by htlm-autoprompt\ntask: generate\nfields: {{{field_list}}}\n"
        f"reference: {answer}\nsize_hint: {hint}\n---\n{body}\n"
    )


def autoprompt(
    engine: Any, examples: Sequence[Mapping[str, str]], fields: Sequence[str], answer: str
) -> AutoPrompt:
    """The best prompt the model writes around `examples` (see the module docstring).

    `engine` is a `PromptEngine` over `wrap_template(len(fields) + 1)`. Examples reproduced by
    the model win over those that were not, then the lowest perplexity.
    Raises TemplateError when no example gives a usable template.
    """
    names = [*fields, answer]
    results = engine.generate(
        [{f"b{i}": str(example[name]) for i, name in enumerate(names)} for example in examples]
    )
    tried: list[str] = []
    best: AutoPrompt | None = None
    for index, (example, result) in enumerate(zip(examples, results, strict=True)):
        if result.get("error"):
            tried.append(f"example {index}: {result['error']}")
            continue
        blocks = [str(example[name]) for name in names]
        split = split_around(result["output"], blocks)
        pieces = split or [""] * (len(blocks) + 1)
        hint = len(engine.tokenizer.encode(str(example[answer])))
        text = prompt_file(templatize(pieces, names, answer, hint), fields, answer, hint)
        try:
            template = parse_template(text, name=f"autoprompt (example {index})")
        except TemplateError as error:
            tried.append(str(error))
            continue
        candidate = AutoPrompt(text, template, result["perplexity"], index, split is not None)
        if best is None or (not candidate.reproduced, candidate.perplexity) < (
            not best.reproduced,
            best.perplexity,
        ):
            best = candidate
    if best is None:
        raise TemplateError("no example gave a usable prompt: " + "; ".join(tried))
    return best


def wrap_template(blocks: int) -> PromptTemplate:
    """The prompt that asks for the HTML around `blocks` blocks: `<mask>{{b0}}<mask>{{b1}}...<mask>`."""
    body = MASK + MASK.join(f"{{{{b{i}}}}}" for i in range(blocks)) + MASK
    return parse_template(body, name="autoprompt")
