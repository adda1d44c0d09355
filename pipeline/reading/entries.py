"""What the reader yields: one `Page` or `Dropped` per record (and per unreadable stretch), and its limits."""

from __future__ import annotations

from dataclasses import dataclass

STREAM_FAILED = "read failed"  # marks a Dropped whose cause is the byte stream itself raising


@dataclass(frozen=True, slots=True)
class Page:
    """A decoded HTML page from one response record."""

    url: str
    warc_file: str
    record_id: str
    date: str  # YYYY-MM-DDTHH:MM:SSZ when parseable, else as found in the record
    status: int
    headers: tuple[tuple[str, str], ...]  # HTTP headers as found
    body: bytes  # payload after transfer and content decoding
    html: str
    charset: str  # codec used
    charset_source: str  # bom, http, meta or detected
    offset: int  # byte offset of the record in the raw file, -1 when not known


@dataclass(frozen=True, slots=True)
class Dropped:
    """A record (or run of unreadable bytes) that yields no page, and why."""

    reason: str  # one of htlm.pipeline.reasons.READER_REASONS
    warc_file: str
    record_id: str | None
    url: str | None
    detail: str
    offset: int


@dataclass(frozen=True, slots=True)
class ReaderLimits:
    """Bounds that keep memory flat whatever the input."""

    max_record_bytes: int = 10 * 1024 * 1024  # larger records are skipped unread: too-large
    max_header_bytes: int = 64 * 1024  # a header line, or a WARC header block, longer than this is garbage


Entry = Page | Dropped


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record came from, for the Page or Dropped it becomes."""

    warc_file: str
    record_id: str | None
    url: str | None
    offset: int

    def drop(self, reason: str, detail: str) -> Dropped:
        return Dropped(reason, self.warc_file, self.record_id, self.url, detail, self.offset)
