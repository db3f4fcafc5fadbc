"""Property-based hostile input: every reader answers malformed and hostile records with a Trial or a
per-record Skipped, never a crash; nothing is written anywhere and nothing is fetched from the network."""

from __future__ import annotations

import io
import json
import socket
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from similar.records import Skipped, SourceError, Trial, read_records

from .conftest import DATA

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
REAL_STUDY = json.loads((DATA / "api-v2" / "NCT03418623.json").read_text()) if DATA.exists() else {}
REAL_XML = next(iter(sorted((DATA.parent / "bench").glob("records.zip"))), None)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a reader tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def read_all(path: Path) -> list:
    """Everything read from `path`; the only exception allowed is a clear SourceError for the whole file."""
    try:
        results = list(read_records([path]))
    except SourceError as error:
        assert str(path) in str(error)
        return []
    assert all(isinstance(r, (Trial, Skipped)) for r in results)
    for skipped in (r for r in results if isinstance(r, Skipped)):
        assert skipped.source.startswith(str(path)) and skipped.reason
    return results


def files_in(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
PATHS = [
    ("protocolSection", "identificationModule", "nctId"),
    ("protocolSection", "conditionsModule", "conditions"),
    ("protocolSection", "armsInterventionsModule", "interventions"),
    ("protocolSection", "descriptionModule", "briefSummary"),
    ("protocolSection", "designModule", "phases"),
    ("protocolSection", "statusModule"),
    ("derivedSection", "conditionBrowseModule", "meshes"),
    ("protocolSection",),
]


@SETTINGS
@given(path=st.sampled_from(PATHS), value=json_values)
def test_api_v2_fields_of_the_wrong_type(shared, tmp_path, path, value):
    study = json.loads(json.dumps(REAL_STUDY))
    node = study
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node, dict) else {}
    node[path[-1]] = value
    target = tmp_path / "study.json"
    target.write_text(json.dumps(study))
    before = files_in(tmp_path)
    assert len(read_all(target)) == 1
    assert files_in(tmp_path) == before


@SETTINGS
@given(data=st.binary(max_size=2000), head=st.sampled_from([b"", b"<", b"{", b"[", b"PK\x03\x04", b"\x1f\x8b"]))
def test_arbitrary_bytes_in_every_format(tmp_path, data, head):
    for suffix in (".xml", ".json", ".jsonl", ".csv", ".zip", ".gz", ""):
        target = tmp_path / f"input{suffix}"
        target.write_bytes(head + data)
        read_all(target)


@SETTINGS
@given(text=st.text(max_size=300), cut=st.integers(min_value=0, max_value=6000), junk=st.binary(min_size=1, max_size=8))
def test_truncated_and_corrupted_real_xml(shared, tmp_path, text, cut, junk):
    with zipfile.ZipFile(REAL_XML) as archive:
        name = sorted(archive.namelist())[0]
        data = archive.read(name)
    variants = [
        data[:cut],
        data[:cut] + junk + data[cut:],
        data.replace(b"</brief_title>", text.encode() + b"</brief_title>"),
    ]
    for i, variant in enumerate(variants):
        target = tmp_path / f"variant{i}.xml"
        target.write_bytes(variant)
        read_all(target)


@pytest.mark.parametrize("depth", [100, 10_000, 200_000])
def test_deep_nesting(tmp_path, depth):
    target = tmp_path / "deep.json"
    target.write_text('{"protocolSection": ' + "[" * depth + "]" * depth + "}")
    (result,) = read_all(target)
    assert isinstance(result, Skipped)
    xml = tmp_path / "deep.xml"
    xml.write_text("<clinical_study>" + "<a>" * depth + "</a>" * depth + "</clinical_study>")
    assert all(isinstance(r, Skipped) for r in read_all(xml))


def test_huge_fields_and_invalid_utf8(shared, tmp_path):
    study = json.loads(json.dumps(REAL_STUDY))
    study["protocolSection"]["descriptionModule"]["briefSummary"] = "cirrhosis " * 2_000_000
    big = tmp_path / "big.json"
    big.write_text(json.dumps(study))
    (trial,) = read_all(big)
    assert isinstance(trial, Trial) and len(trial.brief_summary) > 10_000_000
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(json.dumps(REAL_STUDY).encode() + b"\n" + b'{"protocolSection": "\xff\xfe"}\n')
    results = read_all(broken)
    assert isinstance(results[0], Trial) and isinstance(results[1], Skipped)
    xml = tmp_path / "latin1.xml"
    xml.write_bytes(b"<clinical_study><brief_title>caf\xe9</brief_title></clinical_study>")
    assert all(isinstance(r, Skipped) for r in read_all(xml))


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;">]>',
        '<!DOCTYPE x [<!ENTITY e SYSTEM "http://example.invalid/secret">]>',
        '<!DOCTYPE x SYSTEM "http://example.invalid/schema.dtd">',
        '<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    ],
)
def test_entity_expansion_and_external_entities(tmp_path, doctype):
    target = tmp_path / "evil.xml"
    target.write_text(
        doctype + "<clinical_study><id_info><nct_id>NCT00000001</nct_id></id_info>"
        "<brief_summary><textblock>&c;&e;</textblock></brief_summary></clinical_study>"
    )
    (result,) = read_all(target)
    assert isinstance(result, Skipped) and "unsafe XML refused" in result.reason


HOSTILE_NAMES = [
    "../up.xml",
    "../../etc/x.json",
    "/abs/path.xml",
    "ok/../../x.xml",
    "..\\win.xml",
    "fine/NCT1.xml",
    "C:/drive.xml",
]


def unsafe(name: str) -> bool:
    return name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/")


@SETTINGS
@given(names=st.lists(st.sampled_from(HOSTILE_NAMES), min_size=1, max_size=5, unique=True))
def test_archive_members_with_hostile_paths(shared, tmp_path, names):
    payload = json.dumps(REAL_STUDY).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, payload)
    folder = tmp_path / "inbox"
    folder.mkdir(exist_ok=True)
    target = folder / "evil.zip"
    target.write_bytes(buffer.getvalue())
    before = files_in(tmp_path)
    results = read_all(target)
    assert files_in(tmp_path) == before
    refused = [r for r in results if isinstance(r, Skipped) and "unsafe path" in r.reason]
    assert len(refused) == sum(map(unsafe, names))
    assert sum(isinstance(r, Trial) for r in results) == len(names) - len(refused)
