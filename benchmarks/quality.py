"""Related-trial quality of `similar` beside baselines, on TrialSim and SECRET, with the published protocol.

    python benchmarks/quality.py [--index index/bench] [--sets trialsim secret_val secret_test]

Builds (or reuses, by text hash) one index of the benchmark records plus ctgov-xml-6786.zip, then prints
one table per set (rows: methods; columns: re-rank metrics, then retrieval metrics) and writes them to
benchmarks/results/quality.md and quality.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from similar import Index, build_index
from similar.comparison import compare, lexical_scorers, markdown_table
from similar.evaluate import load_labels, rerank, scorable

ROOT = Path(__file__).resolve().parents[1]
SETS = ("trialsim", "secret_val", "secret_test")


def precision_check(args: argparse.Namespace, labels: Path) -> str:
    """The default embedding path (bfloat16, 128 tokens) against float32 at the model's 256 tokens, re-rank."""
    reference = args.index.with_name(args.index.name + "-fp32-256")
    build_index([args.shared / "bench" / "records.zip"], reference, bfloat16=False, max_tokens=None, progress=True)
    lines = [
        "### Embedding precision check (re-rank nDCG@5 / P@1, same rows)",
        "",
        "| set | rows | similar: bfloat16, 128 tokens | similar: float32, 256 tokens | difference |",
        "|---" * 5 + "|",
    ]
    for set_name in args.sets:
        results = []
        for path in (args.index, reference):
            with Index.open(path) as index:
                rows = scorable(load_labels(labels, set_name), index.__contains__)
                results.append(rerank("x", rows, lambda q, c, ix=index: [m.score for m in ix.score(q, c)]))
        if not results[0].rows:
            continue
        fast, slow = (r.metrics for r in results)
        lines.append(
            f"| {set_name} | {results[0].rows} | {fast['nDCG@5']:.3f} / {fast['P@1']:.3f} | "
            f"{slow['nDCG@5']:.3f} / {slow['P@1']:.3f} | {fast['nDCG@5'] - slow['nDCG@5']:+.3f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "index" / "bench")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--rows", type=int, default=None, help="score only the first N rows of each set")
    parser.add_argument("--no-corpus", action="store_true", help="index only the benchmark records (faster)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="skip the float32, 256-token reference index of the benchmark records",
    )
    args = parser.parse_args()

    sources = [args.shared / "bench" / "records.zip"]
    if not args.no_corpus:
        sources.append(args.shared / "data" / "ctgov-xml-6786.zip")
    summary = build_index(sources, args.index, progress=True)
    print(
        f"index {args.index}: {summary.count} trials ({summary.embedded} embedded, {summary.reused} reused)",
        file=sys.stderr,
    )
    with Index.open(args.index) as index:
        lexical = lexical_scorers(index)

    labels = args.shared / "bench" / "labels.csv"
    sections, data = [], {}
    for set_name in args.sets:
        table = compare(args.index, labels, set_name, args.rows, lexical)
        sections.append(markdown_table(set_name, table))
        print(sections[-1] + "\n")
        data[set_name] = [
            {
                "method": row.method,
                "rows": row.rerank.rows,
                "rerank": row.rerank.metrics,
                "retrieval": row.retrieval.metrics if row.retrieval else None,
            }
            for row in table
        ]
    if not args.no_reference:
        sections.append(precision_check(args, labels))
        print(sections[-1] + "\n")
    corpus = "the benchmark records" + ("" if args.no_corpus else " + ctgov-xml-6786.zip")
    header = (
        f"# Related-trial quality ({date.today().isoformat()})\n\n"
        f"Index: {summary.count} trials ({corpus}), model {index.manifest.model}. Re-rank: the 10 labelled "
        "candidates of each row ranked by score, ties by NCT id, over the rows that have a positive and all "
        "their records. Retrieval: where the labelled positives land in the query's related list among all "
        "indexed trials. Produced by `python benchmarks/quality.py`.\n"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.md").write_text(header + "\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    (args.out / "quality.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
