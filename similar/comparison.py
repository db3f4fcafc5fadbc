"""Methods side by side on a labelled set: chance, lexical baselines, the engine per field and as a whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .engine import Index
from .evaluate import (
    RERANK_METRICS,
    RETRIEVAL_METRICS,
    LabelledRow,
    Result,
    load_labels,
    random_rerank,
    rerank,
    retrieval,
    scorable,
    top_ids,
)
from .lexical import Bm25Scorer, TfidfScorer, mesh_agreement


@dataclass
class Row:
    """One method's line of a comparison table; `retrieval` is None where it does not apply (chance)."""

    rerank: Result
    retrieval: Result | None

    @property
    def method(self) -> str:
        return self.rerank.method


def lexical_scorers(index: Index) -> dict[str, TfidfScorer | Bm25Scorer]:
    """TF-IDF and BM25 fitted on every record of the index."""
    trials = [index.store.trial(row) for row in range(len(index))]
    return {"TF-IDF, whole record": TfidfScorer(trials), "BM25, whole record": Bm25Scorer(trials)}


def engine_variants(fields: Sequence[str]) -> dict[str, tuple[dict[str, float] | None, float | None]]:
    """(field weights, lexical weight) of the engine restricted to each single field and to its dense
    score, then of the engine as built (None: the index's own)."""
    variants: dict[str, tuple[dict[str, float] | None, float | None]] = {
        f"similar, {name} only": ({f: float(f == name) for f in fields}, 0.0) for name in fields
    }
    variants["similar, dense only (no TF-IDF)"] = (None, 0.0)
    variants["similar"] = (None, None)
    return variants


def compare(
    index_path: str | Path,
    labels: str | Path,
    set_name: str,
    rows_limit: int | None = None,
    lexical: dict | None = None,
) -> list[Row]:
    """Every method on the same scorable rows of `set_name`, in one run."""
    with Index.open(index_path) as base:
        rows = scorable(load_labels(labels, set_name), base.__contains__)[:rows_limit]
        lexical = lexical_scorers(base) if lexical is None else lexical
        table = [Row(random_rerank(rows), None)]
        for name, scorer in lexical.items():

            def retriever(query: str, depth: int, s=scorer) -> list[str]:
                return top_ids(s.scores_all(query), s.nct_ids, query, depth)

            table.append(Row(rerank(name, rows, scorer.score), retrieval(name, rows, retriever)))
        for name, (weights, lexical_weight) in engine_variants(base.fields).items():
            with Index.open(
                index_path, weights=weights, lexical_weight=lexical_weight, embedder=base.embedder
            ) as index:
                table.append(
                    Row(
                        rerank(name, rows, lambda q, c, ix=index: [m.score for m in ix.score(q, c)]),
                        retrieval(name, rows, lambda q, d, ix=index: [m.nct_id for m in ix.related(q, d)]),
                    )
                )
        table += mesh_rows(base, rows)
    return table


def mesh_rows(index: Index, rows: Sequence[LabelledRow], pool: int = 100) -> list[Row]:
    """The engine's score plus agreement on MeSH terms (Jaccard); retrieval re-scores its top `pool`."""

    def scorer(query: str, candidates: Sequence[str]) -> np.ndarray:
        trial = index.trial(query)
        dense = np.array([m.score for m in index.score(query, candidates)])
        return dense + 0.2 * np.array([mesh_agreement(trial, index.trial(c)) for c in candidates])

    def retriever(query: str, depth: int) -> list[str]:
        candidates = [m.nct_id for m in index.related(query, pool)]
        scores = scorer(query, candidates)
        order = sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i]))
        return [candidates[i] for i in order[:depth]]

    name = "similar + MeSH agreement (+0.2 Jaccard)"
    return [Row(rerank(name, rows, scorer), retrieval(name, rows, retriever))]


def markdown_table(set_name: str, table: Sequence[Row]) -> str:
    """The comparison as a Markdown table, with the number of rows scored in its heading."""
    if not table[0].rerank.rows:
        return f"### {set_name} (0 scorable rows)\n\nNo row of this set has its query and all 10 candidates on hand."
    head = "| method | " + " | ".join((*RERANK_METRICS, *RETRIEVAL_METRICS)) + " |"
    lines = [
        f"### {set_name} ({table[0].rerank.rows} scorable rows)",
        "",
        head,
        "|---" * (1 + len(RERANK_METRICS) + len(RETRIEVAL_METRICS)) + "|",
    ]
    for row in table:
        cells = [f"{row.rerank.metrics[m]:.3f}" for m in RERANK_METRICS]
        cells += [f"{row.retrieval.metrics[m]:.3f}" if row.retrieval else "-" for m in RETRIEVAL_METRICS]
        lines.append(f"| {row.method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
