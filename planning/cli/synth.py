"""``coverplan synth``: a synthetic region of any size, written as a ready project."""

from __future__ import annotations

import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

import click
import numpy as np
import shapely

from gis.errors import LayerError, OutputError
from gis.layers import read_layer
from gis.outdir import staged_output
from gis.project import LayerSource
from gis.synthetic import synthesize, write_region
from gis.validation import validate_frame
from planning.cli.common import Steps, fail, report_problems


def _synthesize(villages: int, seed: int, area: Any) -> Any:

    if area is None:
        return synthesize(villages=villages, seed=seed)

    return synthesize(
        villages=villages,
        seed=seed,
        boundary=shapely.union_all(np.asarray(area.geometry.values)),
        boundary_crs=area.crs,
        boundary_name=str(area["name"].iloc[0]),
        boundary_code=str(area["area_id"].iloc[0]),
    )


@click.command()
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

    if name is not None and (not name.strip() or any(unicodedata.category(c) == "Cc" for c in name)):
        fail(f"`--name` = {name!r}; expected a non-empty name without control characters")

    area = None
    if boundary is not None:
        try:
            frame, problems = read_layer(LayerSource(path=boundary), "admin")
            frame, more = validate_frame(frame, "admin", file=str(boundary))
        except LayerError as exc:
            problems, more = list(exc.problems), []
        if any(p.severity == "error" for p in [*problems, *more]):
            report_problems([*problems, *more])
            fail(f"{boundary}: not a usable boundary")
        area = frame
    t0 = time.perf_counter()
    try:
        with (
            staged_output(out, overwrite=overwrite, protected=[boundary] if boundary else []) as tmp,
            Steps(enabled=sys.stderr.isatty()) as steps,
        ):
            steps("generating region")
            region = _synthesize(villages, seed, area)
            steps("writing files")
            write_region(region, tmp, name=name or f"synthetic-{villages}-s{seed}")
    except OutputError as exc:
        fail(str(exc))
    path = out / "project.toml"
    click.echo(
        f"coverplan: synthetic region ({villages} villages, {len(region.schools)} schools, "
        f"{len(region.sites)} sites) written to {path} in {time.perf_counter() - t0:.1f} s"
    )
