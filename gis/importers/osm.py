"""OpenStreetMap extract -> ``roads``, ``villages`` (draft), ``schools`` (draft) and ``candidates``.

The extract (``.osm.pbf`` or ``.osm`` XML, e.g. from Geofabrik) is read with pyosmium (:func:`read_osm`), which
resolves way node locations and assembles school and mast areas; :func:`osm_layers` turns what was read into
layers clipped to the project's region. Rules (README "Bringing real data"):

* ``roads``: ways tagged ``highway`` with a road class vehicles (and fibre trenches) follow
  (:data:`ROAD_CLASSES`); ``road_id = "w<way id>"``, ``class`` = the highway value, ``surface``, ``name``; lines
  cut at the admin areas + ``buffer_m``;
* ``villages``: nodes tagged ``place=village|hamlet|town`` with a name, inside the admin areas (+
  ``demand_buffer_m``); ``population`` from the ``population`` tag (``population_source = "osm_tag"``), else 0
  with ``population_source = "none"`` (a placeholder: fill it with ``coverplan import population``);
* ``schools``: nodes and areas tagged ``amenity=school`` with a name (``name``, else ``name:zh``, else ``name:en``);
  ``kind`` from ``isced:level`` (0-1 primary, 2-3 secondary) or the words of ``name``/``name:zh``/``name:en``
  (:data:`gis.schema.SCHOOL_KIND_WORDS`: 教学点 teaching point; 中学/初中/高中/一贯制/职业技术学校 secondary;
  小学/中心校/中心学校/完小/村小/民族学校/特殊教育学校 primary; "middle/high/secondary school" secondary,
  "primary/elementary school" primary), ``kind_source`` saying which; a school whose kind neither
  gives is left out and counted; ``students`` from the ``capacity`` tag (``students_source = "osm_capacity"``),
  else 0 with ``students_source = "none"`` (a placeholder);
* ``candidates``: ``man_made=mast``, ``man_made=communications_tower``, ``man_made=tower`` with
  ``tower:type=communication`` and anything tagged
  ``tower:type=communication`` (nodes and areas), as ``new_site`` candidates with ``height_m`` from ``height``.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely
from osmium.geom import WKBFactory

from gis.errors import LayerError, Problem
from gis.importers.common import WGS84, ImportReport, Region, beyond
from gis.schema import school_kind_of_name
from gis.validation import validate_frame

logger = logging.getLogger(__name__)

SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2")
#: highway values kept as roads (vehicle roads; paths, footways, steps, cycleways... are not fibre routes).
ROAD_CLASSES = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "service",
        "track",
        "living_street",
        "road",
        "motorway_link",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link",
    }
)
PLACES = ("village", "hamlet", "town")
#: ``man_made`` values read as masts (candidates): a mast, and a communications tower (a tall TV/telecom tower).
MAST_MAN_MADE = ("mast", "communications_tower")
_TAGS = (
    "name",
    "name:zh",
    "name:en",
    "population",
    "place",
    "highway",
    "surface",
    "amenity",
    "isced:level",
    "capacity",
    "man_made",
    "tower:type",
    "height",
    "operator",
)
_KEYS = ("highway", "place", "amenity", "man_made", "tower:type")
MAX_POPULATION = 10_000_000
SchoolKind = Literal["primary", "secondary", "teaching_point"]
#: Values of the ``*_source`` columns: where a required figure came from ("none": a 0 placeholder).
KindSource = Literal["isced_level", "name"]
PopulationSource = Literal["osm_tag", "none"]
StudentsSource = Literal["osm_capacity", "none"]
MAX_HEIGHT_M = 300.0


READ_NODES = "nodes"
READ_WAYS = "ways"
READ_AREAS = "areas"
#: Count of highway ways with nodes outside the extract (kept as their located parts): noted, not dropped.
CUT_WAYS = "ways cut at the extract's edge (nodes outside it): their located parts kept"


@dataclass
class OsmExtract:
    """What :func:`read_osm` found: candidate features with their tags, lon/lat geometries (WGS84); ``counts``:
    objects read (``nodes``, ``ways``, ``areas``) and those yielding nothing, by why; ``bounds``: the lon/lat box
    the extract covers (its header's, else that of every feature read), None when unknown; ``bounds_declared``:
    whether the header declared it (only then does a coverage gap refuse the import)."""

    file: str
    points: list[dict] = field(default_factory=list)
    roads: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    bounds: tuple[float, float, float, float] | None = None
    bounds_declared: bool = False


def _kind(tags: dict[str, str]) -> str | None:
    if tags.get("place") in PLACES:
        return "place"
    if tags.get("amenity") == "school":
        return "school"
    if tags.get("man_made") in MAST_MAN_MADE or tags.get("tower:type") == "communication":
        return "mast"
    return None


def _record(obj: Any, kind: str, geom: shapely.Geometry, prefix: str, oid: int) -> dict:
    tags = {k: obj.tags.get(k) for k in _TAGS if k in obj.tags}
    return {"osm_id": f"{prefix}{oid}", "kind": kind, "geometry": geom, **tags}


def read_osm(path: str | Path) -> OsmExtract:
    """Read the features coverplan uses from an OSM extract with pyosmium.

    Raises
    ------
    LayerError
        Missing file, a name that is not an OSM extract (``.osm.pbf``, ``.osm``, ``.osm.gz``, ``.osm.bz2``), or
        a file osmium cannot read (truncated or not OSM data).
    """

    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise LayerError([Problem("osm", "file does not exist", file=file)])
    if not path.name.lower().endswith(SUFFIXES):
        raise LayerError(
            [Problem("osm", f"`{path.name}` is not an OSM extract name; expected one of {SUFFIXES}", file=file)]
        )
    out = OsmExtract(file=file)
    wkb = WKBFactory()
    try:
        fp = (
            osmium.FileProcessor(file)
            .with_locations()
            .with_areas(osmium.filter.KeyFilter("amenity", "man_made", "tower:type", "place"))
            .with_filter(osmium.filter.KeyFilter(*_KEYS))
        )
        for obj in fp:
            _read_object(obj, out, wkb)
    except RuntimeError as exc:
        raise LayerError(
            [Problem("osm", f"osmium cannot read it ({exc}); expected an OSM XML or PBF extract", file=file)]
        ) from exc
    declared = _header_bounds(file)
    out.bounds, out.bounds_declared = declared or _data_bounds(out), declared is not None
    return out


def _header_bounds(file: str) -> tuple[float, float, float, float] | None:
    """The lon/lat box the extract's header declares (Geofabrik's and osmium extract's files have one)."""
    try:
        reader = osmium.io.Reader(file, osmium.osm.osm_entity_bits.NOTHING)
        try:
            box = reader.header().box()
        finally:
            reader.close()
    except RuntimeError:
        return None
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


def _data_bounds(out: OsmExtract) -> tuple[float, float, float, float] | None:
    """The lon/lat box of every location read (for an extract whose header declares none)."""
    geoms = [r["geometry"] for r in (*out.points, *out.roads)]
    if not geoms:
        return None
    w, s, e, n = shapely.total_bounds(np.asarray(geoms, dtype=object))
    return (float(w), float(s), float(e), float(n))


#: Largest share of the admin areas (without margin) an extract may leave uncovered before the import refuses
#: (``--max-uncovered-share``): 1 % allows a box drawn a little short of a wiggly border, not a missing township.
MAX_UNCOVERED_SHARE = 0.01


def _uncovered(need: shapely.Geometry, bounds: tuple[float, float, float, float]) -> tuple[float, str]:
    """(share of ``need`` outside the lon/lat box ``bounds``, its km² and box as words)."""
    gap = shapely.difference(need, shapely.box(*bounds))
    share = float(shapely.area(gap) / max(shapely.area(need), 1e-12))
    if shapely.is_empty(gap):
        return 0.0, ""
    w, s, e, n = shapely.bounds(gap)
    km2 = shapely.area(gap) * 111.32**2 * np.cos(np.radians((s + n) / 2.0))
    return share, f"{km2:,.1f} km² within lon {w:.3f}..{e:.3f}, lat {s:.3f}..{n:.3f}"


def _check_coverage(
    extract: OsmExtract, region: Region, buffer_m: float, report: ImportReport, *, max_uncovered_share: float
) -> None:
    """Refuse an extract whose declared box leaves more than ``max_uncovered_share`` of the admin areas uncovered
    (the share, km² and lon/lat box of the gap, and how to go on); note a smaller gap, one only in the margin of
    ``buffer_m``, a gap in a box estimated from the features read (a header without bounds: a sparse extract's
    features need not reach its edges), or an extract that says nothing of its extent.

    Raises
    ------
    LayerError
        The admin areas' uncovered share is above ``max_uncovered_share``.
    """
    if extract.bounds is None:
        report.notes.append("the extract declares no bounds and holds no location: its coverage is unknown")
        return
    box = extract.bounds
    extent = f"the extract (lon {box[0]:.3f}..{box[2]:.3f}, lat {box[1]:.3f}..{box[3]:.3f})"
    share, where = _uncovered(region.lonlat(0.0), box)
    if not extract.bounds_declared:
        extent += " (its header declares no bounds: the box of the features read; not refused)"
    elif share > max_uncovered_share:
        msg = (
            f"{extent} leaves {share:.1%} of the admin areas uncovered ({where}); expected at most "
            f"{max_uncovered_share:.1%}: roads, villages and schools there would be missing. Use an extract that "
            "covers the whole region (e.g. the province's from download.geofabrik.de), or pass "
            f"--max-uncovered-share {min(1.0, np.ceil(share * 100) / 100):g} to import the covered part only"
        )
        raise LayerError([Problem("osm", msg, file=extract.file)])
    margin_share, margin_where = _uncovered(region.lonlat(buffer_m), box)
    if margin_share <= 0.001:
        return
    report.notes.append(
        f"{extent} leaves {margin_share:.1%} of the admin areas + {buffer_m:g} m uncovered ({share:.1%} of the "
        f"admin areas themselves): {margin_where}; roads, villages and schools there are missing (use an extract "
        "that covers the whole region and margin)"
    )


def _read_object(obj: Any, out: OsmExtract, wkb: Any) -> None:
    """File one OSM object into ``out`` (points of interest, roads), counting every object read in
    ``out.counts`` as read (``nodes``/``ways``/``areas``) and, when it yields nothing, why."""

    tags = obj.tags
    if obj.is_node():
        out.counts[READ_NODES] += 1
        kind = _kind(tags)
        if kind is None:
            place = tags.get("place")
            out.counts[f"nodes: place={place} (not a village)" if place else "nodes: not a place, school or mast"] += 1
        elif not obj.location.valid():
            out.counts["nodes: no valid location"] += 1
        else:
            out.points.append(_record(obj, kind, shapely.Point(obj.location.lon, obj.location.lat), "n", obj.id))
    elif obj.is_way():
        out.counts[READ_WAYS] += 1
        if "highway" not in tags:
            out.counts["ways: not a road (a school, mast or place outline is read as an area)"] += 1
            return
        _read_way(obj, out)
    elif obj.is_area():
        out.counts[READ_AREAS] += 1
        _read_area(obj, out, wkb)


def _located_runs(nodes: Any) -> tuple[list[list[tuple[float, float]]], int]:
    """Runs of consecutive nodes with a location (those outside an extract cut at its edge have none), and the
    number of nodes without one."""
    runs: list[list[tuple[float, float]]] = [[]]
    missing = 0
    for n in nodes:
        if n.location.valid():
            runs[-1].append((n.lon, n.lat))
        else:
            missing += 1
            if runs[-1]:
                runs.append([])
    return [r for r in runs if len(set(r)) >= 2], missing


def _read_way(obj: Any, out: OsmExtract) -> None:
    """A highway way as a line; one cut at the extract's edge keeps its located parts (a MultiLineString)."""
    runs, missing = _located_runs(obj.nodes)
    if not runs:
        why = "ways: no two located nodes (outside the extract)" if missing else "ways: fewer than two distinct points"
        out.counts[why] += 1
        return
    if missing:
        out.counts[CUT_WAYS] += 1  # a note, not a drop: the way is kept
    geom = shapely.LineString(runs[0]) if len(runs) == 1 else shapely.MultiLineString(runs)
    out.roads.append(_record(obj, "road", geom, "w", obj.id))


def _read_area(obj: Any, out: OsmExtract, wkb: Any) -> None:
    kind = _kind(obj.tags)
    if kind == "place":
        out.counts["areas: places mapped as areas (only place nodes are read)"] += 1
    elif kind in ("school", "mast"):
        try:
            poly = shapely.from_wkb(wkb.create_multipolygon(obj))
        except (RuntimeError, osmium.InvalidLocationError):
            out.counts["areas: invalid geometry or nodes missing from the extract"] += 1
            return
        prefix = "w" if obj.from_way() else "r"
        out.points.append(_record(obj, kind, shapely.point_on_surface(poly), prefix, obj.orig_id()))
    else:
        out.counts["areas: not a school or mast"] += 1


def _int_tag(value: object, *, high: float) -> int | None:
    """A whole number >= 0 and <= ``high`` from a tag ("1200", "1,200", "1 200"), else None."""
    if not isinstance(value, str):
        return None
    text = value.strip().replace(",", "").replace(" ", "")
    if not text.isdigit():
        return None
    n = int(text)
    return n if n <= high else None


def height_tag_m(value: object) -> float | None:
    """Height in metres from an OSM ``height`` tag ("35", "35 m", "35.5m"); None when absent, unreadable or
    outside (0, 300] m."""
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(m|metres|meters)?\s*", value)
    if m is None:
        return None
    h = float(m[1])
    return h if 0.0 < h <= MAX_HEIGHT_M else None


def school_kind(tags: dict) -> tuple[SchoolKind | None, KindSource | Literal[""]]:
    """``kind`` of a school from its ``isced:level`` tag, else its name; (None, "") when neither says.

    Returns
    -------
    kind, source
        ``primary``/``secondary``/``teaching_point`` and ``isced_level`` or ``name``.
    """
    levels = {int(x) for x in re.findall(r"\d", str(tags.get("isced:level") or ""))}
    if levels and levels <= {0, 1}:
        return "primary", "isced_level"
    if levels & {2, 3}:
        return "secondary", "isced_level"
    for key in ("name", "name:zh", "name:en"):
        kind = school_kind_of_name(str(tags.get(key) or ""))
        if kind is not None:
            return kind, "name"  # type: ignore[return-value]
    low = " ".join(str(tags.get(k) or "") for k in ("name", "name:en")).lower()
    if any(w in low for w in ("middle school", "high school", "secondary school", "vocational")):
        return "secondary", "name"
    if "primary school" in low or "elementary school" in low:
        return "primary", "name"
    return None, ""


def _text(values: pd.Series) -> pd.Series:
    """Tag values as stripped text, None where absent or blank."""
    t = values.astype(object).where(values.notna(), None)
    return t.map(lambda v: v.strip() or None if isinstance(v, str) else None)


def _points(
    ext: OsmExtract, kind: str, region: Region, buffer_m: float, report: ImportReport, what: str
) -> pd.DataFrame:
    """Records of one kind (metric CRS) inside the region + buffer, with a name; the rest counted."""
    df = pd.DataFrame([r for r in ext.points if r["kind"] == kind], columns=["osm_id", "geometry", *_TAGS])
    geoms = df["geometry"].to_numpy()
    if len(df):
        geoms = np.asarray(gpd.GeoSeries(geoms, crs=WGS84).to_crs(region.crs).values)
    near = shapely.intersects(region.buffered(buffer_m), geoms) if len(df) else np.zeros(0, bool)
    report.drop(f"{what}: {beyond(buffer_m)}", int((~near).sum()))
    df = df.assign(geometry=geoms)[near]
    name = _text(df["name"]).fillna(_text(df["name:zh"])).fillna(_text(df["name:en"]))
    report.drop(f"{what}: no name", int(name.isna().sum()))
    return df.assign(name=name)[name.notna()].reset_index(drop=True)


def _villages(ext: OsmExtract, region: Region, buffer_m: float, report: ImportReport) -> gpd.GeoDataFrame:
    df = _points(ext, "place", region, buffer_m, report, "villages (place nodes)")
    pop = [_int_tag(v, high=MAX_POPULATION) for v in df["population"]]
    given = np.array([p is not None for p in pop], dtype=bool)
    unreadable = int((_text(df["population"]).notna().to_numpy() & ~given).sum())
    if unreadable:
        report.notes.append(
            f"{unreadable} village population tag(s) are not a whole number 0..{MAX_POPULATION:,}: treated as untagged"
        )
    report.fill(
        "population",
        "0, a placeholder: no readable OSM population tag (population_source = 'none'; "
        "run `coverplan import population`)",
        int((~given).sum()),
    )
    return gpd.GeoDataFrame(
        {
            "village_id": df["osm_id"].to_numpy(dtype=object),
            "name": df["name"].to_numpy(dtype=object),
            "population": np.array([p or 0 for p in pop], dtype=np.int64),
            "population_source": np.where(given, "osm_tag", "none").astype(object),
            "place": df["place"].to_numpy(dtype=object),
        },
        geometry=df["geometry"].to_numpy(),
        crs=region.crs,
    )


def _schools(ext: OsmExtract, region: Region, buffer_m: float, report: ImportReport) -> gpd.GeoDataFrame:
    df = _points(ext, "school", region, buffer_m, report, "schools")
    df = _dedupe_schools(df, report)
    tags = df[["name", "name:zh", "name:en", "isced:level"]].astype(object)
    kinds = [school_kind(r) for r in tags.where(tags.notna(), None).to_dict("records")]
    kind = np.array([k for k, _ in kinds], dtype=object)
    unknown = np.array([k is None for k in kind], dtype=bool)
    report.drop(
        "schools: kind unknown (no isced:level tag; the name holds no school word of gis.schema.SCHOOL_KIND_WORDS)",
        int(unknown.sum()),
    )
    for k, src in sorted({(k, s) for k, s in kinds if k is not None}):
        n = sum(1 for kk, ss in kinds if (kk, ss) == (k, src))
        report.notes.append(f"{n} school(s) kind {k} from their {'isced:level tag' if src == 'isced_level' else src}")
    df = df[~unknown].reset_index(drop=True)
    kind_source = np.array([s for k, s in kinds if k is not None], dtype=object)
    students = [_int_tag(v, high=100_000) for v in df["capacity"]]
    given = np.array([s is not None for s in students], dtype=bool)
    report.fill("students", "0, a placeholder: no OSM capacity tag (students_source = 'none')", int((~given).sum()))
    return gpd.GeoDataFrame(
        {
            "school_id": df["osm_id"].to_numpy(dtype=object),
            "name": df["name"].to_numpy(dtype=object),
            "kind": kind[~unknown],
            "kind_source": kind_source,
            "students": np.array([s or 0 for s in students], dtype=np.int64),
            "students_source": np.where(given, "osm_capacity", "none").astype(object),
        },
        geometry=df["geometry"].to_numpy(),
        crs=region.crs,
    )


def _dedupe_schools(df: pd.DataFrame, report: ImportReport, *, within_m: float = 300.0) -> pd.DataFrame:
    """Drop a school that repeats an earlier one's name within ``within_m`` (a node inside its mapped area)."""
    if not len(df):
        return df
    df = df.assign(_area=~df["osm_id"].str.startswith("n")).sort_values("_area", ascending=False, kind="stable")
    keep = np.ones(len(df), dtype=bool)
    geoms = df["geometry"].to_numpy()
    for _, idx in df.groupby("name").indices.items():
        for j in range(1, len(idx)):
            if any(keep[idx[i]] and shapely.distance(geoms[idx[i]], geoms[idx[j]]) <= within_m for i in range(j)):
                keep[idx[j]] = False
    report.drop(
        f"schools: same name as another school within {within_m:g} m (node and area of one school)", int((~keep).sum())
    )
    return df[keep].drop(columns="_area").sort_index().reset_index(drop=True)


def _candidates(ext: OsmExtract, region: Region, buffer_m: float, report: ImportReport) -> gpd.GeoDataFrame:
    df = pd.DataFrame([r for r in ext.points if r["kind"] == "mast"], columns=["osm_id", "geometry", *_TAGS])
    geoms = df["geometry"].to_numpy()
    if len(df):
        geoms = np.asarray(gpd.GeoSeries(geoms, crs=WGS84).to_crs(region.crs).values)
    near = shapely.intersects(region.buffered(buffer_m), geoms) if len(df) else np.zeros(0, bool)
    report.drop(f"masts: {beyond(buffer_m)}", int((~near).sum()))
    df = df.assign(geometry=geoms)[near].reset_index(drop=True)
    heights = [height_tag_m(v) for v in df["height"]]
    bad = int(sum(1 for h, v in zip(heights, _text(df["height"]), strict=True) if h is None and v is not None))
    if bad:
        report.notes.append(
            f"{bad} mast height tag(s) unreadable or outside (0, {MAX_HEIGHT_M:g}] m: left empty "
            "(the run uses the project's tower height)"
        )
    return gpd.GeoDataFrame(
        {
            "candidate_id": df["osm_id"].to_numpy(dtype=object),
            "kind": np.full(len(df), "new_site", dtype=object),
            "height_m": np.array([np.nan if h is None else h for h in heights], dtype=float),
            "name": _text(df["name"]).to_numpy(dtype=object),
            "operator": _text(df["operator"]).to_numpy(dtype=object),
        },
        geometry=df["geometry"].to_numpy(),
        crs=region.crs,
    )


def _roads(ext: OsmExtract, region: Region, buffer_m: float, report: ImportReport) -> gpd.GeoDataFrame:
    df = pd.DataFrame(ext.roads, columns=["osm_id", "geometry", *_TAGS])
    cls = df["highway"].astype(str)
    for value, n in cls[~cls.isin(ROAD_CLASSES)].value_counts().items():
        report.drop(f"ways: highway={value} is not a vehicle road", int(n))
    df = df[cls.isin(ROAD_CLASSES).to_numpy()].reset_index(drop=True)
    geoms = df["geometry"].to_numpy()
    if len(df):
        geoms = np.asarray(gpd.GeoSeries(geoms, crs=WGS84).to_crs(region.crs).values)
        geoms = shapely.intersection(geoms, region.buffered(buffer_m))
        geoms = np.array([_lines_only(g) for g in geoms], dtype=object)
    kept = np.array([g is not None for g in geoms], dtype=bool)
    report.drop(f"ways: road {beyond(buffer_m)}", int((~kept).sum()))
    df = df.assign(geometry=geoms)[kept].reset_index(drop=True)
    return gpd.GeoDataFrame(
        {
            "road_id": df["osm_id"].to_numpy(dtype=object),
            "class": df["highway"].to_numpy(dtype=object),
            "surface": _text(df["surface"]).to_numpy(dtype=object),
            "name": _text(df["name"]).to_numpy(dtype=object),
        },
        geometry=df["geometry"].to_numpy(),
        crs=region.crs,
    )


def _lines_only(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The line parts of a clipped road (a LineString or MultiLineString), or None when nothing is left."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "LineString" and p.length > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)


def _validated(
    frame: gpd.GeoDataFrame, name: str, report: ImportReport, *, file: str, skip_bad_rows: bool
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """A layer validated; with ``skip_bad_rows`` its rows with an error are left out (counted) and the rest kept."""
    clean, probs = validate_frame(frame, name, file=file)
    errors = [p for p in probs if p.severity == "error"]
    if not errors or not skip_bad_rows or any(p.row is None for p in errors):
        return clean, errors
    bad = sorted({p.row - 1 for p in errors if p.row is not None})
    report.drop(f"{name}: a value the layer refuses, e.g. {errors[0].message[:80]} (--skip-bad-rows)", len(bad))
    keep = frame.drop(index=frame.index[bad]).reset_index(drop=True)
    if not len(keep):
        return keep, []
    clean, probs = validate_frame(keep, name, file=file)
    return clean, [p for p in probs if p.severity == "error"]


def osm_layers(
    extract: OsmExtract,
    region: Region,
    *,
    buffer_m: float = 10_000.0,
    demand_buffer_m: float = 0.0,
    skip_bad_rows: bool = False,
    max_uncovered_share: float = MAX_UNCOVERED_SHARE,
) -> tuple[dict[str, gpd.GeoDataFrame], ImportReport]:
    """Layers from an OSM extract, clipped to the region.

    Parameters
    ----------
    extract : OsmExtract
        From :func:`read_osm`.
    region : Region
        The project's admin areas (metric CRS).
    buffer_m : float
        Roads and masts within this distance (m) of the admin areas are kept (roads cut there).
    demand_buffer_m : float
        Villages and schools within this distance (m) of the admin areas are kept (default: inside them).
    skip_bad_rows : bool
        Leave out (and count in the report) objects whose values a layer refuses (a name with a line break or
        another control character, say) instead of refusing the whole import.
    max_uncovered_share : float
        Largest share (0..1) of the admin areas the extract's box may leave uncovered (:data:`MAX_UNCOVERED_SHARE`);
        above it the import is refused, with the uncovered share, km² and box.

    Returns
    -------
    layers, report
        ``roads``, ``villages``, ``schools``, ``candidates`` in the metric CRS (each valid as its layer when it
        has rows; empty layers are left out of ``layers``), and what was kept, dropped and filled.
    """
    read = {k: extract.counts[k] for k in (READ_NODES, READ_WAYS, READ_AREAS)}
    report = ImportReport(
        source=extract.file,
        unit="OSM objects tagged highway, place, amenity, man_made or tower:type ("
        + ", ".join(f"{n} {k}" for k, n in read.items())
        + ")",
        read=sum(read.values()),
    )
    for why, n in extract.counts.items():
        if why == CUT_WAYS:
            report.notes.append(f"{n} {why}")
        elif why not in read:
            report.drop(why, n)
    _check_coverage(extract, region, buffer_m, report, max_uncovered_share=max_uncovered_share)
    frames = {
        "roads": _roads(extract, region, buffer_m, report),
        "villages": _villages(extract, region, demand_buffer_m, report),
        "schools": _schools(extract, region, demand_buffer_m, report),
        "candidates": _candidates(extract, region, buffer_m, report),
    }
    layers: dict[str, gpd.GeoDataFrame] = {}
    problems: list[Problem] = []
    for name, frame in frames.items():
        report.kept[name] = len(frame)
        if not len(frame):
            report.notes.append(f"no {name} in the extract within the region: layer not written")
            continue
        clean, probs = _validated(frame, name, report, file=extract.file, skip_bad_rows=skip_bad_rows)
        problems.extend(probs)
        report.kept[name] = len(clean)
        if len(clean):
            layers[name] = clean
    if problems:
        hint = (
            "pass --skip-bad-rows to leave such objects out (counted in the report), or fix them in OSM"
            if any(p.row is not None for p in problems)
            else "fix them in OSM"
        )
        raise LayerError(
            [*problems, Problem("osm", f"{len(problems)} problem(s) in the extract; {hint}", file=extract.file)]
        )
    return layers, report
