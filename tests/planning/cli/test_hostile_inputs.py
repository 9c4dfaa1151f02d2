"""Hostile input, end to end: names that are templates, scripts or formulas stay inert text in every output,
and no ``--out`` can delete an input."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from gis.layers import write_layers
from planning.cli import cli
from tests.conftest import tiny_layers

MARK = "PWNED_MARK"
PAYLOADS = [
    "{{ cycler.__init__.__globals__.os.popen('touch " + MARK + "').read() }}",
    "{% for i in range(3) %}{{ i }}{% endfor %} {{ 7 * 7 }}",
    "</script><script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '=HYPERLINK("http://evil.example","点击")',
]
COUNTY = "+cmd|' /C calc'!A0"
PROJECT_NAME = "{{ self.__init__.__globals__ }} ' \" \\ \u202e县 😀 @SUM(1)"


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def hostile_project(tmp_path: Path, tiny_dem_path: Path) -> Path:
    """The tiny project with template, script and formula payloads as names, county and project name; a strict
    RSRP threshold leaves every village without 4G so the payloads reach the ledger, proposal and report."""
    layers = tiny_layers()
    layers["villages"]["name"] = PAYLOADS
    layers["villages"]["county"] = COUNTY
    layers["schools"]["name"] = ["@SUM(A1:A9)", "-2+3", "+TAB"]
    write_layers(layers, tmp_path / "layers.gpkg")
    name = json.dumps(PROJECT_NAME, ensure_ascii=False)
    (tmp_path / "project.toml").write_text(
        f'[project]\nname = {name}\nlanguage = "zh"\n\n[layers]\n'
        + "".join(f'{k} = "layers.gpkg"\n' for k in layers)
        + '\n[terrain]\npath = "dem.tif"\n\n[radio]\nlte_rsrp_threshold_dbm = -40\nnr_rsrp_threshold_dbm = -40\n'
        + "\n[map]\noffline = true\n",
        encoding="utf-8",
    )
    return tmp_path / "project.toml"


def _layer_data(page: str, key: str) -> dict:
    """The GeoJSON data of one map layer, decoded from its script."""
    start = page.index(f'coverplanLayer("{key}", ') + len(f'coverplanLayer("{key}", ')
    data, _ = json.JSONDecoder().raw_decode(page, start)
    return data


def test_payload_names_are_inert_literal_text_everywhere(hostile_project: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a payload that ran `touch` would leave its mark here
    out = tmp_path / "out"
    res = invoke("run", hostile_project, "--out", out)
    assert res.exit_code == 0, res.output
    assert not list(tmp_path.rglob(MARK))
    page = (out / "map.html").read_text(encoding="utf-8")
    # nothing of the payloads is markup or evaluated: no raw tag, no 49 from {{ 7 * 7 }}
    assert "<img src=x" not in page
    assert "<script>window.__xss" not in page
    names = [f["properties"]["title"] for f in _layer_data(page, "villages")["features"]]
    assert names == PAYLOADS
    title = re.search(r'coverplanControl\([^,]+, "topright", "coverplan-title", ("(?:[^"\\]|\\.)*")', page)
    assert json.loads(title.group(1)) == PROJECT_NAME
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in report
    assert "<script>window" not in report
    for p in PAYLOADS[1:]:  # the villages in the ledger (V1 has fibre and is not poor: it lacks nothing)
        assert html.escape(p) in report
    assert html.escape(PROJECT_NAME) in report
    # spreadsheets: every text cell is a string, never a formula; CSV text cells are neutralised
    wb = openpyxl.load_workbook(out / "report.xlsx")
    cells = [c for ws in wb for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if c.data_type == "s"}
    assert PAYLOADS[4] in texts
    assert COUNTY in texts
    for csv in [*out.glob("report_*.csv"), out / "county_targets.csv", out / "proposal.csv"]:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for col in table.columns:
            starts = table[col].str[:1]
            assert not starts.isin(["=", "+", "@", "\t", "\r"]).any(), (csv.name, col)
    ledger = pd.read_csv(out / "report_ledger.csv", dtype=str, encoding="utf-8-sig")
    assert "'" + PAYLOADS[4] in set(ledger["name"])
    assert "'" + COUNTY in set(ledger["county"])
    assert PAYLOADS[1] in set(ledger["name"])  # not formula-like: unchanged


@pytest.mark.parametrize("where", ["project_folder", "parent", "cwd", "empty", "layer_file", "symlink"])
def test_no_out_deletes_an_input(hostile_project: Path, tmp_path: Path, monkeypatch, where: str):
    folder = hostile_project.parent
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    monkeypatch.chdir(folder)
    link = tmp_path.parent / f"link-{tmp_path.name}"
    if where == "symlink":
        link.symlink_to(folder, target_is_directory=True)
    out = {
        "project_folder": folder,
        "parent": folder.parent,
        "cwd": ".",
        "empty": "",
        "layer_file": folder / "layers.gpkg",
        "symlink": link,
    }[where]
    res = invoke("run", hostile_project, "--out", out, "--overwrite")
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert after == before
    if where == "symlink":
        link.unlink()


def test_a_run_that_fails_mid_way_leaves_the_earlier_output(hostile_project: Path, tmp_path: Path, monkeypatch):
    out = tmp_path / "out"
    assert invoke("run", hostile_project, "--out", out).exit_code == 0
    first = (out / "summary.json").read_bytes()

    def crash(*args, **kwargs):
        msg = "report stage crashed"
        raise RuntimeError(msg)

    monkeypatch.setattr("planning.run.runner.write_report", crash)
    with pytest.raises(RuntimeError, match="report stage crashed"):
        invoke("run", hostile_project, "--out", out, "--overwrite")
    assert (out / "summary.json").read_bytes() == first
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".out")) == []
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError):
        invoke("run", hostile_project, "--out", fresh)
    assert not fresh.exists()
