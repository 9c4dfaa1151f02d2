"""``coverplan calibrate``: fit the propagation model to drive-test measurements."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from gis.errors import LayerError, ProjectError
from gis.inputs import load_inputs
from gis.layers import read_layer
from gis.project import LayerSource, load_project
from planning.cli.common import fail, report_problems
from planning.radio.coverage import calibrate as fit


@click.command()
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
        fail(str(exc))
    except LayerError as exc:
        report_problems(list(exc.problems))
        fail(f"{measurements}: {len(exc.problems)} problem(s); nothing fitted")
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
