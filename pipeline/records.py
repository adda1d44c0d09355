"""The document record: one JSON object per kept page, traceable to its WARC record.

The contract (see DESIGN.md): `url`, `warc_file`, `warc_record_id`, `fetch_date`, `lang`,
`mhtml`, and the measured `html_bytes`, `text_chars`, `mhtml_chars`; `title` too, since
prompts rely on it. Shared by `htlm-simplify` and the Beam job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: importing this module stays cheap (the tokenizer uses doc_id)
    from htlm.pipeline.reading import Page
    from htlm.pipeline.simplify import MHTML


def doc_id(record: dict[str, Any]) -> str:
    """A document's identity: its WARC file and record id (record ids alone may repeat across files).

    The one key of a document: dedup decides on it, shards are ordered by it, the tokenizer
    samples by it.
    """
    return f"{record.get('warc_file') or ''} {record.get('warc_record_id') or record.get('url') or ''}"


def document_record(page: Page, mhtml: MHTML) -> dict[str, Any]:
    """The JSON-ready record of a kept page."""
    return {
        "url": page.url,
        "warc_file": page.warc_file,
        "warc_record_id": page.record_id,
        "fetch_date": page.date,
        "lang": mhtml.lang,
        "title": mhtml.title,
        "mhtml": mhtml.html,
        "html_bytes": len(page.body),
        "text_chars": mhtml.text_chars,
        "mhtml_chars": mhtml.mhtml_chars,
    }


def rejection_record(
    url: str | None, warc_file: str, record_id: str | None, reason: str, detail: str
) -> dict[str, Any]:
    """The JSON-ready record of a dropped page or record: where it came from and why."""
    return {
        "url": url,
        "warc_file": warc_file,
        "warc_record_id": record_id,
        "reason": reason,
        "detail": detail,
    }
