"""The `htlm` model (fairseq's BART with a vocabulary check on load) and its three sizes.

`htlm_tiny` trains on a CPU in the tests, `htlm_base` has BART-base sizes and `htlm_large`
BART-large sizes (the paper's model, ~400M parameters with a 50k vocabulary). All have
learned positions up to 1024, dropout 0.1 and attention dropout 0.1 (the paper's value for
its first 170k steps; pass `--attention-dropout 0` for the rest).
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from fairseq.models import register_model, register_model_architecture
from fairseq.models.bart import BARTModel
from fairseq.models.bart.model import bart_base_architecture, bart_large_architecture
from htlm.model.checkpoints import load_checkpoint_file

logger = logging.getLogger(__name__)

# The tables indexed by token id: meaningless under another vocabulary, so always re-initialised.
EMBEDDING_KEYS = (
    "encoder.embed_tokens.weight",
    "decoder.embed_tokens.weight",
    "decoder.output_projection.weight",
)


class VocabularyMismatchError(ValueError):
    """A checkpoint's embedding table does not fit the dictionary the model was built with."""


def check_vocabulary(state_dict: dict[str, Any], expected: int, where: str = "the checkpoint") -> None:
    """Raise VocabularyMismatchError (naming both sizes) unless the embeddings have `expected` rows."""
    weight = state_dict.get("encoder.embed_tokens.weight")
    if weight is not None and weight.shape[0] != expected:
        raise VocabularyMismatchError(
            f"{where} has embeddings for {weight.shape[0]} symbols, the dictionary of this run has "
            f"{expected}: it was trained with another tokenizer/dict.txt. Use the data-bin made with "
            f"that checkpoint's tokenizer, or start from it with the embeddings reset "
            f"(README: continuing from BART-large)."
        )


@register_model("htlm")
class HtlmModel(BARTModel):
    """BART, as HTLM uses it; loading a checkpoint of another vocabulary says so plainly.

    `--init-from-bart CHECKPOINT` starts from a BART checkpoint of another vocabulary (the
    paper starts from BART-large): every tensor of the same name and shape is copied, the
    token embeddings (shared with the output projection) keep their fresh initialisation.
    """

    @staticmethod
    def add_args(parser: Any) -> None:
        BARTModel.add_args(parser)
        parser.add_argument(
            "--init-from-bart",
            metavar="CHECKPOINT",
            default=None,
            help="copy the weights of a BART checkpoint (e.g. bart.large/model.pt) except the token "
            "embeddings, which are re-initialised for this vocabulary; a resume from checkpoint_last.pt "
            "overrides them as usual",
        )

    @classmethod
    def build_model(cls, args: Any, task: Any) -> HtlmModel:
        model = super().build_model(args, task)
        source = getattr(args, "init_from_bart", None)
        if source:
            reused, skipped = transfer_weights(model, load_checkpoint_file(source)["model"])
            logger.info(
                "--init-from-bart %s: copied %d tensors (%s parameters); re-initialised: %s",
                source,
                len(reused),
                f"{sum(model.state_dict()[name].numel() for name in reused):,}",
                ", ".join(skipped) or "nothing",
            )
        return model

    def load_state_dict(self, state_dict, strict=True, model_cfg=None, args=None):  # type: ignore[override]
        check_vocabulary(state_dict, self.encoder.embed_tokens.num_embeddings)
        return super().load_state_dict(state_dict, strict=strict, model_cfg=model_cfg, args=args)


def transfer_weights(model: torch.nn.Module, source: dict[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """Copy into `model` every tensor of `source` with the same name and shape, token embeddings excepted.

    Returns (copied names, names left as initialised: embeddings, and any missing or of another shape).
    """
    target = model.state_dict()
    reused = [
        name
        for name, tensor in target.items()
        if name not in EMBEDDING_KEYS and name in source and source[name].shape == tensor.shape
    ]
    model.load_state_dict({**target, **{name: source[name] for name in reused}}, strict=True)
    return reused, [name for name in target if name not in reused and not name.endswith("version")]


def _htlm_defaults(args: Any) -> None:
    args.dropout = getattr(args, "dropout", 0.1)
    args.attention_dropout = getattr(args, "attention_dropout", 0.1)
    args.max_source_positions = getattr(args, "max_source_positions", 1024)
    args.max_target_positions = getattr(args, "max_target_positions", 1024)


@register_model_architecture("htlm", "htlm_large")
def htlm_large(args: Any) -> None:
    """BART-large: 12 + 12 layers of width 1024, 16 heads, FFN 4096."""
    _htlm_defaults(args)
    bart_large_architecture(args)


@register_model_architecture("htlm", "htlm_base")
def htlm_base(args: Any) -> None:
    """BART-base: 6 + 6 layers of width 768, 12 heads, FFN 3072."""
    _htlm_defaults(args)
    bart_base_architecture(args)


@register_model_architecture("htlm", "htlm_tiny")
def htlm_tiny(args: Any) -> None:
    """2 + 2 layers of width 128, 4 heads, FFN 512: minutes on a CPU, for tests and the demo."""
    args.encoder_embed_dim = getattr(args, "encoder_embed_dim", 128)
    args.encoder_ffn_embed_dim = getattr(args, "encoder_ffn_embed_dim", 512)
    args.encoder_layers = getattr(args, "encoder_layers", 2)
    args.encoder_attention_heads = getattr(args, "encoder_attention_heads", 4)
    args.decoder_layers = getattr(args, "decoder_layers", 2)
    args.decoder_attention_heads = getattr(args, "decoder_attention_heads", 4)
    args.decoder_ffn_embed_dim = getattr(args, "decoder_ffn_embed_dim", 512)
    _htlm_defaults(args)
    bart_large_architecture(args)
