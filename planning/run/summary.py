"""The run's summary: counts and totals of the inputs and of each stage's result (``summary.json``/``summary.md``)."""

from __future__ import annotations

import html
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.admin import REGION
from gis.inputs import Inputs
from gis.layers import input_limits
from gis.project import Project
from planning.fibre import FibreResult
from planning.plan import Proposal
from planning.radio import TECHS, sectorised
from planning.status import KPIS, GapsResult


def _length_km(frame) -> float:
    return float(np.sum(shapely.length(np.asarray(frame.geometry.values)))) / 1000.0


def summarise(project: Project, inputs: Inputs) -> dict[str, Any]:
    """Counts and totals of a project's inputs (areas in km², lengths in km, heights in m)."""
    layers = inputs.layers
    v = layers["villages"]
    s = layers["schools"]
    sites = layers["sites"]
    out: dict[str, Any] = {
        "project": project.name,
        "project_file": str(project.path),
        "metric_crs": layers.crs.to_string(),
        "region_area_km2": round(shapely.area(layers.region) / 1e6, 1),
        "admin_areas": len(layers["admin"]),
        "villages": {
            "count": len(v),
            "population": int(v["population"].sum()),
            "registered_poor": int(v["is_poor"].fillna(False).sum()) if "is_poor" in v else None,
        },
        "schools": {
            "count": len(s),
            "by_kind": {str(k): int(n) for k, n in s["kind"].value_counts().sort_index().items()},
            "students": int(s["students"].sum()),
        },
        "sites": {
            "count": len(sites),
            "by_tech_band": {
                f"{t} {b:g} MHz": int(n) for (t, b), n in sites.groupby(["tech", "band_mhz"]).size().items()
            },
            "split_into_three_sectors": sectorised(sites, project.radio),
        },
        "warnings": len(inputs.warnings),
        # what the run cannot plan for want of an input (no is_poor, no fibre): code -> sentence
        "cannot_plan": input_limits(layers.frames),
    }
    if "access" in s:  # an empty access is unknown (the models' prediction fills it): counted, never dropped
        access = s["access"].astype(object).where(s["access"].notna(), "unknown")
        out["schools"]["by_access"] = {str(k): int(n) for k, n in access.value_counts().sort_index().items()}
    for name in ("roads", "fibre"):
        frame = layers.get(name)
        if frame is not None:
            out[name] = {"segments": len(frame), "length_km": round(_length_km(frame), 1)}
    if layers.get("fibre_nodes") is not None:
        out["fibre_nodes"] = {"count": len(layers["fibre_nodes"])}
    if layers.get("candidates") is not None:
        out["candidates"] = {"count": len(layers["candidates"])}
    if inputs.dem is not None:
        ground = v["ground_m"].to_numpy()
        out["terrain"] = {
            "file": str(inputs.dem.path),
            "cells": list(inputs.dem.shape),
            "cell_size": round(abs(inputs.dem.transform.a), 3),
            "village_ground_m": {
                "min": round(float(np.min(ground)), 1),
                "max": round(float(np.max(ground)), 1),
            },
        }
    return out


def summarise_gaps(result: GapsResult) -> dict[str, Any]:
    """The region's KPIs (counted, having, share, target, shortfall each), the counties meeting every target, the
    evidence behind the statuses, the verification list and the ledger rows by what is lacking."""
    t = result.targets
    region = t[t["county"] == REGION].iloc[0]
    out: dict[str, Any] = {k: int(region[k]) for k in ("villages", "poor_villages", "schools", "teaching_points")}
    for kpi in KPIS:
        share = float(region[f"{kpi.key}_share"])
        people = float(region[f"{kpi.key}_people_share"])
        out[kpi.key] = {
            "n": int(region[f"{kpi.key}_n"]),
            "have": int(region[f"{kpi.key}_have"]),
            "share": round(share, 4) if np.isfinite(share) else None,
            "people_share": round(people, 4) if np.isfinite(people) else None,
            "target": float(region[f"{kpi.key}_target"]),
            "shortfall": int(region[f"{kpi.key}_shortfall"]),
            "counties_short": int((t.loc[t["county"] != REGION, f"{kpi.key}_shortfall"] > 0).sum()),
        }
    out["meets_all"] = bool(region["meets_all"])
    out["counties_meeting_all"] = int(t.loc[t["county"] != REGION, "meets_all"].sum())
    out["counties"] = int((t["county"] != REGION).sum())
    out["school_evidence"] = {str(k): int(n) for k, n in result.schools["evidence"].value_counts().sort_index().items()}
    out["to_verify"] = len(result.verification)
    out["ledger_rows"] = len(result.ledger)
    out["ledger_by_lacks"] = {str(k): int(n) for k, n in result.ledger["lacks"].value_counts().sort_index().items()}
    return out


def _json_value(v: Any) -> Any:
    """A table cell for JSON: None for a missing value (NA, NaN, inf), a plain bool for numpy's."""
    if v is None or v is pd.NA or (isinstance(v, float) and not np.isfinite(v)):
        return None
    return bool(v) if isinstance(v, bool | np.bool_) else v


def summarise_programme(project: Project, gaps: GapsResult, prop: Proposal) -> dict[str, Any]:
    """The programme's rule packs, the compliance rows (rule, value, met, citation), the fallbacks taken and the
    five costliest needs left out with why (docs/programme.md)."""
    out: dict[str, Any] = {"packs": [f"{p.id} {p.version}" for p in project.programme.packs]}
    out["fallbacks"] = list(gaps.notes)
    if prop.compliance is not None:
        out["compliance"] = [
            {k: _json_value(v) for k, v in row.items()}
            for row in prop.compliance.astype(object).to_dict(orient="records")
        ]
    if prop.unserved is not None:
        top = prop.unserved[prop.unserved["why"] != "no target"].head(5)
        out["unserved"] = len(prop.unserved)
        out["costliest_left_out"] = [
            {
                "unit": str(r.unit),
                "name": str(r.name),
                "need": str(r.need),
                "why": str(r.why),
                "cheapest_cny": round(float(r.cheapest_cny)) if np.isfinite(r.cheapest_cny) else None,
            }
            for r in top.itertuples()
        ]
    return out


def summarise_fibre(result: FibreResult) -> dict[str, Any]:
    """Reach counts per layer, distances (m), the shared-trench plan against connecting points one by one."""
    out: dict[str, Any] = {}
    r = result.reach
    for layer, part in r.groupby("layer"):
        finite = part["fibre_distance_m"][np.isfinite(part["fibre_distance_m"])]
        out[str(layer)] = {
            **{str(k): int(v) for k, v in part["reach"].value_counts().sort_index().items()},
            "median_distance_m": round(float(finite.median()), 1) if len(finite) else None,
        }
    plan = result.plan
    out["plan"] = {
        "points": len(plan.served),
        "segments": len(plan.routes),
        "length_km": round(plan.total_length_m / 1000.0, 2),
        "cost_cny": round(plan.total_cost_cny),
        "separate_cost_cny": round(plan.separate_cost_cny),
        "saving_share": round(1.0 - plan.total_cost_cny / plan.separate_cost_cny, 4) if plan.separate_cost_cny else 0,
    }
    out["repairs"] = {str(k): int(v) for k, v in result.repairs["action"].value_counts().sort_index().items()}
    out["components"] = len(result.components)
    out["components_without_fibre"] = int((~result.components["has_fibre"]).sum())
    return out


def _busy_hour_counts(part: gpd.GeoDataFrame, layer: str, project: Project) -> dict[str, int]:
    """Per tech: points whose uplink limits (uplink margin below the downlink RSRP margin); for villages the cells
    serving them at or over capacity at the busy hour and the covered villages left 0 Mbps; for schools those
    covered whose uplink demand is not met (when the busy hour was applied)."""
    radio = project.radio
    out: dict[str, int] = {}
    for t in TECHS:
        thr = radio.lte_rsrp_threshold_dbm if t == "4g" else radio.nr_rsrp_threshold_dbm
        ul = part[f"{t}_ul_margin_db"].to_numpy(dtype=float)
        dl = part[f"{t}_rsrp_dbm"].to_numpy(dtype=float) - thr
        out[f"{t}_uplink_limited"] = int((np.isfinite(ul) & (ul < dl)).sum())
        covered = part[f"{t}_covered"].to_numpy(dtype=bool)
        if layer == "villages" and f"{t}_cell_load" in part:
            cells = part.loc[covered, [f"{t}_cell_id", f"{t}_cell_load"]].drop_duplicates(f"{t}_cell_id")
            out[f"{t}_cells"] = len(cells)
            out[f"{t}_cells_overloaded"] = int((cells[f"{t}_cell_load"] >= 1.0).sum())
            out[f"{t}_covered_0_mbps"] = int((covered & (part[f"{t}_throughput_mbps"] <= 0.0).to_numpy()).sum())
        if layer == "schools" and f"{t}_ul_meets" in part:
            out[f"{t}_uplink_demand_not_met"] = int((covered & ~part[f"{t}_ul_meets"].to_numpy(dtype=bool)).sum())
    return out


def summarise_coverage(cov: gpd.GeoDataFrame, project: Project) -> dict[str, Any]:
    """Shares of villages and schools covered per tech, schools with a wireless outlet >= the target, and the busy
    hour's counts (:func:`_busy_hour_counts`: overloaded cells, covered villages at 0 Mbps, uplink-limited points,
    schools whose uplink demand is not met)."""
    out: dict[str, Any] = {"model": project.radio.model, "environment": project.radio.environment}
    if "paths_p1812_fallback" in cov:
        # paths modelled per model: the project's inside its range, ITU-R P.1812 outside it (never extrapolated)
        fallback = int(cov["paths_p1812_fallback"].sum())
        own = int(cov["sites_in_range"].sum()) - fallback
        out["propagation"] = {project.radio.model: own, "fallback_p1812": fallback}
    for layer in ("villages", "schools"):
        part = cov[cov["layer"] == layer]
        entry: dict[str, Any] = {f"{t}_covered_share": round(float(part[f"{t}_covered"].mean()), 4) for t in TECHS}
        entry["off_dem"] = int((part["terrain"] == "off_dem").sum())
        if layer == "schools":
            best = part[[f"{t}_throughput_mbps" for t in TECHS]].max(axis=1)
            entry["wireless_outlet_target_share"] = round(float((best >= project.targets.school_outlet_mbps).mean()), 4)
        entry.update(_busy_hour_counts(part, layer, project))
        out[layer] = entry
    return out


def _md(value: object) -> str:
    """Text for a Markdown table cell: HTML special characters escaped (a renderer shows ``<script>`` as text), ``|``
    escaped (it would start a new cell), backticks and line breaks neutralised."""
    text = html.escape(str(value), quote=False).replace("|", "\\|").replace("`", "&#96;")
    return " ".join(text.splitlines())


def summary_markdown(summary: dict[str, Any], seconds: dict[str, float]) -> str:
    """``summary.md``: the summary as a Markdown table (data text escaped: names are never markup)."""
    lines = [f"# coverplan run: {_md(summary['project'])}", "", "| item | value |", "|---|---|"]

    def walk(prefix: str, obj: Any) -> None:
        if isinstance(obj, dict):
            for k, val in obj.items():
                walk(f"{prefix}.{k}" if prefix else str(k), val)
        else:
            lines.append(f"| {_md(prefix)} | {_md(obj)} |")

    walk("", summary)
    lines += ["", "| stage | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in seconds.items()]
    return "\n".join(lines) + "\n"
