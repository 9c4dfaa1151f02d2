"""The chosen microwave backhaul as a layer: one line per hop and one point per relay (``proposal.gpkg`` layer
``backhaul``, the map's backhaul layer).

Read from the interventions' ``backhaul_hops_json`` (:func:`planning.radio.backhaul.plan_backhaul`): every hop
with its ends (ids and positions in the project's metric CRS), antenna heights, band, dish, channel, modulation,
length, clearance at the median k and at k_e 99.9 %, fade margin, rain fade exceeded 0.01 % of the year,
availability, capacity and price. A relay that several sites use is one point that lists them.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["HOP_COLUMNS", "backhaul_layer"]

#: Columns of a hop feature (a relay feature fills the relay's own and leaves the others empty).
HOP_COLUMNS = (
    "feature",
    "hop_id",
    "candidate_id",
    "hop",
    "from_id",
    "to_id",
    "band_ghz",
    "length_m",
    "clearance_f1",
    "clearance_low_f1",
    "availability_pct",
    "margin_db",
    "rain001_db",
    "dish_m",
    "channel_mhz",
    "modulation",
    "capacity_mbps",
    "height_from_m",
    "height_to_m",
    "cost_cny",
    "batch",
    "year",
    "relay_height_m",
    "relay_cny",
    "lon",
    "lat",
)


def _hop_rows(inter: pd.DataFrame) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    text = inter["backhaul_hops_json"].fillna("").astype(str) if "backhaul_hops_json" in inter else pd.Series([])
    for i, raw in text.items():
        if not raw:
            continue
        r = inter.loc[i]
        for k, hop in enumerate(json.loads(raw), start=1):
            rows.append(
                {
                    **{c: hop.get(c) for c in HOP_COLUMNS if c in hop},
                    "feature": "hop",
                    "hop_id": f"{r['candidate_id']}/{k}",
                    "candidate_id": r["candidate_id"],
                    "hop": k,
                    "from_id": hop["from"],
                    "to_id": hop["to"],
                    "batch": r.get("batch", np.nan),
                    "year": r.get("year", np.nan),
                    "geometry": shapely.LineString([(hop["x0"], hop["y0"]), (hop["x1"], hop["y1"])]),
                }
            )
    return rows


def _relay_rows(inter: pd.DataFrame) -> list[dict[str, object]]:
    if "backhaul_relay" not in inter:
        return []
    has = inter[inter["backhaul_relay"].fillna("").astype(str) != ""]
    rows: list[dict[str, object]] = []
    for relay, grp in has.groupby("backhaul_relay", sort=True):
        first = grp.iloc[0]
        hop = json.loads(str(first["backhaul_hops_json"]))[0]
        rows.append(
            {
                "feature": "relay",
                "hop_id": str(relay),
                "candidate_id": ";".join(sorted(grp["candidate_id"].astype(str))),
                "to_id": str(relay),
                "relay_height_m": float(grp["backhaul_relay_height_m"].max()),
                "relay_cny": float(first["backhaul_relay_cny"]),
                "batch": float(grp["batch"].min()) if "batch" in grp else np.nan,
                "year": float(grp["year"].min()) if "year" in grp else np.nan,
                "lon": float(first["backhaul_relay_lon"]),
                "lat": float(first["backhaul_relay_lat"]),
                "geometry": shapely.Point(hop["x1"], hop["y1"]),
            }
        )
    return rows


def backhaul_layer(inter: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Hop lines and relay points of the interventions' microwave backhaul, in their CRS (empty: no hop)."""
    rows = _hop_rows(inter) + _relay_rows(inter)
    frame = pd.DataFrame(rows, columns=[*HOP_COLUMNS, "geometry"])
    for col in HOP_COLUMNS:
        if col in ("feature", "hop_id", "candidate_id", "from_id", "to_id", "modulation"):
            frame[col] = frame[col].fillna("").astype(str)
        else:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=inter.crs)
