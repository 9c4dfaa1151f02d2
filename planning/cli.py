"""The ``coverplan`` command line.

Commands: ``validate``, ``run``, ``optimise``, ``demo``, ``synth``, ``calibrate``,
``ledger show|update|diff|reconcile``. Exit codes: 0 success, 2 bad input (every problem
listed: file, layer, row, id, column, what was expected) or an output folder that exists without
``--overwrite``, 1 an unexpected failure.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from gis.errors import LayerError, Problem, ProjectError
from gis.project import load_project
from planning.import_cli import import_group
from planning.pipeline import OutputExistsError, prepare_output, run_pipeline

logger = logging.getLogger(__name__)

EXIT_BAD_INPUT = 2
DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"

console = Console(stderr=True)


def _problem_table(problems: list[Problem], *, title: str) -> Table:
    table = Table(title=title, show_lines=False, expand=False)
    for col in ("severity", "file", "layer", "row", "id", "column", "problem"):
        table.add_column(col, overflow="fold")
    for p in problems:
        table.add_row(
            p.severity,
            Path(p.file).name if p.file else "",
            p.layer,
            "" if p.row is None else str(p.row),
            p.row_id or "",
            p.column or "",
            p.message,
        )
    return table


def _report_problems(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if errors:
        console.print(_problem_table(errors, title=f"{len(errors)} error(s)"))
    if warnings:
        console.print(_problem_table(warnings[:100], title=f"{len(warnings)} warning(s)"))
    # plain lines too, for logs and grep
    for p in errors:
        click.echo(f"ERROR {p}", err=True)


def _fail(message: str) -> None:
    click.echo(f"coverplan: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


class _Steps:
    """A rich progress display of named steps (progress bars only in the CLI)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.status = None

    def __enter__(self) -> _Steps:
        if self.enabled:
            self.status = console.status("starting")
            self.status.__enter__()
        return self

    def __call__(self, step: str) -> None:
        if self.status is not None:
            self.status.update(f"[bold]{step}[/bold]")
        logger.info("step: %s", step)

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("-q", "--quiet", count=True, help="Less output (errors only).")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """coverplan: rural telecom coverage gaps, fibre reach and universal-service pilot planning."""
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(
        level=max(logging.DEBUG, min(level, logging.CRITICAL)),
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
        force=True,
    )
    logging.getLogger("pyogrio").setLevel(max(logging.WARNING, level))
    ctx.obj = {"quiet": quiet > 0}


@cli.command()
@click.argument("project_file", type=click.Path(path_type=Path))
def validate(project_file: Path) -> None:
    """Check every layer and the terrain of PROJECT_FILE; list all problems (exit 2 if any error)."""
    from gis.inputs import load_inputs

    try:
        project = load_project(project_file)
        inputs = load_inputs(project)
    except ProjectError as exc:
        _fail(str(exc))
    except LayerError as exc:
        _report_problems(list(exc.problems))
        _fail(f"{project_file}: {sum(p.severity == 'error' for p in exc.problems)} error(s)")
    if inputs.warnings:
        _report_problems(list(inputs.warnings))
    counts = ", ".join(f"{len(f)} {n}" for n, f in inputs.layers.frames.items())
    click.echo(f"{project_file}: valid ({counts}; metric CRS {inputs.layers.crs.to_string()})")


def _run(project_file: Path, out: Path, overwrite: bool, quiet: bool, *, budget_cny: float | None = None,
         target_share: float | None = None, offline: bool | None = None, dask: str | bool | None = None) -> None:
    try:
        project = load_project(project_file)
        with _Steps(enabled=not quiet and sys.stderr.isatty()) as steps:
            result = run_pipeline(project, out, overwrite=overwrite, progress=steps, budget_cny=budget_cny,
                                  target_share=target_share, offline=offline, dask=dask)
    except ProjectError as exc:
        _fail(str(exc))
    except LayerError as exc:
        _report_problems(list(exc.problems))
        _fail(f"{project_file}: {sum(p.severity == 'error' for p in exc.problems)} error(s); nothing written")
    except OutputExistsError as exc:
        _fail(str(exc))
    total = sum(result.seconds.values())
    click.echo(f"coverplan: {project.name}: wrote {len(result.files)} files to {out} in {total:.1f} s")
    for f in result.files:
        click.echo(f"  {f}")
    t = result.summary.get("proposal")
    if t:
        goal = f"budget {t['budget_cny']:,.0f} CNY" if t["mode"] == "budget" else f"target {t['target_share']}"
        click.echo(f"proposal ({goal}): {sum(t['interventions'].values())} interventions, {t['cost_cny']:,} CNY in "
                   f"{t['batches']} yearly batch(es), {t['status']} (gap {t['gap']:.2%}); poor villages with "
                   f"broadband {t['poor_broadband_share_before']:.1%} -> {t['poor_broadband_share_after']:.1%}, "
                   f"schools >= target outlet {t['schools_outlet_share_before']:.1%} -> "
                   f"{t['schools_outlet_share_after']:.1%}")
    for name in ("map.html", "report.html"):
        if (out / name).exists():
            click.echo(f"open {name[:-5]}: {(out / name).resolve().as_uri()}")


@cli.command()
@click.argument("project_file", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--overwrite", is_flag=True, help="Replace the contents of an existing output folder.")
@click.option("--offline/--online", "offline", default=None,
              help="Map with Leaflet inlined and a local hillshade background (no network), or with tiles and CDN; "
                   "default: the project's [map] offline.")
@click.option("--dask", "dask", is_flag=False, flag_value="local", default=None, metavar="[SCHEDULER_ADDRESS]",
              help="Compute coverage per county and the optimiser per province on dask.distributed: a "
                   "LocalCluster, or the scheduler at the given address (tcp://host:8786). Results are the same "
                   "as without it.")
@click.pass_context
def run(ctx: click.Context, project_file: Path, out: Path, overwrite: bool, offline: bool | None,
        dask: str | None) -> None:
    """Run the whole pipeline on PROJECT_FILE and write the outputs (layers, proposal, map.html, report.html)."""
    _run(project_file, out, overwrite, ctx.obj["quiet"], offline=offline,
         dask=True if dask == "local" else dask)


@cli.command()
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("outputs/demo"),
    show_default=True,
    help="Output folder.",
)
@click.option("--overwrite", is_flag=True, help="Replace the contents of an existing output folder.")
@click.option("--offline/--online", "offline", default=None, help="As for `run`.")
@click.pass_context
def demo(ctx: click.Context, out: Path, overwrite: bool, offline: bool | None) -> None:
    """Run the pipeline on the bundled demo region (data/demo/project.toml)."""
    project_file = DEMO_DIR / "project.toml"
    if not project_file.exists():
        _fail(f"demo project `{project_file}` not found; install coverplan from its source tree (pip install -e .)")
    _run(project_file, out, overwrite, ctx.obj["quiet"], offline=offline)


@cli.command()
@click.option("--villages", type=click.IntRange(min=10), required=True, help="Number of villages.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--overwrite", is_flag=True, help="Replace the contents of an existing output folder.")
@click.option("--name", default=None, help="Project name (default: synthetic-N-sSEED).")
@click.option(
    "--boundary",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Fill this county boundary (one polygon layer with `name` and `area_id`) instead of a square.",
)
def synth(villages: int, seed: int, out: Path, overwrite: bool, name: str | None, boundary: Path | None) -> None:
    """Write a synthetic region of any size (layers, DEM, project.toml) into --out."""
    from gis.synthetic import synthesize, write_region

    area = None
    if boundary is not None:
        from gis.layers import read_layer
        from gis.project import LayerSource
        from gis.validation import validate_frame

        try:
            frame, problems = read_layer(LayerSource(path=boundary), "admin")
            frame, more = validate_frame(frame, "admin", file=str(boundary))
        except LayerError as exc:
            problems, more = list(exc.problems), []
        if any(p.severity == "error" for p in [*problems, *more]):
            _report_problems([*problems, *more])
            _fail(f"{boundary}: not a usable boundary")
        area = frame
    try:
        prepare_output(out, overwrite=overwrite)
    except OutputExistsError as exc:
        _fail(str(exc))
    t0 = time.perf_counter()
    with _Steps(enabled=sys.stderr.isatty()) as steps:
        steps("generating region")
        if area is None:
            region = synthesize(villages=villages, seed=seed)
        else:
            import numpy as np
            import shapely

            region = synthesize(
                villages=villages,
                seed=seed,
                boundary=shapely.union_all(np.asarray(area.geometry.values)),
                boundary_crs=area.crs,
                boundary_name=str(area["name"].iloc[0]),
                boundary_code=str(area["area_id"].iloc[0]),
            )
        steps("writing files")
        path = write_region(region, out, name=name or f"synthetic-{villages}-s{seed}")
    click.echo(
        f"coverplan: synthetic region ({villages} villages, {len(region.schools)} schools, "
        f"{len(region.sites)} sites) written to {path} in {time.perf_counter() - t0:.1f} s"
    )


@cli.command()
@click.argument("project_file", type=click.Path(path_type=Path))
@click.argument("measurements", type=click.Path(path_type=Path))
@click.option("--crs", "crs", default="EPSG:4326", show_default=True, help="CRS of the CSV's lon/lat columns.")
@click.option(
    "--model",
    type=click.Choice(["free_space", "hata", "rma", "uma", "itm"]),
    default=None,
    help="Model to calibrate (default: the project's).",
)
def calibrate(project_file: Path, measurements: Path, crs: str, model: str | None) -> None:
    """Fit the propagation model's offset and slope to drive-test MEASUREMENTS (CSV: lon, lat, rsrp_dbm, site_id)."""
    from gis.inputs import load_inputs
    from gis.layers import read_layer
    from gis.project import LayerSource
    from planning.coverage import calibrate as fit

    try:
        project = load_project(project_file)
        inputs = load_inputs(project)
        frame, problems = read_layer(LayerSource(path=measurements, crs=crs), "measurements")
        if any(p.severity == "error" for p in problems):
            raise LayerError(problems)
        cal = fit(
            frame.to_crs(inputs.layers.crs),
            inputs.layers["sites"],
            radio=project.radio,
            dem=inputs.dem,
            model=model,
            file=str(measurements),
        )  # type: ignore[arg-type]
    except ProjectError as exc:
        _fail(str(exc))
    except LayerError as exc:
        _report_problems(list(exc.problems))
        _fail(f"{measurements}: {len(exc.problems)} problem(s); nothing fitted")
    table = Table(title=f"calibration of {model or project.radio.model} on {cal.n} measurements (measured - predicted)")
    for col in ("", "mean error dB", "std dB"):
        table.add_column(col)
    table.add_row("before", f"{cal.before_mean_db:.2f}", f"{cal.before_std_db:.2f}")
    table.add_row("after", f"{cal.after_mean_db:.2f}", f"{cal.after_std_db:.2f}")
    Console().print(table)
    click.echo(f"before: mean {cal.before_mean_db:.2f} dB, std {cal.before_std_db:.2f} dB")
    click.echo(f"after:  mean {cal.after_mean_db:.2f} dB, std {cal.after_std_db:.2f} dB")
    verdict = "meets" if cal.after_std_db <= 8.0 else "does NOT meet"
    click.echo(f"the calibrated model {verdict} the usual acceptance (std <= 8 dB). Add to [radio] in project.toml:")
    click.echo(f"calibration_offset_db = {cal.offset_db:.2f}")
    click.echo(f"calibration_slope_db_per_decade = {cal.slope_db_per_decade:.2f}")


@cli.command()
@click.argument("project_file", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--budget-cny", "budget_cny", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Maximise the weighted demand served within this budget (CNY).")
@click.option("--target", "target", type=click.FloatRange(0.0, 1.0), default=None,
              help="Minimise cost to serve this share of the coverable demand weight (e.g. 0.98).")
@click.option("--overwrite", is_flag=True, help="Replace the contents of an existing output folder.")
@click.pass_context
def optimise(ctx: click.Context, project_file: Path, out: Path, budget_cny: float | None, target: float | None,
             overwrite: bool) -> None:
    """Run the pipeline on PROJECT_FILE and propose the interventions (--budget-cny X or --target S)."""
    if (budget_cny is None) == (target is None):
        _fail("give exactly one of --budget-cny and --target")
    _run(project_file, out, overwrite, ctx.obj["quiet"], budget_cny=budget_cny if budget_cny else 0.0,
         target_share=target)


@cli.group()
def ledger() -> None:
    """The ledger (台账) of unconnected villages and schools: show, update, diff, reconcile."""


def _date_arg(value: str, name: str) -> dt.date:
    from planning.ledger import parse_date

    d = parse_date(value)
    if d is None:
        _fail(f"`{name}` = {value!r}; expected a date YYYY-MM-DD")
    return d


def _ledger_fail(exc: Exception) -> None:
    from planning.ledger import LedgerError

    if isinstance(exc, LedgerError) and exc.problems:
        _report_problems(list(exc.problems))
        _fail(f"{len(exc.problems)} bad row(s); nothing was applied, the ledger is unchanged")
    _fail(str(exc))


@ledger.command("show")
@click.argument("ledger_file", type=click.Path(path_type=Path))
@click.option("--at", "at", default=None, help="Show the ledger as it stood at this date (YYYY-MM-DD).")
def ledger_show(ledger_file: Path, at: str | None) -> None:
    """Counts of LEDGER_FILE by county and status (now, or --at a past date)."""
    from planning.ledger import LedgerError, read_ledger, state_at

    try:
        frame = state_at(ledger_file, _date_arg(at, "--at")) if at else read_ledger(ledger_file)
    except LedgerError as exc:
        _ledger_fail(exc)
    counts = frame.groupby(["county", "status"]).size().unstack(fill_value=0)
    table = Table(title=f"{ledger_file.name}{' at ' + at if at else ''}: {len(frame)} rows")
    table.add_column("county")
    for c in counts.columns:
        table.add_column(str(c), justify="right")
    for county, row in counts.iterrows():
        table.add_row(str(county), *(str(int(x)) for x in row))
    Console().print(table)
    for county, row in counts.iterrows():
        click.echo(f"{county}: " + ", ".join(f"{c} {int(x)}" for c, x in row.items()))


@ledger.command("update")
@click.argument("ledger_file", type=click.Path(path_type=Path))
@click.argument("updates_file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Allow statuses to go backwards.")
def ledger_update(ledger_file: Path, updates_file: Path, force: bool) -> None:
    """Apply field reports UPDATES_FILE (CSV: id, status, date, note) to LEDGER_FILE, all or nothing."""
    from planning.ledger import LedgerError, apply_updates, read_updates

    try:
        res = apply_updates(ledger_file, read_updates(updates_file), force=force, source=updates_file.name)
    except LedgerError as exc:
        _ledger_fail(exc)
    click.echo(f"{ledger_file}: {res.applied} row(s) updated, {res.unchanged} unchanged, "
               f"{res.events} event(s) recorded")


@ledger.command("diff")
@click.argument("ledger_file", type=click.Path(path_type=Path))
@click.option("--from", "date_from", required=True, help="First date (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, help="Second date (YYYY-MM-DD).")
def ledger_diff(ledger_file: Path, date_from: str, date_to: str) -> None:
    """Rows of LEDGER_FILE whose status changed between two dates."""
    from planning.ledger import LedgerError, diff

    try:
        d = diff(ledger_file, _date_arg(date_from, "--from"), _date_arg(date_to, "--to"))
    except LedgerError as exc:
        _ledger_fail(exc)
    click.echo(f"{ledger_file}: {len(d)} row(s) changed between {date_from} and {date_to}")
    for rid, row in d.iterrows():
        click.echo(f"{rid}\t{row['name']}\t{row['county']}\t{row['status_from'] or '(new)'} -> "
                   f"{row['status_to'] or '(gone)'}")
    if len(d):
        moves = d.fillna("(none)").groupby(["status_from", "status_to"]).size()
        click.echo("; ".join(f"{a} -> {b}: {n}" for (a, b), n in moves.items()))


@ledger.command("reconcile")
@click.argument("ledger_file", type=click.Path(path_type=Path))
@click.argument("counts_file", type=click.Path(path_type=Path))
@click.option("--at", "at", default=None, help="Use the ledger as it stood at this date.")
def ledger_reconcile(ledger_file: Path, counts_file: Path, at: str | None) -> None:
    """Compare LEDGER_FILE's unconnected schools per county with an official COUNTS_FILE
    (CSV: city, county, unconnected_schools)."""
    from planning.ledger import LedgerError, ledger_school_counts, read_official_counts, reconcile

    try:
        official = read_official_counts(counts_file)
        rec = reconcile(ledger_school_counts(ledger_file, at=_date_arg(at, "--at") if at else None), official)
    except LedgerError as exc:
        _ledger_fail(exc)
    table = Table(title=f"unconnected schools: ledger vs {counts_file.name}")
    for col in ("city", "county", "official", "ledger", "difference"):
        table.add_column(col, justify="right" if col in ("official", "ledger", "difference") else "left")
    for _, r in rec.iterrows():
        table.add_row(*("" if pd.isna(r[c]) else str(r[c]) for c in ("city", "county", "official", "ledger",
                                                                        "difference")))
    Console().print(table)
    for _, r in rec[rec["difference"] != 0].iterrows():
        click.echo(f"DIFF {'' if pd.isna(r['city']) else r['city']} {r['county']}: official "
                   f"{'-' if pd.isna(r['official']) else r['official']}, ledger "
                   f"{'-' if pd.isna(r['ledger']) else r['ledger']} ({int(r['difference']):+d})")
    by_city = rec.groupby(rec["city"].fillna("(not in table)"))[["official", "ledger"]].sum()
    for city, r in by_city.iterrows():
        click.echo(f"city {city}: official {int(r['official'])}, ledger {int(r['ledger'])}")
    click.echo(f"total: official {int(rec['official'].sum())}, ledger {int(rec['ledger'].sum())}, "
               f"{int((rec['difference'] != 0).sum())} count(ies) differ")


cli.add_command(import_group)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="coverplan")


if __name__ == "__main__":
    main()
