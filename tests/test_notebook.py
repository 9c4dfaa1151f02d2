"""notebooks/pilot_proposal.ipynb runs from top to bottom (nbclient) and writes its map and report."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "pilot_proposal.ipynb"


def test_pilot_proposal_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    monkeypatch.setenv("COVERPLAN_ROOT", str(ROOT))
    monkeypatch.setenv("COVERPLAN_NOTEBOOK_OUT", str(tmp_path))
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    ).execute(env=dict(os.environ))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert (tmp_path / "map.html").stat().st_size > 100_000
    assert "<table" in (tmp_path / "report.html").read_text(encoding="utf-8")
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "interventions" in text
    assert "CNY" in text
