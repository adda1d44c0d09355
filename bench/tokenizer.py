"""Benchmark: encoding speed of the tokenizer, and the binarize job against the bare encode loop.

Real pages (tests/data/pages: scrapinghub, Readability, inscriptis) are simplified to MHTML
and written as a documents shard (--copies times, under different URLs); a tokenizer is
trained on them (--vocab-size). Printed, all measured in this run:
  encode: tokens/s and MB/s of MHTML on one core (`Tokenizer.encode`)
  (a) bare loop: read shard + encode + write_split (one process)
  (b) `htlm-tokenizer binarize` on the DirectRunner, one worker (in-memory)
  overhead b/a
Nothing here is a pass/fail test.

    python bench/tokenizer.py [--copies 4] [--vocab-size 8000]

(Not `bench/tokenize.py`: a script of that name in bench/ shadows the standard library's
`tokenize`, which `inspect` imports, and breaks every other script in the folder.)
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

from htlm.pipeline.simplify import MHTML, SimplifyConfig, simplify
from htlm.pipeline.tokenizer import Tokenizer, TokenizerSettings, train_tokenizer
from htlm.pipeline.tokenizer.cli import main as tokenizer_main
from htlm.pipeline.tokenizer.databin import write_split

PAGE_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "pages"


def real_mhtml() -> list[str]:
    paths = sorted((PAGE_DATA / "scrapinghub-article-extraction-benchmark" / "html").glob("*.html.gz"))
    paths += sorted((PAGE_DATA / "mozilla-readability" / "test-pages").glob("*/source.html.gz"))
    pages = [gzip.decompress(path.read_bytes()).decode("utf-8", "replace") for path in paths]
    results = [simplify(page, SimplifyConfig(min_text_ratio=0.0)) for page in pages]
    return [result.html for result in results if isinstance(result, MHTML)]


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--vocab-size", type=int, default=8000)
    args = parser.parse_args()
    documents = real_mhtml()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = folder / "tok" / "spm"
        train_tokenizer(documents, model, TokenizerSettings(vocab_size=args.vocab_size))
        tokenizer = Tokenizer(model.with_suffix(".model"))
        records = [
            {
                "url": f"https://c{copy}.example/{n}",
                "warc_file": "w",
                "warc_record_id": f"{copy}-{n}",
                "mhtml": text,
            }
            for copy in range(args.copies)
            for n, text in enumerate(documents)
        ]
        with gzip.open(folder / "documents-00000-of-00001.jsonl.gz", "wt", encoding="utf-8") as out:
            out.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        megabytes = sum(len(text.encode("utf-8")) for text in documents) / 1e6

        started = time.process_time()
        tokens = sum(len(tokenizer.encode(text)) for text in documents)
        encode_seconds = time.process_time() - started
        print(f"{len(documents)} real MHTML pages, {megabytes:.1f} MB, vocab {args.vocab_size}")
        print(
            f"  encode: {tokens / encode_seconds:,.0f} tokens/s, "
            f"{megabytes / encode_seconds:.2f} MB/s on one core"
        )

        started = time.perf_counter()
        with gzip.open(folder / "documents-00000-of-00001.jsonl.gz", "rt", encoding="utf-8") as lines:
            encoded = [tokenizer.encode(json.loads(line)["mhtml"]) for line in lines]
        (folder / "bare").mkdir()
        write_split(folder / "bare" / "train", encoded, tokenizer.vocab_size)
        loop_seconds = time.perf_counter() - started

        started = time.perf_counter()
        argv = [
            "binarize",
            "--input",
            str(folder / "documents-*.jsonl.gz"),
            "--spm-model",
            str(model) + ".model",
        ]
        tokenizer_main([*argv, "--destdir", str(folder / "data-bin"), "--direct_running_mode=in_memory"])
        job_seconds = time.perf_counter() - started
    print(f"  (a) bare encode loop    {len(records) / loop_seconds:7.1f} docs/s ({loop_seconds:.1f}s)")
    print(
        f"  (b) binarize job        {len(records) / job_seconds:7.1f} docs/s ({job_seconds:.1f}s, 1 worker)"
    )
    print(f"overhead b/a = {job_seconds / loop_seconds:.2f}x")


if __name__ == "__main__":
    main()
