"""The package as installed (a wheel, not the source tree): the demo and the map's assets travel with it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_an_installed_wheel_carries_the_demo_and_runs_it_from_any_folder(tmp_path: Path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels)],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = wheels.glob("coverplan-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:  # what `pip install --no-deps --target site wheel` puts there
        names = set(zf.namelist())
        zf.extractall(site)
    for name in (
        "planning/demo/project.toml",
        "planning/demo/layers.gpkg",
        "planning/demo/schools.csv",
        "planning/demo/dem.tif",
        "planning/present/_assets/leaflet/leaflet.js",
        "planning/present/_assets/coverplan_map.js",
        "gis/rules/usf-2018-pilot.toml",  # the programme rule packs are package data
    ):
        assert name in names, name
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from planning.demo import demo_project; "
        "print(demo_project()); from planning.cli import main; sys.argv = ['coverplan', 'validate', "
        "str(demo_project())]; main()"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(site)], cwd=elsewhere, capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr
    first, *rest = res.stdout.splitlines()
    assert Path(first).is_relative_to(site)  # the installed copy, not the source tree
    assert "valid (300 villages" in "\n".join(rest)
