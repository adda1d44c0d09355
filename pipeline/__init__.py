"""htlm.pipeline: Common Crawl WARC -> Minimal HTML (MHTML) documents.

The pure core (no Beam): `read_pages` (WARC/ARC reader), `simplify` (the MHTML simplifier),
`document_record` (the record contract), `extract` (one WARC's outcomes: see extract.py).
"""

from htlm.pipeline.reading import Dropped, Page, read_pages
from htlm.pipeline.records import document_record
from htlm.pipeline.simplify import MHTML, Rejection, SimplifyConfig, simplify

__all__ = [
    "MHTML",
    "Dropped",
    "Page",
    "Rejection",
    "SimplifyConfig",
    "document_record",
    "read_pages",
    "simplify",
]
