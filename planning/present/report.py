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
from planning.status.gaps import REGION
from planning.status.stage import GapsResult

logger = logging.getLogger(__name__)

TABLES = ("region", "provinces", "counties", "batches", "interventions", "ledger", "cost_curve")
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


def region_table(project: Project, before: pd.DataFrame, after: pd.DataFrame, *, language: Language) -> pd.DataFrame:
    """Region indicators against the targets: ``indicator``, ``target``, ``before``, ``after``, ``met``."""
    b = before[before["county"] == REGION].iloc[0]
    a = after[after["county"] == REGION].iloc[0]
    t = project.targets
    rows = [
        ("ind_poor_bb", {}, "poor_broadband_share", t.poor_village_broadband_share),
        ("ind_poor_4g", {}, "poor_4g_share", None),
        ("ind_school_conn", {}, "schools_connected_share", t.school_connected_share),
        ("ind_school_outlet", {"mbps": t.school_outlet_mbps}, "schools_outlet_share", t.school_connected_share),
    ]
    out = []
    for key, fmt, col, target in rows:
        after_v = _as_float(a[col])
        out.append(
            {
                "indicator": label(key, language, **fmt),
                "target": target,
                "before": _as_float(b[col]),
                "after": after_v,
                "met": None if target is None else bool(after_v >= target - 1e-12),
            }
        )
    return pd.DataFrame(out)


def county_table(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per county (and the region): poor broadband and school outlet shares and shortfalls, before and after."""
    keep = [
        "county",
        "villages",
        "poor_villages",
        "poor_broadband_share",
        "poor_broadband_shortfall",
        "schools",
        "schools_outlet_share",
        "schools_outlet_shortfall",
        "meets_all",
    ]
    b = before[keep].set_index("county")
    a = after[keep].set_index("county").reindex(b.index)
    out = pd.DataFrame({"villages": b["villages"], "poor_villages": b["poor_villages"], "schools": b["schools"]})
    for col in (
        "poor_broadband_share",
        "poor_broadband_shortfall",
        "schools_outlet_share",
        "schools_outlet_shortfall",
        "meets_all",
    ):
        out[f"{col}_before"] = b[col]
        out[f"{col}_after"] = a[col]
    return out.reset_index()


def intervention_table(proposal: Proposal, names: Mapping[str, str]) -> pd.DataFrame:
    """Chosen interventions by batch: id, kind, backhaul, cost (CNY), what each serves (names and ids)."""
    inter = proposal.interventions
    if not len(inter):
        return pd.DataFrame(columns=["batch", "candidate_id", "kind", "backhaul", "cost_cny", "n_served", "serves"])

    out = pd.DataFrame(
        {
            "batch": inter["batch"].to_numpy(),
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
    """The ledger rows with the batch that closes each (0 = still unconnected after the plan), remaining first."""
    dem = proposal.demands
    batch = pd.Series(dem["batch"].to_numpy(), index=dem["demand_id"].to_numpy())
    key = ledger["id"].astype(str)  # ledger ids are "layer:point_id", as demand ids
    out = pd.DataFrame(ledger.drop(columns="geometry", errors="ignore")).copy()
    out["closed_in_batch"] = key.map(batch).fillna(0).astype(int).to_numpy()
    out["remaining"] = out["closed_in_batch"] == 0
    cols = [
        "id",
        "layer",
        "name",
        "county",
        "kind",
        "lacks",
        "access",
        "remedy",
        "remedy_cost_cny",
        "closed_in_batch",
        "remaining",
    ]
    out = out[[c for c in cols if c in out.columns]]
    return out.sort_values(
        ["remaining", "closed_in_batch", "county", "id"], ascending=[False, True, True, True]
    ).reset_index(drop=True)


def report_tables(
    project: Project, gaps: GapsResult, proposal: Proposal, *, curve: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """All report tables: ``region``, ``counties``, ``batches``, ``interventions``, ``ledger``, ``cost_curve``, and
    ``provinces`` (the national summary) when the region holds several provinces."""
    lang: Language = project.language
    names = point_names(gaps.villages, gaps.schools)
    provinces = getattr(proposal, "provinces", None)
    return {
        "region": region_table(project, gaps.targets, proposal.targets_after, language=lang),
        **({"provinces": provinces.copy()} if provinces is not None else {}),
        "counties": county_table(gaps.targets, proposal.targets_after),
        "batches": proposal.batches.copy(),
        "interventions": intervention_table(proposal, names),
        "ledger": remaining_ledger(gaps.ledger, proposal),
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
                ("weight_share", "weight_share"),
                ("poor_broadband_share", "ind_poor_bb"),
                ("schools_outlet_share", "ind_school_outlet"),
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
            ax.bar(pos - 0.2, c["poor_broadband_share_before"], width=0.4, label=label("before", lang), color="#d7191c")
            ax.bar(pos + 0.2, c["poor_broadband_share_after"], width=0.4, label=label("after", lang), color="#1a9641")
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
    pct = ("target", "before", "after")

    def img(key: str) -> str:
        if key not in pngs:
            return ""
        return f'<img id="chart-{key}" alt="{key}" src="data:image/png;base64,{base64.b64encode(pngs[key]).decode()}">'

    region = tables["region"].rename(
        columns={c: label(c, lang) for c in ("indicator", "target", "before", "after", "met")}
    )
    share_cols = tuple(label(c, lang) for c in pct)
    reg_html = html_table(region, table_id="region", share_cols=share_cols)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(label('report_title', lang))} – {html.escape(project.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(label('report_title', lang))}: {html.escape(project.name)}</h1>",
        f"<p>{html.escape(label('generated', lang))}: {(date or dt.date.today()).isoformat()} · "
        f"{html.escape(mode)}</p>",
        '<div id="kpis">',
        f'<span class="kpi"><b>{t.get("cost_cny", 0):,.0f}</b>{html.escape(label("total_cost", lang))}</span>',
        f'<span class="kpi"><b>{sum((t.get("interventions") or {}).values())}</b>'
        f"{html.escape(label('n_interventions', lang))}</span>",
        f'<span class="kpi"><b>{t.get("batches", 0)}</b>{html.escape(label("batch_no", lang))}</span></div>',
        f"<h2>{html.escape(label('sec_region', lang))}</h2>",
        reg_html,
        f"<h2>{html.escape(label('sec_curve', lang))}</h2>",
        img("cost_curve"),
        html_table(
            tables["cost_curve"],
            table_id="cost_curve",
            language=lang,
            share_cols=("weight_share", "poor_broadband_share", "schools_outlet_share", "gap"),
        )
        if len(tables["cost_curve"])
        else "",
        *(
            (
                f"<h2>{html.escape(label('sec_provinces', lang))}</h2>",
                html_table(
                    tables["provinces"],
                    table_id="provinces",
                    language=lang,
                    share_cols=tuple(
                        c for c in tables["provinces"].columns if c.endswith(("share_before", "share_after", "gap"))
                    ),
                ),
            )
            if "provinces" in tables
            else ()
        ),
        f"<h2>{html.escape(label('sec_county', lang))}</h2>",
        img("county_coverage"),
        html_table(
            tables["counties"],
            table_id="counties",
            language=lang,
            share_cols=tuple(c for c in tables["counties"].columns if c.endswith(("share_before", "share_after"))),
        ),
        f"<h2>{html.escape(label('sec_batches', lang))}</h2>",
        html_table(
            tables["batches"],
            table_id="batches",
            language=lang,
            share_cols=("poor_broadband_share", "schools_outlet_share"),
        ),
        html_table(tables["interventions"], table_id="interventions", language=lang),
        f"<h2>{html.escape(label('sec_ledger', lang))}</h2>",
        html_table(tables["ledger"], table_id="ledger", language=lang),
        f"<h2>{html.escape(label('sec_notes', lang))}</h2><ul>",
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
