"""Layer schemas of DESIGN.md: geometry type, required and optional columns, types, units and allowed values."""

from __future__ import annotations

import unicodedata
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


# --- Chinese inputs: column aliases and value maps ----------------------------------------------------------------
# A planner's own lists arrive with Chinese headings and values (学校名称, 小学, 光纤, 中国移动, 是/否).
# The tables below map them onto the schema above; :func:`gis.validation.rename_aliases` and the enum
# coercion apply them. Headings and values are compared after :func:`header_key` / :func:`value_key`
# (Unicode NFKC, so full-width ``（Ｍｂｐｓ）`` equals ``(Mbps)``; lower case; spaces removed). A heading the
# tables do not know is mapped in the layer's ``columns`` entry of ``[layers]`` (docs/project-file.md).

_COUNTY = ("县", "县区", "区县", "县(市、区)", "县(市区)", "县市区", "所属县", "所属区县", "县名", "县名称")
_OPERATOR = ("运营商", "所属运营商", "运营商名称")

#: Layer -> schema column -> headings that mean it (besides the column's own name).
COLUMN_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "villages": {
        "village_id": ("村编号", "行政村编号", "村庄编号", "村id", "编号"),
        "name": ("行政村名称", "行政村", "村名", "村名称", "村庄名称", "村庄", "名称"),
        "population": ("人口", "人口数", "总人口", "户籍人口", "常住人口", "人口(人)", "户籍人口(人)", "人口数(人)"),
        "county": _COUNTY,
        "admin_code": (
            "村编码",
            "村代码",
            "行政区划代码",
            "区划代码",
            "统计用区划代码",
            "村级区划代码",
            "12位区划代码",
        ),
        "households": ("户数", "总户数", "户籍户数", "户数(户)"),
        "is_poor": ("是否贫困村", "贫困村", "建档立卡贫困村", "是否建档立卡贫困村", "是否建档立卡"),
        "priority": ("优先级", "优先度"),
        "fibre_connected": ("是否通光纤", "通光纤", "光纤通达", "是否光纤通达"),
        "covered_4g": ("4g覆盖", "是否4g覆盖", "4g是否覆盖", "通4g", "是否通4g"),
        "covered_5g": ("5g覆盖", "是否5g覆盖", "5g是否覆盖", "通5g", "是否通5g"),
        "access": ("接入方式", "网络接入方式", "接入类型", "宽带接入方式"),
    },
    "schools": {
        "school_id": ("学校编号", "学校代码", "学校标识码", "学校识别码", "编号"),
        "name": ("学校名称", "校名", "学校", "名称"),
        "kind": ("类型", "学校类型", "办学类型", "学校类别", "类别", "学段"),
        "students": ("学生数", "学生人数", "在校生数", "在校学生数", "在校生", "学生数(人)", "在校生数(人)"),
        "bandwidth_mbps": ("带宽", "出口带宽", "接入带宽", "带宽(mbps)", "出口带宽(mbps)", "带宽(m)", "出口带宽(m)"),
        "access": ("接入方式", "网络接入方式", "宽带接入方式", "接入类型"),
        "county": _COUNTY,
    },
    "sites": {
        "site_id": ("站点编号", "基站编号", "站号", "基站id", "站址编码", "站址编号", "编号"),
        "tech": ("制式", "网络制式", "网络类型"),
        "band_mhz": ("频段(mhz)", "频率(mhz)", "频点(mhz)", "工作频段(mhz)"),
        "height_m": ("挂高", "天线挂高", "天线高度", "挂高(m)", "天线挂高(m)", "天线高度(m)"),
        "operator": _OPERATOR,
        "eirp_dbm": ("eirp(dbm)", "等效全向辐射功率(dbm)"),
        "azimuth_deg": ("方位角", "方向角", "方位角(度)", "方位角(°)"),
        "bandwidth_mhz": ("载波带宽", "带宽(mhz)", "载波带宽(mhz)"),
        "backhaul": ("回传方式", "传输方式", "回传"),
    },
    "fibre": {
        "route_id": ("路由编号", "光缆编号", "光缆段编号", "编号"),
        "kind": ("光缆类型", "光缆级别", "级别", "类型"),
        "operator": _OPERATOR,
    },
    "fibre_nodes": {
        "node_id": ("节点编号", "机房编号", "局站编号", "编号"),
        "kind": ("节点类型", "机房类型", "类型"),
    },
    "roads": {
        "road_id": ("道路编号", "路线编号", "编号"),
        "class": ("道路等级", "技术等级", "等级"),
        "surface": ("路面", "路面类型"),
    },
    "candidates": {
        "candidate_id": ("候选编号", "候选站址编号", "站址编号", "编号"),
        "kind": ("建设方式", "类型"),
        "cost_cny": ("造价", "投资", "造价(元)", "投资(元)", "投资额(元)"),
        "height_m": ("挂高", "塔高", "挂高(m)", "塔高(m)"),
    },
    "admin": {
        "area_id": ("adcode", "行政区划代码", "区划代码", "代码", "编码"),
        "name": ("名称", "行政区名称", "区划名称"),
        "level": ("级别", "行政级别"),
        "province": ("省", "省份", "所属省份"),
    },
}

#: Headings of a CSV's or workbook's longitude and latitude when its ``[layers]`` entry names none.
LON_ALIASES = ("lon", "经度", "longitude", "lng", "东经", "经度(°)", "x坐标(经度)")
LAT_ALIASES = ("lat", "纬度", "latitude", "北纬", "纬度(°)", "y坐标(纬度)")

#: School kinds as Chinese lists and school names say them (the school's own word first: a name holding
#: ``教学点`` is a teaching point whatever else it says; see :func:`school_kind_of_name`). Kinds of schools outside
#: primary/secondary (special education, vocational) are mapped to the level of most of their pupils:
#: 特殊教育学校 teaches years 1-9 (Ministry of Education, 特殊教育学校暂行规程 1998), mostly primary-age;
#: 职业技术学校/中职 are upper secondary (ISCED 3).
SCHOOL_KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("教学点", "teaching_point"),
    ("教学站", "teaching_point"),
    ("九年一贯制", "secondary"),
    ("十二年一贯制", "secondary"),
    ("一贯制", "secondary"),
    ("完全中学", "secondary"),
    ("完中", "secondary"),
    ("初级中学", "secondary"),
    ("高级中学", "secondary"),
    ("中学", "secondary"),
    ("初中", "secondary"),
    ("高中", "secondary"),
    ("职业技术学校", "secondary"),
    ("职业中学", "secondary"),
    ("职业高中", "secondary"),
    ("职高", "secondary"),
    ("中职", "secondary"),
    ("中等职业", "secondary"),
    ("技工学校", "secondary"),
    ("中心小学", "primary"),
    ("中心学校", "primary"),
    ("中心校", "primary"),
    ("完全小学", "primary"),
    ("完小", "primary"),
    ("村小", "primary"),
    ("小学", "primary"),
    ("民族学校", "primary"),
    ("特殊教育学校", "primary"),
    ("特教学校", "primary"),
    ("启智学校", "primary"),
    ("聋哑学校", "primary"),
    ("盲校", "primary"),
)

_ACCESS = {"光纤": "fibre", "光纤接入": "fibre", "有线": "fibre", "宽带": "fibre", "ftth": "fibre", "pon": "fibre"}
_ACCESS |= {"4g": "4g", "lte": "4g", "4g无线": "4g", "5g": "5g", "nr": "5g", "5g无线": "5g"}
_ACCESS |= {"无": "none", "未接入": "none", "不通": "none", "没有": "none"}
_OPERATORS = {
    "中国移动": "CMCC",
    "移动": "CMCC",
    "cmcc": "CMCC",
    "chinamobile": "CMCC",
    "中国联通": "CUCC",
    "联通": "CUCC",
    "cucc": "CUCC",
    "chinaunicom": "CUCC",
    "中国电信": "CTCC",
    "电信": "CTCC",
    "ctcc": "CTCC",
    "chinatelecom": "CTCC",
    "中国广电": "CBN",
    "广电": "CBN",
    "cbn": "CBN",
    "chinabroadnet": "CBN",
    "中国铁塔": "CTTC",
    "铁塔": "CTTC",
}

#: Layer -> column -> value (after :func:`value_key`) -> the schema's value. Enum columns also take their own
#: values; the ``operator`` text columns are mapped to the codes the project uses (CMCC, CUCC, CTCC, CBN; 中国铁塔
#: CTTC), other operator names pass as written.
VALUE_ALIASES: dict[str, dict[str, dict[str, str]]] = {
    "villages": {"access": {**_ACCESS}},
    "schools": {
        "kind": dict(SCHOOL_KIND_WORDS) | {"民族中学": "secondary", "民族小学": "primary"},
        "access": {**_ACCESS, "卫星": "satellite", "卫星接入": "satellite", "vsat": "satellite"},
    },
    "sites": {
        "tech": {"lte": "4g", "4g基站": "4g", "nr": "5g", "5g基站": "5g", "5gnr": "5g"},
        "operator": _OPERATORS,
        "backhaul": {"光纤": "fibre", "微波": "microwave", "卫星": "satellite"},
    },
    "fibre": {"kind": {"骨干": "backbone", "干线": "backbone", "配线": "distribution", "接入": "distribution"}},
    "fibre_nodes": {
        "kind": {"olt机房": "olt", "接入机房": "olt", "汇聚机房": "pop", "汇聚节点": "pop", "铁塔": "tower"}
    },
    "candidates": {"kind": {"新建": "new_site", "新建站": "new_site", "升级": "upgrade", "改造": "upgrade"}},
}
VALUE_ALIASES["fibre"]["operator"] = _OPERATORS


def header_key(text: object) -> str:
    """A heading as the alias tables compare it: NFKC (full-width to half-width), lower case, no spaces, Chinese
    brackets 【】 as ``()``."""
    s = unicodedata.normalize("NFKC", str(text)).lower()
    return "".join(s.replace("【", "(").replace("】", ")").split())


def value_key(text: object) -> str:
    """A cell as the value maps compare it (as :func:`header_key`)."""
    return header_key(text)


def operator_code(name: str) -> str:
    """The operator code (CMCC, CUCC, CTCC, CBN) of an operator named in Chinese or English; other names as given."""
    return _OPERATORS.get(value_key(name), name.strip())


def school_kind_of_name(name: str) -> str | None:
    """``primary``/``secondary``/``teaching_point`` from the words of a school's name (:data:`SCHOOL_KIND_WORDS`,
    first match in the list's order), or None when no word is there."""
    s = value_key(name)
    for word, kind in SCHOOL_KIND_WORDS:
        if word in s:
            return kind
    return None
