"""What each village and school has, from the evidence in order of precedence: measured > reported > predicted.

* **measured**: the project's ledger (``[ledger] path``): a row accepted (验收) with its measured speed and date
  closes what it lacked; a row excluded as relocated (易地扶贫搬迁) or merged (撤并) leaves the KPIs;
* **reported**: the layer's own columns: villages ``fibre_connected``, ``covered_4g``, ``covered_5g`` (or one
  ``access``), schools ``access`` and ``bandwidth_mbps`` (the subscribed line: 联网率 and 出口带宽 count
  contracted lines, and being in coverage is not being connected);
* **predicted**: the models: a village within ``[fibre] drop_m`` of existing fibre along the network, a village
  or school in 4G/5G coverage (handheld for villages, CPE busy-hour rate for schools).

A prediction only fills what is unknown. Where it disagrees with a report the row goes to the verification list
(``verify``: what was reported, what the model says); a school reported as not connected where the model finds
a link is not a disagreement but a feasible remedy (``predicted_access``, ``predicted_mbps``).

Each status frame carries, per attribute, ``reported_*``, ``predicted_*``, the ``status_*`` the KPIs count and
its ``evidence_*`` (measured, reported, predicted, unknown). Pure functions on DataFrames; the input index is
kept.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.admin import county_of
from gis.schema import unit_key
from gis.settings import TargetSettings

logger = logging.getLogger(__name__)

Evidence = str  # "measured" | "reported" | "predicted" | "unknown"
#: Village attributes and the coverage/reach column that predicts each.
VILLAGE_ATTRIBUTES = ("fibre", "4g", "5g")
#: Ledger exclusion reasons that take a village or school out of the KPIs' counts (it no longer exists as such).
LEAVES_KPIS = ("relocated", "merged")
#: Lowest busy-hour rate (Mbps) at which a CPE link counts as a school connection (below it no class can run).
MIN_CONNECTION_MBPS = 4.0


def _aligned(frame: pd.DataFrame | None, index: pd.Index, what: str) -> pd.DataFrame | None:
    if frame is None:
        return None
    if not frame.index.equals(index):
        msg = f"`{what}` has index {list(frame.index[:5])}...; expected the same index as the layer"
        raise ValueError(msg)
    return frame


def _nullable(values: object, index: pd.Index) -> pd.Series:
    """A nullable boolean Series (NA = unknown)."""
    return pd.Series(values, index=index, dtype="boolean")


#: A village's reported best ``access``: what it says about each attribute (True, False, or None: unknown).
#: The best access rules out the better ones; 5G implies 4G (NR non-standalone rides on an LTE anchor); a
#: village whose best access is fibre may or may not have 4G/5G.
ACCESS_IMPLIES: dict[str, dict[str, bool | None]] = {
    "fibre": {"fibre": True, "4g": None, "5g": None},
    "5g": {"fibre": False, "4g": True, "5g": True},
    "4g": {"fibre": False, "4g": True, "5g": False},
    "none": {"fibre": False, "4g": False, "5g": False},
}


def _reported_village(villages: pd.DataFrame) -> dict[str, pd.Series]:
    """Reported fibre/4G/5G per village: the three boolean columns, and where one is empty what the village's
    ``access`` (its best access) implies (:data:`ACCESS_IMPLIES`)."""
    idx = villages.index
    out = {a: _nullable(pd.NA, idx) for a in VILLAGE_ATTRIBUTES}
    if "access" in villages:
        acc = villages["access"].astype(object).where(villages["access"].notna(), None).to_numpy()
        for a in VILLAGE_ATTRIBUTES:
            implied = [ACCESS_IMPLIES[x][a] if x in ACCESS_IMPLIES else None for x in acc]
            out[a] = _nullable([pd.NA if v is None else v for v in implied], idx)
    for a, col in (("fibre", "fibre_connected"), ("4g", "covered_4g"), ("5g", "covered_5g")):
        if col in villages:
            given = villages[col].astype("boolean")
            out[a] = given.where(given.notna(), out[a])
    return out


def _measured(measured: pd.DataFrame | None, keys: pd.Index) -> pd.DataFrame:
    """The ledger's evidence (``status``, ``lacks``, ``measured_mbps``, ``reason``) aligned on ``keys``."""
    cols = ["status", "lacks", "measured_mbps", "reason", "access"]
    if measured is None or not len(measured):
        return pd.DataFrame({c: pd.Series(pd.NA, index=keys, dtype=object) for c in cols})
    return measured.reindex(keys)[cols]


def village_status(
    villages: gpd.GeoDataFrame,
    *,
    targets: TargetSettings,
    coverage: pd.DataFrame | None = None,
    reach: pd.DataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
    measured: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Status of every village from the evidence (see the module docstring).

    Parameters
    ----------
    villages : GeoDataFrame
        The villages layer (``village_id``, ``name``; optional ``county``, ``is_poor``, reported columns).
    targets : TargetSettings
        ``broadband`` (what counts as broadband) and ``village_5g_share`` (5G is lacking only when targeted).
    coverage, reach : DataFrame, optional
        Coverage (``4g_covered``, ``5g_covered``, ``{t}_rsrp_dbm``) and fibre reach (``connected``,
        ``fibre_distance_m``) of these villages (same index).
    admin : GeoDataFrame, optional
        Admin areas, to name the county of villages without a ``county``.
    measured : DataFrame, optional
        The ledger's evidence by ``villages:ID`` (:func:`planning.status.ledger.ledger_evidence`).

    Returns
    -------
    DataFrame
        Same index: ``village_id``, ``name``, ``county``, ``is_poor``; per attribute a in (fibre, 4g, 5g)
        ``reported_a``, ``predicted_a``, ``status_a`` (nullable bool: NA unknown), ``evidence_a``; then
        ``has_fibre``, ``has_4g``, ``has_5g``, ``has_broadband`` (bool, unknown counts as lacking), ``broadband``
        (best access for the map: fibre, 5g, 4g, none, unknown), ``lacks`` (``;``-joined: broadband, 4g, 5g),
        ``excluded`` (ledger reason or empty), ``verify`` (disagreements between report and model); ``population``
        and ``admin_code`` when the layer has them.
    """
    idx = villages.index
    coverage = _aligned(coverage, idx, "coverage")
    reach = _aligned(reach, idx, "reach")
    reported = _reported_village(villages)
    predicted = _predicted_village(idx, coverage, reach)
    meas = _measured(measured, ("villages:" + villages["village_id"].astype(str)).to_numpy())
    accepted = (meas["status"] == "accepted").fillna(False).to_numpy(dtype=bool)
    lacked = meas["lacks"].fillna("").astype(str)
    out = pd.DataFrame(
        {
            "village_id": villages["village_id"].astype(str).to_numpy(),
            "name": villages["name"].astype(str).to_numpy(),
            "county": county_of(villages, admin).to_numpy(),
            "is_poor": villages["is_poor"].fillna(False).astype(bool).to_numpy()
            if "is_poor" in villages
            else np.zeros(len(idx), dtype=bool),
        },
        index=idx,
    )
    verify = [""] * len(idx)
    for a in VILLAGE_ATTRIBUTES:
        need = "broadband" if a == "fibre" else a
        m = _nullable(np.where(accepted & lacked.str.contains(need).to_numpy(), True, pd.NA), idx)
        out[f"reported_{a}"], out[f"predicted_{a}"] = reported[a], predicted[a]
        out[f"status_{a}"], out[f"evidence_{a}"] = _precedence(m, reported[a], predicted[a])
        verify = _disagreements(verify, a, reported[a], predicted[a], coverage, reach)
    if "population" in villages:  # for the population-weighted KPI shares
        out["population"] = _people(villages, "population")
    if "admin_code" in villages:  # the township (乡镇) is its first 9 digits: the application lists by township
        out["admin_code"] = villages["admin_code"].astype(object).to_numpy()
    return _village_needs(out, targets, verify, meas)


def _people(layer: pd.DataFrame, column: str) -> np.ndarray:
    """A layer's ``population`` or ``students`` as floats, NaN where its ``{column}_source`` says ``none``: the
    0 that ``coverplan import osm`` writes as a placeholder is no count of people (a people-weighted share over
    such rows is unknown, not 100 % of the tagged ones)."""
    values = layer[column].to_numpy(dtype=float)
    source = f"{column}_source"
    if source in layer:
        values = np.where(layer[source].astype(str).eq("none").to_numpy(), np.nan, values)
    return values


def _predicted_village(
    idx: pd.Index, coverage: pd.DataFrame | None, reach: pd.DataFrame | None
) -> dict[str, pd.Series]:
    out = {a: _nullable(pd.NA, idx) for a in VILLAGE_ATTRIBUTES}
    if reach is not None:
        out["fibre"] = _nullable(reach["connected"].to_numpy(dtype=bool), idx)
    if coverage is not None:
        for t in ("4g", "5g"):
            out[t] = _nullable(coverage[f"{t}_covered"].to_numpy(dtype=bool), idx)
    return out


def _precedence(measured: pd.Series, reported: pd.Series, predicted: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(status, evidence): the first known of measured, reported, predicted; NA and ``unknown`` otherwise."""
    status = measured.where(measured.notna(), reported)
    status = status.where(status.notna(), predicted)
    evidence = np.select(
        [measured.notna().to_numpy(), reported.notna().to_numpy(), predicted.notna().to_numpy()],
        ["measured", "reported", "predicted"],
        "unknown",
    )
    return status.astype("boolean"), pd.Series(evidence, index=status.index, dtype=object)


def _disagreements(
    verify: list[str],
    attribute: str,
    reported: pd.Series,
    predicted: pd.Series,
    coverage: pd.DataFrame | None,
    reach: pd.DataFrame | None,
) -> list[str]:
    """Append ``attribute: reported X, model Y (why)`` where a report and the model disagree."""
    both = reported.notna() & predicted.notna() & (reported != predicted)
    out = list(verify)
    for pos in np.flatnonzero(both.to_numpy(dtype=bool)):
        rep, pre = bool(reported.iloc[pos]), bool(predicted.iloc[pos])
        why = ""
        if attribute == "fibre" and reach is not None:
            d = float(reach["fibre_distance_m"].iloc[pos])
            why = f" (fibre {d:,.0f} m away along roads)" if np.isfinite(d) else " (no fibre in its road network)"
        elif attribute in ("4g", "5g") and coverage is not None:
            r = float(coverage[f"{attribute}_rsrp_dbm"].iloc[pos])
            why = f" (RSRP {r:.1f} dBm)" if np.isfinite(r) else " (no site in range)"
        text = f"{attribute}: reported {'yes' if rep else 'no'}, model {'yes' if pre else 'no'}{why}"
        out[pos] = f"{out[pos]}; {text}" if out[pos] else text
    return out


def _village_needs(out: pd.DataFrame, targets: TargetSettings, verify: list[str], meas: pd.DataFrame) -> pd.DataFrame:
    """``has_*``, ``broadband``, ``lacks``, ``excluded`` and ``verify`` from the statuses."""
    fib, g4, g5 = (out[f"status_{a}"] for a in VILLAGE_ATTRIBUTES)
    out["has_fibre"] = fib.fillna(False).to_numpy(dtype=bool)
    out["has_4g"] = g4.fillna(False).to_numpy(dtype=bool)
    out["has_5g"] = g5.fillna(False).to_numpy(dtype=bool)
    mobile = targets.broadband == "fibre_or_4g"
    out["has_broadband"] = out["has_fibre"] | (mobile & (out["has_4g"] | out["has_5g"]))
    known = fib.notna() | g4.notna() | g5.notna()
    out["broadband"] = np.select(
        [out["has_fibre"], out["has_5g"], out["has_4g"], known.to_numpy(dtype=bool)],
        ["fibre", "5g", "4g", "none"],
        "unknown",
    )
    poor = out["is_poor"].to_numpy(dtype=bool)
    need_5g = targets.village_5g_share > 0
    all_4g = targets.village_4g_share > 0  # a programme that counts 4G in every administrative village
    out["lacks"] = [
        ";".join(
            x for x, lack in (("broadband", not b), ("4g", (p or all_4g) and not g), ("5g", need_5g and not f)) if lack
        )
        for b, p, g, f in zip(out["has_broadband"], poor, out["has_4g"], out["has_5g"], strict=True)
    ]
    excluded = np.where(
        (meas["status"] == "excluded").fillna(False).to_numpy(dtype=bool),
        meas["reason"].fillna("").astype(str).to_numpy(),
        "",
    )
    out["excluded"] = excluded
    out.loc[excluded != "", "lacks"] = ""
    out["verify"] = verify
    n_unknown = int((out["broadband"] == "unknown").sum())
    if n_unknown:
        logger.warning("%d village(s) have no report, coverage or reach evidence: status unknown", n_unknown)
    return out


def school_status(
    schools: gpd.GeoDataFrame,
    *,
    targets: TargetSettings,
    coverage: pd.DataFrame | None = None,
    reach: pd.DataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
    measured: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Connection and outlet of every school from the evidence (see the module docstring).

    The outlet counts towards the target only by the programme's policy: fixed-wireless (4G/5G CPE) where
    ``targets.fwa_outlet`` allows it (teaching points by default), satellite only with ``satellite_outlet``.

    Returns
    -------
    DataFrame
        Same index: ``school_id``, ``name``, ``kind``, ``county``; ``reported_access``, ``reported_mbps``,
        ``predicted_access`` (the best link the models find: fibre within the drop distance, else the better
        covered of 5G/4G by busy-hour CPE rate, else none), ``predicted_mbps``, ``measured_mbps``; ``access``
        (fibre, 5g, 4g, satellite, none, unknown), ``outlet_mbps`` (NaN unknown), ``evidence``, ``connected``,
        ``meets_outlet``, ``lacks`` (``;``-joined: connection, outlet_target), ``excluded``, ``verify``;
        ``students`` when the layer has it.
    """
    idx = schools.index
    coverage = _aligned(coverage, idx, "coverage")
    reach = _aligned(reach, idx, "reach")
    n = len(idx)
    rep_acc = (
        schools["access"].astype(object).where(schools["access"].notna(), None).to_numpy()
        if "access" in schools
        else np.full(n, None, dtype=object)
    )
    rep_bw = (
        pd.to_numeric(schools["bandwidth_mbps"], errors="coerce").to_numpy(dtype=float)
        if "bandwidth_mbps" in schools
        else np.full(n, np.nan)
    )
    pred_acc, pred_bw = _predicted_school(n, coverage, reach, fibre_mbps=targets.fibre_tier_mbps)
    meas = _measured(measured, ("schools:" + schools["school_id"].astype(str)).to_numpy())
    meas_bw = np.where(
        (meas["status"] == "accepted").fillna(False).to_numpy(dtype=bool),
        pd.to_numeric(meas["measured_mbps"], errors="coerce").to_numpy(dtype=float),
        np.nan,
    )
    accepted = (meas["status"] == "accepted").fillna(False).to_numpy(dtype=bool)
    meas_acc = meas["access"].fillna("accepted").astype(object).to_numpy()
    has_rep = pd.notna(rep_acc).astype(bool)
    has_pred = pd.notna(pred_acc).astype(bool)
    access = np.where(accepted, meas_acc, np.where(has_rep, rep_acc, pred_acc))
    evidence = np.where(accepted, "measured", np.where(has_rep, "reported", np.where(has_pred, "predicted", "unknown")))
    outlet = np.where(accepted, meas_bw, np.where(has_rep, rep_bw, pred_bw))
    access = np.where(pd.isna(access), "unknown", access).astype(object)
    kind = schools["kind"].astype(str).to_numpy()
    connected = ~np.isin(access, ["none", "unknown"])
    meets = (
        connected
        & (np.nan_to_num(outlet, nan=0.0) >= targets.school_outlet_mbps)
        & _outlet_counts(access, kind, targets)
    )
    out = pd.DataFrame(
        {
            "school_id": schools["school_id"].astype(str).to_numpy(),
            "name": schools["name"].astype(str).to_numpy(),
            "kind": kind,
            "county": county_of(schools, admin).to_numpy(),
            "reported_access": rep_acc,
            "reported_mbps": rep_bw,
            "predicted_access": pred_acc,
            "predicted_mbps": pred_bw,
            "measured_mbps": meas_bw,
            "access": access,
            "outlet_mbps": outlet,
            "evidence": evidence,
            "connected": connected,
            "meets_outlet": meets,
        },
        index=idx,
    )
    if "students" in schools:  # for the student-weighted KPI shares
        out["students"] = _people(schools, "students")
    return _school_needs(out, meas, coverage, reach)


def _predicted_school(
    n: int, coverage: pd.DataFrame | None, reach: pd.DataFrame | None, *, fibre_mbps: float
) -> tuple[np.ndarray, np.ndarray]:
    """The best link the models find per school: (access or None, Mbps)."""
    acc = np.full(n, None, dtype=object)
    bw = np.full(n, np.nan)
    if coverage is not None:
        rates = {
            t: np.where(
                coverage[f"{t}_covered"].to_numpy(dtype=bool),
                coverage[f"{t}_throughput_mbps"].fillna(0.0).to_numpy(dtype=float),
                0.0,
            )
            for t in ("4g", "5g")
        }
        best = np.where(rates["5g"] >= rates["4g"], "5g", "4g")
        rate = np.maximum(rates["5g"], rates["4g"])
        ok = rate >= MIN_CONNECTION_MBPS
        acc = np.where(ok, best, "none").astype(object)
        bw = np.where(ok, rate, 0.0)
    if reach is not None:
        fib = reach["connected"].to_numpy(dtype=bool)
        acc = np.where(fib, "fibre", np.where(pd.isna(acc), "none", acc)).astype(object)
        bw = np.where(fib, fibre_mbps, np.nan_to_num(bw, nan=0.0))
    return acc, bw


def _outlet_counts(access: np.ndarray, kind: np.ndarray, targets: TargetSettings) -> np.ndarray:
    """Per school: whether its access technology may count towards the outlet target (programme policy)."""
    wireless = np.isin(access, ["4g", "5g"])
    fwa_ok = {
        "all": np.ones(len(kind), bool),
        "none": np.zeros(len(kind), bool),
        "teaching_points": kind == "teaching_point",
    }[targets.fwa_outlet]
    return (
        ~wireless & (access != "satellite") | (wireless & fwa_ok) | ((access == "satellite") & targets.satellite_outlet)
    )


def _school_needs(
    out: pd.DataFrame, meas: pd.DataFrame, coverage: pd.DataFrame | None, reach: pd.DataFrame | None
) -> pd.DataFrame:
    """``lacks``, ``excluded`` and ``verify`` (a reported link the model cannot find; a missing bandwidth)."""
    out["lacks"] = [
        ";".join(x for x, lack in (("connection", not c), ("outlet_target", not m)) if lack)
        for c, m in zip(out["connected"], out["meets_outlet"], strict=True)
    ]
    excluded = np.where(
        (meas["status"] == "excluded").fillna(False).to_numpy(dtype=bool),
        meas["reason"].fillna("").astype(str).to_numpy(),
        "",
    )
    out["excluded"] = excluded
    out.loc[excluded != "", "lacks"] = ""
    rep = out["reported_access"].to_numpy()
    verify = []
    for i in range(len(out)):
        notes = []
        if rep[i] == "fibre" and reach is not None and not bool(reach["connected"].iloc[i]):
            d = float(reach["fibre_distance_m"].iloc[i])
            notes.append(
                "access: reported fibre, model finds no fibre within the drop distance"
                + (f" ({d:,.0f} m along roads)" if np.isfinite(d) else " (none in its road network)")
            )
        if rep[i] in ("4g", "5g") and coverage is not None and not bool(coverage[f"{rep[i]}_covered"].iloc[i]):
            notes.append(f"access: reported {rep[i]}, model finds no {rep[i]} coverage")
        if (
            rep[i] not in (None, "none")
            and not np.isfinite(out["reported_mbps"].iloc[i])
            and out["evidence"].iloc[i] == "reported"
        ):
            notes.append("bandwidth_mbps: not reported (outlet unknown, not counted at target)")
        if out["evidence"].iloc[i] == "predicted":
            notes.append("access: not reported, status from the model only")
        verify.append("; ".join(notes))
    out["verify"] = verify
    return out


def verification_list(villages: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Every village and school whose status needs a field check: ``id`` (``layer:id``), ``layer``, ``name``,
    ``county``, ``what`` (the disagreements or missing reports), sorted by county and id."""
    rows = []
    for layer, frame, idc in (("villages", villages, "village_id"), ("schools", schools, "school_id")):
        part = frame[frame["verify"] != ""]
        rows.append(
            pd.DataFrame(
                {
                    "id": unit_key(layer, part[idc]).to_numpy(),
                    "layer": layer,
                    "name": part["name"].to_numpy(),
                    "county": part["county"].to_numpy(),
                    "what": part["verify"].to_numpy(),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["county", "id"], kind="stable").reset_index(drop=True)
