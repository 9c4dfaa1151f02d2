"""Who builds each intervention (承建企业) and who owns its tower: the operators' and China Tower's parts of a plan.

:func:`allocate_builders` gives every chosen intervention a building operator by a stated rule, the first that
applies:

1. ``tower``: a 5G upgrade is built by the operator of the site it upgrades, a share by the tenant the candidate
   was priced for (the planning operator);
2. ``county``: the operator the project names for the intervention's county (``[[application.county_operators]]``);
3. ``presence``: the operator (China Mobile, China Telecom, China Unicom; China Broadcasting Network's sites count
   as China Mobile's) with the most existing sites within ``presence_radius_m`` of the intervention, ties to the
   larger market share;
4. ``market_share``: the operator furthest below its share of the tasks allocated so far (``[radio] operators``
   ``market_share``), in the plan's order (batch, then cost).

With ``ran_sharing`` a radio task built by China Telecom or China Unicom names the other as ``ran_partner``
(共建共享: one builds, both use it); the two split its money and its lease. A new site's tower is China
Tower's (``[costs] tower_owner``) with one tenant; a share makes an existing China Tower tower's second tenant;
each pays the lease of :func:`planning.plan.economics.tower_lease_cny_per_year` (part of its opex).

Geometry-free except for the point locations (metres, the layers' metric CRS).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gis.schema import operator_code
from gis.settings import BUILDERS, ApplicationSettings, CostSettings, OperatorRule
from planning.plan.economics import tower_lease_cny_per_year

__all__ = [
    "RAN_KINDS",
    "TOWER_KINDS",
    "allocate_builders",
    "builder_shares",
    "market_shares",
    "operator_money",
    "with_builders",
]

#: Interventions that put radio equipment on a tower (a RAN-sharing pair builds them for each other).
RAN_KINDS = ("new_site", "share", "share_5g", "upgrade_5g")
#: Interventions that rent a China Tower tower: a new tower (one tenant) or a share (a second tenant).
TOWER_KINDS = ("new_site", "share", "share_5g")
#: The partner of each operator in the China Telecom / China Unicom RAN sharing (since 2019).
RAN_PARTNER = {"CTCC": "CUCC", "CUCC": "CTCC"}


def _builder_code(value: object) -> str:
    """A sites-layer operator as a building operator: CBN's sites count as CMCC's; others not building are ''."""
    code = operator_code(str(value)) if isinstance(value, str) and value.strip() else ""
    code = "CMCC" if code == "CBN" else code
    return code if code in BUILDERS else ""


def market_shares(operators: tuple[OperatorRule, ...]) -> dict[str, float]:
    """The building operators' shares of subscribers (``[radio] operators``), normalised to 1 among them (CBN's
    share goes to CMCC); equal shares when no rule names any of them."""
    raw = dict.fromkeys(BUILDERS, 0.0)
    for r in operators:
        code = _builder_code(r.operator)
        if code:
            raw[code] += float(r.market_share)
    total = sum(raw.values())
    return {k: (v / total if total > 0 else 1.0 / len(BUILDERS)) for k, v in raw.items()}


def _presence(xy: np.ndarray, sites_xy: np.ndarray, site_builder: np.ndarray, radius_m: float) -> np.ndarray:
    """Per point and building operator: existing sites within ``radius_m`` (n x len(BUILDERS))."""
    out = np.zeros((len(xy), len(BUILDERS)), dtype=np.int64)
    if not len(xy) or not len(sites_xy) or radius_m <= 0:
        return out
    tree = cKDTree(sites_xy)
    for i, near in enumerate(tree.query_ball_point(xy, r=radius_m)):
        for j in near:
            if site_builder[j]:
                out[i, BUILDERS.index(site_builder[j])] += 1
    return out


def allocate_builders(
    chosen: pd.DataFrame,
    xy: np.ndarray,
    *,
    sites_xy: np.ndarray,
    site_operator: np.ndarray,
    shares: Mapping[str, float],
    settings: ApplicationSettings,
    costs: CostSettings,
) -> pd.DataFrame:
    """The building operator of each intervention (module docstring), in ``chosen``'s order.

    Parameters
    ----------
    chosen : DataFrame
        The interventions: ``kind``, ``operator`` (the candidate's: the planner, or the upgraded site's),
        ``county``.
    xy : ndarray
        (n, 2) locations of the interventions (m, metric CRS).
    sites_xy, site_operator : ndarray
        Existing sites' locations (m) and ``operator`` values.
    shares : mapping
        Market share of each building operator (:func:`market_shares`).
    settings : ApplicationSettings
        ``presence_radius_m``, ``ran_sharing``, ``county_operators``.
    costs : CostSettings
        ``tower_owner`` and the lease (:func:`planning.plan.economics.tower_lease_cny_per_year`).

    Returns
    -------
    DataFrame
        Same index: ``builder``, ``ran_partner`` ('' if none), ``allocation_rule`` (``tower``, ``county``,
        ``presence``, ``market_share``), ``tower_owner`` (``china_tower``, ``operator`` or ''), ``tower_tenants``
        and ``tower_lease_cny_per_year`` (the tenant's lease, already within the opex).
    """
    n = len(chosen)
    kind = chosen["kind"].astype(str).to_numpy()
    own = np.array([_builder_code(o) for o in chosen.get("operator", pd.Series([""] * n)).to_numpy()], dtype=object)
    county_of = {r.county: operator_code(r.operator) for r in settings.county_operators}
    counties = chosen["county"].astype(str).to_numpy() if "county" in chosen else np.full(n, "")
    site_builder = np.array([_builder_code(o) for o in site_operator], dtype=object)
    present = _presence(np.asarray(xy, dtype=float).reshape(-1, 2), sites_xy, site_builder, settings.presence_radius_m)
    share = np.array([float(shares.get(b, 0.0)) for b in BUILDERS])
    count = np.zeros(len(BUILDERS))
    builder = np.full(n, "", dtype=object)
    rule = np.full(n, "", dtype=object)
    for i in range(n):
        if kind[i] in ("upgrade_5g", "share", "share_5g") and own[i]:
            builder[i], rule[i] = own[i], "tower"
        elif counties[i] in county_of:
            builder[i], rule[i] = county_of[counties[i]], "county"
        elif present[i].max() > 0:
            best = np.lexsort((-share, -present[i]))[0]  # most sites nearby, then the larger market share
            builder[i], rule[i] = BUILDERS[best], "presence"
        else:  # the operator furthest below its market share of the tasks so far
            deficit = share * (count.sum() + 1) - count
            builder[i], rule[i] = BUILDERS[int(np.lexsort((-share, -deficit))[0])], "market_share"
        count[BUILDERS.index(builder[i])] += 1
    ran = np.isin(kind, RAN_KINDS)
    partner = np.array(
        [RAN_PARTNER.get(b, "") if settings.ran_sharing and r else "" for b, r in zip(builder, ran, strict=True)],
        dtype=object,
    )
    new_tower = (kind == "new_site") & (costs.tower_owner == "china_tower")
    shared = np.isin(kind, ("share", "share_5g"))
    tenants = np.where(shared, 2, np.where(new_tower, 1, 0))
    owner = np.where(shared | new_tower, "china_tower", np.where(kind == "new_site", "operator", ""))
    return pd.DataFrame(
        {
            "builder": builder,
            "ran_partner": partner,
            "allocation_rule": rule,
            "tower_owner": owner,
            "tower_tenants": tenants,
            "tower_lease_cny_per_year": tower_lease_cny_per_year(tenants, costs),
        },
        index=chosen.index,
    )


def builder_shares(chosen: pd.DataFrame) -> pd.DataFrame:
    """Per intervention and building operator, its part (1; 0.5 each for a RAN-shared pair): one column per
    operator of :data:`gis.settings.BUILDERS`."""
    out = pd.DataFrame(0.0, index=chosen.index, columns=list(BUILDERS))
    for i, (b, p) in enumerate(zip(chosen["builder"], chosen["ran_partner"], strict=True)):
        if b in out.columns:
            out.iloc[i, out.columns.get_loc(b)] += 0.5 if p else 1.0
        if p in out.columns:
            out.iloc[i, out.columns.get_loc(p)] += 0.5
    return out


#: Money columns an operator's table sums (CNY; opex per year).
OPERATOR_MONEY = ("capex_cny", "opex_cny_per_year", "tower_lease_cny_per_year", "central_cny", "operator_cny")


def operator_money(chosen: pd.DataFrame) -> pd.DataFrame:
    """Per building operator: ``tasks`` (a RAN-shared task counts half to each), ``tasks_share``, the money of
    :data:`OPERATOR_MONEY` at each one's part, ``capex_share``; then China Tower: the new towers it owns
    (``tasks``), the shares on its towers (``shared_towers``) and the leases it receives per year."""
    part = builder_shares(chosen)
    rows = []
    total_capex = float(chosen["capex_cny"].sum()) if "capex_cny" in chosen else 0.0
    for op in BUILDERS:
        w = part[op].to_numpy()
        row: dict[str, object] = {"operator": op, "tasks": float(w.sum())}
        row["tasks_share"] = float(w.sum() / len(chosen)) if len(chosen) else 0.0
        for col in OPERATOR_MONEY:
            row[col] = float((w * chosen[col].to_numpy(dtype=float)).sum()) if col in chosen else 0.0
        row["capex_share"] = float(row["capex_cny"]) / total_capex if total_capex > 0 else 0.0  # type: ignore[arg-type]
        row["shared_towers"] = 0
        rows.append(row)
    tower = chosen["tower_owner"].astype(str).to_numpy() == "china_tower"
    kind = chosen["kind"].astype(str).to_numpy()
    lease = chosen["tower_lease_cny_per_year"].to_numpy(dtype=float)
    rows.append(
        {
            "operator": "china_tower",
            "tasks": float((tower & (kind == "new_site")).sum()),
            "shared_towers": int((tower & (kind != "new_site")).sum()),
            "tower_lease_cny_per_year": float(lease[tower].sum()),
        }
    )
    return pd.DataFrame(rows)


def with_builders(
    chosen: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    operators: tuple[OperatorRule, ...],
    settings: ApplicationSettings,
    costs: CostSettings,
) -> gpd.GeoDataFrame:
    """``chosen`` with the columns of :func:`allocate_builders` (sites without an ``operator`` column give no
    presence: the market-share rule then decides)."""
    out = chosen.copy()
    if not len(out):
        for col in ("builder", "ran_partner", "allocation_rule", "tower_owner"):
            out[col] = pd.Series(dtype=object)
        out["tower_tenants"] = pd.Series(dtype=np.int64)
        out["tower_lease_cny_per_year"] = pd.Series(dtype=float)
        return out
    xy = shapely.get_coordinates(np.asarray(out.geometry.centroid.values))
    sxy = shapely.get_coordinates(np.asarray(sites.geometry.values)) if len(sites) else np.zeros((0, 2))
    ops = sites["operator"].to_numpy(dtype=object) if "operator" in sites else np.full(len(sites), "", dtype=object)
    alloc = allocate_builders(
        out, xy, sites_xy=sxy, site_operator=ops, shares=market_shares(operators), settings=settings, costs=costs
    )
    out[alloc.columns] = alloc
    return out
