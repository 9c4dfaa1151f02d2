"""Reading, validating and projecting the planning layers.

Formats (through pyogrio / GDAL): GeoPackage, GeoJSON, Shapefile, GeoParquet (via pyarrow), and CSV or Excel
workbooks (.xlsx, a sheet named in the layer's ``sheet``) with longitude/latitude columns, read as text cells
(:mod:`gis.readers`) and validated alike. Every layer is checked against its schema (:mod:`gis.validation`), GCJ-02
coordinates are converted to WGS84 when the project says so, and all layers are projected to the project's
metric CRS. Problems across all layers are collected and raised together as one :class:`LayerError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from gis.crs import gcj02_geometries_to_wgs84, parse_crs, source_crs_problem, utm_crs_for
from gis.errors import LayerError, Problem, raise_if_errors
from gis.project import LAYER_NAMES, LayerSource, Project
from gis.readers import read_csv_text, read_xlsx_text
from gis.schema import SCHEMAS
from gis.validation import check_lonlat, outside_area_warnings, validate_frame

logger = logging.getLogger(__name__)

_PARQUET = (".parquet", ".geoparquet")
_XLSX = (".xlsx", ".xlsm")
#: Tables with lon/lat columns (text cells, a declared CRS).
_TABLES = (".csv", *_XLSX)


@dataclass(frozen=True)
class Layers:
    """All layers of a project, validated and in one metric CRS.

    Attributes
    ----------
    crs : pyproj.CRS
        The project's metric CRS (all geometries are in it).
    frames : Mapping[str, GeoDataFrame]
        Layer name to layer; optional layers that the project does not name are absent.
    sources : Mapping[str, str]
        Layer name to the file it came from.
    warnings : tuple of Problem
        Non-fatal findings (points outside the admin areas ...).
    """

    crs: CRS
    frames: Mapping[str, gpd.GeoDataFrame]
    sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()

    def __getitem__(self, name: str) -> gpd.GeoDataFrame:
        if name not in self.frames:
            msg = f"layer `{name}` is not in this project; layers present: {sorted(self.frames)}"
            raise KeyError(msg)
        return self.frames[name]

    def get(self, name: str) -> gpd.GeoDataFrame | None:
        """The layer, or None when the project has none."""
        return self.frames.get(name)

    @property
    def region(self) -> shapely.Geometry:
        """Union of the admin areas (metric CRS)."""
        return shapely.union_all(np.asarray(self.frames["admin"].geometry.values))


def _read_table(path: Path, source: LayerSource, name: str) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """A CSV or .xlsx layer: text cells, points from its lon/lat columns in the CRS its entry declares."""
    file = str(path)
    spreadsheet = path.suffix.lower() in _XLSX
    df = read_xlsx_text(path, layer=name, sheet=source.sheet) if spreadsheet else read_csv_text(path, layer=name)
    problems = []
    for c in (source.lon, source.lat):
        if c not in df.columns:
            problems.append(
                Problem(
                    name,
                    f"coordinate column is missing; columns present: {list(df.columns)}",
                    file=file,
                    column=c,
                )
            )
    if problems:
        raise LayerError(problems)
    if source.crs is None:
        raise LayerError(
            [
                Problem(
                    name,
                    f"{'XLSX' if spreadsheet else 'CSV'} layer has no CRS; expected `crs` (e.g. 'EPSG:4326' or "
                    "'EPSG:4490') in its [layers] entry",
                    file=file,
                )
            ]
        )
    lon = pd.to_numeric(df[source.lon], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(df[source.lat], errors="coerce").to_numpy(dtype=float)
    idc = SCHEMAS[name].id_column if name in SCHEMAS else None
    for i in np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat)):
        rid = f"{idc}={df[idc].iloc[i]}" if idc and idc in df.columns else None
        col = source.lon if not np.isfinite(lon[i]) else source.lat
        problems.append(
            Problem(
                name,
                f"{df[col].iloc[i]!r} is not a number; expected a coordinate in degrees",
                file=file,
                row=i + 1,
                row_id=rid,
                column=col,
            )
        )
    geom = shapely.points(lon, lat)
    geom[~np.isfinite(lon) | ~np.isfinite(lat)] = None
    frame = gpd.GeoDataFrame(
        df.drop(columns=[source.lon, source.lat]),
        geometry=geom,
        crs=parse_crs(source.crs, what=f"layers.{name}.crs"),
    )
    return frame, problems


def read_layer(source: LayerSource, name: str) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read one layer file as it is (source CRS), with problems found while reading.

    Raises
    ------
    LayerError
        The file is missing or unreadable, has several layers and none is named, or has no CRS.
    """
    path = Path(source.path)
    file = str(path)
    if not path.exists():
        raise LayerError([Problem(name, "file does not exist", file=file)])
    problems: list[Problem] = []
    suffix = path.suffix.lower()
    if suffix in _TABLES:
        frame, problems = _read_table(path, source, name)
    elif suffix == ".xls":
        msg = "is an Excel 97-2003 workbook (.xls); expected .xlsx (save it as an Excel Workbook) or CSV"
        raise LayerError([Problem(name, msg, file=file)])
    elif suffix in _PARQUET:
        try:
            frame = gpd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise LayerError([Problem(name, f"cannot read GeoParquet: {exc}", file=file)]) from exc
    else:
        layer = source.layer
        try:
            if layer is None:
                available = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
                if name in available:
                    layer = name
                elif len(available) == 1:
                    layer = available[0]
                else:
                    raise LayerError(
                        [
                            Problem(
                                name,
                                f"file has layers {available} and none is named `{name}`; set `layer` in project.toml",
                                file=file,
                            )
                        ]
                    )
            frame = pyogrio.read_dataframe(path, layer=layer)
        except LayerError:
            raise
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, ValueError) as exc:
            raise LayerError([Problem(name, f"cannot read layer {layer!r}: {exc}", file=file)]) from exc

    declared = parse_crs(source.crs, what=f"layers.{name}.crs") if source.crs else None
    if frame.crs is None and declared is not None:
        frame = frame.set_crs(declared)
    elif frame.crs is not None and declared is not None and not frame.crs.equals(declared) and suffix not in _TABLES:
        problems.append(
            Problem(
                name,
                f"file says CRS {frame.crs.to_string()} but project.toml declares {source.crs}; expected them to agree",
                file=file,
                column="geometry",
            )
        )
    why = source_crs_problem(frame.crs)
    if why:
        raise LayerError([*problems, Problem(name, f"layer {why}", file=file, column="geometry")])
    return frame, problems


def load_layer(
    source: LayerSource, name: str, *, coordinates: str = "wgs84", metric_crs: CRS | None = None
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read, validate and (optionally) project one layer.

    Parameters
    ----------
    source : LayerSource
        Where the layer is.
    name : str
        Layer name (``villages``, ``schools`` ...), selects the schema.
    coordinates : {"wgs84", "gcj02"}
        ``gcj02``: the layer's geographic coordinates are GCJ-02 and are converted to WGS84.
    metric_crs : pyproj.CRS, optional
        Project to this CRS after validation when given.

    Returns
    -------
    frame, problems
        The cleaned layer (same row order and index as the file) and every problem found. When any problem
        is an error the frame must not be used.
    """
    file = str(source.path)
    frame, problems = read_layer(source, name)
    frame, vprobs = validate_frame(frame, name, file=file)
    problems.extend(vprobs)
    if frame.crs.is_geographic and len(frame):
        problems.extend(check_lonlat(frame, SCHEMAS[name], file=file))
    if any(p.severity == "error" for p in problems):
        return frame, problems
    if coordinates == "gcj02" and frame.crs.is_geographic:
        frame = frame.set_geometry(gcj02_geometries_to_wgs84(np.asarray(frame.geometry.values)), crs=frame.crs)
        logger.info("%s: converted %d features from GCJ-02 to WGS84", name, len(frame))
    if metric_crs is not None:
        frame = frame.to_crs(metric_crs)
    return frame, problems


def project_metric_crs(project: Project, admin: gpd.GeoDataFrame) -> CRS:
    """The project's metric CRS: ``metric_crs`` from the file, else UTM of the admin areas' centroid."""
    if project.metric_crs:
        return parse_crs(project.metric_crs, what="project.metric_crs")
    ll = admin.to_crs(4326)
    c = shapely.union_all(np.asarray(ll.geometry.values)).centroid
    return utm_crs_for(float(c.x), float(c.y))


def load_layers(project: Project, *, progress: Callable[[str], None] | None = None) -> Layers:
    """Read, validate and project every layer the project names.

    Raises
    ------
    LayerError
        With every error of every layer (file, layer, row, column, what was expected), never a partial result.
    """
    problems: list[Problem] = []
    raw: dict[str, gpd.GeoDataFrame] = {}
    for name in LAYER_NAMES:
        source = project.layers.get(name)
        if source is None:
            continue
        if progress:
            progress(name)
        try:
            frame, probs = load_layer(source, name, coordinates=project.coordinates)
        except LayerError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(probs)
        if not any(p.severity == "error" for p in probs):
            raw[name] = frame
    raise_if_errors(problems)

    crs = project_metric_crs(project, raw["admin"])
    frames = {name: frame.to_crs(crs) for name, frame in raw.items()}
    region = shapely.union_all(np.asarray(frames["admin"].geometry.values))
    warnings = [p for p in problems if p.severity == "warning"]
    for name in ("villages", "schools", "sites", "fibre_nodes", "candidates"):
        if name in frames:
            warnings.extend(outside_area_warnings(frames[name], region, name, file=str(project.layers[name].path)))
    for w in warnings:
        logger.warning("%s", w)
    return Layers(
        crs=crs,
        frames=frames,
        sources={n: str(project.layers[n].path) for n in frames},
        warnings=tuple(warnings),
    )


def write_layers(layers: Mapping[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write layers into one GeoPackage, one table per layer (replacing the file)."""
    path = Path(path)
    if path.exists():
        path.unlink()
    for name, frame in layers.items():
        out = frame.copy()
        for c in out.columns:
            if str(out[c].dtype) == "boolean":
                out[c] = out[c].astype(object)
        pyogrio.write_dataframe(out, path, layer=name, driver="GPKG")
