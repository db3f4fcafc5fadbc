"""The TF-IDF side of an index: a fitted vocabulary and the L2-normalised sparse vector of every record.

Stored beside the FAISS index (`tfidf.npz`, `tfidf-vocabulary.json`) in the same row order as the
field vectors, so the engine can fuse the lexical cosine of the whole record with the dense score.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from .records import Trial
from .text import full_text

MATRIX_FILE = "tfidf.npz"
VOCABULARY_FILE = "tfidf-vocabulary.json"


def record_text(trial: Trial) -> str:
    """Everything a reader sees in a record: the embedded fields, eligibility criteria and primary outcomes."""
    return "\n".join(filter(None, [full_text(trial), trial.eligibility_criteria, "; ".join(trial.primary_outcomes)]))


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(stop_words="english", sublinear_tf=True, dtype=np.float32)


class TfidfIndex:
    """Rows are records (in index row order); `cosines` scores them against a query vector."""

    def __init__(self, vectorizer: TfidfVectorizer, matrix: sp.csr_matrix) -> None:
        self.vectorizer = vectorizer
        self.matrix = matrix.tocsr()

    @classmethod
    def fit(cls, trials: Sequence[Trial]) -> TfidfIndex:
        vectorizer = _vectorizer()
        return cls(vectorizer, vectorizer.fit_transform([record_text(t) for t in trials]))

    def transform(self, trials: Sequence[Trial]) -> sp.csr_matrix:
        """Vectors of records outside the fitted corpus (its vocabulary and IDF stay as they are)."""
        return self.vectorizer.transform([record_text(t) for t in trials]).tocsr()

    def transform_text(self, text: str) -> sp.csr_matrix:
        return self.vectorizer.transform([text]).tocsr()

    def cosines(self, query: sp.csr_matrix, rows: np.ndarray | None = None) -> np.ndarray:
        """Cosine of `query` (one row) with the given rows, or with every row."""
        matrix = self.matrix if rows is None else self.matrix[rows]
        return np.asarray((matrix @ query.T).todense()).ravel()

    def with_rows(self, keep: np.ndarray, extra: sp.csr_matrix | None) -> TfidfIndex:
        """The same vocabulary over `keep` rows followed by `extra` rows (an update or a removal)."""
        parts = [self.matrix[keep]] + ([extra] if extra is not None and extra.shape[0] else [])
        return TfidfIndex(self.vectorizer, sp.vstack(parts).tocsr())

    def save(self, folder: Path) -> None:
        sp.save_npz(folder / MATRIX_FILE, self.matrix, compressed=False)
        vocabulary = {term: int(column) for term, column in self.vectorizer.vocabulary_.items()}
        (folder / VOCABULARY_FILE).write_text(
            json.dumps({"vocabulary": vocabulary, "idf": self.vectorizer.idf_.tolist()}), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path) -> TfidfIndex:
        data = json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
        vectorizer = _vectorizer()
        vectorizer.vocabulary_ = data["vocabulary"]
        vectorizer.idf_ = np.asarray(data["idf"], dtype=np.float32)
        return cls(vectorizer, sp.load_npz(folder / MATRIX_FILE))

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / MATRIX_FILE).exists()
