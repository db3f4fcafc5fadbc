"""Behaviour with the real model (all-MiniLM-L6-v2) on real records: topicality and the CLI end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from similar import Index
from similar.records import Trial, read_records

from .conftest import DATA, liver_trial

CIRRHOSIS_TRIAL = "NCT00004784"  # Ursodiol with or without methotrexate for primary biliary cirrhosis


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "similar", *args], capture_output=True, text=True, env=env)


def test_liver_trials_lead_the_related_list_of_a_cirrhosis_trial(real_index_path):
    with Index.open(real_index_path) as index:
        assert "cirrhosis" in " ".join(index.trial(CIRRHOSIS_TRIAL).conditions).lower()
        matches = index.related(CIRRHOSIS_TRIAL, k=10)
        liver = [liver_trial(index.trial(m.nct_id)) for m in matches]
        everyone = [liver_trial(index.trial(n)) for n in index.store.nct_ids() if n != CIRRHOSIS_TRIAL]
    assert all(liver[:5]), [m.title for m in matches]
    assert sum(liver) / len(liver) > 2 * sum(everyone) / len(everyone)  # far above the base rate


def test_free_text_search_finds_the_topic(real_index_path):
    with Index.open(real_index_path) as index:
        matches = index.search("liver cirrhosis", k=5)
        assert sum(liver_trial(index.trial(m.nct_id)) for m in matches) >= 4


def test_related_to_a_record_outside_the_index_is_on_topic(real_index_path):
    with Index.open(real_index_path) as index:
        outside = [
            t
            for t in read_records([DATA / "ctgov-xml-6786.zip"])
            if isinstance(t, Trial) and t.nct_id not in index and "Hepatitis C" in t.conditions
        ]
        assert outside, "the shared XML holds hepatitis C trials outside the sample subset"
        matches = index.related_to(outside[0], k=5)
        assert outside[0].nct_id not in [m.nct_id for m in matches]
        assert sum(liver_trial(index.trial(m.nct_id)) for m in matches) >= 4


def test_cli_related_json_search_and_info(real_index_path):
    result = run_cli("related", CIRRHOSIS_TRIAL, "-k", "3", "--json", "--index", str(real_index_path))
    assert result.returncode == 0, result.stderr
    (answer,) = json.loads(result.stdout)
    assert answer["query"] == CIRRHOSIS_TRIAL and len(answer["results"]) == 3
    assert set(answer["results"][0]) == {"rank", "nct_id", "title", "score", "field_scores", "text_score"}

    table = run_cli("related", CIRRHOSIS_TRIAL, "-k", "3", "--index", str(real_index_path))
    assert table.returncode == 0 and answer["results"][0]["nct_id"] in table.stdout.splitlines()[2]

    info = run_cli("info", "--json", "--index", str(real_index_path))
    assert json.loads(info.stdout)["model"] == "all-MiniLM-L6-v2"

    found = run_cli("search", "primary", "biliary", "cirrhosis", "-k", "2", "--json", "--index", str(real_index_path))
    assert len(json.loads(found.stdout)["results"]) == 2


def test_cli_build_then_related_and_clean_errors(sample_subset, tmp_path):
    records = tmp_path / "records"
    records.mkdir()
    for path in sorted(sample_subset.glob("*.xml"))[:12]:
        shutil.copy(path, records)
    (records / "broken.xml").write_text("<clinical_study>")
    index = str(tmp_path / "index")
    built = run_cli("build", str(records), "--index", index, "--json")
    assert built.returncode == 0, built.stderr
    summary = json.loads(built.stdout)
    assert summary["trials"] == 12 and summary["skipped"] == 1 and "broken.xml" in built.stderr

    unknown = run_cli("related", "NCT09999999", "--index", index)
    assert unknown.returncode == 2 and "NCT09999999: not in the index" in unknown.stderr and not unknown.stdout
    missing = run_cli("related", "NCT00004784", "--index", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "no index here" in missing.stderr
    other_model = run_cli("build", str(tmp_path / "no-such-folder"), "--index", index)
    assert other_model.returncode == 2 and "no such file or folder" in other_model.stderr
