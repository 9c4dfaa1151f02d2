"""A ledger any GIS tool may have touched, and hostile field reports: a ledger QGIS indexed or GDAL saved anew
updates (its R-tree kept right), a read-only ledger or one copied in mid-update is refused with the reason (exit 2,
nothing changed), and report dates outside the programme's years are refused naming file, row and column."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import stat
import struct
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from affine import Affine
from click.testing import CliRunner

from gis.gpkg_sql import blob_bounds, blob_is_empty, register_gpkg_functions
from gis.layers import write_layers
from gis.terrain import dem_from_array, write_dem
from planning.cli import cli
from planning.status import ledger_updates
from planning.status.ledger import (
    HISTORY_TABLE,
    LEDGER_TABLE,
    LedgerError,
    create_ledger,
    ledger_transaction,
    read_history,
    read_ledger,
    record_plan,
)
from planning.status.ledger_updates import FIRST_REPORT_DATE, apply_updates
from tests.conftest import CELL_M, CRS_M, PROJECT_TOML, X0, Y0, tiny_heights, tiny_layers

D0 = dt.date(2026, 1, 10)
IDS = ["villages:V2", "villages:V5", "schools:S3"]


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def rows() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": IDS,
            "layer": ["villages", "villages", "schools"],
            "name": ["西沟村", "石河村", "石河教学点"],
            "county": ["临江市"] * 3,
            "kind": ["poor_village", "poor_village", "teaching_point"],
            "lacks": ["broadband;4g", "broadband", "connection;outlet_target"],
            "access": ["", "", "none"],
            "evidence": ["reported", "reported", "reported"],
            "status": ["unconnected"] * 3,
        },
        geometry=shapely.points([300_350.0, 300_850.0, 300_870.0], [4_629_550.0, 4_629_150.0, 4_629_150.0]),
        crs=CRS_M,
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return create_ledger(rows(), tmp_path / "ledger.gpkg", date=D0)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def report_csv(path: Path, *recs: dict) -> Path:
    cols = ["id", "status", "date", "note", "measured_mbps", "reason"]
    pd.DataFrame([{c: r.get(c, "") for c in cols} for r in recs]).to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- what GDAL does to a ledger


def gdal_rtree_sql(table: str, column: str) -> tuple[list[str], tuple]:
    """The R-tree table, its triggers and the extension row GDAL writes for ``table``.``column`` (read from a
    GeoPackage GDAL itself indexed)."""
    with tempfile.TemporaryDirectory() as d:
        t = Path(d) / "t.gpkg"
        g = gpd.GeoDataFrame({"id": ["x"]}, geometry=[shapely.Point(0, 0)], crs=CRS_M)
        pyogrio.write_dataframe(
            g, t, layer=table, driver="GPKG", layer_options={"SPATIAL_INDEX": "YES", "GEOMETRY_NAME": column}
        )
        con = sqlite3.connect(t)
        name = f"rtree_{table}_{column}"
        vtab = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
        triggers = [
            r[0]
            for r in con.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE ?", (name + "%",))
        ]
        ext = con.execute("SELECT * FROM gpkg_extensions WHERE table_name = ?", (table,)).fetchone()
        ext_table = con.execute("SELECT sql FROM sqlite_master WHERE name = 'gpkg_extensions'").fetchone()[0]
        con.close()
    return [ext_table.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1), vtab, *triggers], ext


def qgis_index(path: Path) -> None:
    """As QGIS "Create spatial index" leaves a ledger: GDAL's R-tree, filled, and its triggers."""
    con = sqlite3.connect(path)
    column = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = 'ledger'").fetchone()[0]
    sqls, ext = gdal_rtree_sql("ledger", column)
    for sql in sqls:
        con.execute(sql)
    for fid, blob in con.execute(f"SELECT fid, {column} FROM ledger").fetchall():
        x0, y0, x1, y1 = shapely.from_wkb(bytes(blob[8:])).bounds
        con.execute(f"INSERT INTO rtree_ledger_{column} VALUES (?, ?, ?, ?, ?)", (fid, x0, x1, y0, y1))
    con.execute("INSERT INTO gpkg_extensions VALUES (?, ?, ?, ?, ?)", ext)
    con.commit()
    con.close()


def gdal_save_as(src: Path, dst: Path) -> Path:
    """As ``ogr2ogr``/QGIS "Save As" rewrites a ledger: every layer read and written anew by GDAL, the feature
    table with GDAL's spatial index (its history table gets GDAL's own fid: event_id is a plain column then)."""
    for layer in pyogrio.list_layers(src)[:, 0]:
        frame = pyogrio.read_dataframe(src, layer=layer)
        if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.notna().any():
            pyogrio.write_dataframe(frame, dst, layer=layer, driver="GPKG", layer_options={"SPATIAL_INDEX": "YES"})
        else:
            pyogrio.write_dataframe(pd.DataFrame(frame.drop(columns="geometry", errors="ignore")), dst, layer=layer)
    return dst


def rtree_matches(path: Path) -> int:
    """Assert the R-tree holds exactly each row's bounds (float32, rounded outwards); returns the rows checked."""
    con = sqlite3.connect(path)
    column = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = 'ledger'").fetchone()[0]
    geoms = {fid: shapely.from_wkb(bytes(b[8:])) for fid, b in con.execute(f"SELECT fid, {column} FROM ledger")}
    tree = {r[0]: r[1:] for r in con.execute(f"SELECT id, minx, maxx, miny, maxy FROM rtree_ledger_{column}")}
    con.close()
    assert set(tree) == set(geoms)
    for fid, g in geoms.items():
        x0, y0, x1, y1 = g.bounds
        minx, maxx, miny, maxy = tree[fid]
        assert (minx, miny) <= (x0, y0)
        assert minx <= x0 <= x1 <= maxx
        assert miny <= y0 <= y1 <= maxy
        assert max(x0 - minx, maxx - x1, y0 - miny, maxy - y1) < 0.1  # float32 at 10^6 m: a few cm
    return len(geoms)


# ---------------------------------------------------------------- the functions GDAL's triggers call


def gpkg_blob(geom, *, envelope: tuple[float, ...] = (), little: bool = True, empty: bool = False) -> bytes:
    flags = int(little) | ({0: 0, 4: 1}[len(envelope)] << 1) | (0b10000 if empty else 0)
    order = "<" if little else ">"
    env = struct.pack(f"{order}{len(envelope)}d", *envelope)
    return b"GP" + bytes([0, flags]) + struct.pack(order + "i", 32652) + env + shapely.to_wkb(geom)


@pytest.mark.parametrize(
    ("blob", "bounds", "empty"),
    [
        (gpkg_blob(shapely.Point(3, 4)), (3.0, 4.0, 3.0, 4.0), 0),
        (gpkg_blob(shapely.LineString([(0, 1), (5, -2)])), (0.0, -2.0, 5.0, 1.0), 0),
        # the header's envelope is [minx, maxx, miny, maxy]; big-endian header
        (gpkg_blob(shapely.box(1, 2, 3, 4), envelope=(1, 3, 2, 4), little=False), (1.0, 2.0, 3.0, 4.0), 0),
        (gpkg_blob(shapely.Point(), empty=True), None, 1),
        (gpkg_blob(shapely.Polygon()), None, 1),
        (b"not a geometry", None, None),
        (None, None, None),
    ],
)
def test_trigger_functions_read_the_geopackage_blob(blob, bounds, empty) -> None:
    assert blob_bounds(blob) == bounds
    assert blob_is_empty(blob) == empty
    con = register_gpkg_functions(sqlite3.connect(":memory:"))
    got = con.execute("SELECT ST_MinX(?), ST_MinY(?), ST_MaxX(?), ST_MaxY(?), ST_IsEmpty(?)", [blob] * 5).fetchone()
    assert got == (*(bounds or (None,) * 4), empty)


# ---------------------------------------------------------------- a ledger a GIS tool touched


def test_qgis_indexed_ledger_updates_and_its_rtree_follows(ledger: Path, tmp_path: Path) -> None:
    qgis_index(ledger)
    con = sqlite3.connect(ledger)
    with pytest.raises(sqlite3.OperationalError, match="no such function: ST_IsEmpty"):
        con.execute("UPDATE ledger SET note = 'x'")  # what every earlier ledger update met
    con.close()
    updates = report_csv(
        tmp_path / "u.csv",
        {"id": "V2", "status": "completed", "date": "2026-03-01"},
        {"id": "schools:S3", "status": "excluded", "date": "2026-03-02", "reason": "merged"},
    )
    res = invoke("ledger", "update", ledger, updates)
    assert res.exit_code == 0, res.output
    assert "2 row(s) updated" in res.output
    table = read_ledger(ledger).set_index("id")
    assert table.loc["villages:V2", "status"] == "completed"
    assert table.loc["schools:S3", "status"] == "excluded"
    assert rtree_matches(ledger) == 3


def test_gdal_saved_ledger_updates_with_numbered_events(ledger: Path, tmp_path: Path) -> None:
    saved = gdal_save_as(ledger, tmp_path / "saved.gpkg")
    before = read_history(saved)
    res = invoke(
        "ledger",
        "update",
        saved,
        report_csv(tmp_path / "u.csv", {"id": "V5", "status": "planned", "date": "2026-02-01"}),
    )
    assert res.exit_code == 0, res.output
    hist = read_history(saved)
    assert len(hist) == len(before) + 1
    assert hist["event_id"].notna().all()
    assert hist["event_id"].iloc[-1] == before["event_id"].max() + 1
    assert rtree_matches(saved) == 3


def test_a_write_on_a_gdal_saved_ledger_adds_rows_into_its_rtree(ledger: Path) -> None:
    qgis_index(ledger)
    extra = rows().iloc[[0]].assign(id="villages:V9")
    extra["geometry"] = [shapely.Point(301_234.5, 4_629_876.5)]
    events = record_plan(ledger, pd.concat([rows(), extra]), pd.DataFrame(), date=D0)
    assert list(events["id"]) == ["villages:V9"]
    assert rtree_matches(ledger) == 4


def _project_with_ledger(tmp_path: Path, ledger_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    layers = tiny_layers()
    layers["villages"]["access"] = ["fibre", "none", "fibre", "fibre", "none"]
    write_layers(layers, folder / "layers.gpkg")
    write_dem(dem_from_array(tiny_heights(), Affine(CELL_M, 0, X0, 0, -CELL_M, Y0), CRS_M), folder / "dem.tif")
    toml = PROJECT_TOML + f'\n[ledger]\npath = "{ledger_path.name}"\n'
    (folder / "project.toml").write_text(toml, encoding="utf-8")
    return folder / "project.toml"


def test_run_with_a_qgis_indexed_project_ledger(ledger: Path, tmp_path: Path) -> None:
    project = _project_with_ledger(tmp_path, ledger)
    own = project.parent / ledger.name
    ledger.rename(own)
    qgis_index(own)
    before = sha(own)
    res = invoke("-q", "run", project, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert sha(own) == before  # a run never writes the project's ledger
    out = tmp_path / "out" / "ledger.gpkg"
    assert rtree_matches(out) == len(read_ledger(out)) >= 3


# ---------------------------------------------------------------- refused: read-only, copied in mid-update, damaged


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_ledger_is_refused_unchanged(ledger: Path, tmp_path: Path, what: str) -> None:
    updates = report_csv(tmp_path / "u.csv", {"id": "V2", "status": "planned", "date": "2026-02-01"})
    before = sha(ledger)
    target = ledger if what == "file" else ledger.parent
    mode = target.stat().st_mode
    target.chmod(stat.S_IMODE(mode) & ~0o222)
    try:
        res = invoke("ledger", "update", ledger, updates)
    finally:
        target.chmod(stat.S_IMODE(mode))
    assert res.exit_code == 2, res.output
    assert "read-only" in res.output
    assert str(ledger) in res.output.replace("\n", "")
    assert "nothing was changed" in res.output
    assert sha(ledger) == before


def _page(path: Path, number: int) -> bytes:
    data = path.read_bytes()
    size = struct.unpack(">H", data[16:18])[0] or 65536
    return data[(number - 1) * size : number * size]


def _put_page(path: Path, number: int, page: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[(number - 1) * len(page) : number * len(page)] = page
    path.write_bytes(bytes(data))


def _root(path: Path, table: str) -> int:
    con = sqlite3.connect(path)
    (root,) = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    con.close()
    return int(root)


def _add_row(ledger: Path) -> None:
    extra = rows().iloc[[0]].assign(id="villages:V9")
    extra["geometry"] = [shapely.Point(301_234.5, 4_629_876.5)]
    record_plan(ledger, pd.concat([rows(), extra]), pd.DataFrame(), date=D0)


@pytest.mark.parametrize("stale", ["ledger_meta", HISTORY_TABLE, LEDGER_TABLE])
def test_a_copy_taken_in_mid_update_is_named(ledger: Path, tmp_path: Path, stale: str) -> None:
    """A crash mid-commit leaves some pages new and some old; a copy without the -journal file keeps that mix.
    Built here: the ledger after an update (a row added) with one table's page as it was before."""
    old = tmp_path / "old.gpkg"
    old.write_bytes(ledger.read_bytes())
    _add_row(ledger)
    _put_page(ledger, _root(ledger, stale), _page(old, _root(old, stale)))
    updates = report_csv(tmp_path / "u.csv", {"id": "V2", "status": "planned", "date": "2026-02-01"})
    for args in (("ledger", "show", ledger), ("ledger", "update", ledger, updates)):
        res = invoke(*args)
        assert res.exit_code == 2, res.output
        text = res.output.replace("\n", " ")
        assert "copied or changed in the middle of an update" in text
        assert "-journal" in text
        assert str(ledger) in text


def test_events_deleted_outside_coverplan_are_named(ledger: Path) -> None:
    con = sqlite3.connect(ledger)
    con.execute(f"DELETE FROM {HISTORY_TABLE} WHERE event_id = 2")
    con.commit()
    con.close()
    with pytest.raises(
        LedgerError, match=r"recorded 3 event\(s\) \(last event_id 3\) and 3 row\(s\), the file holds 2"
    ):
        read_ledger(ledger)


def test_damaged_ledger_is_refused(ledger: Path) -> None:
    root = _root(ledger, LEDGER_TABLE)
    page = bytearray(_page(ledger, root))
    page[0] = 0x99  # not a b-tree page type any more
    _put_page(ledger, root, bytes(page))
    res = invoke("ledger", "show", ledger)
    assert res.exit_code == 2, res.output
    assert str(ledger) in res.output.replace("\n", "")


def test_failed_write_rolls_back_and_keeps_the_bookkeeping(ledger: Path) -> None:
    before = sha(ledger)

    def half_then_fail() -> None:
        with ledger_transaction(ledger) as tx:
            tx.set_fields("villages:V2", {"note": "half"})
            tx.add_event("villages:V2", date="2026-02-01", field="note", old="", new="half", note="", source="t")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        half_then_fail()
    assert read_ledger(ledger).set_index("id").loc["villages:V2", "note"] in ("", None)
    assert len(read_history(ledger)) == 3
    assert sha(ledger) == before


def test_set_fields_refuses_an_unknown_column(ledger: Path) -> None:
    with pytest.raises(ValueError, match="not a ledger column"), ledger_transaction(ledger) as tx:
        tx.set_fields("villages:V2", {"status; DROP TABLE ledger": "x"})
    assert len(read_ledger(ledger)) == 3


# ---------------------------------------------------------------- report dates


@pytest.mark.parametrize("date", ["0001-01-01", "1900-01-01", "1999-12-31", "2014-12-31"])
def test_report_dated_before_the_programme_is_refused(ledger: Path, tmp_path: Path, date: str) -> None:
    before = sha(ledger)
    updates = report_csv(
        tmp_path / "u.csv",
        {"id": "V5", "status": "planned", "date": "2026-02-01"},
        {"id": "V2", "status": "completed", "date": date},
    )
    res = invoke("ledger", "update", ledger, updates)
    assert res.exit_code == 2, res.output
    text = res.output.replace("\n", " ")
    for part in ("u.csv", "row 2", "date", date, FIRST_REPORT_DATE.isoformat(), "2015"):
        assert part in text
    assert sha(ledger) == before


def test_report_dated_on_the_programme_start_is_a_backfill(ledger: Path) -> None:
    res = apply_updates(
        ledger, pd.DataFrame({"id": ["V2"], "status": ["completed"], "date": [FIRST_REPORT_DATE.isoformat()]})
    )
    assert res.applied == 1


@pytest.mark.parametrize("date", ["2999-01-01", "20260201", "2026-02-30", "2026-13-01", "", "10000-01-01"])
def test_report_date_not_a_past_date_is_refused(ledger: Path, tmp_path: Path, date: str) -> None:
    res = invoke(
        "ledger", "update", ledger, report_csv(tmp_path / "u.csv", {"id": "V2", "status": "planned", "date": date})
    )
    assert res.exit_code == 2, res.output
    assert "row 1" in res.output
    assert "date" in res.output


def test_ledger_store_names_are_public() -> None:
    source = Path(ledger_updates.__file__).read_text(encoding="utf-8")
    imported = source.split("from planning.status.ledger import (", 1)[1].split(")", 1)[0]
    assert not [n for n in imported.replace(",", " ").split() if n.startswith("_")]
    assert np.all([LEDGER_TABLE == "ledger", HISTORY_TABLE == "ledger_history"])
