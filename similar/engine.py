"""The search engine: open an index folder and rank the related trials of a record or a text."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .ann import AnnIndex
from .build import DEFAULT_INDEX
from .embed import Embedder, embedder_for
from .explain import Explanation, explain
from .filters import Filters
from .folder import current_generation
from .manifest import IndexFileError, Manifest
from .records import Trial, int_to_nct, nct_to_int
from .store import RecordStore
from .text import field_texts
from .tfidf import TfidfIndex
from .vectors import combine, embed_fields, field_scores, load_vectors, normalize_weights

logger = logging.getLogger(__name__)

# Checksums are verified on open for indexes up to this size; larger ones get size checks only.
VERIFY_LIMIT_BYTES = 512 * 1024 * 1024
# With TF-IDF fused in, this many dense candidates are re-scored with the fused score. 300 finds on TrialSim
# what exact fused scoring of every trial finds (R@50 0.853; 100 gave 0.841) for ~2 ms more a query at 7k.
RERANK_POOL = 300


class UnknownTrialError(KeyError):
    """An NCT id that is not in the index."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class Match:
    """One related trial: its rank, combined score and the cosine of each field both trials have."""

    nct_id: str
    title: str
    score: float
    rank: int
    field_scores: dict[str, float | None] = field(default_factory=dict)
    text_score: float | None = None  # TF-IDF cosine of the whole records, when the index fuses it in
    why: Explanation | None = None  # filled by `Index.explain`

    def to_dict(self) -> dict:
        explained = {"why": self.why.to_dict()} if self.why is not None else {}
        return {
            "rank": self.rank,
            "nct_id": self.nct_id,
            "title": self.title,
            "score": round(self.score, 6),
            "field_scores": {k: (None if v is None else round(v, 6)) for k, v in self.field_scores.items()},
            "text_score": None if self.text_score is None else round(self.text_score, 6),
        } | explained


class Index:
    """A published index folder, opened read-only. Use `Index.open(path)`."""

    def __init__(
        self,
        folder: Path,
        manifest: Manifest,
        embedder: Embedder | None = None,
        weights: Mapping[str, float] | None = None,
        lexical_weight: float | None = None,
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.fields = tuple(manifest.fields)
        self.weights = normalize_weights(weights or manifest.weights, self.fields)
        self._embedder = embedder
        self.store = RecordStore(folder / "records.sqlite")
        self.vectors, self.present = load_vectors(folder)
        self.ids = np.array([nct_to_int(n) for n in self.store.nct_ids()], dtype=np.int64)
        self._row_of_id = {int(i): row for row, i in enumerate(self.ids)}
        self.lexical_weight = manifest.lexical_weight if lexical_weight is None else float(lexical_weight)
        if not 0.0 <= self.lexical_weight <= 1.0:
            raise ValueError(f"lexical weight must lie in [0, 1], got {self.lexical_weight}")
        self.tfidf = TfidfIndex.load(folder) if TfidfIndex.exists(folder) else None
        if self.lexical_weight and self.tfidf is None:
            raise IndexFileError(f"{folder}: no TF-IDF vectors to fuse; rebuild the index")
        if self.weights == normalize_weights(manifest.weights, self.fields):
            self.ann = AnnIndex.load(folder / "faiss.index")
        else:  # other weights: recombine the stored field vectors, no re-embedding
            self.ann = AnnIndex.create(len(self.fields) * manifest.dimension, manifest.index_type)
            self.ann.index(combine(self.vectors, self.present, self._weight_list), self.ids)

    @classmethod
    def open(
        cls,
        path: str | Path = DEFAULT_INDEX,
        model: str | None = None,
        embedder: Embedder | None = None,
        weights: Mapping[str, float] | None = None,
        verify: bool | None = None,
        lexical_weight: float | None = None,
    ) -> Index:
        """Open the index at `path`. An index built with another model than `model` (or `embedder`) is refused.
        `weights` and `lexical_weight` override the field weights and the share of the TF-IDF score."""
        path = Path(path)
        for attempt in range(3):
            folder = current_generation(path)
            if folder is None:
                if not path.exists():
                    raise IndexFileError(f"{path}: no index here; build one with `similar build PATH...`")
                raise IndexFileError(f"{path}: not an index folder (no published {path / 'CURRENT'})")
            try:
                return cls._open_generation(path, folder, model, embedder, weights, verify, lexical_weight)
            except (IndexFileError, OSError):
                # A build published a newer generation and removed this one while we opened it: follow it.
                if attempt == 2 or current_generation(path) == folder:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _open_generation(
        cls,
        path: Path,
        folder: Path,
        model: str | None,
        embedder: Embedder | None,
        weights: Mapping[str, float] | None,
        verify: bool | None,
        lexical_weight: float | None,
    ) -> Index:
        manifest = Manifest.read(folder)
        wanted = embedder.name if embedder is not None else model
        if wanted is not None and wanted != manifest.model:
            raise IndexFileError(
                f"{path}: index was built with model {manifest.model!r}, not {wanted!r}; "
                "open it with its own model or rebuild it with `similar build --model`"
            )
        if embedder is not None and embedder.dimension != manifest.dimension:
            raise IndexFileError(
                f"{path}: index has {manifest.dimension}-dim vectors, the model gives {embedder.dimension}"
            )
        if verify is None:
            verify = sum(f["bytes"] for f in manifest.files.values()) <= VERIFY_LIMIT_BYTES
        manifest.check_files(folder, hashes=verify)
        return cls(folder, manifest, embedder, weights, lexical_weight)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, nct_id: str) -> bool:
        try:
            return nct_to_int(nct_id) in self._row_of_id
        except ValueError:
            return False

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            manifest = self.manifest
            self._embedder = embedder_for(manifest.model, manifest.precision, manifest.max_tokens)
        return self._embedder

    @property
    def _weight_list(self) -> list[float]:
        return [self.weights[f] for f in self.fields]

    def trial(self, nct_id: str) -> Trial:
        """The stored record of `nct_id`."""
        return self.store.trial(self._row(nct_id))

    def related(self, nct_id: str, k: int = 10, filters: Filters | None = None) -> list[Match]:
        """The k trials most related to `nct_id`, best first, never `nct_id` itself; only those
        passing `filters` when given."""
        row = self._row(nct_id)
        query = Query(self.vectors[row], self.present[row], self._lexical_row(row), exclude=nct_id)
        return self._search_many([query], k, filters)[0]

    def related_to(self, trial: Trial, k: int = 10, filters: Filters | None = None) -> list[Match]:
        """The k trials most related to a record that need not be in the index (never itself)."""
        return self._search_many([self._query_of(trial)], k, filters)[0]

    def search(self, text: str, k: int = 10, filters: Filters | None = None) -> list[Match]:
        """The k trials closest to a free-text query, compared with every field."""
        if not text.strip():
            raise ValueError("empty search text")
        vector = self.embedder.encode([text])[0]
        vectors = np.repeat(vector[None, :], len(self.fields), axis=0)
        lexical = self.tfidf.transform_text(text) if self.tfidf is not None else None
        query = Query(vectors, np.ones(len(self.fields), dtype=bool), lexical, exclude=None)
        return self._search_many([query], k, filters)[0]

    def score(self, query: str | Trial, candidates: Sequence[str]) -> list[Match]:
        """Scores of the given candidate NCT ids against the query, in the order given (rank 0)."""
        if isinstance(query, Trial):
            prepared = self._query_of(query)
        else:
            row = self._row(query)
            prepared = Query(self.vectors[row], self.present[row], self._lexical_row(row), exclude=query)
        rows = [self._row(nct) for nct in candidates]
        return self._matches(prepared, rows)

    def explain(self, query: str | Trial, matches: Sequence[Match]) -> list[Match]:
        """Fill each match's `why`: the conditions, interventions, MeSH terms and design it shares with the query."""
        trial = query if isinstance(query, Trial) else self.trial(query)
        for match in matches:
            match.why = explain(trial, self.trial(match.nct_id))
        return list(matches)

    def _row(self, nct_id: str) -> int:
        try:
            return self._row_of_id[nct_to_int(nct_id)]
        except (KeyError, ValueError):
            raise UnknownTrialError(f"{nct_id}: not in the index at {self.folder.parent}") from None

    def _query_of(self, trial: Trial) -> Query:
        vectors, present = embed_fields([field_texts(trial, self.fields)], self.fields, self.embedder)
        lexical = self.tfidf.transform([trial]) if self.tfidf is not None else None
        return Query(vectors[0], present[0], lexical, exclude=trial.nct_id)

    def _lexical_row(self, row: int):
        return self.tfidf.matrix[row] if self.tfidf is not None else None

    def related_batch(self, nct_ids: Sequence[str], k: int = 10) -> list[list[Match]]:
        """`related` for many trials at once: one FAISS search for the whole batch."""
        queries = [
            Query(self.vectors[row], self.present[row], self._lexical_row(row), exclude=nct)
            for nct, row in ((n, self._row(n)) for n in nct_ids)
        ]
        return self._search_many(queries, k)

    def _search_many(self, queries: Sequence[Query], k: int, filters: Filters | None = None) -> list[list[Match]]:
        """Dense candidates from FAISS (a pool of `RERANK_POOL` when TF-IDF is fused in), then exact fused
        scores, best first, ties broken by NCT id."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        allowed = None
        if filters:
            allowed = self.ids[self.store.matching_rows(filters)]
            if len(allowed) == 0:
                return [[] for _ in queries]
        depth = max(k, RERANK_POOL) + 1 if self.lexical_weight else k + 1
        vectors = np.stack([np.asarray(q.vectors) for q in queries])
        present = np.stack([q.present for q in queries])
        _, found = self.ann.search(combine(vectors, present, self._weight_list), depth, allowed)
        results = []
        for query, ids in zip(queries, found, strict=True):
            rows = [self._row_of_id[int(i)] for i in ids if i >= 0 and int_to_nct(i) != query.exclude]
            matches = sorted(self._matches(query, rows), key=lambda m: (-m.score, m.nct_id))[:k]
            for rank, match in enumerate(matches, 1):
                match.rank = rank
            results.append(matches)
        return results

    def _matches(self, query: Query, rows: Sequence[int]) -> list[Match]:
        """Exact fused and per-field scores of `rows` against the query, recomputed from the stored vectors."""
        if not rows:
            return []
        rows = np.asarray(rows)
        candidates, candidates_present = np.asarray(self.vectors[rows]), self.present[rows]
        combined_query = combine(np.asarray(query.vectors)[None], query.present[None], self._weight_list)[0]
        dense = combine(candidates, candidates_present, self._weight_list) @ combined_query
        per_field = field_scores(np.asarray(query.vectors), query.present, candidates, candidates_present)
        text = None
        score = dense
        if self.tfidf is not None and query.lexical is not None:
            text = self.tfidf.cosines(query.lexical, rows)
            score = (1 - self.lexical_weight) * dense + self.lexical_weight * text
        titles = self.store.titles(rows)
        return [
            Match(
                nct_id=int_to_nct(self.ids[row]),
                title=titles.get(int(row), ""),
                score=float(score[n]),
                rank=0,
                field_scores={
                    f: (None if math.isnan(v) else float(v)) for f, v in zip(self.fields, per_field[n], strict=True)
                },
                text_score=None if text is None else float(text[n]),
            )
            for n, row in enumerate(rows)
        ]


@dataclass
class Query:
    """What a search compares candidates with: field vectors and mask, the TF-IDF vector, who to leave out."""

    vectors: np.ndarray
    present: np.ndarray
    lexical: object | None
    exclude: str | None
