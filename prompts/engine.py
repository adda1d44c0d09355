"""Running a prompt over rows with a checkpoint: generation (beam or top-p) and label scoring.

Rows become documents with `htlm.prompts.fields` + `window.fit` (encoded exactly as in
training); a row that cannot be prepared (a missing field, a value of the wrong shape, a page
the simplifier rejects, a template too long for the window) becomes a result with an `error`,
never an exception and never a skipped row.

Generation follows the paper's size-hint policy: each slot gets its hint s̄; where no answer
can be extracted the row is retried with s̄ ± iεs̄ (i = 1..5) and the extracted output of
lowest perplexity is kept. Scoring compares labels by the log-likelihood of the filled
document (`loglik`, the paper), domain-conditional PMI (`pmi`: minus the same under the
template with its inputs replaced by the `domain` values) or the noisy channel (`channel`:
the likelihood of the document given the label with the inputs masked).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from htlm.model.loading import LoadedModel
from htlm.prompts.extract import Answer, extract_answers
from htlm.prompts.fields import FieldValue, field_value
from htlm.prompts.template import PromptTemplate
from htlm.prompts.window import Fitted, WindowError, encode_document, fit

SCORING_METHODS = ("loglik", "pmi", "channel")
DEFAULT_ANSWER_TOKENS = 16  # room kept per slot without a size hint
Progress = Callable[[int], None]


@dataclass
class Example:
    """One input row: its converted field values, or the reason it cannot be used."""

    index: int
    row: dict[str, Any]
    values: dict[str, FieldValue] | None
    error: str | None = None


def prepare(template: PromptTemplate, rows: Iterable[Any]) -> list[Example]:
    """Convert every row's fields; a row missing a field or holding a bad value gets an error."""
    examples = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            examples.append(Example(index, {}, None, f"row is {type(row).__name__}, not a JSON object"))
            continue
        values, problems = {}, []
        for name, kind in template.fields.items():
            if name not in row:
                problems.append(f"missing field {name!r}")
                continue
            try:
                values[name] = field_value(kind, row[name])
            except ValueError as error:
                problems.append(f"field {name!r} {error}")
        examples.append(Example(index, row, None if problems else values, "; ".join(problems) or None))
    return examples


def base_result(template: PromptTemplate, example: Example) -> dict[str, Any]:
    """What every result row carries: index, the row's id and reference, and its error."""
    result: dict[str, Any] = {"index": example.index}
    if "id" in example.row:
        result["id"] = example.row["id"]
    reference = template.settings.reference
    if reference is not None:
        result["reference"] = example.row.get(reference)
    result["error"] = example.error
    return result


def retry_hints(hints: Sequence[int | None], epsilon: float, rounds: int) -> list[list[list[int | None]]]:
    """The paper's retries: for i = 1..rounds, the hints s̄(1 + iε) and s̄(1 - iε) (at least 1)."""
    out = []
    for i in range(1, rounds + 1):
        pair = []
        for sign in (1, -1):
            moved = [None if h is None else max(1, round(h * (1 + sign * i * epsilon))) for h in hints]
            if moved != list(hints) and moved not in pair:
                pair.append(moved)
        out.append(pair)
    return out


@dataclass(frozen=True)
class Candidate:
    """One generation: the output document, its answers, perplexity and the hints it was given."""

    output: str
    answers: list[Answer]
    perplexity: float
    hints: list[int | None]
    fitted: Fitted

    @property
    def extracted(self) -> bool:
        return all(answer.found and answer.text for answer in self.answers)


class PromptEngine:
    """A checkpoint and a template, ready to generate or score batches of rows."""

    def __init__(
        self,
        loaded: LoadedModel,
        template: PromptTemplate,
        window: int | None = None,
        batch_size: int = 8,
        beam: int | None = None,
        top_p: float | None = None,
        size_hint: int | None = None,
        seed: int = 1,
        retries: int = 5,
        epsilon: float = 0.1,
    ) -> None:
        self.loaded, self.template = loaded, template
        self.tokenizer = loaded.tokenizer
        positions = min(loaded.model.max_positions())
        trained = getattr(loaded.cfg.task, "tokens_per_sample", positions)
        self.window = min(window or trained, positions)
        self.batch_size = batch_size
        self.top_p = top_p if top_p is not None else template.settings.top_p
        self.beam = 1 if self.top_p is not None else (beam or template.settings.beam)
        self.seed, self.retries, self.epsilon = seed, retries, epsilon
        self.hints = [
            size_hint if size_hint is not None else template.hint_of(slot) for slot in template.slots
        ]

    # --- generation ----------------------------------------------------------------------------

    def _reserve(self, hints: Sequence[int | None]) -> int:
        limit = self.template.settings.max_new_tokens
        per_slot = [limit or (2 * h + 4 if h is not None else DEFAULT_ANSWER_TOKENS) for h in hints]
        return sum(per_slot) + 2

    def _fit(self, example: Example, hints: Sequence[int | None]) -> Fitted:
        """The row's document with these hints, room kept for the answers (WindowError if none)."""
        return fit(self.template, example.values or {}, self.tokenizer, self.window, hints=hints,
                   reserve=self._reserve(hints))  # fmt: skip

    def generate(self, rows: Iterable[Any], progress: Progress | None = None) -> list[dict[str, Any]]:
        """Generate the answers of every row (results in input order, one per row)."""
        examples = prepare(self.template, rows)
        results = [base_result(self.template, example) for example in examples]
        best: dict[int, Candidate] = {}
        first: dict[int, Candidate] = {}
        attempts = dict.fromkeys(range(len(examples)), 0)
        jobs = []
        for example in examples:
            if example.values is None:
                continue
            try:
                fitted = self._fit(example, self.hints)
            except WindowError as error:
                results[example.index]["error"] = str(error)
                continue
            jobs.append((example, self.hints, fitted))
        rounds = (
            retry_hints(self.hints, self.epsilon, self.retries)
            if any(h is not None for h in self.hints)
            else []
        )
        reported: set[int] = set()
        for round_number in range(len(rounds) + 1):
            if not jobs:
                break
            for (example, _, _), candidate in zip(jobs, self._generate(jobs), strict=True):
                attempts[example.index] += 1
                first.setdefault(example.index, candidate)
                if candidate.extracted and (
                    example.index not in best or candidate.perplexity < best[example.index].perplexity
                ):
                    best[example.index] = candidate
            if progress:
                progress(len(best.keys() - reported))
                reported |= best.keys()
            if round_number == len(rounds):
                break
            pending = list(
                {example.index: example for example, _, _ in jobs if example.index not in best}.values()
            )
            jobs = []
            for example in pending:
                for hints in rounds[round_number]:
                    try:
                        fitted = self._fit(example, hints)
                    except WindowError:
                        continue
                    jobs.append((example, hints, fitted))
        if progress:
            progress(len(examples) - len(reported))
        for index, candidate in {**first, **best}.items():
            results[index].update(self._generation_result(candidate, attempts[index], index in best))
        return results

    def _generation_result(self, candidate: Candidate, attempts: int, extracted: bool) -> dict[str, Any]:
        answers = [answer.text for answer in candidate.answers]
        return {
            "answer": answers[0] if len(answers) == 1 else answers,
            "extracted": extracted,
            "complete": all(answer.complete for answer in candidate.answers),
            "perplexity": round(candidate.perplexity, 4),
            "size_hints": candidate.hints,
            "attempts": attempts,
            "cut_tokens": candidate.fitted.cut_tokens,
            "cut_units": candidate.fitted.cut_units,
            "output": candidate.output,
        }

    def _generator(self, max_len: int) -> Any:
        from fairseq import search
        from fairseq.sequence_generator import SequenceGenerator

        dictionary = self.loaded.dictionary
        strategy = search.Sampling(dictionary, sampling_topp=self.top_p) if self.top_p is not None else None
        # <s> only starts a document (forced as the prefix) and the output fills every <mask>
        return SequenceGenerator(
            [self.loaded.model], dictionary, beam_size=self.beam, max_len_a=0, max_len_b=max_len,
            search_strategy=strategy, tokens_to_suppress=("<s>", "<mask>"),
        )  # fmt: skip

    def _generate(self, jobs: list[tuple[Example, list[int | None], Fitted]]) -> list[Candidate]:
        out = []
        for start in range(0, len(jobs), self.batch_size):
            batch = jobs[start : start + self.batch_size]
            sources = [fitted.ids for _, _, fitted in batch]
            max_len = min(
                self.window, max(len(ids) for ids in sources) + max(self._reserve(h) for _, h, _ in batch)
            )
            sample = self._sample(sources)
            bos = self.tokenizer.bos_id
            prefix = sample["net_input"]["src_tokens"].new_full((len(batch), 1), bos)
            if self.top_p is not None:
                torch.manual_seed(self.seed + start)
            self._reset_beam_size()
            with torch.inference_mode():
                hypos = self._generator(max_len).generate([self.loaded.model], sample, prefix_tokens=prefix)
            for (_, hints, fitted), hypo in zip(batch, hypos, strict=True):
                top = hypo[0]
                output = self.tokenizer.decode(top["tokens"].tolist())
                answers = extract_answers(output, fitted.rendered.prefixes, fitted.rendered.suffixes)
                perplexity = math.exp(-float(top["score"]))
                out.append(Candidate(output, answers, perplexity, list(hints), fitted))
        return out

    def _reset_beam_size(self) -> None:
        """Undo the beam size a SequenceGenerator left in the attention layers (it sets it only
        when > 1, so a later beam-1 search or plain forward would reshape by a stale size)."""
        self.loaded.model.set_beam_size(1)  # BARTModel's: the layers themselves, no cache

    def _sample(self, sources: list[list[int]]) -> dict[str, Any]:
        pad = self.tokenizer.pad_id
        width = max(len(ids) for ids in sources)
        tokens = torch.full((len(sources), width), pad, dtype=torch.long)
        for row, ids in enumerate(sources):
            tokens[row, : len(ids)] = torch.tensor(ids)
        device = self.loaded.device
        lengths = torch.tensor([len(ids) for ids in sources])
        return {"net_input": {"src_tokens": tokens.to(device), "src_lengths": lengths.to(device)}}

    # --- scoring -------------------------------------------------------------------------------

    def log_likelihoods(self, pairs: Sequence[tuple[list[int], list[int]]]) -> list[float]:
        """log P(target | source) (natural log, summed over target tokens) of each pair, batched."""
        pad, eos = self.tokenizer.pad_id, self.tokenizer.eos_id
        self._reset_beam_size()
        scores: list[float] = []
        for start in range(0, len(pairs), self.batch_size):
            batch = pairs[start : start + self.batch_size]
            sample = self._sample([source for source, _ in batch])
            width = max(len(target) for _, target in batch)
            target = torch.full((len(batch), width), pad, dtype=torch.long)
            previous = torch.full((len(batch), width), pad, dtype=torch.long)
            for row, (_, ids) in enumerate(batch):
                target[row, : len(ids)] = torch.tensor(ids)
                previous[row, : len(ids)] = torch.tensor([eos, *ids[:-1]])
            target, previous = target.to(self.loaded.device), previous.to(self.loaded.device)
            with torch.inference_mode():
                logits = self.loaded.model(**sample["net_input"], prev_output_tokens=previous)[0]
                logprobs = (
                    torch.log_softmax(logits.float(), dim=-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
                )
                scores.extend(logprobs.masked_fill(target.eq(pad), 0.0).sum(-1).tolist())
        return scores

    def score(
        self, rows: Iterable[Any], method: str = "loglik", progress: Progress | None = None
    ) -> list[dict[str, Any]]:
        """Choose a label for every row by `method` (see the module docstring); one result per row."""
        if method not in SCORING_METHODS:
            raise ValueError(f"scoring method {method!r}: use one of {', '.join(SCORING_METHODS)}")
        labels = dict(self.template.settings.labels)
        examples = prepare(self.template, rows)
        results = [base_result(self.template, example) for example in examples]
        for start in range(0, len(examples), self.batch_size):
            chunk = examples[start : start + self.batch_size]
            plans = []
            for example in chunk:
                plan = self._score_plan(example, labels, method) if example.values is not None else None
                if isinstance(plan, str):
                    results[example.index]["error"] = plan
                    plan = None
                plans.append(plan)
            pairs = [pair for plan in plans if plan for pair in plan[1]]
            scores = iter(self.log_likelihoods(pairs))
            for example, plan in zip(chunk, plans, strict=True):
                if plan:
                    fitted, label_pairs = plan
                    raw = [next(scores) for _ in label_pairs]
                    results[example.index].update(self._score_result(labels, raw, method, fitted))
            if progress:
                progress(len(chunk))
        return results

    def _score_plan(
        self, example: Example, labels: dict[str, str], method: str
    ) -> tuple[Fitted, list[tuple[list[int], list[int]]]] | str:
        """(the fitted document, the (source, target) pairs to score, in label order) or an error."""
        template, tokenizer = self.template, self.tokenizer
        longest = max(labels.values(), key=len)
        try:
            fitted = fit(template, example.values or {}, tokenizer, self.window, fills=[longest])
        except WindowError as error:
            return str(error)
        texts = fitted.texts
        domain = {name: template.settings.domain.get(name, "") for name in template.fields}
        pairs = []
        for words in labels.values():
            target = encode_document(tokenizer, template.render(texts, fills=[words]).text)
            if method == "channel":
                source = encode_document(
                    tokenizer, template.render(texts, fills=[words], masked_fields=list(texts)).text
                )
            else:
                source = encode_document(tokenizer, template.render(texts).text)
            pairs.append((source, target))
            if method == "pmi":
                pairs.append((
                    encode_document(tokenizer, template.render(domain).text),
                    encode_document(tokenizer, template.render(domain, fills=[words]).text),
                ))  # fmt: skip
        return fitted, pairs  # for pmi: (x, y) then (domain, y), label by label

    @staticmethod
    def _score_result(
        labels: dict[str, str], raw: list[float], method: str, fitted: Fitted
    ) -> dict[str, Any]:
        if method == "pmi":
            raw = [raw[i] - raw[i + 1] for i in range(0, len(raw), 2)]
        scores = dict(zip(labels, raw, strict=True))
        top = max(scores.values())
        total = sum(math.exp(value - top) for value in scores.values())
        return {
            "label": max(scores, key=scores.__getitem__),
            "scores": {label: round(value, 4) for label, value in scores.items()},
            "probabilities": {
                label: round(math.exp(value - top) / total, 4) for label, value in scores.items()
            },
            "cut_tokens": fitted.cut_tokens,
            "cut_units": fitted.cut_units,
        }
