"""The simplifier's output on every real page, byte for byte, against the stored fixture.

The fixture holds the SHA-256 of each page's MHTML (or its rejection reason) in both modes,
with the ratio filter off so every page's output is covered. It was made by the code before
the compiled walk existed; both walks (compiled and pure Python) must still give it. A
deliberate change of the rules regenerates it and says why in the commit:

    python tests/test_simplify_golden.py --update
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import json
import sys
from pathlib import Path

import pytest
from htlm.pipeline.simplify import MHTML, SimplifyConfig, simplify
from htlm.pipeline.simplify.config import MODES

text_rule = importlib.import_module("htlm.pipeline.simplify.text_rule")
compiled = importlib.import_module("htlm.pipeline.simplify.compiled")

PAGES = Path(__file__).parent / "data" / "pages"
FIXTURE = Path(__file__).parent / "fixtures" / "mhtml-sha256.json"


def real_pages() -> dict[str, bytes]:
    """Every real HTML page of tests/data/pages, by path relative to it."""
    paths = sorted((PAGES / "scrapinghub-article-extraction-benchmark" / "html").glob("*.html.gz"))
    paths += sorted((PAGES / "mozilla-readability" / "test-pages").glob("*/source.html.gz"))
    paths += sorted((PAGES / "inscriptis-html" / "html").glob("**/*.html"))
    return {
        str(path.relative_to(PAGES)): gzip.decompress(path.read_bytes())
        if path.suffix == ".gz"
        else path.read_bytes()
        for path in paths
    }


def fingerprints(mode: str) -> dict[str, str]:
    """Page -> sha256 of its MHTML in `mode`, or `rejected: <reason>`."""
    config = SimplifyConfig(min_text_ratio=0.0, mode=mode)
    out = {}
    for name, raw in real_pages().items():
        result = simplify(raw, config)
        out[name] = (
            hashlib.sha256(result.html.encode("utf-8")).hexdigest()
            if isinstance(result, MHTML)
            else f"rejected: {result.reason}"
        )
    return out


@pytest.mark.parametrize("walk", ["compiled", "python"])
@pytest.mark.parametrize("mode", MODES)
def test_simplify_output_is_unchanged_on_every_real_page(mode: str, walk: str, monkeypatch) -> None:
    if walk == "python":
        monkeypatch.setenv("HTLM_SIMPLIFY_PURE_PYTHON", "1")
    assert compiled.in_use() == (walk == "compiled"), compiled.ERROR
    expected = json.loads(FIXTURE.read_text())[mode]
    got = fingerprints(mode)
    assert len(got) > 350 and set(got) == set(expected)
    changed = sorted(name for name in got if got[name] != expected[name])
    assert changed == [], f"{len(changed)} pages changed, e.g. {changed[:5]}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        stored = {mode: fingerprints(mode) for mode in MODES}
        FIXTURE.write_text(json.dumps(stored, indent=0, sort_keys=True) + "\n")
        print(f"wrote {FIXTURE}")
