"""The ids and symbols fairseq and SentencePiece agree on: the one home of BOS/PAD/EOS/UNK and `<mask>`."""

MASK = "<mask>"
META_SPACE = "\u2581"  # SentencePiece's whitespace symbol "▁"

# fairseq's Dictionary(): these four come first, in this order, before the lines of dict.txt.
FAIRSEQ_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
BOS_ID, PAD_ID, EOS_ID, UNK_ID = range(4)

# fairseq stores token ids as uint16 when the dictionary has fewer than this many symbols
# (`indexed_dataset.best_fitting_int_dtype`: `max_int_to_represent < 65500`).
UINT16_LIMIT = 65_500
FAIRSEQ_PADDING_FACTOR = 8  # --padding-factor default: dictionaries built by fairseq are padded to x8
