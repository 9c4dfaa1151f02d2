"""Reading, validating and projecting the planning layers.

Formats (through pyogrio / GDAL): GeoPackage, GeoJSON, Shapefile, GeoParquet (via pyarrow), and CSV or Excel
workbooks (.xlsx, a sheet named in the layer's ``sheet``) with longitude/latitude columns, read as text cells
(:mod:`gis.readers`) and validated alike. Every layer is checked against its schema (:mod:`gis.validation`), GCJ-02
coordinates are converted to WGS84 when the project says so, and all layers are projected to the project's
metric CRS. Problems across all layers are collected and raised together as one :class:`LayerError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyarrow import ArrowException
from pyproj import CRS

from gis.crs import (
    MAX_SCALE_ERROR,
    gcj02_geometries_to_wgs84,
    parse_crs,
    scale_error,
    source_crs_problem,
    utm_crs_for,
)
from gis.errors import LayerError, Problem, Severity, raise_if_errors
from gis.files import FORMAT_NAMES, not_a_regular_file, sniff
from gis.project import LAYER_NAMES, LayerSource, Project
from gis.readers import gpkg_view_problem, read_csv_text, read_xlsx_text
from gis.schema import LAT_ALIASES, LON_ALIASES, SCHEMAS, header_key
from gis.validation import (
    bare_file_problems,
    check_lonlat,
    fill_values,
    outside_area_warnings,
    rename_aliases,
    validate_frame,
)

logger = logging.getLogger(__name__)

_XLSX = (".xlsx", ".xlsm")
#: Table kinds: lon/lat columns in text cells, a declared CRS (:func:`_read_table`).
_TABLES = ("csv", "xlsx")


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
    def limits(self) -> tuple[str, ...]:
        """What the project's layers cannot plan (:func:`input_limits`)."""
        return tuple(input_limits(self.frames))

    @property
    def region(self) -> shapely.Geometry:
        """Union of the admin areas (metric CRS)."""
        return shapely.union_all(np.asarray(self.frames["admin"].geometry.values))


#: What a run cannot plan without an input: code -> the sentence logged and listed with the warnings.
LIMITS = {
    "no_is_poor": (
        "villages",
        "is_poor",
        "the villages have no `is_poor` (the 建档立卡 register): the poor-village KPIs have no base and target mode "
        "plans nothing for villages; join the register with `coverplan import register` or plan a budget with "
        "--budget-cny",
    ),
    "no_fibre": (
        "fibre",
        None,
        "the project has no fibre layer (fibre / fibre_nodes): no fibre extension can be planned and every fibre "
        "need is 'not coverable'",
    ),
}


def input_limits(frames: Mapping[str, gpd.GeoDataFrame]) -> dict[str, str]:
    """Codes of :data:`LIMITS` that hold for these layers, with their sentences: ``no_is_poor`` (villages without
    an ``is_poor`` value), ``no_fibre`` (neither ``fibre`` nor ``fibre_nodes``)."""
    out = {}
    villages = frames.get("villages")
    if villages is not None and ("is_poor" not in villages or not villages["is_poor"].notna().any()):
        out["no_is_poor"] = LIMITS["no_is_poor"][2]
    if frames.get("fibre") is None and frames.get("fibre_nodes") is None:
        out["no_fibre"] = LIMITS["no_fibre"][2]
    return out


def _read_table(path: Path, source: LayerSource, name: str) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """A CSV or .xlsx layer: text cells, points from its lon/lat columns in the CRS its entry declares."""
    file = str(path)
    spreadsheet = path.suffix.lower() in _XLSX
    df = read_xlsx_text(path, layer=name, sheet=source.sheet) if spreadsheet else read_csv_text(path, layer=name)
    problems = []
    lon_col, lat_col = _lonlat_columns(source, list(df.columns))
    for c in (lon_col, lat_col):
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
    lon = pd.to_numeric(df[lon_col], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(df[lat_col], errors="coerce").to_numpy(dtype=float)
    idc = SCHEMAS[name].id_column if name in SCHEMAS else None
    for i in np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat)).tolist():
        rid = f"{idc}={df[idc].iloc[i]}" if idc and idc in df.columns else None
        col = lon_col if not np.isfinite(lon[i]) else lat_col
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
        df.drop(columns=[lon_col, lat_col]),
        geometry=geom,
        crs=parse_crs(source.crs, what=f"layers.{name}.crs"),
    )
    return frame, problems


def _lonlat_columns(source: LayerSource, headings: list[str]) -> tuple[str, str]:
    """The headings of a table's longitude and latitude: its ``columns`` entry's ``lon``/``lat``, else its
    ``lon``/``lat`` keys, else (when those are left at ``lon``/``lat`` and the table has no such column) the one
    heading of :data:`gis.schema.LON_ALIASES` / :data:`~gis.schema.LAT_ALIASES` it has (``经度``/``纬度``)."""
    mapped = dict(source.columns)
    out = []
    for key, given, aliases in (("lon", source.lon, LON_ALIASES), ("lat", source.lat, LAT_ALIASES)):
        col = mapped.get(key, given)
        if col == key and col not in headings:
            keys = {header_key(a) for a in aliases}
            hits = [h for h in headings if header_key(h) in keys]
            col = hits[0] if len(hits) == 1 else col
        out.append(col)
    return out[0], out[1]


#: Formats a layer file may have (by its signature, :func:`gis.files.sniff`) and the GDAL driver that must read it.
_VECTOR_DRIVERS = {"gpkg": "GPKG", "geojson": "GeoJSON", "shapefile": "ESRI Shapefile"}


def _layer_problem(name: str, message: str, file: str, column: str | None = None) -> LayerError:
    return LayerError([Problem(name, message, file=file, column=column)])


def _check_file(path: Path, name: str) -> str:
    """The format of a layer file (:func:`gis.files.sniff`; ``csv`` by its suffix, ``xlsx`` a zip named .xlsx), or
    LayerError when it is not a regular file of a format the README lists: no other reader, GDAL's above all, ever
    sees it."""
    file = str(path)
    why = not_a_regular_file(path)
    if why:
        raise _layer_problem(name, f"layer file {why}", file)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".xls":
        msg = "is an Excel 97-2003 workbook (.xls); expected .xlsx (save it as an Excel Workbook) or CSV"
        raise _layer_problem(name, msg, file)
    kind = sniff(path)
    if suffix in _XLSX:
        return "xlsx"  # openpyxl reads it (no GDAL) after gis.readers.check_xlsx: an .xls renamed .xlsx gets advice
    if kind not in (*_VECTOR_DRIVERS, "parquet"):
        msg = (
            f"is not a GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV or XLSX file: the file is "
            f"{FORMAT_NAMES.get(kind, FORMAT_NAMES[None])}; expected one of those (a CSV named .csv, a workbook "
            ".xlsx)"
        )
        raise _layer_problem(name, msg, file)
    if kind == "shapefile":
        for sibling in (path.with_suffix(s) for s in (".shx", ".dbf", ".prj", ".cpg")):
            if sibling.exists() and not_a_regular_file(sibling):
                raise _layer_problem(name, f"`{sibling.name}` beside it {not_a_regular_file(sibling)}", file)
    return kind


def _read_gdal(path: Path, source: LayerSource, name: str, kind: str) -> gpd.GeoDataFrame:
    """A GeoPackage, GeoJSON or Shapefile layer through pyogrio, refused unless GDAL read it with the driver its
    signature says."""
    file = str(path)
    layer = source.layer
    try:
        if layer is None:
            available = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
            if name in available:
                layer = name
            elif len(available) == 1:
                layer = available[0]
            else:
                msg = f"file has layers {available} and none is named `{name}`; set `layer` in project.toml"
                raise _layer_problem(name, msg, file)
        view = gpkg_view_problem(path, str(layer), layer=name) if kind == "gpkg" else None
        if view is not None:
            raise LayerError([view])
        driver = pyogrio.read_info(path, layer=layer)["driver"]
        if driver != _VECTOR_DRIVERS[kind]:
            msg = f"was read by GDAL's {driver} driver; expected {FORMAT_NAMES[kind]} ({_VECTOR_DRIVERS[kind]})"
            raise _layer_problem(name, msg, file)
        frame = pyogrio.read_dataframe(path, layer=layer)
    except LayerError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, ValueError) as exc:
        raise _layer_problem(name, f"cannot read layer {layer!r}: {exc}", file) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = f"layer {layer!r} is a table without geometry; expected a spatial layer (or a CSV with lon/lat)"
        raise _layer_problem(name, msg, file, column="geometry")
    return frame


def read_layer(source: LayerSource, name: str) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read one layer file as it is (source CRS), with problems found while reading.

    Raises
    ------
    LayerError
        The file is missing, not a regular file, not of a listed format (by its signature: :mod:`gis.files`),
        unreadable, has several layers and none is named, has no geometry, or has no CRS.
    """
    path = Path(source.path)
    file = str(path)
    kind = _check_file(path, name)
    problems: list[Problem] = []
    try:
        declared = parse_crs(source.crs, what=f"layers.{name}.crs") if source.crs else None
    except ValueError as exc:
        raise _layer_problem(name, str(exc), file, column="geometry") from exc
    if kind in _TABLES:
        frame, problems = _read_table(path, source, name)
    elif kind == "parquet":
        try:
            frame = gpd.read_parquet(path)
        except (OSError, ValueError, TypeError, ArrowException) as exc:
            raise _layer_problem(name, f"cannot read GeoParquet: {exc}", file) from exc
    else:
        frame = _read_gdal(path, source, name, kind)

    if frame.crs is None and declared is not None:
        frame = frame.set_crs(declared)
    elif frame.crs is not None and declared is not None and not frame.crs.equals(declared) and kind not in _TABLES:
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
    hint = _degrees_in_metres(frame, kind)
    if hint:
        raise LayerError([*problems, Problem(name, hint, file=file, column="geometry")])
    return frame, problems


def _degrees_in_metres(frame: gpd.GeoDataFrame, kind: str) -> str | None:
    """One problem instead of hundreds ("outside the DEM") for a layer in a projected CRS whose coordinates all
    look like longitude/latitude degrees."""
    if not frame.crs.is_projected or not len(frame):
        return None
    geoms = np.asarray(frame.geometry.values)
    usable = ~shapely.is_missing(geoms)
    usable[usable] = ~shapely.is_empty(geoms[usable])
    b = shapely.bounds(geoms[usable])
    b = b[np.isfinite(b).all(axis=1)]
    if not len(b) or np.abs(b[:, [0, 2]]).max() > 180.0 or np.abs(b[:, [1, 3]]).max() > 90.0:
        return None
    fix = "declare crs = 'EPSG:4326' in its [layers] entry" if kind == "csv" else "set the file's CRS to EPSG:4326"
    return (
        f"every coordinate lies within +-180/+-90 but the layer's CRS {frame.crs.to_string()} is in metres: the "
        f"values look like longitude/latitude degrees; {fix}"
    )


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
    frame, aprobs = rename_aliases(frame, name, columns=dict(source.columns), file=file)
    if source.values and not aprobs:
        frame, aprobs = fill_values(frame, name, dict(source.values), file=file)
    aprobs = aprobs or bare_file_problems(frame, name, file=file)
    if aprobs:
        return frame, [*problems, *aprobs]
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


def _region_lonlat(admin: gpd.GeoDataFrame, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray, shapely.Point]:
    """Longitudes and latitudes of the admin areas' vertices (at most ``max_points``, evenly picked) and their
    centroid (WGS84 degrees)."""
    ll = np.asarray(admin.to_crs(4326).geometry.values)
    xy = shapely.get_coordinates(ll)
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) > max_points:
        xy = xy[np.linspace(0, len(xy) - 1, max_points).astype(np.int64)]
    c = shapely.union_all(ll).centroid
    return np.append(xy[:, 0], c.x), np.append(xy[:, 1], c.y), c


def _crs_problem(project: Project, message: str, severity: Severity = "error") -> Problem:
    return Problem("project", message, file=str(project.path), column="metric_crs", severity=severity)


def project_metric_crs(project: Project, admin: gpd.GeoDataFrame) -> CRS:
    """The project's metric CRS: ``metric_crs`` from the file, else UTM of the admin areas' centroid.

    Raises
    ------
    LayerError
        A declared ``metric_crs`` whose point scale error over the admin areas is above
        :data:`gis.crs.MAX_SCALE_ERROR` (1 %) and above that of the UTM zone coverplan would pick (a region too
        large for any one projection keeps the better one); without ``metric_crs``, a region outside UTM's
        latitudes.
    """
    lon, lat, c = _region_lonlat(admin)
    try:
        utm = utm_crs_for(float(c.x), float(c.y))
    except ValueError:
        utm = None
    if not project.metric_crs:
        if utm is None:
            msg = (
                f"the admin areas' centroid ({c.x:.4f}, {c.y:.4f}) lies outside UTM's latitudes (-80..84); "
                "expected `metric_crs` in [project] (e.g. a polar stereographic CRS)"
            )
            raise LayerError([_crs_problem(project, msg)])
        return utm
    crs = parse_crs(project.metric_crs, what="project.metric_crs")
    err = scale_error(crs, lon, lat)
    if err > MAX_SCALE_ERROR and (utm is None or err > scale_error(utm, lon, lat)):
        found = f"is {err:.1%}" if np.isfinite(err) else "is undefined (the region is beyond its domain)"
        msg = (
            f"`metric_crs` = {project.metric_crs!r}: its scale error over the admin areas {found}; expected at most "
            f"{MAX_SCALE_ERROR:.0%} (a conformal or equidistant projection centred on the region"
            + (f", e.g. {utm.to_string()}, the UTM zone coverplan picks when `metric_crs` is omitted)" if utm else ")")
        )
        raise LayerError([_crs_problem(project, msg)])
    return crs


def _metric_crs_warnings(project: Project, crs: CRS, admin: gpd.GeoDataFrame) -> list[Problem]:
    """A warning when the UTM zone coverplan picked distorts distances by more than 1 % over a wide region."""
    if project.metric_crs:
        return []
    lon, lat, _ = _region_lonlat(admin)
    err = scale_error(crs, lon, lat)
    if err <= MAX_SCALE_ERROR:
        return []
    msg = (
        f"the UTM zone picked for the region ({crs.to_string()}) distorts distances by up to {err:.1%} over the "
        "admin areas; set `metric_crs` in [project] to a projection fitting the region (e.g. a Lambert conformal "
        "conic with standard parallels across it)"
    )
    return [_crs_problem(project, msg, severity="warning")]


def _operator_problems(project: Project, sites: gpd.GeoDataFrame | None) -> list[Problem]:
    """``[optimise] operator`` set: an error when the sites have no ``operator`` column, a warning when no site is
    that operator's (then every tower is offered for sharing)."""
    operator = project.optimise.operator
    if not operator or sites is None:
        return []
    file = str(project.layers["sites"].path)
    if "operator" not in sites.columns:
        msg = (
            f"`[optimise] operator` = {operator!r} is set but the layer has no `operator` column; expected the "
            "operator of each site to tell own sites from towers to share"
        )
        return [Problem("sites", msg, file=file, column="operator")]
    ops = sorted(sites["operator"].dropna().astype(str).unique())
    if operator in ops:
        return []
    msg = (
        f"no site is of `[optimise] operator` = {operator!r} (operators: {ops[:10]}): every tower is offered for "
        "sharing and no 5G upgrade; expected one of the operators"
    )
    return [Problem("sites", msg, file=file, column="operator", severity="warning")]


#: Relative tolerance when a site's ``band_mhz`` is matched to an operator's licensed band (nominal figures: 1800,
#: 1850 and 1860 MHz name the same band; 900 and 850 MHz do not).
BAND_TOLERANCE = 0.03


def _licensed(band_mhz: float, bands: Sequence[float]) -> bool:
    """Whether ``band_mhz`` is within :data:`BAND_TOLERANCE` of one of ``bands``."""
    return any(abs(band_mhz - b) <= BAND_TOLERANCE * b for b in bands)


def band_licence_warnings(project: Project, sites: gpd.GeoDataFrame | None) -> list[Problem]:
    """A warning per site row whose operator has its own ``[[radio.operators]]`` row that does not list the row's
    band (``lte_bands_mhz`` for 4G, ``nr_bands_mhz`` for 5G): the coverage counts it, but the operator does not hold
    that band. Rows of an operator without a row of its own (``*``) are not checked."""
    if sites is None or "operator" not in sites.columns or not len(sites):
        return []
    rules = {r.operator: r for r in project.radio.operators if r.operator != "*"}
    file = str(project.layers["sites"].path)
    out = []
    ids = sites["site_id"].astype(str).to_numpy()
    ops = sites["operator"].to_numpy(dtype=object)
    for i, (sid, op, tech, band) in enumerate(zip(ids, ops, sites["tech"], sites["band_mhz"], strict=True)):
        rule = rules.get(op) if isinstance(op, str) else None
        if rule is None:
            continue
        bands = rule.lte_bands_mhz if tech == "4g" else rule.nr_bands_mhz
        if _licensed(float(band), bands):
            continue
        held = ", ".join(f"{b:g}" for b in bands)
        msg = (
            f"{tech} on {float(band):g} MHz: operator {op!r} does not hold that band in `[[radio.operators]]` "
            f"({tech} bands {held} MHz); the site is counted as given: check the band or the operator"
        )
        out.append(
            Problem("sites", msg, file=file, row=i + 1, row_id=f"site_id={sid}", column="band_mhz", severity="warning")
        )
    return out


def sector_split_warnings(project: Project, sites: gpd.GeoDataFrame | None) -> list[Problem]:
    """One warning counting the site rows without ``azimuth_deg`` that the coverage takes as three sectors at
    0/120/240 deg (``[radio] missing_azimuth = "three_sectors"``, the default): a stated assumption."""
    if sites is None or project.radio.missing_azimuth != "three_sectors" or not len(sites):
        return []
    n = len(sites) if "azimuth_deg" not in sites.columns else int(sites["azimuth_deg"].isna().sum())
    if not n:
        return []
    msg = (
        f"{n} of {len(sites)} site row(s) have no azimuth_deg: each is taken as three sectors at 0/120/240 deg "
        '(`[radio] missing_azimuth = "three_sectors"`); give azimuth_deg, or "omni" for omni cells'
    )
    return [Problem("sites", msg, file=str(project.layers["sites"].path), column="azimuth_deg", severity="warning")]


#: Layers whose rows belong to an administrative village by ``village_id`` (docs/programme.md).
VILLAGE_MEMBER_LAYERS = ("facilities", "settlements")


def village_id_problems(frames: Mapping[str, gpd.GeoDataFrame], files: Mapping[str, str]) -> list[Problem]:
    """An error per row of a facilities or settlements layer whose ``village_id`` names no village of the
    villages layer (file, layer, row, row id, column, the value and what was expected)."""
    villages = frames.get("villages")
    if villages is None:
        return []
    known = set(villages["village_id"].astype(str).str.strip())
    out = []
    for name in VILLAGE_MEMBER_LAYERS:
        frame = frames.get(name)
        if frame is None:
            continue
        id_col = SCHEMAS[name].id_column
        refs = frame["village_id"].astype(str).str.strip().to_numpy()
        for i in np.flatnonzero(~np.isin(refs, list(known))):
            msg = f"`village_id` = {refs[i]!r} names no village of the villages layer; expected a village_id there"
            out.append(
                Problem(
                    name,
                    msg,
                    file=files.get(name),
                    row=int(i) + 1,
                    row_id=f"{id_col}={frame[id_col].iloc[i]}",
                    column="village_id",
                )
            )
    return out


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
    problems.extend(_operator_problems(project, raw.get("sites")))
    problems.extend(sector_split_warnings(project, raw.get("sites")))
    problems.extend(band_licence_warnings(project, raw.get("sites")))
    problems.extend(village_id_problems(raw, {n: str(project.layers[n].path) for n in raw}))
    raise_if_errors(problems)

    crs = project_metric_crs(project, raw["admin"])
    problems.extend(_metric_crs_warnings(project, crs, raw["admin"]))
    frames = {name: frame.to_crs(crs) for name, frame in raw.items()}
    region = shapely.union_all(np.asarray(frames["admin"].geometry.values))
    warnings = [p for p in problems if p.severity == "warning"]
    for code, sentence in input_limits(frames).items():
        layer, column, _ = LIMITS[code]
        warnings.append(Problem(layer, sentence, column=column, severity="warning"))
    for name in ("villages", "schools", "sites", "fibre_nodes", "candidates"):
        if name in frames:
            warnings.extend(outside_area_warnings(frames[name], region, name, file=str(project.layers[name].path)))
    for w in warnings:  # shown once, by the caller (validate's table, run's list): logged here for -v only
        logger.info("%s", w)
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
