"""Tiny fixtures built in tmp_path: a 10x10 DEM and a five-village project in a metric CRS."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from gis.layers import write_layers
from gis.project import load_project
from gis.terrain import dem_from_array, write_dem
from planning.run.runner import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
#: Chromium and its driver (Debian packages chromium, chromium-driver; .ci/run installs them), or None
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def headless_chromium(*switches: str, log_requests: bool = False):
    """A headless Chromium driven by chromedriver, with ``switches`` after the common ones (a window size, network
    settings); ``log_requests``: keep the performance and browser logs (every request the page makes). The
    caller quits it."""
    from selenium import webdriver  # noqa: PLC0415 - only the browser tests need selenium
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", *switches):
        opts.add_argument(arg)
    if log_requests:
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


DEMO = ROOT / "planning" / "demo"
CRS_M = "EPSG:32652"  # UTM 52N, where the demo county lies
X0, Y0 = 300_000.0, 4_630_000.0  # upper-left corner of the tiny DEM
CELL_M = 100.0


def tiny_heights() -> np.ndarray:
    """10 x 10 heights: h[row, col] = 100 + 10 * col + 1 * row (a plane, so bilinear is exact)."""
    rows, cols = np.mgrid[0:10, 0:10]
    return (100.0 + 10.0 * cols + 1.0 * rows).astype(np.float32)


@pytest.fixture
def tiny_dem_path(tmp_path: Path) -> Path:
    """A 10 x 10 DEM, 100 m cells, upper-left corner at (X0, Y0) in UTM 52N."""
    dem = dem_from_array(tiny_heights(), Affine(CELL_M, 0, X0, 0, -CELL_M, Y0), CRS_M)
    path = tmp_path / "dem.tif"
    write_dem(dem, path)
    return path


def tiny_layers() -> dict[str, gpd.GeoDataFrame]:
    """Five villages, three schools, two sites, one admin area inside the tiny DEM (metric CRS)."""
    vx = X0 + np.array([150.0, 350.0, 550.0, 750.0, 850.0])
    vy = Y0 - np.array([150.0, 450.0, 250.0, 650.0, 850.0])
    villages = gpd.GeoDataFrame(
        {
            "village_id": [f"V{i}" for i in range(1, 6)],
            "name": ["东岭村", "西沟村", "南岔村", "北山村", "<b>石河村</b>"],
            "population": [1200, 800, 450, 2300, 150],
            "county": ["临江市"] * 5,
            "admin_code": ["220681100201", "220681100202", "220681100203", "220681101201", "220681101202"],
            "households": [400, 270, 150, 800, 50],
            "is_poor": [False, True, False, False, True],
        },
        geometry=shapely.points(vx, vy),
        crs=CRS_M,
    )
    schools = gpd.GeoDataFrame(
        {
            "school_id": ["S1", "S2", "S3"],
            "name": ["东岭小学", "北山中学", "石河教学点"],
            "kind": ["primary", "secondary", "teaching_point"],
            "students": [210, 640, 12],
            "bandwidth_mbps": [100.0, 1000.0, 0.0],
            "access": ["fibre", "fibre", "none"],
        },
        geometry=shapely.points(vx[[0, 3, 4]] + 20.0, vy[[0, 3, 4]]),
        crs=CRS_M,
    )
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["T1", "T2"],
            "tech": ["4g", "5g"],
            "band_mhz": [1800.0, 3500.0],
            "height_m": [35.0, 30.0],
            "operator": ["CMCC", "CTCC"],
        },
        geometry=shapely.points([X0 + 500.0, X0 + 520.0], [Y0 - 500.0, Y0 - 500.0]),
        crs=CRS_M,
    )
    admin = gpd.GeoDataFrame(
        {"area_id": ["220681"], "name": ["临江市"], "level": ["county"]},
        geometry=[shapely.box(X0 + 50, Y0 - 950, X0 + 950, Y0 - 50)],
        crs=CRS_M,
    )
    roads = gpd.GeoDataFrame(
        {"road_id": ["R1", "R2"], "class": ["county", "village"]},
        geometry=[
            shapely.LineString([(vx[0], vy[0]), (vx[1], vy[1])]),
            shapely.LineString([(vx[1], vy[1]), (vx[3], vy[3])]),
        ],
        crs=CRS_M,
    )
    fibre = gpd.GeoDataFrame(
        {"route_id": ["F1"], "kind": ["backbone"]},
        geometry=[shapely.LineString([(vx[0], vy[0]), (vx[1], vy[1])])],
        crs=CRS_M,
    )
    return {
        "villages": villages,
        "schools": schools,
        "sites": sites,
        "admin": admin,
        "roads": roads,
        "fibre": fibre,
    }


PROJECT_TOML = """[project]
name = "tiny"
language = "en"

[layers]
villages = "layers.gpkg"
schools = "layers.gpkg"
sites = "layers.gpkg"
admin = "layers.gpkg"
roads = "layers.gpkg"
fibre = "layers.gpkg"

[terrain]
path = "dem.tif"
"""


@pytest.fixture
def tiny_project(tmp_path: Path, tiny_dem_path: Path) -> Path:
    """A complete tiny project (GeoPackage layers, 10 x 10 DEM); returns the project.toml path."""
    write_layers(tiny_layers(), tmp_path / "layers.gpkg")
    path = tmp_path / "project.toml"
    path.write_text(PROJECT_TOML, encoding="utf-8")
    return path


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo (planning/demo); returns its project.toml path."""
    dst = tmp_path / "demo"
    shutil.copytree(DEMO, dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return dst / "project.toml"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory):
    """The whole pipeline on the demo region (offline map), once per session: (RunResult, output folder)."""

    out = tmp_path_factory.mktemp("demo_run")
    result = run_pipeline(
        load_project(DEMO / "project.toml"), out, overwrite=True, offline=True, ledger_date=dt.date(2026, 1, 1)
    )
    return result, out
