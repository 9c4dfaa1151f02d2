"""The demo saved as a Chinese office would (GBK CSV and XLSX, Chinese headings and values) plans as the English."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from gis.project import load_project
from planning.run.runner import run_pipeline
from tests.gis.test_chinese_inputs import chinese_demo


@pytest.mark.slow
def test_the_chinese_demo_runs_to_the_same_plan(tmp_path: Path, demo_run) -> None:
    _, english_out = demo_run
    src = tmp_path / "src"
    src.mkdir()
    out = tmp_path / "out"
    run_pipeline(load_project(chinese_demo(src)), out, offline=True, ledger_date=dt.date(2026, 1, 1))
    for name in ("proposal.csv", "kpis_short.csv", "county_targets_after.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(english_out / name), obj=name)
