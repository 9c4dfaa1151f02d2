"""The demo's microwave backhaul, checked on an independent profile: P.530's clearance rule with the canopy, the
availability target, relay coordinates and ids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from scipy.ndimage import map_coordinates

from gis.inputs import load_inputs
from gis.project import load_project
from planning.radio.microwave import k_low
from tests.conftest import DEMO

R_EARTH_M = 6_371_000.0


def _least_clearance_f1(dem, hop: pd.Series, *, k: float, canopy_m: float, step_m: float = 10.0) -> float:
    """Least clearance in F1 radii at the hop's band: own profile every ``step_m``, bilinear on the DEM grid."""
    (x0, y0), (x1, y1) = hop.geometry.coords
    d = np.hypot(x1 - x0, y1 - y0)
    s = np.linspace(0.0, d, int(np.ceil(d / step_m)) + 1)
    x, y = x0 + (x1 - x0) * s / d, y0 + (y1 - y0) * s / d
    t = dem.transform
    col, row = (x - t.c) / t.a - 0.5, (y - t.f) / t.e - 0.5
    z = map_coordinates(dem.height_m.astype(float), [row, col], order=1, mode="nearest")
    za, zb = z[0] + hop["height_from_m"], z[-1] + hop["height_to_m"]
    inner = slice(1, -1)
    d1, d2 = s[inner], d - s[inner]
    obstacle = z[inner] + canopy_m + d1 * d2 / (2.0 * k * R_EARTH_M)
    line = za + (zb - za) * d1 / d
    f1 = np.sqrt(299_792_458.0 / (hop["band_ghz"] * 1e9) * d1 * d2 / d)
    return float(np.min((line - obstacle) / f1))


def test_demo_hops_clear_p530_on_an_independent_profile_and_meet_availability(demo_run):
    result, out = demo_run
    project = load_project(DEMO / "project.toml")
    bh = project.radio.backhaul
    dem = load_inputs(project).dem
    layer = gpd.read_file(out / "proposal.gpkg", layer="backhaul")
    hops = layer[layer["feature"] == "hop"]
    inter = result.proposal.interventions
    mw = inter[inter["backhaul"] == "microwave"]
    assert len(hops) == int(mw["backhaul_hops"].sum()) > 0
    worst = []
    for _, hop in hops.iterrows():
        median = _least_clearance_f1(dem, hop, k=bh.k_factor, canopy_m=bh.canopy_default_m)
        ke = float(k_low(np.array([hop["length_m"]]), bh)[0])
        low = _least_clearance_f1(dem, hop, k=ke, canopy_m=bh.canopy_default_m)
        worst.append((median, low))
        assert median == pytest.approx(hop["clearance_f1"], abs=0.01)  # the same 10 m step, own sampling
    med, low = np.array(worst).T
    assert (med >= bh.clearance_f1).all()  # 1.0 F1 at k = 4/3 over terrain and a 15 m canopy
    assert (low >= bh.clearance_low_f1).all()  # 0.3 F1 at k_e(99.9 %)
    assert (hops["availability_pct"] >= bh.availability_pct).all()
    assert (mw["backhaul_availability_pct"] >= bh.availability_pct).all()
    # relays: a point each, with WGS84 coordinates in proposal.csv, and an id from its projected position
    relays = layer[layer["feature"] == "relay"]
    table = pd.read_csv(out / "proposal.csv")
    used = table[table["backhaul_relay"].fillna("") != ""]
    assert set(relays["hop_id"]) == set(used["backhaul_relay"])
    to_xy = Transformer.from_crs("EPSG:4326", project.metric_crs, always_xy=True)
    for _, r in used.iterrows():
        x, y = to_xy.transform(r["backhaul_relay_lon"], r["backhaul_relay_lat"])
        rx, ry = (int(v) for v in str(r["backhaul_relay"])[1:].split("_"))
        assert (x, y) == (pytest.approx(rx, abs=1.0), pytest.approx(ry, abs=1.0))
