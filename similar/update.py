"""Change a published index in place of a rebuild: add and replace records, or remove them.

Unchanged records keep their vectors and their FAISS entries; only new or changed field texts are
embedded, and FAISS gets `remove_ids` and `add_with_ids`. The result is published as a new
generation, like a build, so a killed update leaves the index as it was before.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import numpy as np

from .ann import AnnIndex
from .build import DEFAULT_INDEX, collect_trials, embed_trials
from .embed import Embedder, embedder_for
from .folder import current_generation, new_generation, writer_lock
from .manifest import IndexFileError, Manifest
from .records import Skipped, Trial, nct_to_int
from .store import RecordStore, rewrite_store
from .text import FIELDS
from .tfidf import TfidfIndex
from .vectors import combine, load_vectors, save_vectors

logger = logging.getLogger(__name__)


@dataclass
class UpdateSummary:
    path: Path
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    removed: int = 0
    count: int = 0
    embedded: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0


def update_index(
    paths: Iterable[str | Path],
    index_dir: str | Path = DEFAULT_INDEX,
    progress: bool = False,
    embedder: Embedder | None = None,
) -> UpdateSummary:
    """Add the records under `paths` that are new, and replace those whose last-update date changed."""
    started = time.perf_counter()
    paths = [str(p) for p in paths]
    index_dir = Path(index_dir)
    with writer_lock(index_dir, create=False):
        folder, manifest = _published(index_dir)
        trials, skipped, _ = collect_trials(paths, progress)
        store = RecordStore(folder / "records.sqlite")
        try:
            known = store.last_updates()
        finally:
            store.close()
        fresh = [t for t in trials if t.nct_id not in known]
        changed = [t for t in trials if t.nct_id in known and t.last_update_date != known[t.nct_id]]
        summary = UpdateSummary(
            index_dir,
            added=len(fresh),
            replaced=len(changed),
            unchanged=len(trials) - len(fresh) - len(changed),
            skipped=skipped,
        )
        if fresh or changed:
            embedder = embedder or embedder_for(manifest.model, manifest.precision, manifest.max_tokens)
            summary.embedded = _apply(
                index_dir,
                folder,
                manifest,
                fresh + changed,
                {t.nct_id for t in changed},
                embedder,
                {"op": "update", "sources": paths},
                progress,
            )
        summary.count = Manifest.read(current_generation(index_dir)).count
        summary.seconds = time.perf_counter() - started
        return summary


def remove_from_index(nct_ids: Iterable[str], index_dir: str | Path = DEFAULT_INDEX) -> UpdateSummary:
    """Delete records by NCT id; an id that is not in the index is an error and nothing is removed."""
    started = time.perf_counter()
    index_dir = Path(index_dir)
    with writer_lock(index_dir, create=False):
        folder, manifest = _published(index_dir)
        nct_ids = list(dict.fromkeys(nct_ids))
        store = RecordStore(folder / "records.sqlite")
        try:
            missing = sorted(set(nct_ids) - set(store.rows_of(nct_ids)))
        finally:
            store.close()
        if missing:
            raise KeyError(f"not in the index at {index_dir}: {', '.join(missing)}")
        _apply(index_dir, folder, manifest, [], set(nct_ids), None, {"op": "remove", "nct_ids": nct_ids[:100]}, False)
        count = Manifest.read(current_generation(index_dir)).count
        return UpdateSummary(index_dir, removed=len(nct_ids), count=count, seconds=time.perf_counter() - started)


def _published(index_dir: Path) -> tuple[Path, Manifest]:
    folder = current_generation(index_dir)
    if folder is None:
        raise IndexFileError(f"{index_dir}: no index here; build one with `similar build PATH...`")
    manifest = Manifest.read(folder)
    manifest.check_files(folder, hashes=False)
    return folder, manifest


def _apply(
    index_dir: Path,
    folder: Path,
    manifest: Manifest,
    incoming: list[Trial],
    drop: set[str],
    embedder: Embedder | None,
    change: dict,
    progress: bool,
) -> int:
    """Write a generation equal to the current one minus `drop`, plus `incoming` appended at the end."""
    old_vectors, old_present = load_vectors(folder)
    store = RecordStore(folder / "records.sqlite")
    try:
        dropped_rows = sorted(store.rows_of(drop).values())
    finally:
        store.close()
    keep = np.setdiff1d(np.arange(len(old_vectors)), np.asarray(dropped_rows, dtype=np.int64))
    embedded = embed_trials(incoming, index_dir, embedder, progress) if incoming else None
    dimension = old_vectors.shape[2]
    new_vectors = embedded.vectors if embedded else np.zeros((0, len(FIELDS), dimension), np.float32)
    new_present = embedded.present if embedded else np.zeros((0, len(FIELDS)), bool)
    vectors = np.concatenate([np.asarray(old_vectors[keep]), new_vectors])
    present = np.concatenate([old_present[keep], new_present])

    ann = AnnIndex.load(folder / "faiss.index", mmap=False)
    ann.delete(np.array([nct_to_int(n) for n in drop], dtype=np.int64))
    if incoming:
        weights = [manifest.weights[f] for f in manifest.fields]
        ann.append(combine(new_vectors, new_present, weights), np.array([nct_to_int(t.nct_id) for t in incoming]))

    with new_generation(index_dir) as staging:
        shutil.copyfile(folder / "records.sqlite", staging / "records.sqlite")
        rewrite_store(staging / "records.sqlite", dropped_rows, incoming, embedded.hashes if embedded else [])
        save_vectors(staging, vectors, present)
        ann.save(staging / "faiss.index")
        tfidf = TfidfIndex.load(folder)
        tfidf.with_rows(keep, tfidf.transform(incoming) if incoming else None).save(staging)
        manifest.count = len(vectors)
        manifest.history.append(
            {
                **change,
                "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "added_or_replaced": len(incoming),
                "dropped": len(dropped_rows),
                "count": len(vectors),
            }
        )
        manifest.stamp_files(staging)
        manifest.write(staging)
    return embedded.embedded if embedded else 0
