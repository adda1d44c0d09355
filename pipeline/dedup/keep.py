"""Which document of a duplicate group survives: one total order, the same on every worker."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_ISO_DATE_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@dataclass(frozen=True, slots=True)
class DocRef:
    """What dedup needs to know of a document: its id (the WARC record id), url, fetch date, size."""

    doc_id: str
    url: str
    fetch_date: str  # YYYY-MM-DDTHH:MM:SSZ as the reader writes it; anything else sorts after
    text_chars: int

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> DocRef:
        """The DocRef of a document record (`htlm.pipeline.records.document_record`)."""
        return cls(
            doc_id=str(record["warc_record_id"]),
            url=str(record["url"]),
            fetch_date=str(record.get("fetch_date") or ""),
            text_chars=int(record.get("text_chars") or 0),
        )


def keep_order_key(doc: DocRef) -> tuple[int, int, str, str, str]:
    """The sort key of the keep rule: the smallest key is the document kept.

    Rule: the most text (`text_chars`, descending) — the fullest copy is the most useful
    training text; then the earliest fetch date — the first copy seen is the likeliest
    original; dates not in the reader's YYYY-MM-DDTHH:MM:SSZ form (unparseable, empty) sort
    after all real ones; then the smallest doc_id, then the smallest url. Plain integers and
    strings compared by code point: a total order on DocRefs, the same in every process.
    """
    dated = 0 if _ISO_DATE_RE.fullmatch(doc.fetch_date) else 1
    return (-doc.text_chars, dated, doc.fetch_date, doc.doc_id, doc.url)


def preferred(doc_a: DocRef, doc_b: DocRef) -> DocRef:
    """The one of two documents the keep rule keeps (`keep_order_key`); symmetric in its arguments."""
    return doc_a if keep_order_key(doc_a) <= keep_order_key(doc_b) else doc_b


def losers_in_group(members: Iterable[DocRef]) -> list[str]:
    """The doc_ids to drop from one exact-duplicate group (same normalised URL or content key).

    All members but the one the keep rule prefers (the smallest `keep_order_key`), sorted
    and without repeats. Members carrying the winner's doc_id (the same record seen twice)
    are not losers. Independent of the order of `members`; empty for an empty group.
    """
    members = list(members)
    if not members:
        return []
    winner = min(members, key=keep_order_key)
    return sorted({doc.doc_id for doc in members if doc.doc_id != winner.doc_id})


def losers_in_bucket(members: Iterable[DocRef]) -> list[str]:
    """The doc_ids to drop from one LSH bucket (all documents sharing one band key).

    Same rule as `losers_in_group`: all but the preferred member. A document is dropped as a
    near-duplicate iff it is a loser in at least one bucket. The module docstring proves that
    every connected component of the bucket graph keeps at least one document (its overall
    preferred member loses nowhere); the result does not depend on the order of `members`.
    """
    return losers_in_group(members)
