"""`htlm-demo`: the whole chain on bundled real data, CPU only, deterministic.

1. the real ground-truth pages are split (a fixed tenth held out) and the rest wrapped in a WARC;
2. the Beam job (DirectRunner) reads it with the four bundled crawls -> MHTML shards + stats;
3. a SentencePiece tokenizer and a fairseq data-bin;
4. `htlm-train --arch htlm_tiny` for a fixed budget, with a live progress line;
5. zero-shot titles for the held-out pages (`<title><mask>N</title>` over their MHTML body),
   ROUGE against two baselines, length control by size hints, held-out perplexity;
6. `report.html` with the funnel, lengths, loss curve, samples and results.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from htlm.demo import plots, report
from htlm.demo.pages import ground_truth_pages, is_held_out, write_warc

BUNDLED_WARCS = (
    "cc-whirlwind/whirlwind.warc.gz", "dolma-wget-warc/sample-0000.warc.gz",
    "resiliparse-fastwarc/clueweb-quirk.warc.gz", "resiliparse-fastwarc/warcfile.warc.gz",
)  # fmt: skip
HELD_OUT_SHARE = 0.1
DISCLAIMER = (
    "The model is htlm_tiny (1.7M parameters) trained for minutes on a CPU over a few hundred pages: "
    "the numbers show that every stage runs end to end and how the measurements are made, not what "
    "HTLM reaches (the paper: BART-large, 23 TB of MHTML, 330k updates on 256 GPUs)."
)


@dataclass(frozen=True)
class DemoConfig:
    """One demo size: the training budget and the prompting settings."""

    arch: str = "htlm_tiny"
    vocab_size: int = 4000
    tokens_per_sample: int = 128
    batch_size: int = 16
    max_update: int = 600
    lr: float = 1e-3
    beam: int = 5
    retries: int = 5
    held_out_limit: int | None = None
    extra_train: tuple[str, ...] = ("--cpu",)


QUICK = DemoConfig(max_update=12, beam=1, retries=0, held_out_limit=4)
GPU = DemoConfig(arch="htlm_base", vocab_size=8000, tokens_per_sample=512, batch_size=32, max_update=5000,
                 lr=5e-4, extra_train=("--bf16",))  # fmt: skip


def script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def run_step(title: str, argv: list[str], log: Path) -> None:
    """Run one stage's console script: its progress bars (stderr) live, its output shown and kept in
    `log`; exit with the log's tail on failure."""
    print(
        f"[{title}] {' '.join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv))}", flush=True
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            print("  " + line, end="", flush=True)
        returncode = process.wait()
    if returncode:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"htlm-demo: {title} failed (exit {returncode}); {log}:\n{tail}")


def train(shard: Path, save: Path, config: DemoConfig, log: Path) -> list[tuple[float, float]]:
    """htlm-train with a live progress line; returns the (update, loss) curve from its log."""
    from tqdm import tqdm

    argv = [
        script("htlm-train"), str(shard), "--arch", config.arch, "--criterion", "cross_entropy",
        "--optimizer", "adam", "--lr", str(config.lr), "--lr-scheduler", "inverse_sqrt",
        "--warmup-updates", "50",
        "--clip-norm", "1.0", "--dropout", "0", "--attention-dropout", "0",
        "--tokens-per-sample", str(config.tokens_per_sample), "--batch-size", str(config.batch_size),
        "--max-update", str(config.max_update), "--log-interval", "10", "--log-format", "simple",
        "--num-workers", "0", "--seed", "1", "--no-epoch-checkpoints", "--save-dir", str(save),
        *config.extra_train,
    ]  # fmt: skip
    print(f"[train] htlm-train {config.arch}, {config.max_update} updates -> {save}", flush=True)
    curve: list[tuple[float, float]] = []
    with (
        open(log, "w", encoding="utf-8") as out,
        tqdm(total=config.max_update, unit="update", disable=None) as bar,
    ):
        # fairseq logs to stdout, which a pipe would buffer: unbuffered, the progress line is live
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            match = re.search(r"train_inner\W.*? loss=([0-9.]+).*? num_updates=(\d+)", line)
            if match:
                loss, updates = float(match.group(1)), int(match.group(2))
                curve.append((updates, loss))
                bar.update(updates - bar.n)
                bar.set_postfix(loss=f"{loss:.3f}")
        if process.wait():
            raise SystemExit(f"htlm-demo: training failed; {log}:\n{log.read_text()[-3000:]}")
        bar.update(config.max_update - bar.n)
    return curve


def read_documents(folder: Path) -> list[dict[str, Any]]:
    documents = []
    for path in sorted(folder.glob("documents-*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            documents.extend(json.loads(line) for line in lines)
    return documents


def main(argv: list[str] | None = None) -> int:
    """The `htlm-demo` command line."""
    parser = argparse.ArgumentParser(prog="htlm-demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument(
        "--data", type=Path, default=Path("tests/data"), help="the bundled real data (tests/data)"
    )
    parser.add_argument("--output", type=Path, default=Path("out/demo"), help="where everything goes")
    parser.add_argument(
        "--quick", action="store_true", help="seconds of training: checks the chain, not the model"
    )
    parser.add_argument(
        "--gpu", action="store_true", help="htlm_base, 512 tokens, 5000 bf16 updates on a GPU"
    )
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="WARC",
        help="more WARC files for the Beam job (e.g. more data for --gpu); repeatable",
    )
    args = parser.parse_args(argv)
    if not (args.data / "pages" / "mozilla-readability").is_dir() or not (args.data / "warc").is_dir():
        parser.error(
            f"--data {args.data}: no bundled pages/ and warc/ there; run from the checkout or pass --data"
        )
    config = QUICK if args.quick else GPU if args.gpu else DemoConfig()
    started = time.monotonic()
    out = args.output
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    # 1. pages: held out, and the rest as a WARC
    pages = ground_truth_pages(args.data / "pages")
    held = [page for page in pages if is_held_out(page.url, HELD_OUT_SHARE)]
    demo_warc = out / "input" / "demo-pages.warc.gz"
    wrapped = write_warc([page for page in pages if not is_held_out(page.url, HELD_OUT_SHARE)], demo_warc)
    print(f"[pages] {len(pages)} real ground-truth pages: {wrapped} in {demo_warc}, {len(held)} held out")

    # 2-3. the Beam job, the tokenizer, the data-bin
    warcs = [*(str(args.data / "warc" / name) for name in BUNDLED_WARCS), str(demo_warc), *args.input]
    data = out / "data"
    inputs = [arg for warc in warcs for arg in ("--input", warc)]
    run_step(
        "beam job",
        [script("htlm-pipeline"), *inputs, "--output", str(data)],
        logs / "pipeline.log",
    )
    documents = read_documents(data)
    shards = f"{data}/documents-*.jsonl.gz"
    prefix = out / "tokenizer" / "spm"
    tokenizer_argv = [
        "train",
        "--input",
        shards,
        "--model-prefix",
        str(prefix),
        "--vocab-size",
        str(config.vocab_size),
    ]
    run_step("tokenizer", [script("htlm-tokenizer"), *tokenizer_argv], logs / "tokenizer.log")
    run_step("data-bin", [script("htlm-tokenizer"), "binarize", "--input", shards, "--spm-model",
                          f"{prefix}.model", "--destdir", str(out / "data-bin"), "--valid-fraction", "0.1"],
             logs / "binarize.log")  # fmt: skip

    # 4. training
    curve = train(out / "data-bin" / "shard0", out / "checkpoints", config, logs / "train.log")

    # 5. prompting and measurements
    from tqdm import tqdm

    from htlm.demo import evaluate
    from htlm.model import load
    from htlm.pipeline.simplify import MHTML, simplify
    from htlm.prompts.fields import PROMPT_SIMPLIFY

    loaded = load(out / "checkpoints", device="cpu" if not args.gpu else None)
    held_pages = []
    for page in held[: config.held_out_limit]:
        result = simplify(page.html, PROMPT_SIMPLIFY)
        if isinstance(result, MHTML) and result.title:
            html = page.html.decode("utf-8", "replace")
            held_pages.append(evaluate.HeldOutPage(page.name, html, result.html, result.title))
    training_titles = [doc["title"] for doc in documents if doc.get("title")]
    hint = round(statistics.mean(len(loaded.tokenizer.encode(t)) for t in training_titles))
    lead = round(statistics.mean(len(t.split()) for t in training_titles))
    engine = {"beam": config.beam, "retries": config.retries, "batch_size": 8}
    print(
        f"[prompts] titles of {len(held_pages)} held-out pages, size hint s̄ = {hint} (training titles' mean)"
    )
    with tqdm(total=len(held_pages), unit="page", desc="titles", disable=None) as bar:
        generated = evaluate.title_results(loaded, held_pages, hint, progress=bar.update, **engine)
    with tqdm(total=4 * len(held_pages), unit="page", desc="length control", disable=None) as bar:
        gaps = evaluate.length_control(
            loaded, held_pages, beam=config.beam, batch_size=8, progress=bar.update
        )
    window = loaded.cfg.task.tokens_per_sample
    results = {
        "disclaimer": DISCLAIMER,
        "config": config.__dict__ | {"extra_train": list(config.extra_train)},
        "size_hint": hint,
        "rouge": evaluate.rouge_with_baselines(generated, held_pages, lead),
        "length_control": gaps,
        "perplexity": {
            "MHTML": evaluate.denoising_perplexity(loaded, [p.mhtml for p in held_pages], window),
            "the same pages as plain text": evaluate.denoising_perplexity(
                loaded, [evaluate.body_text(p.mhtml) for p in held_pages], window
            ),
        },
        "loss_curve": curve,
        "examples": [
            {
                "name": page.name,
                "title": page.title,
                **{k: r.get(k) for k in ("answer", "size_hints", "attempts")},
            }
            for page, r in zip(held_pages, generated, strict=True)
        ],
    }
    (out / "results.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    stats = json.loads((data / "stats.json").read_text(encoding="utf-8"))
    report.write(out / "report.html", results, stats, documents)
    figures = plots.write_pngs(out / "figures", results, [len(doc["mhtml"]) for doc in documents])
    print(summary(results, stats, out, time.monotonic() - started))
    print(f"  figures: {', '.join(str(path) for path in figures)}")
    return 0


def summary(results: dict[str, Any], stats: dict[str, Any], out: Path, seconds: float) -> str:
    """The end-of-demo summary: what was measured and where each artifact went."""
    rouge, gaps = results["rouge"], results["length_control"]
    final_loss = results["loss_curve"][-1][1] if results["loss_curve"] else float("nan")
    lines = [
        f"htlm-demo: done in {seconds / 60:.1f} min",
        f"  data: {stats.get('records_in')} records in, {stats.get('kept')} MHTML documents kept "
        f"-> {out / 'data'}",
        f"  model: {results['config']['arch']}, {results['config']['max_update']} updates, final train loss "
        f"{final_loss:.3f} -> {out / 'checkpoints'}",
        f"  held-out titles (ROUGE-1/2/L, size hint {results['size_hint']}):",
        *[
            f"    {name:38} {r['rouge1']:6.2f} {r['rouge2']:6.2f} {r['rougeL']:6.2f}"
            for name, r in rouge.items()
        ],
        "  length control, mean |length - hint| with / without the hint: "
        + ", ".join(
            f"{h}: {gaps['with the hint'][h]:.2f} / {gaps['without a hint'][h]:.2f}"
            for h in gaps["with the hint"]
        ),
        "  held-out perplexity: " + ", ".join(f"{k} {v:.2f}" for k, v in results["perplexity"].items()),
        f"  report: {out / 'report.html'}   results: {out / 'results.json'}",
        f"  ({results['disclaimer']})",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
