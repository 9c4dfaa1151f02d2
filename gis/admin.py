"""Admin areas: which county and province each point belongs to, by one rule everywhere.

* :func:`assign_areas`: the admin area holding each point. A point inside an area (or on its boundary) belongs
  to it; a point on a border shared by several areas belongs to the first of them in the layer's order; a point
  outside every area belongs to the nearest one (such points are warned about when the layers are loaded). The
  status of villages and schools, the per-county KPIs, the dask partitions and the provinces all use it, so a
  village is never counted in one county and computed in another.
* :func:`points_by_area`: per admin area, which points of each layer it holds (the county partitions that the
  coverage and gaps stages split their work by).
* :func:`county_of`: a point's own ``county`` column where filled, else the name of its area.
* :func:`province_of_areas`, :func:`point_provinces`: the province of each area (the layer's ``province``
  column, else the GB/T 2260 code in ``area_id``, else one province for the region) and of each point.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.errors import LayerError

logger = logging.getLogger(__name__)

#: The whole region: the one province (and partition) of a region without provinces, and the region row of the
#: per-county KPI tables (``county`` column of :func:`planning.status.kpi.kpi_table`).
REGION = "(region)"
#: The nation: the last row of the national summary, every province together (``province`` column of
#: :func:`planning.plan.national.province_table`).
NATION = "全国"
#: County of a point with no ``county`` and no admin area to take it from.
UNKNOWN_COUNTY = "(no county)"
#: Province-level divisions of GB/T 2260 by their two-digit code.
GB2260_PROVINCES = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
}


def assign_areas(points: gpd.GeoDataFrame, admin: gpd.GeoDataFrame) -> pd.Series:
    """The ``area_id`` of the admin area holding each point (see the module docstring for borders and outsiders).

    Parameters
    ----------
    points, admin : GeoDataFrame
        Any CRS each; ``admin`` is brought to the points' CRS.

    Returns
    -------
    Series of str
        Indexed like ``points``.
    """
    if not len(points):
        return pd.Series([], index=points.index, dtype=object)
    areas = admin[["area_id", "geometry"]].to_crs(points.crs).reset_index(drop=True)
    areas["_order"] = np.arange(len(areas))
    j = gpd.sjoin_nearest(points[["geometry"]], areas, how="left")
    j = j.sort_values("_order", kind="stable")
    j = j[~j.index.duplicated(keep="first")]  # a point on a shared border: the first area in the layer's order
    return j["area_id"].reindex(points.index).astype(str)


def points_by_area(layers: Mapping[str, gpd.GeoDataFrame], admin: gpd.GeoDataFrame) -> dict[str, dict[str, np.ndarray]]:
    """Per admin area holding any of the points (in the admin layer's order, by ``area_id``), per layer a boolean
    mask of the layer's points in that area (:func:`assign_areas`): every point is in exactly one area."""
    area_of = {name: assign_areas(frame, admin).to_numpy() for name, frame in layers.items()}
    out = {}
    for area in dict.fromkeys(admin["area_id"].astype(str)):
        masks = {name: area_of[name] == area for name in layers}
        if any(m.any() for m in masks.values()):
            out[area] = masks
    return out


def county_of(points: gpd.GeoDataFrame, admin: gpd.GeoDataFrame | None = None) -> pd.Series:
    """County of each point: its ``county`` column where filled, else the name of its admin area."""
    county = (
        points["county"].astype(object) if "county" in points else pd.Series(np.nan, index=points.index, dtype=object)
    )
    missing = county.isna() | (county.astype(str).str.strip() == "")
    if missing.any() and admin is not None and len(admin):
        names = pd.Series(admin["name"].astype(str).to_numpy(), index=admin["area_id"].astype(str).to_numpy())
        names = names[~names.index.duplicated()]
        county.loc[missing] = assign_areas(points.loc[missing], admin).map(names).to_numpy()
    return county.fillna(UNKNOWN_COUNTY).astype(str)


def province_of_areas(admin: gpd.GeoDataFrame) -> pd.Series:
    """Province of each admin area, indexed like ``admin``.

    The ``province`` column when the layer has one (empty cells are an error), else the GB/T 2260 province of
    ``area_id`` when every id is a 6- or 12-digit division code with a known province prefix, else
    :data:`REGION` for every area.

    Raises
    ------
    LayerError
        A ``province`` column with empty cells (the first area ids named).
    """
    if "province" in admin:
        prov = admin["province"].astype(object)
        empty = prov.isna() | (prov.astype(str).str.strip() == "")
        if empty.any():
            ids = admin.loc[empty, "area_id"].astype(str).tolist()[:10]
            msg = (
                f"layer `admin`: column `province` is empty for area_id {ids}; expected the province of every "
                "area (or drop the column)"
            )
            raise LayerError(msg)
        return prov.astype(str)
    ids = admin["area_id"].astype(str)
    coded = ids.str.fullmatch(r"\d{6}|\d{12}") & ids.str[:2].isin(list(GB2260_PROVINCES))
    if len(ids) and coded.all():
        return ids.str[:2].map(GB2260_PROVINCES)
    return pd.Series(REGION, index=admin.index, dtype=object)


def point_provinces(points: gpd.GeoDataFrame, admin: gpd.GeoDataFrame) -> pd.Series:
    """Province of each point: that of the admin area :func:`assign_areas` gives it."""
    prov = province_of_areas(admin)
    if prov.nunique() <= 1 or not len(points):
        return pd.Series(prov.iloc[0] if len(prov) else REGION, index=points.index, dtype=object)
    by_area = pd.Series(prov.to_numpy(), index=admin["area_id"].astype(str).to_numpy())
    by_area = by_area[~by_area.index.duplicated()]
    return assign_areas(points, admin).map(by_area)
