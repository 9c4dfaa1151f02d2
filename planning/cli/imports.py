"""``coverplan import``: bring real data into coverplan layers.

Commands: ``opencellid``, ``dem``, ``osm``, ``population``, ``register``. Each reads the project's admin areas
(the project file needs only ``[layers] admin``), writes one new file clipped to them (plus a buffer) in the
project's metric CRS, and prints what it kept, dropped and filled and why. Exit codes: 0 written, 2 bad input
(file, layer, row, column and what was expected) or an ``--out`` that exists without ``--overwrite`` or is one of
the inputs; the output then is not written (outputs appear whole or not at all).

"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from gis.errors import LayerError
from gis.importers import (
    MAX_UNCOVERED_SHARE,
    ImportReport,
    Region,
    cells_to_sites,
    import_dem,
    join_register,
    load_region,
    osm_layers,
    population_per_village,
    read_opencellid,
    read_osm,
    read_population,
    read_register,
    read_tile,
    write_dem_atomic,
    write_gpkg_atomic,
)
from gis.layers import load_layer
from gis.outdir import check_output_file
from gis.project import LayerSource, Project, load_project
from gis.terrain import MAX_CELL_M
from gis.writers import write_csv
from planning.cli.common import about, fail
from planning.cli.options import buffer_m_opt, finite, out_file_opt, overwrite_opt, project_opt, villages_file_opt

if TYPE_CHECKING:
    import geopandas as gpd

#: Largest ``--resolution-m`` of an imported DEM (m).
MAX_RESOLUTION_M = 10_000.0


def _reading(what: object) -> None:
    """Layer problems from here on are about ``what``: counted, and the output not written."""
    about(what, outcome="nothing written", count="problems")


def _prepare(
    project_file: Path,
    out: Path,
    sources: Iterable[Path],
    *,
    overwrite: bool,
    suffixes: tuple[str, ...],
    writes: tuple[str, ...],
    reads: tuple[str, ...] = ("admin",),
) -> tuple[Project, Region]:
    """Load the project (admin only required), check ``--out``, read the region; bad input raises (exit 2).

    ``writes``: the layers (or ``terrain``) the import writes; ``--out`` may be the project's file of those
    (with ``--overwrite``) but not one holding other layers, nor a file the import reads (``sources``, the
    project file, the project's ``reads`` layers).
    """

    if out.suffix.lower() not in suffixes:
        fail(f"--out `{out}`: expected a file ending in {' or '.join(suffixes)}")
    project = load_project(project_file, required_layers=("admin",))
    files = {name: src.path for name, src in project.layers.items()}
    if project.terrain is not None:
        files["terrain"] = project.terrain
    ledger = [project.ledger] if isinstance(project.ledger, Path) else []  # never written by an import
    read_paths = [*sources, project.path, *ledger, *(files[n] for n in reads if n in files)]
    others = {n: p for n, p in files.items() if n not in writes}
    check_output_file(out, reads=read_paths, overwrite=overwrite, others=others)
    _reading(f"{project_file}: admin layer")
    return project, load_region(project)


def _villages_of(project: Project, project_file: Path, villages_file: Path | None) -> gpd.GeoDataFrame:
    """The villages an import joins to: ``--villages`` if given, else the project's layer (exit 2 without one or
    on a layer error)."""
    source = LayerSource(path=villages_file.resolve()) if villages_file else project.layers.get("villages")
    if source is None:
        fail(f"{project_file}: [layers] has no `villages` and no --villages was given; expected a villages layer")
    _reading(str(source.path))
    villages, problems = load_layer(source, "villages", coordinates=project.coordinates)
    if any(p.severity == "error" for p in problems):
        raise LayerError(problems)
    return villages


def _done(name: str, report: ImportReport, out: Path) -> None:
    for line in report.lines():
        click.echo(f"{name}: {line}")
    click.echo(f"coverplan import {name}: wrote {out}")


@click.group("import")
def import_group() -> None:
    """Bring real data in: OpenCelliD cells, DEM tiles, an OSM extract, a population raster, a village register."""


@import_group.command("opencellid")
@click.argument("cells", type=click.Path(path_type=Path))
@project_opt
@out_file_opt
@overwrite_opt("--out if it exists")
@buffer_m_opt("--buffer-m", default=10_000.0, help="Keep sites within this distance of the admin areas (m).")
@click.option(
    "--gnb-id-bits",
    type=click.IntRange(22, 32),
    default=24,
    show_default=True,
    help="gNB-id length in the 36-bit NR cell identity.",
)
@click.option(
    "--height-m",
    type=finite(0, 300, lo_open=True),
    default=None,
    help="Antenna height given to every site (default: the project's [radio] tower_height_m).",
)
@click.option("--skip-bad-rows", is_flag=True, help="Drop and count MCC-460 rows with bad values instead of failing.")
@click.option(
    "--band-defaults",
    type=click.Choice(["rural", "urban"]),
    default="rural",
    show_default=True,
    help="Band of a site with no channel number: the operator's rural layer (900/800/700 MHz) or urban band.",
)
def opencellid(
    cells: Path,
    project_file: Path,
    out: Path,
    overwrite: bool,
    buffer_m: float,
    gnb_id_bits: int,
    height_m: float | None,
    skip_bad_rows: bool,
    band_defaults: Literal["rural", "urban"],
) -> None:
    """OpenCelliD CELLS (.csv or .csv.gz) -> a `sites` layer (one site per eNodeB/gNodeB) in --out (.gpkg)."""

    project, region = _prepare(project_file, out, [cells], overwrite=overwrite, suffixes=(".gpkg",), writes=("sites",))
    west, south, east, north = region.lonlat(buffer_m + 5_000.0).bounds
    bbox = (float(west), float(south), float(east), float(north))
    _reading(str(cells))
    frame, report = read_opencellid(cells, bbox_lonlat=bbox, skip_bad_rows=skip_bad_rows)
    sites, report = cells_to_sites(
        frame,
        region,
        buffer_m=buffer_m,
        gnb_id_bits=gnb_id_bits,
        height_m=height_m or project.radio.tower_height_m,
        lte_default_mhz=project.radio.lte_band_mhz,
        nr_default_mhz=project.radio.nr_bands_mhz[0],
        report=report,
        file=str(cells),
        band_defaults=band_defaults,
    )
    if not len(sites):
        fail(
            f"{cells}: no LTE/NR site of a Chinese operator within {buffer_m:g} m of the admin areas; nothing "
            "written (" + "; ".join(report.lines()[1:]) + ")"
        )
    write_gpkg_atomic({"sites": sites}, out)
    _done("opencellid", report, out)


@import_group.command("dem")
@click.argument("tiles", type=click.Path(path_type=Path), nargs=-1, required=True)
@project_opt
@out_file_opt
@overwrite_opt("--out if it exists")
@buffer_m_opt(
    "--buffer-m",
    default=15_000.0,
    help="Terrain kept around the admin areas (m); must reach past every site and candidate.",
)
@click.option(
    "--resolution-m",
    type=finite(1.0, MAX_RESOLUTION_M),
    default=None,
    help="Cell size of the output (default: the finest tile's spacing).",
)
@click.option(
    "--max-void-px",
    type=click.IntRange(min=1),
    default=250_000,
    show_default=True,
    help="Largest void (pixels) filled by interpolation; larger ones stay nodata.",
)
@click.option(
    "--max-cell-m",
    type=finite(1.0, MAX_RESOLUTION_M),
    default=MAX_CELL_M,
    show_default=True,
    help="Coarsest source spacing and output cell accepted (m); validate refuses DEMs coarser than 1000 m.",
)
@click.option(
    "--allow-uncovered",
    is_flag=True,
    help="Leave parts of the admin areas + buffer that no tile covers nodata (said in the report) instead of failing.",
)
def dem(
    tiles: tuple[Path, ...],
    project_file: Path,
    out: Path,
    overwrite: bool,
    buffer_m: float,
    resolution_m: float | None,
    max_void_px: int,
    max_cell_m: float,
    allow_uncovered: bool,
) -> None:
    """DEM TILES (SRTM .hgt / .hgt.zip, GeoTIFF) -> one void-filled DEM GeoTIFF of the region in --out (.tif)."""

    _, region = _prepare(project_file, out, tiles, overwrite=overwrite, suffixes=(".tif", ".tiff"), writes=("terrain",))
    _reading("DEM tiles")
    read = [read_tile(t) for t in tiles]
    grid, report = import_dem(
        read,
        region,
        buffer_m=buffer_m,
        resolution_m=resolution_m,
        max_void_px=max_void_px,
        source=", ".join(str(t) for t in tiles),
        max_cell_m=max_cell_m,
        allow_uncovered=allow_uncovered,
    )
    write_dem_atomic(grid, out)
    _done("dem", report, out)


@import_group.command("osm")
@click.argument("extract", type=click.Path(path_type=Path))
@project_opt
@out_file_opt
@overwrite_opt("--out if it exists")
@buffer_m_opt("--buffer-m", default=10_000.0, help="Keep roads and masts within this distance of the admin areas (m).")
@buffer_m_opt(
    "--demand-buffer-m", default=0.0, help="Keep villages and schools within this distance of the admin areas (m)."
)
@click.option(
    "--skip-bad-rows",
    is_flag=True,
    help="Leave out and count objects with refused values (e.g. a name with a line break).",
)
@click.option(
    "--max-uncovered-share",
    type=finite(0, 1),
    default=MAX_UNCOVERED_SHARE,
    show_default=True,
    help="Refuse an extract whose box leaves more than this share (0..1) of the admin areas uncovered.",
)
def osm(
    extract: Path,
    project_file: Path,
    out: Path,
    overwrite: bool,
    buffer_m: float,
    demand_buffer_m: float,
    skip_bad_rows: bool,
    max_uncovered_share: float,
) -> None:
    """OSM EXTRACT (.osm.pbf / .osm) -> roads, villages, schools, candidates layers in --out (.gpkg)."""

    _, region = _prepare(
        project_file,
        out,
        [extract],
        overwrite=overwrite,
        suffixes=(".gpkg",),
        writes=("roads", "villages", "schools", "candidates"),
    )
    _reading(str(extract))
    layers, report = osm_layers(
        read_osm(extract),
        region,
        buffer_m=buffer_m,
        demand_buffer_m=demand_buffer_m,
        skip_bad_rows=skip_bad_rows,
        max_uncovered_share=max_uncovered_share,
    )
    if not layers:
        fail(f"{extract}: no roads, villages, schools or masts within the admin areas; nothing written")
    write_gpkg_atomic(layers, out)
    _done("osm", report, out)


@import_group.command("population")
@click.argument("raster", type=click.Path(path_type=Path))
@project_opt
@out_file_opt
@overwrite_opt("--out if it exists")
@villages_file_opt
@click.option(
    "--only-missing",
    is_flag=True,
    help="Replace only villages whose population_source is 'none' (placeholders); keep the others.",
)
def population(
    raster: Path, project_file: Path, out: Path, overwrite: bool, villages_file: Path | None, only_missing: bool
) -> None:
    """Population RASTER (people per pixel) summed per village -> a villages layer in --out (.gpkg)."""

    sources = [raster] + ([villages_file] if villages_file else [])
    project, region = _prepare(
        project_file,
        out,
        sources,
        overwrite=overwrite,
        suffixes=(".gpkg",),
        writes=("villages",),
        reads=("admin",) if villages_file else ("admin", "villages"),
    )
    villages = _villages_of(project, project_file, villages_file)
    _reading(str(raster))
    people, transform, crs = read_population(raster, region)
    frame, report = population_per_village(
        villages, people, transform, crs, region, only_missing=only_missing, source=str(raster)
    )
    write_gpkg_atomic({"villages": frame}, out)
    _done("population", report, out)


def _key_options(values: tuple[str, ...]) -> dict[str, str]:
    """``--column code=村代码`` options as a mapping (bad input exits 2)."""
    out = {}
    for v in values:
        key, sep, heading = v.partition("=")
        if not sep or key.strip() not in ("code", "name", "township", "county") or not heading.strip():
            fail(f"--column {v!r}: expected code=HEADING, name=HEADING, township=HEADING or county=HEADING")
        out[key.strip()] = heading.strip()
    return out


@import_group.command("register")
@click.argument("register_file", metavar="LIST", type=click.Path(path_type=Path))
@project_opt
@out_file_opt
@overwrite_opt("--out (and its _register.csv) if they exist")
@click.option("--sheet", default=None, help="Sheet of an .xlsx register (default: its only sheet with data).")
@villages_file_opt
@click.option(
    "--column",
    "key_columns",
    multiple=True,
    help="Heading of the register's code, name, township or county column, e.g. --column code=村代码.",
)
def register(
    register_file: Path,
    project_file: Path,
    out: Path,
    overwrite: bool,
    sheet: str | None,
    villages_file: Path | None,
    key_columns: tuple[str, ...],
) -> None:
    """Village register LIST (.xlsx/.csv, e.g. 建档立卡贫困村名单) joined to the villages -> --out (.gpkg).

    Rows match by 12-digit code, else by name within township/county; every row's outcome (matched, ambiguous,
    unmatched) is written to <out>_register.csv.
    """

    keys = _key_options(key_columns)
    sources = [register_file] + ([villages_file] if villages_file else [])
    project, region = _prepare(
        project_file,
        out,
        sources,
        overwrite=overwrite,
        suffixes=(".gpkg",),
        writes=("villages",),
        reads=("admin",) if villages_file else ("admin", "villages"),
    )
    table = out.with_name(f"{out.stem}_register.csv")
    check_output_file(table, reads=[*sources, project.path], overwrite=overwrite, what="the outcome table")
    villages = _villages_of(project, project_file, villages_file)
    _reading(str(register_file))
    joined = join_register(villages, read_register(register_file, sheet=sheet), file=str(register_file), columns=keys)
    write_gpkg_atomic({"villages": joined.villages.to_crs(region.crs)}, out)
    partial = table.with_name(f".{table.name}.partial")
    os.replace(write_csv(joined.outcomes, partial), table)
    _done("register", joined.report, out)
    click.echo(f"coverplan import register: wrote {table} (one row per register row: outcome and village)")
