"""The named reasons a record can be dropped for.

Every input record ends in exactly one place: kept, or counted under one of these
names. Reader reasons come from `htlm.pipeline.reading.warc`, simplifier reasons from
`htlm.pipeline.simplify.mhtml`; later stages (filters, dedup) add their own.
"""

# Reader (WARC/ARC framing, HTTP, charset).
NOT_RESPONSE = "not-response"  # warcinfo, request, metadata, revisit, resource, ...
NOT_HTML = "not-html"  # a response whose payload is not HTML
HTTP_STATUS = "http-status"  # a response whose HTTP status is not 200
DECODE_ERROR = "decode-error"  # body that cannot be decoded to text honestly
TOO_LARGE = "too-large"  # record or page larger than the configured limit
READ_ERROR = "read-error"  # truncated/corrupt gzip, garbage between records, bad framing

# Simplifier.
TOO_DEEP = "too-deep"
PARSE_ERROR = "parse-error"
EMPTY_AFTER_SIMPLIFY = "empty-after-simplify"
LOW_TEXT_RATIO = "low-text-ratio"
LANG = "lang"

READER_REASONS = (NOT_RESPONSE, NOT_HTML, HTTP_STATUS, DECODE_ERROR, TOO_LARGE, READ_ERROR)
SIMPLIFY_REASONS = (TOO_LARGE, TOO_DEEP, PARSE_ERROR, EMPTY_AFTER_SIMPLIFY, LOW_TEXT_RATIO, LANG)

# Filters and dedup (the Beam job).
TOO_SHORT = "too-short"  # less text than --min-text-chars
TOO_LONG = "too-long"  # more text than --max-text-chars
DUP_URL = "dup-url"  # another document has the same normalised URL
DUP_CONTENT = "dup-content"  # another document has the same normalised text
NEAR_DUP = "near-dup"  # MinHash LSH: another document shares a band with it
FILTER_REASONS = (LANG, TOO_SHORT, TOO_LONG)
DEDUP_REASONS = (DUP_URL, DUP_CONTENT, NEAR_DUP)
