"""Gap analysis: status of every village and school against the universal-service targets.

* Villages: broadband by ``fibre`` (existing fibre within the drop distance, from :func:`planning.fibre.fibre_reach`),
  by ``5g`` or ``4g`` (covered, from :func:`planning.radio.coverage.coverage`), or ``none``; registered poor villages
  also need 4G ("4G first for poor villages").
* Schools (incl. teaching points): access technology, achievable outlet bandwidth (fibre: the project's fibre
  tier, default 1000 Mbps; 4G/5G: the fixed-wireless throughput of the coverage model; satellite: the reported
  ``bandwidth_mbps``) and whether it meets the outlet target (default 100 Mbps).
* Targets per county and for the region: share of registered poor villages with broadband (0.98), share of
  schools connected (0.98) and at >= the outlet target, and the shortfall in villages/schools to reach each.

Where a model result is absent the layer's own columns are used (schools: ``access``, ``bandwidth_mbps``;
villages: ``access`` when present); a village or school with no evidence at all is ``unknown``, never quietly
``none``. Pure functions on DataFrames; the input index is kept.
"""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.admin import county_of
from gis.project import TargetSettings

logger = logging.getLogger(__name__)

REGION = "(region)"
#: What a ledger row may lack.
LACKS = ("broadband", "4g", "connection", "outlet_target")


def _aligned(frame: pd.DataFrame | None, index: pd.Index, what: str) -> pd.DataFrame | None:
    if frame is None:
        return None
    if not frame.index.equals(index):
        msg = (
            f"`{what}` has index {list(frame.index[:5])}...; expected the same index as the layer "
            f"({list(index[:5])}...)"
        )
        raise ValueError(msg)
    return frame


def village_status(
    villages: gpd.GeoDataFrame,
    *,
    coverage: pd.DataFrame | None = None,
    reach: pd.DataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Broadband status of every village.

    Parameters
    ----------
    villages : GeoDataFrame
        The villages layer (``village_id``, ``name``, optional ``county``, ``is_poor``, ``access``).
    coverage : DataFrame, optional
        Coverage of these villages (same index): ``4g_covered``, ``5g_covered``.
    reach : DataFrame, optional
        Fibre reach of these villages (same index): ``connected``.
    admin : GeoDataFrame, optional
        Admin areas, to name the county of villages without a ``county``.

    Returns
    -------
    DataFrame
        Same index; ``village_id``, ``name``, ``county``, ``is_poor``, ``broadband`` in {fibre, 5g, 4g, none,
        unknown}, ``has_broadband``, ``has_4g``, ``lacks`` (``;``-joined: broadband, 4g).
    """
    idx = villages.index
    coverage = _aligned(coverage, idx, "coverage")
    reach = _aligned(reach, idx, "reach")
    fibre = reach["connected"].to_numpy(dtype=bool, copy=True) if reach is not None else np.zeros(len(idx), dtype=bool)
    known = np.zeros(len(idx), dtype=bool) if reach is None else np.ones(len(idx), dtype=bool)
    g5 = np.zeros(len(idx), dtype=bool)
    g4 = np.zeros(len(idx), dtype=bool)
    if coverage is not None:
        g5 = coverage["5g_covered"].to_numpy(dtype=bool, copy=True)
        g4 = coverage["4g_covered"].to_numpy(dtype=bool, copy=True)
        known[:] = True
    if "access" in villages:
        acc = villages["access"].astype(object).where(villages["access"].notna(), None).to_numpy()
        have = np.array([a is not None for a in acc])
        fibre |= have & (acc == "fibre")
        g5 |= have & (acc == "5g")
        g4 |= have & (acc == "4g")
        known |= have
    broadband = np.where(fibre, "fibre", np.where(g5, "5g", np.where(g4, "4g", np.where(known, "none", "unknown"))))
    poor = (
        villages["is_poor"].fillna(False).astype(bool).to_numpy()
        if "is_poor" in villages
        else np.zeros(len(idx), dtype=bool)
    )
    has_bb = np.isin(broadband, ["fibre", "5g", "4g"])
    lacks = [
        ";".join(x for x, need in (("broadband", not b), ("4g", p and not g)) if need)
        for b, p, g in zip(has_bb, poor, g4, strict=True)
    ]
    out = pd.DataFrame(
        {
            "village_id": villages["village_id"].astype(str).to_numpy(),
            "name": villages["name"].astype(str).to_numpy(),
            "county": county_of(villages, admin).to_numpy(),
            "is_poor": poor,
            "broadband": broadband,
            "has_broadband": has_bb,
            "has_4g": g4,
            "lacks": lacks,
        },
        index=idx,
    )
    n_unknown = int((broadband == "unknown").sum())
    if n_unknown:
        logger.warning("%d village(s) have no coverage, reach or access evidence: status unknown", n_unknown)
    return out


def school_status(
    schools: gpd.GeoDataFrame,
    *,
    targets: TargetSettings,
    coverage: pd.DataFrame | None = None,
    reach: pd.DataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Access technology and achievable outlet bandwidth of every school.

    Parameters
    ----------
    schools : GeoDataFrame
        The schools layer (``school_id``, ``name``, ``kind``; optional ``access``, ``bandwidth_mbps``, ``county``).
    targets : TargetSettings
        ``fibre_tier_mbps`` (outlet of a fibre school) and ``school_outlet_mbps`` (the target).
    coverage : DataFrame, optional
        Fixed-wireless (CPE) coverage of these schools (same index): ``4g_/5g_covered``, ``4g_/5g_throughput_mbps``.
    reach : DataFrame, optional
        Fibre reach (same index): ``connected``.
    admin : GeoDataFrame, optional
        To name the county of schools without one.

    Returns
    -------
    DataFrame
        Same index; ``school_id``, ``name``, ``kind``, ``county``, ``access`` in {fibre, 5g, 4g, satellite, none,
        unknown}, ``outlet_mbps``, ``connected``, ``meets_outlet``, ``lacks`` (connection; outlet_target).
    """
    idx = schools.index
    coverage = _aligned(coverage, idx, "coverage")
    reach = _aligned(reach, idx, "reach")
    n = len(idx)
    reported_acc = (
        schools["access"].astype(object).where(schools["access"].notna(), None).to_numpy()
        if "access" in schools
        else np.full(n, None, dtype=object)
    )
    reported_bw = (
        pd.to_numeric(schools["bandwidth_mbps"], errors="coerce").to_numpy(dtype=float)
        if "bandwidth_mbps" in schools
        else np.full(n, np.nan)
    )
    fibre = reach["connected"].to_numpy(dtype=bool, copy=True) if reach is not None else np.zeros(n, dtype=bool)
    fibre |= reported_acc == "fibre"
    tp = {t: np.zeros(n) for t in ("4g", "5g")}
    cov = {t: np.zeros(n, dtype=bool) for t in ("4g", "5g")}
    if coverage is not None:
        for t in ("4g", "5g"):
            cov[t] = coverage[f"{t}_covered"].to_numpy(dtype=bool, copy=True)
            tp[t] = np.where(cov[t], coverage[f"{t}_throughput_mbps"].fillna(0.0).to_numpy(dtype=float), 0.0)
    # a reported wireless access without a model result counts at its reported bandwidth
    for t in ("4g", "5g"):
        rep = (reported_acc == t) & ~cov[t]
        cov[t] |= rep
        tp[t] = np.where(rep, np.nan_to_num(reported_bw, nan=0.0), tp[t])
    best_w = np.where(tp["5g"] >= tp["4g"], "5g", "4g")
    best_tp = np.maximum(tp["5g"], tp["4g"])
    wireless = cov["4g"] | cov["5g"]
    sat = reported_acc == "satellite"
    known = np.full(n, coverage is not None or reach is not None) | (reported_acc != None)  # noqa: E711
    access = np.where(
        fibre, "fibre", np.where(wireless, best_w, np.where(sat, "satellite", np.where(known, "none", "unknown")))
    )
    outlet = np.where(
        access == "fibre",
        targets.fibre_tier_mbps,
        np.where(np.isin(access, ["4g", "5g"]), best_tp, np.where(access == "satellite", reported_bw, 0.0)),
    )
    outlet = np.where(access == "unknown", np.nan, outlet)
    connected = np.isin(access, ["fibre", "5g", "4g", "satellite"])
    meets = connected & (np.nan_to_num(outlet, nan=0.0) >= targets.school_outlet_mbps)
    lacks = [
        ";".join(x for x, need in (("connection", not c), ("outlet_target", not m)) if need)
        for c, m in zip(connected, meets, strict=True)
    ]
    n_sat_nan = int((sat & ~fibre & ~wireless & np.isnan(reported_bw)).sum())
    if n_sat_nan:
        logger.warning("%d satellite school(s) report no bandwidth_mbps: outlet unknown, target not met", n_sat_nan)
    return pd.DataFrame(
        {
            "school_id": schools["school_id"].astype(str).to_numpy(),
            "name": schools["name"].astype(str).to_numpy(),
            "kind": schools["kind"].astype(str).to_numpy(),
            "county": county_of(schools, admin).to_numpy(),
            "access": access,
            "outlet_mbps": outlet,
            "connected": connected,
            "meets_outlet": meets,
            "lacks": lacks,
        },
        index=idx,
    )


def shortfall(have: int, total: int, target_share: float) -> int:
    """How many more must be served to reach ``target_share`` of ``total`` (0 when already met)."""
    need = math.ceil(target_share * total - 1e-9)
    return max(0, need - have)


def share(have: float, total: float) -> float:
    """``have / total``; NaN when ``total`` is 0 (no poor village in a county: the KPI does not apply there, and
    the target counts as met, see :func:`shortfall`). The one rule for every share coverplan reports."""
    return float(have) / float(total) if total else float("nan")


def target_table(villages: pd.DataFrame, schools: pd.DataFrame, *, targets: TargetSettings) -> pd.DataFrame:
    """Targets per county and for the whole region (last row, county ``(region)``).

    Parameters
    ----------
    villages, schools : DataFrame
        From :func:`village_status` and :func:`school_status`.
    targets : TargetSettings

    Returns
    -------
    DataFrame
        One row per county: villages, poor villages, poor villages with broadband / 4G and their shares, the
        broadband target and shortfall (villages); schools, teaching points, connected, at >= the outlet target,
        shares, targets and shortfalls (schools); ``meets_all`` when every target is met.
    """
    counties = sorted(set(villages["county"]) | set(schools["county"]))
    rows = []
    for county in [*counties, REGION]:
        v = villages if county == REGION else villages[villages["county"] == county]
        s = schools if county == REGION else schools[schools["county"] == county]
        poor = v[v["is_poor"]]
        n_poor, poor_bb, poor_4g = len(poor), int(poor["has_broadband"].sum()), int(poor["has_4g"].sum())
        n_s, s_conn, s_out = len(s), int(s["connected"].sum()), int(s["meets_outlet"].sum())
        tps = s[s["kind"] == "teaching_point"]
        row = {
            "county": county,
            "villages": len(v),
            "villages_with_broadband": int(v["has_broadband"].sum()),
            "poor_villages": n_poor,
            "poor_with_broadband": poor_bb,
            "poor_broadband_share": share(poor_bb, n_poor),
            "poor_broadband_target": targets.poor_village_broadband_share,
            "poor_broadband_shortfall": shortfall(poor_bb, n_poor, targets.poor_village_broadband_share),
            "poor_with_4g": poor_4g,
            "poor_4g_share": share(poor_4g, n_poor),
            "schools": n_s,
            "teaching_points": len(tps),
            "teaching_points_connected": int(tps["connected"].sum()),
            "schools_connected": s_conn,
            "schools_connected_share": share(s_conn, n_s),
            "schools_connected_target": targets.school_connected_share,
            "schools_connected_shortfall": shortfall(s_conn, n_s, targets.school_connected_share),
            "schools_outlet_ok": s_out,
            "schools_outlet_share": share(s_out, n_s),
            "schools_outlet_shortfall": shortfall(s_out, n_s, targets.school_connected_share),
        }
        row["meets_all"] = (
            row["poor_broadband_shortfall"] == 0
            and row["schools_connected_shortfall"] == 0
            and row["schools_outlet_shortfall"] == 0
        )
        rows.append(row)
    return pd.DataFrame(rows)


def ledger_rows(
    villages: pd.DataFrame,
    schools: pd.DataFrame,
    *,
    geometry_villages: gpd.GeoSeries,
    geometry_schools: gpd.GeoSeries,
    reach_cost_cny: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Rows for the ledger (台账): every village or school that lacks something.

    ``remedy``/``remedy_cost_cny`` start as the fibre extension from the reach model where one exists (the
    optimiser replaces them with its cheapest choice); ``status`` starts ``unconnected``.
    """
    parts = []
    for layer, frame, geom, id_col in (
        ("villages", villages, geometry_villages, "village_id"),
        ("schools", schools, geometry_schools, "school_id"),
    ):
        need = frame[frame["lacks"] != ""]
        part = pd.DataFrame(
            {
                "id": (layer + ":" + need[id_col]).to_numpy(),
                "layer": layer,
                "name": need["name"].to_numpy(),
                "county": need["county"].to_numpy(),
                "kind": need["kind"].to_numpy()
                if "kind" in need
                else np.where(need["is_poor"], "poor_village", "village"),
                "lacks": need["lacks"].to_numpy(),
                "access": need["access"].to_numpy() if "access" in need else need["broadband"].to_numpy(),
            }
        )
        part["geometry"] = geom.loc[need.index].to_numpy()
        parts.append(part)
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=geometry_villages.crs)
    cost = pd.Series(np.nan, index=out.index)
    if reach_cost_cny is not None:
        cost = out["id"].map(reach_cost_cny)
        cost = cost.where(np.isfinite(cost.astype(float)))
    out["remedy"] = np.where(cost.notna(), "fibre_extension", "")
    out["remedy_cost_cny"] = cost.astype(float)
    out["status"] = "unconnected"
    return out
