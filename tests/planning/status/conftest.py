"""A throwaway PostgreSQL + PostGIS cluster for the PostGIS ledger tests, started once per session.

``initdb`` into a private temporary folder, the server listening only on a unix socket there (no TCP port to
collide with), trust authentication (the folder is private), stopped and removed at the end. As root the cluster
runs as the ``postgres`` system user (the server refuses to run as root). Without a server (no ``initdb``, no
PostGIS) the tests skip with the reason; when ``CI`` is set a missing server is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

SUPERUSER = "coverplan_test"


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(dirs[-1]).parent if dirs else None


def _no_server(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL test server: {reason} (CI is set: a skip would hide the PostGIS tests)")
    pytest.skip(f"no PostgreSQL test server: {reason}")


class PgCluster:
    """The running test cluster: ``url(db, user)`` names a database as a role."""

    def __init__(self, socket_dir: Path) -> None:
        self.socket_dir = socket_dir
        self._n = 0

    def url(self, db: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@/{db}?host={self.socket_dir}&port=5432"

    def new_database(self) -> str:
        """A new empty database (its name)."""
        self._n += 1
        name = f"ledger_{os.getpid()}_{self._n}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        return name


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bindir = _bin_dir()
    if bindir is None:
        _no_server("`initdb` not found (install postgresql and postgresql-15-postgis-3)")
    assert bindir is not None
    if not glob.glob(str(bindir.parents[2] / "../../share/postgresql/*/extension/postgis.control")) and not glob.glob(
        "/usr/share/postgresql/*/extension/postgis.control"
    ):
        _no_server("PostGIS is not installed (postgresql-15-postgis-3)")
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _no_server("running as root and there is no `postgres` user to run the server as")
        run_as = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="cp-pg-"))
    if run_as:
        shutil.chown(folder, "postgres")
    data, log = folder / "data", folder / "server.log"
    started = False
    try:
        try:
            subprocess.run(
                [*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8"],
                check=True,
                capture_output=True,
                timeout=120,
            )
            opts = f"-k {folder} -c listen_addresses='' -c fsync=off -c full_page_writes=off -c max_connections=60"
            subprocess.run(
                [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "start"],
                check=True,
                capture_output=True,
                timeout=120,
            )
            started = True
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
            _no_server(f"the server did not start ({exc}; {detail.decode(errors='replace')[-300:]} {tail})")
        yield PgCluster(folder)
    finally:
        if started:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(
                    [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_database(pg_cluster: PgCluster) -> Callable[..., str]:
    """``pg_database()``: a new empty database, its URL (as the cluster's superuser)."""
    return lambda: pg_cluster.url(pg_cluster.new_database())
