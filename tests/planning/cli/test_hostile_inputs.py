"""Hostile input, end to end: names that are templates, scripts or formulas stay inert text in every output,
and no ``--out`` can delete an input."""

from __future__ import annotations

import datetime as dt
import errno
import html
import json
import os
import re
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from gis.layers import write_layers
from planning.cli import cli
from tests.conftest import PROJECT_TOML, tiny_layers

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


# ------------------------------------------------------------------ QA round 2: hostile inputs that used to crash


def invoke_caught(*args: object):
    """The CLI as a planner runs it: any exception becomes exit 1 (a bug), which these tests must never see."""
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_overwrite_keeps_a_ledger_updated_in_the_output(tiny_project: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert invoke("run", tiny_project, "--out", out).exit_code == 0
    assert invoke("ledger", "show", out / "ledger.gpkg").exit_code == 0  # reading it changes nothing
    assert invoke("run", tiny_project, "--out", out, "--overwrite").exit_code == 0
    updates = tmp_path / "field.csv"
    updates.write_text(f"id,status,date,note\nS3,under_construction,{dt.date.today()},开工\n", encoding="utf-8")
    assert invoke("ledger", "update", out / "ledger.gpkg", updates).exit_code == 0
    updated = (out / "ledger.gpkg").read_bytes()
    res = invoke("run", tiny_project, "--out", out, "--overwrite")
    assert res.exit_code == 2, res.output
    assert "ledger.gpkg (changed" in res.output
    assert "[ledger] path" in res.output
    assert (out / "ledger.gpkg").read_bytes() == updated


@pytest.mark.parametrize("budget", ["nan", "inf", "-inf", "1e14", "0"])
def test_a_budget_that_is_not_a_finite_amount_is_refused(tiny_project: Path, tmp_path: Path, budget: str):
    res = invoke_caught("optimise", tiny_project, "--out", tmp_path / "o", f"--budget-cny={budget}")
    assert res.exit_code == 2, res.output
    assert "expected a finite amount > 0 and <= 1e+13 CNY" in res.output
    assert not (tmp_path / "o").exists()


def test_a_region_without_poor_villages_writes_valid_json_and_no_nan(tmp_path: Path, tiny_dem_path: Path):
    layers = tiny_layers()
    layers["villages"]["is_poor"] = False
    layers["schools"]["access"] = ["fibre", None, "none"]  # not reported: unknown, counted as such
    write_layers(layers, tmp_path / "layers.gpkg")
    (tmp_path / "project.toml").write_text(PROJECT_TOML, encoding="utf-8")
    out = tmp_path / "out"
    res = invoke("run", tmp_path / "project.toml", "--out", out)
    assert res.exit_code == 0, res.output
    assert "nan%" not in res.output
    assert "poor villages with broadband n/a -> n/a" in res.output

    def refuse(name: str) -> None:
        raise AssertionError(name)

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"), parse_constant=refuse)
    assert summary["proposal"]["poor_broadband_before"] is None
    assert summary["schools"]["by_access"] == {"fibre": 1, "none": 1, "unknown": 1}


@pytest.mark.parametrize(
    ("address", "match"),
    [
        ("{{7*7}}", "`--dask` = '{{7*7}}' is not a scheduler address; expected e.g. tcp://host:8786"),
        ("tcp://127.0.0.1:1", "cannot reach the dask scheduler at tcp://127.0.0.1:1"),
    ],
)
def test_a_dask_address_that_is_no_scheduler_exits_2(
    tiny_project: Path, tmp_path: Path, monkeypatch, address: str, match: str
):
    monkeypatch.setattr("planning.run.distributed.CONNECT_TIMEOUT_S", 2.0)
    res = invoke_caught("run", tiny_project, "--out", tmp_path / "o", "--dask", address)
    assert res.exit_code == 2, res.output
    assert match in res.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("how", ["plain", "numba"])
def test_ctrl_c_during_a_run_exits_130_and_writes_nothing(tiny_project: Path, tmp_path: Path, monkeypatch, how: str):
    def interrupted(*args, **kwargs):
        if how == "plain":
            raise KeyboardInterrupt
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:  # what numba's CPUDispatcher raises when Ctrl-C lands in compiled code
            msg = "CPUDispatcher(<function _kernel>) returned a result with an exception set"
            raise SystemError(msg) from exc

    monkeypatch.setattr("planning.run.runner.coverage_stage", interrupted)
    out = tmp_path / "out"
    res = invoke_caught("run", tiny_project, "--out", out)
    assert res.exit_code == 130, res.output
    assert "interrupted; nothing written" in res.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_a_full_disk_during_a_run_exits_2_and_writes_nothing(tiny_project: Path, tmp_path: Path, monkeypatch):
    def full(frame, path, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("planning.run.runner.write_csv", full)
    out = tmp_path / "out"
    res = invoke_caught("run", tiny_project, "--out", out)
    assert res.exit_code == 2, res.output
    assert "no space left on device writing" in res.output
    assert "nothing written" in res.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("out", "match"),
    [
        ("layers.gpkg/sub", "is a file, not a folder"),
        ("x" * 300, "bytes long; expected at most"),
        ("/proc/coverplan-out", "cannot write the output folder"),
    ],
)
def test_an_out_that_can_never_be_a_folder_exits_2(tiny_project: Path, out: str, match: str):
    target = out if out.startswith("/") else tiny_project.parent / "outputs" / out
    if out.startswith("layers.gpkg"):
        target = tiny_project.parent / out
    res = invoke_caught("run", tiny_project, "--out", target)
    assert res.exit_code == 2, res.output
    assert match in res.output


def _layers_with(tmp_path: Path, layer: str, column: str, value: object) -> Path:
    layers = tiny_layers()
    frame = layers[layer]
    frame[column] = frame[column].astype(np.int64 if isinstance(value, int) else object)  # an int64 column in the gpkg
    frame.loc[frame.index[1], column] = value
    write_layers(layers, tmp_path / "layers.gpkg")
    (tmp_path / "project.toml").write_text(PROJECT_TOML, encoding="utf-8")
    return tmp_path / "project.toml"


@pytest.mark.parametrize(
    ("layer", "column", "value", "match"),
    [
        ("villages", "population", 2**63 - 1, "row 2 (village_id=V2) column `population`: 9223372036854775807 is out"),
        ("villages", "name", "西沟\uffff村", "column `name`: '西沟\\uffff村' holds noncharacter"),
        ("villages", "is_poor", None, "column `is_poor`: is empty; expected true/false"),
    ],
)
def test_bad_cells_exit_2_naming_row_and_column(tmp_path: Path, tiny_dem_path: Path, layer, column, value, match):
    project = _layers_with(tmp_path, layer, column, value)
    res = invoke_caught("validate", project)
    assert res.exit_code == 2, res.output
    assert match in res.output


def test_students_beyond_int64_in_a_csv_exit_2(tiny_project: Path):
    s = tiny_layers()["schools"].to_crs(4326)
    table = pd.DataFrame(s.drop(columns="geometry")).astype(object)
    table.loc[0, "students"] = "99999999999999999999999"
    table["lon"], table["lat"] = s.geometry.x, s.geometry.y
    table.to_csv(tiny_project.parent / "schools.csv", index=False)
    text = tiny_project.read_text(encoding="utf-8").replace(
        'schools = "layers.gpkg"', 'schools = { path = "schools.csv", crs = "EPSG:4326" }'
    )
    tiny_project.write_text(text, encoding="utf-8")
    res = invoke_caught("validate", tiny_project)
    assert res.exit_code == 2, res.output
    assert "row 1 (school_id=S1) column `students`: '99999999999999999999999' is out of range" in res.output


@pytest.mark.parametrize("what", ["xlsx", "loop", "fifo", "nested", "bom"])
def test_odd_project_and_layer_files_exit_2_or_are_read(tiny_project: Path, what: str):
    folder = tiny_project.parent
    if what == "xlsx":
        pd.DataFrame({"village_id": ["V1"]}).to_excel(folder / "villages.xlsx", index=False)
        target = "villages.xlsx"
    elif what == "loop":
        (folder / "loop.gpkg").symlink_to(folder / "loop.gpkg")
        target = "loop.gpkg"
    elif what == "fifo":
        os.mkfifo(folder / "pipe.gpkg")
        target = "pipe.gpkg"
    if what in ("xlsx", "loop", "fifo"):
        text = tiny_project.read_text(encoding="utf-8").replace('villages = "layers.gpkg"', f'villages = "{target}"')
        tiny_project.write_text(text, encoding="utf-8")
    elif what == "nested":
        tiny_project.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    else:
        tiny_project.write_bytes(b"\xef\xbb\xbf" + tiny_project.read_bytes())
    res = invoke_caught("validate", tiny_project)
    assert res.exit_code == (0 if what == "bom" else 2), res.output
    assert "Traceback" not in res.output
    expected = {
        "xlsx": "column `lon`: coordinate column is missing",  # a workbook is a table: its lon/lat columns
        "loop": "symbolic link loop",
        "fifo": "named pipe (FIFO)",
        "nested": "nested too deeply",
        "bom": "valid (5 villages",
    }[what]
    assert expected in " ".join(res.output.split())


def test_calibrate_with_a_crs_that_is_no_crs_exits_2(tiny_project: Path, tmp_path: Path):
    drive = tmp_path / "drive.csv"
    drive.write_text("lon,lat,rsrp_dbm,site_id\n127.1,41.8,-90,T1\n", encoding="utf-8")
    res = invoke_caught("calibrate", tiny_project, drive, "--crs", "foo")
    assert res.exit_code == 2, res.output
    assert "`layers.measurements.crs` = 'foo' is not a coordinate reference system" in res.output


def _boundary(tmp_path: Path, **columns) -> Path:
    frame = gpd.GeoDataFrame(
        {"area_id": columns.get("area_id", ["220681"]), "name": columns.get("name", ["临江市"])},
        geometry=columns.get("geometry", [shapely.box(126.8, 41.6, 127.2, 41.9)]),
        crs=4326,
    )
    path = tmp_path / "boundary.geojson"
    frame.to_file(path)
    return path


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("area_id", "'LJ' is not a 6-digit GB/T 2260 county code"),
        ("tiny", "expected an admin area of at least 1 km²"),
        ("polar", "lies at latitudes -88.50..-88.00; expected -80..84"),
        ("seed", "Invalid value for '--seed': -1 is not in the range x>=0"),
        ("name", "`--name` = 'a\\udcffb' holds surrogate character(s) U+DCFF"),
    ],
)
def test_synth_refuses_what_it_cannot_fill(tmp_path: Path, case: str, match: str):
    args = ["synth", "--villages", "30", "--out", tmp_path / "s"]
    if case == "area_id":
        args += ["--boundary", _boundary(tmp_path, area_id=["LJ"])]
    elif case == "tiny":
        args += ["--boundary", _boundary(tmp_path, geometry=[shapely.box(127.0, 41.6, 127.00001, 41.60001)])]
    elif case == "polar":
        args += ["--boundary", _boundary(tmp_path, geometry=[shapely.box(126.8, -88.5, 127.2, -88.0)])]
    elif case == "seed":
        args += ["--seed", "-1"]
    else:
        args += ["--name", "a\udcffb"]
    res = invoke_caught(*args)
    assert res.exit_code == 2, res.output
    assert match in " ".join(res.output.split())
    assert not (tmp_path / "s").exists()


def test_synth_makes_one_admin_area_per_boundary_feature(tmp_path: Path):
    boundary = _boundary(
        tmp_path,
        area_id=["220681", "220622"],
        name=["临江市", "靖宇县"],
        geometry=[shapely.box(126.8, 41.6, 127.2, 41.9), shapely.box(127.2, 41.6, 127.3, 41.7)],
    )
    out = tmp_path / "s"
    res = invoke_caught("synth", "--villages", "40", "--boundary", boundary, "--out", out)
    assert res.exit_code == 0, res.output
    assert invoke_caught("validate", out / "project.toml").exit_code == 0
    admin = pyogrio.read_dataframe(out / "layers.gpkg", layer="admin")
    assert admin[["area_id", "name"]].to_numpy().tolist() == [["220681", "临江市"], ["220622", "靖宇县"]]
    villages = pyogrio.read_dataframe(out / "layers.gpkg", layer="villages")
    assert villages["admin_code"].str.fullmatch(r"(220681|220622)\d{6}").all()


def test_a_project_ledger_with_a_bad_status_or_missing_exits_2(tiny_project: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert invoke("run", tiny_project, "--out", out).exit_code == 0
    ledger = tiny_project.parent / "ledger.gpkg"
    ledger.write_bytes((out / "ledger.gpkg").read_bytes())
    con = sqlite3.connect(ledger)
    con.execute("UPDATE ledger SET status = 'lost' WHERE id = 'schools:S3'")
    con.commit()
    con.close()
    tiny_project.write_text(
        tiny_project.read_text(encoding="utf-8") + '\n[ledger]\npath = "ledger.gpkg"\n', encoding="utf-8"
    )
    for args in (["validate", tiny_project], ["run", tiny_project, "--out", tmp_path / "o2"]):
        res = invoke_caught(*args)
        assert res.exit_code == 2, res.output
        assert "status 'lost' is not a ledger status" in res.output
    ledger.unlink()
    res = invoke_caught("run", tiny_project, "--out", tmp_path / "o2")
    assert res.exit_code == 2, res.output
    assert "ledger.gpkg` does not exist" in res.output
    assert not (tmp_path / "o2").exists()
