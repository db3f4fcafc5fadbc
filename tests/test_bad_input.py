"""Broken records are skipped with file, record and reason; unreadable paths stop with a clear error."""

from __future__ import annotations

import json
import zipfile

import pytest

from similar import SourceError, build_index
from similar.records import Skipped, Trial, read_records

from .conftest import TEST_MODEL


def real_xml(shared, count: int) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(shared / "data" / "ctgov-xml-6786.zip") as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".xml"))[:count]
        return [(n, archive.read(n)) for n in names]


def test_one_broken_record_in_an_archive_is_reported_and_skipped(shared, tmp_path):
    records = real_xml(shared, 5)
    broken_name, broken = records[2]
    archive_path = tmp_path / "mixed.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for name, data in records:
            archive.writestr(name, broken[: len(broken) // 2] if name == broken_name else data)
    results = list(read_records([archive_path]))
    skipped = [r for r in results if isinstance(r, Skipped)]
    assert sum(isinstance(r, Trial) for r in results) == 4
    assert len(skipped) == 1
    assert skipped[0].source == f"{archive_path}:{broken_name}"
    assert "malformed XML" in skipped[0].reason and broken_name.split("/")[-1] in str(skipped[0])


def test_json_without_nct_id_or_text_is_skipped_with_its_reason(shared, tmp_path):
    study = json.loads((shared / "data" / "api-v2" / "NCT03418623.json").read_text())
    no_id = json.loads(json.dumps(study))
    del no_id["protocolSection"]["identificationModule"]["nctId"]
    no_text = json.loads((shared / "data" / "api-v2" / "NCT03453554.json").read_text())
    path = tmp_path / "studies.jsonl"
    path.write_text("\n".join([json.dumps(study), json.dumps(no_id), "{not json", json.dumps(no_text)]) + "\n")
    results = list(read_records([path]))
    assert [type(r).__name__ for r in results] == ["Trial", "Skipped", "Skipped", "Skipped"]
    reasons = [r.reason for r in results[1:]]
    assert "no valid NCT id" in reasons[0] and "malformed JSON" in reasons[1] and "no text" in reasons[2]
    assert [r.record for r in results[1:]] == ["line 2", "line 3", "line 4 (NCT03453554)"]


def test_build_counts_skipped_records_and_indexes_the_rest(shared, tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    for name, data in real_xml(shared, 6):
        (folder / name.split("/")[-1]).write_bytes(data)
    (folder / "NCT99999999.xml").write_bytes(b"<clinical_study><id_info><nct_id>NCT99999999")
    summary = build_index([folder], tmp_path / "index", model=TEST_MODEL)
    assert summary.count == 6
    assert [s.source for s in summary.skipped] == [str(folder / "NCT99999999.xml")]


def test_missing_path_and_unknown_format_stop_with_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        list(read_records([tmp_path / "nowhere.xml"]))
    odd = tmp_path / "notes.bin"
    odd.write_bytes(b"\x00\x01 just bytes")
    with pytest.raises(SourceError, match=r"notes\.bin: unknown format"):
        list(read_records([odd]))


def test_xml_entities_are_refused_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
        "<clinical_study><id_info><nct_id>NCT00000001</nct_id></id_info>"
        "<brief_summary><textblock>&e;</textblock></brief_summary></clinical_study>"
    )
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><clinical_study>&b;</clinical_study>'
    for name, text in (("xxe.xml", xxe), ("bomb.xml", bomb)):
        (tmp_path / name).write_text(text)
        (result,) = read_records([tmp_path / name])
        assert isinstance(result, Skipped) and "unsafe XML refused" in result.reason


def test_archive_members_with_unsafe_paths_are_ignored(shared, tmp_path):
    ((name, data),) = real_xml(shared, 1)
    archive_path = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("../../escape.xml", data)
        archive.writestr("/abs/escape.xml", data)
        archive.writestr(name, data)
    results = list(read_records([archive_path]))
    assert sum(isinstance(r, Trial) for r in results) == 1
    assert [r.reason for r in results if isinstance(r, Skipped)] == ["unsafe path in archive, member ignored"] * 2
    assert not (tmp_path.parent / "escape.xml").exists()
