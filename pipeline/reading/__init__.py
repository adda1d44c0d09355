"""Reading: WARC/ARC records (warcio underneath, resync ours), HTTP payloads, charset, https sources.

`read_pages(path_or_stream)` yields one `Page` or `Dropped` per record and never raises.
"""

from htlm.pipeline.reading.entries import STREAM_FAILED, Dropped, Entry, Page, ReaderLimits
from htlm.pipeline.reading.responses import status_code
from htlm.pipeline.reading.warc import read_pages

__all__ = ["STREAM_FAILED", "Dropped", "Entry", "Page", "ReaderLimits", "read_pages", "status_code"]
