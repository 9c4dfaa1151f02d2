"""The proposal report: region against the targets before and after, per county, interventions by batch,
what stays unconnected, and a cost vs coverage curve; as one self-contained HTML file, CSV tables and an
Excel workbook.

:func:`report_tables` builds the tables (plain DataFrames, testable without files), :func:`charts` draws them
with matplotlib (PNG bytes), :func:`write_report` writes ``report.html`` (charts inlined as data URIs, so the
file travels alone), ``report.xlsx`` (one sheet per table) and ``report_<table>.csv`` (UTF-8 with BOM, which
Excel opens correctly in Chinese).

What a planner reads follows the project's language and one table of column metadata
(:data:`planning.present.labels.COLUMNS`): ``report.html`` and ``report.xlsx`` carry its headings, formats
(shares as %, CNY with thousands separators, km with one decimal) and the planner's words for codes
(``new_site`` 新建基站); the workbook also gets Excel number formats, column widths from the longest shown text,
and a frozen, filterable header row. The CSVs are for scripts: machine column names and codes, the same in
every language. Charts find a CJK font by its file (:func:`cjk_font`); without one their labels are English.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import PercentFormatter
from scipy.spatial import cKDTree

from gis.admin import REGION
from gis.project import Project
from gis.settings import TargetSettings
from gis.writers import write_csv, write_xlsx
from planning.plan import Proposal
from planning.present.application import performance_targets, roles_table, task_list, township_names
from planning.present.labels import (
    TABLE_TITLES,
    ColumnMeta,
    Language,
    code_text,
    column_meta,
    excel_format,
    format_value,
    label,
    point_names,
    served_text,
)
from planning.status import KPIS, LEDGER_COLUMNS, GapsResult

if TYPE_CHECKING:  # matplotlib's stubs name the rc keys (matplotlib >= 3.9); nothing imported at run time
    from matplotlib.typing import RcKeyType

logger = logging.getLogger(__name__)

TABLES = (
    "region",
    "provinces",
    "counties",
    "short",
    "compliance",
    "unserved",
    "batches",
    "interventions",
    "lots",
    "work_lots",
    "roles",
    "operators",
    "tasks",
    "performance",
    "application",
    "townships",
    "ledger",
    "ledger_changes",
    "verification",
    "cost_curve",
)
#: Rows of the unserved needs the HTML report shows (the costliest; the workbook and CSV hold all).
UNSERVED_SHOWN = 20
_CJK_FONTS = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
)
#: Font files with Chinese glyphs where Linux distributions, macOS and Windows install them. They are registered
#: with matplotlib by path (:func:`cjk_font`): matplotlib's font cache, built on its first run, does not list a
#: font installed after it.
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian/Ubuntu fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # Debian/Ubuntu fonts-wqy-zenhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian/Ubuntu fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch noto-fonts-cjk
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora google-noto-sans-cjk-fonts
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",  # Fedora wqy-microhei-fonts
    "/System/Library/Fonts/PingFang.ttc",  # macOS
    "/System/Library/Fonts/STHeiti Medium.ttc",  # macOS
    "C:/Windows/Fonts/msyh.ttc",  # Windows: Microsoft YaHei
    "C:/Windows/Fonts/simhei.ttf",  # Windows: SimHei
)
_REGISTERED: set[str] = set()


def _as_float(x: Any) -> float:
    return float(x) if x is not None and np.isfinite(float(x)) else float("nan")


#: The label key of each KPI's indicator line.
KPI_LABELS = {
    "poor_broadband": "ind_poor_bb",
    "poor_4g": "ind_poor_4g",
    "village_5g": "ind_village_5g",
    "school_connected": "ind_school_conn",
    "school_outlet": "ind_school_outlet",
    "tp_connected": "ind_tp_conn",
    "poor_fibre": "ind_poor_fibre",
    "village_fibre": "ind_village_fibre",
    "village_4g": "ind_village_4g",
}


def region_table(project: Project, before: pd.DataFrame, after: pd.DataFrame, *, language: Language) -> pd.DataFrame:
    """Every KPI of the region (README, "KPIs"): ``indicator``, ``n`` (counted), ``target`` (None: no target),
    ``before``, ``after``, the same weighted by people (``people_before``, ``people_after``: villages by
    population, schools by students; no target), ``met`` (None without a target), ``counties_short`` (counties
    still short after)."""
    b = before[before["county"] == REGION].iloc[0]
    a = after[after["county"] == REGION].iloc[0]
    counties = after[after["county"] != REGION]
    out = []
    for kpi in KPIS:
        target = kpi.target(project.targets)
        out.append(
            {
                "indicator": label(KPI_LABELS[kpi.key], language, mbps=project.targets.school_outlet_mbps),
                "n": int(b[f"{kpi.key}_n"]),
                "target": target if target > 0 else None,
                "before": _as_float(b[f"{kpi.key}_share"]),
                "after": _as_float(a[f"{kpi.key}_share"]),
                "people_before": _as_float(b[f"{kpi.key}_people_share"]),
                "people_after": _as_float(a[f"{kpi.key}_people_share"]),
                "met": bool(a[f"{kpi.key}_met"]) if target > 0 else None,
                "counties_short": int((counties[f"{kpi.key}_shortfall"] > 0).sum()) if target > 0 else None,
            }
        )
    return pd.DataFrame(out)


def targeted_kpis(project: Project) -> list[str]:
    """The KPIs with a target (> 0), and poor villages' 4G ("4G first") in any case."""
    return [k.key for k in KPIS if k.target(project.targets) > 0 or k.key == "poor_4g"]


def county_table(project: Project, before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per county (and the region): counts, and for each targeted KPI its share before and after and its
    shortfall after; whether every target is met before and after."""
    keys = targeted_kpis(project)
    b = before.set_index("county")
    a = after.set_index("county").reindex(b.index)
    out = b[["villages", "poor_villages", "schools", "teaching_points"]].copy()
    for k in keys:
        out[f"{k}_before"] = b[f"{k}_share"]
        out[f"{k}_after"] = a[f"{k}_share"]
        out[f"{k}_shortfall_after"] = a[f"{k}_shortfall"]
    out["meets_all_before"] = b["meets_all"]
    out["meets_all_after"] = a["meets_all"]
    return out.reset_index()


def intervention_table(proposal: Proposal, names: Mapping[str, str]) -> pd.DataFrame:
    """Chosen interventions by batch: batch, year, id, kind, backhaul, cost (CNY), what each serves."""
    inter = proposal.interventions
    cols = [
        "batch",
        "year",
        "lot",
        "candidate_id",
        "kind",
        "builder",
        "backhaul",
        "cost_cny",
        "opex_cny_per_year",
        "lifecycle_cny",
        "central_cny",
        "operator_cny",
        "n_served",
        "serves",
    ]
    if not len(inter):
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(
        {
            "batch": inter["batch"].to_numpy(),
            "year": inter["year"].to_numpy(),
            "lot": inter["lot"].to_numpy() if "lot" in inter else 0,
            "candidate_id": inter["candidate_id"].to_numpy(),
            "kind": inter["kind"].to_numpy(),
            "builder": inter["builder"].to_numpy() if "builder" in inter else "",
            "backhaul": inter["backhaul"].to_numpy() if "backhaul" in inter else "",
            "cost_cny": inter["cost_cny"].to_numpy().round(0),
            **{
                k: inter[k].to_numpy().round(0)
                for k in ("opex_cny_per_year", "lifecycle_cny", "central_cny", "operator_cny")
                if k in inter
            },
            "n_served": inter["n_served"].to_numpy(),
            "serves": inter["serves"].map(lambda s: served_text(s, names)).to_numpy(),
        }
    )
    return out.sort_values(["batch", "cost_cny"], ascending=[True, False]).reset_index(drop=True)


#: Ledger columns the remaining-ledger table leaves out: the funding source and what the field reports.
_LEDGER_FIELD_COLUMNS = frozenset({"funding", "status", "status_date", "note", "measured_mbps", "reason"})


def remaining_ledger(ledger: pd.DataFrame, proposal: Proposal) -> pd.DataFrame:
    """The ledger rows with the plan's remedy, cost share, batch and year; ``closed_in_batch``: the batch after
    which the row lacks nothing (0: something stays unserved after the plan); remaining rows first."""
    dem = proposal.demands
    unserved = set(dem.loc[~dem["served"], "unit"])
    plan = proposal.ledger_plan
    out = pd.DataFrame(ledger.drop(columns="geometry", errors="ignore")).copy()
    key = out["id"].astype(str)
    for col in ("remedy", "remedy_id", "remedy_cost_cny", "batch", "year", "plan_detail"):
        out[col] = key.map(plan[col]).to_numpy() if len(plan) else None
    closed = key.isin(plan.index) & ~key.isin(unserved)
    out["closed_in_batch"] = np.where(closed, pd.to_numeric(out["batch"], errors="coerce").fillna(0), 0).astype(int)
    out["remaining"] = out["closed_in_batch"] == 0
    cols = [*(c for c in LEDGER_COLUMNS if c not in _LEDGER_FIELD_COLUMNS), "closed_in_batch", "remaining"]
    out = out[[c for c in cols if c in out.columns]]
    return out.sort_values(
        ["remaining", "closed_in_batch", "county", "id"], ascending=[False, True, True, True]
    ).reset_index(drop=True)


def ledger_change_table(changes: pd.DataFrame | None) -> pd.DataFrame:
    """The run's ledger events summed up: the status moves (``field`` status, ``old`` -> ``new``, ``rows``), then
    per other field how many rows it changed (``old``/``new`` empty)."""
    cols = ["field", "old", "new", "rows"]
    if changes is None or not len(changes):
        return pd.DataFrame(columns=cols)
    status = changes[changes["field"] == "status"].fillna("")
    moves = status.groupby(["old", "new"], sort=True).size().rename("rows").reset_index().assign(field="status")
    other = changes[changes["field"] != "status"]
    fields = other.groupby("field", sort=True)["id"].nunique().rename("rows").reset_index().assign(old="", new="")
    return pd.concat([moves[cols], fields[cols]], ignore_index=True)


#: Money columns of the application table (summed over the interventions of an area).
MONEY_COLUMNS = ("capex_cny", "opex_cny_per_year", "lifecycle_base_pv_cny", "central_cny", "local_cny", "operator_cny")
#: Site kinds counted in the application table.
SITE_KINDS = ("new_site", "upgrade_5g", "share", "share_5g", "satellite", "line_upgrade")


def township_of_units(gaps: GapsResult) -> pd.Series:
    """Township (乡镇) code of every village and school by ``layer:id``: the first 9 digits of a village's 12-digit
    ``admin_code`` (GB/T 2260 and its township extension), a school's nearest village's; empty without codes."""
    v, s = gaps.villages, gaps.schools
    if "admin_code" not in v or not len(v):
        return pd.Series(dtype=object)
    code = v["admin_code"].astype(str).str[:9].where(v["admin_code"].notna(), "")
    out = pd.Series(code.to_numpy(), index=("villages:" + v["village_id"].astype(str)).to_numpy())
    if len(s):
        vxy = shapely.get_coordinates(np.asarray(v.geometry.values))
        _, nearest = cKDTree(vxy).query(shapely.get_coordinates(np.asarray(s.geometry.values)))
        out = pd.concat(
            [out, pd.Series(code.to_numpy()[nearest], index=("schools:" + s["school_id"].astype(str)).to_numpy())]
        )
    return out


def _area_row(
    project: Project, names: Mapping[str, str], inter: pd.DataFrame, units: pd.DataFrame, km: float
) -> dict[str, Any]:
    """One row of the application table: villages and schools (counts, names), cable, sites by kind, money."""
    b = project.fibre.buried_share
    row: dict[str, Any] = {
        "villages": int((units["layer"] == "villages").sum()),
        "schools": int((units["layer"] == "schools").sum()),
        "village_names": "、".join(names.get(x, x) for x in units.loc[units["layer"] == "villages", "unit"]),
        "school_names": "、".join(names.get(x, x) for x in units.loc[units["layer"] == "schools", "unit"]),
        "cable_km": round(km, 2),
        "aerial_km": round(km * (1 - b), 2),
        "buried_km": round(km * b, 2),
        "fibre_extensions": int((inter["kind"] == "fibre").sum()),
    }
    row.update({f"{k}_count": int((inter["kind"] == k).sum()) for k in SITE_KINDS})
    row.update({k: float(inter[k].sum()) if k in inter else 0.0 for k in MONEY_COLUMNS})
    return row


def application_table(project: Project, gaps: GapsResult, proposal: Proposal, *, by: str = "county") -> pd.DataFrame:
    """The 试点申报 summary per county (``by = "county"``, with the region last) or per county and township
    (``"township"``): the villages and schools the plan serves (counts and names), new cable length (光缆皮长,
    km) aerial and buried (``[fibre] buried_share``), fibre extensions and sites by kind, capex, opex per year,
    lifecycle cost, and who pays (central subsidy, local, operator). An intervention and a trench segment belong
    to the area of the first village, school or site they serve (a site's backhaul trench is in the cable)."""
    inter, dem, routes = proposal.interventions, proposal.demands, proposal.routes
    names = point_names(gaps.villages, gaps.schools)
    served = dem[dem["served"]].drop_duplicates("unit")
    units = dem.drop_duplicates("unit").set_index("unit")
    area_of = units["county"].astype(str)
    if by == "township":
        # joined by a control character: validation refuses those in names, so no county name holds it
        area_of = area_of + "\x1f" + township_of_units(gaps).reindex(units.index).fillna("")
    first = inter["serves"].astype(str).str.split(";").str[0] if len(inter) else pd.Series(dtype=object)
    i_area = first.map(area_of)
    if len(inter):  # a site's fibre backhaul trench (``candidates:<id>``) belongs to the site's area
        site_labels = "candidates:" + inter["candidate_id"].astype(str)
        area_of = pd.concat([area_of, pd.Series(i_area.to_numpy(), index=site_labels.to_numpy())])
        area_of = area_of[~area_of.index.duplicated()]
    s_area = routes["serves"].astype(str).str.split(";").str[0].map(area_of) if len(routes) else None
    u_area = served["unit"].map(area_of)
    rows = []
    areas = sorted(set(i_area.dropna()) | set(u_area.dropna()))
    # the rows of each area, grouped once (a mask per area made this quadratic in the number of townships)
    i_at, u_at = _area_positions(i_area), _area_positions(u_area)
    s_at = _area_positions(s_area) if s_area is not None else {}
    for area in [*areas, *([REGION] if by == "county" else [])]:

        def pick(col: pd.Series, at: dict[Any, np.ndarray], a: str = area) -> np.ndarray:
            return np.arange(len(col)) if a == REGION else at.get(a, np.zeros(0, dtype=np.int64))

        km = float(routes["length_m"].iloc[pick(s_area, s_at)].sum()) / 1000.0 if s_area is not None else 0.0
        head = (
            {"county": area} if by == "county" else dict(zip(("county", "township"), area.split("\x1f"), strict=True))
        )
        rows.append(
            {**head, **_area_row(project, names, inter.iloc[pick(i_area, i_at)], served.iloc[pick(u_area, u_at)], km)}
        )
    return pd.DataFrame(rows)


def _area_positions(area: pd.Series) -> dict[Any, np.ndarray]:
    """Positions (in order) of the rows of each area value of ``area`` (rows without an area in none)."""
    values = area.to_numpy()
    return {k: np.asarray(v, dtype=np.int64) for k, v in pd.Series(values).groupby(values, sort=False).indices.items()}


def tasks_table(project: Project, gaps: GapsResult, proposal: Proposal) -> pd.DataFrame:
    """The 任务清单 of the plan (:func:`planning.present.application.task_list`)."""
    units = proposal.demands.drop_duplicates("unit").set_index("unit")["county"].astype(str)
    return task_list(
        proposal.interventions,
        villages=gaps.villages,
        schools=gaps.schools,
        county_of=units.to_dict(),
        township_of=township_of_units(gaps).to_dict(),
        names_of_township=township_names(gaps.villages, project.application),
        language=project.language,
    )


def application_tables(project: Project, gaps: GapsResult, proposal: Proposal) -> dict[str, pd.DataFrame]:
    """The application package's tables: ``work_lots`` (tender lots by work type), ``roles`` (applicant and
    builders, cited), ``operators`` (each operator's and China Tower's part), ``tasks`` (任务清单),
    ``performance`` (区域绩效目标表), ``application`` (per county, with the compliance rows of the rule packs
    after it)."""
    region = region_table(project, gaps.targets, proposal.targets_after, language=project.language)
    app = application_table(project, gaps, proposal)
    if proposal.compliance is not None and len(proposal.compliance):
        app = pd.concat([app, proposal.compliance.reset_index(drop=True)], ignore_index=True)
    return {
        "work_lots": proposal.work_lots.copy() if proposal.work_lots is not None else pd.DataFrame(),
        "roles": roles_table(project.programme),
        "operators": proposal.operators.copy() if proposal.operators is not None else pd.DataFrame(),
        "tasks": tasks_table(project, gaps, proposal),
        "performance": performance_targets(region, [k.key for k in KPIS], proposal.batches, project.programme),
        "application": app,
    }


def report_tables(
    project: Project,
    gaps: GapsResult,
    proposal: Proposal,
    *,
    curve: pd.DataFrame | None = None,
    ledger_changes: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """All report tables: ``nothing_to_plan`` (one line, only when no village or school lacks anything),
    ``region``, ``counties``, ``short`` (KPIs still short after the plan, with why),
    ``batches``, ``interventions``, ``ledger``, ``ledger_changes``, ``verification``, ``cost_curve``, and
    ``provinces`` (the national summary) when the region holds several provinces."""
    lang: Language = project.language
    names = point_names(gaps.villages, gaps.schools)
    provinces = getattr(proposal, "provinces", None)
    empty = (
        {"nothing_to_plan": pd.DataFrame({"note": [label("nothing_to_plan", lang)]})}
        if nothing_to_plan(proposal)
        else {}
    )
    return {
        **empty,
        "region": region_table(project, gaps.targets, proposal.targets_after, language=lang),
        **({"provinces": provinces.copy()} if provinces is not None else {}),
        "counties": county_table(project, gaps.targets, proposal.targets_after),
        "short": proposal.short.copy(),
        **(
            {"compliance": proposal.compliance.copy()}
            if proposal.compliance is not None and len(proposal.compliance)
            else {}
        ),
        **({"unserved": proposal.unserved.copy()} if proposal.unserved is not None and len(proposal.unserved) else {}),
        "batches": proposal.batches.copy(),
        "interventions": intervention_table(proposal, names),
        "lots": proposal.lots.copy() if proposal.lots is not None else pd.DataFrame(),
        **application_tables(project, gaps, proposal),
        "townships": application_table(project, gaps, proposal, by="township"),
        "ledger": remaining_ledger(gaps.ledger, proposal),
        "ledger_changes": ledger_change_table(ledger_changes),
        "verification": gaps.verification.copy(),
        "cost_curve": curve if curve is not None else pd.DataFrame(),
    }


# ---------------------------------------------------------------- charts


def find_cjk_font_file(
    *, candidates: tuple[str, ...] = CJK_FONT_FILES, env: Mapping[str, str] | None = None
) -> Path | None:
    """The first font file with Chinese glyphs: ``$COVERPLAN_CJK_FONT``, then the known install paths
    (:data:`CJK_FONT_FILES`), then any font matplotlib already lists under a known CJK family name."""
    env = os.environ if env is None else env
    paths = [env["COVERPLAN_CJK_FONT"]] if env.get("COVERPLAN_CJK_FONT") else []
    paths += list(candidates)
    listed = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    paths += [listed[name] for name in _CJK_FONTS if name in listed]
    return next((Path(p) for p in paths if _has_chinese(Path(p))), None)


def _has_chinese(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        return FT2Font(str(path)).get_char_index(ord("县")) > 0
    except (OSError, RuntimeError, ValueError):
        return False


def cjk_font() -> str | None:
    """The family name of a font with Chinese glyphs, registered with matplotlib by its file (so a font cache
    built before the font was installed does not hide it), or None when there is none (see
    :func:`find_cjk_font_file`)."""
    path = find_cjk_font_file()
    if path is None:
        return None
    if str(path) not in _REGISTERED:
        font_manager.fontManager.addfont(str(path))
        _REGISTERED.add(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def _chart_rc(language: Language) -> tuple[dict[RcKeyType, Any], Language]:
    """matplotlib settings of the charts and the language of their labels (English when no CJK font exists;
    names from the data are drawn as they are either way: a CJK font is the fallback of English labels)."""
    font = cjk_font()
    if font is None:
        logger.warning(
            "no font with Chinese glyphs for the charts (install fonts-wqy-microhei or fonts-noto-cjk, or set "
            "COVERPLAN_CJK_FONT to a font file): chart labels in English, Chinese names drawn as boxes"
        )
    lang: Language = language if (language == "en" or font) else "en"
    families = ["DejaVu Sans"]
    if font:
        families = [font, "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans", font]
    rc: dict[RcKeyType, Any] = {
        "font.family": families,  # concrete names: a figure drawn later, outside these settings, keeps them
        "axes.unicode_minus": False,
        "text.parse_math": False,  # a county called "$\\frac$" stays text
    }
    return rc, lang


def cost_curve_chart(
    curve: pd.DataFrame, *, language: Language, outlet_mbps: float = 100.0, target_shares: tuple[float, ...] = (0.98,)
) -> Figure:
    """Shares served against cost (10k CNY) at each budget of the cost curve; a dashed line at each target share
    (``[targets]``: :func:`chart_targets`)."""
    rc, lang = _chart_rc(language)
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(7, 4), dpi=110)
        ax = fig.subplots()
        x = curve["cost_cny"].to_numpy() / 1e4
        order = np.argsort(x)
        for col, key in (
            ("unconnected_schools_share", "class_schools"),
            ("poor_villages_share", "class_poor"),
            ("poor_broadband_share", "ind_poor_bb"),
            ("school_outlet_share", "ind_school_outlet"),
        ):
            ax.plot(x[order], curve[col].to_numpy()[order], marker="o", label=label(key, lang, mbps=outlet_mbps))
        for share in sorted({t for t in target_shares if t > 0}):
            ax.axhline(share, color="grey", ls="--", lw=1)
        ax.set_xlabel(label("chart_curve_x", lang))
        ax.set_ylabel(label("chart_curve_y", lang))
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
    return fig


def county_chart(counties: pd.DataFrame, *, language: Language, target_share: float = 0.98) -> Figure:
    """Poor villages with broadband before and after, per county (the region row only when it is the only one);
    every county is labelled with its own name; a dashed line at ``target_share`` (none at 0)."""
    rc, lang = _chart_rc(language)
    c = counties[counties["county"] != REGION]
    if not len(c):
        c = counties
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(max(5, 0.6 * len(c) + 2), 4), dpi=110)
        ax = fig.subplots()
        pos = np.arange(len(c))
        ax.bar(pos - 0.2, c["poor_broadband_before"], width=0.4, label=label("before", lang), color="#d7191c")
        ax.bar(pos + 0.2, c["poor_broadband_after"], width=0.4, label=label("after", lang), color="#1a9641")
        if target_share > 0:
            ax.axhline(target_share, color="grey", ls="--", lw=1)
        ax.set_xticks(pos, [str(x) for x in c["county"]], rotation=30, ha="right")
        ax.set_ylabel(label("chart_county_y", lang))
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.legend(fontsize=8)
        fig.tight_layout()
    return fig


def chart_targets(targets: TargetSettings) -> tuple[float, ...]:
    """The target shares of the cost curve's series, in its order: unconnected schools (connected share), poor
    villages and their broadband (poor-village broadband share), school outlets (outlet share)."""
    return (
        targets.school_connected_share,
        targets.poor_village_broadband_share,
        targets.poor_village_broadband_share,
        targets.school_outlet_share,
    )


def charts(
    tables: Mapping[str, pd.DataFrame], *, language: Language, targets: TargetSettings | None = None
) -> dict[str, bytes]:
    """PNG charts: ``cost_curve`` (shares against cost) and ``county_coverage`` (poor broadband by county), with
    the target lines of ``targets`` (the project's ``[targets]``; default: the default targets)."""
    targets = targets or TargetSettings()
    out: dict[str, bytes] = {}
    curve = tables.get("cost_curve")
    if curve is not None and len(curve):
        chart = cost_curve_chart(
            curve, language=language, outlet_mbps=targets.school_outlet_mbps, target_shares=chart_targets(targets)
        )
        out["cost_curve"] = _png(chart)
    counties = tables.get("counties")
    if counties is not None and len(counties):
        chart = county_chart(counties, language=language, target_share=targets.poor_village_broadband_share)
        out["county_coverage"] = _png(chart)
    return out


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# ---------------------------------------------------------------- tables as planners read them


def _display_width(text: str) -> int:
    """Characters a spreadsheet column needs for ``text`` (a CJK or full-width character counts two)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def html_table(
    frame: pd.DataFrame,
    *,
    table_id: str,
    share_cols: tuple[str, ...] = (),
    language: Language = "en",
    table: str | None = None,
) -> str:
    """An escaped HTML table (``id`` = ``table_id``) as a planner reads it: headings and formats from the column
    metadata (:func:`planning.present.labels.column_meta` of ``table``, default ``table_id``), codes translated;
    ``share_cols`` are shown as percentages whatever their metadata says."""
    metas = _metas(frame, table=table or table_id, share_cols=share_cols)
    left = {c: ' class="t"' if metas[c].kind in ("text", "code") else "" for c in frame.columns}
    head = "".join(f"<th{left[c]}>{html.escape(metas[c].heading(language))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = "".join(
            f"<td{left[c]}>{html.escape(_shown(v, metas[c], language))}</td>"
            for c, v in zip(frame.columns, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return f'<table id="{html.escape(table_id)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _shown(value: Any, meta: ColumnMeta, language: Language, *, flag_marks: bool = True) -> str:
    """:func:`format_value`, with the region's own row (``(region)`` in a county column) named in ``language``."""
    if isinstance(value, str) and value == REGION:
        return label("region_row", language)
    return format_value(value, meta, language, flag_marks=flag_marks)


def _metas(frame: pd.DataFrame, *, table: str, share_cols: tuple[str, ...] = ()) -> dict[str, ColumnMeta]:
    out = {}
    for c in frame.columns:
        meta = column_meta(str(c), table=table, dtype=frame[c].dtype)
        out[c] = replace(meta, kind="share") if c in share_cols else meta
    return out


def workbook_sheet(frame: pd.DataFrame, *, table: str, language: Language) -> tuple[pd.DataFrame, dict, dict, dict]:
    """One report table as its workbook sheet: values (codes translated, flags as 是/否 or yes/no, numbers left
    as numbers), and per column its heading, Excel number format and width (from the longest shown text)."""
    metas = _metas(frame, table=table)
    values = pd.DataFrame(index=frame.index)
    headers, formats, widths = {}, {}, {}
    for c in frame.columns:
        meta = metas[c]
        col = frame[c]
        if meta.kind in ("code", "flag"):
            formatted = (format_value(v, meta, language, flag_marks=False) for v in col)
            values[c] = [None if t == "–" else t for t in formatted]
        elif meta.kind == "text":
            values[c] = [label("region_row", language) if v == REGION else v for v in col]
        else:
            values[c] = col.to_numpy()
        headers[c] = meta.heading(language)
        fmt = excel_format(meta)
        if fmt:
            formats[c] = fmt
        shown = [_shown(v, meta, language, flag_marks=False) for v in col.iloc[:500]]
        longest = max([_display_width(headers[c]), *map(_display_width, shown)])
        widths[c] = float(min(max(longest + 4, 8), 50))  # room for the header's filter button
    return values, headers, formats, widths


def write_workbook(tables: Mapping[str, pd.DataFrame], path: str | Path, *, language: Language) -> Path:
    """``report.xlsx``: one sheet per table (sheet names and headings in ``language``), number formats, widths,
    frozen and filterable header row; text cells are strings, never formulas (:func:`gis.writers.write_xlsx`)."""
    sheets, headers, formats, widths = {}, {}, {}, {}
    for key, frame in tables.items():
        title = TABLE_TITLES.get(key, (key, key))[0 if language == "zh" else 1]
        sheets[title], headers[title], formats[title], widths[title] = workbook_sheet(
            frame, table=key, language=language
        )
    return write_xlsx(sheets, path, headers=headers, formats=formats, widths=widths)


_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f0f0f0; } td:first-child, th:first-child, td.t, th.t { text-align: left; }
.kpi { display: inline-block; margin: 4px 18px 4px 0; } .kpi b { font-size: 18px; display: block; }
img { max-width: 100%; }
"""


def share_columns(frame: pd.DataFrame) -> tuple[str, ...]:
    """Columns shown as percentages: shares, KPI values before/after, gaps (not counts nor flags)."""
    return tuple(
        c
        for c in frame.columns
        if c.endswith(("_share", "_before", "_after", "gap"))
        and not c.startswith(("meets_all", "counties_short"))
        and "shortfall" not in c
    )


def _section(key: str, lang: Language, frame: pd.DataFrame | None, *, table_id: str, note: str = "") -> list[str]:
    """A heading, an optional note and the table (nothing when the table is absent or empty, except the
    "none" line)."""
    if frame is None:
        return []
    head = [f"<h2>{html.escape(label(key, lang))}</h2>"] + ([f"<p>{html.escape(note)}</p>"] if note else [])
    if not len(frame):
        return [*head, f"<p>{html.escape(label('none_left', lang))}</p>"]
    return [*head, html_table(frame, table_id=table_id, language=lang, share_cols=share_columns(frame))]


def nothing_to_plan(proposal: Proposal) -> bool:
    """True when no village or school lacks anything: the plan is empty by design (0 interventions, 0 CNY)."""
    return bool(proposal.totals.get("nothing_to_plan", False))


def _headline(project: Project, proposal: Proposal, lang: Language) -> list[str]:
    t = proposal.totals
    parts = [
        *(
            [f'<p id="nothing-to-plan"><b>{html.escape(label("nothing_to_plan", lang))}</b></p>']
            if nothing_to_plan(proposal)
            else []
        ),
        '<div id="kpis">',
        f'<span class="kpi"><b>{t.get("cost_cny", 0):,.0f}</b>{html.escape(label("total_cost", lang))}</span>',
        f'<span class="kpi"><b>{sum((t.get("interventions") or {}).values())}</b>'
        f"{html.escape(label('n_interventions', lang))}</span>",
        f'<span class="kpi"><b>{t.get("batches", 0)}</b>{html.escape(label("batch_no", lang))}</span>',
        f'<span class="kpi"><b>{t.get("counties_short", 0)}</b>{html.escape(label("counties_short", lang))}</span>',
        "</div>",
    ]
    if t.get("mode") == "budget":
        left = label(
            "budget_left",
            lang,
            schools=t.get("unconnected_schools_left", 0),
            schools_dead=t.get("unconnected_schools_not_coverable", 0),
            poor=t.get("poor_villages_left", 0),
            money=t.get("budget_left_cny", 0),
        )
        parts.append(f'<p id="budget-left">{html.escape(left)}</p>')
    return parts


def render_html(
    project: Project,
    tables: Mapping[str, pd.DataFrame],
    pngs: Mapping[str, bytes],
    proposal: Proposal,
    *,
    date: dt.date | None = None,
    limits: Sequence[str] = (),
) -> str:
    """The report as one self-contained HTML page (charts as data URIs). ``limits``: codes of what the run cannot
    plan for want of an input (:func:`gis.layers.input_limits`: ``no_is_poor``, ``no_fibre``), said under the
    headline."""
    lang: Language = project.language
    t = proposal.totals
    mode = label("mode_budget" if t.get("mode") == "budget" else "mode_target", lang)

    def img(key: str) -> str:
        if key not in pngs:
            return ""
        return f'<img id="chart-{key}" alt="{key}" src="data:image/png;base64,{base64.b64encode(pngs[key]).decode()}">'

    reg_html = html_table(tables["region"], table_id="region", language=lang)
    gap = format_value(t.get("gap"), column_meta("gap"), lang)
    status = code_text(t.get("status"), "status", lang)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(label('report_title', lang))} – {html.escape(project.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(label('report_title', lang))}: {html.escape(project.name)}</h1>",
        f"<p>{html.escape(label('generated', lang))}: {(date or dt.date.today()).isoformat()} · "
        f"{html.escape(mode)}</p>",
        *_headline(project, proposal, lang),
        *(
            f'<p class="cannot-plan" id="cannot-plan-{c}"><b>{html.escape(label("cannot_plan_" + c, lang))}</b></p>'
            for c in limits
        ),
        f"<h2>{html.escape(label('sec_region', lang))}</h2>",
        reg_html,
        *_section("sec_short", lang, tables.get("short"), table_id="short"),
        *_section("sec_compliance", lang, tables.get("compliance"), table_id="compliance"),
        *_section(
            "sec_unserved",
            lang,
            tables["unserved"].head(UNSERVED_SHOWN) if "unserved" in tables else None,
            table_id="unserved",
        ),
        f"<h2>{html.escape(label('sec_curve', lang))}</h2>",
        img("cost_curve"),
        html_table(
            tables["cost_curve"], table_id="cost_curve", language=lang, share_cols=share_columns(tables["cost_curve"])
        )
        if len(tables["cost_curve"])
        else "",
        *_section("sec_provinces", lang, tables.get("provinces"), table_id="provinces"),
        f"<h2>{html.escape(label('sec_county', lang))}</h2>",
        img("county_coverage"),
        html_table(
            tables["counties"], table_id="counties", language=lang, share_cols=share_columns(tables["counties"])
        ),
        f"<h2>{html.escape(label('sec_batches', lang))}</h2>",
        html_table(tables["batches"], table_id="batches", language=lang, share_cols=share_columns(tables["batches"])),
        html_table(tables["interventions"], table_id="interventions", language=lang),
        *_section("sec_lots", lang, tables.get("lots"), table_id="lots"),
        *_section(
            "sec_application",
            lang,
            tables.get("application"),
            table_id="application",
            note=label("note_application", lang),
        ),
        *_section("sec_townships", lang, tables.get("townships"), table_id="townships"),
        f"<h2>{html.escape(label('sec_ledger', lang))}</h2>",
        html_table(tables["ledger"], table_id="ledger", language=lang),
        *_section("sec_ledger_changes", lang, tables.get("ledger_changes"), table_id="ledger_changes"),
        *_section(
            "sec_verify", lang, tables.get("verification"), table_id="verification", note=label("note_verify", lang)
        ),
        f"<h2>{html.escape(label('sec_notes', lang))}</h2><ul>",
        f"<li>{html.escape(label('note_evidence', lang))}</li>",
        f"<li>{html.escape(label('note_fibre', lang))}</li>",
        f"<li>{html.escape(label('note_curve', lang))}</li>",
        f"<li>{html.escape(label('note_gap', lang, status=status, gap=gap))}</li></ul>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)


def write_report(
    project: Project,
    tables: Mapping[str, pd.DataFrame],
    proposal: Proposal,
    out_dir: str | Path,
    *,
    date: dt.date | None = None,
    limits: Sequence[str] = (),
) -> list[Path]:
    """Write ``report.html``, ``report.xlsx``, ``report_<table>.csv`` and the chart PNGs into ``out_dir``
    (``limits``: see :func:`render_html`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pngs = charts(tables, language=project.language, targets=project.targets)
    files = []
    for key, data in pngs.items():
        (out / f"chart_{key}.png").write_bytes(data)
        files.append(out / f"chart_{key}.png")
    (out / "report.html").write_text(
        render_html(project, tables, pngs, proposal, date=date, limits=limits), encoding="utf-8"
    )
    files.append(out / "report.html")
    # an empty plan's one line (``nothing_to_plan``) comes first: the first sheet a planner sees says so
    ordered = {key: tables[key] for key in ("nothing_to_plan", *TABLES) if tables.get(key) is not None}
    ordered.update({key: frame for key, frame in tables.items() if key not in ordered and frame is not None})
    files.append(write_workbook(ordered, out / "report.xlsx", language=project.language))
    for key, frame in ordered.items():
        files.append(write_csv(frame, out / f"report_{key}.csv"))
    return files
