"""The dedup transform: exact-URL, exact-content and MinHash-LSH near-duplicates across all inputs.

The decisions are the pure `htlm.pipeline.dedup` (keys, and which member of a group wins);
this is the Beam wiring: key -> GroupByKey -> losers, joined back to the documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from htlm.pipeline import dedup, reasons
from htlm.pipeline.beam.extract import count_outcome
from htlm.pipeline.extract import DOCUMENT, REJECTED, rejected_outcome
from htlm.pipeline.records import doc_id

DEDUP_PRIORITY = (reasons.DUP_URL, reasons.DUP_CONTENT, reasons.NEAR_DUP)


def _doc_ref(record: dict[str, Any]) -> dedup.DocRef:
    return dedup.DocRef(doc_id(record), record["url"], record["fetch_date"], record["text_chars"])


def _group_losers(reason: str) -> Any:
    def losers(group: tuple[str, Iterable[dedup.DocRef]]) -> Iterator[tuple[str, str]]:
        members = list(group[1])
        if len(members) > 1:
            for loser in dedup.losers_in_group(members):
                yield loser, reason

    return losers


class Dedup(beam.PTransform):
    """Exact-URL, exact-content and MinHash-LSH near-duplicate removal across all inputs.

    Decisions are made on small references (id, URL, date, length), grouped by each key; a
    document is dropped when it loses in any group (the first reason in URL, content, near-dup
    order is reported). The global order behind `dedup.losers_in_group` means the most
    preferred document of every cluster survives, whatever the order of the input.
    Returns (kept documents, rejected outcomes).
    """

    def __init__(self, near_dup: bool) -> None:
        super().__init__()
        self.near_dup = near_dup

    def expand(self, documents: beam.PCollection) -> tuple[beam.PCollection, beam.PCollection]:
        refs = documents | "Refs" >> beam.Map(lambda record: (record["_dedup"], _doc_ref(record)))
        losers = [
            refs
            | "UrlKey" >> beam.Map(lambda keyed: (keyed[0]["url_key"], keyed[1]))
            | "ByUrl" >> beam.GroupByKey()
            | "UrlLosers" >> beam.FlatMap(_group_losers(reasons.DUP_URL)),
            refs
            | "ContentKey" >> beam.Map(lambda keyed: (keyed[0]["content_key"], keyed[1]))
            | "ByContent" >> beam.GroupByKey()
            | "ContentLosers" >> beam.FlatMap(_group_losers(reasons.DUP_CONTENT)),
        ]
        if self.near_dup:
            losers.append(
                refs
                | "BandKeys"
                >> beam.FlatMap(lambda keyed: [(band, keyed[1]) for band in keyed[0].get("bands", [])])
                | "ByBand" >> beam.GroupByKey()
                | "BandLosers" >> beam.FlatMap(_group_losers(reasons.NEAR_DUP))
            )
        by_id = documents | "ById" >> beam.Map(lambda record: (doc_id(record), record))
        joined = {"doc": by_id, "lost": losers | "Losers" >> beam.Flatten()} | "Join" >> beam.CoGroupByKey()
        decided = joined | "Decide" >> beam.FlatMap(_decide).with_outputs(REJECTED, main=DOCUMENT)
        return decided[DOCUMENT], decided[REJECTED]


def _decide(joined: tuple[str, dict[str, list]]) -> Iterator[Any]:
    """Kept document or dedup rejection for one id (same-id copies beyond the first are dup-content)."""
    _, group = joined
    docs = sorted(group["doc"], key=lambda record: (record["url"], record["fetch_date"]))
    lost = set(group["lost"])
    for index, record in enumerate(docs):
        reason = next((r for r in DEDUP_PRIORITY if r in lost), None)
        if reason is None and index > 0:
            reason = reasons.DUP_CONTENT
        if reason is None:
            yield {key: value for key, value in record.items() if key not in ("_dedup", "kind")}
        else:
            outcome = rejected_outcome(
                record["url"], record["warc_file"], record["warc_record_id"], reason, "dedup"
            )
            count_outcome(outcome)
            yield beam.pvalue.TaggedOutput(REJECTED, outcome)
