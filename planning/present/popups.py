"""What the map's layers say: GeoJSON features with popups (title, facts, a note), search ids and marker styles.

:func:`features` turns a frame into a FeatureCollection in WGS84 (or GCJ-02) whose properties the map's script
reads; the village, school, verification and proposal layers' facts are worked out here (labels in Chinese or
English, :mod:`planning.present.labels`). Every string from input data stays data: the map's script puts it into
popups with ``textContent`` (:mod:`planning.present.maps`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.crs import wgs84_to_gcj02
from gis.errors import LayerError
from gis.schema import unit_key
from planning.present.labels import (
    INTERVENTION_COLOURS,
    OUTLET_COLOURS,
    ROUTE_COLOUR,
    STATUS_COLOURS,
    Language,
    code_text,
    label,
    served_text,
    verify_text,
)

__all__ = [
    "VERIFY_MARKER",
    "coded",
    "column_or",
    "features",
    "outlet_class",
    "proposal_batches",
    "proposal_features",
    "school_features",
    "verify_features",
    "village_features",
]


def _fmt(value: Any, language: Language) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NA:
        return "–"
    if isinstance(value, bool | np.bool_):
        return label("yes" if value else "no", language)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{value:,.0f}" if abs(float(value)) >= 100 else f"{value:.4g}"
    return str(value)


def _lonlat(geoms: np.ndarray, crs: Any, *, gcj02: bool) -> np.ndarray:
    out = gpd.GeoSeries(geoms, crs=crs).to_crs(4326).to_numpy()

    def shift(xy: np.ndarray) -> np.ndarray:
        if gcj02:
            lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
            xy = np.column_stack([lon, lat])
        return np.round(xy, 6)

    return shapely.transform(out, shift)


def features(
    frame: gpd.GeoDataFrame,
    *,
    title: pd.Series,
    facts: list[tuple[str, pd.Series]],
    marker: list[dict[str, Any]] | None = None,
    style: list[dict[str, Any]] | None = None,
    search: pd.Series | None = None,
    tag: str | None = None,
    note: tuple[str, pd.Series] | None = None,
    gcj02: bool = False,
    language: Language = "zh",
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection in WGS84 (or GCJ-02) with the properties the map's script reads.

    ``title`` and ``facts`` (label, values) become the popup; ``marker`` (points) and ``style`` (lines,
    polygons) are Leaflet path options per row; ``search`` is the ID the search box matches besides the title;
    ``tag`` is shown after this layer's search hits (``甲村 (V1) · 待核实``), to tell them from another layer's;
    ``note`` (heading, texts) is a highlighted block above the facts (what to check).
    """
    if frame.crs is None:
        msg = "map layer has no CRS; expected a GeoDataFrame in a projected metric CRS"
        raise LayerError(msg)
    geoms = _lonlat(np.asarray(frame.geometry.values), frame.crs, gcj02=gcj02)
    cols = [(name, s.to_numpy()) for name, s in facts]
    titles = title.to_numpy()
    ids = search.to_numpy() if search is not None else None
    notes = note[1].to_numpy() if note is not None else None
    out = []
    for i, geom in enumerate(geoms):
        if geom is None or shapely.is_empty(geom):
            continue
        props: dict[str, Any] = {
            "title": _fmt(titles[i], language),
            "facts": [[name, _fmt(vals[i], language)] for name, vals in cols],
        }
        if note is not None and notes is not None:
            props["note"] = [note[0], _fmt(notes[i], language)]
        if marker is not None:
            props["marker"] = marker[i]
        if style is not None:
            props["style"] = style[i]
        if ids is not None:
            props["search"] = str(ids[i])
            if tag:
                props["tag"] = tag
        out.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)), "properties": props})
    return {"type": "FeatureCollection", "features": out}


def column_or(frame: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    """Column ``name`` of ``frame``, or ``default`` on every row where the frame has no such column."""
    return frame[name] if name in frame else pd.Series(default, index=frame.index, dtype=object)


def coded(values: pd.Series, codes: str, lang: Language) -> pd.Series:
    """The planner's words for a column of codes (``broadband;4g`` -> 宽带、4G), empty where there is none."""
    return pd.Series([code_text(v, codes, lang) for v in values], index=values.index, dtype=object)


def _village_facts(v: pd.DataFrame, lang: Language) -> list[tuple[str, pd.Series]]:
    """Popup facts of villages: id, county, population, access, poor, the evidence per attribute, lacks."""
    status = column_or(v, "broadband", "unknown").fillna("unknown").astype(str)
    status_text = status.map(lambda s: label(f"bb_{s}" if f"bb_{s}" in _STATUS_KEYS else "bb_unknown", lang))
    return [
        (label("id", lang), v["village_id"]),
        (label("county", lang), column_or(v, "county")),
        (label("population", lang), column_or(v, "population")),
        (label("status", lang), status_text),
        (label("is_poor", lang), column_or(v, "is_poor", False).fillna(False).astype(bool)),
        *_village_evidence(v, lang),
        (label("lacks", lang), coded(column_or(v, "lacks", ""), "lacks", lang)),
    ]


#: The village attributes whose evidence a popup shows (``reported_a``, ``predicted_a``, ``status_a``,
#: ``evidence_a`` of :func:`planning.status.evidence.village_status`).
_ATTRIBUTES = ("fibre", "4g", "5g")


def _village_evidence(v: pd.DataFrame, lang: Language) -> list[tuple[str, pd.Series]]:
    """Per attribute (fibre, 4G, 5G) with a status: ``上报 是；模型预测 否 → 是（上报）`` (reported, predicted, the
    status the KPIs count and the evidence it rests on: measured > reported > predicted)."""
    words = {e: code_text(e, "evidence", lang) for e in ("measured", "reported", "predicted", "unknown")}
    sep = "；" if lang == "zh" else "; "
    out = []
    for a in _ATTRIBUTES:
        if f"status_{a}" not in v:
            continue
        rep, pre, sta = (column_or(v, f"{k}_{a}").to_numpy() for k in ("reported", "predicted", "status"))
        evi = column_or(v, f"evidence_{a}", "unknown").fillna("unknown").astype(str).to_numpy()
        text = [
            f"{words['reported']} {_fmt(r, lang)}{sep}{words['predicted']} {_fmt(p, lang)} → {_fmt(s, lang)}"
            + (f"（{words.get(e, e)}）" if lang == "zh" else f" ({words.get(e, e)})")
            for r, p, s, e in zip(rep, pre, sta, evi, strict=True)
        ]
        out.append((code_text(a, "access", lang), pd.Series(text, index=v.index, dtype=object)))
    return out


def village_features(v: gpd.GeoDataFrame, lang: Language, *, gcj02: bool) -> dict[str, Any]:
    status = column_or(v, "broadband", "unknown").fillna("unknown").astype(str)
    poor = column_or(v, "is_poor", False).fillna(False).astype(bool)
    marker = [
        {
            "radius": 5,
            "color": "#000000" if p else "#ffffff",
            "weight": 2 if p else 1,
            "fillOpacity": 0.9,
            "fillColor": STATUS_COLOURS.get(s, STATUS_COLOURS["unknown"]),
        }
        for s, p in zip(status, poor, strict=True)
    ]
    return features(
        v,
        title=v["name"],
        search=v["village_id"],
        gcj02=gcj02,
        language=lang,
        marker=marker,
        facts=_village_facts(v, lang),
    )


#: Label key of each intervention kind (the others are their own key).
_KIND_LABEL = {"fibre": "fibre_ext", "satellite": "satellite_link"}
_STATUS_KEYS = {"bb_fibre", "bb_5g", "bb_4g", "bb_none", "bb_unknown"}


def outlet_class(schools: pd.DataFrame, *, target_mbps: float) -> pd.Series:
    """``outlet_ok`` (the outlet counts at the target), ``outlet_low`` (connected, it does not) or
    ``not_connected`` per school.

    With a ``meets_outlet`` column (:func:`planning.status.evidence.school_status`) the outlet counts as the KPI
    counts it, by the programme's policy too: a 5G CPE at 150 Mbps for a primary school where fixed wireless
    counts only for teaching points is ``outlet_low``. Without one, ``outlet_mbps >= target_mbps``.
    """
    connected = column_or(schools, "connected", False).fillna(False).astype(bool)
    if "meets_outlet" in schools:
        ok = schools["meets_outlet"].astype("boolean").fillna(False).astype(bool)
    else:
        ok = pd.to_numeric(column_or(schools, "outlet_mbps", np.nan), errors="coerce").fillna(0.0) >= target_mbps
    return pd.Series(
        np.where(~connected, "not_connected", np.where(ok, "outlet_ok", "outlet_low")), index=schools.index
    )


def _school_facts(s: pd.DataFrame, lang: Language, *, target: float) -> list[tuple[str, pd.Series]]:
    """Popup facts of schools: id, kind, county, students, the access and outlet counted and their evidence,
    what was reported, what the models predict, the measured outlet, whether the outlet counts, lacks."""
    kind = s["kind"].astype(str)
    kind_text = kind.map(lambda k: label(k, lang) if k in ("primary", "secondary", "teaching_point") else k)
    cls = outlet_class(s, target_mbps=target)
    facts = [
        (label("id", lang), s["school_id"]),
        (label("kind", lang), kind_text),
        (label("county", lang), column_or(s, "county")),
        (label("students", lang), column_or(s, "students")),
        (label("access", lang), coded(column_or(s, "access"), "access", lang)),
        (label("outlet_mbps", lang), _mbps(s, "outlet_mbps")),
        (label("status", lang), cls.map(lambda c: label(c, lang))),
    ]
    if "evidence" in s:
        facts.append((label("evidence", lang), coded(s["evidence"], "evidence", lang)))
    for key in ("reported", "predicted"):
        if f"{key}_access" in s:
            facts.append((label(f"{key}_access", lang), _link_text(s, key, lang)))
    if "measured_mbps" in s:
        facts.append((label("measured_mbps", lang), _mbps(s, "measured_mbps")))
    if "meets_outlet" in s:
        facts.append((label("meets_outlet", lang), _counts_text(s, cls, lang, target=target)))
    if "lacks" in s:
        facts.append((label("lacks", lang), coded(s["lacks"], "lacks", lang)))
    return facts


def _mbps(s: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(column_or(s, column, np.nan), errors="coerce").round(1)


def _link_text(s: pd.DataFrame, key: str, lang: Language) -> pd.Series:
    """``光纤，100 Mbps`` of the reported or predicted link (``{key}_access``, ``{key}_mbps``); ``–`` if none."""
    sep = "，" if lang == "zh" else ", "
    mbps = _mbps(s, f"{key}_mbps").to_numpy()
    out = []
    for acc, bw in zip(column_or(s, f"{key}_access").to_numpy(), mbps, strict=True):
        word = code_text(acc, "access", lang)
        out.append((word + (f"{sep}{_fmt(float(bw), lang)} Mbps" if np.isfinite(bw) else "")) if word else "–")
    return pd.Series(out, index=s.index, dtype=object)


def _counts_text(s: pd.DataFrame, cls: pd.Series, lang: Language, *, target: float) -> pd.Series:
    """Whether the outlet counts at the target; a connected outlet at the target's speed that does not count is
    said to be ruled out by the policy (fixed wireless or satellite)."""
    outlet = pd.to_numeric(column_or(s, "outlet_mbps", np.nan), errors="coerce").fillna(0.0).to_numpy()
    keys = np.where(
        cls.to_numpy() == "outlet_ok",
        "yes",
        np.where((cls.to_numpy() == "outlet_low") & (outlet >= target), "not_counted", "no"),
    )
    out = [label(str(k), lang) for k in keys]
    return pd.Series(out, index=s.index, dtype=object)


def school_features(s: gpd.GeoDataFrame, lang: Language, *, gcj02: bool, target: float) -> dict[str, Any]:
    cls = outlet_class(s, target_mbps=target)
    kind = s["kind"].astype(str)
    marker = [
        {
            "radius": 4 if k == "teaching_point" else 6,
            "color": OUTLET_COLOURS[c],
            "weight": 3,
            "fillColor": "#ffffff",
            "fillOpacity": 1.0,
        }
        for k, c in zip(kind, cls, strict=True)
    ]
    return features(
        s,
        title=s["name"],
        search=s["school_id"],
        gcj02=gcj02,
        language=lang,
        marker=marker,
        facts=_school_facts(s, lang, target=target),
    )


#: The badge of a village or school to verify: an amber warning triangle up and to the right of the point, so
#: the point's own marker stays visible and clickable.
VERIFY_MARKER = {"shape": "badge", "radius": 8, "color": "#222222", "fillColor": "#ffb000"}


def verify_features(
    verification: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    lang: Language,
    *,
    gcj02: bool,
    target: float,
) -> dict[str, Any]:
    """The villages and schools of the verification list as badges: popup with the name, what to check, the id,
    the county and the row's evidence; found by the search box (tagged 待核实)."""
    layers = verification["layer"].astype(str).to_numpy()
    ids = verification["id"].astype(str).to_numpy()
    known = {}  # position of each `layer:id` in its layer (the first, should an id repeat)
    for layer, frame, idc in (("villages", villages, "village_id"), ("schools", schools, "school_id")):
        pos = pd.Series(np.arange(len(frame)), index=unit_key(layer, frame[idc]).to_numpy())
        known[layer] = pos[~pos.index.duplicated()]
    unknown = [i for i, layer in zip(ids, layers, strict=True) if layer not in known or i not in known[layer].index]
    if unknown:
        msg = (
            f"`verification` names {unknown[:5]} that are not in the villages or schools layers; expected ids "
            "`villages:ID` / `schools:ID` of these layers (planning.status.evidence.verification_list)"
        )
        raise ValueError(msg)
    out: list[dict[str, Any]] = []
    for layer, frame, idc in (("villages", villages, "village_id"), ("schools", schools, "school_id")):
        sel = layers == layer
        pos = known[layer]
        part = frame.iloc[pos.loc[ids[sel]].to_numpy()]
        what = [verify_text(w, lang) for w in verification["what"].fillna("").to_numpy()[sel]]
        own = _village_facts(part, lang) if layer == "villages" else _school_facts(part, lang, target=target)
        facts = [(label("layer", lang), pd.Series(code_text(layer, "layer", lang), index=part.index, dtype=object))]
        out += features(
            part,
            title=part["name"],
            search=part[idc],
            tag=label("verify", lang),
            note=(label("what", lang), pd.Series(what, index=part.index, dtype=object)),
            gcj02=gcj02,
            language=lang,
            marker=[VERIFY_MARKER] * len(part),
            facts=facts + own,
        )["features"]
    return {"type": "FeatureCollection", "features": out}


def proposal_batches(inter: gpd.GeoDataFrame | None, routes: gpd.GeoDataFrame | None):
    """(batch, interventions, route segments) per batch; a segment belongs to the first batch that needs it (its
    ``batch`` from the phasing when the routes carry one)."""
    if inter is None or not len(inter):
        return []
    batch_of: dict[str, int] = {}
    cids = column_or(inter, "candidate_id", "")
    for b, serves, kind, cid in zip(inter["batch"], inter["serves"], inter["kind"], cids, strict=True):
        if kind != "fibre" and not str(kind).startswith("new_site"):
            continue
        # a site's fibre backhaul trench serves the site itself (``candidates:<id>``)
        for label_ in [*str(serves).split(";"), f"candidates:{cid}"]:
            batch_of[label_] = min(int(b), batch_of.get(label_, 10**9))
    seg_batch = pd.Series(dtype=float)
    if routes is not None and len(routes) and "batch" in routes:
        seg_batch = routes["batch"].astype(float)
    elif routes is not None and len(routes):
        seg_batch = (
            routes["serves"]
            .astype(str)
            .map(lambda s: min((batch_of.get(x, 10**9) for x in s.split(";")), default=10**9))
        )
    out = []
    for b in sorted(int(x) for x in inter["batch"].unique()):
        segs = routes[seg_batch.to_numpy() == b] if routes is not None and len(routes) else None
        out.append((b, inter[inter["batch"] == b], segs))
    return out


def proposal_features(
    inter: gpd.GeoDataFrame, segs: gpd.GeoDataFrame | None, lang: Language, *, names: Mapping[str, str], gcj02: bool
) -> dict[str, Any]:
    def served(s: str) -> str:
        return served_text(s, names, limit=8, sep="、")

    kinds = inter["kind"].astype(str)

    def kind_label(k: str) -> str:
        return label(_KIND_LABEL.get(k, k), lang) if k in INTERVENTION_COLOURS else code_text(k, "kind", lang)

    kind_text = kinds.map(kind_label)
    back = column_or(inter, "backhaul", "").fillna("").astype(str)
    back_text = back.map(
        lambda b: label(b if b in ("microwave", "satellite", "existing") else "fibre_backhaul", lang) if b else "–"
    )
    marker = []
    for k in kinds:
        colour = INTERVENTION_COLOURS.get(k, "#7b3294")
        if k in ("fibre", "satellite"):
            marker.append(
                {
                    "radius": 7,
                    "color": colour,
                    "weight": 2,
                    "fill": False,
                    "dashArray": "3 2" if k == "fibre" else "1 3",
                }
            )
        else:
            marker.append(
                {
                    "shape": "star" if k == "new_site" else "diamond",
                    "radius": 9,
                    "color": "#222222",
                    "fillColor": colour,
                }
            )
    pts = features(
        inter,
        title=kind_text + " " + inter["candidate_id"].astype(str),
        search=inter["candidate_id"],
        gcj02=gcj02,
        language=lang,
        marker=marker,
        facts=[
            (label("kind", lang), kind_text),
            (label("cost_cny", lang), inter["cost_cny"].round(0)),
            (label("backhaul", lang), back_text),
            (label("batch_no", lang), inter["batch"]),
            (label("serves", lang), inter["serves"].map(served)),
        ],
    )
    if segs is not None and len(segs):
        lines = features(
            segs,
            title=pd.Series(label("route", lang), index=segs.index),
            search=None,
            gcj02=gcj02,
            language=lang,
            style=[{"color": ROUTE_COLOUR, "weight": 4, "opacity": 0.9}] * len(segs),
            facts=[
                (label("route_id", lang), segs["segment_id"]),
                (label("length_km", lang), (segs["length_m"] / 1000).round(2)),
                (label("cost_cny", lang), segs["cost_cny"].round(0)),
                (label("serves", lang), segs["serves"].map(served)),
            ],
        )
        pts["features"] = lines["features"] + pts["features"]
    return pts
