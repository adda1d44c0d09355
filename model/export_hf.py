"""`htlm-export-hf`: a checkpoint folder as a Hugging Face `BartForConditionalGeneration` folder.

fairseq's BART and transformers' BART are the same network under the same parameter names,
so the weights map one to one (`model.` + the fairseq name; the shared embedding also becomes
`model.shared` and `lm_head`). The tokenizer is our SentencePiece model as a `tokenizers` BPE
with fairseq's ids (`htlm.model.hf_tokenizer`). The export is checked before it is kept: the
reloaded folder must give fairseq's logits on the same input and our token ids on the same
text, or the command fails and says by how much.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch
from htlm.model.hf_tokenizer import save_hf_tokenizer
from htlm.model.loading import LoadedModel, load
from htlm.model.task import DICTIONARY_FILE, TOKENIZER_FILE
from htlm.pipeline.tokenizer.specials import BOS_ID, EOS_ID, PAD_ID

# fairseq --activation-fn -> transformers' ACT2FN name of the same function
ACTIVATIONS = {
    "gelu": "gelu",
    "relu": "relu",
    "gelu_accurate": "gelu_new",
    "gelu_fast": "gelu_new",
    "tanh": "tanh",
}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
REPORT_FILE = "htlm_export.json"
# Texts the exported tokenizer must encode to our ids (real pages are checked by the tests).
PROBE_TEXTS = (
    "<html><head><title>Tide tables for <mask>3</title></head><body><h1>Harbour times</h1>"
    '<p>High water at 06:42, low water at 12:58 (3.2 m). <a href="/next">Next day</a></p>'
    "<mask>12</body></html>",
    "naïve café — 日本語のテキスト 😀\n\tindented   <pre>  code  </pre> <s>struck</s>",
)


def hide_mismatched_torchaudio() -> None:
    """Make transformers see no torchaudio when the installed one was built for another torch.

    fairseq's requirements pull the newest torchaudio on PyPI, which need not match the torch
    installed first; transformers imports it whenever it is installed and fails with an
    OSError. Marking it absent (without importing it) is what transformers handles.
    """
    try:
        audio = importlib.metadata.version("torchaudio")
    except importlib.metadata.PackageNotFoundError:
        return
    if audio.split(".")[:2] != torch.__version__.split("+")[0].split(".")[:2]:
        sys.modules["torchaudio"] = None  # type: ignore[assignment]


hide_mismatched_torchaudio()  # before anything imports transformers


class ExportError(ValueError):
    """The checkpoint cannot be expressed as a transformers BART, or the export does not match it."""


def bart_config(args: Any, vocab_size: int) -> dict[str, Any]:
    """transformers `BartConfig` fields for a fairseq BART model config; ExportError where BART differs.

    Refuses what `BartForConditionalGeneration` cannot express (pre-norm layers, no embedding
    layer norm, sinusoidal positions, unequal encoder/decoder widths) instead of exporting a
    model that silently computes something else.
    """
    get = lambda name, default=None: getattr(args, name, default)  # noqa: E731
    problems = []
    if get("encoder_normalize_before") or get("decoder_normalize_before"):
        problems.append("pre-norm layers (--encoder/decoder-normalize-before)")
    if not get("layernorm_embedding"):
        problems.append("no --layernorm-embedding")
    if (
        not get("encoder_learned_pos")
        or not get("decoder_learned_pos", True)
        or get("no_token_positional_embeddings")
    ):
        problems.append("positions that are not learned")
    if get("encoder_embed_dim") != get("decoder_embed_dim") or not get("share_all_embeddings"):
        problems.append("encoder and decoder embeddings that are not one shared table")
    if get("activation_fn") not in ACTIVATIONS:
        problems.append(f"--activation-fn {get('activation_fn')}")
    if problems:
        raise ExportError("transformers' BART has no equivalent for " + "; ".join(problems))
    return {
        "vocab_size": vocab_size,
        "d_model": get("encoder_embed_dim"),
        "encoder_layers": get("encoder_layers"),
        "decoder_layers": get("decoder_layers"),
        "encoder_attention_heads": get("encoder_attention_heads"),
        "decoder_attention_heads": get("decoder_attention_heads"),
        "encoder_ffn_dim": get("encoder_ffn_embed_dim"),
        "decoder_ffn_dim": get("decoder_ffn_embed_dim"),
        "max_position_embeddings": max(get("max_source_positions"), get("max_target_positions")),
        "activation_function": ACTIVATIONS[get("activation_fn")],
        "dropout": get("dropout", 0.1),
        "attention_dropout": get("attention_dropout", 0.0),
        "activation_dropout": get("activation_dropout", 0.0) or get("relu_dropout", 0.0),
        "scale_embedding": not get("no_scale_embedding", True),
        "tie_word_embeddings": True,
        "bos_token_id": BOS_ID,
        "pad_token_id": PAD_ID,
        "eos_token_id": EOS_ID,
        # fairseq feeds the decoder [eos] + target[:-1] and every target starts with <s>
        "decoder_start_token_id": EOS_ID,
        "forced_bos_token_id": BOS_ID,
        "forced_eos_token_id": EOS_ID,
    }


def bart_state_dict(fairseq_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The `BartForConditionalGeneration` state dict of a fairseq BART state dict.

    Drops fairseq's bookkeeping (`*.version`, `_float_tensor`) and the output projection (it is
    the shared embedding); adds `shared`, `lm_head` and a zero `final_logits_bias`.
    """
    embedding = fairseq_state["decoder.embed_tokens.weight"]
    out = {
        f"model.{name}": tensor
        for name, tensor in fairseq_state.items()
        if not name.endswith((".version", "_float_tensor")) and name != "decoder.output_projection.weight"
    }
    out["model.shared.weight"] = embedding
    out["lm_head.weight"] = embedding
    out["final_logits_bias"] = torch.zeros(1, embedding.shape[0], dtype=embedding.dtype)
    return out


def _fairseq_logits(loaded: LoadedModel, source: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
    lengths = torch.tensor([source.shape[1]])
    logits, _ = loaded.model(source, lengths, prev)
    return logits.float()


def verify(loaded: LoadedModel, out_dir: Path, texts: tuple[str, ...] = PROBE_TEXTS) -> dict[str, Any]:
    """Reload `out_dir` with transformers and compare it with the fairseq model it came from.

    Returns the largest absolute logit difference over the probe texts (teacher-forced on the
    text itself: a page as source, the same page as target) and how many texts the exported
    tokenizer encoded to our ids.
    """
    from transformers import AutoTokenizer, BartForConditionalGeneration

    hf_model = BartForConditionalGeneration.from_pretrained(str(out_dir), dtype=torch.float32).eval()
    hf_tokenizer = AutoTokenizer.from_pretrained(str(out_dir))
    loaded.model.float().cpu()
    worst, same_ids = 0.0, 0
    with torch.no_grad():
        for text in texts:
            ours = [BOS_ID, *loaded.tokenizer.encode(text), EOS_ID]
            same_ids += hf_tokenizer(text)["input_ids"] == ours
            source = torch.tensor([ours])
            prev = torch.tensor([[EOS_ID, *ours[:-1]]])
            expected = _fairseq_logits(loaded, source, prev)
            got = hf_model(input_ids=source, decoder_input_ids=prev).logits.float()
            worst = max(worst, (expected - got).abs().max().item())
    return {
        "max_abs_logit_diff": worst,
        "tokenizer_texts_checked": len(texts),
        "tokenizer_texts_equal": same_ids,
    }


def export(
    checkpoint: str | Path, out_dir: str | Path, dtype: str = "float32", tolerance: float = 1e-4
) -> dict[str, Any]:
    """Export a checkpoint (folder or .pt file) to `out_dir`, verify it, and return the report.

    Raises ExportError when the architecture has no BART equivalent or the verification fails
    (the files stay in `out_dir` for inspection, the report says what differed).
    """
    from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig

    out_dir = Path(out_dir)
    loaded = load(checkpoint, device="cpu")
    vocab_size = loaded.model.encoder.embed_tokens.num_embeddings
    config = BartConfig(**bart_config(loaded.cfg.model, vocab_size))
    hf_model = BartForConditionalGeneration(config).eval()
    missing, unexpected = hf_model.load_state_dict(bart_state_dict(loaded.model.state_dict()), strict=False)
    if missing or unexpected:
        raise ExportError(f"weights do not map onto BART: missing {missing}, unexpected {unexpected}")
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_model.generation_config = GenerationConfig.from_model_config(config)
    hf_model.generation_config.num_beams = 5
    hf_model.to(DTYPES[dtype]).save_pretrained(str(out_dir))
    save_hf_tokenizer(loaded.tokenizer, out_dir, vocab_size, config.max_position_embeddings)
    for name in (TOKENIZER_FILE, DICTIONARY_FILE):  # so htlm's own tools read the folder too
        shutil.copyfile(loaded.checkpoint.parent / name, out_dir / name)
    report = {
        "checkpoint": str(loaded.checkpoint),
        "parameters": sum(p.numel() for p in hf_model.parameters()),
        "dtype": dtype,
        "tolerance": tolerance,
        **verify(loaded, out_dir),
    }
    (out_dir / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if report["tokenizer_texts_equal"] != report["tokenizer_texts_checked"]:
        raise ExportError(
            f"{out_dir}: the exported tokenizer encodes the probe texts differently ({REPORT_FILE})"
        )
    if dtype == "float32" and report["max_abs_logit_diff"] > tolerance:
        raise ExportError(
            f"{out_dir}: logits differ from fairseq's by {report['max_abs_logit_diff']:.3g} "
            f"(> --tolerance {tolerance:g}); see {REPORT_FILE}"
        )
    return report


def main(argv: list[str] | None = None) -> int:
    """The `htlm-export-hf` command line."""
    parser = argparse.ArgumentParser(
        prog="htlm-export-hf",
        description="Export an htlm checkpoint to a Hugging Face BartForConditionalGeneration folder "
        "(config.json, model.safetensors, generation_config.json, tokenizer.json with fairseq's ids) and "
        "check it: the reloaded folder must reproduce the fairseq model's logits and our token ids.",
        epilog="Load it with transformers: BartForConditionalGeneration.from_pretrained(OUT) and "
        "AutoTokenizer.from_pretrained(OUT). Write <mask> (optionally followed by a size hint, "
        "<mask>12) in the text for a mask slot.",
    )
    parser.add_argument(
        "checkpoint", help="checkpoint folder (checkpoint_best.pt, else checkpoint_last.pt) or .pt file"
    )
    parser.add_argument("out_dir", help="folder to write; must be empty or new unless --overwrite")
    parser.add_argument(
        "--dtype", choices=sorted(DTYPES), default="float32", help="dtype of the saved weights"
    )
    parser.add_argument(
        "--tolerance", type=float, default=1e-4, help="largest float32 logit difference accepted"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty OUT_DIR (the export's files are replaced, nothing else is deleted)",
    )
    args = parser.parse_args(argv)
    out_dir = Path(args.out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not args.overwrite:
        parser.exit(
            2,
            f"htlm-export-hf: {out_dir} exists and is not an empty folder; pass --overwrite or a new path\n",
        )
    started = time.monotonic()
    try:
        report = export(args.checkpoint, out_dir, dtype=args.dtype, tolerance=args.tolerance)
    except (ExportError, FileNotFoundError, ValueError) as error:
        print(f"htlm-export-hf: {error}", file=sys.stderr)
        return 1
    print(
        f"htlm-export-hf: {report['checkpoint']} -> {out_dir} ({report['parameters']:,} parameters, "
        f"{args.dtype}) in {time.monotonic() - started:.1f} s\n"
        f"  logits vs fairseq: max |diff| {report['max_abs_logit_diff']:.2e} (tolerance {args.tolerance:g})\n"
        f"  tokenizer: {report['tokenizer_texts_equal']}/{report['tokenizer_texts_checked']} probe texts "
        f"encode to the same ids\n"
        f"  load: BartForConditionalGeneration.from_pretrained({str(out_dir)!r})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
