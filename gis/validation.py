"""Validation of layers against their schemas; every problem is collected, nothing is silently dropped.

The functions here take a layer as read (source CRS) and return a cleaned copy (ids as text, numbers as
numbers, enums normalised to lower case, booleans as booleans) together with the list of problems found:
missing or empty layers, missing columns, null/empty/invalid/wrong-type geometry, coordinates out of range
or with longitude and latitude swapped, duplicate ids, values of the wrong type or out of range, unknown
enum values.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import Problem
from gis.schema import (
    COLUMN_ALIASES,
    SCHEMAS,
    VALUE_ALIASES,
    Column,
    LayerSchema,
    header_key,
    school_kind_of_name,
    value_key,
)
from gis.text import text_problem

logger = logging.getLogger(__name__)

#: Characters an extra text column (not in the schema) may hold beyond printable text: tab and line breaks (a note
#: in several lines); the schema's text columns refuse them too (:mod:`gis.text`).
_EXTRA_ALLOWED = "\t\n\r"
_TRUE = {"true", "t", "yes", "y", "1", "是", "1.0", "有", "√", "对"}
_FALSE = {"false", "f", "no", "n", "0", "否", "0.0", "无", "×", "x", "没有"}
#: A number written with thousands separators, as Excel's number format exports it (``1,210`` or ``12,345.5``).
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def _row_ids(frame: pd.DataFrame, schema: LayerSchema) -> list[str | None]:
    col = schema.id_column
    if col not in frame.columns:
        return [None] * len(frame)
    return [None if _isnull(v) else f"{col}={v}" for v in frame[col].tolist()]


def _isnull(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT


def _id_text(v: object) -> str | None:
    """Id value as text; integral floats (1.0 from a CSV with gaps) become '1'."""
    if _isnull(v):
        return None
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    s = str(v).strip()
    return s or None


def check_geometry(frame: gpd.GeoDataFrame, schema: LayerSchema, *, file: str | None = None) -> list[Problem]:
    """Problems with the geometry column: missing, empty, non-finite, invalid or of the wrong type."""
    problems: list[Problem] = []
    ids = _row_ids(frame, schema)
    geoms = np.asarray(frame.geometry.values)
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    types = np.asarray(shapely.get_type_id(geoms))
    names = np.array(
        [
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        ]
    )
    ok_geom = ~missing & ~empty
    coords_ok = np.ones(len(geoms), dtype=bool)
    if ok_geom.any():
        b = shapely.bounds(geoms[ok_geom])
        coords_ok[ok_geom] = np.isfinite(b).all(axis=1)
    valid = np.ones(len(geoms), dtype=bool)
    valid[ok_geom] = shapely.is_valid(geoms[ok_geom])
    expected = " or ".join(schema.geometry)
    for i in range(len(geoms)):
        msg = None
        if missing[i]:
            msg = f"has no geometry; expected a {expected}"
        elif empty[i]:
            msg = f"has an empty geometry; expected a {expected}"
        elif names[types[i]] not in schema.geometry:
            msg = f"geometry is a {names[types[i]]}; expected a {expected}"
        elif not coords_ok[i]:
            msg = "geometry has NaN or infinite coordinates"
        elif not valid[i]:
            reason = shapely.is_valid_reason(geoms[i])
            msg = f"geometry is invalid ({reason}); expected a valid {expected}"
        if msg:
            problems.append(Problem(schema.name, msg, file=file, row=i + 1, row_id=ids[i], column="geometry"))
    return problems


def check_lonlat(frame: gpd.GeoDataFrame, schema: LayerSchema, *, file: str | None = None) -> list[Problem]:
    """Problems with geographic coordinates: out of range (lon -180..180, lat -90..90) or lon/lat swapped.

    Only meaningful for a layer in a geographic CRS; geometry problems are reported by
    :func:`check_geometry` and skipped here.
    """
    geoms = np.asarray(frame.geometry.values)
    usable = ~shapely.is_missing(geoms)
    usable[usable] = ~shapely.is_empty(geoms[usable])
    if not usable.any():
        return []
    b = np.full((len(geoms), 4), np.nan)
    b[usable] = shapely.bounds(geoms[usable])
    ids = _row_ids(frame, schema)
    problems = []
    for i in np.flatnonzero(usable).tolist():
        minx, miny, maxx, maxy = b[i]
        if not np.isfinite(b[i]).all():
            continue
        lon_ok = minx >= -180.0 and maxx <= 180.0
        lat_ok = miny >= -90.0 and maxy <= 90.0
        if lon_ok and lat_ok:
            continue
        if abs(minx) <= 90.0 and abs(maxx) <= 90.0 and abs(miny) <= 180.0 and abs(maxy) <= 180.0:
            msg = (
                f"coordinates (x={minx:.6f}, y={miny:.6f}) have a latitude beyond 90 degrees: longitude "
                "and latitude look swapped; expected x = longitude, y = latitude"
            )
        else:
            msg = (
                f"coordinates (x={minx:.6f}, y={miny:.6f}) are out of range; expected longitude -180..180 and "
                "latitude -90..90 degrees (is the layer in a projected CRS without saying so?)"
            )
        problems.append(Problem(schema.name, msg, file=file, row=i + 1, row_id=ids[i], column="geometry"))
    return problems


def _coerce_column(
    values: pd.Series, col: Column, *, schema: LayerSchema, ids: Sequence[str | None], file: str | None
) -> tuple[pd.Series, list[Problem]]:
    """Coerce one column to its schema type; collect a problem per bad row."""
    problems: list[Problem] = []

    def bad(i: int, msg: str) -> None:
        problems.append(Problem(schema.name, msg, file=file, row=i + 1, row_id=ids[i], column=col.name))

    values = _mapped_values(values, schema.name, col.name)
    raw = values.tolist()
    null = np.array([_isnull(v) or (isinstance(v, str) and not v.strip()) for v in raw], dtype=bool)
    if col.required or col.complete:
        for i in np.flatnonzero(null).tolist():
            bad(
                i,
                f"is empty; expected {col.expected()}"
                + ("" if col.required else " in every row when the column is given"),
            )
    coerce = {
        "id": _coerce_text,
        "text": _coerce_text,
        "admin_code": _coerce_admin_code,
        "enum": _coerce_enum,
        "bool": _coerce_bool,
    }.get(col.kind, _coerce_number)
    return coerce(values, raw, null, col, bad), problems


def _mapped_values(values: pd.Series, layer: str, column: str) -> pd.Series:
    """Cells written as a Chinese (or other) word the layer's :data:`gis.schema.VALUE_ALIASES` know, replaced by
    the schema's value (``小学`` -> ``primary``, ``中国移动`` -> ``CMCC``); other cells as they are."""
    words = VALUE_ALIASES.get(layer, {}).get(column)
    if not words:
        return values
    if (layer, column) == ("schools", "kind"):  # 九年一贯制学校, 某某村小: the words of a kind inside a longer value
        return values.map(lambda v: words.get(value_key(v)) or school_kind_of_name(v) or v if isinstance(v, str) else v)
    return values.map(lambda v: words.get(value_key(v), v) if isinstance(v, str) else v)


def _number_text(v: object) -> object:
    """A text cell as a number parser reads it: full-width digits as ASCII (NFKC), thousands separators dropped."""
    if not isinstance(v, str):
        return v
    s = unicodedata.normalize("NFKC", v).strip()
    return s.replace(",", "") if _GROUPED.fullmatch(s) else s


def rename_aliases(
    frame: gpd.GeoDataFrame, layer: str, *, columns: Mapping[str, str] | None = None, file: str | None = None
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """The layer with its headings renamed to the schema's column names, and the problems found.

    ``columns`` (a layer's ``columns`` entry in ``[layers]``: schema column -> heading in the file) is applied
    first; then each schema column missing from the frame takes the one heading among
    :data:`gis.schema.COLUMN_ALIASES` the frame has (compared by :func:`gis.schema.header_key`). A mapped heading
    missing from the file, or two headings that both mean a missing column, is an error naming them.
    """
    schema = SCHEMAS[layer]
    problems: list[Problem] = []
    present = [str(c) for c in frame.columns if c != frame.geometry.name]
    rename: dict[str, str] = {}
    for target, heading in (columns or {}).items():
        if target in ("lon", "lat"):
            continue
        found = [c for c in present if c == heading] or [c for c in present if header_key(c) == header_key(heading)]
        if not found:
            msg = f"`columns.{target}` = {heading!r} is not a heading of the file; headings: {present}"
            problems.append(Problem(layer, msg, file=file, column=target))
        elif target in present and found[0] != target:
            msg = f"`columns.{target}` = {heading!r}, but the file also has a column `{target}`; expected one of them"
            problems.append(Problem(layer, msg, file=file, column=target))
        else:
            rename[found[0]] = target
    taken = set(rename) | set(rename.values()) | set(present)
    keys = {header_key(c): c for c in present if c not in rename}
    for col in schema.columns:
        if col.name in taken:
            continue
        hits = sorted({keys[k] for k in map(header_key, COLUMN_ALIASES.get(layer, {}).get(col.name, ())) if k in keys})
        hits = [h for h in hits if h not in rename]
        if len(hits) > 1:
            msg = (
                f"headings {hits} all mean `{col.name}`; expected one (name the one to use in its [layers] entry: "
                f"columns = {{ {col.name} = {hits[0]!r} }})"
            )
            problems.append(Problem(layer, msg, file=file, column=col.name))
        elif hits:
            rename[hits[0]] = col.name
    if rename:
        logger.info("%s: headings read as %s", layer, ", ".join(f"{a} -> {b}" for a, b in rename.items()))
    return frame.rename(columns=rename), problems


def fill_values(
    frame: gpd.GeoDataFrame, layer: str, values: Mapping[str, str], *, file: str | None = None
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """The layer with the columns of ``values`` (a ``[layers]`` entry's ``values``, or the command line's) given to
    every feature, and the problems found.

    For a file that lacks these columns, typically a boundary without properties (cnmaps' GeoJSON: one
    MultiPolygon). A column the file already has is an error (the file's values are not overwritten), and so is a
    unique column (``area_id``, ``village_id`` ...) given to several features.
    """
    schema = SCHEMAS[layer]
    problems: list[Problem] = []
    out = frame.copy()
    for column, value in values.items():
        if column in out.columns:
            msg = f"`values.{column}` = {value!r}, but the file has a column `{column}`; expected one of them"
            problems.append(Problem(layer, msg, file=file, column=column))
        elif column == schema.id_column and len(out) > 1:
            msg = (
                f"`values.{column}` = {value!r} would give all {len(out)} features one {column}; expected a file of "
                f"one feature, or one with a {column} per feature (its heading in `columns`)"
            )
            problems.append(Problem(layer, msg, file=file, column=column))
        else:
            out[column] = value
    return out, problems


def bare_file_problems(
    frame: gpd.GeoDataFrame, layer: str, *, file: str | None = None, how: str | None = None
) -> list[Problem]:
    """One problem saying how to give a file without any property column its required columns (``how``; default:
    ``values`` in its ``[layers]`` entry), or none when the file has some property column or needs none."""
    schema = SCHEMAS[layer]
    if any(c != frame.geometry.name for c in frame.columns):
        return []
    missing = [c.name for c in schema.columns if c.required]
    if not missing:
        return []
    example = ", ".join(f'{c} = "{_EXAMPLE_VALUES.get(c, "...")}"' for c in missing)
    if how is None:
        how = (
            f"give them in the project's [layers] entry, e.g. {layer} = {{ path = "
            f'"{file or "FILE"}", values = {{ {example} }} }}'
            + (" (one feature per file)" if schema.id_column in missing else "")
        )
    msg = (
        f"the file has geometry only ({len(frame)} feature(s), no properties: e.g. a cnmaps GeoJSON); expected the "
        f"columns {', '.join(f'`{c}`' for c in missing)}: {how}"
    )
    return [Problem(layer, msg, file=file, column=", ".join(missing))]


#: Example values in :func:`bare_file_problems`' advice (Linjiang, Jilin: GB/T 2260 code 220681).
_EXAMPLE_VALUES = {"area_id": "220681", "name": "临江市"}


def _coerce_text(
    values: pd.Series, raw: list, null: np.ndarray, col: Column, bad: Callable[[int, str], None]
) -> pd.Series:
    for i, v in enumerate(raw):
        why = text_problem(v) if not null[i] else None
        if why:
            bad(i, why)
    return pd.Series(
        [None if null[i] else (_id_text(v) if col.kind == "id" else str(v).strip()) for i, v in enumerate(raw)],
        index=values.index,
        dtype=object,
    )


def _coerce_admin_code(
    values: pd.Series, raw: list, null: np.ndarray, col: Column, bad: Callable[[int, str], None]
) -> pd.Series:
    out: list[str | None] = []
    for i, v in enumerate(raw):
        if null[i]:
            out.append(None)
            continue
        s = _id_text(v) or ""
        if not (len(s) == 12 and s.isdigit()):
            bad(i, f"{v!r} is not {col.expected()}")
        out.append(s)
    return pd.Series(out, index=values.index, dtype=object)


def _coerce_enum(
    values: pd.Series, raw: list, null: np.ndarray, col: Column, bad: Callable[[int, str], None]
) -> pd.Series:
    out: list[str | None] = []
    for i, v in enumerate(raw):
        if null[i]:
            out.append(None)
            continue
        s = str(v).strip().lower()
        if s not in col.allowed:
            bad(i, f"{v!r} is not an allowed value; expected {col.expected()}")
        out.append(s)
    return pd.Series(out, index=values.index, dtype=object)


def _coerce_bool(
    values: pd.Series, raw: list, null: np.ndarray, col: Column, bad: Callable[[int, str], None]
) -> pd.Series:
    out: list[object] = []
    for i, v in enumerate(raw):
        if null[i]:
            out.append(pd.NA)
        elif isinstance(v, bool | np.bool_):
            out.append(bool(v))
        elif value_key(v) in _TRUE:
            out.append(True)
        elif value_key(v) in _FALSE:
            out.append(False)
        else:
            bad(i, f"{v!r} is not {col.expected()}")
            out.append(pd.NA)
    return pd.Series(out, index=values.index, dtype="boolean")


def _coerce_number(
    values: pd.Series, raw: list, null: np.ndarray, col: Column, bad: Callable[[int, str], None]
) -> pd.Series:
    """A float or int column: finite, whole for ints, within the column's range; NaN only where empty."""
    arr = pd.to_numeric(values.map(_number_text), errors="coerce").astype(float).to_numpy()
    for i in np.flatnonzero(~null & ~np.isfinite(arr)).tolist():
        bad(i, f"{raw[i]!r} is not a finite number; expected {col.expected()}")
    ok = ~null & np.isfinite(arr)
    checks = ok.copy()
    if col.kind == "int":
        frac = ok & (np.floor(np.where(ok, arr, 0.0)) != np.where(ok, arr, 0.0))
        for i in np.flatnonzero(frac).tolist():
            bad(i, f"{raw[i]!r} is not a whole number; expected {col.expected()}")
        checks &= ~frac
    vals = np.where(checks, arr, 0.0)
    out_of_range = np.zeros(len(arr), dtype=bool)
    if col.low is not None:
        out_of_range |= checks & ((vals <= col.low) if col.low_open else (vals < col.low))
    if col.high is not None:
        out_of_range |= checks & ((vals >= col.high) if col.high_open else (vals > col.high))
    for i in np.flatnonzero(out_of_range).tolist():
        neg = " is negative;" if col.low == 0 and arr[i] < 0 else " is out of range;"
        bad(i, f"{raw[i]!r}{neg} expected {col.expected()}")
    if col.kind == "int":
        good = checks & ~out_of_range  # a refused value (out of range, beyond int64) is not carried
        ints = pd.array([int(arr[i]) if good[i] else None for i in range(len(arr))], dtype="Int64")
        if not pd.isna(ints).any():
            return pd.Series(np.asarray(ints, dtype=np.int64), index=values.index)
        return pd.Series(ints, index=values.index)
    return pd.Series(np.where(ok, arr, np.nan), index=values.index)


def validate_frame(
    frame: gpd.GeoDataFrame, layer: str | LayerSchema, *, file: str | None = None
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Check a layer against its schema and return a cleaned copy and every problem found.

    Parameters
    ----------
    frame : GeoDataFrame
        The layer as read, in its source CRS.
    layer : str or LayerSchema
        Layer name (``villages``, ``schools``, ...) or a schema.
    file : str, optional
        Source file, named in the problems.

    Returns
    -------
    cleaned : GeoDataFrame
        Same rows and index as ``frame``; schema columns coerced (ids and text as ``str``, enums lower case,
        integers as ``int64`` or nullable ``Int64``, floats with NaN for empty optional cells, booleans as
        nullable ``boolean``); other columns kept as they are.
    problems : list of Problem
        Errors (and warnings) in row order per check; empty when the layer is clean.
    """
    schema = SCHEMAS[layer] if isinstance(layer, str) else layer
    problems: list[Problem] = []
    if len(frame) == 0:
        problems.append(Problem(schema.name, "layer is empty; expected at least one feature", file=file))
        return frame.copy(), problems

    out = frame.copy()
    missing = [c for c in schema.required if c not in out.columns]
    for c in missing:
        have = [str(c) for c in out.columns if c != out.geometry.name]
        problems.append(
            Problem(schema.name, f"required column is missing; columns present: {have}", file=file, column=c)
        )

    problems.extend(check_geometry(out, schema, file=file))
    ids = _row_ids(out, schema)
    for col in schema.columns:
        if col.name not in out.columns:
            continue
        coerced, probs = _coerce_column(out[col.name], col, schema=schema, ids=ids, file=file)
        out[col.name] = coerced
        problems.extend(probs)
    known = {c.name for c in schema.columns}
    for name in out.columns:
        if name in known or name == out.geometry.name or pd.api.types.is_numeric_dtype(out[name]):
            continue
        for i, v in enumerate(out[name].tolist()):
            why = text_problem(v, allow=_EXTRA_ALLOWED)
            if why:
                problems.append(
                    Problem(
                        schema.name,
                        why,
                        file=file,
                        row=i + 1,
                        row_id=ids[i],
                        column=str(name),
                    )
                )

    problems.extend(_placeholder_warnings(out, schema, ids, file=file))
    idc = schema.id_column
    if idc in out.columns:
        idv = out[idc]
        dup = idv.notna() & idv.duplicated(keep=False)
        if dup.any():
            first: dict[str, int] = {}
            for pos, (is_dup, v) in enumerate(zip(dup.to_numpy(), idv.tolist(), strict=True)):
                if not is_dup:
                    continue
                if v not in first:
                    first[v] = pos
                    continue
                problems.append(
                    Problem(
                        schema.name,
                        f"duplicate id {v!r} (first at row {first[v] + 1}); expected unique ids",
                        file=file,
                        row=pos + 1,
                        row_id=f"{idc}={v}",
                        column=idc,
                    )
                )
    return out, problems


def _placeholder_warnings(
    frame: pd.DataFrame, schema: LayerSchema, ids: Sequence[str | None], *, file: str | None
) -> list[Problem]:
    """A warning per column whose ``<column>_source`` says ``none``: the value is a placeholder an importer wrote
    where the source had none (e.g. a village's population before ``coverplan import population``)."""
    out = []
    for col in schema.columns:
        src = f"{col.name}_source"
        if src not in frame.columns:
            continue
        none = np.flatnonzero(frame[src].astype(str).str.strip().str.lower().to_numpy() == "none")
        if len(none):
            first = ", ".join(str(ids[i]) for i in none[:5])
            out.append(
                Problem(
                    schema.name,
                    f"{len(none)} row(s) ({first}{' ...' if len(none) > 5 else ''}) hold "
                    f"a placeholder `{col.name}` ({src} = 'none'): the source had no value; fill it "
                    "before relying on the plan",
                    file=file,
                    column=col.name,
                    severity="warning",
                )
            )
    return out


def outside_area_warnings(
    frame: gpd.GeoDataFrame,
    area: shapely.Geometry,
    layer: str,
    *,
    tolerance_m: float = 1000.0,
    file: str | None = None,
) -> list[Problem]:
    """Warnings for features farther than ``tolerance_m`` from the region (both in the same metric CRS)."""
    schema = SCHEMAS[layer]
    geoms = np.asarray(frame.geometry.values)
    dist = shapely.distance(geoms, area)
    far = np.flatnonzero(np.nan_to_num(dist, nan=0.0) > tolerance_m)
    ids = _row_ids(frame, schema)
    return [
        Problem(
            layer,
            f"lies {dist[i] / 1000:.1f} km outside the region's admin areas",
            file=file,
            row=i + 1,
            row_id=ids[i],
            column="geometry",
            severity="warning",
        )
        for i in far.tolist()
    ]
