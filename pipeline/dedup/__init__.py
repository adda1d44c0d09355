"""Deduplication core: exact URL, exact content and MinHash-LSH near-duplicates, the Beam way.

One module per concept: `urls` (canonical form), `exact` (content key), `shingles`,
`minhash`, `lsh` (band keys) and `keep` (which document survives); the Beam transform that
strings them together is `htlm.pipeline.beam.dedup`.

The Beam job deduplicates documents across workers and input files in three passes, each
"compute keys per document -> GroupByKey -> drop the losers of each group":

1. **URL**: key `normalize_url(url)`; group; `losers_in_group` drops all but one.
2. **Content**: key `content_key(text)` (blake2b-128 of `normalize_text`); same.
3. **Near-duplicates**: `near_dup_keys(text)` = `band_keys(MinHasher().signature(shingle_hashes(text)))`;
   group by band key; a document is dropped iff it is a loser (`losers_in_bucket`) in at least
   one bucket.

Which document survives is decided by one total order, `keep_order_key`: the most text first,
then the earliest fetch date, then the smallest doc_id (then the url). Every worker computes
the same winner whatever order a group's members arrive in.

Why every near-duplicate cluster keeps at least one document: take any set of documents
linked by shared buckets (a connected component) and let g be its member with the smallest
`keep_order_key`. Every bucket that holds g holds only members of g's component, so g is the
smallest member of that bucket and wins it; g is therefore a loser nowhere and survives.
This needs doc_ids to be unique (one DocRef per doc_id), which the job ensures by keying on
the WARC record id. The rule may drop more than pairwise similarity alone would (A~B and B~C
drop B and C when A wins, even if A and C are not similar) and may keep several members of a
component that no single bucket joins; that is the usual price of resolving LSH buckets in one
GroupByKey without a connected-components pass.

Determinism across processes and machines: no salted `hash()`, no numpy random streams
(whose algorithms numpy may change between versions). Every hash is blake2b or explicit
64-bit arithmetic, MinHash parameters come from blake2b of the seed, and byte order is fixed
(little-endian). Tokenisation depends on the Unicode tables of the Python version, which
setup.py pins to 3.11.

Pure: numpy and the standard library only, no Beam import.
"""

from htlm.pipeline.dedup.exact import content_key, normalize_text
from htlm.pipeline.dedup.keep import DocRef, keep_order_key, losers_in_bucket, losers_in_group, preferred
from htlm.pipeline.dedup.lsh import (
    DEFAULT_BANDS,
    DEFAULT_ROWS,
    DEFAULT_THRESHOLD,
    band_keys,
    near_dup_keys,
    optimal_bands,
)
from htlm.pipeline.dedup.minhash import DEFAULT_NUM_PERM, MinHasher, estimated_jaccard, jaccard
from htlm.pipeline.dedup.shingles import DEFAULT_SHINGLE_SIZE, shingle_hashes, shingles, tokenize
from htlm.pipeline.dedup.urls import TRACKING_PARAMS, normalize_url

__all__ = [
    "DEFAULT_BANDS",
    "DEFAULT_NUM_PERM",
    "DEFAULT_ROWS",
    "DEFAULT_SHINGLE_SIZE",
    "DEFAULT_THRESHOLD",
    "TRACKING_PARAMS",
    "DocRef",
    "MinHasher",
    "band_keys",
    "content_key",
    "estimated_jaccard",
    "jaccard",
    "keep_order_key",
    "losers_in_bucket",
    "losers_in_group",
    "near_dup_keys",
    "normalize_text",
    "normalize_url",
    "optimal_bands",
    "preferred",
    "shingle_hashes",
    "shingles",
    "tokenize",
]
