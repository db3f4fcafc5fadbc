"""Scale features: batched related lists for every trial (resumable), and the index chosen by size."""

from __future__ import annotations

import json

from similar import Index, build_index, write_all_related
from similar.ann import FLAT_LIMIT, choose_index_type
from similar.cli import main

from .conftest import BENCH, TEST_MODEL


def test_batched_related_equals_one_at_a_time(hashing_index):
    queries = hashing_index.store.nct_ids()[:40]
    batch = hashing_index.related_batch(queries, k=7)
    assert [[m.to_dict() for m in ms] for ms in batch] == [
        [m.to_dict() for m in hashing_index.related(q, k=7)] for q in queries
    ]


def test_all_related_lists_resume_after_an_interruption(hashing_index, tmp_path):
    out = tmp_path / "related.jsonl"
    full = write_all_related(hashing_index, out, k=5, batch_size=100)
    assert full.written == len(hashing_index) and full.already_done == 0
    complete = out.read_text().splitlines()
    out.write_text("\n".join(complete[:250]) + "\n" + complete[250][:40])  # killed mid-line
    resumed = write_all_related(hashing_index, out, k=5, batch_size=100)
    assert resumed.already_done == 250 and resumed.written == len(hashing_index) - 250
    lines = out.read_text().splitlines()
    assert sorted(lines) == sorted(complete)
    sample = json.loads(lines[300])
    assert sample["results"] == [m.to_dict() for m in hashing_index.related(sample["query"], k=5)]


def test_index_type_is_chosen_by_size_and_hnsw_recall_is_measured(shared, tmp_path):
    assert choose_index_type(1_000) == "flat" and choose_index_type(FLAT_LIMIT + 1) == "hnsw"
    flat, hnsw = tmp_path / "flat", tmp_path / "hnsw"
    build_index([BENCH / "records.zip"], flat, model=TEST_MODEL)
    build_index([BENCH / "records.zip"], hnsw, model=TEST_MODEL, index_type="hnsw")
    with Index.open(flat) as exact, Index.open(hnsw) as approximate:
        assert exact.manifest.index_type == "flat" and exact.manifest.ann["recall_at_10"] == 1.0
        assert approximate.manifest.index_type == "hnsw" and approximate.manifest.ann["recall_at_10"] >= 0.99
        queries = exact.store.nct_ids()[::15]
        overlap = [
            len({m.nct_id for m in exact.related(q, 10)} & {m.nct_id for m in approximate.related(q, 10)}) / 10
            for q in queries
        ]
    assert sum(overlap) / len(overlap) >= 0.98


def test_cli_related_all(hashing_index_path, tmp_path, capsys):
    out = tmp_path / "all.jsonl"
    assert main(["related", "--all", "-k", "3", "--out", str(out), "--json", "--index", str(hashing_index_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["written"] == len(out.read_text().splitlines()) == 749
    assert main(["related", "--all", "--index", str(hashing_index_path)]) == 2
    assert "needs --out FILE" in capsys.readouterr().err
