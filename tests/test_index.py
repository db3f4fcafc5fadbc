"""The index folder and the engine, with the deterministic embedder: manifest checks, atomic writes,
self-exclusion, and scores checked against a plain numpy reference."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from similar import Index, IndexFileError, UnknownTrialError, build_index
from similar.ann import AnnIndex
from similar.engine import RERANK_POOL
from similar.folder import current_generation
from similar.records import Trial, read_records
from similar.text import FIELDS

from .conftest import BENCH, TEST_MODEL


def reference_score(index: Index, query: str, candidate: str) -> float:
    """Weighted mean of per-field cosines, a missing field replaced by the mean of the trial's others."""

    def filled(nct: str) -> np.ndarray:
        row = index._row(nct)
        vectors, present = np.array(index.vectors[row]), index.present[row]
        mean = vectors[present].sum(axis=0)
        mean /= np.linalg.norm(mean)
        return np.where(present[:, None], vectors, mean)

    q, c = filled(query), filled(candidate)
    return float(sum(index.weights[f] * q[j] @ c[j] for j, f in enumerate(FIELDS)))


def test_related_excludes_the_query_and_matches_the_reference_ranking(hashing_index_path):
    query = "NCT00000409"
    hashing_index = Index.open(hashing_index_path, lexical_weight=0.0)  # the dense score alone
    matches = hashing_index.related(query, k=20)
    assert len(matches) == 20 and query not in [m.nct_id for m in matches]
    assert [m.rank for m in matches] == list(range(1, 21))
    for match in matches:
        assert match.score == pytest.approx(reference_score(hashing_index, query, match.nct_id), abs=1e-5)
    everyone = [n for n in hashing_index.store.nct_ids() if n != query]
    best = sorted(everyone, key=lambda n: (-reference_score(hashing_index, query, n), n))[:20]
    assert [m.nct_id for m in matches] == best


def test_fused_scores_match_a_reference_tfidf(hashing_index):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from similar.tfidf import record_text

    trials = [hashing_index.trial(n) for n in hashing_index.store.nct_ids()]
    reference = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(map(record_text, trials))
    row = {t.nct_id: i for i, t in enumerate(trials)}
    query = "NCT00000409"
    weight = hashing_index.lexical_weight
    assert 0 < weight < 1
    matches = hashing_index.related(query, k=10)
    for match in matches:
        text = float((reference[row[query]] @ reference[row[match.nct_id]].T).toarray()[0, 0])
        assert match.text_score == pytest.approx(text, abs=1e-5)
        dense = reference_score(hashing_index, query, match.nct_id)
        assert match.score == pytest.approx((1 - weight) * dense + weight * text, abs=1e-5)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    pool = {m.nct_id for m in Index.open(hashing_index.folder.parent, lexical_weight=0.0).related(query, k=RERANK_POOL)}
    fused = {n: hashing_index.score(query, [n])[0].score for n in pool}
    assert [m.nct_id for m in matches] == sorted(pool, key=lambda n: (-fused[n], n))[:10]


def test_score_gives_the_same_numbers_as_related(hashing_index):
    matches = hashing_index.related("NCT00000410", k=5)
    scored = hashing_index.score("NCT00000410", [m.nct_id for m in reversed(matches)])
    assert [m.nct_id for m in scored] == [m.nct_id for m in reversed(matches)]
    assert [m.score for m in scored] == pytest.approx([m.score for m in reversed(matches)], abs=1e-6)


def test_field_scores_are_cosines_and_missing_fields_are_none(hashing_index):
    no_interventions = next(n for n in hashing_index.store.nct_ids() if not hashing_index.trial(n).interventions)
    for match in hashing_index.related(no_interventions, k=5):
        assert match.field_scores["interventions"] is None
        assert all(-1 <= s <= 1 for s in match.field_scores.values() if s is not None)


def test_unknown_nct_id_is_a_clear_error(hashing_index):
    with pytest.raises(UnknownTrialError, match="NCT09999999: not in the index"):
        hashing_index.related("NCT09999999")
    with pytest.raises(UnknownTrialError, match="not in the index"):
        hashing_index.score("NCT00000409", ["bogus"])


def test_related_to_a_record_outside_the_index(hashing_index, shared):
    trials = [t for t in read_records([shared / "data" / "api-v2"]) if isinstance(t, Trial)]
    outside = next(t for t in trials if t.nct_id not in hashing_index)
    matches = hashing_index.related_to(outside, k=5)
    assert len(matches) == 5 and outside.nct_id not in [m.nct_id for m in matches]
    inside = hashing_index.trial("NCT00000409")
    assert [m.nct_id for m in hashing_index.related_to(inside, k=5)] == [
        m.nct_id for m in hashing_index.related("NCT00000409", k=5)
    ]


def test_other_weights_recombine_stored_vectors_like_a_fresh_build(hashing_index_path, tmp_path):
    weights = {"conditions": 1.0, "interventions": 0.0, "description": 0.0}
    with Index.open(hashing_index_path, weights=weights, lexical_weight=0.0) as reweighted:
        fast = reweighted.related("NCT00000409", k=10)
    build_index([BENCH / "records.zip"], tmp_path / "conditions-only", model=TEST_MODEL, weights=weights)
    with Index.open(tmp_path / "conditions-only", lexical_weight=0.0) as rebuilt:
        slow = rebuilt.related("NCT00000409", k=10)
    assert [m.nct_id for m in fast] == [m.nct_id for m in slow]
    with_conditions = [m for m in fast if m.field_scores["conditions"] is not None]
    assert with_conditions and all(
        math.isclose(m.score, m.field_scores["conditions"], abs_tol=1e-5) for m in with_conditions
    )


def test_rebuild_reuses_unchanged_vectors(tmp_path, shared):
    path = tmp_path / "index"
    first = build_index([shared / "data" / "api-v2"], path, model=TEST_MODEL)
    second = build_index([shared / "data" / "api-v2", shared / "data" / "api-v1-classic"], path, model=TEST_MODEL)
    assert first.embedded > 0 and second.reused == first.embedded
    assert second.count == first.count + 3


def test_index_built_with_another_model_is_refused(hashing_index_path):
    with pytest.raises(IndexFileError, match="built with model 'hashing-256', not 'all-MiniLM-L6-v2'"):
        Index.open(hashing_index_path, model="all-MiniLM-L6-v2")


def copy_index(source, target):
    import shutil

    shutil.copytree(source, target)
    return current_generation(target)


def test_unknown_format_version_is_refused(hashing_index_path, tmp_path):
    folder = copy_index(hashing_index_path, tmp_path / "copy")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format_version"] = 99
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFileError, match="format version 99"):
        Index.open(tmp_path / "copy")


def test_truncated_or_altered_files_are_detected_on_open(hashing_index_path, tmp_path):
    folder = copy_index(hashing_index_path, tmp_path / "truncated")
    data = (folder / "faiss.index").read_bytes()
    (folder / "faiss.index").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexFileError, match="truncated or corrupt"):
        Index.open(tmp_path / "truncated")
    folder = copy_index(hashing_index_path, tmp_path / "altered")
    data = bytearray((folder / "vectors.npy").read_bytes())
    data[-1] ^= 0xFF
    (folder / "vectors.npy").write_bytes(bytes(data))
    with pytest.raises(IndexFileError, match="checksum mismatch"):
        Index.open(tmp_path / "altered")


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexFileError, match="no index here"):
        Index.open(tmp_path / "none")


def test_a_build_failing_midway_leaves_the_old_index_unchanged(tmp_path, shared, monkeypatch):
    path = tmp_path / "index"
    build_index([shared / "data" / "api-v2"], path, model=TEST_MODEL)
    before = {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    with Index.open(path) as index:
        answer = [m.nct_id for m in index.related("NCT03418623", k=5)]

    def explode(self, target):
        (target.parent / "half-written").write_bytes(b"x")
        raise OSError("disk full")

    monkeypatch.setattr(AnnIndex, "save", explode)
    with pytest.raises(OSError, match="disk full"):
        build_index([shared / "data" / "api-v2", shared / "data" / "api-v1-classic"], path, model=TEST_MODEL)
    after = {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    assert after == before
    with Index.open(path) as index:
        assert [m.nct_id for m in index.related("NCT03418623", k=5)] == answer


def test_opening_follows_a_build_that_removes_the_generation_being_opened(tmp_path, shared, monkeypatch):
    path = tmp_path / "index"
    build_index([shared / "data" / "api-v2"], path, model=TEST_MODEL)
    load = AnnIndex.load
    rebuilt = []

    def rebuild_first(target, mmap=True):
        if not rebuilt:  # a writer publishes a new generation and removes this one mid-open
            rebuilt.append(build_index([shared / "data" / "api-v1-classic"], path, model=TEST_MODEL))
        return load(target, mmap)

    monkeypatch.setattr(AnnIndex, "load", rebuild_first)
    with Index.open(path) as index:
        assert index.folder == current_generation(path)
        assert len(index) == rebuilt[0].count


def test_explanations_list_only_what_both_records_carry(hashing_index, capsys):
    from similar.cli import main

    query = hashing_index.trial("NCT00000409")
    matches = hashing_index.explain(query.nct_id, hashing_index.related(query.nct_id, k=10))
    assert any(m.why.conditions or m.why.condition_mesh for m in matches)
    for match in matches:
        other = hashing_index.trial(match.nct_id)
        for term in match.why.conditions:
            assert term.lower() in {c.lower() for c in query.conditions} & {c.lower() for c in other.conditions}
        for term in match.why.intervention_mesh:
            assert term.lower() in {c.lower() for c in other.intervention_mesh}
        assert set(match.why.phases) <= set(query.phases) & set(other.phases)
    code = main(
        ["related", query.nct_id, "-k", "3", "--explain", "--json", "--index", str(hashing_index.folder.parent)]
    )
    (answer,) = json.loads(capsys.readouterr().out)
    assert code == 0 and all("why" in result for result in answer["results"])
