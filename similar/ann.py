"""The FAISS index over combined trial vectors, keyed by the NCT number as an int64 id.

Small interface, as txtai's ANN backends: index, append, delete, search, save, load, count.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

INDEX_TYPES = ("auto", "flat", "hnsw")
# Exact search up to this many trials (about 20 ms a query at 1152 dims on 2 cores); HNSW above.
FLAT_LIMIT = 200_000
EF_SEARCH_STEPS = (32, 64, 128, 256, 512, 1024)


def choose_index_type(count: int, flat_limit: int = FLAT_LIMIT) -> str:
    """autofaiss-style choice by size: exact search while it stays fast, a graph index beyond."""
    return "flat" if count <= flat_limit else "hnsw"


class AnnIndex:
    """Inner-product search over L2-normalised vectors (so scores are cosines)."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def create(cls, dimension: int, index_type: str = "flat", count: int = 0) -> AnnIndex:
        if index_type == "auto":
            index_type = choose_index_type(count)
        if index_type == "flat":
            inner = faiss.IndexFlatIP(dimension)
        elif index_type == "hnsw":
            inner = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
            inner.hnsw.efSearch = 128
        else:
            raise ValueError(f"unknown index type {index_type!r}; choose one of {', '.join(INDEX_TYPES)}")
        return cls(faiss.IndexIDMap2(inner))

    def index(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Add vectors with their ids (an empty index gets its first ones the same way)."""
        self.append(vectors, ids)

    def append(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def delete(self, ids: np.ndarray) -> int:
        return int(self._index.remove_ids(np.asarray(ids, dtype=np.int64)))

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n_queries, k); missing neighbours have id -1. With `allowed`, only
        those ids are considered, inside the search (a FAISS ID selector)."""
        k = max(1, min(k, self.count))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if allowed is None:
            return self._index.search(queries, k)
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        inner = faiss.downcast_index(self._index.index)
        if isinstance(inner, faiss.IndexHNSW):
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(inner.hnsw.efSearch, k))
        else:
            params = faiss.SearchParameters(sel=selector)
        return self._index.search(queries, k, params=params)

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(faiss.downcast_index(self._index.index), faiss.IndexHNSW) else "flat"

    def tune(self, vectors: np.ndarray, k: int = 10, target: float = 0.99, sample: int = 1000, seed: int = 0) -> dict:
        """Measure recall@k against exact search on `sample` of the indexed vectors, raising HNSW's
        efSearch until it reaches `target`; returns what it found (written into the manifest)."""
        if self.kind == "flat":
            return {"index_type": "flat", f"recall_at_{k}": 1.0}
        rng = np.random.default_rng(seed)
        queries = np.ascontiguousarray(vectors[rng.choice(len(vectors), min(sample, len(vectors)), replace=False)])
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(np.ascontiguousarray(vectors, dtype=np.float32))
        _, truth = exact.search(queries, k)
        inner = faiss.downcast_index(self._index.index)
        recall = 0.0
        for ef in EF_SEARCH_STEPS:
            inner.hnsw.efSearch = ef
            _, found = inner.search(queries, k)
            recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(truth, found, strict=True)]))
            if recall >= target:
                break
        return {
            "index_type": "hnsw",
            "ef_search": int(inner.hnsw.efSearch),
            f"recall_at_{k}": round(recall, 4),
            "sample": len(queries),
        }

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, mmap: bool = True) -> AnnIndex:
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        try:
            return cls(_read_index(path, flags))
        except RuntimeError:
            if not mmap:
                raise
        return cls(_read_index(path))  # not every index type can be memory-mapped


def _read_index(path: Path, flags: int = 0) -> faiss.Index:
    """faiss.read_index, with a missing file (a newer build removed this generation) as a FileNotFoundError,
    an OSError that Index.open retries, instead of FAISS's RuntimeError."""
    try:
        return faiss.read_index(str(path), flags)
    except RuntimeError as error:
        if not Path(path).exists():
            raise FileNotFoundError(f"{path}: no such file") from error
        raise
