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


def require(program: str, needed_for: str, module: str, extra: str) -> None:
    """Exit with one line naming ``pip install 'htlm[extra]'`` when ``module`` is missing."""
    if not available(module):
        raise SystemExit(f"{program}: {needed_for} need the '{extra}' extra: pip install 'htlm[{extra}]'")


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
