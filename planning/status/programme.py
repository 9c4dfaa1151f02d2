"""The programme's definitions executed on the status frames (docs/programme.md): the 2018 pilot's 4G village
(a 4G site within ``site_within_m`` of the village committee, or signal at the committee, school, clinic and
every settlement of 20+ households) and the village categories (未通村, 升级村 below the pack's Mbps, 4G 无覆盖村).

The signal clause is assessed at the rule's own points (:func:`rule_points`): each village committee and clinic of
the ``facilities`` layer and each settlement of the ``settlements`` layer with at least the rule's households,
their 4G signal predicted by the project's radio model (:func:`planning.radio.points_coverage`, handheld UE, as
at the village points). A village has the signal when all of its points have it (:func:`signal_clause`).

Where an optional layer is missing the pack's fallback is used and said (:func:`fallbacks`): without
``facilities`` the village point stands for the village committee (and no clinic is assessed); without
``settlements`` no settlement is assessed, the village point standing for the village's people. The school of the
rule's text is not joined to its village (the schools layer has no ``village_id``): said in the fallbacks too.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gis.settings import Programme

__all__ = [
    "SIGNAL_FACILITIES",
    "apply_village_4g_rule",
    "committee_points",
    "fallbacks",
    "nearest_site_m",
    "rule_points",
    "signal_clause",
    "village_category",
]

#: The facility kinds whose 4G signal the 2018 rule's signal clause names (村委会, 卫生室).
SIGNAL_FACILITIES = ("village_committee", "clinic")


def rule_points(
    facilities: gpd.GeoDataFrame | None, settlements: gpd.GeoDataFrame | None, *, min_households: int
) -> gpd.GeoDataFrame:
    """The points the 4G rule's signal clause assesses besides the village points: every village committee and
    clinic of ``facilities`` and every settlement of ``settlements`` with at least ``min_households`` households.

    Returns
    -------
    GeoDataFrame
        ``village_id``, ``what`` (``village_committee``, ``clinic`` or ``settlement``), ``point_id`` (the
        facility or settlement id), ``households`` (settlements; NaN for facilities), in the layers' CRS; empty
        (no rows) when neither layer is given.
    """
    parts = []
    if facilities is not None and len(facilities):
        kind = facilities["kind"].astype(str).str.strip().str.lower()
        f = facilities[kind.isin(SIGNAL_FACILITIES).to_numpy()]
        parts.append(
            gpd.GeoDataFrame(
                {
                    "village_id": f["village_id"].astype(str).str.strip().to_numpy(),
                    "what": kind[kind.isin(SIGNAL_FACILITIES)].to_numpy(),
                    "point_id": f["facility_id"].astype(str).to_numpy(),
                    "households": np.nan,
                },
                geometry=f.geometry.values,
                crs=facilities.crs,
            )
        )
    if settlements is not None and len(settlements):
        hh = pd.to_numeric(settlements["households"], errors="coerce").to_numpy(dtype=float)
        s = settlements[hh >= min_households]
        parts.append(
            gpd.GeoDataFrame(
                {
                    "village_id": s["village_id"].astype(str).str.strip().to_numpy(),
                    "what": "settlement",
                    "point_id": s["settlement_id"].astype(str).to_numpy(),
                    "households": hh[hh >= min_households],
                },
                geometry=s.geometry.values,
                crs=settlements.crs,
            )
        )
    if not parts:
        return gpd.GeoDataFrame({"village_id": [], "what": [], "point_id": [], "households": []}, geometry=[])
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)


def signal_clause(
    village_ids: np.ndarray, point_signal: np.ndarray, points: pd.DataFrame, points_4g: np.ndarray
) -> pd.DataFrame:
    """Per village, the 2018 rule's signal clause from its own points (:func:`rule_points` with their 4G signal
    ``points_4g``): ``signal_4g`` true when every one of its points has 4G signal, the village point's
    ``point_signal`` standing for the committee where the village has no committee point;
    ``settlements_20hh`` / ``settlements_20hh_4g`` (how many of its settlements are assessed / have 4G) and
    ``signal_missing`` (the ids of its points without signal, ``;``-joined)."""
    ids = pd.Index(np.asarray(village_ids).astype(str))
    vid = points["village_id"].astype(str).to_numpy()
    what = points["what"].astype(str).to_numpy()
    ok = np.asarray(points_4g, dtype=bool)
    frame = pd.DataFrame({"vid": vid, "ok": ok, "sett": what == "settlement", "comm": what == "village_committee"})
    frame["bad"] = np.where(~ok, points["point_id"].astype(str).to_numpy(), "")
    g = frame.groupby("vid")
    all_ok = g["ok"].all().reindex(ids, fill_value=True).to_numpy(dtype=bool)
    has_comm = g["comm"].any().reindex(ids, fill_value=False).to_numpy(dtype=bool)
    n_sett = g["sett"].sum().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    n_sett_ok = (frame["sett"] & frame["ok"]).groupby(frame["vid"]).sum().reindex(ids, fill_value=0)
    missing = g["bad"].agg(lambda b: ";".join(x for x in b if x)).reindex(ids, fill_value="")
    signal = all_ok & (has_comm | np.asarray(point_signal, dtype=bool))
    return pd.DataFrame(
        {
            "signal_4g": signal,
            "settlements_20hh": n_sett,
            "settlements_20hh_4g": n_sett_ok.to_numpy(dtype=np.int64),
            "signal_missing": missing.to_numpy(dtype=object),
        }
    )


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


def apply_village_4g_rule(
    status: pd.DataFrame,
    *,
    site_4g_m: np.ndarray,
    programme: Programme,
    signal: np.ndarray | None = None,
    counts_4g: np.ndarray | None = None,
) -> pd.DataFrame:
    """The village status with the programme's 4G definition: ``site_4g_m`` (distance from the committee to the
    nearest 4G site, m), ``has_4g_by`` (``site_within``, ``signal`` or empty) and ``has_4g`` true by either clause;
    a village the site clause covers no longer lacks 4G. Under ``signal_at_point`` only the signal counts.

    ``signal``: per village the signal clause at the rule's own points (:func:`signal_clause`; None: the status's
    ``has_4g``, the signal at the village point). A village whose point has signal but whose committee, clinic or
    settlement lacks it, and that no site within reach covers, then lacks 4G: ``4g`` is added to its ``lacks``
    where ``counts_4g`` (per village: a KPI counts its 4G, and it is not excluded)."""
    out = status.copy()
    d = np.asarray(site_4g_m, dtype=float)
    out["site_4g_m"] = d
    rule = programme.village_4g
    near = (d <= rule.site_within_m) if rule.rule == "site_within_or_signal" else np.zeros(len(out), dtype=bool)
    at_point = out["has_4g"].to_numpy(dtype=bool)
    sig = at_point if signal is None else np.asarray(signal, dtype=bool)
    out["has_4g_by"] = np.where(sig, "signal", np.where(near, "site_within", ""))
    out["has_4g"] = sig | near
    if "lacks" in out:
        gain = np.zeros(len(out), dtype=bool) if counts_4g is None else np.asarray(counts_4g, dtype=bool)
        gain &= ~(sig | near)
        out["lacks"] = [
            _lacks_4g(str(lacks), near=n, add=a)
            for lacks, n, a in zip(out["lacks"].fillna(""), near, gain, strict=True)
        ]
    return out


#: The order of a village's needs in ``lacks``.
_NEED_ORDER = ("broadband", "4g", "5g")


def _lacks_4g(lacks: str, *, near: bool, add: bool) -> str:
    """``lacks`` without ``4g`` where the site clause covers the village, with it where ``add``."""
    parts = [x for x in lacks.split(";") if x and not (x == "4g" and near)]
    if add and "4g" not in parts:
        parts.append("4g")
    return ";".join(sorted(parts, key=lambda x: _NEED_ORDER.index(x) if x in _NEED_ORDER else len(_NEED_ORDER)))


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
            f"{programme.village_4g.settlement_households}+ households are not assessed; the signal clause is the "
            "model's signal at the village point (and at the facilities' points where given)"
        )
    out.append(
        "the school of the 4G rule's signal clause is not joined to its village (the schools layer has no "
        "village_id): the school's own coverage is reported in the schools' KPIs"
    )
    return out
