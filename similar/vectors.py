"""Per-field trial vectors and their weighted combination into the one vector FAISS indexes.

Field vectors are stored as one (trials, fields, dim) float32 array with a (trials, fields) mask of
the fields each trial has. The combined vector concatenates sqrt(weight) * field vector, so the inner
product of two combined vectors is the weighted mean of the per-field cosines. A missing field is
imputed with the mean of the trial's other fields: it then counts by what the trial does say (its
description still tells what it treats) instead of scoring zero or full marks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .embed import Embedder, normalize_rows

VECTORS_FILE = "vectors.npy"
PRESENT_FILE = "present.npy"


def normalize_weights(weights: Mapping[str, float], fields: Sequence[str]) -> dict[str, float]:
    """Weights for exactly `fields`, non-negative and summing to 1."""
    unknown = set(weights) - set(fields)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}; fields are {', '.join(fields)}")
    values = {name: float(weights.get(name, 0.0)) for name in fields}
    if any(v < 0 for v in values.values()) or sum(values.values()) <= 0:
        raise ValueError(f"weights must be non-negative and not all zero, got {dict(weights)}")
    total = sum(values.values())
    return {name: value / total for name, value in values.items()}


def embed_fields(
    texts: Sequence[Mapping[str, str]], fields: Sequence[str], embedder: Embedder, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Embed every non-empty field text of every trial in one pass (one length-sorted batch stream)."""
    slots = [(i, j) for i, item in enumerate(texts) for j, name in enumerate(fields) if item[name]]
    vectors = np.zeros((len(texts), len(fields), embedder.dimension), dtype=np.float32)
    present = np.zeros((len(texts), len(fields)), dtype=bool)
    if slots:
        encoded = embedder.encode([texts[i][fields[j]] for i, j in slots], progress=progress)
        rows, cols = np.array(slots).T
        vectors[rows, cols] = encoded
        present[rows, cols] = True
    return vectors, present


def impute(vectors: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Fill each missing field with the normalised mean of the trial's present fields."""
    vectors = np.array(vectors, dtype=np.float32)
    mean = normalize_rows((vectors * present[:, :, None]).sum(axis=1))
    missing = ~present
    vectors[missing] = np.broadcast_to(mean[:, None, :], vectors.shape)[missing]
    return vectors


def combine(vectors: np.ndarray, present: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """(n, fields, dim) field vectors -> (n, fields * dim) unit vectors for FAISS."""
    scale = np.sqrt(np.asarray(weights, dtype=np.float32))[None, :, None]
    filled = impute(vectors, present) * scale
    return normalize_rows(filled.reshape(len(filled), -1))


def field_scores(
    query: np.ndarray, query_present: np.ndarray, candidates: np.ndarray, candidates_present: np.ndarray
) -> np.ndarray:
    """(n, fields) cosine per field between one query and n candidates; NaN where either lacks the field."""
    scores = np.einsum("fd,nfd->nf", query, candidates)
    return np.where(query_present[None, :] & candidates_present, scores, np.nan)


def save_vectors(folder: Path, vectors: np.ndarray, present: np.ndarray) -> None:
    np.save(folder / VECTORS_FILE, np.ascontiguousarray(vectors, dtype=np.float32))
    np.save(folder / PRESENT_FILE, present)


def load_vectors(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Memory-mapped field vectors and their mask."""
    return np.load(folder / VECTORS_FILE, mmap_mode="r"), np.load(folder / PRESENT_FILE)
