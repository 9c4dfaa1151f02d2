"""``coverplan ledger init|migrate|show|list|update|diff|reconcile|export|import``: the ledger (台账) of
unconnected villages and schools, a GeoPackage file or a PostgreSQL + PostGIS database (``postgresql://...``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from gis.outdir import check_output_file
from planning.cli.common import about, fail
from planning.cli.options import at_opt, ledger_arg
from planning.status import (
    STATUSES,
    apply_updates,
    diff,
    export_xlsx,
    import_ledger,
    import_xlsx,
    is_ledger_url,
    ledger_school_counts,
    migrate,
    parse_date,
    read_history,
    read_ledger,
    read_official_counts,
    read_updates,
    reconcile,
    shown_url,
    state_at,
    status_name,
)


@click.group()
def ledger() -> None:
    """The ledger (台账) of unconnected villages and schools: init, migrate, show, list, update, diff, reconcile.

    LEDGER_FILE is a GeoPackage file or a PostgreSQL ledger's URL (postgresql://user@host/database).
    """


def _name(location: Path | str) -> str:
    """A ledger's name for messages: the file's name, or the URL with its password masked."""
    return shown_url(location) if isinstance(location, str) else location.name


def _shown(location: Path | str) -> str:
    """A ledger's location for messages: the file's path, or the URL with its password masked."""
    return shown_url(location) if isinstance(location, str) else str(location)


def _url(location: Path | str, command: str) -> str:
    if not isinstance(location, str) or not is_ledger_url(location):
        fail(f"`ledger {command}` takes a PostgreSQL ledger's URL (postgresql://user@host/db); got `{location}`")
    return str(location)


@ledger.command("init")
@ledger_arg
@click.option(
    "--from",
    "from_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Copy this GeoPackage ledger (rows and its whole history) into the new one.",
)
def ledger_init(ledger_file: Path | str, from_file: Path | None) -> None:
    """Create the ledger schema (PostGIS) in the empty database LEDGER_FILE (a postgresql:// URL), optionally
    with a GeoPackage ledger's rows and history, in one transaction."""

    url = _url(ledger_file, "init")
    about(outcome="the database is unchanged")
    if from_file is None:
        done = migrate(url, init=True)
        click.echo(f"{shown_url(url)}: ledger created (schema version {done[-1]})")
        return
    table, hist = read_ledger(from_file), read_history(from_file)
    n = import_ledger(url, table, hist, source=from_file.name)
    click.echo(f"{shown_url(url)}: ledger created from {from_file.name}: {len(table)} row(s), {n} event(s)")


@ledger.command("migrate")
@ledger_arg
def ledger_migrate(ledger_file: Path | str) -> None:
    """Bring the PostgreSQL ledger LEDGER_FILE to this coverplan's schema version (one transaction)."""

    url = _url(ledger_file, "migrate")
    about(outcome="the database is unchanged")
    done = migrate(url, init=False)
    click.echo(f"{shown_url(url)}: " + (f"applied schema version(s) {done}" if done else "schema is current"))


@ledger.command("list")
@ledger_arg
@at_opt
@click.option("--county", default=None, help="Only this county (its name with or without 市/县/区).")
@click.option("--status", "status", default=None, help="Only this status (English or Chinese: 规划, 在建, 竣工 ...).")
@click.option("--operator", default=None, help="Only rows of this operator (PostgreSQL ledger's `operator`).")
def ledger_list(
    ledger_file: Path | str, at: str | None, county: str | None, status: str | None, operator: str | None
) -> None:
    """Every row of LEDGER_FILE with its current status (or --at a past date), tab-separated: id, layer, name,
    county, status, since, batch, remedy."""

    frame = state_at(ledger_file, _date_arg(at, "--at")).reset_index() if at else read_ledger(ledger_file)
    keep = pd.Series(True, index=frame.index)
    if county:
        bare = county.strip().rstrip("市县区")
        keep &= frame["county"].fillna("").str.rstrip("市县区") == bare
    if status:
        name = status_name(status)
        if name not in (*STATUSES, "excluded"):
            fail(f"`--status` = {status!r}; expected one of {[*STATUSES, 'excluded']} or its Chinese word")
        keep &= frame["status"] == name
    if operator:
        have = frame["operator"].fillna("") if "operator" in frame else pd.Series("", index=frame.index)
        keep &= have == operator
    rows = frame[keep]
    click.echo(f"{_name(ledger_file)}{' at ' + at if at else ''}: {len(rows)} of {len(frame)} row(s)")
    for _, r in rows.iterrows():
        batch = pd.to_numeric(pd.Series([r.get("batch")]), errors="coerce").iloc[0]
        click.echo(
            "\t".join(
                [
                    str(r["id"]),
                    _text(r.get("layer")),
                    _text(r.get("name")),
                    _text(r.get("county")),
                    _text(r.get("status")),
                    _text(r.get("status_date")),
                    "" if pd.isna(batch) else f"{batch:g}",
                    _text(r.get("remedy")),
                ]
            )
        )


def _date_arg(value: str, name: str) -> dt.date:

    d = parse_date(value)
    if d is None:
        fail(f"`{name}` = {value!r}; expected a date YYYY-MM-DD")
    return d


@ledger.command("show")
@ledger_arg
@at_opt
def ledger_show(ledger_file: Path | str, at: str | None) -> None:
    """Counts of LEDGER_FILE by county and status (now, or --at a past date)."""

    frame = state_at(ledger_file, _date_arg(at, "--at")) if at else read_ledger(ledger_file)
    counts = frame.groupby(["county", "status"]).size().unstack(fill_value=0)
    title = f"{_name(ledger_file)}{' at ' + at if at else ''}: {len(frame)} rows"
    out = Console()
    if out.is_terminal:  # a table on a terminal, plain lines (for grep and logs) otherwise: never both
        table = Table(title=title)
        table.add_column("county")
        for c in counts.columns:
            table.add_column(str(c), justify="right")
        for county, row in counts.iterrows():
            table.add_row(str(county), *(str(int(x)) for x in row))
        out.print(table)
        return
    click.echo(title)
    for county, row in counts.iterrows():
        click.echo(f"{county}: " + ", ".join(f"{c} {int(x)}" for c, x in row.items()))


@ledger.command("update")
@ledger_arg
@click.argument("updates_file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Allow statuses to go backwards and excluded rows to come back.")
def ledger_update(ledger_file: Path | str, updates_file: Path, force: bool) -> None:
    """Apply field reports UPDATES_FILE to LEDGER_FILE, all or nothing.

    CSV columns: id, status (unconnected, planned, under_construction, completed, accepted, excluded, or in
    Chinese: 未通, 规划, 在建, 竣工, 验收, 核减), date (YYYY-MM-DD, YYYY/M/D or YYYY年M月D日), optional note,
    measured_mbps (required to accept a school: the acceptance test's outlet) and reason (required to exclude:
    relocated, merged, other_programme; or 易地扶贫搬迁, 撤并). Dates follow each row's last change, except that a
    row's first report may be dated before the row was entered in the ledger (a back-fill: the row then holds that
    status from that date)."""

    about(outcome="the ledger is unchanged")
    # the ledger is the file updated, the reports an input: never the same file
    if isinstance(ledger_file, Path):
        check_output_file(ledger_file, reads=[updates_file], overwrite=True, what="LEDGER_FILE")
    res = apply_updates(ledger_file, read_updates(updates_file), force=force, source=updates_file.name)
    click.echo(
        f"{_shown(ledger_file)}: {res.applied} row(s) updated, {res.unchanged} unchanged, "
        f"{res.events} event(s) recorded"
    )


@ledger.command("diff")
@ledger_arg
@click.option("--from", "date_from", required=True, help="First date (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, help="Second date (YYYY-MM-DD).")
def ledger_diff(ledger_file: Path | str, date_from: str, date_to: str) -> None:
    """Rows of LEDGER_FILE whose status changed between two dates."""

    d_from, d_to = _date_arg(date_from, "--from"), _date_arg(date_to, "--to")
    if d_from > d_to:
        fail(f"`--from` {date_from} is after `--to` {date_to}; expected the earlier date first")
    d = diff(ledger_file, d_from, d_to)
    click.echo(f"{_shown(ledger_file)}: {len(d)} row(s) changed between {date_from} and {date_to}")
    if not len(d):
        return
    # a row not in the ledger yet on the first date is "(new)", one gone by the second "(gone)": never "nan"
    shown = pd.DataFrame(
        {
            "name": d["name"].map(_text),
            "county": d["county"].map(_text),
            "status_from": d["status_from"].map(lambda v: _text(v) or "(new)"),
            "status_to": d["status_to"].map(lambda v: _text(v) or "(gone)"),
        },
        index=d.index,
    )
    for rid, row in shown.iterrows():
        click.echo(f"{rid}\t{row['name']}\t{row['county']}\t{row['status_from']} -> {row['status_to']}")
    moves = shown.groupby(["status_from", "status_to"]).size()
    click.echo("; ".join(f"{a} -> {b}: {n}" for (a, b), n in moves.items()))


def _text(value: object) -> str:
    """A ledger cell as text: '' for an empty one (None, NaN)."""
    return value if isinstance(value, str) else ""


@ledger.command("reconcile")
@ledger_arg
@click.argument("counts_file", type=click.Path(path_type=Path))
@at_opt
def ledger_reconcile(ledger_file: Path | str, counts_file: Path, at: str | None) -> None:
    """Compare LEDGER_FILE's unconnected schools per county with an official COUNTS_FILE
    (CSV: city, county, unconnected_schools).

    The ledger counts schools whose missing connection rests on a report or a measurement (the education
    department's own count), not yet completed, not excluded.
    """

    official = read_official_counts(counts_file)
    rec = reconcile(ledger_school_counts(ledger_file, at=_date_arg(at, "--at") if at else None), official)
    out = Console()
    if out.is_terminal:  # the table on a terminal, the differing rows as lines otherwise: never both
        table = Table(title=f"unconnected schools: ledger vs {counts_file.name}")
        for col in ("city", "county", "official", "ledger", "difference"):
            table.add_column(col, justify="right" if col in ("official", "ledger", "difference") else "left")
        for _, r in rec.iterrows():
            table.add_row(
                *("" if pd.isna(r[c]) else str(r[c]) for c in ("city", "county", "official", "ledger", "difference"))
            )
        out.print(table)
    else:
        for _, r in rec[rec["difference"] != 0].iterrows():
            click.echo(
                f"DIFF {'' if pd.isna(r['city']) else r['city']} {r['county']}: official "
                f"{'-' if pd.isna(r['official']) else r['official']}, ledger "
                f"{'-' if pd.isna(r['ledger']) else r['ledger']} ({int(r['difference']):+d})"
            )
    by_city = rec.groupby(rec["city"].fillna("(not in table)"))[["official", "ledger"]].sum()
    for city, r in by_city.iterrows():
        click.echo(f"city {city}: official {int(r['official'])}, ledger {int(r['ledger'])}")
    click.echo(
        f"total: official {int(rec['official'].sum())}, ledger {int(rec['ledger'].sum())}, "
        f"{int((rec['difference'] != 0).sum())} count(ies) differ"
    )


@ledger.command("export")
@ledger_arg
@click.argument("xlsx_file", type=click.Path(path_type=Path))
def ledger_export(ledger_file: Path | str, xlsx_file: Path) -> None:
    """Write LEDGER_FILE's current state as an XLSX 台账 XLSX_FILE (a new file): sheet 台账 with Chinese headers
    (编号, 图层, 名称, 状态, 状态日期, 批次 ... and the MIIT fields), the points' metric coordinates, sheet 说明 with
    their CRS. Text cells are never formulas."""

    about(outcome="nothing written")
    if isinstance(ledger_file, Path):
        check_output_file(xlsx_file, reads=[ledger_file], overwrite=False, what="XLSX_FILE")
    export_xlsx(ledger_file, xlsx_file)
    click.echo(f"{_shown(ledger_file)}: exported to {xlsx_file}")


@ledger.command("import")
@click.argument("xlsx_file", type=click.Path(path_type=Path))
@ledger_arg
def ledger_import(xlsx_file: Path, ledger_file: Path | str) -> None:
    """Create the ledger LEDGER_FILE from the XLSX 台账 XLSX_FILE (as `ledger export` writes it; Chinese statuses
    and dates accepted): a new GeoPackage file, or a PostgreSQL ledger in an empty database (postgresql://...).
    Every row is checked first: a bad cell (file, sheet, row, column, value, what was expected) stops the import
    with exit 2 and nothing is written."""

    about(outcome="nothing written")
    if isinstance(ledger_file, Path):
        check_output_file(ledger_file, reads=[xlsx_file], overwrite=False, what="LEDGER_FILE")
    import_xlsx(xlsx_file, ledger_file)
    click.echo(f"{_shown(ledger_file)}: {len(read_ledger(ledger_file))} row(s) imported from {xlsx_file.name}")
