"""The optional parts of htlm and the extra that installs each.

A command that needs a part the install lacks exits with one line naming the extra to
install, never with a traceback from deep inside an import.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

# scheme -> (extra, a module that extra installs and Beam's filesystem for the scheme needs)
SCHEME_EXTRAS = {"gs": ("gcp", "google.cloud.storage"), "s3": ("aws", "boto3")}
RUNNER_EXTRAS = {"DataflowRunner": ("gcp", "google.cloud.storage")}


def available(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package is missing
        return False


def require(program: str, needed_for: str, module: str, extra: str, *more: str) -> None:
    """Exit with one line naming ``pip install 'htlm[extra,...]'`` when a module is missing.

    ``more`` continues the list as (module, extra) pairs, so one line names every missing extra.
    """
    pairs = [(module, extra), *zip(more[::2], more[1::2], strict=True)]
    missing = list(dict.fromkeys(extra for module, extra in pairs if not available(module)))
    if missing:
        names = " and ".join(f"'{name}'" for name in missing)
        raise SystemExit(
            f"{program}: {needed_for} need the {names} extra{'s' * (len(missing) > 1)}: "
            f"pip install 'htlm[{','.join(missing)}]'"
        )


def require_for(program: str, paths: Iterable[str | None] = (), runner: str | None = None) -> None:
    """Check that the extras the given paths (gs://, s3://) and runner need are installed."""
    for path in paths:
        scheme, sep, _ = (path or "").partition("://")
        if sep and scheme in SCHEME_EXTRAS:
            extra, module = SCHEME_EXTRAS[scheme]
            require(program, f"{scheme}:// paths", module, extra)
    if runner in RUNNER_EXTRAS:
        extra, module = RUNNER_EXTRAS[runner]
        require(program, f"--runner {runner} and its staging", module, extra)
