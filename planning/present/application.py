"""The tables of a pilot application (试点申报) in the programme's shape: who applies and who builds (申报主体),
the task list per batch (任务清单), the regional performance targets (区域绩效目标表), the operators' and China
Tower's parts, and the tender lots by work type.

* :func:`roles_table`: the applicant, the building enterprises and the tower owner as the chosen rule packs say
  (``[applicant]`` of each pack, with its citation); with no pack the 2018 pilot's organisation, said to be the
  default, with its source;
* :func:`task_list`: one row per intervention and village or school it serves (county, township name, village or
  school, category 未通村/升级村/4G无覆盖村, task, operator, amount, subsidy); an intervention's amount and subsidy
  are split equally among what it serves, so the rows add up to the plan's capex and central subsidy;
* :func:`performance_targets`: each KPI with a target: indicator, baseline, target, the plan's value, deadline
  (the pack's, else the year the plan reaches it) and the year reached;
* :func:`township_names`: township names by code, from the villages' ``township`` column, else
  ``[[application.township_names]]``; the code where no name is known.

Text from data goes into cells as text (the workbook writer never writes a formula).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gis.settings import Applicant, ApplicationSettings, Citation, Programme
from planning.present.labels import Language, code_text

__all__ = [
    "DEFAULT_APPLICANT",
    "applicant_sentence",
    "performance_targets",
    "roles_table",
    "task_list",
    "township_names",
]

#: The applicant when no rule pack is chosen: the 2018 pilot's organisation (province administration with the
#: province's finance department; operators and China Tower build).
DEFAULT_APPLICANT = Applicant(
    applicant="省通信管理局会同省财政厅",
    builders="基础电信企业（承建企业），中国铁塔（铁塔产权方）",
    citation=Citation(
        pack="default",
        title="财政部 工业和信息化部关于深入推进电信普遍服务试点工作的通知",
        issuer="财政部、工业和信息化部",
        date="2018-05",
        number="财建〔2018〕226号",
        section="组织方式（默认：未选择政策规则包）",
    ),
)
#: Task words per intervention kind (the task list's ``task``).
TASK_WORDS = {
    "fibre": "光纤宽带接入（光缆线路）",
    "line_upgrade": "学校出口线路提速",
    "new_site": "新建4G基站（中国铁塔新建铁塔）",
    "upgrade_5g": "既有站址5G升级",
    "share": "共享中国铁塔既有铁塔建4G基站",
    "share_5g": "共享中国铁塔既有铁塔建5G基站",
    "satellite": "卫星宽带接入",
}


def applicants(programme: Programme) -> tuple[tuple[Applicant, bool], ...]:
    """The applicants of the chosen packs, or the default (flag True) when no pack names one."""
    if programme.applicants:
        return tuple((a, False) for a in programme.applicants)
    return ((DEFAULT_APPLICANT, True),)


def roles_table(programme: Programme) -> pd.DataFrame:
    """Per applicant structure: ``role`` (申报单位, 承建企业, 铁塔产权方), ``party`` and ``citation`` (the pack's
    document and section; the default says it is one)."""
    rows = []
    for a, default in applicants(programme):
        cite = a.citation.text() + ("（默认值）" if default else "")
        rows.append({"role": "申报单位", "party": a.applicant, "citation": cite})
        rows.append({"role": "承建企业", "party": a.builders, "citation": cite})
    rows.append(
        {
            "role": "铁塔产权方",
            "party": "中国铁塔（新建铁塔由中国铁塔建设并出租，运营商按共享户数付租）",
            "citation": (
                "《商务定价协议》补充协议（中国铁塔与三家基础电信企业，2018-01-31）：两家共享优惠30%，三家共享优惠40%"
            ),
        }
    )
    return pd.DataFrame(rows, columns=["role", "party", "citation"])


def applicant_sentence(programme: Programme, *, language: Language) -> str:
    """The notebook's applicant line: who applies and who builds, with the source (the default said so)."""
    parts = []
    for a, default in applicants(programme):
        if language == "zh":
            parts.append(
                f"申报单位：{a.applicant}；承建企业：{a.builders}（依据：{a.citation.text()}"
                + ("，未选择政策规则包时的默认值" if default else "")
                + "）"
            )
        else:
            parts.append(
                f"Applicant: {a.applicant}; builders: {a.builders} (source: {a.citation.text()}"
                + ("; the default when no rule pack is chosen" if default else "")
                + ")"
            )
    return "；".join(parts) if language == "zh" else "; ".join(parts)


def township_names(villages: pd.DataFrame, settings: ApplicationSettings) -> dict[str, str]:
    """Township name by 9-digit code: the villages' ``township`` column (with ``admin_code``), else the project's
    ``[[application.township_names]]`` (which wins where both give one)."""
    out: dict[str, str] = {}
    if "township" in villages and "admin_code" in villages:
        code = villages["admin_code"].astype(str).str[:9]
        name = villages["township"]
        for c, n in zip(code, name, strict=True):
            if isinstance(n, str) and n.strip() and c not in out:
                out[c] = n.strip()
    out.update({t.code: t.name for t in settings.township_names})
    return out


def _unit_facts(villages: pd.DataFrame, schools: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """By ``layer:id``: the unit's name, and a village's category (the status stage's ``category``: 未通村,
    升级村 below the pack's Mbps, 4G无覆盖村; a school's kind as 学校/教学点)."""
    names: dict[str, str] = {}
    category: dict[str, str] = {}
    if len(villages):
        keys = "villages:" + villages["village_id"].astype(str)
        cats = villages["category"].fillna("").astype(str) if "category" in villages else [""] * len(keys)
        vnames = villages["name"] if "name" in villages else villages["village_id"]
        names.update(zip(keys, vnames.astype(str), strict=True))
        category.update(zip(keys, cats, strict=True))
    if len(schools):
        keys = "schools:" + schools["school_id"].astype(str)
        snames = schools["name"] if "name" in schools else schools["school_id"]
        names.update(zip(keys, snames.astype(str), strict=True))
        kinds = schools["kind"].astype(str) if "kind" in schools else pd.Series([""] * len(schools))
        category.update(zip(keys, np.where(kinds.to_numpy() == "teaching_point", "教学点", "学校"), strict=True))
    return names, category


def task_list(
    inter: pd.DataFrame,
    *,
    villages: pd.DataFrame,
    schools: pd.DataFrame,
    county_of: Mapping[str, str],
    township_of: Mapping[str, str],
    names_of_township: Mapping[str, str],
    language: Language,
) -> pd.DataFrame:
    """The 任务清单: one row per intervention and village or school it serves, by batch (module docstring).

    Parameters
    ----------
    inter : DataFrame
        The interventions (``candidate_id``, ``kind``, ``batch``, ``year``, ``serves``, ``capex_cny``,
        ``central_cny``, ``builder``, ``ran_partner``).
    villages, schools : DataFrame
        The status frames (names; the villages' ``category`` of :func:`planning.status.stage.programme_status`).
    county_of, township_of : mapping
        County and 9-digit township code by ``layer:id``.
    names_of_township : mapping
        Township name by code (:func:`township_names`).
    """
    cols = [
        "batch",
        "year",
        "county",
        "township",
        "township_code",
        "unit_name",
        "category",
        "task",
        "builder",
        "ran_partner",
        "amount_cny",
        "subsidy_cny",
        "candidate_id",
        "unit",
    ]
    names, category = _unit_facts(villages, schools)
    rows = []
    for r in inter.itertuples(index=False):
        units = [u for u in str(r.serves).split(";") if u] or [""]
        k = len(units)
        for u in units:
            code = str(township_of.get(u, "") or "")
            rows.append(
                {
                    "batch": int(r.batch),
                    "year": int(r.year),
                    "county": county_of.get(u, ""),
                    "township": names_of_township.get(code, code),
                    "township_code": code,
                    "unit_name": names.get(u, u),
                    "category": category.get(u, ""),
                    "task": TASK_WORDS.get(str(r.kind), code_text(r.kind, "kind", language)),
                    "builder": getattr(r, "builder", ""),
                    "ran_partner": getattr(r, "ran_partner", ""),
                    "amount_cny": float(r.capex_cny) / k,
                    "subsidy_cny": float(getattr(r, "central_cny", 0.0)) / k,
                    "candidate_id": r.candidate_id,
                    "unit": u,
                }
            )
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["batch", "county", "township_code", "unit", "candidate_id"], kind="stable").reset_index(
        drop=True
    )


def performance_targets(
    region: pd.DataFrame, keys: Sequence[str], batches: pd.DataFrame, programme: Programme
) -> pd.DataFrame:
    """The 区域绩效目标表: per KPI with a target (``region``'s rows in the order of ``keys``): ``indicator``,
    ``baseline`` (before the plan), ``target``, ``planned`` (after the plan), ``deadline_year`` (the pack's;
    else the year the plan reaches it), ``year_reached`` (the first batch's year at or above the target; empty
    when never), ``deadline_source``."""
    rows = []
    for key, r in zip(keys, region.itertuples(index=False), strict=True):
        if r.target is None or not np.isfinite(float(r.target)):
            continue
        col = f"{key}_share"
        reached = None
        if col in batches:
            hit = batches[(batches["batch"] > 0) & (batches[col] >= float(r.target) - 1e-9)]
            if len(hit):
                reached = int(hit["year"].iloc[0])
            elif float(r.before) >= float(r.target) - 1e-9:
                reached = None
        rule = programme.kpis.get(key)
        rows.append(
            {
                "indicator": r.indicator,
                "kpi": key,
                "baseline": float(r.before),
                "target": float(r.target),
                "planned": float(r.after),
                "deadline_year": rule.deadline_year if rule is not None else reached,
                "year_reached": reached,
                "deadline_source": rule.citation.text() if rule is not None else "本方案达到年度（未选择政策规则包）",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "indicator",
            "kpi",
            "baseline",
            "target",
            "planned",
            "deadline_year",
            "year_reached",
            "deadline_source",
        ],
    )
