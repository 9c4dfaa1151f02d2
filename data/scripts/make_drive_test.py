"""Regenerate data/drive_test_demo.csv: a synthetic drive test of the demo region for ``coverplan calibrate``.

    .venv/bin/python data/scripts/make_drive_test.py

Deterministic (seed 2021). Eight 4G sites of the demo (``planning/demo``) spread over the county (farthest-point
order from the first 4G site); around each, points every 100 m along the demo's roads 200 m to 3 km from the site
(a drive test follows roads). Each point's RSRP is what coverplan's own model predicts from that site alone
(``planning.radio.coverage.coverage``: the project's Hata/suburban model over the DEM's terrain, the site's
equipment and antenna pattern, a handheld at 1.5 m). Of the points where that prediction is at least
``ROUTE_MIN_DBM`` = -120 dBm (the route keeps to where the model says the cell is heard), 60 per site are drawn
at random: the choice rests on the model, not on the measurement, so it does not bias the fitted offset. The
measurement is the prediction plus a known synthetic error:

* an offset of ``OFFSET_DB`` = -4 dB (the measurements are 4 dB weaker than the model: ``coverplan calibrate``
  should answer ``calibration_offset_db`` = +4, an extra loss), and
* lognormal shadowing: a normal error of ``SHADOWING_DB`` = 6 dB standard deviation in dB, independent per point
  (6-8 dB is the usual figure for macro cells; README "Link budget").

A measurement below -140 dBm is dropped (the bottom of an LTE handset's RSRP report range, 3GPP TS 36.133
§9.1.4; with the route above at most a few points, 2.7 standard deviations down). Columns: ``lon``, ``lat``
(WGS84, 6 decimals), ``rsrp_dbm`` (0.1 dB), ``site_id``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.inputs import load_inputs
from gis.project import load_project
from planning.demo import demo_project
from planning.radio.coverage import coverage
from planning.radio.linkbudget import LinkBudget

OUT = Path(__file__).resolve().parents[1] / "drive_test_demo.csv"
SEED = 2021
OFFSET_DB = -4.0
SHADOWING_DB = 6.0
N_SITES = 8
POINTS_PER_SITE = 60
STEP_M = 100.0
MIN_M, MAX_M = 200.0, 3000.0
#: The drive route keeps to points where the model predicts at least this (dBm): a choice of this script.
ROUTE_MIN_DBM = -120.0
#: Lowest RSRP an LTE handset reports (3GPP TS 36.133 §9.1.4: RSRP_00 is below -140 dBm).
FLOOR_DBM = -140.0


def spread_sites(sites: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    """``n`` sites far apart: farthest-point order from the first."""
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    chosen = [0]
    dist = np.hypot(*(xy - xy[0]).T)
    while len(chosen) < min(n, len(sites)):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.hypot(*(xy - xy[nxt]).T))
    return sites.iloc[chosen]


def road_points(roads: gpd.GeoDataFrame, x: float, y: float) -> np.ndarray:
    """Points every ``STEP_M`` along the roads, ``MIN_M`` to ``MAX_M`` from (x, y)."""
    near = roads.geometry.intersection(shapely.Point(x, y).buffer(MAX_M))
    pts = []
    for line in shapely.get_parts(np.asarray(near.values)):
        if line.is_empty or line.length < STEP_M:
            continue
        along = np.arange(STEP_M / 2, line.length, STEP_M)
        pts.extend(shapely.line_interpolate_point(line, along))
    xy = np.array([(p.x, p.y) for p in pts]).reshape(-1, 2)
    d = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
    return xy[(d >= MIN_M) & (d <= MAX_M)]


def drive_test(seed: int = SEED) -> pd.DataFrame:
    """The synthetic drive test (see the module docstring)."""
    project = load_project(demo_project())
    inputs = load_inputs(project)
    layers = inputs.layers
    rng = np.random.default_rng(seed)
    sites = layers["sites"]
    sites = spread_sites(sites[sites["tech"] == "4g"].sort_values("site_id"), N_SITES)
    parts = []
    for i in range(len(sites)):
        site = sites.iloc[[i]]
        xy = road_points(layers["roads"], site.geometry.x.iloc[0], site.geometry.y.iloc[0])
        pts = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=layers.crs)
        pred = coverage(pts, site, radio=project.radio, dem=inputs.dem, budget=LinkBudget(max_sites_per_point=0))
        pred = pred["4g_rsrp_dbm"].to_numpy()
        heard = np.flatnonzero(np.isfinite(pred) & (pred >= ROUTE_MIN_DBM))
        route = np.sort(rng.choice(heard, size=min(POINTS_PER_SITE, len(heard)), replace=False))
        measured = pred[route] + OFFSET_DB + rng.normal(0.0, SHADOWING_DB, len(route))
        keep = measured >= FLOOR_DBM
        ll = pts.iloc[route[keep]].to_crs(4326)
        parts.append(
            pd.DataFrame(
                {
                    "lon": ll.geometry.x.round(6).to_numpy(),
                    "lat": ll.geometry.y.round(6).to_numpy(),
                    "rsrp_dbm": measured[keep].round(1),
                    "site_id": site["site_id"].iloc[0],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    table = drive_test()
    table.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT}: {len(table)} measurements of {table['site_id'].nunique()} sites")


if __name__ == "__main__":
    main()
