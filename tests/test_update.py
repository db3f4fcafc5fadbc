"""`update` and `remove` change an index without re-embedding unchanged records or rebuilding it,
and end where a fresh build of the same records would."""

from __future__ import annotations

import json

import pytest

from similar import Index, build_index, remove_from_index, update_index
from similar.folder import current_generation

from .conftest import DATA, TEST_MODEL

FIRST = [DATA / "api-v2", DATA / "api-v1-classic"]
SECOND = [DATA / "ctg-studies-2025.csv"]


def answers(path, queries, k=5):
    """Dense answers: an update keeps the TF-IDF vocabulary it was built with, a fresh build refits it."""
    with Index.open(path, lexical_weight=0.0) as index:
        return {q: [(m.nct_id, round(m.score, 5)) for m in index.related(q, k)] for q in queries}


def test_update_adds_new_records_like_a_fresh_build(shared, tmp_path):
    path = tmp_path / "index"
    first = build_index(FIRST, path, model=TEST_MODEL)
    summary = update_index(SECOND, path)
    assert summary.added == 997 and summary.replaced == 0 and summary.count == first.count + 997
    fresh = tmp_path / "fresh"
    build_index(FIRST + SECOND, fresh, model=TEST_MODEL)
    queries = ["NCT03418623", "NCT04780763", "NCT06964841"]
    assert answers(path, queries) == answers(fresh, queries)
    with Index.open(path) as index:  # new records get TF-IDF vectors in the kept vocabulary
        assert all(m.text_score is not None for m in index.related("NCT06964841", k=5))
        assert index.tfidf.matrix.shape[0] == len(index)
    again = update_index(SECOND, path)
    assert (again.added, again.replaced, again.unchanged, again.embedded) == (0, 0, 997, 0)


def test_update_replaces_a_record_whose_last_update_changed(shared, tmp_path):
    path = tmp_path / "index"
    build_index(FIRST, path, model=TEST_MODEL)
    study = json.loads((DATA / "api-v2" / "NCT03418623.json").read_text())
    study["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = "2026-11-01"
    study["protocolSection"]["descriptionModule"]["briefSummary"] = "A revised summary about alcohol craving."
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(study))
    before = Index.open(path)
    summary = update_index([changed], path)
    assert (summary.added, summary.replaced, summary.embedded) == (0, 1, 1)  # only the new description text
    with Index.open(path) as index:
        assert index.trial("NCT03418623").brief_summary == "A revised summary about alcohol craving."
        assert index.manifest.history[-1]["op"] == "update" and index.manifest.count == len(before)
    assert before.trial("NCT03418623").brief_summary != "A revised summary about alcohol craving."  # old reader
    before.close()


def test_remove_deletes_and_matches_a_build_without_them(shared, tmp_path):
    path = tmp_path / "index"
    build_index(FIRST + SECOND, path, model=TEST_MODEL)
    gone = ["NCT00763412", "NCT06964841"]
    summary = remove_from_index(gone, path)
    with Index.open(path) as index:
        assert summary.removed == 2 and len(index) == summary.count
        assert all(n not in index for n in gone)
        results = [m.nct_id for q in ["NCT03418623", "NCT04780763"] for m in index.related(q, k=50)]
        assert not set(gone) & set(results)
        assert [h["op"] for h in index.manifest.history] == ["remove"]
    with pytest.raises(KeyError, match="NCT09999999"):
        remove_from_index(["NCT09999999"], path)


def test_a_failed_update_leaves_the_index_as_it_was(shared, tmp_path, monkeypatch):
    path = tmp_path / "index"
    build_index(FIRST, path, model=TEST_MODEL)
    generation = current_generation(path)
    import similar.update as update_module

    def explode(*args):
        raise OSError("disk full")

    monkeypatch.setattr(update_module, "save_vectors", explode)
    with pytest.raises(OSError, match="disk full"):
        update_index(SECOND, path)
    assert current_generation(path) == generation and [p.name for p in path.iterdir() if p.is_dir()] == [
        generation.name
    ]
