"""The programmes' KPIs, counted as the programmes count them: per county and for the region, each with its own
target from ``[targets]``.

=================  ===========================================  ===========================  =====================
KPI key            counts                                        among                        target setting
=================  ===========================================  ===========================  =====================
poor_broadband     villages with broadband (``[targets]          registered poor villages     poor_village_
                   broadband``: fibre or 4G/5G, or fibre only)                                broadband_share
poor_4g            villages with 4G coverage ("4G first")        registered poor villages     poor_village_4g_share
village_5g         villages with 5G coverage                     all administrative villages  village_5g_share
school_connected   schools connected (any subscribed link)       all schools, teaching        school_connected_
                                                                 points included              share
school_outlet      schools at >= ``school_outlet_mbps`` (FWA     all schools                  school_outlet_share
                   and satellite by policy)
tp_connected       teaching points connected                     teaching points (教学点)      teaching_point_
                                                                                              connected_share
poor_fibre         villages with fibre                           registered poor villages     poor_village_fibre_
                                                                                              share
village_fibre      villages with fibre                           all administrative villages  village_fibre_share
village_4g         villages with 4G (the programme's rule:       all administrative villages  village_4g_share
                   docs/programme.md)
=================  ===========================================  ===========================  =====================

The fibre KPIs are served by the broadband need: a rule pack that targets them counts broadband as fibre
(``[targets] broadband = "fibre"``), so a 4G site never meets them.

Beside each count, the same share weighted by the people concerned (``k_people_share``): villages by their
``population``, schools and teaching points by their ``students`` (when the layer has the column): the share of
the people in poor villages who live in one with broadband, of the pupils whose school is connected. The
programmes' targets count villages and schools, so these shares carry no target; they show whether the villages
left out are the small ones.

Villages and schools excluded in the ledger as relocated (易地扶贫搬迁) or merged (撤并) leave the counts. A
target of 0 is no target (always met). The shortfall is how many more must have it to reach the target:
``ceil(target x n) - have``, at least 0. :func:`share` is the one rule for every share coverplan reports: NaN
when nothing is counted (no poor village in a county: the KPI does not apply there, and it is met).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis.admin import REGION
from gis.settings import TargetSettings
from planning.status.evidence import LEAVES_KPIS


@dataclass(frozen=True)
class Kpi:
    """One KPI: its key, the layer it counts, who is counted (``among``) and what they must have (``have``)."""

    key: str
    layer: str
    among: str  # "poor", "all", "teaching_points"
    have: str
    target_setting: str

    def target(self, targets: TargetSettings) -> float:
        return float(getattr(targets, self.target_setting))


KPIS: tuple[Kpi, ...] = (
    Kpi("poor_broadband", "villages", "poor", "has_broadband", "poor_village_broadband_share"),
    Kpi("poor_4g", "villages", "poor", "has_4g", "poor_village_4g_share"),
    Kpi("village_5g", "villages", "all", "has_5g", "village_5g_share"),
    Kpi("poor_fibre", "villages", "poor", "has_fibre", "poor_village_fibre_share"),
    Kpi("village_fibre", "villages", "all", "has_fibre", "village_fibre_share"),
    Kpi("village_4g", "villages", "all", "has_4g", "village_4g_share"),
    Kpi("school_connected", "schools", "all", "connected", "school_connected_share"),
    Kpi("school_outlet", "schools", "all", "meets_outlet", "school_outlet_share"),
    Kpi("tp_connected", "schools", "teaching_points", "connected", "teaching_point_connected_share"),
)
#: The demand (need) that serves each KPI (see planning.plan.candidates.demand_table).
KPI_NEED = {
    "poor_broadband": "broadband",
    "poor_4g": "4g",
    "village_5g": "5g",
    "poor_fibre": "broadband",
    "village_fibre": "broadband",
    "village_4g": "4g",
    "school_connected": "connection",
    "school_outlet": "outlet",
    "tp_connected": "connection",
}


def share(have: float, total: float) -> float:
    """``have / total``; NaN when ``total`` is 0 (see the module docstring)."""
    return float(have) / float(total) if total else float("nan")


def shortfall(have: int, total: int, target_share: float, *, documented: int | None = None) -> int:
    """How many more must be served to reach ``target_share`` of ``total`` (0 when already met).

    ``documented`` (``[targets] slack = "exclusion_only"``): of those lacking it, how many carry a documented
    exclusion reason; only they may keep a target below 100 % short, so the need is ``total`` less at most
    that many (and never below the share's count)."""
    need = math.ceil(target_share * total - 1e-9)
    if documented is not None and target_share > 0:
        need = max(need, total - documented)
    return max(0, need - have)


def counted(frame: pd.DataFrame, kpi: Kpi) -> np.ndarray:
    """Per row of a status frame: counted by ``kpi`` (its population, less rows relocated or merged)."""
    keep = ~frame["excluded"].isin(LEAVES_KPIS).to_numpy() if "excluded" in frame else np.ones(len(frame), bool)
    if kpi.among == "poor":
        keep &= frame["is_poor"].to_numpy(dtype=bool)
    elif kpi.among == "teaching_points":
        keep &= (frame["kind"] == "teaching_point").to_numpy()
    return keep


def _documented(frame: pd.DataFrame, rows: np.ndarray) -> int:
    """How many of ``rows`` carry a documented exclusion reason that keeps them counted (``excluded``)."""
    if "excluded" not in frame:
        return 0
    return int((rows & frame["excluded"].fillna("").astype(str).ne("").to_numpy()).sum())


#: The column weighting each layer's rows by the people concerned.
PEOPLE = {"villages": "population", "schools": "students"}


def _people(frame: pd.DataFrame, kpi: Kpi) -> np.ndarray:
    """Per row: the people a KPI's row stands for (NaN everywhere when the frame lacks the column)."""
    col = PEOPLE[kpi.layer]
    if col not in frame:
        return np.full(len(frame), np.nan)
    return frame[col].to_numpy(dtype=float)


def kpi_table(villages: pd.DataFrame, schools: pd.DataFrame, *, targets: TargetSettings) -> pd.DataFrame:
    """Every KPI per county and for the region (last row, county :data:`REGION`).

    Parameters
    ----------
    villages, schools : DataFrame
        Status frames (:func:`planning.status.evidence.village_status`, :func:`~planning.status.evidence.
        school_status`).

    Returns
    -------
    DataFrame
        ``county``, ``villages``, ``poor_villages``, ``schools``, ``teaching_points``, ``villages_with_broadband``
        (all villages, no target); per KPI key k: ``k_n`` (counted), ``k_have``, ``k_share``, ``k_target``,
        ``k_shortfall``, ``k_met``, ``k_other_programme`` (counted, lacking it, left to another programme by the
        ledger: this plan does not serve them, so they can keep a county short), and weighted by people
        (villages' ``population``, schools' ``students``; NaN without the column or with a placeholder)
        ``k_people_n``, ``k_people_have``, ``k_people_share``; ``meets_all`` (every KPI with a target met).
    """
    counties = sorted(set(villages["county"]) | set(schools["county"]))
    rows = []
    for county in [*counties, REGION]:
        v = villages if county == REGION else villages[villages["county"] == county]
        s = schools if county == REGION else schools[schools["county"] == county]
        live_v = ~v["excluded"].isin(LEAVES_KPIS) if "excluded" in v else np.ones(len(v), bool)
        live_s = ~s["excluded"].isin(LEAVES_KPIS) if "excluded" in s else np.ones(len(s), bool)
        row: dict[str, object] = {
            "county": county,
            "villages": int(np.sum(live_v)),
            "poor_villages": int((v["is_poor"] & live_v).sum()),
            "schools": int(np.sum(live_s)),
            "teaching_points": int(((s["kind"] == "teaching_point") & live_s).sum()),
            "villages_with_broadband": int((v["has_broadband"] & live_v).sum()),
        }
        met = True
        for kpi in KPIS:
            frame = v if kpi.layer == "villages" else s
            mask = counted(frame, kpi)
            # a frame without the column (a status built before the fibre KPIs) has none of it
            have_mask = frame[kpi.have].to_numpy(dtype=bool) if kpi.have in frame else np.zeros(len(frame), bool)
            n, have = int(mask.sum()), int(have_mask[mask].sum())
            target = kpi.target(targets)
            people = _people(frame, kpi)
            p_n, p_have = float(people[mask].sum()), float(people[mask & have_mask].sum())
            elsewhere = frame["excluded"].eq("other_programme").to_numpy() if "excluded" in frame else False
            documented = _documented(frame, mask & ~have_mask) if targets.slack == "exclusion_only" else None
            short = shortfall(have, n, target, documented=documented)
            row.update(
                {
                    f"{kpi.key}_n": n,
                    f"{kpi.key}_have": have,
                    f"{kpi.key}_share": share(have, n),
                    f"{kpi.key}_target": target,
                    f"{kpi.key}_shortfall": short,
                    f"{kpi.key}_met": short == 0,
                    f"{kpi.key}_other_programme": int((mask & ~have_mask & elsewhere).sum()),
                    f"{kpi.key}_people_n": p_n,
                    f"{kpi.key}_people_have": p_have,
                    f"{kpi.key}_people_share": share(p_have, p_n),
                }
            )
            met &= short == 0
        row["meets_all"] = met
        rows.append(row)
    return pd.DataFrame(rows)


def short_kpis(table: pd.DataFrame) -> pd.DataFrame:
    """The KPIs with a target that a table does not meet: ``county``, ``kpi``, ``have``, ``n``, ``target``,
    ``shortfall``, ``other_programme`` (of those lacking it, how many the ledger leaves to another programme; the
    region row included)."""
    rows = []
    for _, r in table.iterrows():
        for kpi in KPIS:
            if r[f"{kpi.key}_shortfall"] > 0:
                rows.append(
                    {
                        "county": r["county"],
                        "kpi": kpi.key,
                        "have": int(r[f"{kpi.key}_have"]),
                        "n": int(r[f"{kpi.key}_n"]),
                        "target": float(r[f"{kpi.key}_target"]),
                        "shortfall": int(r[f"{kpi.key}_shortfall"]),
                        "other_programme": int(r.get(f"{kpi.key}_other_programme", 0)),
                    }
                )
    return pd.DataFrame(rows, columns=["county", "kpi", "have", "n", "target", "shortfall", "other_programme"])
