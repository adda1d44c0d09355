"""The demo's pages: the real ground-truth pages of tests/data, some held out, the rest as a WARC.

The four bundled crawls keep too few documents to train on, so the demo also reads the real
pages of the extraction benchmarks (scrapinghub's 181 articles, Readability's 130 test
pages) wrapped in a WARC: the framing is built here (warcio's writer, a fixed date, record
ids from the URL), the pages are real and byte for byte. A fixed share of them, chosen by a
hash of the URL, is held out of the WARC for the zero-shot prompts.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

SCRAPINGHUB = Path("scrapinghub-article-extraction-benchmark")
READABILITY = Path("mozilla-readability") / "test-pages"
WARC_DATE = "2024-01-01T00:00:00Z"


@dataclass(frozen=True)
class SourcePage:
    """A real page: where it came from, the URL it is filed under, and its bytes."""

    name: str
    url: str
    html: bytes


def ground_truth_pages(pages_dir: Path) -> list[SourcePage]:
    """The scrapinghub pages (with their real URLs) and Readability's pages (URLs made from their names)."""
    truth = json.loads((pages_dir / SCRAPINGHUB / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for path in sorted((pages_dir / SCRAPINGHUB / "html").glob("*.html.gz")):
        key = path.name.split(".")[0]
        pages.append(
            SourcePage(f"scrapinghub/{key[:12]}", truth[key]["url"], gzip.decompress(path.read_bytes()))
        )
    for path in sorted((pages_dir / READABILITY).glob("*/source.html.gz")):
        name = path.parent.name
        pages.append(
            SourcePage(
                f"readability/{name}", f"https://readability.test/{name}/", gzip.decompress(path.read_bytes())
            )
        )
    return pages


def is_held_out(url: str, share: float) -> bool:
    """Whether a URL is in the held-out share: a stable function of the URL alone."""
    return int(hashlib.sha256(url.encode("utf-8")).hexdigest()[:8], 16) / 2**32 < share


def write_warc(pages: Iterable[SourcePage], path: Path) -> int:
    """Write the pages as WARC/1.1 response records (one gzip member each); returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for page in pages:
            record_id = uuid.UUID(bytes=hashlib.blake2b(page.url.encode(), digest_size=16).digest())
            http = StatusAndHeaders(
                "200 OK",
                [("Content-Type", "text/html"), ("Content-Length", str(len(page.html)))],
                protocol="HTTP/1.1",
            )
            record = writer.create_warc_record(
                page.url, "response", payload=io.BytesIO(page.html), length=len(page.html), http_headers=http,
                warc_headers_dict={"WARC-Date": WARC_DATE, "WARC-Record-ID": f"<urn:uuid:{record_id}>"},
            )  # fmt: skip
            writer.write_record(record)
            count += 1
    return count
