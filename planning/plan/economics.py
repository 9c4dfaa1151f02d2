"""Lifecycle economics and funding: what an intervention costs over its life, and who pays.

**Present value** (:func:`present_value`): capex at year 0 (civil works once; equipment again every
``equipment_life_years`` within the horizon), plus the yearly opex paid at the end of each year 1..H, all
discounted at ``discount_rate``:

    PV = civil + equipment x sum_{k >= 0, kL < H} (1 + r)^(-kL) + opex x (1 - (1 + r)^(-H)) / r

No residual value is credited at the horizon (the conservative reading: a plan must not rest on what is left
after it). With r = 0 the annuity is H.

**Funding** (:func:`funding_split`): the universal-service model "中央资金引导、地方协调支持、企业为主推进": central
finance subsidises a share of the eligible investment (capex; opex is the operator's), the province or county
may add a share, the operator funds the rest. Shares may differ by batch (early pilot batches had other rates).

Geometry-free: arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def annuity_factor(discount_rate: float, years: int) -> float:
    """Present value of 1 CNY paid at the end of each of ``years`` years at ``discount_rate``."""
    if years <= 0:
        return 0.0
    if discount_rate == 0:
        return float(years)
    return (1.0 - (1.0 + discount_rate) ** (-years)) / discount_rate


def renewal_factor(discount_rate: float, horizon_years: int, life_years: int) -> float:
    """Present value of buying 1 CNY of equipment now and again every ``life_years`` within the horizon."""
    if life_years <= 0:
        msg = f"`life_years` = {life_years}; expected >= 1"
        raise ValueError(msg)
    starts = np.arange(0, max(horizon_years, 1), life_years)
    return float(np.sum((1.0 + discount_rate) ** (-starts.astype(float))))


def present_value(
    civil_cny: np.ndarray,
    equipment_cny: np.ndarray,
    opex_cny_per_year: np.ndarray,
    *,
    horizon_years: int,
    discount_rate: float,
    equipment_life_years: int,
) -> np.ndarray:
    """Lifecycle cost (CNY, present value) per intervention (module docstring).

    Parameters
    ----------
    civil_cny : array
        Capex built once: trenches, towers, civil works, grid connection (CNY).
    equipment_cny : array
        Capex renewed every ``equipment_life_years``: radio equipment, terminals, microwave radios (CNY).
    opex_cny_per_year : array
        Yearly running cost: leases, electricity, maintenance, fees, line rental (CNY per year).
    """
    civil = np.asarray(civil_cny, dtype=float)
    equip = np.asarray(equipment_cny, dtype=float)
    opex = np.asarray(opex_cny_per_year, dtype=float)
    return (
        civil
        + equip * renewal_factor(discount_rate, horizon_years, equipment_life_years)
        + opex * annuity_factor(discount_rate, horizon_years)
    )


def central_rate(batch: np.ndarray, *, central_share: float, by_batch: Sequence[float] = ()) -> np.ndarray:
    """The central subsidy rate of each batch: ``by_batch[b - 1]`` where given, else ``central_share``."""
    b = np.asarray(batch, dtype=np.int64)
    table = np.asarray(list(by_batch), dtype=float)
    rate = np.full(len(b), float(central_share))
    known = (b >= 1) & (b <= len(table))
    rate[known] = table[b[known] - 1]
    return rate


def funding_split(
    capex_cny: np.ndarray,
    batch: np.ndarray,
    *,
    central_share: float,
    local_share: float,
    central_share_by_batch: Sequence[float] = (),
    eligible: np.ndarray | None = None,
) -> pd.DataFrame:
    """Who pays each intervention's capex: ``central_cny`` (the central subsidy: its batch's rate x the eligible
    capex), ``local_cny`` (``local_share`` x eligible capex), ``operator_cny`` (the rest); they add up to
    ``capex_cny``. ``eligible`` (bool per intervention, default all): capex the programme subsidises."""
    capex = np.asarray(capex_cny, dtype=float)
    ok = np.ones(len(capex), dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    rate = central_rate(batch, central_share=central_share, by_batch=central_share_by_batch)
    if np.any(rate + local_share > 1.0 + 1e-12):
        msg = f"central ({rate.max():g}) and local ({local_share:g}) shares add up to more than 1"
        raise ValueError(msg)
    central = np.where(ok, rate * capex, 0.0)
    local = np.where(ok, local_share * capex, 0.0)
    return pd.DataFrame({"central_cny": central, "local_cny": local, "operator_cny": capex - central - local})
