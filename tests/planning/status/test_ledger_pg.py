"""The ledger in PostgreSQL + PostGIS (a throwaway cluster, conftest.py): migrations, the same results as the
GeoPackage, history that cannot be rewritten, the database's own checks (a QGIS-style INSERT), row-level security
per county and operator, and 20 concurrent writers."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

psycopg = pytest.importorskip("psycopg")

from click.testing import CliRunner  # noqa: E402

from gis.layers import write_layers  # noqa: E402
from gis.project import load_project  # noqa: E402
from planning.cli import cli  # noqa: E402
from planning.run.runner import run_pipeline  # noqa: E402
from planning.status import export_xlsx, import_xlsx, ledger_pg  # noqa: E402
from planning.status.ledger import (  # noqa: E402
    LedgerError,
    copy_ledger,
    create_ledger,
    read_history,
    read_ledger,
    state_at,
)
from planning.status.ledger_base import MIIT_TRACKED  # noqa: E402
from planning.status.ledger_updates import apply_updates, read_updates  # noqa: E402
from tests.conftest import PROJECT_TOML, tiny_layers  # noqa: E402
from tests.planning.status.test_ledger_lifecycle import rows, upd  # noqa: E402
from tests.planning.status.test_ledger_miit import REPORT, TODAY  # noqa: E402

D0 = dt.date(2026, 1, 10)
COLS = ["id", "status", "status_date", "note", "measured_mbps", "reason", "lacks"]


def two_county_rows():
    frame = rows()
    frame["county"] = ["临江市", "临江市", "抚松县", "抚松县"]
    frame["operator"] = ["telecom", "unicom", "telecom", "mobile"]
    frame["division_code"] = ["220681100201", "220681100202", "220621100201", "220621100202"]
    return frame


@pytest.fixture
def gpkg(tmp_path: Path) -> Path:
    return create_ledger(two_county_rows(), tmp_path / "ledger.gpkg", date=D0)


@pytest.fixture
def url(pg_database: Callable[..., str], gpkg: Path) -> str:
    """A PostGIS ledger holding ``gpkg``'s rows and history."""
    u = pg_database()
    ledger_pg.import_ledger(u, read_ledger(gpkg), read_history(gpkg), source=gpkg.name)
    return u


def current(location: str | Path) -> pd.DataFrame:
    t = pd.DataFrame(read_ledger(location)[COLS]).set_index("id").sort_index()
    t["measured_mbps"] = pd.to_numeric(t["measured_mbps"], errors="coerce").astype(float)
    text = ["status", "status_date", "note", "reason", "lacks"]
    t[text] = t[text].fillna("").astype(str)
    return t


def test_init_and_migrate_versions(pg_database: Callable[..., str]) -> None:
    u = pg_database()
    with pytest.raises(LedgerError, match="holds no coverplan ledger"):
        ledger_pg.migrate(u, init=False)
    assert ledger_pg.migrate(u, init=True) == [v for v, _, _ in ledger_pg.migrations()]
    assert ledger_pg.migrate(u, init=False) == []  # current already
    with pytest.raises(LedgerError, match="exists already"):
        ledger_pg.migrate(u, init=True)
    with psycopg.connect(u) as con:
        assert ledger_pg.schema_version(con) == ledger_pg.migrations()[-1][0]


def test_the_cli_takes_a_url_everywhere(pg_database: Callable[..., str], gpkg: Path, tmp_path: Path) -> None:
    u = pg_database()
    run = CliRunner()
    res = run.invoke(cli, ["ledger", "init", u, "--from", str(gpkg)])
    assert res.exit_code == 0, res.output
    assert "4 row(s), 4 event(s)" in res.output
    assert run.invoke(cli, ["ledger", "migrate", u]).exit_code == 0
    reports = tmp_path / "field.csv"
    reports.write_text("id,status,date,note\nV1,在建,2026/3/5,开工\nS2,规划,2026年2月1日,\n", encoding="utf-8")
    res = run.invoke(cli, ["ledger", "update", u, str(reports)])
    assert res.exit_code == 0, res.output
    assert "2 row(s) updated" in res.output
    res = run.invoke(cli, ["ledger", "list", u, "--county", "临江", "--status", "在建"])
    assert res.exit_code == 0, res.output
    lines = res.output.strip().splitlines()
    assert "1 of 4 row(s)" in lines[0]
    assert lines[1].split("\t")[:6] == [
        "villages:V1",
        "villages",
        "金营村",
        "临江市",
        "under_construction",
        "2026-03-05",
    ]
    res = run.invoke(cli, ["ledger", "list", u, "--operator", "telecom"])
    assert [line.split("\t")[0] for line in res.output.strip().splitlines()[1:]] == ["villages:V1", "schools:S1"]
    res = run.invoke(cli, ["ledger", "show", u])
    assert res.exit_code == 0
    assert "临江市: " in res.output
    res = run.invoke(cli, ["ledger", "diff", u, "--from", "2026-01-10", "--to", "2026-03-31"])
    assert "2 row(s) changed" in res.output
    # a bad report: exit 2, the database unchanged
    reports.write_text("id,status,date\nV1,规划,2026/3/6\n", encoding="utf-8")
    res = run.invoke(cli, ["ledger", "update", u, str(reports)])
    assert res.exit_code == 2
    assert "goes backwards" in res.output
    assert current(u).loc["villages:V1", "status"] == "under_construction"
    assert run.invoke(cli, ["ledger", "init", str(gpkg)]).exit_code == 2  # init takes a URL


def test_same_results_as_the_geopackage(url: str, gpkg: Path) -> None:
    assert current(url).equals(current(gpkg))
    steps = [
        upd({"id": "V1", "status": "规划", "date": "2026/2/1"}),
        upd(
            {"id": "S1", "status": "竣工", "date": "2026年3月1日", "note": "光纤到校"},
            {"id": "V2", "status": "核减", "date": "2026-03-02", "reason": "易地扶贫搬迁"},
        ),
        upd({"id": "S1", "status": "验收", "date": "2026-04-01", "measured_mbps": "182.5"}),
        upd({"id": "S2", "status": "completed", "date": "2025-06-01", "note": "back-fill"}),
        upd({"id": "V2", "status": "unconnected", "date": "2026-05-01"}),  # needs force
    ]
    for i, step in enumerate(steps):
        force = i == len(steps) - 1
        a = apply_updates(gpkg, step, force=force)
        b = apply_updates(url, step, force=force)
        assert a == b
        assert current(url).equals(current(gpkg)), i
    for day in (dt.date(2025, 7, 1), dt.date(2026, 2, 15), dt.date(2026, 3, 15), dt.date(2026, 6, 1)):
        pg, gp = state_at(url, day), state_at(gpkg, day)
        assert pg["status"].sort_index().equals(gp["status"].sort_index()), day
    h_pg, h_gp = read_history(url), read_history(gpkg)
    keep = ["event_id", "id", "event_date", "field", "old", "new", "note"]
    assert h_pg[keep].fillna("").equals(h_gp[keep].fillna(""))
    # a run's copy of the database ledger is a GeoPackage with the same state and history
    copy = copy_ledger(url, gpkg.parent / "copy.gpkg")
    assert current(copy).equals(current(url))
    assert read_ledger(copy).set_index("id").loc["villages:V1", "division_code"] == "220681100201"


def test_history_cannot_be_rewritten(url: str) -> None:
    for sql in (
        "UPDATE ledger_events SET new = 'accepted' WHERE event_id = 1",
        "DELETE FROM ledger_events WHERE event_id = 1",
        "TRUNCATE ledger_events CASCADE",
        "DELETE FROM ledger_rows WHERE id = 'villages:V1'",
    ):
        with psycopg.connect(url) as con, pytest.raises(psycopg.errors.InsufficientPrivilege, match="never changed"):
            con.execute(sql)  # refused even to the owner (a superuser here)
    assert len(read_history(url)) == 4


def test_a_qgis_style_insert_meets_the_same_rules(url: str) -> None:
    """A plain INSERT into the events table, as QGIS or psql would write it, is checked by the database."""
    ins = "INSERT INTO ledger_events (id, event_date, field, new, note) VALUES (%s, %s, %s, %s, %s)"
    apply_updates(url, upd({"id": "V1", "status": "completed", "date": "2026-03-01"}))
    refused = [
        (("villages:V1", "2026-03-05", "status", "planned", "qgis"), "goes backwards"),
        (("villages:V1", "2026-02-01", "status", "accepted", "qgis"), "before this row's last recorded change"),
        (("villages:V1", "2099-01-01", "status", "accepted", "qgis"), "in the future"),
        (("villages:V1", "2026-03-05", "status", "done", "qgis"), "is not a status"),
        (("villages:V2", "2026-03-05", "status", "excluded", "qgis"), "without a reason"),
        (("schools:S1", "2026-03-05", "status", "accepted", "qgis"), "needs the acceptance test"),
        (("villages:V1", "2026-03-05", "access_mbps", "fast", "qgis"), "not a speed"),
    ]
    for values, why in refused:
        with psycopg.connect(url) as con, pytest.raises(psycopg.errors.CheckViolation, match=why):
            con.execute(ins, values)
    with psycopg.connect(url) as con:  # a forced step back is allowed and recorded as such
        con.execute(
            ins.replace("note)", "note, forced)").replace("%s)", "%s, true)"),
            ("villages:V1", "2026-03-06", "status", "planned", "fibre cut"),
        )
        con.execute(ins, ("villages:V1", "2026-03-07", "access_mbps", "8", "升级村"))
    row = current(url).loc["villages:V1"]
    assert (row["status"], row["status_date"], row["note"]) == ("planned", "2026-03-06", "fibre cut")
    last = read_history(url).iloc[-2]
    assert (last["old"], last["new"]) == ("completed", "planned")  # `old` filled in by the database
    assert read_ledger(url).set_index("id").loc["villages:V1", "access_mbps"] == 8.0


def _roles(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as con:
        for role in ("ed_linjiang", "ed_fusong", "ed_telecom", "prov_reader"):
            con.execute(f"DROP ROLE IF EXISTS {role}")  # a rerun in the same cluster
        con.execute("CREATE ROLE ed_linjiang LOGIN IN ROLE coverplan_editor")
        con.execute("CREATE ROLE ed_fusong LOGIN IN ROLE coverplan_editor")
        con.execute("CREATE ROLE ed_telecom LOGIN IN ROLE coverplan_editor")
        con.execute("CREATE ROLE prov_reader LOGIN IN ROLE coverplan_province")
        con.execute(
            "INSERT INTO ledger_editors (role_name, county, operator) VALUES "
            "('ed_linjiang', '临江市', NULL), ('ed_fusong', '抚松县', NULL), ('ed_telecom', NULL, 'telecom')"
        )


def test_each_county_edits_only_its_own_rows(url: str, pg_database: Callable[..., str]) -> None:
    _roles(url)
    as_role = {
        r: url.replace("coverplan_test@", f"{r}@") for r in ("ed_linjiang", "ed_fusong", "ed_telecom", "prov_reader")
    }
    ins = (
        "INSERT INTO ledger_events (id, event_date, field, new, note) "
        "VALUES (%s, '2026-02-01', 'status', 'planned', 'x')"
    )
    # county A's editor on county B's row, and B's on A's: refused by the database (row-level security)
    for role, foreign in (("ed_linjiang", "schools:S1"), ("ed_fusong", "villages:V1"), ("ed_telecom", "schools:S2")):
        with (
            psycopg.connect(as_role[role]) as con,
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"),
        ):
            con.execute(ins, (foreign,))
    # each on its own: applied
    for role, own in (("ed_linjiang", "villages:V1"), ("ed_fusong", "schools:S1"), ("ed_telecom", "schools:S1")):
        with psycopg.connect(as_role[role]) as con:
            con.execute(ins, (own,))
    # editors see only their rows; the province reads all and writes nothing
    assert sorted(read_ledger(as_role["ed_linjiang"])["id"]) == ["villages:V1", "villages:V2"]
    assert sorted(read_ledger(as_role["ed_telecom"])["id"]) == ["schools:S1", "villages:V1"]
    assert len(read_ledger(as_role["prov_reader"])) == 4
    with psycopg.connect(as_role["prov_reader"]) as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute(ins, ("villages:V2",))
    with psycopg.connect(as_role["ed_linjiang"]) as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute("UPDATE ledger_events SET note = 'y'")
    # an editor cannot sign as someone else
    with psycopg.connect(as_role["ed_linjiang"]) as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute(
            "INSERT INTO ledger_events (id, event_date, field, new, recorded_by) "
            "VALUES ('villages:V1', '2026-02-02', 'note', 'x', 'ed_fusong')"
        )
    # through the CLI's update, a foreign row is an unknown id (the editor cannot see it): nothing applied
    with pytest.raises(LedgerError, match="unknown id"):
        apply_updates(
            as_role["ed_linjiang"],
            upd(
                {"id": "V2", "status": "在建", "date": "2026-02-03"},
                {"id": "S1", "status": "在建", "date": "2026-02-03"},
            ),
        )
    assert current(url).loc["villages:V2", "status"] == "unconnected"
    with psycopg.connect(url) as con:  # who added each event is recorded by the database
        signed = con.execute(
            "SELECT id, recorded_by FROM ledger_events WHERE event_id > 4 ORDER BY event_id"
        ).fetchall()
    assert signed == [("villages:V1", "ed_linjiang"), ("schools:S1", "ed_fusong"), ("schools:S1", "ed_telecom")]


# ---------------------------------------------------------------- 20 concurrent writers

WRITERS, UPDATES = 20, 5


def writer_rows():
    frame = rows().iloc[[0] * (WRITERS + 1)].reset_index(drop=True)
    frame["id"] = [f"villages:W{w:02d}" for w in range(WRITERS)] + ["villages:SHARED"]
    frame["geometry"] = shapely.points(np.arange(WRITERS + 1) * 10.0, np.zeros(WRITERS + 1))
    return frame


def writer_updates(w: int) -> list[pd.DataFrame]:
    """Writer ``w``'s five reports: its own row through the lifecycle (an even writer's third report steps
    backwards: refused whole), each also noting the shared row (one event per applied report)."""
    own = f"villages:W{w:02d}"
    steps = [
        ("planned", "2026-02-01"),
        ("under_construction", "2026-03-01"),
        ("planned" if w % 2 == 0 else "completed", "2026-04-01"),
        ("completed", "2026-05-01"),
        ("accepted", "2026-06-01"),
    ]
    return [
        upd(
            {"id": own, "status": s, "date": d, "note": f"w{w} u{k}"},
            {"id": "villages:SHARED", "status": "under_construction", "date": "2026-01-20", "note": f"w{w} u{k}"},
        )
        for k, (s, d) in enumerate(steps)
    ]


def _write_all(args: tuple[str, int, object]) -> tuple[int, int]:
    url, w, barrier = args
    barrier.wait()  # type: ignore[attr-defined]
    applied = refused = 0
    for step in writer_updates(w):
        try:
            applied += apply_updates(url, step).applied > 0
        except LedgerError:
            refused += 1
    return applied, refused


def test_twenty_concurrent_writers_lose_nothing(pg_database: Callable[..., str], tmp_path: Path) -> None:
    g = create_ledger(writer_rows(), tmp_path / "w.gpkg", date=D0)
    urls = []
    for _ in range(2):
        u = pg_database()
        ledger_pg.import_ledger(u, read_ledger(g), read_history(g), source="w.gpkg")
        urls.append(u)
    serial, parallel = urls
    s_applied = s_refused = 0
    for w in range(WRITERS):  # the serial result
        for step in writer_updates(w):
            try:
                apply_updates(serial, step)
                s_applied += 1
            except LedgerError:
                s_refused += 1
    ctx = multiprocessing.get_context("fork")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(WRITERS)
        with ctx.Pool(WRITERS) as pool:
            results = pool.map(_write_all, [(parallel, w, barrier) for w in range(WRITERS)])
    applied = sum(a for a, _ in results)
    refused = sum(r for _, r in results)
    assert (s_applied, s_refused) == (WRITERS * UPDATES - WRITERS // 2, WRITERS // 2)
    assert (applied, refused) == (s_applied, s_refused)
    a, b = current(serial), current(parallel)
    assert a.drop(columns="note").equals(b.drop(columns="note"))  # the shared row's last note depends on order
    assert a.drop(index="villages:SHARED").equals(b.drop(index="villages:SHARED"))
    hist = read_history(parallel)
    per_row = hist.groupby("id").size()
    assert per_row.equals(read_history(serial).groupby("id").size())
    assert per_row["villages:SHARED"] == 1 + applied  # one event per applied report: none lost, none twice
    assert hist["event_id"].is_unique
    assert set(a.loc[a.index != "villages:SHARED", "status"]) == {"accepted"}


def test_a_miit_report_reads_the_same_on_both_backends(url: str, gpkg: Path, tmp_path: Path) -> None:
    report = tmp_path / "台账更新.csv"
    report.write_text(REPORT, encoding="utf-8")
    for location in (gpkg, url):
        assert apply_updates(location, read_updates(report), today=TODAY).applied == 2
    a = read_ledger(url).set_index("id").sort_index()
    b = read_ledger(gpkg).set_index("id").sort_index()  # holds the fields reported so far
    cols = [c for c in MIIT_TRACKED if c != "access_mbps" and c in b]
    assert len(cols) == 8
    assert a[cols].fillna("").astype(str).to_dict() == b[cols].fillna("").astype(str).to_dict()
    assert (
        a["access_mbps"].fillna(-1).tolist() == pd.to_numeric(b["access_mbps"]).fillna(-1).tolist() == [120, -1, 8, -1]
    )
    assert a.loc["villages:V1", "unconnected_reason"] == "光缆未到村"
    # the database checks a QGIS edit of a MIIT field too
    with psycopg.connect(url) as con, pytest.raises(psycopg.errors.CheckViolation, match="is not a status"):
        con.execute(
            "INSERT INTO ledger_events (id, event_date, field, new) "
            "VALUES ('villages:V1', '2026-03-06', 'fibre_status_unicom', 'done')"
        )


def test_a_run_reads_a_database_ledger_and_never_writes_it(url: str, tmp_path: Path, tiny_dem_path: Path) -> None:
    write_layers(tiny_layers(), tmp_path / "layers.gpkg")
    toml = tmp_path / "project.toml"
    toml.write_text(PROJECT_TOML + f'\n[ledger]\npath = "{url}"\n', encoding="utf-8")
    project = load_project(toml)
    assert project.ledger == url
    apply_updates(url, upd({"id": "V1", "status": "在建", "date": "2026/3/5"}))
    before = read_history(url)
    run_pipeline(project, tmp_path / "out", overwrite=True, offline=True, ledger_date=dt.date(2026, 9, 1))
    copy = read_ledger(tmp_path / "out" / "ledger.gpkg").set_index("id")
    assert copy.loc["villages:V1", "status"] == "under_construction"  # the database's state, in the run's copy
    assert len(read_history(tmp_path / "out" / "ledger.gpkg")) >= len(before)
    assert read_history(url).equals(before)  # the database is never written by a run


def test_a_url_is_told_from_a_file_and_its_password_never_shown() -> None:
    assert ledger_pg.is_ledger_url("postgresql://a@b/c")
    assert ledger_pg.is_ledger_url("POSTGRES://a@b/c")
    assert not ledger_pg.is_ledger_url("ledger.gpkg")
    assert not ledger_pg.is_ledger_url(Path("postgresql:/a"))
    assert ledger_pg.shown_url("postgresql://planner:s3cret@db/ledger") == "postgresql://planner:***@db/ledger"
    with pytest.raises(LedgerError) as err:
        read_ledger("postgresql://planner:s3cret@/nope?host=/nonexistent-socket-dir&connect_timeout=1")
    assert "s3cret" not in str(err.value)
    assert "cannot reach the database" in str(err.value)


def test_an_xlsx_ledger_imports_into_postgis_and_exports_the_same(
    pg_database: Callable[..., str], gpkg: Path, tmp_path: Path
) -> None:
    apply_updates(gpkg, upd({"id": "villages:V1", "status": "规划", "date": "2026/3/1", "note": "=1+1"}), today=TODAY)
    book = export_xlsx(gpkg, tmp_path / "台账.xlsx")
    u = pg_database()
    import_xlsx(book, u)
    pd.testing.assert_frame_equal(current(u), current(gpkg))
    again = export_xlsx(u, tmp_path / "again.xlsx")  # the database's 台账 exported: the same rows again
    back = import_xlsx(again, tmp_path / "back.gpkg")
    assert current(back).equals(current(gpkg))
    assert current(u).at["villages:V1", "note"] == "=1+1"
