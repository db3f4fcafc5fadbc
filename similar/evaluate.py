"""Related-trial quality on labelled sets (TrialSim, SECRET), with the published protocol.

Re-rank: each query's 10 labelled candidates are ranked by a scorer (ties broken by NCT id, never by
file order) and scored with P@k, R@k, nDCG@5 and MAP, over the rows that have a positive and whose
records are all present. Retrieval: where the positives land in the related list of the query.
"""

from __future__ import annotations

import csv
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

RERANK_METRICS = ("P@1", "P@2", "P@5", "R@1", "R@2", "R@5", "nDCG@5", "MAP")
RETRIEVAL_METRICS = ("R@10", "R@50", "MRR")

# scores of the candidates (same order) for a query
Scorer = Callable[[str, Sequence[str]], Sequence[float]]
# NCT ids of the whole collection ranked for a query, best first, the query left out
Retriever = Callable[[str, int], Sequence[str]]


@dataclass(frozen=True)
class LabelledRow:
    set: str
    row: str
    query: str
    candidates: tuple[str, ...]
    labels: tuple[int, ...]

    @property
    def positives(self) -> list[str]:
        return [c for c, label in zip(self.candidates, self.labels, strict=True) if label]


@dataclass
class Result:
    """Mean metrics of one method on one set, and how many rows they average."""

    method: str
    rows: int
    metrics: dict[str, float] = field(default_factory=dict)


def load_labels(path: str | Path, set_name: str | None = None) -> list[LabelledRow]:
    """Rows of `labels.csv` (set,row,query_nct,candidate_nct,label), optionally of one set."""
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    with open(path, newline="", encoding="utf-8") as handle:
        for item in csv.DictReader(handle):
            if set_name is None or item["set"] == set_name:
                grouped[(item["set"], item["row"])].append(item)
    return [
        LabelledRow(
            key[0],
            key[1],
            items[0]["query_nct"],
            tuple(i["candidate_nct"] for i in items),
            tuple(int(i["label"]) for i in items),
        )
        for key, items in grouped.items()
    ]


def scorable(rows: Iterable[LabelledRow], available: Callable[[str], bool]) -> list[LabelledRow]:
    """Rows with at least one positive whose query and candidates all have a record."""
    return [r for r in rows if any(r.labels) and all(map(available, (r.query, *r.candidates)))]


def rank_metrics(ranked_labels: Sequence[int]) -> dict[str, float]:
    """P@k, R@k, nDCG@5 (gain = label, discount log2(rank + 1)) and average precision of one ranking."""
    labels = [int(x) for x in ranked_labels]
    positives = sum(labels)
    hits_at = lambda k: sum(labels[:k])  # noqa: E731
    ideal = sorted(labels, reverse=True)
    dcg = lambda ls: sum(g / math.log2(i + 2) for i, g in enumerate(ls[:5]))  # noqa: E731
    precisions = [hits_at(i + 1) / (i + 1) for i, label in enumerate(labels) if label]
    return {
        **{f"P@{k}": hits_at(k) / k for k in (1, 2, 5)},
        **{f"R@{k}": hits_at(k) / positives for k in (1, 2, 5)},
        "nDCG@5": dcg(labels) / dcg(ideal),
        "MAP": sum(precisions) / positives,
    }


def ranked_labels(row: LabelledRow, scores: Sequence[float]) -> list[int]:
    order = sorted(range(len(row.candidates)), key=lambda i: (-float(scores[i]), row.candidates[i]))
    return [row.labels[i] for i in order]


def rerank(method: str, rows: Sequence[LabelledRow], scorer: Scorer) -> Result:
    """Mean re-rank metrics of `scorer` over `rows`."""
    per_row = [rank_metrics(ranked_labels(r, scorer(r.query, list(r.candidates)))) for r in rows]
    return Result(method, len(rows), _mean(per_row, RERANK_METRICS))


def random_rerank(rows: Sequence[LabelledRow], shuffles: int = 1000, seed: int = 0) -> Result:
    """The expected metrics of a random order: the mean over many seeded shuffles."""
    rng = random.Random(seed)
    per_row = []
    for row in rows:
        for _ in range(shuffles):
            labels = list(row.labels)
            rng.shuffle(labels)
            per_row.append(rank_metrics(labels))
    return Result("random order", len(rows), _mean(per_row, RERANK_METRICS))


def retrieval(method: str, rows: Sequence[LabelledRow], retriever: Retriever, depth: int = 50) -> Result:
    """Recall@10 and @50 of the labelled positives in the query's related list, and the MRR of the first."""
    per_row = []
    for row in rows:
        ranked = list(retriever(row.query, depth))
        positives = set(row.positives)
        first = next((i + 1 for i, nct in enumerate(ranked) if nct in positives), None)
        per_row.append(
            {
                "R@10": len(positives & set(ranked[:10])) / len(positives),
                "R@50": len(positives & set(ranked[:50])) / len(positives),
                "MRR": 1 / first if first else 0.0,
            }
        )
    return Result(method, len(rows), _mean(per_row, RETRIEVAL_METRICS))


def top_ids(scores: np.ndarray, nct_ids: Sequence[str], query: str, depth: int) -> list[str]:
    """The `depth` best NCT ids of a full score vector, the query left out, ties broken by NCT id."""
    candidates = np.argsort(-scores, kind="stable")[: depth + 1 + 64]
    ordered = sorted(candidates, key=lambda i: (-float(scores[i]), nct_ids[i]))
    return [nct_ids[i] for i in ordered if nct_ids[i] != query][:depth]


def _mean(per_row: list[dict[str, float]], names: Sequence[str]) -> dict[str, float]:
    if not per_row:
        return {name: float("nan") for name in names}
    return {name: float(np.mean([m[name] for m in per_row])) for name in names}


def evaluate_index(index, labels: str | Path, set_name: str, method: str = "similar") -> tuple[Result, Result]:
    """Re-rank and retrieval results of an opened `Index` on one labelled set (rows it cannot score are left out)."""
    rows = scorable(load_labels(labels, set_name), index.__contains__)
    reranked = rerank(method, rows, lambda query, candidates: [m.score for m in index.score(query, candidates)])
    retrieved = retrieval(method, rows, lambda query, depth: [m.nct_id for m in index.related(query, depth)])
    return reranked, retrieved
