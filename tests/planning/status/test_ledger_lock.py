"""One advisory lock for every coverplan writer of a PostGIS ledger: two counties' updates queue, one after the
other, rather than interleave (two connections on a throwaway cluster, conftest.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

from planning.status import ledger_pg  # noqa: E402
from planning.status.ledger import LedgerError, create_ledger, read_history, read_ledger  # noqa: E402
from planning.status.ledger_updates import apply_updates  # noqa: E402
from tests.planning.status.test_ledger_lifecycle import upd  # noqa: E402
from tests.planning.status.test_ledger_pg import D0, two_county_rows  # noqa: E402


@pytest.fixture
def url(pg_database: Callable[..., str], tmp_path: Path) -> str:
    gpkg = create_ledger(two_county_rows(), tmp_path / "ledger.gpkg", date=D0)
    u = pg_database()
    ledger_pg.import_ledger(u, read_ledger(gpkg), read_history(gpkg), source=gpkg.name)
    return u


def _waiting_on_advisory_lock(url: str) -> bool:
    with psycopg.connect(url) as con:
        (n,) = con.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone() or (
            0,
        )
    return n > 0


def test_a_second_countys_update_waits_for_the_first_and_follows_it(url: str) -> None:
    """Linjiang's writer holds the lock; Fusong's update waits (nothing of it visible), then runs after it."""
    first = ledger_pg.connect(url)
    done: dict[str, object] = {}
    try:
        with first.transaction():
            ledger_pg.lock_writers(first)
            first.execute(
                "INSERT INTO ledger_events (id, event_date, field, old, new, note, source) "
                "VALUES ('villages:V1', '2026-03-01', 'status', NULL, 'planned', 'linjiang', 'test')"
            )

            def fusong() -> None:
                try:
                    done["result"] = apply_updates(
                        url, upd({"id": "schools:S1", "status": "planned", "date": "2026-03-02", "note": "fusong"})
                    )
                except Exception as exc:  # the test reports what the thread met
                    done["error"] = exc

            thread = threading.Thread(target=fusong)
            thread.start()
            deadline = time.monotonic() + 30
            while not _waiting_on_advisory_lock(url) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _waiting_on_advisory_lock(url), "the second writer should wait on the writers' lock"
            assert thread.is_alive()
            hist = ledger_pg.read_history(url)
            assert "fusong" not in set(hist["note"])  # nothing of the waiting update is written yet
        thread.join(60)
    finally:
        first.close()
    assert "error" not in done, done.get("error")
    hist = ledger_pg.read_history(url)
    ours = hist[hist["note"].isin(["linjiang", "fusong"])]
    assert list(ours["note"]) == ["linjiang", "fusong"]  # queued: the first writer's event, then the second's
    assert ours["event_id"].is_monotonic_increasing
    state = read_ledger(url).set_index("id")["status"]
    assert state["villages:V1"] == "planned"
    assert state["schools:S1"] == "planned"


def test_a_writer_that_waits_too_long_is_refused_whole(url: str) -> None:
    first = ledger_pg.connect(url)
    try:
        with first.transaction():
            ledger_pg.lock_writers(first)
            with pytest.raises(LedgerError, match=r"stayed locked by another writer.*nothing was changed"):
                apply_updates(url, upd({"id": "schools:S1", "status": "planned", "date": "2026-03-02"}), timeout_s=1)
            # any coverplan write transaction queues on the same lock
            with pytest.raises(LedgerError, match="stayed locked"), ledger_pg.transaction(url, timeout_s=1):
                pass
    finally:
        first.close()
    assert read_ledger(url).set_index("id").at["schools:S1", "status"] == "unconnected"
    apply_updates(url, upd({"id": "schools:S1", "status": "planned", "date": "2026-03-02"}))  # free again
    assert read_ledger(url).set_index("id").at["schools:S1", "status"] == "planned"
