"""The simplifier's optional compiled passes (`_walk.pyx`), whether they are in use, and the
removals they make.

Built by `pip install` when Cython and a C compiler are there (setup.py); each pass has a
pure-Python twin that gives the same result (tests/test_walk.py), used when the extension is
missing or stale, or when HTLM_SIMPLIFY_PURE_PYTHON is set. The compiled passes call no
libxml2 function (lxml does not export them): a subtree they remove is moved to an element
outside the body, in the same document, and freed with it.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable

import lxml.etree as etree
from htlm.pipeline.simplify.config import Element
from htlm.pipeline.simplify.tree import collapse, set_text
from htlm.pipeline.simplify.tree import drop_trees as python_drop_trees

try:
    from htlm.pipeline.simplify import _walk as passes

    ERROR = ""
except ImportError as error:  # not built: no Cython or compiler at install time
    passes = None
    ERROR = str(error)

PURE_PYTHON_VARIABLE = "HTLM_SIMPLIFY_PURE_PYTHON"
TRASH_TAG = "htlm-removed"  # the element outside <body> that removed subtrees move into


class Callbacks:
    """What the compiled passes after the text rule leave to Python: a text lxml refuses
    (set_text strips it), an attribute value to collapse."""

    set_text = staticmethod(set_text)

    @staticmethod
    def collapse_attribute(element: Element, name: str) -> None:
        value = collapse(element.get(name))
        if value:
            element.set(name, value)
        else:
            del element.attrib[name]


def in_use() -> bool:
    """Whether the compiled passes run: built, importable, and HTLM_SIMPLIFY_PURE_PYTHON not set."""
    return passes is not None and not os.environ.get(PURE_PYTHON_VARIABLE)


def _trash(body: Element) -> Element | None:
    """The element outside `body` that removed subtrees move into: made once per document."""
    parent = body.getparent()
    if parent is None:
        return None
    last = parent[-1]
    return last if last.tag == TRASH_TAG else etree.SubElement(parent, TRASH_TAG)


def drop_trees(elements: Iterable[Element], body: Element) -> None:
    """`tree.drop_trees(elements)`, compiled when in use (the elements all sit inside `body`)."""
    trash = _trash(body) if in_use() else None
    if trash is None:
        python_drop_trees(elements)
    else:
        passes.drop_trees(trash, list(elements), Callbacks)


def strip_elements(body: Element, tags: Collection[str]) -> None:
    """`etree.strip_elements(body, *tags, with_tail=False)`, compiled when in use."""
    trash = _trash(body) if in_use() else None
    if trash is None:
        etree.strip_elements(body, *tags, with_tail=False)
    else:
        passes.strip_elements(trash, body, tags)


def fallback_note() -> str:
    """One line saying the pure-Python passes run, why, and how to build the compiled ones; "" if not."""
    if in_use():
        return ""
    why = f"{PURE_PYTHON_VARIABLE} is set" if passes is not None else f"not built: {ERROR}"
    return (
        f"the simplifier's pure-Python passes run ({why}), about 2.5x slower than the compiled ones; "
        "`make install` builds those (Cython and a C compiler)"
    )
