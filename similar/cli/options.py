"""The command line's options: subcommands, filters, field weights, and the examples `--help` shows."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .. import DEFAULT_INDEX, DEFAULT_LEXICAL_WEIGHT, DEFAULT_MAX_TOKENS, DEFAULT_MODEL, Filters

EXAMPLES = """examples:
  similar build                          # the bundled sample of 1,500 real trials
  similar build AllPublicXML.zip studies.jsonl.gz export.csv
  similar related NCT00006164 -k 10
  similar related NCT00006164 --json
  similar related NCT00006164 --explain
  similar related NCT00006164 --status RECRUITING --phase PHASE2,PHASE3 --country "United States"
  similar update new-records.jsonl
  similar remove NCT00006164
  similar related --all -k 10 --out related.jsonl
  similar search "hepatocellular carcinoma sorafenib"
  similar info
  similar eval --set trialsim --labels ../shared/bench/labels.csv
  similar fetch --condition "liver cirrhosis" --max 2000 --out trials.jsonl
  similar fetch --condition "liver cirrhosis" --since 2026-01-01 --out updates.jsonl
"""


def default_index() -> str:
    return os.environ.get("SIMILAR_INDEX", str(DEFAULT_INDEX))


def parse_weights(text: str) -> dict[str, float]:
    """'conditions=0.4,description=0.6' -> {'conditions': 0.4, 'description': 0.6}."""
    weights = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected FIELD=NUMBER, got {part!r}") from None
        if not sep:
            raise argparse.ArgumentTypeError(f"expected FIELD=NUMBER, got {part!r}")
    return weights


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="similar",
        description="Related clinical trials from ClinicalTrials.gov records.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is happening")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help, description=help, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        sub.add_argument(
            "--index",
            default=default_index(),
            metavar="DIR",
            help="index folder (default: $SIMILAR_INDEX or %(default)s)",
        )
        sub.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
        return sub

    build = command("build", "build an index from record files, folders and archives (any mix of formats)")
    build.add_argument("paths", nargs="*", metavar="PATH", help="records (default: the bundled sample)")
    build.add_argument("--model", default=DEFAULT_MODEL, help="sentence-transformers model name or path")
    build.add_argument("--weights", type=parse_weights, help="field weights, e.g. conditions=0.4,description=0.6")
    build.add_argument(
        "--lexical-weight",
        type=float,
        default=DEFAULT_LEXICAL_WEIGHT,
        help="share of the whole-record TF-IDF cosine in the score (default %(default)s; 0: dense only)",
    )
    build.add_argument(
        "--index-type",
        default="auto",
        choices=("auto", "flat", "hnsw"),
        help="FAISS index: exact (flat) up to 200,000 trials, HNSW above, unless set (default auto)",
    )
    build.add_argument("--fp32", action="store_true", help="embed in float32 instead of bfloat16")
    build.add_argument(
        "--max-tokens",
        type=int,
        default=DEFAULT_MAX_TOKENS,
        help="cut each field text to this many tokens (default %(default)s; 0: the model's limit)",
    )

    related = command("related", "the trials most related to one or more NCT ids (or --all of them)")
    related.add_argument("nct_ids", nargs="*", metavar="NCT")
    related.add_argument("--explain", action="store_true", help="say what each match shares with the query")
    related.add_argument("--all", action="store_true", help="every trial of the index, as JSONL into --out")
    related.add_argument("--out", help="with --all: the JSONL file to write (resumes where it stopped)")
    related.add_argument("-k", type=int, default=10, help="how many related trials (default 10)")
    add_filter_options(related)

    search = command("search", "the trials closest to a free-text query")
    search.add_argument("text", nargs="+")
    search.add_argument("-k", type=int, default=10, help="how many trials (default 10)")
    add_filter_options(search)

    update = command("update", "add new records and replace changed ones (by last-update date), no full rebuild")
    update.add_argument("paths", nargs="+", metavar="PATH")

    remove = command("remove", "delete records from the index")
    remove.add_argument("nct_ids", nargs="+", metavar="NCT")

    command("info", "what an index holds and how it was built")

    evaluate = command("eval", "related-trial quality on a labelled set (re-rank and retrieval protocols)")
    evaluate.add_argument("--set", required=True, dest="set_name", help="trialsim, secret_val or secret_test")
    evaluate.add_argument(
        "--labels",
        default=str(Path("..") / "shared" / "bench" / "labels.csv"),
        help="labels CSV: set,row,query_nct,candidate_nct,label (default: %(default)s)",
    )
    evaluate.add_argument("--weights", type=parse_weights, help="score with other field weights (no re-embedding)")
    evaluate.add_argument("--lexical-weight", type=float, help="score with another share of the TF-IDF cosine")

    fetcher = command("fetch", "download studies from the ClinicalTrials.gov API v2 into a JSONL file (resumable)")
    fetcher.add_argument("--condition", default="", help="condition or disease (query.cond)")
    fetcher.add_argument("--intervention", default="", help="intervention or treatment (query.intr)")
    fetcher.add_argument("--term", default="", help="other terms (query.term)")
    fetcher.add_argument("--status", action="append", default=[], help="overall status, e.g. RECRUITING (repeatable)")
    fetcher.add_argument("--phase", action="append", default=[], help="phase, e.g. PHASE2 (repeatable)")
    fetcher.add_argument("--since", default="", help="last update posted on or after this date (YYYY-MM-DD)")
    fetcher.add_argument("--max", type=int, default=None, dest="max_records", help="stop after this many studies")
    fetcher.add_argument("--out", required=True, help="JSONL file to append to")
    fetcher.add_argument("--api-url", default=None, help="API base URL (default: $SIMILAR_API_URL or the registry)")
    return parser


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    """Filters in the registry's spellings; each option repeats or takes a comma-separated list."""
    group = parser.add_argument_group("filters (a value list matches any; different filters must all match)")
    for option, help in (
        ("--phase", "PHASE1, PHASE2, ..., EARLY_PHASE1, NA"),
        ("--status", "RECRUITING, COMPLETED, ..."),
        ("--study-type", "INTERVENTIONAL, OBSERVATIONAL, EXPANDED_ACCESS"),
        ("--intervention-type", "DRUG, DEVICE, BIOLOGICAL, ..."),
        ("--condition", "a MeSH term or text found in the conditions"),
        ("--country", "a country of a trial site"),
    ):
        group.add_argument(option, action="append", default=[], help=help)
    group.add_argument("--start-from", default="", help="started on or after YYYY[-MM[-DD]]")
    group.add_argument("--start-to", default="", help="started on or before YYYY[-MM[-DD]]")


def filters_of(args: argparse.Namespace) -> Filters:
    def split(values: list[str]) -> list[str]:
        return [v.strip() for value in values for v in value.split(",") if v.strip()]

    return Filters(
        phases=split(args.phase),
        statuses=split(args.status),
        study_types=split(args.study_type),
        intervention_types=split(args.intervention_type),
        conditions=split(args.condition),
        countries=split(args.country),
        start_from=args.start_from,
        start_to=args.start_to,
    )
