"""`htlm-tokenizer`: train the SentencePiece model on MHTML, and binarize documents for fairseq.

    htlm-tokenizer train --input 'out/documents-*.jsonl.gz' --model-prefix tok/spm --vocab-size 32000
    htlm-tokenizer binarize --input 'out/documents-*.jsonl.gz' --spm-model tok/spm.model --destdir data-bin

`binarize` is a Beam job (same runner flags as `htlm-pipeline`): it encodes every document
with the one encoder training and prompting share, splits train/valid by a hash of the URL,
and writes fairseq MMapIndexedDataset shards that `fairseq-train data-bin/shard0:...` reads.
"""

from __future__ import annotations

import argparse
import glob
import sys
import time

from htlm.pipeline.tokenizer import (
    TokenizerSettings,
    sample_documents,
    train_tokenizer,
)

# ---------------------------------------------------------------------------------------
# train


def train_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="htlm-tokenizer train",
        description="Train a SentencePiece model on a deterministic sample of MHTML documents; writes "
        "PREFIX.model, PREFIX.vocab, dict.txt (fairseq) and PREFIX.card.json.",
    )
    parser.add_argument(
        "--input", action="append", required=True, help="documents-*.jsonl.gz glob (repeatable)"
    )
    parser.add_argument("--model-prefix", required=True, help="output prefix, e.g. tok/spm")
    parser.add_argument("--vocab-size", type=int, default=TokenizerSettings.vocab_size)
    parser.add_argument("--model-type", default=TokenizerSettings.model_type, choices=("bpe", "unigram"))
    parser.add_argument(
        "--sample-docs", type=int, default=100_000, help="documents to train on (deterministic)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the document sample")
    args = parser.parse_args(argv)
    paths = sorted({path for pattern in args.input for path in glob.glob(pattern)})
    if not paths:
        print(f"htlm-tokenizer: --input {args.input} matches no file", file=sys.stderr)
        return 2
    try:
        settings = TokenizerSettings(vocab_size=args.vocab_size, model_type=args.model_type)
    except ValueError as error:
        print(f"htlm-tokenizer: {error}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        card = train_tokenizer(
            sample_documents(paths, args.sample_docs, args.seed), args.model_prefix, settings
        )
    except ValueError as error:
        print(f"htlm-tokenizer train: {error}", file=sys.stderr)
        return 2
    print(
        f"htlm-tokenizer train: {card.corpus['documents']} documents "
        f"({card.corpus['characters']:,} characters) from {len(paths)} file(s) "
        f"in {time.perf_counter() - started:.1f}s\n"
        f"  vocabulary {card.vocab_size} pieces, fairseq dictionary {card.dictionary_size} symbols, "
        f"{card.bytes_per_token:.2f} bytes per token\n"
        f"  files: {', '.join(card.files.values())}",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"train": train_main, "binarize": _binarize_main}
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if not argv or argv[0] not in commands:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


def _binarize_main(argv: list[str]) -> int:
    from htlm.pipeline.beam.binarize import main as binarize  # Beam, imported only for binarize

    return binarize(argv)


if __name__ == "__main__":
    sys.exit(main())
