"""The named reasons a record can be dropped for, each carrying the stage that drops it.

Every input record ends in exactly one place: kept, or counted under one of these names.
A reason is `<stage>/<name>` (`read/too-large`, `simplify/too-large`, `filter/lang`,
`dedup/near-dup`), so the funnel is a group-by on the stage and a name two stages use is
never confused. Dead letters carry a stage too (`read`, `extract`, `simplify`).
"""

READ, SIMPLIFY, FILTER, DEDUP = "read", "simplify", "filter", "dedup"
STAGES = (READ, SIMPLIFY, FILTER, DEDUP)

# Reader (WARC/ARC framing, HTTP, charset): htlm.pipeline.reading.
NOT_RESPONSE = "read/not-response"  # warcinfo, request, metadata, revisit, resource, ...
NOT_HTML = "read/not-html"  # a response whose payload is not HTML
HTTP_STATUS = "read/http-status"  # HTTP status other than 200, or no status to recover
DECODE_ERROR = "read/decode-error"  # a body that cannot be decoded to text honestly
TOO_LARGE = "read/too-large"  # a record, or its decoded body, over the size limit
READ_ERROR = "read/read-error"  # truncated/corrupt gzip, garbage between records, bad framing

# Simplifier: htlm.pipeline.simplify.
PAGE_TOO_LARGE = "simplify/too-large"  # a page over the simplifier's input limit
TOO_DEEP = "simplify/too-deep"
PARSE_ERROR = "simplify/parse-error"
EMPTY_AFTER_SIMPLIFY = "simplify/empty-after-simplify"
LOW_TEXT_RATIO = "simplify/low-text-ratio"

# Filters: htlm.pipeline.filters.
TOO_SHORT = "filter/too-short"  # less text than --min_text_chars
TOO_LONG = "filter/too-long"  # more text than --max_text_chars
LANG = "filter/lang"  # not one of --langs

# Dedup (the Beam job): htlm.pipeline.dedup.
DUP_URL = "dedup/dup-url"  # another document has the same normalised URL
DUP_CONTENT = "dedup/dup-content"  # another document has the same normalised text
NEAR_DUP = "dedup/near-dup"  # MinHash LSH: another document shares a band with it

READER_REASONS = (NOT_RESPONSE, NOT_HTML, HTTP_STATUS, DECODE_ERROR, TOO_LARGE, READ_ERROR)
SIMPLIFY_REASONS = (PAGE_TOO_LARGE, TOO_DEEP, PARSE_ERROR, EMPTY_AFTER_SIMPLIFY, LOW_TEXT_RATIO)
FILTER_REASONS = (TOO_SHORT, TOO_LONG, LANG)
DEDUP_REASONS = (DUP_URL, DUP_CONTENT, NEAR_DUP)


def stage_of(reason: str) -> str:
    """The stage a reason belongs to: `read/too-large` -> `read`."""
    return reason.split("/", 1)[0]
