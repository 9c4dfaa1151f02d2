"""The coverage stage in blocks (for its progress lines) computes exactly what one call over all points does."""

from __future__ import annotations

import pandas as pd

from gis.inputs import load_inputs
from gis.project import load_project
from planning.radio.stage import coverage_stage
from tests.conftest import DEMO


def test_coverage_in_blocks_equals_one_call(caplog):
    project = load_project(DEMO / "project.toml")
    inputs = load_inputs(project)
    whole = coverage_stage(project, inputs, chunk_points=10**6)
    with caplog.at_level("INFO", logger="planning.radio.stage"):
        caplog.clear()  # the whole call's records, where an earlier test left the loggers at INFO
        blocks = coverage_stage(project, inputs, chunk_points=64)
    pd.testing.assert_frame_equal(pd.DataFrame(blocks), pd.DataFrame(whole))
    lines = [r.getMessage() for r in caplog.records if r.name == "planning.radio.stage"]
    assert lines[:2] == ["coverage villages: 64/300", "coverage villages: 128/300"]
    assert "coverage villages: 300/300" in lines
    assert lines[-1] == "coverage schools: 110/110"
