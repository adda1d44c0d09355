"""`htlm-tokenizer binarize`: a Beam job from MHTML document shards to fairseq data-bin shards.

It encodes every document with the one encoder training and prompting share
(`htlm.pipeline.tokenizer.Tokenizer`), splits train/valid by a hash of the URL, and writes
fairseq MMapIndexedDataset shards (`htlm.pipeline.tokenizer.databin`, no fairseq needed) that
`fairseq-train data-bin/shard0:...` reads. Same runner flags as `htlm-pipeline`.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from htlm.pipeline.beam.files import (
    InputFiles,
    copy_file,
    delete_files,
    escape_glob,
    inside,
    read_jsonl_gz,
    stable_shard,
    write_text,
)
from htlm.pipeline.beam.options import InputOptions, print_help, runner_options
from htlm.pipeline.config import SourceConfig
from htlm.pipeline.records import doc_id
from htlm.pipeline.tokenizer import UINT16_LIMIT, Tokenizer
from htlm.pipeline.tokenizer.databin import split_of, token_stats_from_counts, write_split

from htlm.extras import require_for

BINARIZE_HELP = """Encode every document of documents-*.jsonl.gz shards with the trained tokenizer and write
fairseq data-bin shards: DESTDIR/shardK/train.bin|idx, DESTDIR/shard0/valid.bin|idx, dict.txt in
each, DESTDIR/stats.json and the tokenizer as DESTDIR/spm.model. Train/valid is split by a hash of
the URL. Give --input (repeatable), --spm-model and --destdir (empty, or cleared with --overwrite)."""


class BinarizeOptions(PipelineOptions):
    """Flags of `htlm-tokenizer binarize` besides --input (`InputOptions`); Beam's flags work beside them."""

    @classmethod
    def _add_argparse_args(cls, parser: Any) -> None:
        parser.add_argument("--spm_model", "--spm-model", help="the trained SPM .model (required)")
        parser.add_argument("--destdir", help="data-bin folder, as fairseq-preprocess (required)")
        parser.add_argument("--valid_fraction", "--valid-fraction", type=float, default=0.01)
        parser.add_argument(
            "--train_docs_per_shard",
            "--train-docs-per-shard",
            type=int,
            default=1_000_000,
            help="fairseq reads one shard folder per epoch (data-bin/shard0:shard1:...)",
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="clear a non-empty --destdir first (else it is refused: stale shardK folders would be read)",
        )


class _Encoder:
    """Loads the tokenizer once per worker (the model file is copied locally if remote)."""

    def __init__(self, model_path: str, valid_fraction: float) -> None:
        self.model_path, self.valid_fraction = model_path, valid_fraction
        self.tokenizer: Tokenizer | None = None

    def encode(self, record: dict[str, Any]) -> Iterator[tuple[str, str, np.ndarray]]:
        if self.tokenizer is None:
            self.tokenizer = Tokenizer(_local_copy(self.model_path))
        ids = np.asarray(self.tokenizer.encode(record["mhtml"]), dtype=np.uint16)
        yield split_of(record["url"], self.valid_fraction), doc_id(record), ids


def _local_copy(path: str) -> str:
    if os.path.exists(path):
        return path
    local = os.path.join(tempfile.mkdtemp(prefix="htlm-spm-"), os.path.basename(path))
    copy_file(path, local)
    return local


def write_databin_shard(
    destdir: str, split: str, shard: int, items: Iterable[tuple[str, np.ndarray]], dictionary: str, vocab: int
) -> tuple[str, int, int, int]:
    """Write one split of one shard folder (`shardK/split.bin|idx` + `dict.txt`), documents sorted by key.

    Written locally, then copied with Beam FileSystems, so `destdir` may be gs:// or s3://.
    Returns (split, shard, documents, tokens).
    """
    from apache_beam.io.filesystems import FileSystems

    ordered = [ids for _, ids in sorted(items, key=lambda item: item[0])]
    folder = FileSystems.join(destdir, f"shard{shard}")
    with tempfile.TemporaryDirectory(prefix="htlm-databin-") as local:
        documents, tokens = write_split(os.path.join(local, split), ordered, vocab)
        if not FileSystems.exists(folder):
            FileSystems.mkdirs(folder)
        for suffix in (".bin", ".idx"):
            copy_file(os.path.join(local, split + suffix), FileSystems.join(folder, split + suffix))
    copy_file(dictionary, FileSystems.join(folder, "dict.txt"))
    return split, shard, documents, tokens


def build_binarize(pipeline: Any, options: Any, inputs: list[str], vocab: int, dictionary: str) -> Any:
    """Add the binarize job to `pipeline`; returns the PCollection of the stats dict."""
    encoder = _Encoder(options.spm_model, options.valid_fraction)
    encoded = (
        pipeline
        | "Inputs" >> InputFiles(inputs, SourceConfig())
        | "Read" >> beam.FlatMap(read_jsonl_gz)
        | "SpreadDocs" >> beam.Reshuffle()
        | "Encode" >> beam.FlatMap(encoder.encode)
    )
    written = encoded | "WriteShards" >> _WriteDatabin(
        options.destdir, options.train_docs_per_shard, dictionary, vocab
    )
    # Documents per token length: exact statistics from a table no longer than the longest document.
    lengths = encoded | "Lengths" >> beam.Map(lambda item: len(item[2])) | beam.combiners.Count.PerElement()
    return (
        pipeline
        | "Finish" >> beam.Create([None])
        | "Stats"
        >> beam.Map(
            _write_stats,
            options=options,
            written=beam.pvalue.AsList(written),
            counts=beam.pvalue.AsDict(lengths),
        )
    )


class _WriteDatabin(beam.PTransform):
    """(split, key, ids) -> shard folders: train spread over ceil(n / per_shard) shards by a stable hash."""

    def __init__(self, destdir: str, per_shard: int, dictionary: str, vocab: int) -> None:
        super().__init__()
        self.destdir, self.per_shard, self.dictionary, self.vocab = destdir, per_shard, dictionary, vocab

    def expand(self, encoded: beam.PCollection) -> beam.PCollection:
        per_shard = self.per_shard
        shards = (
            encoded
            | "IsTrain" >> beam.Filter(lambda item: item[0] == "train")
            | "CountTrain" >> beam.combiners.Count.Globally()
            | "Shards" >> beam.Map(lambda n: max(1, math.ceil(n / per_shard)))
        )
        keyed = encoded | "Assign" >> beam.Map(
            lambda item, n: (
                (item[0], stable_shard(item[1], n) if item[0] == "train" else 0),
                (item[1], item[2]),
            ),
            n=beam.pvalue.AsSingleton(shards),
        )
        slots = shards | "Slots" >> beam.FlatMap(
            lambda n: [(("train", shard), None) for shard in range(n)] + [(("valid", 0), None)]
        )
        destdir, dictionary, vocab = self.destdir, self.dictionary, self.vocab
        return (
            {"docs": keyed, "slot": slots}
            | "Group" >> beam.CoGroupByKey()
            | "Write"
            >> beam.Map(
                lambda group: write_databin_shard(
                    destdir, group[0][0], group[0][1], group[1]["docs"], dictionary, vocab
                )
            )
        )


def _slot_of(item: tuple[str, str, np.ndarray], n: int) -> tuple[tuple[str, int], tuple[str, np.ndarray]]:
    """((split, shard), (key, ids)): train documents spread over n shards by key, valid in shard 0."""
    split, key, ids = item
    return (split, stable_shard(key, n) if split == "train" else 0), (key, ids)


def _write_stats(_: Any, options: Any, written: list, counts: dict) -> dict:
    """DESTDIR/stats.json: the shards, documents and tokens per split, tokens per document."""
    stats = {
        "tokenizer": options.spm_model,
        "valid_fraction": options.valid_fraction,
        "shards": sorted(
            [{"split": s, "shard": k, "documents": d, "tokens": t} for s, k, d, t in written],
            key=lambda row: (row["shard"], row["split"]),
        ),
        "splits": {
            split: {
                "documents": sum(d for s, _, d, _ in written if s == split),
                "tokens": sum(t for s, _, _, t in written if s == split),
            }
            for split in ("train", "valid")
        },
        "tokens_per_document": token_stats_from_counts(counts),
    }
    write_text(
        FileSystems.join(options.destdir, "stats.json"), json.dumps(stats, indent=2, sort_keys=True) + "\n"
    )
    return stats


def main(argv: list[str]) -> int:
    """`htlm-tokenizer binarize ARGS`: run the job; returns the exit code."""
    if "-h" in argv or "--help" in argv:
        print_help("htlm-tokenizer binarize", BINARIZE_HELP, InputOptions, BinarizeOptions)
        return 0
    beam_options = runner_options(argv)
    options = beam_options.view_as(BinarizeOptions)
    inputs = beam_options.view_as(InputOptions).input
    if not inputs or not options.spm_model or not options.destdir:
        usage = "give --input 'documents-*.jsonl.gz' --spm-model MODEL --destdir FOLDER"
        print(f"htlm-tokenizer binarize: {usage}", file=sys.stderr)
        return 2
    runner = beam_options.view_as(StandardOptions).runner
    require_for("htlm-tokenizer binarize", [*inputs, options.spm_model, options.destdir], runner)
    for spec in inputs:
        if "://" not in spec and not FileSystems.match([spec])[0].metadata_list:
            print(f"htlm-tokenizer binarize: --input {spec!r} matches no file", file=sys.stderr)
            return 2
    # Workers read the model and dict.txt where the flag says (gs:// on Dataflow), not from here.
    dictionary = options.spm_model.rsplit("/", 1)[0] + "/dict.txt" if "/" in options.spm_model else "dict.txt"
    if not FileSystems.exists(dictionary):
        print(
            f"htlm-tokenizer binarize: no {dictionary} beside the model (run `train` first)", file=sys.stderr
        )
        return 2
    vocab = Tokenizer(_local_copy(options.spm_model)).vocab_size
    if vocab >= UINT16_LIMIT:
        print(f"htlm-tokenizer binarize: {vocab} symbols do not fit uint16 token ids", file=sys.stderr)
        return 2
    problem = prepare_destdir(options.destdir, options.overwrite, [*inputs, options.spm_model, dictionary])
    if problem is not None:
        print(f"htlm-tokenizer binarize: {problem}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with beam.Pipeline(options=options) as pipeline:
        build_binarize(pipeline, options, inputs, vocab, dictionary)
    # The data-bin carries its tokenizer: `--task htlm_denoising` finds it there on any machine.
    copy_file(options.spm_model, FileSystems.join(options.destdir, "spm.model"))
    stats = _read_stats(options.destdir)
    print(format_binarize_summary(stats, options.destdir, time.perf_counter() - started), file=sys.stderr)
    if not stats["tokens_per_document"]["documents"]:
        print("htlm-tokenizer binarize: the inputs hold no documents: nothing to train on", file=sys.stderr)
        return 1
    return 0


def destdir_entries(destdir: str) -> list[str]:
    """What `destdir` holds (top-level names locally, every object under it on a remote filesystem)."""
    if "://" not in destdir:
        return sorted(os.listdir(destdir)) if os.path.isdir(destdir) else []
    pattern = escape_glob(destdir.rstrip("/")) + "/**"
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


def prepare_destdir(destdir: str, overwrite: bool, keep: list[str]) -> str | None:
    """Make sure `destdir` holds nothing from an earlier run; None when ready, else why not (one line).

    A non-empty destdir is refused unless `overwrite`, which clears exactly that folder (taken
    literally, never as a glob), and never when it holds one of `keep` (the inputs, the model)."""
    if "://" not in destdir and os.path.exists(destdir) and not os.path.isdir(destdir):
        return f"--destdir {destdir} is a file, not a folder: give a folder"
    entries = destdir_entries(destdir)
    if not entries:
        return None
    if not overwrite:
        return (
            f"--destdir {destdir} is not empty ({len(entries)} entries, e.g. {entries[0]}): pass --overwrite "
            "to clear it first, or give an empty folder"
        )
    kept = [path for path in keep if "://" not in path and inside(path, destdir)]
    if kept:
        return f"--overwrite would delete {kept[0]}, which this run reads: give another --destdir"
    if "://" in destdir:
        delete_files(entries)
        return None
    for name in entries:
        path = os.path.join(destdir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    return None


def _read_stats(destdir: str) -> dict[str, Any]:
    with FileSystems.open(FileSystems.join(destdir, "stats.json")) as stream:
        return json.loads(stream.read())


def format_binarize_summary(stats: dict[str, Any], destdir: str, seconds: float) -> str:
    """The human summary printed when `binarize` ends."""
    tokens, splits = stats["tokens_per_document"], stats["splits"]
    shards = ":".join(f"{destdir}/shard{row['shard']}" for row in stats["shards"] if row["split"] == "train")
    return (
        f"htlm-tokenizer binarize: {tokens['documents']} documents, {tokens['tokens']:,} tokens "
        f"in {seconds:.1f}s "
        f"({tokens['documents'] / max(seconds, 1e-9):.0f} docs/s)\n"
        f"  train {splits['train']['documents']} / valid {splits['valid']['documents']} documents; "
        f"{(tokens['share_within_window'] or 0):.1%} fit in {tokens['window']} tokens (HTLM: ~85%)\n"
        f"  fairseq-train {shards} --user-dir model --task htlm_denoising ..."
    )
