"""htlm.pipeline: Common Crawl WARC -> Minimal HTML (MHTML) documents.

The pure core (no Beam): `read_pages` (WARC/ARC reader), `simplify` (the MHTML simplifier),
`process_page` (one page -> document record).
"""

from htlm.pipeline.mhtml import MHTML, Rejection, SimplifyConfig, simplify
from htlm.pipeline.records import document_record, process_page
from htlm.pipeline.warc import Dropped, Page, read_pages

__all__ = [
    "MHTML",
    "Dropped",
    "Page",
    "Rejection",
    "SimplifyConfig",
    "document_record",
    "process_page",
    "read_pages",
    "simplify",
]
