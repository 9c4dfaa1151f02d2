"""``coverplan calibrate``: fit the propagation model to drive-test measurements.

Every measurement left out of the fit is named (file, row, site, why: its site is not in the sites layer, it lies
nearer than the models resolve or beyond the model's range, it or its site is off the DEM, its path leaves the
DEM), in the printed report and, with ``--excluded FILE.csv``, one row each in a CSV. A fit on fewer than
``--min-rows`` usable measurements is refused (exit 2). The slope is fitted only when the distances spread enough
(``--min-spread`` decades of log10(d), 10th to 90th percentile); otherwise the offset alone is, and the report
says so. The report gives the number used and the residual RMS before and after.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import numpy as np
import pandas as pd

from gis.errors import LayerError
from gis.inputs import load_inputs
from gis.layers import read_layer
from gis.outdir import check_output_file
from gis.project import LayerSource, load_project
from gis.settings import PROPAGATION_MODELS
from gis.writers import write_csv
from planning.cli.common import about, fail
from planning.cli.options import finite, overwrite_opt, project_arg
from planning.radio import (
    EXCLUSION_REASONS,
    MIN_CALIBRATION_ROWS,
    MIN_SLOPE_SPREAD_DECADES,
    Calibration,
    CalibrationRefusedError,
)
from planning.radio import calibrate as fit
from planning.run import input_paths

#: The usual acceptance of a calibrated model: standard deviation of measured - predicted at most this (dB).
ACCEPTANCE_STD_DB = 8.0


@click.command()
@project_arg
@click.argument("measurements", type=click.Path(path_type=Path))
@click.option("--crs", "crs", default="EPSG:4326", show_default=True, help="CRS of the CSV's lon/lat columns.")
@click.option(
    "--model",
    type=click.Choice(list(PROPAGATION_MODELS)),
    default=None,
    help="Model to calibrate (default: the project's).",
)
@click.option(
    "--min-rows",
    type=click.IntRange(min=3),
    default=MIN_CALIBRATION_ROWS,
    show_default=True,
    help="Fewest usable measurements to fit on; with fewer nothing is fitted (exit 2).",
)
@click.option(
    "--min-spread",
    type=finite(0.0, 10.0),
    default=MIN_SLOPE_SPREAD_DECADES,
    show_default=True,
    help="Least spread of log10(distance) (decades, 10th-90th percentile) to fit a slope; below: offset only.",
)
@click.option(
    "--excluded",
    "excluded_csv",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the measurements left out (file, row, site_id, distance_m, reason, why) to this CSV.",
)
@overwrite_opt("the --excluded CSV if it exists")
def calibrate(
    project_file: Path,
    measurements: Path,
    crs: str,
    model: str | None,
    min_rows: int,
    min_spread: float,
    excluded_csv: Path | None,
    overwrite: bool,
) -> None:
    """Fit the propagation model's offset and slope to drive-test MEASUREMENTS (CSV: lon, lat, rsrp_dbm, site_id)."""
    about(measurements, outcome="nothing fitted", count="problems")
    if excluded_csv is not None and excluded_csv.suffix.lower() != ".csv":
        fail(f"--excluded `{excluded_csv}`: expected a file ending in .csv")
    project = load_project(project_file)
    if excluded_csv is not None:  # never onto the measurements, the project file, a layer, the DEM, the ledger
        reads = [measurements, *input_paths(project)]
        check_output_file(excluded_csv, reads=reads, overwrite=overwrite, what="--excluded")
    inputs = load_inputs(project)
    frame, problems = read_layer(LayerSource(path=measurements, crs=crs), "measurements")
    if any(p.severity == "error" for p in problems):
        raise LayerError(problems)
    try:
        cal = fit(
            frame.to_crs(inputs.layers.crs),
            inputs.layers["sites"],
            radio=project.radio,
            dem=inputs.dem,
            model=model,  # type: ignore[arg-type]
            file=str(measurements),
            min_rows=min_rows,
            min_spread_decades=min_spread,
        )
    except CalibrationRefusedError as exc:  # name what was left out (and write it) before refusing
        _echo_excluded(exc.excluded, n_rows=exc.n_rows, n_used=exc.n_used, file=measurements)
        _write_excluded(exc.excluded, excluded_csv)
        fail(str(exc))
    _echo_excluded(cal.excluded, n_rows=cal.n_rows, n_used=cal.n, file=measurements)
    _write_excluded(cal.excluded, excluded_csv)
    _echo_fit(cal, model=model or project.radio.model, min_spread=min_spread)


def _write_excluded(excluded: pd.DataFrame, path: Path | None) -> None:
    """The excluded measurements as a CSV that appears whole or not at all."""
    if path is None:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write_csv(excluded, tmp)
        tmp.replace(path)
    except OSError as exc:
        fail(f"--excluded `{path}`: cannot write it ({exc.strerror or exc})")
    finally:
        tmp.unlink(missing_ok=True)
    click.echo(f"wrote the {len(excluded)} measurement(s) left out to {path}")


def _runs(excluded: pd.DataFrame) -> list[str]:
    """One line per run of consecutive rows left out for the same reason from the same site (every row named)."""
    lines: list[str] = []
    rows = excluded.reset_index(drop=True)
    start = 0
    for i in range(1, len(rows) + 1):
        if (
            i < len(rows)
            and rows["row"].iloc[i] == rows["row"].iloc[i - 1] + 1
            and rows["why"].iloc[i] == rows["why"].iloc[start]
            and rows["site_id"].iloc[i] == rows["site_id"].iloc[start]
        ):
            continue
        part = rows.iloc[start:i]
        first, last = int(part["row"].iloc[0]), int(part["row"].iloc[-1])
        d = part["distance_m"].to_numpy(dtype=float) / 1000.0
        where = f"rows {first}-{last} ({len(part)}" if len(part) > 1 else f"row {first}"
        if np.isfinite(d).any():  # a known site: which, and how far
            far = f"{np.nanmin(d):,.2f}" + (f"-{np.nanmax(d):,.2f}" if len(part) > 1 else "")
            where += f"{'; ' if len(part) > 1 else ' ('}site {part['site_id'].iloc[0]}, {far} km)"
        elif len(part) > 1:
            where += ")"
        lines.append(f"{where}: {part['why'].iloc[0]}")
        start = i
    return lines


def _echo_excluded(excluded: pd.DataFrame, *, n_rows: int, n_used: int, file: Path) -> None:
    if not len(excluded):
        click.echo(f"{file}: {n_rows} measurements, all used")
        return
    counts = excluded["reason"].value_counts()
    click.echo(
        f"{file}: {n_rows} measurements, {n_used} used, {len(excluded)} left out ("
        + ", ".join(f"{n} {EXCLUSION_REASONS[r]}" for r, n in counts.items())
        + "):"
    )
    for line in _runs(excluded):
        click.echo(f"  {file.name} {line}")


def _echo_fit(cal: Calibration, *, model: str, min_spread: float) -> None:
    lo, hi = cal.distance_range_m
    click.echo(f"calibration of {model} on {cal.n} of {cal.n_rows} measurements (measured - predicted, dB):")
    click.echo(f"{'':8}{'mean':>8}{'std':>8}{'RMS':>8}")
    click.echo(f"{'before':8}{cal.before_mean_db:8.2f}{cal.before_std_db:8.2f}{cal.before_rms_db:8.2f}")
    click.echo(f"{'after':8}{cal.after_mean_db:8.2f}{cal.after_std_db:8.2f}{cal.after_rms_db:8.2f}")
    if cal.slope_fitted:
        click.echo(
            f"offset and slope fitted over {cal.spread_decades:.2f} decades of distance ({lo / 1000:,.2f}-"
            f"{hi / 1000:,.2f} km): slope {cal.slope_db_per_decade:.2f} ± {cal.slope_se_db:.2f} dB/decade"
        )
    else:
        click.echo(
            f"offset only: the distances used ({lo / 1000:,.2f}-{hi / 1000:,.2f} km) spread over "
            f"{cal.spread_decades:.2f} decades, less than the {min_spread:g} a slope needs; the slope stays 0"
        )
    click.echo(f"residual RMS after calibration: {cal.after_rms_db:.2f} dB on {cal.n} measurements")
    verdict = "meets" if cal.after_std_db <= ACCEPTANCE_STD_DB else "does NOT meet"
    click.echo(
        f"the calibrated model {verdict} the usual acceptance (std <= {ACCEPTANCE_STD_DB:g} dB). "
        "Add to [radio] in project.toml:"
    )
    click.echo(f"calibration_offset_db = {cal.offset_db:.2f}")
    click.echo(f"calibration_slope_db_per_decade = {cal.slope_db_per_decade:.2f}")
