"""The proposal report: region against the targets before and after, per county, interventions by batch,
what stays unconnected, and a cost vs coverage curve; as one self-contained HTML file, CSV tables and an
Excel workbook.

:func:`report_tables` builds the tables (plain DataFrames, testable without files), :func:`charts` draws them
with matplotlib (PNG bytes), :func:`write_report` writes ``report.html`` (charts inlined as data URIs, so the
file travels alone), ``report.xlsx`` (one sheet per table) and ``report_<table>.csv`` (UTF-8 with BOM, which
Excel opens correctly in Chinese). Labels follow the project's language; chart labels fall back to English
where matplotlib finds no CJK font.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure

from gis.project import Project
from gis.writers import write_csv, write_xlsx
from planning.plan.proposal import Proposal
from planning.present.labels import Language, label, point_names, served_text
from planning.status.kpi import KPIS, REGION
from planning.status.stage import GapsResult

logger = logging.getLogger(__name__)

TABLES = (
    "region",
    "provinces",
    "counties",
    "short",
    "batches",
    "interventions",
    "lots",
    "ledger",
    "ledger_changes",
    "verification",
    "cost_curve",
)
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
}


def region_table(project: Project, before: pd.DataFrame, after: pd.DataFrame, *, language: Language) -> pd.DataFrame:
    """Every KPI of the region (README, "KPIs"): ``indicator``, ``n`` (counted), ``target`` (None: no target),
    ``before``, ``after``, ``met`` (None without a target), ``counties_short`` (counties still short after)."""
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
    cols = ["batch", "year", "lot", "candidate_id", "kind", "backhaul", "cost_cny", "n_served", "serves"]
    if not len(inter):
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(
        {
            "batch": inter["batch"].to_numpy(),
            "year": inter["year"].to_numpy(),
            "lot": inter["lot"].to_numpy() if "lot" in inter else 0,
            "candidate_id": inter["candidate_id"].to_numpy(),
            "kind": inter["kind"].to_numpy(),
            "backhaul": inter["backhaul"].to_numpy() if "backhaul" in inter else "",
            "cost_cny": inter["cost_cny"].to_numpy().round(0),
            "n_served": inter["n_served"].to_numpy(),
            "serves": inter["serves"].map(lambda s: served_text(s, names)).to_numpy(),
        }
    )
    return out.sort_values(["batch", "cost_cny"], ascending=[True, False]).reset_index(drop=True)


def remaining_ledger(ledger: pd.DataFrame, proposal: Proposal) -> pd.DataFrame:
    """The ledger rows with the plan's remedy, cost share, batch and year; ``closed_in_batch``: the batch after
    which the row lacks nothing (0: something stays unserved after the plan); remaining rows first."""
    dem = proposal.demands
    unserved = set(dem.loc[~dem["served"], "unit"])
    plan = proposal.ledger_plan
    out = pd.DataFrame(ledger.drop(columns="geometry", errors="ignore")).copy()
    key = out["id"].astype(str)
    for col in ("remedy", "remedy_id", "remedy_cost_cny", "batch", "year"):
        out[col] = key.map(plan[col]).to_numpy() if len(plan) else None
    closed = key.isin(plan.index) & ~key.isin(unserved)
    out["closed_in_batch"] = np.where(closed, pd.to_numeric(out["batch"], errors="coerce").fillna(0), 0).astype(int)
    out["remaining"] = out["closed_in_batch"] == 0
    cols = [
        "id",
        "layer",
        "name",
        "county",
        "kind",
        "lacks",
        "access",
        "evidence",
        "remedy",
        "remedy_id",
        "remedy_cost_cny",
        "batch",
        "year",
        "closed_in_batch",
        "remaining",
    ]
    out = out[[c for c in cols if c in out.columns]]
    return out.sort_values(
        ["remaining", "closed_in_batch", "county", "id"], ascending=[False, True, True, True]
    ).reset_index(drop=True)


def ledger_change_table(changes: pd.DataFrame | None) -> pd.DataFrame:
    """The run's ledger events summed up: per field and new value, how many rows (``field``, ``old``, ``new``,
    ``rows``); status changes first."""
    cols = ["field", "old", "new", "rows"]
    if changes is None or not len(changes):
        return pd.DataFrame(columns=cols)
    part = changes[changes["field"].isin(["status", "remedy", "batch"])]
    out = part.groupby(["field", "old", "new"], dropna=False).size().rename("rows").reset_index()
    if len(out) > 40:  # remedies and batches vary by row: keep the status moves and the biggest of the rest
        out = pd.concat([out[out["field"] == "status"], out[out["field"] != "status"].nlargest(20, "rows")])
    order = out["field"].map({"status": 0, "batch": 1, "remedy": 2})
    return out.iloc[np.lexsort((-out["rows"].to_numpy(), order.to_numpy()))].reset_index(drop=True)[cols]


def report_tables(
    project: Project,
    gaps: GapsResult,
    proposal: Proposal,
    *,
    curve: pd.DataFrame | None = None,
    ledger_changes: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """All report tables: ``region``, ``counties``, ``short`` (KPIs still short after the plan, with why),
    ``batches``, ``interventions``, ``ledger``, ``ledger_changes``, ``verification``, ``cost_curve``, and
    ``provinces`` (the national summary) when the region holds several provinces."""
    lang: Language = project.language
    names = point_names(gaps.villages, gaps.schools)
    provinces = getattr(proposal, "provinces", None)
    return {
        "region": region_table(project, gaps.targets, proposal.targets_after, language=lang),
        **({"provinces": provinces.copy()} if provinces is not None else {}),
        "counties": county_table(project, gaps.targets, proposal.targets_after),
        "short": proposal.short.copy(),
        "batches": proposal.batches.copy(),
        "interventions": intervention_table(proposal, names),
        "lots": proposal.lots.copy() if proposal.lots is not None else pd.DataFrame(),
        "ledger": remaining_ledger(gaps.ledger, proposal),
        "ledger_changes": ledger_change_table(ledger_changes),
        "verification": gaps.verification.copy(),
        "cost_curve": curve if curve is not None else pd.DataFrame(),
    }


# ---------------------------------------------------------------- charts


def cjk_font() -> str | None:
    """Name of an installed font with Chinese glyphs that matplotlib can use, or None."""

    have = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in _CJK_FONTS if f in have), None)


def charts(tables: Mapping[str, pd.DataFrame], *, language: Language) -> dict[str, bytes]:
    """PNG charts: ``cost_curve`` (shares against cost) and ``county_coverage`` (poor broadband by county)."""

    font = cjk_font()
    lang: Language = language if (language == "en" or font) else "en"
    if lang != language:
        logger.info("no CJK font for matplotlib: chart labels in English")
    rc = {
        "font.family": "sans-serif",
        "font.sans-serif": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
        "axes.unicode_minus": False,
        "text.parse_math": False,
    }  # a county called "$\\frac$" stays text
    out: dict[str, bytes] = {}
    with matplotlib.rc_context(rc):
        curve = tables.get("cost_curve")
        if curve is not None and len(curve):
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
                ax.plot(
                    x[order],
                    curve[col].to_numpy()[order],
                    marker="o",
                    label=label(key, lang, mbps=100) if key == "ind_school_outlet" else label(key, lang),
                )
            ax.axhline(0.98, color="grey", ls="--", lw=1)
            ax.set_xlabel(label("chart_curve_x", lang))
            ax.set_ylabel(label("chart_curve_y", lang))
            ax.set_ylim(0, 1.02)
            ax.grid(alpha=0.3)
            ax.legend(loc="lower right", fontsize=8)
            out["cost_curve"] = _png(fig)
        counties = tables.get("counties")
        if counties is not None and len(counties):
            c = counties[counties["county"] != REGION]
            if not len(c):
                c = counties
            fig = Figure(figsize=(max(5, 0.6 * len(c) + 2), 4), dpi=110)
            ax = fig.subplots()
            pos = np.arange(len(c))
            ax.bar(pos - 0.2, c["poor_broadband_before"], width=0.4, label=label("before", lang), color="#d7191c")
            ax.bar(pos + 0.2, c["poor_broadband_after"], width=0.4, label=label("after", lang), color="#1a9641")
            ax.axhline(0.98, color="grey", ls="--", lw=1)
            ax.set_xticks(
                pos,
                [str(x) if lang == language else f"#{k + 1}" for k, x in enumerate(c["county"])],
                rotation=30,
                ha="right",
            )
            ax.set_ylabel(label("chart_county_y", lang))
            ax.set_ylim(0, 1.05)
            ax.legend(fontsize=8)
            out["county_coverage"] = _png(fig)
    return out


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# ---------------------------------------------------------------- HTML


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, bool | np.bool_):
        return "✓" if v else "✗"
    if isinstance(v, float | np.floating):
        return f"{v:.1%}" if 0 <= v <= 1.0000001 and v != int(v) else f"{v:,.0f}"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    return html.escape(str(v))


#: Column headings of the report tables in Chinese (English keeps the column names, which carry the units).
_ZH_COLUMNS = {
    "county": "区县",
    "villages": "村庄数",
    "poor_villages": "贫困村数",
    "schools": "学校数",
    "batch": "批次",
    "cost_cny": "投资（元）",
    "cumulative_cost_cny": "累计投资（元）",
    "interventions": "项目数",
    "poor_broadband_share": "贫困村宽带通达率",
    "schools_outlet_share": "学校出口带宽达标率",
    "villages_with_broadband": "通宽带村数",
    "candidate_id": "项目编号",
    "kind": "类型",
    "backhaul": "回传",
    "n_served": "服务点数",
    "serves": "服务对象",
    "budget_cny": "预算（元）",
    "weight_share": "加权需求满足率",
    "gap": "最优性差距",
    "status": "求解状态",
    "id": "编号",
    "layer": "类别",
    "name": "名称",
    "lacks": "缺口",
    "access": "接入方式",
    "remedy": "建议措施",
    "remedy_cost_cny": "估算投资（元）",
    "closed_in_batch": "解决批次",
    "remaining": "仍未解决",
    "poor_broadband_share_before": "贫困村宽带通达率（前）",
    "poor_broadband_share_after": "贫困村宽带通达率（后）",
    "poor_broadband_shortfall_before": "贫困村缺口（前）",
    "poor_broadband_shortfall_after": "贫困村缺口（后）",
    "schools_outlet_share_before": "学校带宽达标率（前）",
    "schools_outlet_share_after": "学校带宽达标率（后）",
    "schools_outlet_shortfall_before": "学校缺口（前）",
    "schools_outlet_shortfall_after": "学校缺口（后）",
    "meets_all_before": "全部达标（前）",
    "meets_all_after": "全部达标（后）",
    "teaching_points": "教学点数",
    "year": "年度",
    "remedy_id": "措施编号",
    "evidence": "依据",
    "what": "需核实内容",
    "kpi": "指标",
    "have": "已达",
    "n": "统计数",
    "target": "目标",
    "shortfall": "缺口",
    "not_coverable": "无可行方案数",
    "field": "字段",
    "old": "原值",
    "new": "新值",
    "rows": "行数",
    "lot": "标段",
    "extent_km": "范围（公里）",
    "counties": "区县",
    "unconnected_schools_share": "未联网学校解决率",
    "poor_villages_share": "贫困村需求解决率",
    "rest_share": "其余需求解决率",
    **{
        f"{k}_{x}": f"{name}（{w}）"
        for k, name in (
            ("poor_broadband", "贫困村宽带通达率"),
            ("poor_4g", "贫困村4G覆盖率"),
            ("village_5g", "行政村5G通达率"),
            ("school_connected", "学校联网率"),
            ("school_outlet", "学校出口带宽达标率"),
            ("tp_connected", "教学点联网率"),
        )
        for x, w in (("before", "前"), ("after", "后"))
    },
    **{
        f"{k}_share": name
        for k, name in (
            ("poor_broadband", "贫困村宽带通达率"),
            ("poor_4g", "贫困村4G覆盖率"),
            ("village_5g", "行政村5G通达率"),
            ("school_connected", "学校联网率"),
            ("school_outlet", "学校出口带宽达标率"),
            ("tp_connected", "教学点联网率"),
        )
    },
    **{
        f"{k}_shortfall_after": f"{name}缺口（后）"
        for k, name in (
            ("poor_broadband", "贫困村宽带"),
            ("poor_4g", "贫困村4G"),
            ("village_5g", "行政村5G"),
            ("school_connected", "学校联网"),
            ("school_outlet", "学校出口带宽"),
            ("tp_connected", "教学点联网"),
        )
    },
}


def html_table(
    frame: pd.DataFrame, *, table_id: str, share_cols: tuple[str, ...] = (), language: Language = "en"
) -> str:
    """An escaped HTML table (``id`` = ``table_id``); values in ``share_cols`` as percentages; headings in
    Chinese for ``language = "zh"``."""
    names = _ZH_COLUMNS if language == "zh" else {}
    head = "".join(f"<th>{html.escape(str(names.get(c, c)))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for col, v in zip(frame.columns, row, strict=True):
            if col in share_cols and isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v):
                cells.append(f"<td>{v:.1%}</td>")
            else:
                cells.append(f"<td>{_cell(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table id="{html.escape(table_id)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
.kpi { display: inline-block; margin: 4px 18px 4px 0; } .kpi b { font-size: 18px; display: block; }
img { max-width: 100%; }
"""


def _shares(frame: pd.DataFrame) -> tuple[str, ...]:
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
    return [*head, html_table(frame, table_id=table_id, language=lang, share_cols=_shares(frame))]


def _headline(project: Project, proposal: Proposal, lang: Language) -> list[str]:
    t = proposal.totals
    parts = [
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
) -> str:
    """The report as one self-contained HTML page (charts as data URIs)."""
    lang: Language = project.language
    t = proposal.totals
    mode = label("mode_budget" if t.get("mode") == "budget" else "mode_target", lang)

    def img(key: str) -> str:
        if key not in pngs:
            return ""
        return f'<img id="chart-{key}" alt="{key}" src="data:image/png;base64,{base64.b64encode(pngs[key]).decode()}">'

    keys = ("indicator", "n", "target", "before", "after", "met", "counties_short")
    region = tables["region"].rename(columns={c: label(c, lang) for c in keys})
    reg_html = html_table(
        region, table_id="region", share_cols=tuple(label(c, lang) for c in ("target", "before", "after"))
    )
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(label('report_title', lang))} – {html.escape(project.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(label('report_title', lang))}: {html.escape(project.name)}</h1>",
        f"<p>{html.escape(label('generated', lang))}: {(date or dt.date.today()).isoformat()} · "
        f"{html.escape(mode)}</p>",
        *_headline(project, proposal, lang),
        f"<h2>{html.escape(label('sec_region', lang))}</h2>",
        reg_html,
        *_section("sec_short", lang, tables.get("short"), table_id="short"),
        f"<h2>{html.escape(label('sec_curve', lang))}</h2>",
        img("cost_curve"),
        html_table(tables["cost_curve"], table_id="cost_curve", language=lang, share_cols=_shares(tables["cost_curve"]))
        if len(tables["cost_curve"])
        else "",
        *_section("sec_provinces", lang, tables.get("provinces"), table_id="provinces"),
        f"<h2>{html.escape(label('sec_county', lang))}</h2>",
        img("county_coverage"),
        html_table(tables["counties"], table_id="counties", language=lang, share_cols=_shares(tables["counties"])),
        f"<h2>{html.escape(label('sec_batches', lang))}</h2>",
        html_table(tables["batches"], table_id="batches", language=lang, share_cols=_shares(tables["batches"])),
        html_table(tables["interventions"], table_id="interventions", language=lang),
        *_section("sec_lots", lang, tables.get("lots"), table_id="lots"),
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
        f"<li>{html.escape(label('note_gap', lang, status=t.get('status'), gap=t.get('gap')))}</li></ul>",
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
) -> list[Path]:
    """Write ``report.html``, ``report.xlsx``, ``report_<table>.csv`` and the chart PNGs into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pngs = charts(tables, language=project.language)
    files = []
    for key, data in pngs.items():
        (out / f"chart_{key}.png").write_bytes(data)
        files.append(out / f"chart_{key}.png")
    (out / "report.html").write_text(render_html(project, tables, pngs, proposal, date=date), encoding="utf-8")
    files.append(out / "report.html")
    write_xlsx({key: tables[key] for key in TABLES if tables.get(key) is not None}, out / "report.xlsx")
    files.append(out / "report.xlsx")
    for key in TABLES:
        frame = tables.get(key)
        if frame is not None:
            files.append(write_csv(frame, out / f"report_{key}.csv"))
    return files
