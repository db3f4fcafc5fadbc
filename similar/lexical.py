"""Lexical trial similarity over the whole record text: TF-IDF (scikit-learn) and BM25 (bm25s).

Used as baselines by the evaluation, and as a scorer anyone can compare the engine with.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .records import Trial
from .tfidf import TfidfIndex, record_text


def jaccard(a: set, b: set) -> float:
    """Shared items over all items of two sets; 0 when both are empty."""
    return len(a & b) / len(a | b) if a | b else 0.0


def mesh_agreement(left: Trial, right: Trial) -> float:
    """Jaccard overlap of the condition and intervention MeSH terms of two records (0 when neither has any)."""
    return jaccard(
        {t.casefold() for t in [*left.condition_mesh, *left.intervention_mesh]},
        {t.casefold() for t in [*right.condition_mesh, *right.intervention_mesh]},
    )


class TfidfScorer:
    """Cosine of TF-IDF vectors (English stop words, sublinear tf) fitted on a corpus of trials."""

    def __init__(self, trials: Sequence[Trial]) -> None:
        self.nct_ids = [t.nct_id for t in trials]
        self._row = {nct: i for i, nct in enumerate(self.nct_ids)}
        self.index = TfidfIndex.fit(trials)

    def score(self, query: str, candidates: Sequence[str]) -> np.ndarray:
        query_vector = self.index.matrix[self._row[query]]
        return self.index.cosines(query_vector, np.array([self._row[c] for c in candidates]))

    def scores_all(self, query: str) -> np.ndarray:
        """Scores of every trial of the corpus against `query`, in corpus order."""
        return self.index.cosines(self.index.matrix[self._row[query]])


class Bm25Scorer:
    """Okapi BM25 (bm25s, k1=1.5, b=0.75) with the query trial's whole text as the query."""

    def __init__(self, trials: Sequence[Trial]) -> None:
        import bm25s

        self.nct_ids = [t.nct_id for t in trials]
        self._row = {nct: i for i, nct in enumerate(self.nct_ids)}
        self._texts = [record_text(t) for t in trials]
        self._bm25s = bm25s
        self._retriever = bm25s.BM25()
        self._retriever.index(bm25s.tokenize(self._texts, stopwords="en", show_progress=False), show_progress=False)
        self._cache: dict[str, np.ndarray] = {}

    def scores_all(self, query: str) -> np.ndarray:
        if query not in self._cache:
            tokens = self._bm25s.tokenize(
                [self._texts[self._row[query]]], stopwords="en", return_ids=False, show_progress=False
            )[0]
            self._cache = {query: np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)}
        return self._cache[query]

    def score(self, query: str, candidates: Sequence[str]) -> np.ndarray:
        return self.scores_all(query)[[self._row[c] for c in candidates]]
