"""Bilingual labels (zh, en), column metadata, code names and colours of the map, the report and the workbook.

Every text a planner reads on the map or in the report comes from here, so both languages stay complete:

* :data:`LABELS` and :func:`label`: layer names, legend, popup facts, report headings (a missing key raises
  rather than showing a raw key);
* :data:`COLUMNS` and :func:`column_meta`: one table of column metadata (heading in Chinese and English, kind:
  ``share``, ``cny``, ``km``, ``m``, ``count``, ``number``, ``flag``, ``code``, ``text``) used by ``report.html``,
  ``report.xlsx`` (headings, number formats, widths) and the map's popups. A column it does not know is still
  shown: its heading is its name and its kind follows the unit in the name (``_share``, ``_cny``, ``_km``,
  ``_m``, ``n_``) or its dtype;
* :data:`CODES` and :func:`code_text`: the planner's words for the codes in the data (``new_site`` 新建基站,
  ``broadband;4g`` 宽带、4G, ``microwave`` 微波回传 ...); an unknown code is shown as it is;
* :func:`verify_text`: the verification list's notes, one a line, in Chinese where they are the evidence
  module's own (a note it does not know is shown as it is).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from gis.project import Language

ColumnKind = Literal["share", "cny", "km", "m", "count", "year", "number", "flag", "code", "text"]

LABELS: dict[str, tuple[str, str]] = {
    # layers
    "admin": ("行政区划", "Admin areas"),
    "villages": ("村庄（按接入状态）", "Villages (by access)"),
    "schools": ("学校（按出口带宽）", "Schools (by outlet bandwidth)"),
    "sites": ("现有基站", "Existing sites"),
    "fibre": ("现有光缆", "Existing fibre"),
    "roads": ("道路", "Roads"),
    "network_roads": ("现有网络与道路", "Existing network and roads"),
    "road_class": ("道路等级", "Road class"),
    "road_surface": ("路面", "Surface"),
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
    "meets_outlet": ("出口带宽计入达标", "Outlet counts at target"),
    "not_counted": ("否（该接入方式按政策不计入）", "no (this access does not count by policy)"),
    "reported_access": ("上报接入", "Reported access"),
    "predicted_access": ("模型预测接入", "Predicted access"),
    "measured_mbps": ("验收实测（Mbps）", "Measured at acceptance (Mbps)"),
    "evidence": ("依据", "Evidence"),
    # verification
    "verify": ("待核实", "To verify"),
    "verify_row": ("上报与模型不一致或缺少上报", "Report and model disagree, or no report"),
    "what": ("需核实内容", "To check"),
    # interventions
    "new_site": ("新建基站", "New site"),
    "upgrade_5g": ("5G 升级", "5G upgrade"),
    "share": ("共享铁塔（4G）", "Shared tower (4G)"),
    "share_5g": ("共享铁塔（5G）", "Shared tower (5G)"),
    "satellite_link": ("卫星接入", "Satellite connection"),
    "fibre_ext": ("光纤延伸", "Fibre extension"),
    "line_upgrade": ("线路提速", "Faster line tier"),
    "fibre_backhaul": ("光纤回传", "fibre backhaul"),
    "microwave": ("微波回传", "microwave backhaul"),
    "satellite": ("卫星回传", "satellite backhaul"),
    "existing": ("原有回传", "existing backhaul"),
    "backhaul_layer": ("微波回传链路与中继", "Microwave hops and relays"),
    "relay": ("中继站", "Relay"),
    "hop": ("微波链路", "Microwave hop"),
    "band_ghz": ("频段（GHz）", "Band (GHz)"),
    "clearance_f1": ("余隙（F1，k=4/3）", "Clearance (F1, k=4/3)"),
    "availability_pct": ("年可用度（%）", "Yearly availability (%)"),
    "dish_m": ("天线口径（米）", "Dish (m)"),
    "capacity_mbps": ("容量（Mbps）", "Capacity (Mbps)"),
    "lonlat": ("经度, 纬度", "Lon, lat"),
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
    "sec_application": ("试点申报汇总（分区县）", "Pilot application summary by county"),
    "note_application": (
        "投资为建设投资（光缆按共享管道分摊），运维费为每年运行费用（铁塔租金、电费、维护、频率占用费、卫星服务费、学校线路费），"
        "全生命周期费用为折现值；中央补助按批次补助比例计算，其余为企业自筹。",
        "Capex is the investment (fibre at its share of the shared trenches); opex the yearly running cost (tower "
        "lease, power, maintenance, frequency fees, satellite service, school lines); lifecycle the present value; "
        "the central subsidy at each batch's rate, the rest the operator's own funds.",
    ),
    "sec_townships": ("试点申报明细（分乡镇）", "Pilot application by township"),
    "sec_lots": ("标段划分（地理集中、投资相近）", "Tender lots (compact, of similar cost)"),
    "sec_short": ("未达标指标（方案实施后）", "KPI targets still short after the plan"),
    "sec_compliance": (
        "政策规则符合性（规则、本方案、是否满足、依据）",
        "Programme rules: rule, this plan, met, source",
    ),
    "sec_unserved": ("未解决需求及原因（投资最高者在前）", "Needs left unserved and why (costliest first)"),
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
    "ind_poor_fibre": ("贫困村通光纤率", "Poor villages with fibre"),
    "ind_village_fibre": ("行政村通光纤率", "Administrative villages with fibre"),
    "ind_village_4g": ("行政村 4G 覆盖率（按项目规则）", "Administrative villages with 4G (programme rule)"),
    "indicator": ("指标", "Indicator"),
    "target": ("目标", "Target"),
    "before": ("方案前", "Before"),
    "after": ("方案后", "After"),
    "people_before": ("按人口加权（前）", "Weighted by people, before"),
    "people_after": ("按人口加权（后）", "Weighted by people, after"),
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
    "nothing_to_plan": (
        "无需建设：没有缺少宽带、4G/5G、联网或出口带宽的村庄和学校，本方案为空（0 项，0 元），各项指标为现状。",
        "Nothing to plan: no village or school lacks broadband, 4G/5G, a connection or its outlet; the plan is empty "
        "(0 interventions, 0 CNY) and the KPIs are as they stand.",
    ),
    "note_fibre": (
        "光缆投资按共享管道计算：同一路段只计一次（Steiner 树），分摊到所服务的各点。",
        "Fibre is costed with shared trenches: each road segment is built and paid once (a Steiner tree) "
        "and its cost is shared among the points it serves.",
    ),
    "note_curve": (
        "投资-覆盖曲线的每一点都是一次完整的预算模式求解（含光缆共享管道重新定价），按优先级（未联网学校、贫困村、其余需求）"
        "依次求最优，并由较小预算的方案起算：预算增加时，较高优先级的解决数不会减少；最低一级（其余需求）及其中的指标"
        "（如学校出口带宽达标率）可能因资金让位于较高优先级而下降。",
        "Each point of the cost curve is a full budget-mode run (fibre trenches re-priced as in the plan), solved "
        "class by class in priority order (unconnected schools, poor villages, the rest) and started from the "
        "smaller budget's plan: more budget never serves fewer needs of a higher class; the lowest class (the rest) "
        "and the KPIs within it (e.g. the schools' outlet share) can fall where money moves to a higher class.",
    ),
    "note_gap": ("求解状态：{status}，最优性差距 {gap}。", "Solver status: {status}, optimality gap {gap}."),
    "tiles_failed": (
        "在线底图无法加载（无网络或内网），已切换为本地地形晕渲底图。",
        "Online tiles cannot be loaded (no network or an intranet): showing the local hillshade background.",
    ),
    "layers_button": ("图层", "Layers"),
    "region_row": ("全区合计", "Region total"),
    "cannot_plan_no_is_poor": (
        "村庄图层没有“是否贫困村”(is_poor)：贫困村各项指标没有基数，目标模式不会为村庄安排建设。请用 "
        "`coverplan import register` 导入建档立卡贫困村名单，或用 --budget-cny 按预算规划。",
        "The villages have no `is_poor` (the 建档立卡 register): the poor-village KPIs have no base and target mode "
        "plans nothing for villages. Join the register with `coverplan import register`, or plan a budget with "
        "--budget-cny.",
    ),
    "cannot_plan_no_fibre": (
        "项目没有光缆图层（fibre / fibre_nodes）：无法规划光缆延伸，需要光纤的村庄和学校均为“无法覆盖”。请向运营商"
        "索取光缆路由和节点。",
        "The project has no fibre layer (fibre / fibre_nodes): no fibre extension can be planned and every fibre "
        "need is 'not coverable'. Ask the operator for its fibre routes and nodes.",
    ),
}

#: Sheet names of the report workbook (Excel allows 31 characters); a table not listed keeps its key.
TABLE_TITLES: dict[str, tuple[str, str]] = {
    "nothing_to_plan": ("无需建设", "Nothing to plan"),
    "region": ("全区指标", "Region"),
    "provinces": ("分省汇总", "Provinces"),
    "counties": ("分区县", "Counties"),
    "batches": ("分批建设", "Batches"),
    "short": ("未达标指标", "KPIs short"),
    "compliance": ("政策规则符合性", "Programme rules"),
    "unserved": ("未解决需求及原因", "Needs left unserved"),
    "interventions": ("建设项目", "Interventions"),
    "lots": ("标段", "Tender lots"),
    "work_lots": ("分专业标段", "Lots by work type"),
    "roles": ("申报主体", "Applicant and roles"),
    "operators": ("承建企业与中国铁塔", "Operators and China Tower"),
    "tasks": ("任务清单", "Task list"),
    "performance": ("区域绩效目标表", "Regional performance targets"),
    "application": ("试点申报汇总", "Application summary"),
    "townships": ("分乡镇明细", "By township"),
    "ledger": ("台账", "Ledger"),
    "ledger_changes": ("台账变更", "Ledger changes"),
    "verification": ("待核实清单", "To verify"),
    "cost_curve": ("投资与覆盖", "Cost vs coverage"),
}


@dataclass(frozen=True)
class ColumnMeta:
    """How a planner reads one column: its heading in Chinese and English, its kind, and for ``code`` columns the
    code list (:data:`CODES`; default: the column's name) that names its values; ``decimals`` overrides the
    kind's decimals."""

    zh: str
    en: str
    kind: ColumnKind = "text"
    codes: str | None = None
    decimals: int | None = None

    def heading(self, language: Language) -> str:
        """The heading in ``language``."""
        return self.zh if language == "zh" else self.en


def _c(
    zh: str, en: str, kind: ColumnKind = "text", codes: str | None = None, decimals: int | None = None
) -> ColumnMeta:
    return ColumnMeta(zh, en, kind, codes, decimals)


#: Column metadata of every table a planner reads (report, workbook, popups). A key ``table.column`` overrides
#: ``column`` for that table only.
#: The KPIs' names (planning.status.kpi.KPIS), for their columns' headings.
_KPI_NAMES = (
    ("poor_broadband", "贫困村宽带通达率", "Poor villages with broadband"),
    ("poor_4g", "贫困村4G覆盖率", "Poor villages with 4G"),
    ("village_5g", "行政村5G通达率", "Villages with 5G"),
    ("school_connected", "学校联网率", "Schools connected"),
    ("school_outlet", "学校出口带宽达标率", "Schools at the outlet target"),
    ("tp_connected", "教学点联网率", "Teaching points connected"),
    ("poor_fibre", "贫困村通光纤率", "Poor villages with fibre"),
    ("village_fibre", "行政村通光纤率", "Villages with fibre"),
    ("village_4g", "行政村4G覆盖率", "Villages with 4G"),
)
COLUMNS: dict[str, ColumnMeta] = {
    # region
    "indicator": _c("指标", "Indicator"),
    "target": _c("目标", "Target", "share"),
    "before": _c("方案前", "Before", "share"),
    "after": _c("方案后", "After", "share"),
    "people_before": _c("按人口加权（前）", "Weighted by people, before", "share"),
    "people_after": _c("按人口加权（后）", "Weighted by people, after", "share"),
    "met": _c("是否达标", "Met", "flag"),
    # counties and provinces
    "province": _c("省份", "Province"),
    "county": _c("区县", "County"),
    "villages": _c("村庄数", "Villages", "count"),
    "poor_villages": _c("贫困村数", "Poor villages", "count"),
    "schools": _c("学校数", "Schools", "count"),
    "demands": _c("需求点数", "Demands", "count"),
    "demands_served": _c("已满足需求点数", "Demands served", "count"),
    "poor_broadband_share": _c("贫困村宽带通达率", "Poor villages with broadband", "share"),
    "poor_broadband_share_before": _c("贫困村宽带通达率（前）", "Poor villages with broadband, before", "share"),
    "poor_broadband_share_after": _c("贫困村宽带通达率（后）", "Poor villages with broadband, after", "share"),
    "poor_broadband_shortfall_before": _c("贫困村缺口（前）", "Poor villages short, before", "count"),
    "poor_broadband_shortfall_after": _c("贫困村缺口（后）", "Poor villages short, after", "count"),
    "schools_outlet_share": _c("学校出口带宽达标率", "Schools at outlet target", "share"),
    "schools_outlet_share_before": _c("学校带宽达标率（前）", "Schools at outlet target, before", "share"),
    "schools_outlet_share_after": _c("学校带宽达标率（后）", "Schools at outlet target, after", "share"),
    "schools_outlet_shortfall_before": _c("学校缺口（前）", "Schools short, before", "count"),
    "schools_outlet_shortfall_after": _c("学校缺口（后）", "Schools short, after", "count"),
    "meets_all_before": _c("全部达标（前）", "All targets met, before", "flag"),
    "meets_all_after": _c("全部达标（后）", "All targets met, after", "flag"),
    # batches
    "batch": _c("批次", "Batch", "count"),
    "cost_cny": _c("投资（元）", "Cost (CNY)", "cny"),
    "cumulative_cost_cny": _c("累计投资（元）", "Cumulative cost (CNY)", "cny"),
    "interventions": _c("项目数", "Interventions", "count"),
    "villages_with_broadband": _c("通宽带村数", "Villages with broadband", "count"),
    # interventions
    "candidate_id": _c("项目编号", "Intervention ID"),
    "kind": _c("类型", "Kind", "code"),
    "backhaul": _c("回传", "Backhaul", "code"),
    "n_served": _c("服务点数", "Points served", "count"),
    "serves": _c("服务对象", "Serves"),
    "weight_served": _c("服务加权需求", "Weighted demand served", "number"),
    # ledger
    "id": _c("编号", "ID"),
    "layer": _c("类别", "Layer", "code"),
    "name": _c("名称", "Name"),
    "lacks": _c("缺口", "Lacks", "code"),
    "access": _c("接入方式", "Access", "code"),
    "remedy": _c("建议措施", "Remedy", "code"),
    "remedy_cost_cny": _c("估算投资（元）", "Estimated cost (CNY)", "cny"),
    "closed_in_batch": _c("解决批次", "Closed in batch", "count"),
    "connected_batch": _c("联网批次", "Connected in batch", "count"),
    "connected_year": _c("联网年度", "Connected in year", "year"),
    "outlet_batch": _c("出口带宽达标批次", "Outlet at target in batch", "count"),
    "remaining": _c("仍未解决", "Remaining", "flag"),
    "status": _c("状态", "Status", "code"),
    "status_date": _c("状态日期", "Status date"),
    "note": _c("备注", "Note"),
    # cost curve
    "budget_cny": _c("预算（元）", "Budget (CNY)", "cny"),
    "weight_share": _c("加权需求满足率", "Weighted demand served", "share"),
    "gap": _c("最优性差距", "Optimality gap", "share", decimals=2),
    "cost_curve.status": _c("求解状态", "Solver status", "code"),
    # popups and other outputs
    "population": _c("人口", "Population", "count"),
    "students": _c("学生数", "Students", "count"),
    "operator": _c("运营商", "Operator", "code"),
    "tech": _c("制式", "Technology", "code"),
    "length_km": _c("长度（公里）", "Length (km)", "km"),
    "length_m": _c("长度（米）", "Length (m)", "m"),
    "fibre_distance_m": _c("新建光缆距离（米）", "New fibre to build (m)", "m"),
    "outlet_mbps": _c("出口带宽（Mbps）", "Outlet (Mbps)", "number"),
    # KPIs, evidence, plan (issue 18)
    "n": _c("统计数", "Counted", "count"),
    "counties_short": _c("未达标区县数", "Counties short", "count"),
    "teaching_points": _c("教学点数", "Teaching points", "count"),
    "year": _c("年度", "Year", "year"),
    "remedy_id": _c("措施编号", "Intervention IDs"),
    "evidence": _c("依据", "Evidence", "code"),
    "what": _c("需核实内容", "To check", "code", codes="verify"),
    "kpi": _c("指标", "KPI", "code"),
    "have": _c("已达", "Have", "count"),
    "shortfall": _c("缺口", "Shortfall", "count"),
    "not_coverable": _c("无可行方案数", "With no remedy", "count"),
    "other_programme": _c("由其他项目解决数", "Left to another programme", "count"),
    "field": _c("字段", "Field", "code"),
    "old": _c("原值", "Old"),
    "new": _c("新值", "New"),
    "rows": _c("行数", "Rows", "count"),
    "lot": _c("标段", "Lot", "count"),
    "extent_km": _c("范围（公里）", "Extent (km)", "km"),
    "counties": _c("区县", "Counties"),
    "allocated_cost_cny": _c("分摊投资（元）", "Allocated cost (CNY)", "cny"),
    "committed_cny": _c("台账已承诺投资（元）", "Committed in the ledger (CNY)", "cny"),
    "over_budget": _c("超出年度预算", "Over the yearly budget", "flag"),
    "unconnected_schools_share": _c("未联网学校解决率", "Unconnected schools served", "share"),
    "village_names": _c("行政村名单", "Villages"),
    "township": _c("乡镇代码", "Township code"),
    "plan_detail": _c("各项缺口的解决年度与措施", "Year and intervention of each need"),
    "funding": _c("资金来源（元）", "Funding (CNY)"),
    "school_names": _c("学校名单", "Schools"),
    "cable_km": _c("新建光缆皮长（公里）", "New cable (km)", "km"),
    "aerial_km": _c("其中架空（公里）", "Aerial (km)", "km"),
    "buried_km": _c("其中管道/直埋（公里）", "Buried (km)", "km"),
    "fibre_extensions": _c("光纤延伸（处）", "Fibre extensions", "count"),
    "new_site_count": _c("新建基站（个）", "New sites", "count"),
    "upgrade_5g_count": _c("5G 升级（个）", "5G upgrades", "count"),
    "share_count": _c("共享铁塔 4G（个）", "Shared towers (4G)", "count"),
    "share_5g_count": _c("共享铁塔 5G（个）", "Shared towers (5G)", "count"),
    "satellite_count": _c("卫星接入（所）", "Satellite connections", "count"),
    "line_upgrade_count": _c("线路提速（所）", "Faster line tiers", "count"),
    "capex_cny": _c("建设投资（元）", "Capex (CNY)", "cny"),
    "opex_cny_per_year": _c("年运维费（元/年）", "Opex (CNY/year)", "cny"),
    "lifecycle_cny": _c("全生命周期费用（建成年现值，元）", "Lifecycle cost (PV at its build year, CNY)", "cny"),
    "lifecycle_base_pv_cny": _c("全生命周期费用（基准年现值，元）", "Lifecycle cost (PV at the base year, CNY)", "cny"),
    # the application package (planning/present/application.py)
    "role": _c("角色", "Role"),
    "party": _c("单位", "Party"),
    "tasks": _c("任务数", "Tasks", "number"),
    "tasks_share": _c("任务占比", "Share of tasks", "share"),
    "capex_share": _c("投资占比", "Share of capex", "share"),
    "tower_lease_cny_per_year": _c("铁塔租费（元/年）", "Tower lease (CNY/year)", "cny"),
    "shared_towers": _c("共享既有铁塔（个）", "Shares of existing towers", "count"),
    "township_code": _c("乡镇代码", "Township code"),
    "tasks.township": _c("乡镇", "Township"),
    "unit_name": _c("行政村/学校", "Village or school"),
    "category": _c("类别", "Category"),
    "task": _c("建设任务", "Task"),
    "builder": _c("承建企业", "Builder", "code", codes="operator"),
    "ran_partner": _c("共建共享方", "RAN-sharing partner", "code", codes="operator"),
    "allocation_rule": _c("分配依据", "Allocation rule", "code"),
    "amount_cny": _c("投资金额（元）", "Amount (CNY)", "cny"),
    "subsidy_cny": _c("中央补助（元）", "Central subsidy (CNY)", "cny"),
    "performance.kpi": _c("指标代码", "KPI key"),
    "baseline": _c("基期值", "Baseline", "share"),
    "planned": _c("方案完成值", "Planned", "share"),
    "deadline_year": _c("完成时限（年）", "Deadline (year)", "year"),
    "year_reached": _c("方案达到年度", "Year reached", "year"),
    "deadline_source": _c("时限依据", "Deadline source"),
    "lot_id": _c("标段", "Lot"),
    "work_type": _c("专业", "Work type", "code"),
    "items": _c("项目数", "Items", "count"),
    "work_lots": _c("所属分专业标段", "Lots by work type"),
    "central_cny": _c("中央补助（元）", "Central subsidy (CNY)", "cny"),
    "local_cny": _c("地方配套（元）", "Local funds (CNY)", "cny"),
    "operator_cny": _c("企业自筹（元）", "Operator funds (CNY)", "cny"),
    "civil_cny": _c("其中土建（元）", "Civil works (CNY)", "cny"),
    "poor_villages_share": _c("贫困村需求解决率", "Poor-village needs served", "share"),
    "rest_share": _c("其余需求解决率", "Other needs served", "share"),
    # programme rules (docs/programme.md)
    "rule": _c("规则", "Rule"),
    "value": _c("本方案", "This plan"),
    "citation": _c("依据（文件、条款）", "Source (document, section)"),
    "unit": _c("对象", "Village or school"),
    "need": _c("需求", "Need", "code"),
    "is_poor": _c("贫困村", "Registered poor", "flag"),
    "why": _c("未解决原因", "Why not served", "code"),
    "cheapest_cny": _c("最低可行投资（元）", "Cheapest remedy (CNY)", "cny"),
    "ledger_changes.old": _c("原状态", "From", "code", codes="status"),
    "ledger_changes.new": _c("新状态", "To", "code", codes="status"),
    **{
        f"{k}_{x}": _c(f"{zh}（{wz}）", f"{en}, {we}", "share")
        for k, zh, en in _KPI_NAMES
        for x, wz, we in (("before", "前", "before"), ("after", "后", "after"))
    },
    **{f"{k}_share": _c(zh, en, "share") for k, zh, en in _KPI_NAMES},
    **{f"{k}_shortfall_after": _c(f"{zh}缺口（后）", f"{en}: short after", "count") for k, zh, en in _KPI_NAMES},
}

#: The planner's words for the codes of each code list (a ``;``-joined value names several codes).
CODES: dict[str, dict[str, tuple[str, str]]] = {
    "kind": {
        "fibre": ("光纤延伸", "Fibre extension"),
        "new_site": ("新建基站", "New site"),
        "upgrade_5g": ("5G 升级", "5G upgrade"),
        "share": ("共享铁塔（4G）", "Shared tower (4G)"),
        "share_5g": ("共享铁塔（5G）", "Shared tower (5G)"),
        "satellite": ("卫星接入", "Satellite connection"),
        "line_upgrade": ("线路提速", "Faster line tier"),
        "village": ("行政村", "Village"),
        "poor_village": ("贫困村", "Poor village"),
        "primary": ("小学", "Primary school"),
        "secondary": ("中学", "Secondary school"),
        "teaching_point": ("教学点", "Teaching point"),
        "backbone": ("干线光缆", "Backbone"),
        "distribution": ("配线光缆", "Distribution"),
        "upgrade": ("升级", "Upgrade"),
    },
    "backhaul": {
        "fibre": ("光纤回传", "Fibre backhaul"),
        "microwave": ("微波回传", "Microwave backhaul"),
        "satellite": ("卫星回传", "Satellite backhaul"),
        "existing": ("原有回传", "Existing backhaul"),
    },
    "access": {
        "fibre": ("光纤", "Fibre"),
        "4g": ("4G", "4G"),
        "5g": ("5G", "5G"),
        "satellite": ("卫星", "Satellite"),
        "none": ("无", "None"),
        "unknown": ("未知", "Unknown"),
    },
    "lacks": {
        "broadband": ("宽带", "Broadband"),
        "4g": ("4G", "4G"),
        "5g": ("5G", "5G"),
        "connection": ("未联网", "Connection"),
        "outlet_target": ("出口带宽不达标", "Outlet below target"),
    },
    "need": {
        "connection": ("联网", "Connection"),
        "outlet": ("出口带宽达标", "Outlet target"),
        "broadband": ("宽带", "Broadband"),
        "4g": ("4G 覆盖", "4G coverage"),
        "5g": ("5G 覆盖", "5G coverage"),
    },
    "why": {
        "not coverable": ("无可行方案", "Not coverable"),
        "left out: target below 100 %": ("目标低于 100%，本方案未纳入", "Left out: target below 100 %"),
        "over budget": ("超出预算", "Over budget"),
        "no target": ("无考核目标", "No target"),
    },
    "remedy": {
        "fibre_extension": ("光纤延伸", "Fibre extension"),
        "fibre": ("光纤延伸", "Fibre extension"),
        "line_upgrade": ("线路提速", "Faster line tier"),
        "new_site": ("新建基站", "New site"),
        "upgrade_5g": ("5G 升级", "5G upgrade"),
        "share": ("共享铁塔（4G）", "Shared tower (4G)"),
        "share_5g": ("共享铁塔（5G）", "Shared tower (5G)"),
        "satellite": ("卫星接入", "Satellite connection"),
    },
    "evidence": {
        "measured": ("验收实测", "Measured"),
        "reported": ("上报", "Reported"),
        "predicted": ("模型预测", "Predicted"),
        "unknown": ("未知", "Unknown"),
    },
    "kpi": {k: (zh, en) for k, zh, en in _KPI_NAMES},
    "field": {
        "status": ("状态", "Status"),
        "remedy": ("措施", "Remedy"),
        "remedy_id": ("措施编号", "Intervention IDs"),
        "remedy_cost_cny": ("估算投资", "Estimated cost"),
        "batch": ("批次", "Batch"),
        "year": ("年度", "Year"),
        "funding": ("资金来源", "Funding"),
        "plan_detail": ("解决年度与措施", "Year and intervention per need"),
        "lacks": ("缺口", "Lacks"),
        "measured_mbps": ("实测带宽", "Measured Mbps"),
        "reason": ("核减原因", "Exclusion reason"),
    },
    "status": {
        "optimal": ("最优", "Optimal"),
        "feasible": ("可行（未证明最优）", "Feasible (not proven optimal)"),
        "infeasible": ("不可行", "Infeasible"),
        "unconnected": ("未通", "Unconnected"),
        "planned": ("已规划", "Planned"),
        "under_construction": ("在建", "Under construction"),
        "connected": ("已通", "Connected"),
        "verified": ("已核验", "Verified"),
        "completed": ("已竣工", "Completed"),
        "accepted": ("已验收", "Accepted"),
        "excluded": ("已核减", "Excluded"),
    },
    "layer": {"villages": ("村庄", "Village"), "schools": ("学校", "School")},
    "operator": {
        "CMCC": ("中国移动", "China Mobile"),
        "CUCC": ("中国联通", "China Unicom"),
        "CTCC": ("中国电信", "China Telecom"),
        "CBN": ("中国广电", "China Broadcasting Network"),
        "china_tower": ("中国铁塔", "China Tower"),
    },
    "work_type": {
        "fibre_lines": ("光缆线路", "Fibre lines"),
        "towers": ("铁塔", "Towers"),
        "ran_equipment": ("无线设备", "RAN equipment"),
        "microwave": ("微波", "Microwave"),
    },
    "allocation_rule": {
        "tower": ("所在铁塔/站址", "The tower's tenant or owner"),
        "county": ("项目指定（分区县）", "The county's operator (project)"),
        "presence": ("现有站址最多", "Most existing sites nearby"),
        "market_share": ("按市场份额", "By market share"),
    },
    "tech": {"4g": ("4G", "4G"), "5g": ("5G", "5G"), "fibre": ("光纤", "Fibre")},
}

#: Excel number format of each column kind (``decimals`` of a column override the share/number/km decimals).
EXCEL_FORMATS: dict[ColumnKind, str] = {
    "share": "0.0%",
    "cny": "#,##0",
    "km": "#,##0.0",
    "m": "#,##0",
    "count": "#,##0",
    "year": "0",
    "number": "#,##0.0",
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
    "line_upgrade": "#e66101",
}
SITE_COLOURS = {"4g": "#404040", "5g": "#0571b0"}
FIBRE_COLOUR = "#f4a582"
#: Microwave hops and relays of the proposal.
MICROWAVE_COLOUR = "#7b3294"
#: Roads on the map: a mid grey under the fibre, visible on the hillshade and on tiles.
ROAD_COLOUR = "#8c8c8c"
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


def column_meta(column: str, *, table: str | None = None, dtype: Any = None) -> ColumnMeta:
    """The metadata of ``column`` (``table.column`` first); for a column :data:`COLUMNS` does not know, its name
    as heading and a kind from the unit in its name (``_share``, ``_cny``, ``_km``, ``_m``, ``n_``), else from
    ``dtype`` (bool: flag, integer: count, float: number, else text)."""
    found = COLUMNS.get(f"{table}.{column}") if table else None
    found = found or COLUMNS.get(column)
    if found is not None:
        return replace(found, codes=column) if found.kind == "code" and found.codes is None else found
    return ColumnMeta(column, column, _guess_kind(column, dtype))


def known_column(column: str, *, table: str | None = None) -> bool:
    """Whether :data:`COLUMNS` has metadata for ``column`` (of ``table``)."""
    return column in COLUMNS or (table is not None and f"{table}.{column}" in COLUMNS)


def _guess_kind(column: str, dtype: Any) -> ColumnKind:
    name = column.lower()
    by_unit: tuple[tuple[tuple[str, ...], ColumnKind], ...] = (
        (("_share", "_share_before", "_share_after"), "share"),
        (("_cny",), "cny"),
        (("_km",), "km"),
        (("_m",), "m"),
    )
    for suffixes, kind in by_unit:
        if name.endswith(suffixes) or name == suffixes[0].lstrip("_"):
            return kind
    if name.startswith("n_"):
        return "count"
    kind_name = getattr(dtype, "kind", None)
    if kind_name == "b" or str(dtype) == "boolean":
        return "flag"
    if kind_name in ("i", "u") or str(dtype) in ("Int64", "Int32"):
        return "count"
    if kind_name == "f":
        return "number"
    return "text"


def code_text(value: Any, codes: str, language: Language) -> str:
    """The planner's words for a code (or several, ``;``-joined) of the code list ``codes``; unknown codes stay
    as they are, an empty value is empty."""
    if _missing(value):
        return ""
    if codes == "verify":
        return verify_text(value, language, sep="；" if language == "zh" else "; ")
    names = CODES.get(codes, {})
    parts = [p for p in str(value).split(";") if p]
    words = [names[p][0 if language == "zh" else 1] if p in names else p for p in parts]
    return ("、" if language == "zh" else ", ").join(words)


def _missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA (a list or array is not missing)."""
    if value is None:
        return True
    try:
        out = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(out) if isinstance(out, bool | np.bool_) else False


def format_value(value: Any, meta: ColumnMeta, language: Language, *, flag_marks: bool = True) -> str:
    """The text a planner reads for one value: shares as ``98.8%``, CNY as ``1,234,567``, km with one decimal,
    counts with thousands separators, codes translated, flags as ✓/✗ (or 是/否 with ``flag_marks=False``);
    an empty value as ``–``."""
    if _missing(value) or (isinstance(value, str) and not value and meta.kind != "text"):
        return "–"
    if meta.kind == "flag":
        yes = _truthy(value)
        if flag_marks:
            return "✓" if yes else "✗"
        return label("yes" if yes else "no", language)
    if meta.kind == "code":
        return code_text(value, meta.codes or "", language) if meta.codes else str(value)
    if isinstance(value, bool | np.bool_):
        return label("yes" if value else "no", language)
    number = _as_number(value)
    if number is None or meta.kind == "text":
        return str(value)
    return _format_number(number, meta)


def _format_number(number: float, meta: ColumnMeta) -> str:
    if not math.isfinite(number):
        return "–"
    if meta.kind == "share":
        return f"{number:.{1 if meta.decimals is None else meta.decimals}%}"
    if meta.kind in ("cny", "m", "count"):
        return f"{number:,.0f}"
    if meta.kind == "year":
        return f"{number:.0f}"
    if meta.kind == "number" and meta.decimals is None:
        return f"{number:,.0f}" if abs(number) >= 100 else f"{number:.4g}"
    return f"{number:,.{1 if meta.decimals is None else meta.decimals}f}"


def excel_format(meta: ColumnMeta) -> str | None:
    """The Excel number format of a column (None for text, codes and flags)."""
    base = EXCEL_FORMATS.get(meta.kind)
    if base is None or meta.decimals is None or meta.kind not in ("share", "number", "km"):
        return base
    zeros = "0" * meta.decimals
    point = f".{zeros}" if zeros else ""
    return f"0{point}%" if meta.kind == "share" else f"#,##0{point}"


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y", "是")
    return bool(value)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


#: The verification list's notes (``what`` of :func:`planning.status.evidence.verification_list`, in English) in
#: Chinese: a pattern of the note and its Chinese form (``{0}``: the first group, in Chinese words); the reason in
#: brackets after a note likewise. A note no pattern knows stays as it is.
_VERIFY_ZH: tuple[tuple[str, str], ...] = (
    (r"(fibre|4g|5g): reported (yes|no), model (yes|no)", "{0}：上报{1}，模型{2}"),
    (
        r"access: reported fibre, model finds no fibre within the drop distance",
        "接入方式：上报光纤，模型在引入距离内未找到光缆",
    ),
    (r"access: reported (4g|5g), model finds no (?:4g|5g) coverage", "接入方式：上报 {0}，模型预测无 {0} 覆盖"),
    (r"bandwidth_mbps: not reported", "带宽：未上报"),
    (r"access: not reported, status from the model only", "接入方式：未上报，状态仅来自模型预测"),
)
_VERIFY_WHY_ZH: tuple[tuple[str, str], ...] = (
    (r"fibre ([\d,.]+) m away along roads", "沿道路距光缆 {0} 米"),
    (r"([\d,.]+) m along roads", "沿道路 {0} 米"),
    (r"no fibre in its road network|none in its road network", "所在道路网无光缆"),
    (r"RSRP (-?[\d.]+) dBm", "RSRP {0} dBm"),
    (r"no site in range", "范围内无基站"),
    (r"outlet unknown, not counted at target", "出口带宽未知，不计入达标"),
)
_WORDS_ZH = {"yes": "有", "no": "无", "fibre": "光纤", "4g": "4G", "5g": "5G"}


def verify_text(what: Any, language: Language, *, sep: str = "\n") -> str:
    """A verification note (``what``: notes joined by ``;``) as a planner reads it, the notes joined by ``sep``
    (one a line by default; the report's tables use ``；``); in Chinese for ``zh`` where the note is one the
    evidence module writes (``fibre: reported no, model yes (fibre 120 m away along roads)`` -> ``光纤：上报无，
    模型有（沿道路距光缆 120 米）``), any other note as it is; an empty value is empty."""
    if _missing(what):
        return ""
    notes = [n.strip() for n in str(what).split(";") if n.strip()]
    return sep.join(_note_zh(n) if language == "zh" else n for n in notes)


def _zh(patterns: tuple[tuple[str, str], ...], text: str) -> str | None:
    for pattern, zh in patterns:
        if (match := re.fullmatch(pattern, text)) is not None:
            return zh.format(*(_WORDS_ZH.get(g, g) for g in match.groups()))
    return None


def _note_zh(note: str) -> str:
    head, why = re.fullmatch(r"(.*?)(?: \((.*)\))?", note).groups()  # type: ignore[union-attr]
    text = _zh(_VERIFY_ZH, head)
    if text is None:
        return note
    return text if why is None else f"{text}（{_zh(_VERIFY_WHY_ZH, why) or why}）"
