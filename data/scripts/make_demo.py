"""Regenerate the demo region's synthetic layers inside the real 临江市 (Linjiang) boundary.

    .venv/bin/python data/scripts/make_demo.py

Deterministic (seed 2019). Linjiang lies in the Changbai mountains on the Yalu river: valleys at ~300 m,
ridges up to ~1,500 m, so the terrain uses a 300 m base and 1,200 m of relief. 300 administrative villages
(the issue's 200-400 for a county of ~3,000 km²). Writes layers.gpkg, schools.csv, dem.tif, project.toml.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gis.synthetic import synthesize, write_region

HERE = Path(__file__).resolve().parents[2] / "planning" / "demo"


def main() -> None:
    boundary = gpd.read_file(HERE / "linjiang_boundary.geojson")
    region = synthesize(
        villages=300,
        seed=2019,
        boundary=shapely.union_all(np.asarray(boundary.geometry.values)),
        boundary_crs=boundary.crs,
        boundary_name="临江市",
        boundary_code="220681",
        base_m=300.0,
        relief_m=1200.0,
    )
    path = write_region(region, HERE, name="临江市 demo (real boundary, synthetic layers)")
    text = path.read_text(encoding="utf-8").replace(
        "# coverplan project written by `coverplan synth` / gis.synthetic.write_region.",
        "# Demo project: real 临江市 (Linjiang, Jilin) boundary, synthetic layers from data/scripts/make_demo.py.",
    )
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}: {len(region.villages)} villages, {len(region.schools)} schools, {len(region.sites)} sites")


if __name__ == "__main__":
    main()
