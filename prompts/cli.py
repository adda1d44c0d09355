"""`htlm-prompt`: run an HTML prompt over a JSONL file with a checkpoint, and evaluate the answers.

    htlm-prompt --checkpoint checkpoints/tiny --prompt title-summary \\
        --input articles.jsonl --output titles.jsonl --metric rouge

One output row per input line, in order: the answer (generate) or the chosen label with every
label's score (classify), the perplexity, how much of the input was cut to fit the window,
and an `error` for a row that could not be used (counted in the summary, never dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from htlm.prompts.metrics import evaluate, format_confusion
from htlm.prompts.template import TemplateError, load_template

TEMPLATES = Path(__file__).with_name("templates")
MAX_LINE_BYTES = 16 * 1024 * 1024


def shipped_prompts() -> dict[str, Path]:
    """The prompt files that come with htlm, by name (file name without .html)."""
    return {path.stem: path for path in sorted(TEMPLATES.glob("*.html"))}


def resolve_prompt(name: str) -> Path:
    """A prompt file path: `name` as given when such a file exists, else a shipped prompt's name."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = shipped_prompts()
    if name in shipped or name.removesuffix(".html") in shipped:
        return shipped[name.removesuffix(".html")]
    raise TemplateError(
        f"{name}: no such prompt file, and no shipped prompt of that name ({', '.join(shipped)})"
    )


def read_rows(path: Path) -> list[Any]:
    """The input rows; a line that is not JSON (or too long) becomes a row whose error says so."""
    rows: list[Any] = []
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            if len(line) > MAX_LINE_BYTES:
                rows.append(_BadRow(f"line {number}: {len(line):,} bytes; at most {MAX_LINE_BYTES:,}"))
                continue
            try:
                rows.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                rows.append(_BadRow(f"line {number}: not JSON ({error})"))
    return rows


class _BadRow:
    """A line that could not be read: prepare() turns it into a row with this error."""

    def __init__(self, error: str) -> None:
        self.error = error


def build_parser() -> argparse.ArgumentParser:
    shipped = ", ".join(shipped_prompts())
    parser = argparse.ArgumentParser(
        prog="htlm-prompt",
        description="Zero-shot prompting with an HTML template: fill it with each input row, let the model "
        "regenerate the document, and read the answer out of the mask slot (generate), or choose the label "
        "whose filled document scores best (classify).",
        epilog=f"Shipped prompts: {shipped}. Prompt files: prompts/templates/*.html show the format (front "
        "matter, {{field}} placeholders, <mask> or <mask>N slots).",
    )
    parser.add_argument("--checkpoint", help="checkpoint folder (or .pt file) written by htlm-train")
    parser.add_argument("--prompt", help="prompt file, or the name of a shipped prompt")
    parser.add_argument("--input", type=Path, help="JSONL file: one object per line with the prompt's fields")
    parser.add_argument("--output", type=Path, help="JSONL file to write, one result per input line")
    parser.add_argument("--metric", choices=("rouge", "accuracy"), help="evaluate against the prompt's "
                        "reference field (default: rouge for generate, accuracy for classify)")  # fmt: skip
    parser.add_argument(
        "--scoring",
        choices=("loglik", "pmi", "channel"),
        default="loglik",
        help="classify: log-likelihood of the filled document (HTLM), domain-conditional PMI, "
        "or noisy channel P(input | label)",
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--beam", type=int, help="beam size (default: the prompt's, else 5)")
    parser.add_argument("--top-p", type=float, help="sample with nucleus top-p instead of beam search")
    parser.add_argument("--size-hint", type=int, help="size hint for every slot (default: the prompt's)")
    parser.add_argument("--window", type=int, help="tokens per document (default: the checkpoint's "
                        "--tokens-per-sample); longer inputs are cut")  # fmt: skip
    parser.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    parser.add_argument("--seed", type=int, default=1, help="seed for --top-p sampling")
    parser.add_argument("--limit", type=int, help="only the first N input rows")
    parser.add_argument("--list-prompts", action="store_true", help="list the shipped prompts and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    """The `htlm-prompt` command line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_prompts:
        for name, path in shipped_prompts().items():
            template = load_template(path)
            print(f"{name:22} {template.settings.task:9} {template.settings.description}")
        return 0
    missing = [flag for flag in ("checkpoint", "prompt", "input", "output") if getattr(args, flag) is None]
    if missing:
        parser.error("needs " + ", ".join(f"--{flag}" for flag in missing))
    try:
        template = load_template(resolve_prompt(args.prompt))
    except TemplateError as error:
        print(f"htlm-prompt: {error}", file=sys.stderr)
        return 2
    if not args.input.is_file():
        print(f"htlm-prompt: --input {args.input}: no such file", file=sys.stderr)
        return 2
    if args.output.resolve() == args.input.resolve():
        print("htlm-prompt: --output is the --input file; choose another path", file=sys.stderr)
        return 2
    from htlm.model import load
    from htlm.prompts.engine import PromptEngine
    from tqdm import tqdm

    started = time.monotonic()
    try:
        loaded = load(args.checkpoint, device=args.device)
    except (FileNotFoundError, ValueError) as error:
        print(f"htlm-prompt: {error}", file=sys.stderr)
        return 2
    engine = PromptEngine(
        loaded, template, window=args.window, batch_size=args.batch_size, beam=args.beam, top_p=args.top_p,
        size_hint=args.size_hint, seed=args.seed,
    )  # fmt: skip
    rows = read_rows(args.input)[: args.limit]
    clean = [row if not isinstance(row, _BadRow) else None for row in rows]
    with tqdm(total=len(rows), unit="row", desc=template.settings.task, disable=None) as bar:
        if template.settings.task == "classify":
            results = engine.score(clean, method=args.scoring, progress=bar.update)
        else:
            results = engine.generate(clean, progress=bar.update)
    for row, result in zip(rows, results, strict=True):
        if isinstance(row, _BadRow):
            result["error"] = row.error
    metric = args.metric or ("accuracy" if template.settings.task == "classify" else "rouge")
    summary = evaluate(results, metric) if template.settings.reference else None
    _write(args.output, results)
    print(format_summary(results, summary, args, engine.window, time.monotonic() - started))
    return 0


def _write(path: Path, results: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    with open(partial, "w", encoding="utf-8") as out:
        for result in results:
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
    os.replace(partial, path)


def format_summary(
    results: list[dict[str, Any]], summary: dict[str, Any] | None, args: argparse.Namespace, window: int,
    seconds: float,
) -> str:  # fmt: skip
    """The end-of-run summary: counts, errors by kind, cuts, the metric table, where the output went."""
    errors = Counter(str(r["error"]).split(":")[0].split(" (")[0] for r in results if r.get("error"))
    lines = [
        f"htlm-prompt: {len(results)} rows in {seconds:.1f} s "
        f"({len(results) / max(seconds, 1e-9):.2f} rows/s), window {window} tokens",
        f"  ok: {len(results) - sum(errors.values())}   errors: {sum(errors.values())}",
    ]
    lines += [f"    {count} x {reason}" for reason, count in errors.most_common(5)]
    if any("extracted" in r for r in results):
        lines.append(f"  no answer extracted: {sum(1 for r in results if r.get('extracted') is False)}")
    cut = [r for r in results if r.get("cut_tokens")]
    if cut:
        lines.append(
            f"  cut to fit the window: {len(cut)} rows, {sum(r['cut_tokens'] for r in cut):,} tokens"
        )
    if summary and summary["metric"] == "rouge":
        scores = " / ".join(f"{summary[name]:.2f}" for name in ("rouge1", "rouge2", "rougeL"))
        lines.append(f"  ROUGE-1/2/L over {summary['rows']} rows: {scores}")
    elif summary:
        lines.append(f"  accuracy over {summary['rows']} rows: {summary['accuracy']:.2f}%")
        lines += ["    " + line for line in format_confusion(summary["confusion"]).split("\n")]
    lines.append(f"  output: {args.output}")
    return "\n".join(lines)


def autoprompt_main(argv: list[str] | None = None) -> int:
    """The `htlm-autoprompt` command line: write a new prompt file from a few examples."""
    parser = argparse.ArgumentParser(
        prog="htlm-autoprompt",
        description="Auto-prompting: wrap each example's fields and answer in masks, let the model write the "
        "HTML around them, and save the best result (lowest perplexity) as a prompt file for htlm-prompt.",
    )
    parser.add_argument("--checkpoint", required=True, help="checkpoint folder (or .pt file)")
    parser.add_argument("--examples", required=True, type=Path, help="JSONL file of examples of the task")
    parser.add_argument("--fields", required=True, help="comma-separated input fields, in document order")
    parser.add_argument("--answer", required=True, help="the field holding each example's answer")
    parser.add_argument("--output", required=True, type=Path, help="prompt file to write (.html)")
    parser.add_argument("--limit", type=int, default=8, help="examples to try (default 8)")
    parser.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")
    args = parser.parse_args(argv)
    fields = [name.strip() for name in args.fields.split(",") if name.strip()]
    rows = [row for row in read_rows(args.examples) if isinstance(row, dict)][: args.limit]
    usable = [row for row in rows if all(isinstance(row.get(name), str) for name in [*fields, args.answer])]
    if not usable:
        print(f"htlm-autoprompt: no example in {args.examples} has string fields {[*fields, args.answer]}",
              file=sys.stderr)  # fmt: skip
        return 2
    from htlm.model import load
    from htlm.prompts.autoprompt import autoprompt, wrap_template
    from htlm.prompts.engine import PromptEngine

    try:
        loaded = load(args.checkpoint, device=args.device)
    except (FileNotFoundError, ValueError) as error:
        print(f"htlm-autoprompt: {error}", file=sys.stderr)
        return 2
    engine = PromptEngine(loaded, wrap_template(len(fields) + 1))
    try:
        result = autoprompt(engine, usable, fields, args.answer)
    except TemplateError as error:
        print(f"htlm-autoprompt: {error}", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(result.text, encoding="utf-8")
    print(
        f"htlm-autoprompt: {len(usable)} examples tried; example {result.example} "
        f"(perplexity {result.perplexity:.2f}{'' if result.reproduced else ', blocks not reproduced'}) "
        f"-> {args.output}\n  use it: htlm-prompt --prompt {args.output} ..."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
