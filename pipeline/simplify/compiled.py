"""The simplifier's optional compiled passes (`_walk.pyx`), and whether they are in use.

Built by `pip install` when Cython and a C compiler are there (setup.py); each pass has a
pure-Python twin that gives the same result (tests/test_walk.py), used when the extension is
missing or stale, or when HTLM_SIMPLIFY_PURE_PYTHON is set.
"""

from __future__ import annotations

import os

from htlm.pipeline.simplify.boilerplate import COPYRIGHT_HINTS
from htlm.pipeline.simplify.tree import WIDE_WEIGHT

try:
    from htlm.pipeline.simplify import _walk as passes

    passes.configure(WIDE_WEIGHT, COPYRIGHT_HINTS)
    ERROR = ""
except (ImportError, AttributeError) as error:  # not built (no Cython or compiler at install), or stale
    passes = None
    ERROR = str(error)

PURE_PYTHON_VARIABLE = "HTLM_SIMPLIFY_PURE_PYTHON"


def in_use() -> bool:
    """Whether the compiled passes run: built, importable, and HTLM_SIMPLIFY_PURE_PYTHON not set."""
    return passes is not None and not os.environ.get(PURE_PYTHON_VARIABLE)
