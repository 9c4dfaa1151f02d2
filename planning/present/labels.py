"""Bilingual labels (zh, en) and colours of the folium map and the report.

Every text a planner reads on the map or in the report comes from :data:`LABELS`, so both languages stay
complete: :func:`label` raises on a key missing here rather than showing a raw key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Language = Literal["zh", "en"]

LABELS: dict[str, tuple[str, str]] = {
    # layers
    "admin": ("行政区划", "Admin areas"),
    "villages": ("村庄（按接入状态）", "Villages (by access)"),
    "schools": ("学校（按出口带宽）", "Schools (by outlet bandwidth)"),
    "sites": ("现有基站", "Existing sites"),
    "fibre": ("现有光缆", "Existing fibre"),
    "cov_4g": ("4G 覆盖（RSRP）", "4G coverage (RSRP)"),
    "cov_5g": ("5G 覆盖（SS-RSRP）", "5G coverage (SS-RSRP)"),
    "hillshade": ("地形晕渲（本地）", "Hillshade (local)"),
    "basemap_amap": ("高德地图", "AMap"),
    "basemap_tianditu": ("天地图", "Tianditu"),
    "basemap_osm": ("OpenStreetMap", "OpenStreetMap"),
    "batch": ("第 {n} 批", "Batch {n}"),
    "proposal": ("建设方案", "Proposal"),
    "route": ("新建光缆路由", "New fibre route"),
    # village status
    "bb_fibre": ("光纤宽带", "Fibre broadband"),
    "bb_5g": ("5G", "5G"),
    "bb_4g": ("4G", "4G"),
    "bb_none": ("未通宽带", "No broadband"),
    "bb_unknown": ("未知", "Unknown"),
    "poor": ("建档立卡贫困村（黑圈）", "Registered poor village (black ring)"),
    # schools
    "primary": ("小学", "Primary school"),
    "secondary": ("中学", "Secondary school"),
    "teaching_point": ("教学点", "Teaching point"),
    "outlet_ok": ("出口带宽达标", "Outlet at target"),
    "outlet_low": ("出口带宽不达标", "Outlet below target"),
    "not_connected": ("未接入", "Not connected"),
    # interventions
    "new_site": ("新建基站", "New site"),
    "upgrade_5g": ("5G 升级", "5G upgrade"),
    "share": ("共享铁塔（4G）", "Shared tower (4G)"),
    "share_5g": ("共享铁塔（5G）", "Shared tower (5G)"),
    "satellite_link": ("卫星接入", "Satellite connection"),
    "fibre_ext": ("光纤延伸", "Fibre extension"),
    "fibre_backhaul": ("光纤回传", "fibre backhaul"),
    "microwave": ("微波回传", "microwave backhaul"),
    "satellite": ("卫星回传", "satellite backhaul"),
    "existing": ("原有回传", "existing backhaul"),
    # popup facts
    "id": ("编号", "ID"),
    "name": ("名称", "Name"),
    "county": ("区县", "County"),
    "population": ("人口", "Population"),
    "status": ("接入状态", "Access"),
    "is_poor": ("贫困村", "Registered poor"),
    "lacks": ("缺口", "Lacks"),
    "kind": ("类型", "Kind"),
    "students": ("学生数", "Students"),
    "access": ("接入方式", "Access"),
    "outlet_mbps": ("出口带宽（Mbps）", "Outlet (Mbps)"),
    "tech": ("制式", "Technology"),
    "band_mhz": ("频段（MHz）", "Band (MHz)"),
    "height_m": ("天线高度（米）", "Height (m)"),
    "operator": ("运营商", "Operator"),
    "cost_cny": ("投资（元）", "Cost (CNY)"),
    "batch_no": ("批次", "Batch"),
    "serves": ("服务对象", "Serves"),
    "backhaul": ("回传", "Backhaul"),
    "length_km": ("长度（公里）", "Length (km)"),
    "route_id": ("编号", "Route"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # map furniture
    "legend": ("图例", "Legend"),
    "search": ("搜索名称或编号…", "Search name or ID…"),
    "no_match": ("无匹配", "No match"),
    "rsrp_good": ("≥ -90 dBm", "≥ -90 dBm"),
    "rsrp_mid": ("-100 ~ -90 dBm", "-100 to -90 dBm"),
    "rsrp_edge": ("门限 ~ -100 dBm", "threshold to -100 dBm"),
    # report
    "report_title": ("电信普遍服务试点建设方案", "Universal telecom service pilot proposal"),
    "generated": ("生成日期", "Generated"),
    "mode_target": (
        "目标模式：以最低投资使每个区县达到各项指标目标",
        "Target mode: lowest cost that reaches every KPI target in every county",
    ),
    "mode_budget": (
        "预算模式：预算内依次优先解决未联网学校、贫困村，再解决其余需求",
        "Budget mode: within the budget, unconnected schools first, then poor villages, then the rest",
    ),
    "sec_region": ("一、全区目标完成情况（方案前后）", "1. Region against the targets, before and after the plan"),
    "sec_curve": ("二、投资与覆盖关系", "2. Cost vs coverage"),
    "sec_provinces": ("分省汇总（全国）", "By province (national summary)"),
    "sec_county": ("三、分区县情况", "3. By county"),
    "sec_batches": ("四、分批建设内容与投资", "4. Interventions by batch, with costs"),
    "sec_ledger": (
        "五、台账（每点的方案措施、批次与年份；方案后仍未解决者在前）",
        "5. Ledger: each row's remedy, batch and year; what stays unserved after the plan first",
    ),
    "sec_notes": ("说明", "Notes"),
    "sec_lots": ("标段划分（地理集中、投资相近）", "Tender lots (compact, of similar cost)"),
    "sec_short": ("未达标指标（方案实施后）", "KPI targets still short after the plan"),
    "sec_ledger_changes": ("台账变更（本次运行）", "Ledger changes written by this run"),
    "sec_verify": ("待核实清单（上报与模型不一致）", "To verify in the field (report and model disagree)"),
    "note_verify": (
        "上报状态优先于模型预测；下列村庄和学校的上报与模型不一致或缺少上报，请实地核实。",
        "Reported status wins over the model's prediction; these villages and schools have a report the "
        "model disagrees with, or no report: check them in the field.",
    ),
    "note_evidence": (
        "指标按证据优先级统计：验收实测 > 上报 > 模型预测；学校联网率与出口带宽按已开通线路统计。",
        "KPIs count the evidence in order: measured at acceptance > reported > predicted by the "
        "models; schools count as connected and at the outlet target by their subscribed line.",
    ),
    "n": ("统计数", "Counted"),
    "counties_short": ("未达标区县数", "Counties short"),
    "budget_left": (
        "预算内未能解决：未联网学校 {schools} 所（其中 {schools_dead} 所无可行方案），贫困村需求 {poor} 项；"
        "剩余预算 {money:,} 元。",
        "Left unserved within the budget: {schools} unconnected school(s) ({schools_dead} with no "
        "feasible remedy), {poor} poor-village need(s); {money:,} CNY of the budget unspent.",
    ),
    "class_schools": ("未联网学校解决率", "Unconnected schools served"),
    "class_poor": ("贫困村需求解决率", "Poor-village needs served"),
    "ind_village_5g": ("行政村 5G 通达率", "Administrative villages with 5G"),
    "ind_tp_conn": ("教学点联网率", "Teaching points connected"),
    "indicator": ("指标", "Indicator"),
    "target": ("目标", "Target"),
    "before": ("方案前", "Before"),
    "after": ("方案后", "After"),
    "met": ("是否达标", "Met"),
    "ind_poor_bb": ("贫困村宽带通达率", "Poor villages with broadband"),
    "ind_poor_4g": ("贫困村 4G 覆盖率", "Poor villages with 4G"),
    "ind_school_conn": ("学校（含教学点）联网率", "Schools (incl. teaching points) connected"),
    "ind_school_outlet": ("学校出口带宽达标率（≥{mbps:g} Mbps）", "Schools with outlet >= {mbps:g} Mbps"),
    "ind_villages_bb": ("通宽带行政村数", "Villages with broadband"),
    "total_cost": ("总投资（元）", "Total cost (CNY)"),
    "budget": ("预算（元）", "Budget (CNY)"),
    "weight_share": ("加权需求满足率", "Weighted demand served"),
    "cum_cost": ("累计投资（元）", "Cumulative cost (CNY)"),
    "n_interventions": ("项目数", "Interventions"),
    "shortfall": ("缺口数", "Shortfall"),
    "remaining": ("仍未解决", "Remaining"),
    "closed": ("方案解决", "Closed by the plan"),
    "remedy": ("建议措施", "Remedy"),
    "layer": ("类别", "Layer"),
    "village": ("村庄", "Village"),
    "school": ("学校", "School"),
    "chart_curve_x": ("投资（万元）", "Cost (10k CNY)"),
    "chart_curve_y": ("比例", "Share"),
    "chart_county_y": ("贫困村宽带通达率", "Poor villages with broadband"),
    "none_left": ("无", "None"),
    "note_fibre": (
        "光缆投资按共享管道计算：同一路段只计一次（Steiner 树），分摊到所服务的各点。",
        "Fibre is costed with shared trenches: each road segment is built and paid once (a Steiner tree) "
        "and its cost is shared among the points it serves.",
    ),
    "note_curve": (
        "投资-覆盖曲线的每一点都是一次完整的预算模式求解（含光缆共享管道重新定价），与以该预算单独运行的结果相同。",
        "Each point of the cost curve is a full budget-mode run (fibre trenches re-priced as in the plan): the "
        "same answer as a run with that budget.",
    ),
    "note_gap": ("求解状态：{status}，最优性差距 {gap}。", "Solver status: {status}, optimality gap {gap}."),
}

#: Village broadband status colours (fill).
STATUS_COLOURS = {"fibre": "#1a9641", "5g": "#2b83ba", "4g": "#abd9e9", "none": "#d7191c", "unknown": "#9e9e9e"}
#: School outlet classes (ring colour).
OUTLET_COLOURS = {"outlet_ok": "#1a9641", "outlet_low": "#fdae61", "not_connected": "#d7191c"}
#: Proposed interventions.
INTERVENTION_COLOURS = {
    "new_site": "#7b3294",
    "upgrade_5g": "#c2a5cf",
    "share": "#5e3c99",
    "share_5g": "#b2abd2",
    "fibre": "#e66101",
    "satellite": "#4d4d4d",
}
SITE_COLOURS = {"4g": "#404040", "5g": "#0571b0"}
FIBRE_COLOUR = "#f4a582"
ROUTE_COLOUR = "#e66101"
#: RSRP classes of the coverage overlay: (lower bound dBm or None for the threshold, RGBA).
RSRP_CLASSES = ((-90.0, (26, 150, 65, 150)), (-100.0, (166, 217, 106, 140)), (None, (255, 255, 191, 130)))


def label(key: str, language: Language, **fmt: object) -> str:
    """The text of ``key`` in ``language`` (``zh`` or ``en``), formatted with ``fmt``."""
    try:
        zh, en = LABELS[key]
    except KeyError:
        msg = f"no map label `{key}`; expected one of {sorted(LABELS)}"
        raise KeyError(msg) from None
    text = zh if language == "zh" else en
    return text.format(**fmt) if fmt else text


def point_names(villages: Any, schools: Any) -> dict[str, str]:
    """Name of every village and school by its ``layer:id`` label (as demands and ``serves`` name them)."""
    out = {f"villages:{i}": str(n) for i, n in zip(villages["village_id"], villages["name"], strict=True)}
    out.update({f"schools:{i}": str(n) for i, n in zip(schools["school_id"], schools["name"], strict=True)})
    return out


def served_text(serves: str, names: Mapping[str, str], *, limit: int | None = None, sep: str = "; ") -> str:
    """``name (id)`` of each ``layer:id`` in a ``;``-joined ``serves`` value, at most ``limit`` then ``… +k``."""
    items = [x for x in str(serves).split(";") if x]
    shown = items if limit is None else items[:limit]
    text = sep.join(f"{names.get(x, x)} ({x.split(':', 1)[-1]})" for x in shown)
    return text + (f" … +{len(items) - len(shown)}" if len(items) > len(shown) else "")
