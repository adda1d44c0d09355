"""A base install (`pip install .`, no extras): console scripts that run, and extras named in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, WARC_DATA

PROBE = Path(__file__).with_name("base_install.py")


def base(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run a console script in a subprocess that can import only what a base install holds."""
    return subprocess.run(
        [sys.executable, str(PROBE), *argv], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    "argv",
    [
        ("htlm-simplify", "--help"),
        ("htlm-pipeline", "--help"),
        ("htlm-tokenizer", "--help"),
        ("htlm-tokenizer", "train", "--help"),
        ("htlm-tokenizer", "binarize", "--help"),
    ],
)
def test_every_console_script_helps_from_a_base_install(argv: tuple[str, ...]) -> None:
    done = base(*argv)
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout.lower() or argv[0] in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("command", "install"),
    [
        ("htlm-train", "htlm[train]"),
        ("htlm-export-hf", "htlm[train,hf]"),
        ("htlm-prompt", "htlm[train]"),
        ("htlm-autoprompt", "htlm[train]"),
        ("htlm-demo", "htlm[train]"),
    ],
)
def test_model_commands_name_their_extras_on_a_base_install(command: str, install: str) -> None:
    done = base(command, "--help")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert f"pip install '{install}'" in done.stderr


def test_every_pipeline_module_imports_from_a_base_install() -> None:
    done = base("--import-all")
    assert done.returncode == 0, done.stderr


def test_a_base_install_runs_the_job(tmp_path: Path) -> None:
    """Not only --help: the Beam job, the tokenizer and binarize (no fairseq, no torch) on a real WARC."""
    warc = WARC_DATA / "dolma-wget-warc" / "sample-0000.warc.gz"
    runner = ("--direct_running_mode=in_memory", "--no_progress")
    done = base("htlm-pipeline", "--input", str(warc), "--output", str(tmp_path / "run"), *runner)
    assert done.returncode == 0, done.stderr
    documents = str(tmp_path / "run" / "documents-*.jsonl.gz")
    prefix = str(tmp_path / "tok" / "spm")
    done = base(
        "htlm-tokenizer", "train", "--input", documents, "--model-prefix", prefix, "--vocab-size", "1000"
    )
    assert done.returncode == 0, done.stderr
    destdir = str(tmp_path / "data-bin")
    done = base(
        "htlm-tokenizer", "binarize", "--input", documents, "--spm-model", prefix + ".model",
        "--destdir", destdir, "--direct_running_mode=in_memory",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data-bin" / "shard0" / "train.idx").exists()


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (("htlm-pipeline", "--input", "gs://bucket/crawl/*.warc.gz", "--output", "out"), "gcp"),
        (("htlm-pipeline", "--input", "s3://bucket/x.warc.gz", "--output", "out"), "aws"),
        (
            ("htlm-pipeline", "--runner", "DataflowRunner", "--input", "x.warc.gz", "--output", "gs://b/o"),
            "gcp",
        ),
        (
            (
                "htlm-tokenizer",
                "binarize",
                "--input",
                "s3://b/d.jsonl.gz",
                "--spm-model",
                "m",
                "--destdir",
                "d",
            ),
            "aws",
        ),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(argv: tuple[str, ...], extra: str) -> None:
    done = base(*argv)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert f"pip install 'htlm[{extra}]'" in done.stderr and "Traceback" not in done.stderr


def test_the_job_is_quiet(tmp_path: Path) -> None:
    """No 'apitools not found' or 'Logging handler created' lines from Beam, SDK worker processes included."""
    warc = WARC_DATA / "cc-whirlwind" / "whirlwind.warc.gz"
    done = base("htlm-pipeline", "--input", str(warc), "--output", str(tmp_path), "--no_progress")
    assert done.returncode == 0, done.stderr
    assert "apitools" not in done.stderr and "Logging handler" not in done.stderr
    assert done.stderr.startswith("htlm-pipeline: 1 WARC(s), 4 records")


def test_the_core_and_the_tokenizer_import_no_beam_or_fairseq() -> None:
    """model/ and prompts/ use the tokenizer and the simplifier without Beam; the core stays pure."""
    code = (
        "import sys, htlm.pipeline.tokenizer, htlm.pipeline.extract, htlm.pipeline.config; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'apache_beam', 'fairseq', 'torch'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
