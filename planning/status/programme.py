"""The programme's definitions executed on the status frames (docs/programme.md): the 2018 pilot's 4G village
(a 4G site within ``site_within_m`` of the village committee, or signal at the committee, school, clinic and
every settlement of 20+ households) and the village categories (未通村, 升级村 below the pack's Mbps, 4G 无覆盖村).

Where an optional layer is missing the pack's fallback is used and said (:func:`fallbacks`): without
``facilities`` the village point stands for the village committee; without ``settlements`` the signal clause is
the model's signal at the village point (the settlements' own signal is not predicted).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gis.settings import Programme

__all__ = ["apply_village_4g_rule", "committee_points", "fallbacks", "nearest_site_m", "village_category"]


def committee_points(villages: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame | None) -> np.ndarray:
    """Per village: the (x, y) of its village committee from ``facilities`` (kind ``village_committee``), else the
    village point (metres, the layers' metric CRS)."""
    xy = shapely.get_coordinates(np.asarray(villages.geometry.values))
    if facilities is None or not len(facilities):
        return xy
    comm = facilities[facilities["kind"].astype(str).str.strip().str.lower() == "village_committee"]
    where = pd.Series(range(len(comm)), index=comm["village_id"].astype(str).to_numpy())
    where = where[~where.index.duplicated()]
    pos = where.reindex(villages["village_id"].astype(str).to_numpy()).to_numpy(dtype=float)
    cxy = shapely.get_coordinates(np.asarray(comm.geometry.values))
    has = np.isfinite(pos)
    out = xy.copy()
    out[has] = cxy[pos[has].astype(np.int64)]
    return out


def nearest_site_m(points_xy: np.ndarray, sites: gpd.GeoDataFrame, *, tech: str = "4g") -> np.ndarray:
    """Per point: the distance (m) to the nearest site of ``tech`` (inf when there is none)."""
    mine = sites[sites["tech"].astype(str) == tech]
    if not len(mine) or not len(points_xy):
        return np.full(len(points_xy), np.inf)
    tree = cKDTree(shapely.get_coordinates(np.asarray(mine.geometry.values)))
    dist, _ = tree.query(points_xy, k=1)
    return np.asarray(dist, dtype=float)


def apply_village_4g_rule(status: pd.DataFrame, *, site_4g_m: np.ndarray, programme: Programme) -> pd.DataFrame:
    """The village status with the programme's 4G definition: ``site_4g_m`` (distance from the committee to the
    nearest 4G site, m), ``has_4g_by`` (``site_within``, ``signal`` or empty) and ``has_4g`` true by either clause;
    a village the site clause covers no longer lacks 4G. Under ``signal_at_point`` only the signal counts."""
    out = status.copy()
    d = np.asarray(site_4g_m, dtype=float)
    out["site_4g_m"] = d
    rule = programme.village_4g
    near = (d <= rule.site_within_m) if rule.rule == "site_within_or_signal" else np.zeros(len(out), dtype=bool)
    signal = out["has_4g"].to_numpy(dtype=bool)
    out["has_4g_by"] = np.where(signal, "signal", np.where(near, "site_within", ""))
    out["has_4g"] = signal | near
    if "lacks" in out:
        out["lacks"] = [
            ";".join(x for x in str(lacks).split(";") if x and not (x == "4g" and n))
            for lacks, n in zip(out["lacks"].fillna(""), near, strict=True)
        ]
    return out


def village_category(status: pd.DataFrame, *, upgrade_below_mbps: float) -> np.ndarray:
    """Per village the call's category: 未通村 (no broadband), 升级村 (broadband below ``upgrade_below_mbps``:
    a village reporting ``access_mbps`` under it; without that column none is known), 4G无覆盖村 (no 4G), or
    empty."""
    bb = status["has_broadband"].to_numpy(dtype=bool)
    g4 = status["has_4g"].to_numpy(dtype=bool)
    if "access_mbps" in status and upgrade_below_mbps > 0:
        mbps = pd.to_numeric(status["access_mbps"], errors="coerce").to_numpy(dtype=float)
        slow = np.isfinite(mbps) & (mbps < upgrade_below_mbps)
    else:
        slow = np.zeros(len(status), dtype=bool)
    return np.select([~bb, bb & slow, ~g4], ["未通村", "升级村", "4G无覆盖村"], "").astype(object)


def fallbacks(programme: Programme, layers: dict[str, gpd.GeoDataFrame | None]) -> list[str]:
    """The fallbacks in use: one sentence per optional layer the programme's definitions need and the project
    lacks."""
    out: list[str] = []
    if not programme.chosen or programme.village_4g.rule != "site_within_or_signal":
        return out
    if layers.get("facilities") is None:
        out.append(
            "facilities layer absent: the village point stands for the village committee (村委会) in the 4G rule's "
            f"{programme.village_4g.site_within_m / 1000:g} km clause"
        )
    if layers.get("settlements") is None:
        out.append(
            "settlements layer absent: settlements of "
            f"{programme.village_4g.settlement_households}+ households are not counted; the signal clause is the "
            "model's signal at the village point, and settlement_4g is reported as village_4g"
        )
    return out
