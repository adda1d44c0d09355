"""The per-WARC step of the job, pure: entries of one WARC -> one outcome per record.

Each outcome is a JSON-ready dict with a `kind`:
- `document`: a simplified page that passed the filters, with the record contract's fields
  and a private `_dedup` block (normalised URL, content hash, MinHash band keys) that the
  dedup step reads and the final shards drop;
- `rejected`: a record dropped by the reader, the simplifier or a filter, with its reason;
- `dead_letter`: a record whose processing raised, with the stage and the error.
These lines are what the job writes to a WARC's intermediate file, so a resumed run reads
back exactly what a fresh one would compute.
"""

from __future__ import annotations

import dataclasses
import functools
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from htlm.pipeline import dedup
from htlm.pipeline.filters import FilterConfig, filter_reason, resolve_language
from htlm.pipeline.isolation import IsolatedCall, IsolationError
from htlm.pipeline.reading import STREAM_FAILED, Dropped, Page
from htlm.pipeline.records import document_record, rejection_record
from htlm.pipeline.simplify import DEFAULT_CONFIG, MHTML, SimplifyConfig, simplify

DOCUMENT, REJECTED, DEAD_LETTER = "document", "rejected", "dead_letter"
REPEATED_ID = "#repeat"  # marks a record id made unique within its WARC


@dataclass(frozen=True)
class DedupConfig:
    """MinHash LSH parameters for near-duplicate detection."""

    num_perm: int = 128
    threshold: float = 0.8  # Jaccard similarity of word 5-gram sets
    shingle_size: int = 5
    near_dup: bool = True


@dataclass(frozen=True)
class ExtractConfig:
    """Everything the per-WARC step needs."""

    simplify: SimplifyConfig = DEFAULT_CONFIG
    filters: FilterConfig = field(default_factory=FilterConfig)
    dedup: DedupConfig | None = field(default_factory=DedupConfig)  # None: no dedup keys (htlm-simplify)
    keep_rejected_pages: bool = False  # put the raw page into rejected outcomes (for audits)


class SourceFailed(OSError):
    """The WARC's byte stream itself failed (network, storage): the whole file is dead-lettered."""


def dedup_keys(url: str, text: str, config: DedupConfig) -> dict[str, Any]:
    """The keys the dedup step groups on: normalised URL, content hash, and LSH band keys."""
    keys: dict[str, Any] = {"url_key": dedup.normalize_url(url), "content_key": dedup.content_key(text)}
    if config.near_dup:
        bands, rows = _bands(config.num_perm, config.threshold)
        hasher = _hasher(config.num_perm)
        keys["bands"] = dedup.near_dup_keys(text, hasher, bands, rows, config.shingle_size)
    return keys


def outcome_for_page(page: Page, config: ExtractConfig) -> dict[str, Any]:
    """Simplify and filter one page; return its outcome (document, rejected or dead_letter)."""
    try:
        result = simplify(page.html, config.simplify)
        if not isinstance(result, MHTML):
            return _rejected(page, result.reason, result.detail, config)
        lang, _, _ = resolve_language(result.lang, result.text, config.filters.min_lang_score)
        reason = filter_reason(result.text_chars, lang, config.filters)
        if reason is not None:
            return _rejected(page, reason, f"lang={lang} text_chars={result.text_chars}", config)
        record = document_record(page, result) | {"lang": lang}
        if config.dedup is not None:
            record["_dedup"] = dedup_keys(page.url, result.text, config.dedup)
        return {"kind": DOCUMENT, **record}
    except Exception as error:  # one record's failure must never take the file down
        return dead_letter(page.warc_file, page.record_id, page.url, "simplify", error)


def extract(
    entries: Iterable[Page | Dropped],
    config: ExtractConfig,
    outcome: Callable[[Page], dict[str, Any]] | None = None,
) -> Iterator[dict[str, Any]]:
    """One outcome per reader entry. Raises SourceFailed when the byte stream itself failed.

    `outcome` turns a page into its outcome (default: `outcome_for_page` in this process; the
    job passes `isolated_outcome`, which runs it in a child process with a timeout).

    A record id seen before in the same WARC (writers do repeat them) is made unique as
    `<id>#repeat<n>` (see `REPEATED_ID`), so that `doc_id` keys every record apart and an
    unrelated page never loses to another as a duplicate; the job counts them.
    """
    outcome = outcome or functools.partial(outcome_for_page, config=config)
    seen: Counter[str] = Counter()
    for entry in entries:
        if entry.record_id is not None:
            seen[entry.record_id] += 1
            if seen[entry.record_id] > 1:
                entry = dataclasses.replace(
                    entry, record_id=f"{entry.record_id}{REPEATED_ID}{seen[entry.record_id] - 1}"
                )
        if isinstance(entry, Page):
            yield outcome(entry)
        elif STREAM_FAILED in entry.detail:
            raise SourceFailed(f"{entry.warc_file}: {entry.detail}")
        else:
            yield rejected_outcome(entry.url, entry.warc_file, entry.record_id, entry.reason, entry.detail)


def isolated_outcome(call: IsolatedCall) -> Callable[[Page], dict[str, Any]]:
    """Page -> outcome through an `IsolatedCall`: a timeout or a crash dead-letters that page only."""

    def outcome(page: Page) -> dict[str, Any]:
        try:
            return call.call(page)
        except IsolationError as error:
            return dead_letter(page.warc_file, page.record_id, page.url, "simplify", error)

    return outcome


def rejected_outcome(
    url: str | None, warc_file: str, record_id: str | None, reason: str, detail: str
) -> dict[str, Any]:
    """A rejected outcome: the rejection record, tagged for the job's partition."""
    return {"kind": REJECTED, **rejection_record(url, warc_file, record_id, reason, detail)}


def dead_letter(
    warc_file: str,
    record_id: str | None,
    url: str | None,
    stage: str,
    error: BaseException | str,
    trace: str = "",
) -> dict:
    """A dead-letter outcome: where it happened and the error, with the last frames of its traceback.

    `error` is the exception itself, or its description when only that survived (Beam's own
    exception handling hands over the type, the message and the formatted traceback).
    """
    if isinstance(error, BaseException):
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__, limit=-3))
        error = f"{type(error).__name__}: {error}"
    return {
        "kind": DEAD_LETTER,
        "warc_file": warc_file,
        "warc_record_id": record_id,
        "url": url,
        "stage": stage,
        "error": error[:2000],
        "traceback": trace[-4000:],
    }


def _rejected(page: Page, reason: str, detail: str, config: ExtractConfig) -> dict[str, Any]:
    outcome = rejected_outcome(page.url, page.warc_file, page.record_id, reason, detail)
    if config.keep_rejected_pages:
        outcome["html"] = page.html
    return outcome


@functools.cache
def _bands(num_perm: int, threshold: float) -> tuple[int, int]:
    return dedup.optimal_bands(num_perm, threshold)


@functools.cache
def _hasher(num_perm: int) -> dedup.MinHasher:
    return dedup.MinHasher(num_perm=num_perm)
