"""fairseq task `htlm_denoising`: BART text infilling with HTLM's size hints over our data-bin.

    fairseq-train data-bin/shard0:data-bin/shard1 --user-dir model \\
        --task htlm_denoising --arch htlm_base --criterion cross_entropy ...

The data-bin is `htlm-tokenizer binarize`'s output; the tokenizer it was made with is found
beside it (`--spm-model` overrides), checked against `dict.txt`, and copied with `dict.txt`
next to the checkpoints when training starts, so a checkpoint folder stands alone
(`htlm.model.load`).
"""

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Optional

from fairseq import utils
from fairseq.data import (
    AppendTokenDataset,
    Dictionary,
    PrependTokenDataset,
    StripTokenDataset,
    TokenBlockDataset,
    data_utils,
)
from fairseq.data.indexed_dataset import get_available_dataset_impl
from fairseq.dataclass import ChoiceEnum, FairseqDataclass
from fairseq.tasks import FairseqTask, register_task
from htlm.model.dataset import DocumentBlocks, HtlmDenoisingDataset
from htlm.model.noising import NoiseConfig, word_flags
from htlm.pipeline.tokenizer.encoder import Tokenizer
from omegaconf import II, MISSING

logger = logging.getLogger(__name__)

TOKENIZER_FILE = "spm.model"  # the tokenizer's name beside the checkpoints (and in a data-bin)
DICTIONARY_FILE = "dict.txt"


@dataclass
class HtlmDenoisingConfig(FairseqDataclass):
    data: str = field(
        default=MISSING,
        metadata={
            "help": "data-bin shard folders joined by ':' (one per epoch), from htlm-tokenizer binarize"
        },
    )
    spm_model: str = field(
        default="",
        metadata={
            "help": "the SentencePiece model the data-bin was made with (default: spm.model in or beside "
            "the data-bin, else the path in its stats.json)"
        },
    )
    tokens_per_sample: int = field(
        default=512, metadata={"help": "tokens per sample, <s> and </s> included (the paper: 1024)"}
    )
    sample_break_mode: ChoiceEnum(["document", "none"]) = field(  # type: ignore[valid-type]
        default="document",
        metadata={
            "help": "document: a sample is one document or a block of one (long ones are cut into blocks); "
            "none: documents packed into full blocks across document boundaries"
        },
    )
    mask_ratio: float = field(default=0.3, metadata={"help": "share of words masked (BART's 0.3)"})
    poisson_lambda: float = field(default=3.5, metadata={"help": "mean masked span length in words"})
    size_hint_prob: float = field(default=0.8, metadata={"help": "share of masks followed by a size hint"})
    size_hint_noise: float = field(
        default=0.1, metadata={"help": "ε: hint ~ max(1, floor(N(m, m·ε))) for a span of m tokens"}
    )
    max_source_positions: int = field(default=1024, metadata={"help": "max tokens of a source"})
    max_target_positions: int = field(default=1024, metadata={"help": "max tokens of a target"})
    seed: int = II("common.seed")
    dataset_impl: Optional[ChoiceEnum(get_available_dataset_impl())] = II("dataset.dataset_impl")  # type: ignore[valid-type]  # noqa: UP045, RUF009 (fairseq reads both)
    save_dir: str = II("checkpoint.save_dir")


class DataBinError(ValueError):
    """A data-bin that cannot be trained on, with what to do about it."""


def find_tokenizer(data_path: str, explicit: str = "") -> Path:
    """The tokenizer of a data-bin shard folder: `explicit`, else spm.model in or beside the
    folder, else the path binarize recorded in the data-bin's stats.json."""
    if explicit:
        if not Path(explicit).is_file():
            raise DataBinError(f"--spm-model {explicit}: no such file")
        return Path(explicit)
    folder = Path(data_path)
    for candidate in (folder / TOKENIZER_FILE, folder.parent / TOKENIZER_FILE):
        if candidate.is_file():
            return candidate
    for stats in (folder / "stats.json", folder.parent / "stats.json"):
        if stats.is_file():
            recorded = json.loads(stats.read_text(encoding="utf-8")).get("tokenizer", "")
            if recorded and Path(recorded).is_file():
                return Path(recorded)
    raise DataBinError(
        f"{data_path}: found no tokenizer for this data-bin (no {TOKENIZER_FILE} in or beside it, none "
        f"recorded in its stats.json): pass --spm-model, the model `htlm-tokenizer binarize` used"
    )


def check_dictionary(dictionary: Dictionary, tokenizer: Tokenizer, where: str) -> None:
    """Raise DataBinError unless `dict.txt` holds the tokenizer's symbols in the tokenizer's id order."""
    symbols = tokenizer.symbols
    ours = [dictionary[i] for i in range(len(dictionary))]
    if ours == symbols:
        return
    first = next((i for i, (a, b) in enumerate(zip(ours, symbols, strict=False)) if a != b), None)
    detail = (
        f"id {first} is {ours[first]!r} in dict.txt and {symbols[first]!r} in the tokenizer"
        if first is not None
        else f"dict.txt has {len(ours)} symbols, the tokenizer {len(symbols)}"
    )
    raise DataBinError(
        f"{where}: dict.txt does not match the tokenizer ({detail}); binarize the documents again "
        f"with this tokenizer, or pass --spm-model with the one the data-bin was made with"
    )


def hint_table(tokenizer: Tokenizer, size: int) -> list[list[int]]:
    """The ids of the decimal numbers 0 .. size-1 as written after `<mask>` (`Tokenizer.mask_token_ids`)."""
    return [tokenizer.mask_token_ids(n)[1:] for n in range(size)]


def _copy_if_changed(source: Path, target: Path) -> None:
    if target.is_file() and target.read_bytes() == source.read_bytes():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(handle)
    shutil.copyfile(source, temporary)
    os.replace(temporary, target)


@register_task("htlm_denoising", dataclass=HtlmDenoisingConfig)
class HtlmDenoisingTask(FairseqTask):
    """BART denoising with size hints; the dictionary is the data-bin's `dict.txt` (which has `<mask>`)."""

    cfg: HtlmDenoisingConfig

    def __init__(
        self, cfg: HtlmDenoisingConfig, dictionary: Dictionary, tokenizer: Tokenizer, spm_path: Path
    ):
        super().__init__(cfg)
        self.dictionary = dictionary
        self.tokenizer = tokenizer
        self.spm_path = spm_path
        # Idempotent: a dictionary made by our tokenizer already holds <mask> (id 4), so training and
        # inference agree on ids and embedding size whether or not this line has run before.
        self.mask_idx = dictionary.add_symbol("<mask>")
        if self.mask_idx != tokenizer.mask_id:
            raise DataBinError(
                f"<mask> is id {self.mask_idx} in dict.txt, {tokenizer.mask_id} in the tokenizer"
            )
        self.begins_word, self.ends_word = word_flags(tokenizer.symbols)

    @classmethod
    def setup_task(cls, cfg: HtlmDenoisingConfig, **kwargs: Any) -> "HtlmDenoisingTask":
        """Read dict.txt and the tokenizer of the first data path and check they agree."""
        paths = utils.split_paths(cfg.data)
        if not paths:
            raise DataBinError(
                "no data-bin given: fairseq-train DATA-BIN/shard0[:shard1...] --task htlm_denoising"
            )
        first = paths[0]
        if not (Path(first) / DICTIONARY_FILE).is_file():
            raise DataBinError(
                f"{first}: no {DICTIONARY_FILE}: not a data-bin shard folder (give DESTDIR/shard0 of "
                f"`htlm-tokenizer binarize`, not DESTDIR)"
                if not (Path(first) / "shard0").is_dir()
                else f"{first}: give its shard folders, e.g. {first}/shard0"
            )
        if cfg.tokens_per_sample > min(cfg.max_source_positions, cfg.max_target_positions):
            raise DataBinError(
                f"--tokens-per-sample {cfg.tokens_per_sample} exceeds the model's "
                f"{min(cfg.max_source_positions, cfg.max_target_positions)} positions "
                f"(--max-source-positions/--max-target-positions)"
            )
        dictionary = Dictionary.load(str(Path(first) / DICTIONARY_FILE))
        spm_path = find_tokenizer(first, cfg.spm_model)
        tokenizer = Tokenizer(spm_path)
        check_dictionary(dictionary, tokenizer, first)
        logger.info("dictionary: %d types; tokenizer %s", len(dictionary), spm_path)
        return cls(cfg, dictionary, tokenizer, spm_path)

    @property
    def noise_config(self) -> NoiseConfig:
        return NoiseConfig(
            mask_ratio=self.cfg.mask_ratio,
            poisson_lambda=self.cfg.poisson_lambda,
            hint_prob=self.cfg.size_hint_prob,
            hint_noise=self.cfg.size_hint_noise,
        )

    @cached_property
    def hint_table(self) -> list[list[int]]:
        # Hints of spans up to 4x the longest sample are written exactly (beyond: > 30 σ for ε = 0.1).
        return hint_table(self.tokenizer, 4 * self.cfg.tokens_per_sample + 1)

    def load_blocks(self, split: str, epoch: int = 1, combine: bool = False) -> Any:
        """`<s> block </s>` items of one split of the epoch's shard folder."""
        paths = utils.split_paths(self.cfg.data)
        data_path = paths[(epoch - 1) % len(paths)]
        split_path = os.path.join(data_path, split)
        if not os.path.isfile(split_path + ".idx"):
            raise DataBinError(
                f"{split_path}.bin/.idx: not found (shard folders hold train.*; shard0 also valid.*)"
            )
        if os.path.getsize(split_path + ".bin") == 0:  # fairseq cannot memory-map an empty file
            raise DataBinError(f"{split_path}: the split holds no documents: nothing to train on")
        dataset = data_utils.load_indexed_dataset(
            split_path, self.dictionary, self.cfg.dataset_impl, combine=combine
        )
        documents = StripTokenDataset(dataset, self.dictionary.eos())
        bos, eos, block = self.dictionary.bos(), self.dictionary.eos(), self.cfg.tokens_per_sample - 2
        if self.cfg.sample_break_mode == "document":
            return DocumentBlocks(documents, documents.sizes, block, bos, eos)
        packed = TokenBlockDataset(
            documents,
            documents.sizes,
            block,
            pad=self.dictionary.pad(),
            eos=eos,
            break_mode="none",
            document_sep_len=0,
        )
        return AppendTokenDataset(PrependTokenDataset(packed, bos), eos)

    def load_dataset(self, split: str, epoch: int = 1, combine: bool = False, **kwargs: Any) -> None:
        """The noised split: `HtlmDenoisingDataset` over the split's blocks."""
        blocks = self.load_blocks(split, epoch, combine)
        self.datasets[split] = HtlmDenoisingDataset(
            blocks,
            blocks.sizes,
            pad=self.dictionary.pad(),
            eos=self.dictionary.eos(),
            mask_id=self.mask_idx,
            begins_word=self.begins_word,
            ends_word=self.ends_word,
            hint_table=self.hint_table,
            config=self.noise_config,
            seed=self.cfg.seed,
            max_source_positions=self.cfg.max_source_positions,
        )
        logger.info("split %s: %d samples from %s", split, len(blocks), self.cfg.data)

    def build_model(self, cfg: Any, from_checkpoint: bool = False) -> Any:
        """The model, after checking its positions hold a sample."""
        positions = min(
            getattr(cfg, "max_source_positions", 1024), getattr(cfg, "max_target_positions", 1024)
        )
        if self.cfg.tokens_per_sample > positions:
            raise DataBinError(
                f"--tokens-per-sample {self.cfg.tokens_per_sample} exceeds the model's {positions} positions"
            )
        return super().build_model(cfg, from_checkpoint)

    def begin_epoch(self, epoch: int, model: Any) -> None:
        """Put the tokenizer and dict.txt beside the checkpoints (rank 0), so the folder stands alone."""
        save_dir = getattr(self.cfg, "save_dir", None)
        if not save_dir or _rank() != 0:
            return
        _copy_if_changed(self.spm_path, Path(save_dir) / TOKENIZER_FILE)
        first = utils.split_paths(self.cfg.data)[0]
        _copy_if_changed(Path(first) / DICTIONARY_FILE, Path(save_dir) / DICTIONARY_FILE)

    def max_positions(self) -> tuple[int, int]:
        return (self.cfg.max_source_positions, self.cfg.max_target_positions)

    @property
    def source_dictionary(self) -> Dictionary:
        return self.dictionary

    @property
    def target_dictionary(self) -> Dictionary:
        return self.dictionary


def _rank() -> int:
    import torch.distributed as dist

    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
