"""``coverplan ledger show|update|diff|reconcile``: the ledger (台账) of unconnected villages and schools."""

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
    apply_updates,
    diff,
    ledger_school_counts,
    parse_date,
    read_ledger,
    read_official_counts,
    read_updates,
    reconcile,
    state_at,
)


@click.group()
def ledger() -> None:
    """The ledger (台账) of unconnected villages and schools: show, update, diff, reconcile."""


def _date_arg(value: str, name: str) -> dt.date:

    d = parse_date(value)
    if d is None:
        fail(f"`{name}` = {value!r}; expected a date YYYY-MM-DD")
    return d


@ledger.command("show")
@ledger_arg
@at_opt
def ledger_show(ledger_file: Path, at: str | None) -> None:
    """Counts of LEDGER_FILE by county and status (now, or --at a past date)."""

    frame = state_at(ledger_file, _date_arg(at, "--at")) if at else read_ledger(ledger_file)
    counts = frame.groupby(["county", "status"]).size().unstack(fill_value=0)
    title = f"{ledger_file.name}{' at ' + at if at else ''}: {len(frame)} rows"
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
def ledger_update(ledger_file: Path, updates_file: Path, force: bool) -> None:
    """Apply field reports UPDATES_FILE to LEDGER_FILE, all or nothing.

    CSV columns: id, status (unconnected, planned, under_construction, completed, accepted, excluded), date
    (YYYY-MM-DD), optional note, measured_mbps (required to accept a school: the acceptance test's outlet) and
    reason (required to exclude: relocated, merged, other_programme). Dates follow each row's last change, except
    that a row's first report may be dated before the row was entered in the ledger (a back-fill: the row then
    holds that status from that date).
    """

    about(outcome="the ledger is unchanged")
    # the ledger is the file updated, the reports an input: never the same file
    check_output_file(ledger_file, reads=[updates_file], overwrite=True, what="LEDGER_FILE")
    res = apply_updates(ledger_file, read_updates(updates_file), force=force, source=updates_file.name)
    click.echo(
        f"{ledger_file}: {res.applied} row(s) updated, {res.unchanged} unchanged, {res.events} event(s) recorded"
    )


@ledger.command("diff")
@ledger_arg
@click.option("--from", "date_from", required=True, help="First date (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, help="Second date (YYYY-MM-DD).")
def ledger_diff(ledger_file: Path, date_from: str, date_to: str) -> None:
    """Rows of LEDGER_FILE whose status changed between two dates."""

    d_from, d_to = _date_arg(date_from, "--from"), _date_arg(date_to, "--to")
    if d_from > d_to:
        fail(f"`--from` {date_from} is after `--to` {date_to}; expected the earlier date first")
    d = diff(ledger_file, d_from, d_to)
    click.echo(f"{ledger_file}: {len(d)} row(s) changed between {date_from} and {date_to}")
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
def ledger_reconcile(ledger_file: Path, counts_file: Path, at: str | None) -> None:
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
