"""One function per subcommand; each calls the public API and prints through `output`."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from .. import (
    FetchQuery,
    Index,
    build_index,
    bundled_sample,
    evaluate_index,
    fetch,
    remove_from_index,
    update_index,
    write_all_related,
)
from .options import filters_of
from .output import format_table, report


def run_build(args: argparse.Namespace) -> int:
    paths = args.paths or [str(bundled_sample())]
    summary = build_index(
        paths,
        args.index,
        model=args.model,
        weights=args.weights,
        lexical_weight=args.lexical_weight,
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
    values = {
        "out": str(summary.path),
        "written": summary.written,
        "already_done": summary.already_done,
        "seconds": round(summary.seconds, 2),
        "trials_per_second": round(rate, 1),
    }
    report(args, values)
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
            "lexical_weight": manifest.lexical_weight,
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
    with Index.open(args.index, weights=args.weights, lexical_weight=args.lexical_weight) as index:
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
    values = {
        "index": str(summary.path),
        "added": summary.added,
        "replaced": summary.replaced,
        "unchanged": summary.unchanged,
        "skipped": len(summary.skipped),
        "embedded": summary.embedded,
        "trials": summary.count,
        "seconds": round(summary.seconds, 2),
    }
    report(args, values)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    try:
        summary = remove_from_index(args.nct_ids, args.index)
    except KeyError as error:
        raise ValueError(error.args[0]) from None
    values = {"index": str(summary.path), "removed": summary.removed, "trials": summary.count}
    report(args, values)
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
