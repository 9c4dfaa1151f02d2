"""Seeded synthetic regions: hilly terrain, villages, schools, roads, existing fibre and 4G/5G sites.

Used for the demo (inside a real county boundary) and for scale benchmarks (a square region of any size,
cut into counties). The same seed gives the same region. Magnitudes follow rural north-east China:

* one administrative village per ~10 km² with a median of ~1,200 people (lognormal), ~16 % registered poor
  (Jilin 2019: 1,489 poor villages among ~9,300), poorer where remote and high;
* a township seat per ~25 villages, a county seat per county (~300 villages);
* schools: a central primary and a middle school per township, more in the county seat, village primary
  schools in ~15 % and teaching points (教学点) in ~12 % of villages, more of them remote;
* roads: a planar network over towns and villages (Delaunay edges: the minimum spanning tree plus the
  shorter cross links), trunk roads along the road paths between neighbouring towns;
* fibre: backbone along the trunk roads, distribution fibre from each township a few km out along roads;
* sites: 4G macro sites at towns and near most villages (fewer where remote), 5G co-sited in towns
  (n78 3500 MHz) and at some rural sites (n28 700 MHz).

Everything is computed vectorised (NumPy/SciPy/shapely); a 20,000-village province takes seconds.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from scipy import fft, sparse
from scipy.sparse import csgraph
from scipy.spatial import Delaunay, Voronoi, cKDTree

from gis.crs import utm_crs_for
from gis.errors import Problem
from gis.layers import write_layers
from gis.settings import DEFAULT_EQUIPMENT
from gis.terrain import Dem, dem_from_array, sample_heights, write_dem

logger = logging.getLogger(__name__)

KM2_PER_VILLAGE = 10.0
#: Smallest area a boundary may give each village (km²): real counties give 5-10; below ~0.1 the villages do not
#: fit between the towns.
MIN_KM2_PER_VILLAGE = 1.0
#: Smallest admin area of a boundary (km²).
MIN_AREA_KM2 = 1.0
VILLAGES_PER_TOWN = 25
VILLAGES_PER_COUNTY = 300

_PREFIX = [
    *"东西南北大小上下前后新老红青石松柳杨榆桦长平安兴太永双三五",
    *["靠山", "黑", "白", "黄", "金", "二道", "三道", "头道", "马家", "李家", "王家", "张家", "刘家", "蛤蟆"],
]
_CORE = ["河", "沟", "岭", "屯", "岔", "甸子", "泉", "山", "林", "江", "堡", "营", "台", "川", "峰", "岗", "崴子", "洼"]
_OPERATORS = np.array(["CMCC", "CUCC", "CTCC"])
#: Bandwidth (MHz) of one carrier on each synthetic band.
_BANDWIDTH_MHZ = {1800.0: 20.0, 900.0: 10.0, 850.0: 10.0, 3500.0: 100.0, 2600.0: 100.0, 700.0: 30.0, 2100.0: 20.0}


def _equipment_eirp_dbm(tech: np.ndarray, band_mhz: np.ndarray) -> np.ndarray:
    """EIRP (dBm) of the first default equipment row (:data:`gis.settings.DEFAULT_EQUIPMENT`) matching each site's
    technology and band: 60.5 dBm on the 4T4R rows, 77 dBm on the 64T64R AAU row (n41, n78)."""
    out = np.full(len(band_mhz), np.nan)
    for i, (t, b) in enumerate(zip(tech, band_mhz, strict=True)):
        row = next(r for r in DEFAULT_EQUIPMENT if r.tech == t and r.band_low_mhz <= b <= r.band_high_mhz)
        out[i] = row.eirp_dbm
    return out


def _lte_band(op: np.ndarray, band4: np.ndarray) -> np.ndarray:
    """LTE band of each 4G site on a band its operator holds (the default ``[[radio.operators]]``): the low band
    is 900 MHz for China Mobile and Unicom, 850 MHz for China Telecom."""
    return np.where((band4 == 900.0) & (op == "CTCC"), 850.0, band4)


def _nr_band(op5: np.ndarray, town: np.ndarray) -> np.ndarray:
    """NR band of each 5G site on a band its operator holds: in towns n41 2.6 GHz (China Mobile) or n78 3.5 GHz
    (Telecom, Unicom), elsewhere n28 700 MHz (China Mobile) or NR 2.1 GHz (Telecom, Unicom)."""
    cmcc = op5 == "CMCC"
    return np.where(town, np.where(cmcc, 2600.0, 3500.0), np.where(cmcc, 700.0, 2100.0))


@dataclass(frozen=True)
class SyntheticRegion:
    """A generated region; all layers in the metric CRS ``crs``."""

    crs: CRS
    dem: Dem
    admin: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    fibre: gpd.GeoDataFrame
    fibre_nodes: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The vector layers by coverplan layer name."""
        return {
            "admin": self.admin,
            "villages": self.villages,
            "schools": self.schools,
            "sites": self.sites,
            "fibre": self.fibre,
            "fibre_nodes": self.fibre_nodes,
            "roads": self.roads,
        }


# --------------------------------------------------------------------------------------------- terrain
def _fbm(rng: np.random.Generator, shape: tuple[int, int], *, beta: float) -> np.ndarray:
    """Fractal noise by spectral synthesis (power spectrum ~ 1/f^beta), scaled to [0, 1]."""
    rows, cols = shape
    fy = fft.fftfreq(rows)[:, None]
    fx = fft.rfftfreq(cols)[None, :]
    f = np.sqrt(fx * fx + fy * fy).astype(np.float32)
    f[0, 0] = 1.0
    amp = f ** (-beta / 2.0)
    amp[0, 0] = 0.0
    phase = rng.uniform(0, 2 * np.pi, size=amp.shape).astype(np.float32)
    spec = amp * (np.cos(phase) + 1j * np.sin(phase)).astype(np.complex64)
    z = fft.irfft2(spec, s=shape, workers=-1).astype(np.float32)
    z -= z.min()
    z /= max(float(z.max()), 1e-9)
    return z


def _terrain(
    rng: np.random.Generator,
    bounds: tuple[float, float, float, float],
    *,
    res_m: float,
    crs: CRS,
    base_m: float,
    relief_m: float,
) -> Dem:
    minx, miny, maxx, maxy = bounds
    cols = int(np.ceil((maxx - minx) / res_m))
    rows = int(np.ceil((maxy - miny) / res_m))
    base = _fbm(rng, (rows, cols), beta=3.2)
    detail = _fbm(rng, (rows, cols), beta=2.2)
    # mountainousness: a smooth field so that parts of a big region are plains and others ranges
    cx = np.linspace(0, 1, cols, dtype=np.float32)[None, :]
    mount = np.clip(0.25 + 0.75 * _fbm(rng, (rows, cols), beta=4.0) * (0.6 + 0.4 * cx), 0.05, 1.0)
    height = base_m + relief_m * mount * (0.65 * base**1.6 + 0.35 * detail**1.3)
    transform = Affine(res_m, 0.0, minx, 0.0, -res_m, maxy)
    return dem_from_array(np.round(height, 1), transform, crs)


# ------------------------------------------------------------------------------------------- helpers
def _sample_in(rng: np.random.Generator, area: shapely.Geometry, n: int) -> np.ndarray:
    """``n`` uniform random points (x, y) inside ``area``."""
    minx, miny, maxx, maxy = shapely.bounds(area)
    frac = max(shapely.area(area) / ((maxx - minx) * (maxy - miny)), 0.05)
    out = []
    have = 0
    shapely.prepare(area)
    while have < n:
        k = int((n - have) / frac * 1.2) + 16
        x = rng.uniform(minx, maxx, k)
        y = rng.uniform(miny, maxy, k)
        ok = shapely.contains_xy(area, x, y)
        out.append(np.column_stack([x[ok], y[ok]]))
        have += int(ok.sum())
    return np.concatenate(out)[:n]


def _spread_pick(xy: np.ndarray, score: np.ndarray, k: int, min_dist: float) -> np.ndarray:
    """Indices of up to ``k`` points by descending score, keeping ``min_dist`` between picks.

    Picks are hashed on a grid of ``min_dist`` cells, so each candidate checks only the 3 x 3 cells around it.
    """
    order = np.argsort(-score, kind="stable")
    chosen: list[int] = []
    grid: dict[tuple[int, int], list[int]] = {}
    cell = max(float(min_dist), 1e-9)
    for i in order:
        if len(chosen) >= k:
            break
        cx, cy = int(xy[i, 0] // cell), int(xy[i, 1] // cell)
        near = False
        for gx in (cx - 1, cx, cx + 1):
            for gy in (cy - 1, cy, cy + 1):
                for j in grid.get((gx, gy), ()):
                    if (xy[j, 0] - xy[i, 0]) ** 2 + (xy[j, 1] - xy[i, 1]) ** 2 < min_dist * min_dist:
                        near = True
                        break
                if near:
                    break
            if near:
                break
        if near:
            continue
        chosen.append(int(i))
        grid.setdefault((cx, cy), []).append(int(i))
    return np.array(chosen, dtype=np.int64)


def _village_name(rng: np.random.Generator, n: int) -> np.ndarray:
    p = rng.integers(0, len(_PREFIX), n)
    c = rng.integers(0, len(_CORE), n)
    return np.array([f"{_PREFIX[a]}{_CORE[b]}" for a, b in zip(p, c, strict=True)], dtype=object)


def _counties(rng: np.random.Generator, area: shapely.Geometry, k: int) -> list[shapely.Geometry]:
    """Cut ``area`` into ``k`` county polygons (Voronoi cells of spread seeds)."""
    if k <= 1:
        return [area]
    pts = _sample_in(rng, area, 30 * k)
    seeds = pts[_spread_pick(pts, rng.random(len(pts)), k, 0.6 * np.sqrt(shapely.area(area) / k))]
    minx, miny, maxx, maxy = shapely.bounds(area)
    span = 10 * max(maxx - minx, maxy - miny)
    far = np.array(
        [
            [minx - span, miny - span],
            [minx - span, maxy + span],
            [maxx + span, miny - span],
            [maxx + span, maxy + span],
        ]
    )
    vor = Voronoi(np.vstack([seeds, far]))
    cells = []
    for i in range(len(seeds)):
        region = vor.regions[vor.point_region[i]]
        poly = shapely.Polygon(vor.vertices[region])
        cell = shapely.intersection(poly, area)
        if not cell.is_empty:
            cells.append(cell)
    return cells


# ------------------------------------------------------------------------------------------- region
@dataclass(frozen=True)
class _Area:
    """The region in its metric CRS, cut into counties."""

    crs: CRS
    area: shapely.Geometry
    polys: list[shapely.Geometry]
    names: list[str]
    codes: list[str]

    def county_of(self, xy: np.ndarray) -> np.ndarray:
        """Index of the county holding each point (the nearest for points outside all)."""
        tree = shapely.STRtree(self.polys)
        pts = shapely.points(xy[:, 0], xy[:, 1])
        idx = tree.query(pts, predicate="intersects")
        out = np.full(len(xy), -1, dtype=np.int64)
        out[idx[0][::-1]] = idx[1][::-1]
        missing = out < 0
        if missing.any():
            out[missing] = tree.nearest(pts[missing])
        return out

    def admin(self) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            {"area_id": self.codes, "name": self.names, "level": ["county"] * len(self.polys)},
            geometry=self.polys,
            crs=self.crs,
        )


@dataclass(frozen=True)
class _Towns:
    """Township seats (``xy``), their county, whether each is the county seat, names, and their spacing (m)."""

    xy: np.ndarray
    county: np.ndarray
    seat: np.ndarray
    spacing_m: float
    names: np.ndarray | None = None


def boundary_problems(admin: gpd.GeoDataFrame, *, villages: int, file: str | None = None) -> list[Problem]:
    """Why a (validated) admin layer cannot be filled by :func:`synthesize`: an ``area_id`` that is not a 6-digit
    GB/T 2260 county code (the villages' 12-digit ``admin_code`` is built from it), a feature outside UTM's
    latitudes (-80..84), smaller than :data:`MIN_AREA_KM2`, overlapping another, or a region smaller than
    :data:`MIN_KM2_PER_VILLAGE` per village. Each feature is one admin area of the region."""
    problems: list[Problem] = []

    def bad(message: str, row: int | None = None, column: str | None = "geometry") -> None:
        rid = f"area_id={admin['area_id'].iloc[row]}" if row is not None else None
        problems.append(
            Problem("admin", message, file=file, row=None if row is None else row + 1, row_id=rid, column=column)
        )

    for i, code in enumerate(admin["area_id"].astype(str)):
        if not re.fullmatch(r"[1-9]\d{5}", code):
            bad(
                f"{code!r} is not a 6-digit GB/T 2260 county code (e.g. '220681'); expected one: the villages' "
                "12-digit admin codes start with it",
                i,
                "area_id",
            )
    ll = admin.to_crs(4326)
    for i, (_, lat0, _, lat1) in enumerate(ll.geometry.bounds.itertuples(index=False)):
        if lat0 < -80.0 or lat1 > 84.0:
            bad(f"lies at latitudes {lat0:.2f}..{lat1:.2f}; expected -80..84 (a UTM zone must hold it)", i)
    if problems:
        return problems
    c = shapely.union_all(np.asarray(ll.geometry.values)).centroid
    metric = admin.to_crs(utm_crs_for(c.x, c.y))
    areas = metric.geometry.area.to_numpy() / 1e6
    for i in np.flatnonzero(areas < MIN_AREA_KM2).tolist():
        bad(f"is {areas[i]:.3g} km²; expected an admin area of at least {MIN_AREA_KM2:g} km²", int(i))
    union = shapely.area(shapely.union_all(np.asarray(metric.geometry.values))) / 1e6
    if union < 0.99 * areas.sum():
        bad(f"the features overlap ({areas.sum() - union:.3g} km² twice); expected admin areas side by side")
    if union < MIN_KM2_PER_VILLAGE * villages:
        bad(
            f"the region is {union:.3g} km²; expected at least {MIN_KM2_PER_VILLAGE:g} km² per village "
            f"({MIN_KM2_PER_VILLAGE * villages:g} km² for {villages} villages)"
        )
    return problems


def synthesize(
    *,
    villages: int = 300,
    seed: int = 0,
    boundary: shapely.Geometry | Sequence[shapely.Geometry] | None = None,
    boundary_crs: CRS | str | int | None = None,
    boundary_name: str | Sequence[str] = "县001",
    boundary_code: str | Sequence[str] = "220001",
    center_lonlat: tuple[float, float] = (126.5, 43.5),
    dem_res_m: float | None = None,
    base_m: float = 180.0,
    relief_m: float = 1100.0,
) -> SyntheticRegion:
    """Generate a synthetic region.

    Parameters
    ----------
    villages : int
        Number of administrative villages (>= 10). Area is ~10 km² per village unless ``boundary`` is given.
    seed : int
        Random seed; the same seed and arguments give the same region.
    boundary : shapely geometry or sequence of them, optional
        A real boundary to fill, in ``boundary_crs``: one county, or several (one admin area each). Default: a
        square centred at ``center_lonlat`` cut into counties of ~300 villages. Check a boundary read from a
        file with :func:`boundary_problems` first.
    boundary_crs : CRS, optional
        CRS of ``boundary`` (required with it).
    boundary_name, boundary_code : str or sequence of str
        Name and 6-digit GB/T 2260 division code of each boundary county (the villages' 12-digit codes start
        with it).
    dem_res_m : float, optional
        DEM cell size in metres; default 90 m (SRTM-like), coarser for very large regions (<= 16 M cells).
    base_m : float
        Height of the lowest plains, metres above sea level.
    relief_m : float
        Height range of the mountains above ``base_m``, metres.
    """
    if villages < 10:
        msg = f"`villages` = {villages}; expected at least 10"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)  # one stream, drawn from in the order of the steps below
    region = _region_area(
        rng,
        villages,
        boundary=boundary,
        boundary_crs=boundary_crs,
        boundary_name=boundary_name,
        boundary_code=boundary_code,
        center_lonlat=center_lonlat,
    )
    dem = _region_terrain(rng, region, dem_res_m=dem_res_m, base_m=base_m, relief_m=relief_m)
    cand, valley, zr = _settlement_candidates(rng, region.area, dem, villages)
    towns = _towns(rng, region, cand, valley, villages)
    vil, vxy, remote, towns = _villages(rng, region, towns, cand, valley, zr, villages)
    roads, fib, fnodes = _roads_and_fibre(rng, dem, towns, vxy)
    sites, site_xy = _sites(rng, dem, region.area, towns, vxy, remote, fib)
    schools = _schools(rng, region, towns, vil, remote, fib, site_xy)
    logger.info(
        "synthetic region: %d counties, %d towns, %d villages, %d schools, %d sites, %d road and %d fibre segments",
        len(region.polys),
        len(towns.xy),
        villages,
        len(schools),
        len(sites),
        len(roads),
        len(fib),
    )
    return SyntheticRegion(
        crs=region.crs,
        dem=dem,
        admin=region.admin(),
        villages=vil,
        schools=schools,
        sites=sites,
        fibre=fib,
        fibre_nodes=fnodes,
        roads=roads,
    )


def _region_area(
    rng: np.random.Generator,
    villages: int,
    *,
    boundary: shapely.Geometry | None,
    boundary_crs: CRS | str | int | None,
    boundary_name: str | Sequence[str],
    boundary_code: str | Sequence[str],
    center_lonlat: tuple[float, float],
) -> _Area:
    """The region (a real boundary, or a square of ~10 km² per village cut into counties) in a UTM CRS."""
    if boundary is not None:
        if boundary_crs is None:
            msg = "`boundary_crs` is required with `boundary`"
            raise ValueError(msg)
        geoms = [boundary] if isinstance(boundary, shapely.Geometry) else list(boundary)
        names = [boundary_name] if isinstance(boundary_name, str) else list(boundary_name)
        codes = [boundary_code] if isinstance(boundary_code, str) else list(boundary_code)
        if not len(geoms) == len(names) == len(codes):
            msg = f"`boundary` has {len(geoms)} parts, {len(names)} names and {len(codes)} codes; expected as many"
            raise ValueError(msg)
        b = gpd.GeoSeries(geoms, crs=boundary_crs)
        c = shapely.union_all(np.asarray(b.to_crs(4326).values)).centroid
        crs = utm_crs_for(c.x, c.y)
        polys = [shapely.make_valid(g) for g in b.to_crs(crs)]
        return _Area(crs, shapely.union_all(polys), polys, names, codes)
    crs = utm_crs_for(*center_lonlat)
    side = np.sqrt(villages * KM2_PER_VILLAGE) * 1000.0
    cx, cy = Transformer.from_crs(4326, crs, always_xy=True).transform(*center_lonlat)
    area = shapely.box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    polys = _counties(rng, area, max(1, round(villages / VILLAGES_PER_COUNTY)))
    names = [f"县{i + 1:03d}" for i in range(len(polys))]
    codes = [f"22{(i // 20) + 1:02d}{(i % 20) + 1:02d}" for i in range(len(polys))]
    return _Area(crs, area, polys, names, codes)


def _region_terrain(
    rng: np.random.Generator, region: _Area, *, dem_res_m: float | None, base_m: float, relief_m: float
) -> Dem:
    """Terrain over the region and 3 km around it (90 m cells, coarser for very large regions)."""
    minx, miny, maxx, maxy = shapely.bounds(region.area)
    margin = 3000.0
    dbounds = (minx - margin, miny - margin, maxx + margin, maxy + margin)
    if dem_res_m is None:
        cells = (dbounds[2] - dbounds[0]) * (dbounds[3] - dbounds[1])
        dem_res_m = max(90.0, float(np.ceil(np.sqrt(cells / 16e6))))
    dem = _terrain(rng, dbounds, res_m=dem_res_m, crs=region.crs, base_m=base_m, relief_m=relief_m)
    logger.info("terrain: %d x %d cells at %.0f m", *dem.shape, dem_res_m)
    return dem


def _settlement_candidates(
    rng: np.random.Generator, area: shapely.Geometry, dem: Dem, villages: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate settlement points, their valley score (low and flat is high) and relative height in [0, 1]."""
    cand = _sample_in(rng, area, villages * 8)
    z = sample_heights(dem, cand[:, 0], cand[:, 1])
    zs = sample_heights(dem, cand[:, 0] + 300, cand[:, 1] + 300)
    slope = np.abs(zs - z) / 424.0
    zr = (z - np.nanmin(z)) / max(np.nanmax(z) - np.nanmin(z), 1.0)
    valley = np.exp(-3.0 * zr) * np.exp(-6.0 * slope)
    return cand, valley, zr


def _towns(rng: np.random.Generator, region: _Area, cand: np.ndarray, valley: np.ndarray, villages: int) -> _Towns:
    """One town per ~25 villages, spread apart; the best-scored town of each county is its seat; a county left
    without a town gets one at its best candidate."""
    n_towns = max(len(region.polys), round(villages / VILLAGES_PER_TOWN))
    spacing = 0.55 * np.sqrt(shapely.area(region.area) / n_towns)
    tidx = _spread_pick(cand, valley * rng.uniform(0.6, 1.0, len(cand)), n_towns, spacing)
    towns = cand[tidx]
    town_county = region.county_of(towns)
    town_score = valley[tidx]
    seat = np.zeros(len(towns), dtype=bool)
    for ci in range(len(region.polys)):
        members = np.flatnonzero(town_county == ci)
        if len(members):
            seat[members[np.argmax(town_score[members])]] = True
    cand_county = region.county_of(cand)
    for ci in range(len(region.polys)):
        if not (town_county == ci).any():
            members = np.flatnonzero(cand_county == ci)
            if len(members):
                seat_xy = cand[members[np.argmax(valley[members])]]
            else:  # a county too small to have drawn a candidate: its seat at a point inside it
                seat_xy = shapely.get_coordinates(shapely.point_on_surface(region.polys[ci]))[0]
            towns = np.vstack([towns, seat_xy])
            town_county = np.append(town_county, ci)
            seat = np.append(seat, True)
    return _Towns(xy=towns, county=town_county, seat=seat, spacing_m=float(spacing))


def _villages(
    rng: np.random.Generator,
    region: _Area,
    towns: _Towns,
    cand: np.ndarray,
    valley: np.ndarray,
    zr: np.ndarray,
    villages: int,
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray, _Towns]:
    """Villages (valley-weighted, clustered around towns, the poorer the more remote), their points, their
    remoteness in [0, 1], and the towns with their names."""
    ttree = cKDTree(towns.xy)
    d_town, _ = ttree.query(cand)
    near = np.exp(-d_town / (1.2 * towns.spacing_m))
    w = valley * (0.25 + near)
    w = np.where(d_town < 800.0, 0.0, w)  # the town itself is not a village point
    if np.count_nonzero(w) < villages:
        msg = (
            f"the region is too small for {villages} villages ({shapely.area(region.area) / 1e6:.3g} km²); expected "
            f"at least {MIN_KM2_PER_VILLAGE:g} km² per village"
        )
        raise ValueError(msg)
    pick = rng.choice(len(cand), size=villages, replace=False, p=w / w.sum())
    vxy = cand[pick]
    v_dtown, _ = ttree.query(vxy)
    v_county = region.county_of(vxy)
    v_town = np.zeros(villages, dtype=np.int64)  # township of each village: nearest town of its own county
    for ci in np.unique(v_county):
        members = np.flatnonzero(towns.county == ci)
        mine = np.flatnonzero(v_county == ci)
        v_town[mine] = members[cKDTree(towns.xy[members]).query(vxy[mine])[1]]
    remote = 0.5 * np.clip(v_dtown / (2.0 * towns.spacing_m), 0, 1) + 0.5 * zr[pick]
    is_poor = rng.random(villages) < np.clip(0.03 + 0.6 * remote**1.2, 0, 0.9)
    population = np.clip(np.round(rng.lognormal(np.log(1200), 0.5, villages)), 150, 6000).astype(np.int64)
    households = np.round(population / rng.uniform(2.6, 3.2, villages)).astype(np.int64)
    names = _village_name(rng, villages) + "村"
    towns = replace(towns, names=_village_name(rng, len(towns.xy)) + np.where(towns.seat, "镇", "乡"))
    vil = gpd.GeoDataFrame(
        {
            "village_id": [f"V{i + 1:06d}" for i in range(villages)],
            "name": names,
            "population": population,
            "county": np.array(region.names, dtype=object)[v_county],
            "admin_code": _village_codes(region, towns, vxy, v_county, v_town),
            "households": households,
            "is_poor": is_poor,
        },
        geometry=shapely.points(vxy[:, 0], vxy[:, 1]),
        crs=region.crs,
    )
    return vil, vxy, remote, towns


def _village_codes(
    region: _Area, towns: _Towns, vxy: np.ndarray, v_county: np.ndarray, v_town: np.ndarray
) -> np.ndarray:
    """12-digit division codes: county (6) + township (3) + village (3), villages numbered west to east."""
    town_rank = np.zeros(len(towns.xy), dtype=np.int64)
    for ci in range(len(region.polys)):
        members = np.flatnonzero(towns.county == ci)
        town_rank[members] = np.arange(len(members))
    order = np.lexsort((vxy[:, 0], v_town))
    v_rank = np.zeros(len(vxy), dtype=np.int64)
    counts: dict[int, int] = {}
    for i in order:
        t = int(v_town[i])
        v_rank[i] = counts.get(t, 0)
        counts[t] = v_rank[i] + 1
    return np.array(
        [
            f"{region.codes[v_county[i]]}{100 + town_rank[v_town[i]]:03d}{200 + v_rank[i] % 800:03d}"
            for i in range(len(vxy))
        ],
        dtype=object,
    )


def _roads_and_fibre(
    rng: np.random.Generator, dem: Dem, towns: _Towns, vxy: np.ndarray
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Roads (Delaunay over towns and villages: the minimum spanning tree plus short cross links; trunk roads
    along the paths between towns), backbone fibre on the trunk, distribution fibre from each town a few km out,
    and the towns' fibre nodes."""
    nodes = np.vstack([towns.xy, vxy])
    road_e, rg = _road_edges(rng, dem, nodes)
    edge_index = {(int(a), int(b)): k for k, (a, b) in enumerate(road_e.tolist())}
    n_t = len(towns.xy)
    trunk = _trunk_edges(towns.xy, rg, edge_index, len(road_e))
    # distribution fibre: from each township out along the road shortest-path tree for a few km
    reach_km = rng.uniform(4.0, 11.0, n_t) * np.where(towns.seat, 1.5, 1.0)
    dist_min, pred_min, source = csgraph.dijkstra(rg, indices=np.arange(n_t), return_predecessors=True, min_only=True)
    fibred_node = np.isfinite(dist_min) & (dist_min <= reach_km[np.maximum(source, 0)] * 1000.0)
    fibred_node[:n_t] = True
    dist_edges = np.zeros(len(road_e), dtype=bool)
    for v in (np.flatnonzero(fibred_node[n_t:]) + n_t).tolist():
        p = int(pred_min[v])
        if p >= 0:
            dist_edges[edge_index[(min(p, v), max(p, v))]] = True
    fibre_mask = trunk | dist_edges
    crs = dem.crs
    road_lines = shapely.linestrings(np.stack([nodes[road_e[:, 0]], nodes[road_e[:, 1]]], axis=1))
    village_edge = ~trunk & ((road_e[:, 0] >= n_t) & (road_e[:, 1] >= n_t))
    rclass = np.where(trunk, "provincial", np.where(village_edge, "village", "county"))
    surface = np.where(trunk, "asphalt", np.where(rng.random(len(road_e)) < 0.7, "concrete", "gravel"))
    roads = gpd.GeoDataFrame(
        {"road_id": [f"R{i + 1:06d}" for i in range(len(road_e))], "class": rclass, "surface": surface},
        geometry=road_lines,
        crs=crs,
    )
    fk = np.flatnonzero(fibre_mask)
    fib = gpd.GeoDataFrame(
        {
            "route_id": [f"F{i + 1:06d}" for i in range(len(fk))],
            "kind": np.where(trunk[fk], "backbone", "distribution"),
            "operator": np.where(rng.random(len(fk)) < 0.6, "CTCC", "CMCC"),
        },
        geometry=road_lines[fk],
        crs=crs,
    )
    fnodes = gpd.GeoDataFrame(
        {"node_id": [f"N{i + 1:05d}" for i in range(n_t)], "kind": np.where(towns.seat, "pop", "olt")},
        geometry=shapely.points(towns.xy[:, 0], towns.xy[:, 1]),
        crs=crs,
    )
    return roads, fib, fnodes


def _road_edges(rng: np.random.Generator, dem: Dem, nodes: np.ndarray) -> tuple[np.ndarray, sparse.csr_matrix]:
    """Road edges (node pairs) and the symmetric graph of their climb-weighted cost."""
    n_nodes = len(nodes)
    tri = Delaunay(nodes)
    e = np.vstack([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]], tri.simplices[:, [0, 2]]])
    e = np.unique(np.sort(e, axis=1), axis=0)
    length = np.hypot(*(nodes[e[:, 0]] - nodes[e[:, 1]]).T)
    node_z = sample_heights(dem, nodes[:, 0], nodes[:, 1])
    climb = np.abs(node_z[e[:, 0]] - node_z[e[:, 1]])
    cost = length * (1.0 + climb / np.maximum(length, 1.0) * 8.0)
    g = sparse.coo_matrix((cost, (e[:, 0], e[:, 1])), shape=(n_nodes, n_nodes)).tocsr()
    mst = csgraph.minimum_spanning_tree(g).tocoo()
    keep = set(zip(np.minimum(mst.row, mst.col).tolist(), np.maximum(mst.row, mst.col).tolist(), strict=True))
    in_mst = np.array([(a, b) in keep for a, b in e.tolist()])
    limit = np.quantile(length[in_mst], 0.55) if in_mst.any() else 0.0
    extra = ~in_mst & (length <= limit) & (rng.random(len(e)) < 0.6)
    road_e = e[in_mst | extra]
    road_len = np.hypot(*(nodes[road_e[:, 0]] - nodes[road_e[:, 1]]).T)
    road_cost = road_len * (1.0 + np.abs(node_z[road_e[:, 0]] - node_z[road_e[:, 1]]) / np.maximum(road_len, 1) * 8)
    rg = sparse.coo_matrix(
        (
            np.concatenate([road_cost, road_cost]),
            (np.concatenate([road_e[:, 0], road_e[:, 1]]), np.concatenate([road_e[:, 1], road_e[:, 0]])),
        ),
        shape=(n_nodes, n_nodes),
    ).tocsr()
    return road_e, rg


def _trunk_edges(
    towns: np.ndarray, rg: sparse.csr_matrix, edge_index: dict[tuple[int, int], int], n_edges: int
) -> np.ndarray:
    """Per road edge: on a road path between neighbouring towns (their MST and the shorter Delaunay links)."""
    n_t = len(towns)
    trunk = np.zeros(n_edges, dtype=bool)
    if n_t <= 1:
        return trunk
    if n_t >= 4:
        tt = Delaunay(towns)
        te = np.vstack([tt.simplices[:, [0, 1]], tt.simplices[:, [1, 2]], tt.simplices[:, [0, 2]]])
        te = np.unique(np.sort(te, axis=1), axis=0)
        tl = np.hypot(*(towns[te[:, 0]] - towns[te[:, 1]]).T)
        tg = sparse.coo_matrix((tl, (te[:, 0], te[:, 1])), shape=(n_t, n_t))
        tm = csgraph.minimum_spanning_tree(tg.tocsr()).tocoo()
        pairs = {(int(a), int(b)) for a, b in zip(tm.row, tm.col, strict=True)}
        pairs |= {(int(a), int(b)) for a, b in te[tl <= np.quantile(tl, 0.4)].tolist()}
    else:
        pairs = {(i, j) for i in range(n_t) for j in range(i + 1, n_t)}
    targets: dict[int, list[int]] = {}
    for a, b in pairs:
        targets.setdefault(a, []).append(b)
    sources = sorted(targets)
    span = max(float(np.hypot(*(towns[a] - towns[b]))) for a, b in pairs)
    for lo in range(0, len(sources), 256):  # bounded searches, 256 sources at a time: memory stays small
        chunk = sources[lo : lo + 256]
        _, pred = csgraph.dijkstra(rg, indices=chunk, return_predecessors=True, limit=6.0 * span)
        for row, a in enumerate(chunk):
            for b in targets[a]:
                cur = b
                while pred[row, cur] >= 0:
                    prev = int(pred[row, cur])
                    trunk[edge_index[(min(prev, cur), max(prev, cur))]] = True
                    cur = prev
    return trunk


def _sites(
    rng: np.random.Generator,
    dem: Dem,
    area: shapely.Geometry,
    towns: _Towns,
    vxy: np.ndarray,
    remote: np.ndarray,
    fib: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """4G sites (2-4 per town, one near most villages, fewer where remote, on a local high point), 5G co-sited in
    towns (n41/n78) and at some rural sites (n28/NR 2.1 GHz), each on a band its operator holds, EIRP by the
    default equipment table, three sectors at 0/120/240 deg (``azimuth_deg`` 0); returns the sites and the 4G site
    points."""
    n_t = len(towns.xy)
    site_xy = [towns.xy + rng.normal(0, 400, (n_t, 2))]
    extra_town = rng.integers(1, 4, n_t)
    site_xy.append(np.repeat(towns.xy, extra_town, axis=0) + rng.normal(0, 1500, (int(extra_town.sum()), 2)))
    has_site = rng.random(len(vxy)) < np.clip(0.85 - 0.9 * remote, 0.05, 0.85)
    base = vxy[has_site]
    offs = rng.normal(0, 700, (len(base), 6, 2))
    hz = sample_heights(dem, base[:, None, 0] + offs[..., 0], base[:, None, 1] + offs[..., 1])
    best = np.argmax(np.nan_to_num(hz, nan=-1e9), axis=1)
    site_xy.append(base + offs[np.arange(len(base)), best])
    sxy = np.vstack(site_xy)
    sxy = sxy[shapely.contains_xy(area, sxy[:, 0], sxy[:, 1])]
    n4 = len(sxy)
    dtown4, _ = cKDTree(towns.xy).query(sxy)
    band4 = np.where(rng.random(n4) < 0.8, 1800.0, 900.0)
    _, dfib = shapely.STRtree(np.asarray(fib.geometry.values)).query_nearest(
        shapely.points(sxy[:, 0], sxy[:, 1]), return_distance=True, all_matches=False
    )
    five = (dtown4 < 2000.0) | (rng.random(n4) < 0.12)
    n5 = int(five.sum())
    all_xy = np.vstack([sxy, sxy[five]])
    height = rng.choice([30.0, 35.0, 40.0, 45.0], n4)
    op = _OPERATORS[rng.choice(3, n4, p=[0.55, 0.25, 0.2])]
    band = np.concatenate([_lte_band(op, band4), _nr_band(op[five], dtown4[five] < 2000.0)])
    bw = np.array([_BANDWIDTH_MHZ[float(b)] for b in band])
    tech = np.array(["4g"] * n4 + ["5g"] * n5, dtype=object)
    backhaul = np.where(dfib < 500.0, "fibre", "microwave")
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"T{i + 1:06d}" for i in range(n4 + n5)],
            "tech": tech,
            "band_mhz": band,
            "height_m": np.concatenate([height, height[five]]),
            "operator": np.concatenate([op, op[five]]),
            "eirp_dbm": _equipment_eirp_dbm(tech, band),
            "azimuth_deg": np.zeros(n4 + n5),  # three sectors at 0/120/240 deg, stated rather than assumed
            "bandwidth_mhz": bw,
            "backhaul": np.concatenate([backhaul, backhaul[five]]),
        },
        geometry=shapely.points(all_xy[:, 0], all_xy[:, 1]),
        crs=dem.crs,
    )
    return sites, sxy


def _schools(
    rng: np.random.Generator,
    region: _Area,
    towns: _Towns,
    vil: gpd.GeoDataFrame,
    remote: np.ndarray,
    fib: gpd.GeoDataFrame,
    site_xy: np.ndarray,
) -> gpd.GeoDataFrame:
    """Schools: a central primary and a middle school per town (more in county seats), village primary schools
    and teaching points (more where remote); access and bandwidth as reported from fibre and site distance."""
    rows = []
    assert towns.names is not None  # the towns are named before their schools are placed
    for t in range(len(towns.xy)):
        tn = towns.names[t]
        rows.append((towns.xy[t], f"{tn}中心小学", "primary", int(rng.integers(300, 1200))))
        rows.append((towns.xy[t], f"{tn}中学", "secondary", int(rng.integers(400, 2000))))
        if towns.seat[t]:
            for k in range(int(rng.integers(2, 4))):
                rows.append((towns.xy[t], f"{tn}第{k + 2}小学", "primary", int(rng.integers(400, 1500))))
                rows.append((towns.xy[t], f"{tn}第{k + 2}中学", "secondary", int(rng.integers(600, 2500))))
    n_v = len(vil)
    vxy = shapely.get_coordinates(np.asarray(vil.geometry.values))
    names = vil["name"].to_numpy()
    u = rng.random(n_v)
    vprim = u < 0.15
    vtp = (u >= 0.15) & (rng.random(n_v) < np.clip(0.04 + 0.35 * remote, 0, 0.6))
    for i in np.flatnonzero(vprim):
        rows.append((vxy[i], f"{names[i]}小学", "primary", int(rng.integers(40, 300))))
    for i in np.flatnonzero(vtp):
        rows.append((vxy[i], f"{names[i]}教学点", "teaching_point", int(rng.integers(3, 40))))
    sxy_s = np.array([r[0] for r in rows]) + rng.normal(0, 150, (len(rows), 2))
    s_pts = shapely.points(sxy_s[:, 0], sxy_s[:, 1])
    _, d_fibre = shapely.STRtree(np.asarray(fib.geometry.values)).query_nearest(
        s_pts, return_distance=True, all_matches=False
    )
    d_site, _ = cKDTree(site_xy).query(sxy_s)
    kind = np.array([r[2] for r in rows], dtype=object)
    fibre_ok = d_fibre < np.where(kind == "teaching_point", 300.0, 1000.0)
    lte_ok = ~fibre_ok & (d_site < 4000.0)
    sat = ~fibre_ok & ~lte_ok & (rng.random(len(rows)) < 0.25)
    access = np.where(fibre_ok, "fibre", np.where(lte_ok, "4g", np.where(sat, "satellite", "none")))
    bwm = np.select(
        [fibre_ok, lte_ok, sat],
        [
            rng.choice([50.0, 100.0, 200.0, 500.0, 1000.0], len(rows), p=[0.1, 0.35, 0.25, 0.2, 0.1]),
            np.round(rng.uniform(4.0, 40.0, len(rows))),
            rng.choice([4.0, 8.0, 20.0], len(rows)),
        ],
        0.0,
    )
    return gpd.GeoDataFrame(
        {
            "school_id": [f"S{i + 1:06d}" for i in range(len(rows))],
            "name": [r[1] for r in rows],
            "kind": kind,
            "students": np.array([r[3] for r in rows], dtype=np.int64),
            "bandwidth_mbps": bwm,
            "access": access,
            "county": np.array(region.names, dtype=object)[region.county_of(sxy_s)],
        },
        geometry=s_pts,
        crs=region.crs,
    )


def _toml_string(text: str) -> str:
    """A TOML basic string holding ``text`` exactly (JSON's string escapes are valid TOML escapes)."""
    return json.dumps(text, ensure_ascii=False)


def write_region(region: SyntheticRegion, out_dir: str | Path, *, name: str, language: str = "zh") -> Path:
    """Write a region as a ready project: ``layers.gpkg`` (WGS84), ``schools.csv`` (lon/lat, CGCS2000),
    ``dem.tif`` (metric CRS) and ``project.toml``. Returns the project file's path.
    """

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vector = {k: v.to_crs(4326) for k, v in region.layers().items() if k != "schools"}
    write_layers(vector, out / "layers.gpkg")
    schools = region.schools.to_crs(4490)
    table = pd.DataFrame(schools.drop(columns="geometry"))
    table.insert(2, "lon", np.round(schools.geometry.x, 7))
    table.insert(3, "lat", np.round(schools.geometry.y, 7))
    table.to_csv(out / "schools.csv", index=False, encoding="utf-8")
    write_dem(region.dem, out / "dem.tif", dtype="int16")
    toml = f"""# coverplan project written by `coverplan synth` / gis.synthetic.write_region.
# Layers are synthetic (seeded generator); see data/README.md.
[project]
name = {_toml_string(name)}
language = {_toml_string(language)}
coordinates = "wgs84"
metric_crs = "{region.crs.to_string()}"

[layers]
admin = {{ path = "layers.gpkg", layer = "admin" }}
villages = {{ path = "layers.gpkg", layer = "villages" }}
schools = {{ path = "schools.csv", crs = "EPSG:4490", lon = "lon", lat = "lat" }}
sites = {{ path = "layers.gpkg", layer = "sites" }}
fibre = {{ path = "layers.gpkg", layer = "fibre" }}
fibre_nodes = {{ path = "layers.gpkg", layer = "fibre_nodes" }}
roads = {{ path = "layers.gpkg", layer = "roads" }}

[terrain]
path = "dem.tif"
"""
    path = out / "project.toml"
    path.write_text(toml, encoding="utf-8")
    return path
