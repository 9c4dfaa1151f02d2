"""`coverplan import ...`: a project built only from imported layers (plus its admin boundary) runs end to end;
bad inputs exit 2 with a clear message and write nothing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from planning.cli import cli
from tests.import_inputs import (
    CELLS,
    CELLS_HEADER,
    EAST,
    NORTH,
    SOUTH,
    WEST,
    population_values,
    write_admin,
    write_cells,
    write_osm,
    write_population,
    write_tiles,
)

FULL_PROJECT = """[project]
name = "imported"
language = "en"
metric_crs = "EPSG:32652"

[layers]
admin = "admin.gpkg"
villages = "villages.gpkg"
schools = { path = "osm.gpkg", layer = "schools" }
sites = "sites.gpkg"
roads = { path = "osm.gpkg", layer = "roads" }
candidates = { path = "osm.gpkg", layer = "candidates" }

[terrain]
path = "dem.tif"
"""


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_imported_project_runs_end_to_end(tmp_path: Path):
    """The project file names the layers the imports will write; only its admin boundary exists at first."""
    write_admin(tmp_path)
    project = tmp_path / "full.toml"
    project.write_text(FULL_PROJECT, encoding="utf-8")
    tiles = write_tiles(tmp_path)
    res = invoke("import", "dem", *tiles, "--project", project, "--out", tmp_path / "dem.tif", "--buffer-m", 3000)
    assert res.exit_code == 0, res.output
    assert "dem: filled 1 height_m: void pixels interpolated" in res.output
    res = invoke(
        "import",
        "opencellid",
        write_cells(tmp_path),
        "--project",
        project,
        "--out",
        tmp_path / "sites.gpkg",
        "--buffer-m",
        2000,
    )
    assert res.exit_code == 0, res.output
    assert "opencellid: kept 3 sites" in res.output
    assert "opencellid: dropped 1: cells: GSM (2G/3G is not planned)" in res.output
    res = invoke(
        "import", "osm", write_osm(tmp_path), "--project", project, "--out", tmp_path / "osm.gpkg", "--buffer-m", 2000
    )
    assert res.exit_code == 0, res.output
    assert "osm: kept 3 villages" in res.output
    res = invoke(
        "import",
        "population",
        write_population(tmp_path),
        "--project",
        project,
        "--villages",
        tmp_path / "osm.gpkg",
        "--out",
        tmp_path / "villages.gpkg",
    )
    assert res.exit_code == 0, res.output
    villages = pyogrio.read_dataframe(tmp_path / "villages.gpkg", layer="villages")
    assert villages["population_source"].tolist() == ["raster_voronoi"] * 3
    assert villages["population"].sum() > 0
    assert not [n for n in _files(tmp_path) if ".partial" in n]

    res = invoke("validate", project)
    assert res.exit_code == 0, res.output
    assert "valid (3 villages, 3 schools, 3 sites, 3 roads, 1 candidates, 1 admin" in res.output
    res = invoke("run", project, "--out", tmp_path / "out", "--offline")
    assert res.exit_code == 0, res.output
    for name in ("coverage.gpkg", "fibre.gpkg", "gaps.gpkg", "proposal.gpkg", "report.html", "map.html"):
        assert (tmp_path / "out" / name).exists(), name
    # no public source has is_poor, none has fibre: the run says what it therefore cannot plan
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert sorted(summary["cannot_plan"]) == ["no_fibre", "no_is_poor"]
    assert summary["gaps"]["poor_broadband"]["n"] == 0
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'id="cannot-plan-no_is_poor"' in report
    assert "coverplan import register" in report
    assert 'id="cannot-plan-no_fibre"' in report

    # the county's poor-village register (GBK CSV, by name; one row matches nothing) joined to the villages
    (tmp_path / "贫困村名单.csv").write_bytes("序号,行政村名称\n1,东岭村委会\n2,石河村\n".encode("gbk"))
    res = invoke(
        "import",
        "register",
        tmp_path / "贫困村名单.csv",
        "--project",
        project,
        "--villages",
        tmp_path / "villages.gpkg",
        "--out",
        tmp_path / "villages_poor.gpkg",
    )
    assert res.exit_code == 0, res.output
    assert "register: note: 1 row(s) matched by name" in res.output
    assert "register: note: 1 row(s) unmatched" in res.output
    outcomes = pd.read_csv(tmp_path / "villages_poor_register.csv", dtype=str, keep_default_na=False)
    assert outcomes["outcome"].tolist() == ["matched by name", "unmatched"]
    poor = pyogrio.read_dataframe(tmp_path / "villages_poor.gpkg", layer="villages")
    assert poor.set_index("name")["is_poor"].astype(bool).to_dict() == {"东岭村": True, "西沟村": False, "南岔": False}
    project.write_text(FULL_PROJECT.replace('villages = "villages.gpkg"', 'villages = "villages_poor.gpkg"'))
    res = invoke("run", project, "--out", tmp_path / "out2", "--offline")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out2" / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["cannot_plan"]) == ["no_fibre"]
    assert summary["villages"]["registered_poor"] == 1
    assert summary["gaps"]["poor_broadband"]["n"] == 1  # the poor-village KPIs now have their base
    project.write_text(FULL_PROJECT, encoding="utf-8")

    # an import never replaces a file that holds other layers of the project, nor one it reads
    res = invoke(
        "import",
        "opencellid",
        tmp_path / "cells.csv",
        "--project",
        project,
        "--out",
        tmp_path / "osm.gpkg",
        "--overwrite",
    )
    assert res.exit_code == 2
    assert "holds the project's candidates, roads, schools layer(s)" in res.output
    res = invoke(
        "import",
        "population",
        tmp_path / "ppp.tif",
        "--project",
        project,
        "--out",
        tmp_path / "villages.gpkg",
        "--overwrite",
    )
    assert res.exit_code == 2
    assert "is also an input" in res.output


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_admin(tmp_path)


def test_out_exists_or_is_an_input(tmp_path: Path, project: Path):
    cells = write_cells(tmp_path)
    out = tmp_path / "sites.gpkg"
    out.write_bytes(b"keep me")
    res = invoke("import", "opencellid", cells, "--project", project, "--out", out)
    assert res.exit_code == 2
    assert "exists; pass --overwrite" in res.output
    assert out.read_bytes() == b"keep me"
    res = invoke("import", "opencellid", cells, "--project", project, "--out", out, "--overwrite", "--buffer-m", 2000)
    assert res.exit_code == 0, res.output
    assert pyogrio.read_info(out, layer="sites")["features"] == 3
    res = invoke(
        "import",
        "population",
        tmp_path / "admin.gpkg",
        "--project",
        project,
        "--out",
        tmp_path / "admin.gpkg",
        "--overwrite",
    )
    assert res.exit_code == 2
    assert "is also an input" in res.output
    res = invoke("import", "osm", write_osm(tmp_path), "--project", project, "--out", tmp_path / "osm.csv")
    assert res.exit_code == 2
    assert "expected a file ending in .gpkg" in res.output


def test_non_numeric_lon_exits_2_and_writes_nothing(tmp_path: Path, project: Path):
    rows = list(CELLS)
    rows[3] = rows[3].replace("127.010", "east")
    before = _files(tmp_path) | {"cells.csv"}
    res = invoke(
        "import", "opencellid", write_cells(tmp_path, rows), "--project", project, "--out", tmp_path / "sites.gpkg"
    )
    assert res.exit_code == 2
    assert (
        "cells.csv [opencellid] row 4 (cell=12800256) column `lon`: 'east' is not a finite number; expected a "
        "longitude in degrees -180..180" in res.output
    )
    assert "nothing written" in res.output
    assert _files(tmp_path) == before


def test_truncated_gzip_exits_2(tmp_path: Path, project: Path):
    data = gzip.compress(("\n".join([CELLS_HEADER, *CELLS * 300]) + "\n").encode())
    gz = tmp_path / "cells.csv.gz"
    gz.write_bytes(data[:-40])
    res = invoke("import", "opencellid", gz, "--project", project, "--out", tmp_path / "sites.gpkg")
    assert res.exit_code == 2
    assert "cells.csv.gz [opencellid]: cannot read (truncated or corrupt file?)" in res.output
    assert not (tmp_path / "sites.gpkg").exists()


def test_bad_tiles_exit_2(tmp_path: Path, project: Path):
    west, east = write_tiles(tmp_path)
    res = invoke("import", "dem", west, "--project", project, "--out", tmp_path / "dem.tif")
    assert res.exit_code == 2
    assert "in SRTM cell(s) N41E127) on no given tile" in res.output
    east.write_bytes(east.read_bytes()[:-2])
    res = invoke("import", "dem", west, east, "--project", project, "--out", tmp_path / "dem.tif")
    assert res.exit_code == 2
    assert "N41E127.hgt [terrain]: 2884800 bytes; expected an SRTM .hgt of" in res.output
    assert not (tmp_path / "dem.tif").exists()


def test_bad_osm_and_raster_exit_2(tmp_path: Path, project: Path):
    pbf = tmp_path / "extract.osm.pbf"
    pbf.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all")
    res = invoke("import", "osm", pbf, "--project", project, "--out", tmp_path / "osm.gpkg")
    assert res.exit_code == 2
    assert "osmium cannot read it" in res.output
    res = invoke(
        "import", "osm", write_osm(tmp_path), "--project", project, "--out", tmp_path / "osm.gpkg", "--buffer-m", 0
    )
    assert res.exit_code == 0, res.output
    v = population_values()
    v[3, 3] = -5.0
    raster = write_population(tmp_path, v)
    res = invoke(
        "import",
        "population",
        raster,
        "--project",
        project,
        "--villages",
        tmp_path / "osm.gpkg",
        "--out",
        tmp_path / "villages.gpkg",
    )
    assert res.exit_code == 2
    assert "ppp.tif [population]: 1 pixel value(s) not people per pixel, first -5.0" in res.output
    assert not (tmp_path / "villages.gpkg").exists()
    res = invoke(
        "import",
        "population",
        write_population(tmp_path, np.ones((8, 8), np.float32)),
        "--project",
        project,
        "--out",
        tmp_path / "villages.gpkg",
        "--overwrite",
    )
    assert res.exit_code == 2
    assert "has no `villages` and no --villages was given" in res.output


def test_project_without_admin_exits_2(tmp_path: Path):
    bad = tmp_path / "project.toml"
    bad.write_text('[project]\nname = "x"\n\n[layers]\n', encoding="utf-8")
    res = invoke("import", "osm", write_osm(tmp_path), "--project", bad, "--out", tmp_path / "osm.gpkg")
    assert res.exit_code == 2
    assert "missing required layer(s) ['admin']" in res.output


def test_register_refusals_exit_2_and_write_nothing(tmp_path: Path, project: Path):
    res = invoke(
        "import", "osm", write_osm(tmp_path), "--project", project, "--out", tmp_path / "osm.gpkg", "--buffer-m", 0
    )
    assert res.exit_code == 0, res.output
    common = ["--project", project, "--villages", tmp_path / "osm.gpkg", "--out", tmp_path / "poor.gpkg"]
    (tmp_path / "list.csv").write_text("备注\n甲\n", encoding="utf-8")
    res = invoke("import", "register", tmp_path / "list.csv", *common)
    assert res.exit_code == 2
    assert "has no village code or name column" in res.output
    (tmp_path / "list.csv").write_text("单位,是否贫困村\n东岭村,也许\n", encoding="utf-8")
    res = invoke("import", "register", tmp_path / "list.csv", *common, "--column", "village=单位")
    assert res.exit_code == 2
    assert "expected code=HEADING, name=HEADING" in res.output
    res = invoke("import", "register", tmp_path / "list.csv", *common, "--column", "name=单位")
    assert res.exit_code == 2
    assert "'也许' is not true/false" in res.output
    assert not (tmp_path / "poor.gpkg").exists()
    assert not (tmp_path / "poor_register.csv").exists()


def test_an_osm_extract_that_misses_the_region_exits_2(tmp_path: Path, project: Path):
    """An extract whose header box covers only the county's western third: exit 2 with the uncovered share and the
    option, nothing written; with the option the covered part is imported."""
    east = WEST + (EAST - WEST) / 3
    xml = tmp_path / "west.osm"
    xml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
        f'<bounds minlon="{WEST - 0.1}" minlat="{SOUTH - 0.1}" maxlon="{east}" maxlat="{NORTH + 0.1}"/>\n'
        f'<node id="1" version="1" lat="{(SOUTH + NORTH) / 2}" lon="{WEST + 0.005}">'
        '<tag k="place" v="village"/><tag k="name" v="东岭村"/></node>\n</osm>\n',
        encoding="utf-8",
    )
    out = tmp_path / "osm.gpkg"
    res = invoke("import", "osm", xml, "--project", project, "--out", out)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "leaves 66." in text
    assert "% of the admin areas uncovered" in text
    assert "--max-uncovered-share 0.67" in text
    assert not out.exists()
    res = invoke("import", "osm", xml, "--project", project, "--out", out, "--max-uncovered-share", 0.7)
    assert res.exit_code == 0, res.output
    assert "osm: kept 1 villages" in res.output
