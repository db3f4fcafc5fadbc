"""The FAISS index over combined trial vectors, keyed by the NCT number as an int64 id.

Small interface, as txtai's ANN backends: index, append, delete, search, save, load, count.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

INDEX_TYPES = ("flat", "hnsw")


class AnnIndex:
    """Inner-product search over L2-normalised vectors (so scores are cosines)."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def create(cls, dimension: int, index_type: str = "flat") -> AnnIndex:
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
            return cls(faiss.read_index(str(path), flags))
        except RuntimeError:
            if not mmap:
                raise
            return cls(faiss.read_index(str(path)))  # not every index type can be memory-mapped
