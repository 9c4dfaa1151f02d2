"""planning.present.maps: hillshade values by hand, Web Mercator warping, escaped data, offline/online assets,
GCJ-02 shift."""

from __future__ import annotations

import base64
import io
import json
import re
import zlib

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from branca.utilities import write_png
from matplotlib.image import imread

from gis.crs import wgs84_to_gcj02
from gis.errors import LayerError
from gis.settings import TargetSettings
from planning.present.labels import verify_text
from planning.present.map_raster import Raster, hillshade, png_data_url, to_web_mercator
from planning.present.maps import build_map, json_for_script
from planning.present.popups import features, outlet_class
from planning.status.evidence import school_status, village_status

CRS = "EPSG:32652"  # Linjiang, Jilin: inside China, so GCJ-02 shifts apply
X0, Y0 = 330_000.0, 4_640_000.0
EVIL = "<script>alert(1)</script>"
EVIL_IMG = '<img src=x onerror="window.__xss=1">'


def small_run() -> dict[str, gpd.GeoDataFrame]:
    """Five villages (one named with a script), three schools, one admin square, a batch-1 fibre plan."""
    admin = gpd.GeoDataFrame(
        {"area_id": ["A1"], "name": ["测试县"]},
        geometry=[shapely.box(X0 - 5000, Y0 - 5000, X0 + 5000, Y0 + 5000)],
        crs=CRS,
    )
    villages = gpd.GeoDataFrame(
        {
            "village_id": [f"V{i}" for i in range(5)],
            "name": ["甲村", EVIL, EVIL_IMG, "丁村", "戊村"],
            "county": "测试县",
            "population": [100, 200, 300, 400, 500],
            "is_poor": [True, False, True, False, True],
            "broadband": ["fibre", "4g", "none", "5g", "none"],
            "lacks": ["", "", "broadband;4g", "", "broadband;4g"],
        },
        geometry=shapely.points(X0 + np.arange(5) * 1000.0, np.full(5, Y0)),
        crs=CRS,
    )
    schools = gpd.GeoDataFrame(
        {
            "school_id": ["S0", "S1", "S2"],
            "name": ["一小", "二中", "三教学点"],
            "kind": ["primary", "secondary", "teaching_point"],
            "access": ["fibre", "4g", "none"],
            "outlet_mbps": [1000.0, 40.0, 0.0],
            "connected": [True, True, False],
            "students": [300, 500, 12],
        },
        geometry=shapely.points(X0 + np.arange(3) * 1000.0, np.full(3, Y0 + 2000)),
        crs=CRS,
    )
    inter = gpd.GeoDataFrame(
        {
            "candidate_id": ["FX-villages:V2"],
            "kind": ["fibre"],
            "backhaul": [""],
            "cost_cny": [12345.0],
            "batch": [1],
            "serves": ["villages:V2"],
            "n_served": [1],
        },
        geometry=[shapely.Point(X0 + 2000, Y0)],
        crs=CRS,
    )
    routes = gpd.GeoDataFrame(
        {"segment_id": [1], "length_m": [800.0], "cost_cny": [12000.0], "serves": ["villages:V2"]},
        geometry=[shapely.LineString([(X0 + 2000, Y0 - 800), (X0 + 2000, Y0)])],
        crs=CRS,
    )
    return {"admin": admin, "villages": villages, "schools": schools, "interventions": inter, "routes": routes}


def with_evidence(run: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Give the small run's villages and schools the evidence columns of ``village_status``/``school_status``
    (by hand) and return a verification list: V2 (a script in its name and in what to check) and S1 (a 4G
    school whose CPE reaches 150 Mbps, which fixed wireless may not count for a secondary school)."""
    v, s = run["villages"], run["schools"]
    na = pd.NA
    for a, rep, pre, evi in (
        (
            "fibre",
            [True, False, False, na, na],
            [True, True, na, False, na],
            ["reported"] * 3 + ["predicted", "unknown"],
        ),
        (
            "4g",
            [na, True, False, na, na],
            [True, True, na, True, na],
            ["predicted", "reported", "measured", "predicted", "unknown"],
        ),
        ("5g", [na] * 5, [False, False, False, True, na], ["predicted"] * 4 + ["unknown"]),
    ):
        v[f"reported_{a}"] = pd.array(rep, dtype="boolean")
        v[f"predicted_{a}"] = pd.array(pre, dtype="boolean")
        status = pd.array(rep, dtype="boolean")
        v[f"status_{a}"] = status.fillna(pd.array(pre, dtype="boolean"))
        v[f"evidence_{a}"] = evi
    v.loc[2, "status_4g"] = True  # accepted at acceptance: measured wins over the report
    s["outlet_mbps"] = [1000.0, 150.0, 0.0]
    s["reported_access"] = ["fibre", "4g", "none"]
    s["reported_mbps"] = [1000.0, np.nan, 0.0]
    s["predicted_access"] = ["fibre", "5g", "4g"]
    s["predicted_mbps"] = [1000.0, 150.0, 12.25]
    s["measured_mbps"] = [np.nan, np.nan, np.nan]
    s["evidence"] = ["reported", "reported", "reported"]
    s["meets_outlet"] = [True, False, False]
    s["lacks"] = ["", "outlet_target", "connection;outlet_target"]
    return pd.DataFrame(
        {
            "id": ["villages:V2", "schools:S1"],
            "layer": ["villages", "schools"],
            "name": [EVIL_IMG, "二中"],
            "county": ["测试县", "测试县"],
            "what": [
                f"fibre: reported no, model yes (fibre 120 m away along roads); name {EVIL}",
                "bandwidth_mbps: not reported",
            ],
        }
    )


def layer_data(page: str, key: str) -> dict:
    """The GeoJSON a map page hands to ``coverplanLayer(key, ...)`` (decoded from its escaped literal)."""
    start = page.index(f"coverplanLayer({json.dumps(key)}, ") + len(f"coverplanLayer({json.dumps(key)}, ")
    data, _ = json.JSONDecoder().raw_decode(page[start:])
    return data


def test_hillshade_flat_and_sloped_by_hand():
    flat = hillshade(np.full((5, 5), 100.0), cell_x_m=30, cell_y_m=30)
    assert np.allclose(flat, np.sin(np.radians(45)))  # sin(altitude)
    # a plane rising to the south-east at 45 degrees faces north-west, i.e. the sun at 315 deg, 45 deg high: 1.0
    rows, cols = np.mgrid[0:6, 0:6]
    s = np.tan(np.radians(45)) / np.sqrt(2)  # gradient per metre on each axis
    z = s * 30 * cols + s * 30 * rows  # east and south (rows grow south) both rise
    lit = hillshade(z, cell_x_m=30, cell_y_m=30)
    assert np.allclose(lit, 1.0)
    # the same plane turned to face south-east (away from the sun), steeper than the sun is high: in shadow
    dark = hillshade(-3 * z, cell_x_m=30, cell_y_m=30)
    assert np.allclose(dark, 0.0)
    with pytest.raises(ValueError, match="cell_x_m"):
        hillshade(z, cell_x_m=0, cell_y_m=30)


def test_hillshade_equals_the_formula_with_its_angles():
    """On a rough surface (with a nodata hole) the hillshade equals its docstring's formula written with the
    slope and aspect angles: sin(alt) cos(slope) + cos(alt) sin(slope) cos(az - aspect), clipped at 0."""
    rng = np.random.default_rng(3)
    z = np.cumsum(np.cumsum(rng.normal(0, 8, (40, 50)), axis=0), axis=1)
    z[10:13, 20:24] = np.nan
    got = hillshade(z, cell_x_m=30, cell_y_m=20, azimuth_deg=300.0, altitude_deg=35.0)
    dz_row, dz_col = np.gradient(z, 20, 30)
    dzdx, dzdy = dz_col, -dz_row
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(-dzdx, -dzdy)
    alt, az = np.radians(35.0), np.radians(300.0)
    ref = np.clip(np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect), 0.0, 1.0)
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    assert np.isnan(got).sum() > 12
    ok = ~np.isnan(ref)
    assert np.abs(got[ok] - ref[ok]).max() < 1e-12
    assert (ref[ok] == 0).any()  # both shadow and sunlit slopes were compared
    assert (ref[ok] > 0.9).any()


def test_png_data_url_decodes_to_the_image():
    """The map's overlays are PNGs written by png_data_url: a PNG decoder (matplotlib's, through Pillow) reads
    back every pixel, transparency included, and the chunks are branca's (same header, same pixel stream)."""
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (31, 47, 4), dtype=np.uint8)
    img[:5, :, 3] = 0
    url = png_data_url(img)
    assert url.startswith("data:image/png;base64,")
    png = base64.b64decode(url.split(",", 1)[1])
    back = imread(io.BytesIO(png), format="png")
    assert np.array_equal(np.round(back * 255).astype(np.uint8), img)
    theirs = write_png(img)
    # IHDR (8 + 4 + 4 + 13 + 4 bytes) identical; the IDAT's pixel streams identical
    assert png[:33] == theirs[:33]
    ours_idat = zlib.decompress(png[41 : 41 + int.from_bytes(png[33:37], "big")])
    their_idat = zlib.decompress(theirs[41 : 41 + int.from_bytes(theirs[33:37], "big")])
    assert ours_idat == their_idat
    with pytest.raises(ValueError, match="rgba"):
        png_data_url(img[:, :, :3])
    with pytest.raises(ValueError, match="uint8"):  # not cast (branca would rescale floats by their maximum)
        png_data_url(img / 255.0)
    # a view that is not contiguous (flipped, strided) is written as its pixels
    flipped = img[::-1, ::2]
    back2 = imread(io.BytesIO(base64.b64decode(png_data_url(flipped).split(",", 1)[1])), format="png")
    assert np.array_equal(np.round(back2 * 255).astype(np.uint8), flipped)


def test_web_mercator_bounds_hold_the_raster_corners():
    t = Affine(100.0, 0, X0, 0, -100.0, Y0)
    data = np.arange(20 * 30, dtype=np.float32).reshape(20, 30)
    warped, ((s, w), (n, e)) = to_web_mercator(Raster(data, t, CRS), max_px=50)
    corners = gpd.GeoSeries(
        shapely.points([X0, X0 + 3000, X0, X0 + 3000], [Y0, Y0, Y0 - 2000, Y0 - 2000]), crs=CRS
    ).to_crs(4326)
    assert s <= corners.y.min() + 1e-9
    assert n >= corners.y.max() - 1e-9
    assert w <= corners.x.min() + 1e-9
    assert e >= corners.x.max() - 1e-9
    assert max(warped.shape[1:]) <= 50
    # values are carried over (bilinear keeps them within the source range)
    assert np.nanmin(warped) >= 0
    assert np.nanmax(warped) <= data.max()


def testjson_for_script_cannot_close_the_script_element():
    text = json_for_script({"name": EVIL + "&"})
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert json.loads(text)["name"] == EVIL + "&"


def test_outlet_classes():
    s = small_run()["schools"]
    assert outlet_class(s, target_mbps=100).tolist() == ["outlet_ok", "outlet_low", "not_connected"]
    assert outlet_class(s, target_mbps=30).tolist() == ["outlet_ok", "outlet_ok", "not_connected"]
    # with `meets_outlet` the ring follows the KPI: a 5G CPE at 150 Mbps for a secondary school does not count by
    # policy, whatever its speed; a teaching point's 4G at 40 Mbps counts where the target is 30
    s["kind"] = ["primary", "secondary", "teaching_point"]
    s["access"] = ["fibre", "5g", "4g"]
    s["outlet_mbps"] = [1000.0, 150.0, 40.0]
    s["connected"] = [True, True, True]
    s["meets_outlet"] = [True, False, True]
    assert outlet_class(s, target_mbps=100).tolist() == ["outlet_ok", "outlet_low", "outlet_ok"]
    s["connected"] = [True, True, False]
    assert outlet_class(s, target_mbps=100).tolist()[2] == "not_connected"


def test_verification_layer_badges_popups_and_search():
    run = small_run()
    verification = with_evidence(run)
    m = build_map(**run, verification=verification, language="zh", offline=True)
    page = m.get_root().render()
    assert m.coverplan_layers == {"admin": 1, "villages": 5, "schools": 3, "verify": 2, "batch_1": 2}
    assert EVIL not in page
    assert "<img src=x" not in page
    data = layer_data(page, "verify")
    v2, s1 = data["features"]
    # a badge at the point itself (the script draws it up and to the right), found by the search box, tagged
    assert v2["geometry"] == layer_data(page, "villages")["features"][2]["geometry"]
    assert s1["geometry"] == layer_data(page, "schools")["features"][1]["geometry"]
    assert v2["properties"]["marker"]["shape"] == "badge"
    assert (v2["properties"]["search"], v2["properties"]["tag"]) == ("V2", "待核实")
    assert v2["properties"]["title"] == EVIL_IMG  # decoded: the page holds it escaped, the popup sets it as text
    assert v2["properties"]["note"] == ["需核实内容", f"光纤：上报无，模型有（沿道路距光缆 120 米）\nname {EVIL}"]
    facts = dict(v2["properties"]["facts"])
    assert (facts["类别"], facts["编号"], facts["区县"]) == ("村庄", "V2", "测试县")
    assert facts["光纤"] == "上报 否；模型预测 – → 否（上报）"
    assert facts["4G"] == "上报 否；模型预测 – → 是（验收实测）"
    assert facts["5G"] == "上报 –；模型预测 否 → 否（模型预测）"
    assert facts["缺口"] == "宽带、4G"
    facts = dict(s1["properties"]["facts"])
    assert (facts["类别"], facts["编号"]) == ("学校", "S1")
    assert s1["properties"]["note"] == ["需核实内容", "带宽：未上报"]
    assert facts["上报接入"] == "4G"  # no bandwidth reported
    assert facts["模型预测接入"] == "5G，150 Mbps"
    assert facts["依据"] == "上报"
    assert facts["出口带宽（Mbps）"] == "150"
    assert facts["接入状态"] == "出口带宽不达标"  # 150 Mbps over fixed wireless does not count for a secondary school
    assert facts["出口带宽计入达标"] == "否（该接入方式按政策不计入）"
    assert facts["缺口"] == "出口带宽不达标"
    # the schools layer's own popups and rings say the same; the teaching point's predicted link is shown
    schools = layer_data(page, "schools")["features"]
    assert [f["properties"]["marker"]["color"] for f in schools] == ["#1a9641", "#fdae61", "#d7191c"]
    assert dict(schools[2]["properties"]["facts"])["模型预测接入"] == "4G，12.2 Mbps"
    assert dict(schools[0]["properties"]["facts"])["出口带宽计入达标"] == "是"
    assert dict(layer_data(page, "villages")["features"][3]["properties"]["facts"])["光纤"] == (
        "上报 –；模型预测 否 → 否（模型预测）"
    )
    # in the legend, in English too, and shown at first (added to the map)
    assert "上报与模型不一致或缺少上报" in page
    assert re.search(r"var (\w+) = coverplanLayer\(\"verify\".*\n.*\1\.addTo\(", page)
    en = build_map(**run, verification=verification, language="en", offline=True).get_root().render()
    assert layer_data(en, "verify")["features"][0]["properties"]["note"] == [
        "To check",
        f"fibre: reported no, model yes (fibre 120 m away along roads)\nname {EVIL}",
    ]
    facts = dict(layer_data(en, "verify")["features"][1]["properties"]["facts"])
    assert facts["Outlet counts at target"] == "no (this access does not count by policy)"
    assert facts["Predicted access"] == "5G, 150 Mbps"
    assert layer_data(en, "verify")["features"][0]["properties"]["tag"] == "To verify"
    assert "Report and model disagree, or no report" in en
    # no verification list: no layer, no legend row
    plain = build_map(**small_run(), language="zh", offline=True)
    assert "verify" not in plain.coverplan_layers
    assert "上报与模型不一致或缺少上报" not in plain.get_root().render()


def test_verification_notes_read_in_chinese():
    """Every note the evidence module writes (produced here by it) reads in Chinese on a zh map; a note it does not
    know stays as it is, an en map keeps them all, one a line."""
    idx = pd.RangeIndex(3)
    villages = gpd.GeoDataFrame(
        {
            "village_id": ["V0", "V1", "V2"],
            "name": ["甲村", "乙村", "丙村"],
            "county": "测试县",
            "fibre_connected": [False, False, True],
            "covered_4g": [True, False, True],
        },
        geometry=shapely.points([X0, X0 + 1, X0 + 2], [Y0, Y0, Y0]),
        crs=CRS,
    )
    coverage = pd.DataFrame(
        {
            "4g_covered": [False, True, True],
            "5g_covered": [False, False, False],
            "4g_rsrp_dbm": [-121.5, -95.0, -90.0],
            "5g_rsrp_dbm": [np.nan] * 3,
            "4g_throughput_mbps": [0.0, 20.0, 30.0],
            "5g_throughput_mbps": [0.0] * 3,
        },
        index=idx,
    )
    reach = pd.DataFrame({"connected": [True, False, False], "fibre_distance_m": [80.0, 1234.0, np.inf]}, index=idx)
    vs = village_status(villages, targets=TargetSettings(), coverage=coverage, reach=reach)
    schools = villages.rename(columns={"village_id": "school_id"})[["school_id", "name", "county", "geometry"]]
    schools["kind"] = "primary"
    schools["access"] = [None, "fibre", "4g"]
    schools["bandwidth_mbps"] = [np.nan, np.nan, 20.0]
    cov = coverage.assign(**{"4g_covered": [True, False, False]})
    ss = school_status(schools, targets=TargetSettings(), coverage=cov, reach=reach)
    notes = [n for what in [*vs["verify"], *ss["verify"]] for n in what.split("; ") if n]
    zh = {n: verify_text(n, "zh") for n in notes}
    assert zh == {
        "fibre: reported no, model yes (fibre 80 m away along roads)": "光纤：上报无，模型有（沿道路距光缆 80 米）",
        "4g: reported yes, model no (RSRP -121.5 dBm)": "4G：上报有，模型无（RSRP -121.5 dBm）",
        "4g: reported no, model yes (RSRP -95.0 dBm)": "4G：上报无，模型有（RSRP -95.0 dBm）",
        "fibre: reported yes, model no (no fibre in its road network)": "光纤：上报有，模型无（所在道路网无光缆）",
        "access: reported fibre, model finds no fibre within the drop distance (1,234 m along roads)": (
            "接入方式：上报光纤，模型在引入距离内未找到光缆（沿道路 1,234 米）"
        ),
        "bandwidth_mbps: not reported (outlet unknown, not counted at target)": (
            "带宽：未上报（出口带宽未知，不计入达标）"
        ),
        "access: reported 4g, model finds no 4g coverage": "接入方式：上报 4G，模型预测无 4G 覆盖",
        "access: not reported, status from the model only": "接入方式：未上报，状态仅来自模型预测",
    }
    assert verify_text("fibre: reported no, model yes; a note of someone else (x)", "zh") == (
        "光纤：上报无，模型有\na note of someone else (x)"
    )
    assert verify_text("4g: reported yes, model no (RSRP -121.5 dBm); bandwidth_mbps: not reported", "en") == (
        "4g: reported yes, model no (RSRP -121.5 dBm)\nbandwidth_mbps: not reported"
    )


def test_verification_names_an_unknown_id():
    run = small_run()
    verification = with_evidence(run)
    verification.loc[1, "id"] = "schools:S9"
    with pytest.raises(ValueError, match=r"`verification` names \['schools:S9'\].*expected ids `villages:ID`"):
        build_map(**run, verification=verification, offline=True)


def test_features_refuse_missing_crs():
    v = small_run()["villages"].set_crs(None, allow_override=True)
    with pytest.raises(Exception, match="no CRS"):
        features(v, title=v["name"], facts=[])


def test_build_map_names_the_layer_without_crs():
    run = small_run()
    schools = run["schools"].set_crs(None, allow_override=True)
    with pytest.raises(LayerError, match=r"map layers \['schools'\] have no CRS"):
        build_map(admin=run["admin"], villages=run["villages"], schools=schools, offline=True)


def test_offline_map_has_no_remote_asset_and_escapes_names():
    layers = small_run()
    m = build_map(**layers, language="en", offline=True, title=EVIL)
    page = m.get_root().render()
    assert not re.search(r"""<(script|link|img)[^>]*(src|href)\s*=\s*["']?(https?:)?//""", page), "a remote asset"
    assert "L.map(" in page
    assert "window.L=" in page.replace(" ", "")
    assert EVIL not in page
    assert "<img src=x" not in page
    assert m.coverplan_layers == {"admin": 1, "villages": 5, "schools": 3, "batch_1": 2}
    assert "Villages (by access)" in page
    assert "Batch 1" in page


def test_online_amap_shifts_to_gcj02_and_labels_in_chinese():
    layers = small_run()
    m = build_map(**layers, language="zh", offline=False, basemap="amap")
    page = m.get_root().render()
    assert "autonavi.com" in page
    # Leaflet is inlined online too: no script or style from a CDN, and the page falls back to the hillshade
    assert not re.search(r"""<(script|link)[^>]*(src|href)\s*=\s*["']?(https?:)?//""", page), "a remote asset"
    assert "window.L=" in page.replace(" ", "")
    assert "coverplanTileFallback(" in page
    assert "在线底图无法加载" in page
    assert "村庄（按接入状态）" in page
    data = features(layers["villages"], title=layers["villages"]["name"], facts=[], gcj02=True)
    lon, lat = data["features"][0]["geometry"]["coordinates"]
    wgs = gpd.GeoSeries([layers["villages"].geometry.iloc[0]], crs=CRS).to_crs(4326).iloc[0]
    glon, glat = wgs84_to_gcj02(np.array([wgs.x]), np.array([wgs.y]))
    assert lon == pytest.approx(glon[0], abs=2e-6)
    assert lat == pytest.approx(glat[0], abs=2e-6)
    shift_m = np.hypot((lon - wgs.x) * 111_320 * np.cos(np.radians(wgs.y)), (lat - wgs.y) * 110_574)
    assert 100 < shift_m < 1000  # GCJ-02 moves points in Jilin by a few hundred metres
    with pytest.raises(ValueError, match="tianditu_key"):
        build_map(**layers, offline=False, basemap="tianditu")
    osm = build_map(**layers, offline=False, basemap="osm", language="en").get_root().render()
    assert "tile.openstreetmap.org" in osm
    assert "autonavi" not in osm


def test_popups_show_the_planners_words_for_codes():
    layers = small_run()
    page = build_map(**layers, language="zh", offline=True).get_root().render()
    assert "broadband;4g" not in page
    assert '["缺口","宽带、4G"]' in page
    assert '["接入方式","无"]' in page  # school access `none`
    assert '["类型","光纤延伸"]' in page  # the fibre extension of batch 1
    en = build_map(**layers, language="en", offline=True).get_root().render()
    assert '["Lacks","Broadband, 4G"]' in en


def test_a_line_upgrade_is_an_orange_diamond_in_the_legend():
    run = small_run()
    extra = (
        run["interventions"]
        .iloc[[0]]
        .assign(candidate_id="LU-schools:S0", kind="line_upgrade", cost_cny=0.0, serves="schools:S0")
    )
    run["interventions"] = pd.concat([run["interventions"], extra], ignore_index=True)
    page = build_map(**run, language="zh", offline=True).get_root().render()
    upgrade = layer_data(page, "batch_1")["features"][-1]["properties"]
    assert upgrade["title"] == "线路提速 LU-schools:S0"
    assert upgrade["marker"] == {"shape": "diamond", "radius": 9, "color": "#222222", "fillColor": "#e66101"}
    assert '<polygon points="0,-9 9,0 0,9 -9,0" fill="#e66101"' in json.loads(
        re.search(r"coverplanControl\(\w+, \"topright\", \"coverplan-legend\", (\".*?\"), true\);", page).group(1)
    )
    assert "线路提速" in page


def test_every_online_basemap_falls_back_to_the_local_background():
    layers = small_run()
    for basemap, n_tiles in (("amap", 1), ("osm", 1), ("tianditu", 2)):
        page = (
            build_map(**layers, language="zh", offline=False, basemap=basemap, tianditu_key="abc123", tile_wait_ms=5000)
            .get_root()
            .render()
        )
        call = re.search(r"coverplanTileFallback\((\w+), (\w+), \[([\w, ]+)\], (\w+), (\"[^\"]*\"), (\d+)\);", page)
        assert call, basemap
        assert len(call.group(3).split(", ")) == n_tiles  # the error events of every tile layer are watched
        assert json.loads(call.group(5)).startswith("在线底图无法加载")
        assert call.group(6) == "5000"
    offline = build_map(**layers, language="zh", offline=True).get_root().render()
    assert not re.search(r"coverplanTileFallback\(map_", offline)  # the function is there, never called
    none = build_map(**layers, language="zh", offline=False, basemap="none").get_root().render()
    assert not re.search(r"coverplanTileFallback\(map_", none)


def test_offline_map_draws_roads_and_labels_names_at_zoom():
    """The offline map shows the project's roads and, zoomed in, the village and school names (as text: a name
    with a script stays text)."""
    layers = small_run()
    roads = gpd.GeoDataFrame(
        {
            "road_id": ["R1", "R2"],
            "class": ["tertiary", "track"],
            "surface": [None, "gravel"],
            "name": ["岭沟路", None],
        },
        geometry=[
            shapely.LineString([(X0 - 4000, Y0 - 100), (X0 + 4000, Y0 - 100)]),
            shapely.LineString([(X0, Y0 - 4000), (X0, Y0 + 4000)]),
        ],
        crs=CRS,
    )
    m = build_map(**layers, roads=roads, language="zh", offline=True)
    page = m.get_root().render()
    assert m.coverplan_layers == {"admin": 1, "roads": 2, "villages": 5, "schools": 3, "batch_1": 2}
    data = layer_data(page, "roads")
    assert [f["properties"]["title"] for f in data["features"]] == ["岭沟路", "R2"]  # the name, else the id
    assert data["features"][0]["geometry"]["type"] == "LineString"
    assert "道路" in page
    # names become labels through textContent, shown from zoom 13 on (a class on the map's container)
    assert "name.textContent = f.properties.title" in page
    assert "COVERPLAN_LABEL_ZOOM = 13" in page
    assert ".cp-zoom-labels .leaflet-tooltip.cp-label { display: block; }" in page
    assert EVIL not in page
