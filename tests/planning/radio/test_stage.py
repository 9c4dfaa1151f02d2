"""The coverage stage: busy hour applied, demand and load columns, clutter from a land-cover raster, blocks (for
its progress lines) equal to one call; one job per county (its points and the sites that reach them), equal row
for row to one call over the whole region, in turn or on dask."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from gis.admin import assign_areas
from gis.inputs import load_inputs
from gis.project import load_project
from gis.settings import RadioSettings
from gis.synthetic import synthesize
from planning.progress import progress_of
from planning.radio.calibration import calibrate
from planning.radio.capacity import busy_hour_mbps_per_subscriber
from planning.radio.coverage import coverage
from planning.radio.linkbudget import LinkBudget
from planning.radio.stage import (
    county_partitions,
    coverage_frame,
    coverage_stage,
    layer_clutter,
    receiver_for,
    reference_ground,
    with_busy_hour,
)
from tests.conftest import CRS_M, DEMO, X0, Y0

TECH_COLUMNS = (
    "site_id",
    "cell_id",
    "rsrp_dbm",
    "sinr_db",
    "ul_margin_db",
    "ul_mbps",
    "location_probability",
    "peak_mbps",
    "throughput_mbps",
    "cell_load",
    "covered",
)


def test_stage_columns_and_busy_hour(tiny_project):
    project = load_project(tiny_project)
    cov = coverage_stage(project, load_inputs(project))
    for t in ("4g", "5g"):
        for col in TECH_COLUMNS:
            assert f"{t}_{col}" in cov
        assert (cov[f"{t}_throughput_mbps"] <= cov[f"{t}_peak_mbps"] + 1e-9).all()
        assert (cov[f"{t}_sinr_db"].dropna() <= 30.0).all()
    v = cov[cov["layer"] == "villages"]
    per_sub = busy_hour_mbps_per_subscriber(19.0, 0.08)
    np.testing.assert_allclose(v["demand_mbps"], np.array([1200, 800, 450, 2300, 150]) * 0.66 * per_sub, atol=1e-3)
    s = cov[cov["layer"] == "schools"]
    assert s["demand_mbps"].tolist() == [100.0, 100.0, 100.0]  # 640 students x 0.1 Mbps < 100 Mbps
    # the five villages load T1's sectors (a row without azimuth is three sectors): the villages of one sector
    # share its load, and each keeps peak x (1 - load)
    assert v["4g_cell_id"].str.startswith("T1/").all()
    for _, cell in v.groupby("4g_cell_id"):
        load = cell["4g_cell_load"].to_numpy()
        assert np.allclose(load, load[0])
        assert load[0] > 0.0
        np.testing.assert_allclose(
            cell["4g_throughput_mbps"], np.round(cell["4g_peak_mbps"] * max(1 - load[0], 0.0), 2), atol=0.011
        )
    # schools ask for one live classroom's video up (4 Mbps) and meet it only on a covered link
    assert s["ul_demand_mbps"].tolist() == [4.0, 4.0, 4.0]
    for t in ("4g", "5g"):
        assert (s[f"{t}_ul_meets"] == (s[f"{t}_covered"] & (s[f"{t}_ul_throughput_mbps"] >= 4.0))).all()


def test_clutter_raster_sets_environment_and_foliage_loss(tiny_project):
    # WorldCover classes over the tiny DEM: tree cover (10) west of x0 + 500 m, cropland (40) east of it
    classes = np.where(np.arange(10)[None, :] < 5, 10, 40).repeat(10, axis=0).astype(np.uint8)
    path = tiny_project.parent / "landcover.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8", crs=CRS_M,
        transform=Affine(100.0, 0, X0, 0, -100.0, Y0), nodata=0,
    ) as dst:  # fmt: skip
        dst.write(classes, 1)
    base = tiny_project.read_text(encoding="utf-8")
    tiny_project.write_text(base + '\n[radio]\nmodel = "hata"\n', encoding="utf-8")
    plain = load_project(tiny_project)
    text = base + '\n[radio]\nmodel = "hata"\nclutter_path = "landcover.tif"\n'
    tiny_project.write_text(text, encoding="utf-8")
    with_clutter = load_project(tiny_project)
    inputs = load_inputs(plain)
    a = coverage_stage(plain, inputs).set_index("point_id")
    b = coverage_stage(with_clutter, inputs).set_index("point_id")
    # V1 (x0 + 150 m) and V2 (x0 + 350 m) stand in trees: suburban as by default, 8 dB of foliage
    for vid in ("V1", "V2"):
        assert b.loc[vid, "4g_rsrp_dbm"] == pytest.approx(a.loc[vid, "4g_rsrp_dbm"] - 8.0, abs=0.011)
    # V3-V5 in cropland: Hata's open area, less loss than suburban (or free space at these short ranges)
    for vid in ("V3", "V4", "V5"):
        assert b.loc[vid, "4g_rsrp_dbm"] >= a.loc[vid, "4g_rsrp_dbm"] - 1e-9


def test_calibration_on_terrain_reduces_the_error():
    """A synthetic drive test on the synthetic region's hills (vertical pattern, terrain): measured = model - 5 dB
    - 6 dB/decade + N(0, 4 dB); calibrating recovers the offset and slope and shrinks the spread."""
    r = synthesize(villages=120, seed=11)
    rng = np.random.default_rng(8)
    site = r.sites[r.sites["tech"] == "4g"].iloc[[0]]
    sx, sy = site.geometry.x.iloc[0], site.geometry.y.iloc[0]
    ang, dist = rng.uniform(0, 2 * np.pi, 300), rng.uniform(300.0, 2500.0, 300)
    pts = gpd.GeoDataFrame(geometry=shapely.points(sx + dist * np.cos(ang), sy + dist * np.sin(ang)), crs=r.sites.crs)
    radio = replace(RadioSettings(), environment="suburban")
    pred = coverage(pts, site, radio=radio, dem=r.dem, budget=LinkBudget(max_sites_per_point=0))["4g_rsrp_dbm"]
    ok = np.isfinite(pred.to_numpy())
    measured = pred.to_numpy()[ok] - 5.0 - 6.0 * np.log10(dist[ok] / 1000.0) + rng.normal(0, 4.0, ok.sum())
    heard = measured > -140.0  # a drive test logs what a phone still decodes
    meas = gpd.GeoDataFrame(
        {"rsrp_dbm": measured[heard], "site_id": site["site_id"].iloc[0]},
        geometry=pts.geometry.to_numpy()[ok][heard],
        crs=r.sites.crs,
    )
    cal = calibrate(meas, site, radio=radio, dem=r.dem)
    assert cal.n >= 250
    assert cal.offset_db == pytest.approx(5.0, abs=1.0)
    assert cal.slope_db_per_decade == pytest.approx(6.0, abs=2.0)
    assert cal.after_std_db < cal.before_std_db
    assert cal.after_std_db == pytest.approx(4.0, abs=0.6)


def test_demo_radio_outputs(demo_run):
    """On the demo: SINR bounded, downlink, uplink, busy-hour and location-probability columns written, no school at
    the outlet target by wireless on its peak rate alone, every chosen microwave hop clear."""
    result, out = demo_run
    cov = gpd.read_file(out / "coverage.gpkg", layer="coverage")
    for t in ("4g", "5g"):
        for col in TECH_COLUMNS:
            assert f"{t}_{col}" in cov
        assert cov[f"{t}_sinr_db"].max() <= 30.0
        assert cov[f"{t}_location_probability"].between(0.0, 1.0).all()
        covered = cov[f"{t}_covered"].astype(bool)
        assert (cov.loc[covered, f"{t}_location_probability"] >= 0.75 - 1e-4).all()
    gaps = gpd.read_file(out / "gaps.gpkg", layer="schools")
    wireless = gaps[gaps["access"].isin(["4g", "5g"]) & gaps["meets_outlet"].astype(bool)]
    sch = cov[cov["layer"] == "schools"].set_index("point_id")
    busy = sch[["4g_throughput_mbps", "5g_throughput_mbps"]].max(axis=1).reindex(wireless["school_id"])
    assert (busy >= 100.0).all()  # at target by wireless only on the busy-hour rate
    peak_only = sch[["4g_peak_mbps", "5g_peak_mbps"]].max(axis=1) >= 100.0
    assert peak_only.sum() > (sch[["4g_throughput_mbps", "5g_throughput_mbps"]].max(axis=1) >= 100.0).sum()
    inter = result.proposal.interventions
    mw = inter[inter["backhaul"] == "microwave"]
    assert (mw["backhaul_clearance_f1"] >= 0.6).all()
    assert (mw["backhaul_hub"] != "").all()


def test_coverage_in_blocks_equals_one_call(caplog):
    project = load_project(DEMO / "project.toml")
    inputs = load_inputs(project)
    whole = coverage_stage(project, inputs, chunk_points=10**6)
    with caplog.at_level("INFO", logger="planning.radio.stage"):
        caplog.clear()  # the whole call's records, where an earlier test left the loggers at INFO
        blocks = coverage_stage(project, inputs, chunk_points=64)
    pd.testing.assert_frame_equal(pd.DataFrame(blocks), pd.DataFrame(whole))
    lines = [r.getMessage() for r in caplog.records if r.name == "planning.radio.stage" and progress_of(r)]
    assert lines[:2] == ["coverage villages: 64/300", "coverage villages: 128/300"]
    assert "coverage villages: 300/300" in lines
    assert lines[-1] == "coverage schools: 110/110"


def _whole_region(project, inputs) -> gpd.GeoDataFrame:
    """The coverage stage as one call per layer over the whole region (no county split)."""
    refs = reference_ground(inputs)
    radio, layers = project.radio, inputs.layers
    frames = []
    for layer in ("villages", "schools"):
        pts = layers[layer]
        cov = coverage(
            pts,
            layers["sites"],
            radio=radio,
            dem=inputs.dem,
            receiver=receiver_for(layer, radio),
            reference_ground_m=refs[layer],
            clutter=layer_clutter(radio, pts),
        )
        frames.append(coverage_frame(layer, pts, cov))
    merged = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=layers.crs)
    return with_busy_hour(project, inputs, merged)


def _assert_same_rows(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame) -> None:
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(want.drop(columns="geometry")), check_exact=True
    )
    assert got.geometry.geom_equals_exact(want.geometry, tolerance=0).all()


def test_partitions_cover_every_point_once_and_share_border_sites(two_counties):
    project, inputs = two_counties
    parts = county_partitions(project, inputs, refs=reference_ground(inputs))
    assert len(parts) == 2
    for layer in ("villages", "schools"):
        ids = np.concatenate([getattr(p, layer).index.to_numpy() for p in parts])
        assert sorted(ids) == sorted(inputs.layers[layer].index)
    # a site of one county within reach of the other's points is in both partitions (the buffer)
    sites = inputs.layers["sites"]
    home = assign_areas(sites, inputs.layers["admin"])
    both = set(parts[0].sites.index) & set(parts[1].sites.index)
    assert both
    assert {home[i] for i in both} == {p.area_id for p in parts}  # border sites from both sides
    # and no partition takes every site (the buffer is each site's own range, not the whole region): shown with
    # short ranges (a -80 dBm threshold), since P.1812 from the synthetic hills reaches 23-56 km
    short = replace(project, radio=replace(project.radio, lte_rsrp_threshold_dbm=-80.0, nr_rsrp_threshold_dbm=-80.0))
    few = county_partitions(short, inputs, refs=reference_ground(inputs))
    assert all(len(p.sites) < len(sites) for p in few)
    admin = inputs.layers["admin"].set_index("area_id")
    for p in parts:
        inside = shapely.contains_xy(
            admin.geometry[p.area_id], *shapely.get_coordinates(np.asarray(p.villages.geometry.values)).T
        )
        assert inside.all()


def test_coverage_is_one_job_per_county_and_equals_the_whole_region(two_counties, recorded_jobs):
    project, inputs = two_counties
    split = coverage_stage(project, inputs, map_jobs=recorded_jobs)
    areas = list(inputs.layers["admin"]["area_id"].astype(str))
    assert recorded_jobs.calls == [[f"coverage-{a}" for a in areas]]
    _assert_same_rows(split, _whole_region(project, inputs))
    _assert_same_rows(coverage_stage(project, inputs), split)  # in turn by default
    assert split["4g_covered"].any()
    assert not split["4g_covered"].all()


def test_one_county_is_one_job_equal_to_the_whole_region(recorded_jobs):
    project = load_project(DEMO / "project.toml")
    inputs = load_inputs(project)
    _assert_same_rows(coverage_stage(project, inputs, map_jobs=recorded_jobs), _whole_region(project, inputs))
    assert recorded_jobs.calls == [["coverage-220681"]]


def test_dask_coverage_equals_in_turn(two_counties, dask_jobs):
    project, inputs = two_counties
    _assert_same_rows(coverage_stage(project, inputs, map_jobs=dask_jobs), coverage_stage(project, inputs))


def test_p1812_takes_clutter_heights_not_foliage_loss(tiny_project):
    # tree cover (10, P.1812 Table 2: 15 m) on the west half, cropland (40, 0 m) on the east half
    classes = np.where(np.arange(10)[None, :] < 5, 10, 40).repeat(10, axis=0).astype(np.uint8)
    path = tiny_project.parent / "landcover.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8", crs=CRS_M,
        transform=Affine(100.0, 0, X0, 0, -100.0, Y0), nodata=0,
    ) as dst:  # fmt: skip
        dst.write(classes, 1)
    base = tiny_project.read_text(encoding="utf-8")
    plain = load_project(tiny_project)
    assert plain.radio.model == "p1812"
    tiny_project.write_text(base + '\n[radio]\nclutter_path = "landcover.tif"\n', encoding="utf-8")
    with_clutter = load_project(tiny_project)
    inputs = load_inputs(plain)
    a = coverage_stage(plain, inputs).set_index("point_id")
    b = coverage_stage(with_clutter, inputs).set_index("point_id")
    lost = a["4g_rsrp_dbm"] - b["4g_rsrp_dbm"]
    # V1 and V2 stand among 15 m trees: the profile's clutter next to the handset diffracts the signal (not the
    # Hata path's flat 8 dB); clutter never helps
    assert (lost[["V1", "V2"]] > 3.0).all()
    assert not np.isclose(lost[["V1", "V2"]], 8.0, atol=0.01).any()
    assert (lost >= -1e-9).all()
    assert (a["paths_p1812_fallback"] == 0).all()
