"""`htlm-simplify`'s flags, and the per-record configuration they describe."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from htlm.pipeline.extract import ExtractConfig
from htlm.pipeline.filters import FilterConfig, parse_langs
from htlm.pipeline.simplify.config import MODE_HELP, MODES, SimplifyConfig


def build_parser() -> argparse.ArgumentParser:
    """htlm-simplify's flags: inputs and outputs, the simplifier's rules, the job's filters."""
    parser = argparse.ArgumentParser(
        prog="htlm-simplify",
        description=(
            "Simplify web pages into Minimal HTML (MHTML) as in HTLM (Aghajanyan et al., 2021): drop "
            "scripts, styles, headers, footers, forms and every subtree without a text element of "
            ">= 128 characters (64 for lists, tables, spans), keep only class/id attributes, and keep "
            "a page only if its text/HTML ratio is > 0.46. Inputs are HTML files (plain or .gz) or "
            "WARC/ARC files (gzipped or not)."
        ),
        epilog=(
            "examples:\n"
            "  htlm-simplify page.html                      # print one page's MHTML\n"
            "  htlm-simplify crawl.warc.gz -o docs.jsonl.gz # JSONL document records + summary\n"
            "  htlm-simplify *.warc.gz -o docs.jsonl.gz --langs en --rejected rejected.jsonl.gz"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", type=Path, help="HTML or WARC/ARC files")
    parser.add_argument("-o", "--output", help="JSONL of document records ('-' = stdout; .gz compresses)")
    parser.add_argument(
        "--rejected", help="also write one JSONL line per dropped record: url, record id, reason"
    )
    parser.add_argument("--stats", help="write the summary as JSON to this file")
    _simplifier_flags(parser.add_argument_group("simplifier (the paper's rules)"))
    _filter_flags(
        parser.add_argument_group("filters (the same flags, defaults and decisions as htlm-pipeline)")
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    return parser


def _simplifier_flags(simplifier: Any) -> None:
    simplifier.add_argument("--min-text-ratio", type=float, default=SimplifyConfig.min_text_ratio)
    simplifier.add_argument(
        "--mhtml-mode",
        choices=MODES,
        default=SimplifyConfig.mode,
        help=MODE_HELP,
    )
    simplifier.add_argument(
        "--text-element-chars",
        type=int,
        default=SimplifyConfig.min_text_chars,
        help="running text that makes an element a text element (paper: 128)",
    )
    simplifier.add_argument(
        "--text-element-chars-short",
        type=int,
        default=SimplifyConfig.min_text_chars_short,
        help="the same bar for lists, tables and spans (64)",
    )
    simplifier.add_argument(
        "--keep-attributes", default="class,id", help="attributes kept on elements (default: class,id)"
    )
    simplifier.add_argument("--max-input-chars", type=int, default=SimplifyConfig.max_input_chars)


def _filter_flags(filters: Any) -> None:
    filters.add_argument("--langs", default="all", help="keep these languages (en,de,...) or 'all' (default)")
    filters.add_argument(
        "--min-lang-score",
        type=float,
        default=FilterConfig.min_lang_score,
        help="language-ID probability below which the page's own lang attribute decides",
    )
    filters.add_argument(
        "--min-text-chars",
        type=int,
        default=FilterConfig.min_text_chars,
        help="drop documents with less text",
    )
    filters.add_argument(
        "--max-text-chars",
        type=int,
        default=FilterConfig.max_text_chars,
        help="drop documents with more text",
    )


def config_from_args(args: argparse.Namespace) -> ExtractConfig:
    """The per-record configuration the command-line flags describe (no dedup keys: no dedup here)."""
    simplify = SimplifyConfig(
        min_text_chars=args.text_element_chars,
        min_text_chars_short=args.text_element_chars_short,
        min_text_ratio=args.min_text_ratio,
        keep_attributes=frozenset(filter(None, args.keep_attributes.split(","))),
        max_input_chars=args.max_input_chars,
        mode=args.mhtml_mode,
    )
    filters = FilterConfig(
        langs=parse_langs(args.langs),
        min_lang_score=args.min_lang_score,
        min_text_chars=args.min_text_chars,
        max_text_chars=args.max_text_chars,
    )
    return ExtractConfig(simplify=simplify, filters=filters, dedup=None)
