"""Ledger (台账): creation, dated updates, history replay, all-or-nothing updates, crashes, concurrency,
reconciliation with the real 2019 Jilin table."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from planning.cli import cli
from planning.status.ledger import LedgerError, create_ledger, diff, read_history, read_ledger, state_at
from planning.status.ledger_updates import apply_updates
from planning.status.reconcile import ledger_school_counts, read_official_counts, reconcile
from tests.conftest import CRS_M, ROOT

JILIN = ROOT / "data" / "official" / "jilin_unconnected_schools_2019.csv"
D0 = dt.date(2026, 1, 10)


def rows(n_schools: int = 4, county: str = "临江市") -> gpd.GeoDataFrame:
    ids = ["villages:V1", "villages:V2"] + [f"schools:S{i}" for i in range(1, n_schools + 1)]
    n = len(ids)
    return gpd.GeoDataFrame(
        {
            "id": ids,
            "layer": ["villages"] * 2 + ["schools"] * n_schools,
            "name": [f"n{i}" for i in range(n)],
            "county": [county] * n,
            "kind": ["poor_village", "village"] + ["teaching_point"] * n_schools,
            "lacks": ["broadband", "broadband;4g"] + ["connection;outlet_target"] * (n_schools - 1) + ["outlet_target"],
            "access": ["none"] * n,
            "remedy": [""] * n,
            "remedy_cost_cny": [np.nan] * n,
            "status": ["unconnected"] * n,
        },
        geometry=shapely.points(np.arange(n) * 10.0, np.zeros(n)),
        crs=CRS_M,
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return create_ledger(rows(), tmp_path / "ledger.gpkg", date=D0)


def upd(*recs: tuple[str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(recs, columns=["id", "status", "date", "note"])


def digest(path: Path) -> tuple[list, list]:
    """Content of the ledger and its history (not the file bytes: SQLite may rewrite pages)."""
    led = read_ledger(path).drop(columns="geometry").sort_values("id").astype(object).fillna("").to_numpy().tolist()
    hist = read_history(path).drop(columns="recorded_at").astype(object).fillna("").to_numpy().tolist()
    return led, hist


def test_create_and_read(ledger: Path) -> None:
    led = read_ledger(ledger)
    assert len(led) == 6
    assert set(led["status"]) == {"unconnected"}
    hist = read_history(ledger)
    assert len(hist) == 6
    assert set(hist["event_date"]) == {"2026-01-10"}
    assert led.crs.to_epsg() == 32652
    with pytest.raises(LedgerError, match="already exists"):
        create_ledger(rows(), ledger, date=D0)


def test_updates_replay_and_diff(ledger: Path) -> None:
    res = apply_updates(
        ledger, upd(("villages:V1", "planned", "2026-02-01", "批次1"), ("S2", "under_construction", "2026-03-01", ""))
    )
    assert (res.applied, res.events) == (2, 2)
    apply_updates(
        ledger,
        upd(("villages:V1", "connected", "2026-05-01", "光纤到村"), ("schools:S2", "connected", "2026-05-20", "")),
    )
    now = read_ledger(ledger).set_index("id")
    assert now.loc["villages:V1", "status"] == "completed"  # an earlier name, read as today's
    assert now.loc["villages:V1", "note"] == "光纤到村"
    past = state_at(ledger, dt.date(2026, 3, 15))
    assert past.loc["villages:V1", "status"] == "planned"
    assert past.loc["schools:S2", "status"] == "under_construction"
    assert past.loc["schools:S1", "status"] == "unconnected"
    assert len(state_at(ledger, dt.date(2025, 12, 31))) == 0  # before creation: nothing
    d = diff(ledger, dt.date(2026, 2, 15), dt.date(2026, 5, 31))
    assert sorted(d.index) == ["schools:S2", "villages:V1"]
    assert d.loc["villages:V1", "status_from"] == "planned"
    assert d.loc["villages:V1", "status_to"] == "completed"
    assert d.loc["schools:S2", "status_from"] == "unconnected"
    # a date that is replayed the same way in both states: no difference
    assert diff(ledger, dt.date(2026, 6, 1), dt.date(2026, 7, 1)).empty


def test_bad_update_rejects_the_whole_file(ledger: Path) -> None:
    apply_updates(ledger, upd(("villages:V2", "connected", "2026-04-01", "")))
    before = digest(ledger)
    bad = upd(
        ("villages:V1", "planned", "2026-05-01", "fine on its own"),
        ("villages:V9", "planned", "2026-05-01", ""),  # unknown id
        ("villages:V2", "planned", "2026-05-02", ""),  # backwards from connected
        ("schools:S1", "planned", "2026/13/01", ""),  # malformed date (month 13; 2026/5/1 is a date)
        ("schools:S3", "done", "2026-05-01", ""),  # unknown status
        ("villages:V2", "verified", "2026-03-01", ""),  # before the last change of V2
    )
    with pytest.raises(LedgerError) as info:
        apply_updates(ledger, bad, source="field.csv")
    problems = info.value.problems
    assert [(p.row, p.column) for p in problems] == [(2, "id"), (3, "status"), (4, "date"), (5, "status"), (6, "date")]
    assert "unknown id `villages:V9`" in str(info.value)
    assert "goes backwards" in str(info.value)
    assert all(p.file == "field.csv" for p in problems)
    assert digest(ledger) == before  # nothing applied, not even row 1


def test_force_allows_going_backwards(ledger: Path) -> None:
    apply_updates(ledger, upd(("villages:V2", "connected", "2026-04-01", "")))
    apply_updates(ledger, upd(("villages:V2", "planned", "2026-04-02", "fibre cut")), force=True)
    assert read_ledger(ledger).set_index("id").loc["villages:V2", "status"] == "planned"
    hist = read_history(ledger)
    last = hist[hist["id"] == "villages:V2"].iloc[-1]
    assert (last["old"], last["new"]) == ("completed", "planned")


def test_ambiguous_plain_id_is_refused(tmp_path: Path) -> None:
    r = rows()
    r.loc[0, "id"] = "villages:S1"  # same plain id as schools:S1
    path = create_ledger(r, tmp_path / "l.gpkg", date=D0)
    with pytest.raises(LedgerError, match="matches"):
        apply_updates(path, upd(("S1", "planned", "2026-02-01", "")))


def _child(ledger: Path, script: str, *args: str) -> subprocess.Popen:
    code = textwrap.dedent(script)
    return subprocess.Popen(
        [sys.executable, "-c", code, str(ledger), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


_KILL_SCRIPT = """
import os, signal, sys
import pandas as pd
import planning.status.ledger_updates as L
calls = []
real = L._write
def dying(*a, **k):
    n = real(*a, **k)
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)   # die mid-transaction, after three rows were written
    return n
L._write = dying
ids = ["villages:V1", "villages:V2", "schools:S1", "schools:S2", "schools:S3"]
L.apply_updates(sys.argv[1], pd.DataFrame({"id": ids, "status": "planned", "date": "2026-06-01", "note": "x"}))
"""


def test_kill_during_update_leaves_previous_state(ledger: Path) -> None:
    apply_updates(ledger, upd(("villages:V1", "planned", "2026-02-01", "")))
    before = digest(ledger)
    proc = _child(ledger, _KILL_SCRIPT)
    proc.wait(timeout=120)
    assert proc.returncode == -9, proc.stderr.read()
    assert digest(ledger) == before
    # the ledger still works: the interrupted update can be applied again
    res = apply_updates(ledger, upd(("schools:S1", "planned", "2026-06-01", "again")))
    assert res.applied == 1


_SLOW_SCRIPT = """
import sys, time
from pathlib import Path
import pandas as pd
import planning.status.ledger_updates as L
real = L._write
def slow(*a, **k):
    Path(sys.argv[2]).touch()     # the write lock is held from here on
    time.sleep(0.3)
    return real(*a, **k)
L._write = slow
ids = sys.argv[3].split(",")
L.apply_updates(sys.argv[1], pd.DataFrame({"id": ids, "status": "planned", "date": "2026-06-01", "note": sys.argv[4]}))
"""

_PLAIN_SCRIPT = """
import sys
import pandas as pd
import planning.status.ledger_updates as L
ids = sys.argv[2].split(",")
L.apply_updates(sys.argv[1], pd.DataFrame({"id": ids, "status": "planned", "date": "2026-06-02", "note": "second"}))
"""


def test_concurrent_updates_serialise_and_both_apply(ledger: Path, tmp_path: Path) -> None:
    marker = tmp_path / "locked"
    first = _child(ledger, _SLOW_SCRIPT, str(marker), "villages:V1,villages:V2,schools:S1", "first")
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert first.poll() is None, first.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    second = _child(ledger, _PLAIN_SCRIPT, "schools:S2,schools:S3")
    assert first.wait(timeout=120) == 0, first.stderr.read()
    assert second.wait(timeout=120) == 0, second.stderr.read()
    led = read_ledger(ledger).set_index("id")
    five = ["villages:V1", "villages:V2", "schools:S1", "schools:S2", "schools:S3"]
    assert set(led.loc[five, "status"]) == {"planned"}
    assert led.loc["schools:S4", "status"] == "unconnected"
    assert led.loc["schools:S2", "note"] == "second"
    hist = read_history(ledger)
    updates = hist[hist["source"] == "update"]
    assert len(updates) == 5
    # serialised: all of the first update's events come before the second's
    assert list(updates["note"]) == ["first"] * 3 + ["second"] * 2


def test_jilin_2019_totals() -> None:
    t = read_official_counts(JILIN)
    assert len(t) == 38
    assert t["unconnected_schools"].sum() == 612
    by_city = t.groupby("city")["unconnected_schools"].sum().to_dict()
    assert by_city == {
        "长春": 134,
        "吉林": 55,
        "四平": 142,
        "辽源": 33,
        "通化": 3,
        "白山": 25,
        "松原": 147,
        "白城": 68,
        "延边": 4,
        "长白山": 0,
        "梅河口": 1,
        "公主岭": 0,
    }
    assert t.set_index("unit").loc["临江", "unconnected_schools"] == 19


def test_reconcile_with_official_table(tmp_path: Path) -> None:
    r = pd.concat(
        [
            rows(4, "临江市"),
            rows(3, "抚松县").assign(id=lambda f: f["id"] + "b"),
            rows(2, "某新县").assign(id=lambda f: f["id"] + "c"),
        ],
        ignore_index=True,
    )
    path = create_ledger(gpd.GeoDataFrame(r, crs=CRS_M), tmp_path / "l.gpkg", date=D0)
    apply_updates(path, upd(("schools:S1", "connected", "2026-03-01", "")))
    counts = ledger_school_counts(path)
    # schools lacking a connection, not yet connected: 临江 4-1 (outlet only) -1 (now connected) = 2
    assert counts.to_dict() == {"临江市": 2, "抚松县": 2, "某新县": 1}
    rec = reconcile(counts, read_official_counts(JILIN)).set_index("county")
    assert rec.loc["临江", "official"] == 19
    assert rec.loc["临江", "ledger"] == 2
    assert rec.loc["临江", "difference"] == -17
    assert rec.loc["抚松", "difference"] == -2
    assert pd.isna(rec.loc["某新县", "official"])  # in the ledger, not in the table
    assert rec["official"].sum() == 612
    # as of creation, S1 was still unconnected
    assert ledger_school_counts(path, at=D0).to_dict()["临江市"] == 3


def test_official_table_bad_rows(tmp_path: Path) -> None:
    bad = tmp_path / "c.csv"
    bad.write_text("city,county,unconnected_schools\n长春,九台,2\n长春,榆树,-1\n长春,德惠,x\n", encoding="utf-8")
    with pytest.raises(LedgerError) as info:
        read_official_counts(bad)
    assert [p.row for p in info.value.problems] == [2, 3]
    assert "榆树" in str(info.value)


def test_cli_update_diff_reconcile(ledger: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "good.csv"
    good.write_text("id,status,date,note\nV1,planned,2026-02-01,批次1\n", encoding="utf-8")
    res = runner.invoke(cli, ["ledger", "update", str(ledger), str(good)])
    assert res.exit_code == 0, res.output
    assert "1 row(s) updated" in res.output
    bad = tmp_path / "bad.csv"
    bad.write_text("id,status,date,note\nV1,unconnected,2026-02-03,\nV7,planned,2026-02-03,\n", encoding="utf-8")
    before = digest(ledger)
    res = runner.invoke(cli, ["ledger", "update", str(ledger), str(bad)])
    assert res.exit_code == 2
    assert "goes backwards" in res.output
    assert "unknown id `V7`" in res.output
    assert "ledger is unchanged" in res.output
    assert digest(ledger) == before
    res = runner.invoke(cli, ["ledger", "diff", str(ledger), "--from", "2026-01-10", "--to", "2026-02-01"])
    assert res.exit_code == 0, res.output
    assert "villages:V1" in res.output
    assert "unconnected -> planned: 1" in res.output
    res = runner.invoke(cli, ["ledger", "diff", str(ledger), "--from", "2026-13-01", "--to", "2026-02-01"])
    assert res.exit_code == 2
    res = runner.invoke(cli, ["ledger", "reconcile", str(ledger), str(JILIN)])
    assert res.exit_code == 0, res.output
    assert "DIFF 白山 临江: official 19, ledger 3 (-16)" in res.output
    assert "total: official 612, ledger 3" in res.output
    res = runner.invoke(cli, ["ledger", "show", str(ledger), "--at", "2026-01-31"])
    assert res.exit_code == 0
    assert "unconnected 6" in res.output


def test_missing_columns_and_files(tmp_path: Path, ledger: Path) -> None:
    runner = CliRunner()
    f = tmp_path / "u.csv"
    f.write_text("id,state,date\nV1,planned,2026-02-01\n", encoding="utf-8")
    res = runner.invoke(cli, ["ledger", "update", str(ledger), str(f)])
    assert res.exit_code == 2
    assert "missing column(s) ['status']" in res.output
    res = runner.invoke(cli, ["ledger", "show", str(tmp_path / "none.gpkg")])
    assert res.exit_code == 2
    assert "does not exist" in res.output
    assert os.path.exists(ledger)


_KILL_SPILLING_SCRIPT = """
import os, signal, sys, sqlite3
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA cache_size = 1")          # spill changed pages to the file before the commit
con.execute("BEGIN IMMEDIATE")
for i in range(200):
    con.execute("UPDATE ledger SET note = ? ", ("x" * 2000 + str(i),))
con.execute("INSERT INTO ledger_history (id, event_date, field, old, new, note, source, recorded_at) "
            "VALUES ('villages:V1', '2026-06-01', 'status', 'planned', 'verified', 'half', 'kill', 'now')")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_after_a_kill_show_update_and_diff_recover_the_previous_state(ledger: Path) -> None:
    apply_updates(ledger, upd(("villages:V1", "planned", "2026-02-01", "")))
    before = digest(ledger)
    proc = _child(ledger, _KILL_SPILLING_SCRIPT)
    proc.wait(timeout=120)
    assert proc.returncode == -9, proc.stderr.read()
    assert Path(f"{ledger}-journal").exists()  # a hot journal: GDAL's read-only open failed on it ("readonly")
    runner = CliRunner()
    res = runner.invoke(cli, ["ledger", "show", str(ledger)])
    assert res.exit_code == 0, res.output
    assert "planned 1" in res.output
    assert "unconnected 5" in res.output
    assert digest(ledger) == before
    res = runner.invoke(cli, ["ledger", "diff", str(ledger), "--from", "2026-01-10", "--to", "2026-06-30"])
    assert res.exit_code == 0, res.output
    assert "1 row(s) changed" in res.output
    good = ledger.parent / "u.csv"
    good.write_text("id,status,date,note\nS1,planned,2026-06-01,again\n", encoding="utf-8")
    assert runner.invoke(cli, ["ledger", "update", str(ledger), str(good)]).exit_code == 0


_HOLD_SCRIPT = """
import sqlite3, sys, time
from pathlib import Path
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")               # no reader or writer gets in while this is held
Path(sys.argv[2]).touch()
time.sleep(float(sys.argv[3]))
con.execute("COMMIT")
"""


def _hold(ledger: Path, tmp_path: Path, seconds: float) -> subprocess.Popen:
    marker = tmp_path / f"held-{time.monotonic_ns()}"
    proc = _child(ledger, _HOLD_SCRIPT, str(marker), str(seconds))
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return proc


def test_update_and_show_wait_for_another_process_lock(ledger: Path, tmp_path: Path) -> None:
    holder = _hold(ledger, tmp_path, 1.5)
    t0 = time.monotonic()
    good = tmp_path / "u.csv"
    good.write_text("id,status,date,note\nS2,planned,2026-03-01,\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["ledger", "update", str(ledger), str(good)])
    assert res.exit_code == 0, res.output
    assert time.monotonic() - t0 >= 1.0  # it waited for the lock rather than failing with "database is locked"
    assert holder.wait(timeout=60) == 0
    assert read_ledger(ledger).set_index("id").loc["schools:S2", "status"] == "planned"
    # a lock held longer than the wait: a clear error naming the file, the ledger unchanged
    holder = _hold(ledger, tmp_path, 3.0)
    with pytest.raises(LedgerError, match=r"ledger `.*ledger.gpkg`: it stayed locked by another process"):
        apply_updates(ledger, upd(("schools:S3", "planned", "2026-03-02", "")), timeout_s=0.3)
    assert holder.wait(timeout=60) == 0
    assert read_ledger(ledger).set_index("id").loc["schools:S3", "status"] == "unconnected"


def test_a_date_in_the_future_is_refused(ledger: Path) -> None:
    with pytest.raises(LedgerError) as info:
        apply_updates(ledger, upd(("S1", "connected", "2099-01-01", "typo")), today=dt.date(2026, 11, 30))
    (p,) = info.value.problems
    assert (p.row, p.column) == (1, "date")
    assert "2099-01-01 is in the future (today is 2026-11-30)" in p.message
    assert apply_updates(ledger, upd(("S1", "planned", "2026-11-30", "")), today=dt.date(2026, 11, 30)).applied == 1


@pytest.mark.parametrize("content", ["truncated", "text", "plain_sqlite", "empty"])
def test_a_file_that_is_not_a_ledger_exits_2_naming_it(ledger: Path, tmp_path: Path, content: str) -> None:

    bad = tmp_path / f"{content}.gpkg"
    if content == "truncated":
        bad.write_bytes(ledger.read_bytes()[:3000])
    elif content == "text":
        bad.write_text("这不是一个数据库\n", encoding="utf-8")
    elif content == "plain_sqlite":
        con = sqlite3.connect(bad)
        con.execute("CREATE TABLE t (x)")
        con.close()
    else:
        bad.write_bytes(b"")
    runner = CliRunner()
    for args in (
        ["show", str(bad)],
        ["diff", str(bad), "--from", "2026-01-01", "--to", "2026-02-01"],
        ["update", str(bad), str(tmp_path / "u.csv")],
    ):
        (tmp_path / "u.csv").write_text("id,status,date,note\nS1,planned,2026-02-01,\n", encoding="utf-8")
        res = runner.invoke(cli, ["ledger", *args])
        assert res.exit_code == 2, (args, res.output)
        assert str(bad) in res.output
        assert "Traceback" not in res.output


@pytest.mark.parametrize(
    ("content", "encoding", "expected"),
    [
        ("city,county,unconnected_schools\n白山,临江,19\n", "gbk", None),
        ("", "utf-8", "the file is empty"),
        ('city,county,unconnected_schools\n白山,"临江,19\n', "utf-8", "is not a readable CSV"),
        ("city,county,unconnected_schools\n白山,临江,19\n", "utf-16", None),
    ],
)
def test_reconcile_reads_gbk_and_refuses_broken_counts(
    ledger: Path, tmp_path: Path, content: str, encoding: str, expected: str | None
) -> None:
    counts = tmp_path / "counts.csv"
    text = content.replace(",", "\t") if encoding == "utf-16" else content
    counts.write_bytes(text.encode(encoding))
    res = CliRunner().invoke(cli, ["ledger", "reconcile", str(ledger), str(counts)])
    if expected is None:
        assert res.exit_code == 0, res.output
        assert "DIFF 白山 临江: official 19, ledger 3 (-16)" in res.output
    else:
        assert res.exit_code == 2, res.output
        assert expected in res.output
        assert str(counts) in res.output
        assert "Traceback" not in res.output


@pytest.mark.parametrize("bad", ["lost", None])
def test_a_row_with_an_unknown_or_null_status_is_named_by_show_and_update(ledger: Path, tmp_path: Path, bad) -> None:
    con = sqlite3.connect(ledger)
    con.execute("UPDATE ledger SET status = ? WHERE id = 'schools:S2'", (bad,))
    con.commit()
    con.close()
    with pytest.raises(LedgerError, match="1 row") as info:
        read_ledger(ledger)
    (p,) = info.value.problems
    assert (p.file, p.row, p.row_id, p.column) == (str(ledger), 4, "schools:S2", "status")
    assert (f"status {bad!r} is not a ledger status" if bad else "status is empty (NULL)") in p.message
    before = digest_raw(ledger)
    updates = tmp_path / "u.csv"
    updates.write_text("id,status,date\nS1,planned,2026-02-01\n", encoding="utf-8")
    runner = CliRunner()
    for args in (
        ["show", str(ledger)],
        ["update", str(ledger), str(updates)],
        ["show", str(ledger), "--at", "2026-02-01"],
    ):
        res = runner.invoke(cli, ["ledger", *args])
        assert res.exit_code == 2, (args, res.output)
        assert "schools:S2" in res.output
        assert "Traceback" not in res.output
    assert digest_raw(ledger) == before


def digest_raw(path: Path) -> list:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT id, status, note FROM ledger ORDER BY id").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("note", ["批次\x00一", "esc\x1b[31m", "bad\uffff"])
def test_control_characters_in_an_update_are_refused(ledger: Path, note: str) -> None:
    before = digest(ledger)
    with pytest.raises(LedgerError) as info:
        apply_updates(ledger, upd(("S1", "planned", "2026-02-01", note)))
    (p,) = info.value.problems
    assert (p.row, p.row_id, p.column) == (1, "S1", "note")
    assert "expected printable text" in p.message
    assert digest(ledger) == before


def test_an_update_row_with_missing_fields_says_empty(ledger: Path, tmp_path: Path) -> None:
    f = tmp_path / "u.csv"
    f.write_text("id,status,date,note\nS1,planned\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["ledger", "update", str(ledger), str(f)])
    assert res.exit_code == 2, res.output
    assert "column `date`: is empty; expected YYYY-MM-DD" in res.output
    assert "nan" not in res.output


def test_show_of_a_folder_says_it_is_a_folder_and_a_pipe_never_hangs(ledger: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["ledger", "show", str(tmp_path)])
    assert res.exit_code == 2
    assert "is a directory; expected a ledger .gpkg file" in res.output
    fifo = tmp_path / "updates.csv"
    os.mkfifo(fifo)
    for args in (["update", str(ledger), str(fifo)], ["reconcile", str(ledger), str(fifo)]):
        res = CliRunner().invoke(cli, ["ledger", *args])
        assert res.exit_code == 2, res.output
        assert "is a named pipe (FIFO); expected a regular file" in res.output


@pytest.mark.parametrize(
    ("count", "shown"),
    [("1e300", "`1e300` is not a count"), ("100000000000000000000000", "is not a count"), ("1000001", "not a count")],
)
def test_reconcile_refuses_counts_beyond_any_province(ledger: Path, tmp_path: Path, count: str, shown: str) -> None:
    counts = tmp_path / "counts.csv"
    counts.write_text(f"city,county,unconnected_schools\n白山,临江,{count}\n白山,抚松,3\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["ledger", "reconcile", str(ledger), str(counts)])
    assert res.exit_code == 2, res.output
    assert shown in res.output
    assert "expected a whole number from 0 to 1,000,000" in res.output
    assert "nothing was applied" not in res.output
    assert "total:" not in res.output  # refused: no overflowed negative total printed


def test_reconcile_names_short_rows_and_duplicate_units(ledger: Path, tmp_path: Path) -> None:
    counts = tmp_path / "counts.csv"
    counts.write_text("city,county,unconnected_schools\n白山,临江\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["ledger", "reconcile", str(ledger), str(counts)])
    assert res.exit_code == 2, res.output
    assert "column `unconnected_schools`: is empty" in res.output
    counts.write_text("city,county,unconnected_schools\n,,3\n白山,临江,1\n,,4\n", encoding="utf-8")
    with pytest.raises(LedgerError) as info:
        read_official_counts(counts)
    assert [(p.row, p.column) for p in info.value.problems] == [(1, "county"), (3, "county")]
    counts.write_text("city,county,unconnected_schools\n白山,临江,3\n白山,抚松,1\n白山,临江市,4\n", encoding="utf-8")
    with pytest.raises(LedgerError, match=r"counties appear twice \(`临江` in rows 1, 3\)"):
        read_official_counts(counts)


def test_cli_back_fill_and_diff_over_it(ledger: Path, tmp_path: Path) -> None:
    """`ledger update` back-fills a first report dated before the ledger; `ledger diff` over that date shows the row
    as new, reversed dates exit 2, and no line says `nan`."""
    runner = CliRunner()
    report = tmp_path / "report.csv"
    report.write_text("id,status,date,note\nS1,completed,2025-06-15,已开通\n", encoding="utf-8")
    res = runner.invoke(cli, ["ledger", "update", str(ledger), str(report)])
    assert res.exit_code == 0, res.output
    assert "1 row(s) updated" in res.output
    res = runner.invoke(cli, ["ledger", "diff", str(ledger), "--from", "2025-06-01", "--to", "2026-02-01"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "schools:S1\tn2\t临江市\t(new) -> completed" in lines
    assert "(new) -> completed: 1; (new) -> unconnected: 5" in lines
    assert "nan" not in res.output
    res = runner.invoke(cli, ["ledger", "diff", str(ledger), "--from", "2026-02-01", "--to", "2025-06-01"])
    assert res.exit_code == 2
    assert "`--from` 2026-02-01 is after `--to` 2025-06-01" in res.output
    res = runner.invoke(cli, ["ledger", "show", str(ledger), "--at", "2025-12-31"])
    assert res.exit_code == 0, res.output
    assert "临江市: completed 1" in res.output
