"""The evaluation protocol: metrics checked against scikit-learn, ties never broken by file order."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, ndcg_score

from similar.evaluate import LabelledRow, load_labels, random_rerank, rank_metrics, ranked_labels, rerank, scorable

from .conftest import BENCH


def test_metrics_match_the_reference_implementation():
    rng = np.random.default_rng(0)
    for _ in range(200):
        labels = rng.integers(0, 2, 10)
        if not labels.any():
            continue
        scores = rng.random(10)
        order = np.argsort(-scores)
        ours = rank_metrics(labels[order])
        assert ours["nDCG@5"] == pytest.approx(ndcg_score([labels], [scores], k=5))
        assert ours["MAP"] == pytest.approx(average_precision_score(labels, scores))
        assert ours["P@5"] == pytest.approx(labels[order][:5].sum() / 5)
        assert ours["R@2"] == pytest.approx(labels[order][:2].sum() / labels.sum())


def test_ties_are_broken_by_nct_id_not_by_position():
    row = LabelledRow("s", "1", "NCT00000001", ("NCT00000009", "NCT00000003", "NCT00000005"), (0, 1, 0))
    assert ranked_labels(row, [0.5, 0.5, 0.5]) == [1, 0, 0]
    shuffled = LabelledRow("s", "1", "NCT00000001", ("NCT00000005", "NCT00000009", "NCT00000003"), (0, 0, 1))
    assert ranked_labels(shuffled, [0.5, 0.5, 0.5]) == [1, 0, 0]


def test_labels_load_and_only_complete_rows_with_a_positive_are_scored(shared):
    rows = load_labels(BENCH / "labels.csv")
    assert {r.set for r in rows} == {"trialsim", "secret_val", "secret_test"}
    assert all(len(r.candidates) == 10 for r in rows)
    have = {"NCT" + n for r in rows[:3] for n in [r.query[3:], *[c[3:] for c in r.candidates]]}
    kept = scorable(rows, have.__contains__)
    assert kept and all(any(r.labels) for r in kept) and len(kept) <= 3


def test_random_order_is_the_expectation_and_a_perfect_scorer_is_perfect(shared):
    rows = [r for r in load_labels(BENCH / "labels.csv", "trialsim") if any(r.labels)][:30]
    labels_of = {(r.query, r.candidates): r.labels for r in rows}
    perfect = rerank("oracle", rows, lambda q, c: labels_of[(q, tuple(c))])
    assert perfect.metrics["nDCG@5"] == pytest.approx(1.0) and perfect.metrics["MAP"] == pytest.approx(1.0)
    chance = random_rerank(rows, shuffles=300)
    expected_p1 = np.mean([sum(r.labels) / len(r.labels) for r in rows])
    assert chance.metrics["P@1"] == pytest.approx(expected_p1, abs=0.02)
    seeded = random.Random(1)
    noise = rerank("noise", rows, lambda q, c: [seeded.random() for _ in c])
    assert noise.metrics["nDCG@5"] < perfect.metrics["nDCG@5"]
