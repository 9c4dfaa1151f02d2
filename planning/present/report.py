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
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import PercentFormatter

from gis.project import Project
from gis.writers import write_csv, write_xlsx
from planning.plan.proposal import Proposal
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


def _chart_rc(language: Language) -> tuple[dict[str, Any], Language]:
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
    rc = {
        "font.family": families,  # concrete names: a figure drawn later, outside these settings, keeps them
        "axes.unicode_minus": False,
        "text.parse_math": False,  # a county called "$\\frac$" stays text
    }
    return rc, lang


def cost_curve_chart(curve: pd.DataFrame, *, language: Language, outlet_mbps: float = 100.0) -> Figure:
    """Shares served against cost (10k CNY) at each budget of the cost curve."""
    rc, lang = _chart_rc(language)
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(7, 4), dpi=110)
        ax = fig.subplots()
        x = curve["cost_cny"].to_numpy() / 1e4
        order = np.argsort(x)
        for col, key in (
            ("weight_share", "weight_share"),
            ("poor_broadband_share", "ind_poor_bb"),
            ("schools_outlet_share", "ind_school_outlet"),
        ):
            ax.plot(x[order], curve[col].to_numpy()[order], marker="o", label=label(key, lang, mbps=outlet_mbps))
        ax.axhline(0.98, color="grey", ls="--", lw=1)
        ax.set_xlabel(label("chart_curve_x", lang))
        ax.set_ylabel(label("chart_curve_y", lang))
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
    return fig


def county_chart(counties: pd.DataFrame, *, language: Language) -> Figure:
    """Poor villages with broadband before and after, per county (the region row only when it is the only one);
    every county is labelled with its own name."""
    rc, lang = _chart_rc(language)
    c = counties[counties["county"] != REGION]
    if not len(c):
        c = counties
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(max(5, 0.6 * len(c) + 2), 4), dpi=110)
        ax = fig.subplots()
        pos = np.arange(len(c))
        ax.bar(pos - 0.2, c["poor_broadband_share_before"], width=0.4, label=label("before", lang), color="#d7191c")
        ax.bar(pos + 0.2, c["poor_broadband_share_after"], width=0.4, label=label("after", lang), color="#1a9641")
        ax.axhline(0.98, color="grey", ls="--", lw=1)
        ax.set_xticks(pos, [str(x) for x in c["county"]], rotation=30, ha="right")
        ax.set_ylabel(label("chart_county_y", lang))
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.legend(fontsize=8)
        fig.tight_layout()
    return fig


def charts(tables: Mapping[str, pd.DataFrame], *, language: Language) -> dict[str, bytes]:
    """PNG charts: ``cost_curve`` (shares against cost) and ``county_coverage`` (poor broadband by county)."""
    out: dict[str, bytes] = {}
    curve = tables.get("cost_curve")
    if curve is not None and len(curve):
        out["cost_curve"] = _png(cost_curve_chart(curve, language=language))
    counties = tables.get("counties")
    if counties is not None and len(counties):
        out["county_coverage"] = _png(county_chart(counties, language=language))
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
            shown = (format_value(v, meta, language, flag_marks=False) for v in col)
            values[c] = [None if t == "–" else t for t in shown]
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
    ordered = {key: tables[key] for key in TABLES if tables.get(key) is not None}
    ordered.update({key: frame for key, frame in tables.items() if key not in ordered and frame is not None})
    files.append(write_workbook(ordered, out / "report.xlsx", language=project.language))
    for key, frame in ordered.items():
        files.append(write_csv(frame, out / f"report_{key}.csv"))
    return files
