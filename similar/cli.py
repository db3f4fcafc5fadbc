"""The `similar` command line: build an index, then ask for related trials. Only calls the public API."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sys
from importlib import resources
from pathlib import Path
from typing import Sequence

from . import (
    DEFAULT_INDEX,
    DEFAULT_MAX_TOKENS,
    DEFAULT_MODEL,
    BuildError,
    EmbedderError,
    FetchError,
    FetchQuery,
    Filters,
    Index,
    IndexFileError,
    Match,
    SourceError,
    UnknownTrialError,
    build_index,
    evaluate_index,
    fetch,
    remove_from_index,
    update_index,
    write_all_related,
)

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

USER_ERRORS = (BuildError, EmbedderError, IndexFileError, SourceError, UnknownTrialError, ValueError)


def bundled_sample() -> Path:
    """The real records shipped with the package (see similar/data/README.md)."""
    return Path(str(resources.files("similar") / "data" / "ctgov-sample-1500.zip"))


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


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    # The model loader's own weight-loading bar is noise on a query; builds keep their embedding bar.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except (*USER_ERRORS, FetchError) as error:
        print(f"similar: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("similar: interrupted; the index is as it was before", file=sys.stderr)
        return 130


def run_build(args: argparse.Namespace) -> int:
    paths = args.paths or [str(bundled_sample())]
    summary = build_index(
        paths,
        args.index,
        model=args.model,
        weights=args.weights,
        index_type=args.index_type,
        bfloat16=not args.fp32,
        max_tokens=args.max_tokens or None,
        progress=True,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "index": str(summary.path),
                    "trials": summary.count,
                    "skipped": len(summary.skipped),
                    "skipped_records": [str(s) for s in summary.skipped],
                    "duplicates": summary.duplicates,
                    "embedded": summary.embedded,
                    "reused": summary.reused,
                    "seconds": round(summary.seconds, 2),
                    "bytes": summary.bytes,
                }
            )
        )
    else:
        print(
            f"built {summary.path}: {summary.count} trials, {len(summary.skipped)} skipped, "
            f"{summary.duplicates} duplicates, {summary.embedded} field texts embedded, {summary.reused} reused, "
            f"{summary.seconds:.1f} s, {summary.bytes / 1e6:.1f} MB"
        )
    return 0


def run_related(args: argparse.Namespace) -> int:
    if args.all:
        return run_related_all(args)
    if not args.nct_ids:
        raise ValueError("give one or more NCT ids, or --all --out FILE")
    with Index.open(args.index) as index:
        filters = filters_of(args)
        results = {nct: index.related(nct, k=args.k, filters=filters) for nct in args.nct_ids}
        if args.explain:
            results = {nct: index.explain(nct, matches) for nct, matches in results.items()}
        if args.json:
            print(
                json.dumps(
                    [{"query": nct, "results": [m.to_dict() for m in matches]} for nct, matches in results.items()],
                    indent=2,
                )
            )
            return 0
        for nct, matches in results.items():
            print(f"Trials related to {nct}: {index.trial(nct).title}")
            print(format_table(matches, index.fields))
    return 0


def run_related_all(args: argparse.Namespace) -> int:
    if not args.out or args.nct_ids:
        raise ValueError("--all takes no NCT ids and needs --out FILE")
    if filters_of(args):
        raise ValueError("--all does not take filters")
    with Index.open(args.index) as index:
        summary = write_all_related(index, args.out, k=args.k, progress=True)
    rate = summary.written / summary.seconds if summary.seconds else 0.0
    report = {
        "out": str(summary.path),
        "written": summary.written,
        "already_done": summary.already_done,
        "seconds": round(summary.seconds, 2),
        "trials_per_second": round(rate, 1),
    }
    print(json.dumps(report) if args.json else ", ".join(f"{k} {v}" for k, v in report.items()))
    return 0


def run_search(args: argparse.Namespace) -> int:
    text = " ".join(args.text)
    with Index.open(args.index) as index:
        matches = index.search(text, k=args.k, filters=filters_of(args))
        if args.json:
            print(json.dumps({"query": text, "results": [m.to_dict() for m in matches]}, indent=2))
        else:
            print(f"Trials closest to: {text}")
            print(format_table(matches, index.fields))
    return 0


def run_info(args: argparse.Namespace) -> int:
    with Index.open(args.index) as index:
        manifest = index.manifest
        info = {
            "index": str(args.index),
            "generation": index.folder.name,
            "trials": len(index),
            "model": manifest.model,
            "dimension": manifest.dimension,
            "precision": manifest.precision,
            "max_tokens": manifest.max_tokens,
            "fields": manifest.fields,
            "weights": manifest.weights,
            "index_type": manifest.index_type,
            "ann": manifest.ann,
            "sources": manifest.sources,
            "skipped": manifest.skipped,
            "built_at": manifest.built_at,
            "format_version": manifest.format_version,
            "versions": manifest.versions,
            "bytes": sum(f["bytes"] for f in manifest.files.values()),
        }
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(map(len, info))
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    if not Path(args.labels).is_file():
        raise ValueError(f"{args.labels}: no labels file (give one with --labels)")
    with Index.open(args.index, weights=args.weights) as index:
        reranked, retrieved = evaluate_index(index, args.labels, args.set_name)
    if not reranked.rows:
        raise ValueError(f"no row of set {args.set_name!r} has all its records in {args.index}")
    if args.json:
        print(
            json.dumps(
                {
                    "set": args.set_name,
                    "rows": reranked.rows,
                    "rerank": reranked.metrics,
                    "retrieval": retrieved.metrics,
                },
                indent=2,
            )
        )
    else:
        print(f"{args.set_name}: {reranked.rows} rows scored (a positive, and every record in the index)")
        for name, result in (("re-rank", reranked), ("retrieval", retrieved)):
            print(f"{name:<10} " + "  ".join(f"{k} {v:.3f}" for k, v in result.metrics.items()))
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    if args.since and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", args.since):
        raise ValueError(f"--since wants a date like 2026-01-01, got {args.since!r}")
    query = FetchQuery(
        condition=args.condition,
        intervention=args.intervention,
        term=args.term,
        statuses=[s.upper() for s in args.status],
        phases=[p.upper() for p in args.phase],
        since=args.since,
        max_records=args.max_records,
    )
    summary = fetch(query, args.out, url=args.api_url, progress=True)
    if args.json:
        print(
            json.dumps(
                {
                    "out": str(summary.path),
                    "written": summary.written,
                    "duplicates": summary.duplicates,
                    "total": summary.total,
                    "pages": summary.pages,
                }
            )
        )
    else:
        print(
            f"{summary.path}: {summary.written} studies written ({summary.duplicates} already there), "
            f"{summary.total if summary.total is not None else 'unknown'} match, {summary.pages} pages"
        )
    return 0


def run_update(args: argparse.Namespace) -> int:
    summary = update_index(args.paths, args.index, progress=True)
    report = {
        "index": str(summary.path),
        "added": summary.added,
        "replaced": summary.replaced,
        "unchanged": summary.unchanged,
        "skipped": len(summary.skipped),
        "embedded": summary.embedded,
        "trials": summary.count,
        "seconds": round(summary.seconds, 2),
    }
    print(json.dumps(report) if args.json else ", ".join(f"{k} {v}" for k, v in report.items()))
    return 0


def run_remove(args: argparse.Namespace) -> int:
    try:
        summary = remove_from_index(args.nct_ids, args.index)
    except KeyError as error:
        raise ValueError(error.args[0]) from None
    report = {"index": str(summary.path), "removed": summary.removed, "trials": summary.count}
    print(json.dumps(report) if args.json else ", ".join(f"{k} {v}" for k, v in report.items()))
    return 0


COMMANDS = {
    "build": run_build,
    "related": run_related,
    "search": run_search,
    "info": run_info,
    "eval": run_eval,
    "fetch": run_fetch,
    "update": run_update,
    "remove": run_remove,
}


def format_table(matches: list[Match], fields: Sequence[str]) -> str:
    """A fixed-width table: rank, NCT id, score, the per-field scores, then the title cut to the terminal."""
    if not matches:
        return "  (no related trials)"
    short = [name[:5] for name in fields]
    header = f"{'#':>3}  {'NCT id':<11}  {'score':>5}  " + "  ".join(f"{s:>5}" for s in short) + "  title"
    columns = shutil.get_terminal_size((120, 20)).columns
    lines = [header]
    for m in matches:
        scores = "  ".join("    -" if m.field_scores.get(f) is None else f"{m.field_scores[f]:5.2f}" for f in fields)
        line = f"{m.rank:>3}  {m.nct_id:<11}  {m.score:5.3f}  {scores}  {m.title}"
        lines.append(line if len(line) <= columns else line[: columns - 1] + "…")
        if m.why is not None:
            lines.append(f"{'':>5}why: {m.why.summary()}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
