"""Every reader on the real files in ../shared/data, in every container users have them in."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import zipfile

from similar.records import Skipped, Trial, read_records
from similar.records.model import PHASES, STATUSES, STUDY_TYPES


def trials_of(paths) -> list[Trial]:
    return [r for r in read_records(paths) if isinstance(r, Trial)]


def api_v2_files(shared):
    return sorted((shared / "data" / "api-v2").glob("NCT*.json"))


def test_api_v2_single_study_maps_the_registry_fields(shared):
    path = shared / "data" / "api-v2" / "NCT03418623.json"
    raw = json.loads(path.read_text())
    protocol = raw["protocolSection"]
    (trial,) = trials_of([path])
    assert trial.nct_id == protocol["identificationModule"]["nctId"]
    assert trial.brief_title == protocol["identificationModule"]["briefTitle"]
    assert trial.conditions == protocol["conditionsModule"]["conditions"]
    assert trial.keywords == protocol["conditionsModule"]["keywords"]
    assert trial.phases == protocol["designModule"]["phases"]
    assert trial.overall_status == protocol["statusModule"]["overallStatus"]
    assert [i.name for i in trial.interventions] == [
        i["name"] for i in protocol["armsInterventionsModule"]["interventions"]
    ]
    assert trial.condition_mesh == [m["term"] for m in raw["derivedSection"]["conditionBrowseModule"]["meshes"]]
    assert trial.start_date == protocol["statusModule"]["startDateStruct"]["date"]


def test_api_v2_folder_page_jsonl_and_zip_give_the_same_records(shared, tmp_path):
    files = api_v2_files(shared)
    studies = [json.loads(p.read_text()) for p in files]
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"studies": studies, "nextPageToken": None}))
    plain = tmp_path / "studies.jsonl"
    plain.write_text("\n".join(json.dumps(s) for s in studies) + "\n")
    zipped = tmp_path / "studies.jsonl.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    bulk = tmp_path / "ctg-studies.json.zip"
    with zipfile.ZipFile(bulk, "w") as archive:
        for path in files:
            archive.write(path, path.name)

    expected = trials_of([shared / "data" / "api-v2"])
    assert len(expected) == len(files) - 2  # two fixtures carry no text at all
    for source in (page, plain, zipped, bulk):
        assert trials_of([source]) == expected, source


def test_legacy_xml_file_folder_and_allpublicxml_zip(shared, tmp_path):
    archive_path = shared / "data" / "ctgov-xml-6786.zip"
    with zipfile.ZipFile(archive_path) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".xml"))[:40]
        for name in names:
            (tmp_path / name.split("/")[-1]).write_bytes(archive.read(name))
    single = trials_of([tmp_path / names[0].split("/")[-1]])
    folder = trials_of([tmp_path])
    assert len(single) == 1 and single[0] == folder[0]
    assert [t.nct_id for t in folder] == [n.split("/")[-1].removesuffix(".xml") for n in names]

    everything = list(read_records([archive_path]))
    assert sum(isinstance(r, Trial) for r in everything) == 6786
    assert all(isinstance(r, Trial) for r in everything)


def test_legacy_xml_fields_are_normalised_to_registry_enums(shared):
    trials = trials_of([shared / "data" / "ctgov-xml-6786.zip"])
    assert all(set(t.phases) <= set(PHASES) for t in trials)
    assert all(t.overall_status in STATUSES for t in trials)
    assert all(t.study_type in STUDY_TYPES for t in trials)
    assert sum(bool(t.condition_mesh) for t in trials) > 6000
    assert sum(bool(t.intervention_mesh) for t in trials) > 4000
    assert sum(bool(t.eligibility_criteria) for t in trials) > 6700
    assert all(len(t.start_date) in (0, 7, 10) for t in trials)
    combined = [t.phases for t in trials if len(t.phases) == 2]
    assert combined and all(PHASES.index(a) < PHASES.index(b) for a, b in combined)


def test_csv_export(shared):
    path = shared / "data" / "ctg-studies-2025.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = {row["NCT Number"]: row for row in csv.DictReader(handle)}
    records = list(read_records([path]))
    trials = [r for r in records if isinstance(r, Trial)]
    skipped = [r for r in records if isinstance(r, Skipped)]
    assert len(trials) + len(skipped) == len(rows)
    assert all("no text" in s.reason and s.source == str(path) for s in skipped)
    for trial in trials[:50]:
        row = rows[trial.nct_id]
        assert trial.conditions == [c for c in row["Conditions"].split("|") if c]
        assert [i.type + ": " + i.name for i in trial.interventions] == list(
            dict.fromkeys(i for i in row["Interventions"].split("|") if i)
        )
        assert trial.overall_status == row["Study Status"]


def test_classic_full_studies_response(shared, tmp_path):
    folder = shared / "data" / "api-v1-classic"
    trials = trials_of([folder])
    assert [t.nct_id for t in trials] == sorted(p.stem for p in folder.glob("NCT*.json"))
    for trial in trials:
        raw = json.loads((folder / f"{trial.nct_id}.json").read_text())
        study = raw["FullStudiesResponse"]["FullStudies"][0]["Study"]["ProtocolSection"]
        assert trial.brief_title == study["IdentificationModule"]["BriefTitle"]
        assert trial.conditions == study["ConditionsModule"]["ConditionList"]["Condition"]
        assert set(trial.phases) <= set(PHASES) and trial.study_type in STUDY_TYPES


def test_a_mix_of_formats_in_one_call(shared, tmp_path):
    shutil.copy(shared / "data" / "api-v2" / "NCT03418623.json", tmp_path / "one.json")
    paths = [tmp_path / "one.json", shared / "data" / "api-v1-classic", shared / "data" / "ctg-studies-2025.csv"]
    ids = [t.nct_id for t in trials_of(paths)]
    assert ids[0] == "NCT03418623" and "NCT04780763" in ids and len(ids) == 1 + 3 + 997
