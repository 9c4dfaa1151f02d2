"""Layer schemas of DESIGN.md: geometry type, required and optional columns, types, units and allowed values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
import pandas as pd

ColumnKind = Literal["id", "text", "int", "float", "bool", "enum", "admin_code"]


@dataclass(frozen=True)
class Column:
    """One column of a layer schema.

    ``low``/``high`` bound numeric values (``low_open``/``high_open`` make the bound exclusive);
    ``allowed`` lists the values of an ``enum`` column (compared after stripping and lower-casing);
    ``complete``: an optional column that, when present, must be filled in every row.
    """

    name: str
    kind: ColumnKind
    required: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    allowed: tuple[str, ...] = ()
    unit: str = ""
    complete: bool = False

    def expected(self) -> str:
        """Human description of what the column must hold."""
        if self.kind == "enum":
            return "one of " + ", ".join(repr(a) for a in self.allowed)
        if self.kind == "bool":
            return "true/false (also 1/0, yes/no, 是/否)"
        if self.kind == "admin_code":
            return "a 12-digit administrative division code"
        if self.kind in ("id", "text"):
            return "a non-empty text"
        base = "an integer" if self.kind == "int" else "a number"
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        unit = f" {self.unit}" if self.unit else ""
        return f"{base} {' and '.join(parts)}{unit}".rstrip()


@dataclass(frozen=True)
class LayerSchema:
    """Schema of one coverplan layer."""

    name: str
    geometry: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def id_column(self) -> str:
        """Name of the unique id column."""
        return next(c.name for c in self.columns if c.kind == "id")

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)


#: Largest population (and household count) of one administrative village: the largest Chinese villages
#: (urban villages such as Shenzhen's 白石洲) hold some 100,000-150,000 residents; beyond 200,000 is a typo.
MAX_VILLAGE_POPULATION = 200_000
#: Largest school: the biggest Chinese secondary schools enrol some 20,000-30,000 pupils; 60,000 is beyond any.
MAX_SCHOOL_STUDENTS = 60_000
#: Largest outlet bandwidth a school can report (Mbps): 100 Gbit/s, beyond any school line.
MAX_MBPS = 100_000

POINT = ("Point",)
LINE = ("LineString", "MultiLineString")
AREA = ("Polygon", "MultiPolygon")

SCHEMAS: dict[str, LayerSchema] = {
    "villages": LayerSchema(
        "villages",
        POINT,
        (
            Column("village_id", "id", required=True),
            Column("name", "text", required=True),
            Column("population", "int", required=True, low=0, high=MAX_VILLAGE_POPULATION, unit="people"),
            Column("county", "text"),
            Column("admin_code", "admin_code"),
            Column("households", "int", low=0, high=MAX_VILLAGE_POPULATION),
            # registered poor (建档立卡贫困村): all or none, an empty cell would silently count as not poor
            Column("is_poor", "bool", complete=True),
            Column("priority", "float", low=0, high=1e6),
            # reported status (the village's own report: it beats the model's prediction)
            Column("fibre_connected", "bool"),
            Column("covered_4g", "bool"),
            Column("covered_5g", "bool"),
            Column("access", "enum", allowed=("fibre", "5g", "4g", "none")),
            # broadband access capability as reported (Mbps): below the pack's threshold a village is a 升级村
            Column("access_mbps", "float", low=0, high=MAX_MBPS, unit="Mbps"),
        ),
    ),
    "schools": LayerSchema(
        "schools",
        POINT,
        (
            Column("school_id", "id", required=True),
            Column("name", "text", required=True),
            Column("kind", "enum", required=True, allowed=("primary", "secondary", "teaching_point")),
            Column("students", "int", required=True, low=0, high=MAX_SCHOOL_STUDENTS),
            Column("bandwidth_mbps", "float", low=0, high=MAX_MBPS, unit="Mbps"),
            Column("access", "enum", allowed=("fibre", "4g", "5g", "satellite", "none")),
            Column("county", "text"),
        ),
    ),
    "sites": LayerSchema(
        "sites",
        POINT,
        (
            Column("site_id", "id", required=True),
            Column("tech", "enum", required=True, allowed=("4g", "5g")),
            Column("band_mhz", "float", required=True, low=300, high=6000, unit="MHz"),
            Column("height_m", "float", required=True, low=0, high=300, low_open=True, unit="m"),
            Column("operator", "text"),
            Column("eirp_dbm", "float", low=10, high=90, unit="dBm"),
            Column("azimuth_deg", "float", low=0, high=360, high_open=True, unit="deg"),
            Column("bandwidth_mhz", "float", low=0, high=400, low_open=True, unit="MHz"),
            Column("carriers", "int", low=1, high=8),
            Column("backhaul", "enum", allowed=("fibre", "microwave", "satellite")),
        ),
    ),
    "fibre": LayerSchema(
        "fibre",
        LINE,
        (
            Column("route_id", "id", required=True),
            Column("kind", "enum", allowed=("backbone", "distribution")),
            Column("operator", "text"),
        ),
    ),
    "fibre_nodes": LayerSchema(
        "fibre_nodes",
        POINT,
        (
            Column("node_id", "id", required=True),
            Column("kind", "enum", allowed=("olt", "pop", "tower")),
        ),
    ),
    "roads": LayerSchema(
        "roads",
        LINE,
        (
            Column("road_id", "id", required=True),
            Column("class", "text"),
            Column("surface", "text"),
        ),
    ),
    "candidates": LayerSchema(
        "candidates",
        POINT,
        (
            Column("candidate_id", "id", required=True),
            Column("kind", "enum", allowed=("new_site", "upgrade")),
            Column("cost_cny", "float", low=0, high=1e10, unit="CNY"),
            Column("height_m", "float", low=0, high=300, low_open=True, unit="m"),
        ),
    ),
    # 自然村 points with their households: the 2019 pilot counts 4G in settlements of 20+ households
    # (docs/programme.md); optional, a programme's fallback applies without it
    "settlements": LayerSchema(
        "settlements",
        POINT,
        (
            Column("settlement_id", "id", required=True),
            Column("village_id", "text", required=True),
            Column("households", "int", required=True, low=0, high=MAX_VILLAGE_POPULATION),
            Column("name", "text"),
        ),
    ),
    # the village committee (村委会) and clinic (卫生室) of each administrative village: the 2018 pilot measures
    # 4G from the committee (docs/programme.md); optional, the village point stands for the committee without it
    "facilities": LayerSchema(
        "facilities",
        POINT,
        (
            Column("facility_id", "id", required=True),
            Column("village_id", "text", required=True),
            Column("kind", "enum", required=True, allowed=("village_committee", "clinic")),
            Column("name", "text"),
        ),
    ),
    "admin": LayerSchema(
        "admin",
        AREA,
        (
            Column("area_id", "id", required=True),
            Column("name", "text", required=True),
            Column("level", "text"),
            Column("province", "text", complete=True),  # a region's split into provinces: all or none
        ),
    ),
}


@overload
def unit_key(layer: str | pd.Series, ids: pd.Series) -> pd.Series: ...
@overload
def unit_key(layer: str | np.ndarray, ids: np.ndarray) -> np.ndarray: ...
def unit_key(layer: str | pd.Series | np.ndarray, ids: pd.Series | np.ndarray) -> pd.Series | np.ndarray:
    """The ``layer:id`` key that names a row of a point layer across stages (``villages:V001``).

    ``layer`` is one layer name or one per row; ``ids`` the rows' ids (turned to text). A Series of ids gives a
    Series on its index; an array gives an object array.
    """
    if isinstance(ids, pd.Series):
        return layer + ":" + ids.astype(str)
    ids = np.asarray(ids, dtype=object)
    layers = np.broadcast_to(np.asarray(layer, dtype=object), ids.shape)
    return np.array([f"{a}:{b}" for a, b in zip(layers.tolist(), ids.tolist(), strict=True)], dtype=object)
