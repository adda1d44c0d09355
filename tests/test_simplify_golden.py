"""The simplifier's output on every real page, byte for byte, against the stored fixture.

The fixture holds the SHA-256 of each page's MHTML (or its rejection reason), with the ratio
filter off so every page's output is covered. A speed-up of the simplifier must leave it
unchanged; a deliberate change of the rules regenerates it and says why in the commit:

    python tests/test_simplify_golden.py --update
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

from htlm.pipeline.simplify import MHTML, SimplifyConfig, simplify

PAGES = Path(__file__).parent / "data" / "pages"
FIXTURE = Path(__file__).parent / "fixtures" / "mhtml-sha256.json"
CONFIG = SimplifyConfig(min_text_ratio=0.0)


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


def fingerprints() -> dict[str, str]:
    """Page -> sha256 of its MHTML, or `rejected: <reason>`."""
    out = {}
    for name, raw in real_pages().items():
        result = simplify(raw, CONFIG)
        out[name] = (
            hashlib.sha256(result.html.encode("utf-8")).hexdigest()
            if isinstance(result, MHTML)
            else f"rejected: {result.reason}"
        )
    return out


def test_simplify_output_is_unchanged_on_every_real_page() -> None:
    expected = json.loads(FIXTURE.read_text())
    got = fingerprints()
    assert len(got) > 350 and set(got) == set(expected)
    changed = sorted(name for name in got if got[name] != expected[name])
    assert changed == [], f"{len(changed)} pages changed, e.g. {changed[:5]}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        FIXTURE.write_text(json.dumps(fingerprints(), indent=0, sort_keys=True) + "\n")
        print(f"wrote {FIXTURE}")
