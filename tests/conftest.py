"""Shared fixtures: the real records in ../shared, and indexes built from them in temporary folders."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pytest

from similar import Index, build_index, bundled_sample

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SIMILAR_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"
BENCH = SHARED / "bench"
TEST_MODEL = "hashing-256"  # the deterministic unit-test embedder
LIVER = re.compile(r"liver|hepat|cirrho|biliar|cholang", re.I)


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (DATA / "ctgov-xml-6786.zip").exists():
        raise RuntimeError(f"the real records are missing: expected {DATA} (set SIMILAR_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def sample_subset(shared, tmp_path_factory) -> Path:
    """A folder of real XML records from the bundled sample: every cirrhosis trial plus the first 250 others."""
    folder = tmp_path_factory.mktemp("subset")
    with zipfile.ZipFile(bundled_sample()) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".xml"))
        chosen = [n for n in names if b"irrhosis" in archive.read(n)] + names[:250]
        for name in dict.fromkeys(chosen):
            (folder / Path(name).name).write_bytes(archive.read(name))
    return folder


@pytest.fixture(scope="session")
def hashing_index_path(shared, tmp_path_factory) -> Path:
    """The benchmark records indexed with the deterministic embedder (read-only use)."""
    path = tmp_path_factory.mktemp("hashing") / "index"
    build_index([BENCH / "records.zip"], path, model=TEST_MODEL)
    return path


@pytest.fixture()
def hashing_index(hashing_index_path):
    with Index.open(hashing_index_path) as index:
        yield index


@pytest.fixture(scope="session")
def real_index_path(sample_subset, tmp_path_factory) -> Path:
    """The sample subset indexed with the real default model (all-MiniLM-L6-v2)."""
    path = tmp_path_factory.mktemp("real") / "index"
    build_index([sample_subset], path)
    return path


def liver_trial(trial) -> bool:
    return bool(LIVER.search(" ".join([*trial.conditions, *trial.condition_mesh, trial.brief_title])))
