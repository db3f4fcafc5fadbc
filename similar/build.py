"""Build an index folder from record files: read, compose field texts, embed, store, publish atomically."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
from tqdm import tqdm

from .ann import AnnIndex
from .embed import DEFAULT_MAX_TOKENS, DEFAULT_MODEL, Embedder, load_embedder
from .folder import current_generation, new_generation, writer_lock
from .manifest import Manifest
from .records import Skipped, Trial, nct_to_int, read_records
from .store import RecordStore, write_store
from .text import FIELDS, field_texts, text_hash
from .tfidf import TfidfIndex
from .vectors import combine, embed_fields, load_vectors, normalize_weights, save_vectors

logger = logging.getLogger(__name__)

DEFAULT_INDEX = Path("index") / "default"


def bundled_sample() -> Path:
    """The 1,500 real records shipped with the package (see similar/data/README.md): the default corpus."""
    return Path(str(resources.files("similar") / "data" / "ctgov-sample-1500.zip"))


# Equal thirds: on TrialSim (the only labelled set with scorable rows to choose on) every weighting in a
# 0.1-step grid lands within 0.007 nDCG@5 of the others over 21 rows, so no tilt is supported; see README.
DEFAULT_WEIGHTS = {"conditions": 1 / 3, "interventions": 1 / 3, "description": 1 / 3}
# Share of the whole-record TF-IDF cosine in the score, chosen on TrialSim (see README "Quality").
DEFAULT_LEXICAL_WEIGHT = 0.5


class BuildError(Exception):
    """A build that cannot produce an index (nothing readable was found)."""


@dataclass
class BuildSummary:
    path: Path
    count: int
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    bytes: int = 0


def collect_trials(paths: Iterable[str | Path], progress: bool = False) -> tuple[list[Trial], list[Skipped], int]:
    """All readable trials under `paths` (one per NCT id, the latest update wins), the skipped ones,
    and how many duplicates were dropped."""
    trials: dict[str, Trial] = {}
    skipped: list[Skipped] = []
    duplicates = 0
    for item in tqdm(read_records(paths), desc="reading records", unit=" rec", disable=not progress):
        if isinstance(item, Skipped):
            logger.warning("skipped %s", item)
            skipped.append(item)
            continue
        previous = trials.get(item.nct_id)
        if previous is not None:
            duplicates += 1
            if previous.last_update_date > item.last_update_date:
                continue
        trials[item.nct_id] = item
    return list(trials.values()), skipped, duplicates


def build_index(
    paths: Iterable[str | Path],
    index_dir: str | Path = DEFAULT_INDEX,
    model: str = DEFAULT_MODEL,
    weights: Mapping[str, float] | None = None,
    lexical_weight: float = DEFAULT_LEXICAL_WEIGHT,
    index_type: str = "auto",
    bfloat16: bool = True,
    max_tokens: int | None = DEFAULT_MAX_TOKENS,
    progress: bool = False,
    embedder: Embedder | None = None,
) -> BuildSummary:
    """Build (or rebuild) the index at `index_dir` from the records under `paths`.

    Field texts already embedded by the same model in the current index are reused, not re-embedded.
    The new index replaces the old one only once it is completely written.
    """
    started = time.perf_counter()
    paths = [str(p) for p in paths]
    index_dir = Path(index_dir)
    weights = normalize_weights(weights or DEFAULT_WEIGHTS, FIELDS)
    if not 0.0 <= lexical_weight <= 1.0:
        raise ValueError(f"lexical weight must lie in [0, 1], got {lexical_weight}")
    trials, skipped, duplicates = collect_trials(paths, progress)
    if not trials:
        raise BuildError(f"no readable trial records in {', '.join(paths)} ({len(skipped)} skipped)")
    trials.sort(key=lambda t: t.nct_id)
    with writer_lock(index_dir):
        embedder = embedder or load_embedder(model, bfloat16=bfloat16, max_tokens=max_tokens)

        embedded = embed_trials(trials, index_dir, embedder, progress)
        vectors, present, hashes = embedded.vectors, embedded.present, embedded.hashes

        ids = np.array([nct_to_int(t.nct_id) for t in trials], dtype=np.int64)
        combined = combine(vectors, present, [weights[f] for f in FIELDS])
        ann = AnnIndex.create(len(FIELDS) * embedder.dimension, index_type, count=len(trials))
        ann.index(combined, ids)
        ann_info = ann.tune(combined)
        del combined
        manifest = Manifest(
            model=embedder.name,
            dimension=embedder.dimension,
            precision=embedder.precision,
            max_tokens=embedder.max_tokens,
            fields=list(FIELDS),
            weights=weights,
            index_type=ann.kind,
            lexical_weight=lexical_weight,
            ann=ann_info,
            count=len(trials),
            sources=paths,
            skipped=len(skipped),
        )
        with new_generation(index_dir) as folder:
            write_store(folder / "records.sqlite", trials, hashes)
            save_vectors(folder, vectors, present)
            ann.save(folder / "faiss.index")
            TfidfIndex.fit(trials).save(folder)
            manifest.stamp_files(folder)
            manifest.write(folder)
            size = sum(p.stat().st_size for p in folder.iterdir())
        logger.info(
            "built %s: %d trials, %d field texts embedded, %d reused",
            index_dir,
            len(trials),
            embedded.embedded,
            embedded.reused,
        )
        return BuildSummary(
            index_dir,
            len(trials),
            skipped,
            duplicates,
            embedded.embedded,
            embedded.reused,
            time.perf_counter() - started,
            size,
        )


@dataclass
class Embedded:
    """Field vectors of some trials, their mask and text hashes, and how many texts were embedded or reused."""

    vectors: np.ndarray
    present: np.ndarray
    hashes: list[dict[str, str]]
    embedded: int
    reused: int


def embed_trials(trials: Sequence[Trial], index_dir: Path, embedder: Embedder, progress: bool = False) -> Embedded:
    """Embed each trial's field texts, reusing the vectors the current index already holds for the same texts."""
    texts = [field_texts(t) for t in trials]
    hashes = [{name: text_hash(item[name]) for name in FIELDS} for item in texts]
    cached, old_vectors = _cached_vectors(index_dir, embedder)
    todo = [
        {name: (text if hashes[i][name] not in cached else "") for name, text in item.items()}
        for i, item in enumerate(texts)
    ]
    vectors, present = embed_fields(todo, FIELDS, embedder, progress=progress)
    reused = 0
    for i, item in enumerate(texts):
        for j, name in enumerate(FIELDS):
            if item[name] and not present[i, j]:
                vectors[i, j], present[i, j] = old_vectors[cached[hashes[i][name]]], True
                reused += 1
    embedded = int(sum(bool(text) for item in todo for text in item.values()))
    return Embedded(vectors, present, hashes, embedded, reused)


def _cached_vectors(index_dir: Path, embedder: Embedder) -> tuple[dict[str, tuple[int, int]], np.ndarray]:
    """Where each field text's vector lies in the current index (by text hash), and those vectors
    (memory-mapped), when the current index was embedded the same way."""
    nothing: tuple[dict, np.ndarray] = ({}, np.zeros((0, len(FIELDS), 1), dtype=np.float32))
    folder = current_generation(index_dir)
    if folder is None:
        return nothing
    try:
        manifest = Manifest.read(folder)
        built_with = (manifest.model, manifest.precision, manifest.max_tokens, manifest.fields)
        if built_with != (embedder.name, embedder.precision, embedder.max_tokens, list(FIELDS)):
            return nothing
        vectors, present = load_vectors(folder)
        store = RecordStore(folder / "records.sqlite")
        try:
            where = {
                hashes[name]: (row, j)
                for row, _, hashes in store.field_hashes()
                for j, name in enumerate(FIELDS)
                if present[row, j]
            }
            return where, vectors
        finally:
            store.close()
    except Exception as error:  # noqa: BLE001 - a broken old index only means nothing to reuse
        logger.warning("%s: cannot reuse vectors of the current index: %s", index_dir, error)
        return nothing
