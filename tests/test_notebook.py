"""The quality notebook runs top to bottom on a small slice, so it cannot rot."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from .conftest import ROOT, SHARED, TEST_MODEL


def test_quality_notebook_executes_on_a_slice(shared, tmp_path, monkeypatch):
    monkeypatch.setenv("SIMILAR_SHARED", str(SHARED))
    monkeypatch.setenv("SIMILAR_QUALITY_ROWS", "4")
    monkeypatch.setenv("SIMILAR_QUALITY_SETS", "trialsim secret_test")
    monkeypatch.setenv("SIMILAR_QUALITY_MODEL", TEST_MODEL)
    monkeypatch.setenv("SIMILAR_QUALITY_INDEX", str(tmp_path / "index"))
    notebook = nbformat.read(ROOT / "notebooks" / "quality.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    tables = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert len(tables) == 2 and all("(4 scorable rows)" in t and "| similar |" in t for t in tables)
    assert any("image/png" in o.get("data", {}) for o in outputs)
