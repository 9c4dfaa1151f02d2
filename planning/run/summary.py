"""The run's summary: counts and totals of the inputs and of each stage's result (``summary.json``/``summary.md``)."""

from __future__ import annotations

import html
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from gis.admin import REGION
from gis.inputs import Inputs
from gis.layers import input_limits
from gis.project import Project
from planning.fibre import FibreResult
from planning.radio import TECHS
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


def summarise_coverage(cov: gpd.GeoDataFrame, project: Project) -> dict[str, Any]:
    """Shares of villages and schools covered per tech, and schools with a wireless outlet >= the target."""
    out: dict[str, Any] = {"model": project.radio.model, "environment": project.radio.environment}
    for layer in ("villages", "schools"):
        part = cov[cov["layer"] == layer]
        entry = {f"{t}_covered_share": round(float(part[f"{t}_covered"].mean()), 4) for t in TECHS}
        entry["off_dem"] = int((part["terrain"] == "off_dem").sum())
        if layer == "schools":
            best = part[[f"{t}_throughput_mbps" for t in TECHS]].max(axis=1)
            entry["wireless_outlet_target_share"] = round(float((best >= project.targets.school_outlet_mbps).mean()), 4)
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
