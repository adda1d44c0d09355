"""`htlm-train`: `fairseq-train` with this installation's plugin (`--user-dir`) and `--task htlm_denoising`.

Every other argument goes to fairseq-train unchanged, so its documentation applies. Plain
`fairseq-train --user-dir "$(htlm-train --print-user-dir)" --task htlm_denoising ...` does
the same.
"""

from __future__ import annotations

import sys

from htlm.model.architectures import VocabularyMismatchError
from htlm.model.loading import user_dir
from htlm.model.task import DataBinError

INTRO = """htlm-train: fairseq-train with the htlm plugin (HTLM denoising with size hints).

    htlm-train DATA-BIN/shard0[:shard1...] --arch htlm_tiny|htlm_base|htlm_large \\
        --criterion cross_entropy --optimizer adam --lr 4e-5 --save-dir checkpoints ...

Adds --user-dir (this installation's plugin folder, see --print-user-dir) and
--task htlm_denoising unless given. The task's own options (--mask-ratio,
--poisson-lambda, --size-hint-prob, --size-hint-noise, --tokens-per-sample,
--sample-break-mode, --spm-model) are listed below with fairseq's.
"""


def _has(argv: list[str], flag: str) -> bool:
    return any(arg == flag or arg.startswith(flag + "=") for arg in argv)


def fairseq_argv(argv: list[str]) -> list[str]:
    """fairseq-train's arguments for `htlm-train argv`: the plugin and task added when missing."""
    added = [] if _has(argv, "--user-dir") else ["--user-dir", user_dir()]
    added += [] if _has(argv, "--task") else ["--task", "htlm_denoising"]
    return [*added, *argv]


def main(argv: list[str] | None = None) -> int:
    """Run fairseq-train; returns its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--print-user-dir"]:
        print(user_dir())
        return 0
    if "-h" in argv or "--help" in argv:
        print(INTRO)
    from fairseq_cli.train import cli_main

    sys.argv = ["htlm-train", *fairseq_argv(argv)]
    try:
        cli_main()
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else 1
    except Exception as error:
        ours = _our_error(error)
        if ours is None:
            raise
        print(f"htlm-train: {ours}", file=sys.stderr)
        return 2
    return 0


def _our_error(error: BaseException | None) -> BaseException | None:
    """The plugin's own error behind `error`, if any (fairseq re-raises some as a bare Exception)."""
    while error is not None:
        if isinstance(error, DataBinError | VocabularyMismatchError):
            return error
        error = error.__cause__ or error.__context__
    return None


if __name__ == "__main__":
    sys.exit(main())
