"""``coverplan synth``: a synthetic region of any size, written as a ready project."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from gis.errors import LayerError
from gis.layers import read_layer
from gis.outdir import staged_output
from gis.project import LayerSource
from gis.synthetic import boundary_problems, synthesize, write_region
from gis.text import text_problem
from gis.validation import bare_file_problems, fill_values, validate_frame
from planning.cli.common import Steps, fail, report_problems
from planning.cli.options import out_folder_opt, overwrite_opt

#: Most villages ``synth`` writes: a million, twice China's administrative villages (~490,000); checked when the
#: option is read, before anything is allocated.
MAX_SYNTH_VILLAGES = 1_000_000


def _synthesize(villages: int, seed: int, area: Any) -> Any:
    """The region: a square, or each feature of the boundary ``area`` as one admin area (its name and code)."""
    if area is None:
        return synthesize(villages=villages, seed=seed)
    return synthesize(
        villages=villages,
        seed=seed,
        boundary=list(area.geometry.values),
        boundary_crs=area.crs,
        boundary_name=[str(n) for n in area["name"]],
        boundary_code=[str(c) for c in area["area_id"]],
    )


def _read_boundary(boundary: Path, villages: int, values: dict[str, str]) -> Any:
    """The validated boundary layer (``values``: ``area_id``/``name`` for a file without them), or exit 2 with
    every problem (file, row, column)."""
    file = str(boundary)
    how = "pass them with --boundary-area-id (6 digits, GB/T 2260) and --boundary-name (one feature per file)"
    try:
        frame, problems = read_layer(LayerSource(path=boundary), "admin")
        frame, more = fill_values(frame, "admin", values, file=file)
        more = more or bare_file_problems(frame, "admin", file=file, how=how)
        if not more:
            frame, more = validate_frame(frame, "admin", file=file)
    except LayerError as exc:
        problems, more = list(exc.problems), []
    problems = [*problems, *more]
    if not any(p.severity == "error" for p in problems):
        problems += boundary_problems(frame, villages=villages, file=str(boundary))
    if any(p.severity == "error" for p in problems):
        report_problems(problems)
        fail(f"{boundary}: not a usable boundary")
    return frame


@click.command()
@click.option(
    "--villages",
    type=click.IntRange(10, MAX_SYNTH_VILLAGES),
    required=True,
    help=f"Number of villages (10 to {MAX_SYNTH_VILLAGES:,}).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed (>= 0).")
@out_folder_opt()
@overwrite_opt()
@click.option("--name", default=None, help="Project name (default: synthetic-N-sSEED).")
@click.option(
    "--boundary",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Fill this boundary (a polygon layer with `name` and a 6-digit GB/T 2260 `area_id`; each feature one "
    "admin area) instead of a square.",
)
@click.option(
    "--boundary-area-id",
    default=None,
    help="The area_id (6-digit GB/T 2260 code) of a --boundary file without properties (one feature).",
)
@click.option("--boundary-name", default=None, help="The name of a --boundary file without properties (one feature).")
def synth(
    villages: int,
    seed: int,
    out: Path,
    overwrite: bool,
    name: str | None,
    boundary: Path | None,
    boundary_area_id: str | None,
    boundary_name: str | None,
) -> None:
    """Write a synthetic region of any size (layers, DEM, project.toml) into --out."""

    if name is not None and not name.strip():
        fail(f"`--name` = {name!r}; expected a non-empty name")
    why = text_problem(name) if name is not None else None
    if why:  # invalid UTF-8 in argv arrives as surrogates
        fail(f"`--name` = {why}")
    values = {k: v for k, v in (("area_id", boundary_area_id), ("name", boundary_name)) if v is not None}
    if values and boundary is None:
        fail("--boundary-area-id and --boundary-name name a --boundary file's area; expected --boundary too")
    for key, value in values.items():
        why = text_problem(value) if value.strip() else "empty"
        if why:
            fail(f"`--boundary-{key.replace('_', '-')}` = {why}")
    area = _read_boundary(boundary, villages, values) if boundary is not None else None
    t0 = time.perf_counter()
    with (
        staged_output(out, overwrite=overwrite, protected=[boundary] if boundary else []) as tmp,
        Steps(enabled=sys.stderr.isatty()) as steps,
    ):
        steps("generating region")
        region = _synthesize(villages, seed, area)
        steps("writing files")
        write_region(region, tmp, name=name or f"synthetic-{villages}-s{seed}")
    path = out / "project.toml"
    click.echo(
        f"coverplan: synthetic region ({villages} villages, {len(region.schools)} schools, "
        f"{len(region.sites)} sites) written to {path} in {time.perf_counter() - t0:.1f} s"
    )
