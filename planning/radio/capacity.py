"""Busy-hour capacity: the load villages put on their cells and the rate a user or a school can count on.

Resource-share model (the ITU/Giga capacity check: the resources left after the population's busy-hour load):

* a village asks for ``population x subscribers_per_person x busy-hour Mbps per subscriber``
  (:func:`offered_mbps`); its serving cell carries the share of those subscribers that the cell's operator (RAN
  group) has, split between 4G and 5G where both cover it (``nr_traffic_share`` on 5G);
* a cell is a site's sector (a row without azimuth is three sectors); its load is the share of its resources that
  traffic takes: ``sum(offered_i / peak_i) / carriers`` over the villages it serves, each at its own single-user
  peak rate on one carrier, spread over the sector's carriers (:func:`cell_load`) -- a village at the cell edge
  costs more resources per Mbps than one next to the mast;
* a user's busy-hour (sustained) rate is its peak rate times the resources left, shared by the users that need
  them at the same time: ``peak x max(1 - load, 0) / users`` (:func:`sustained_rate_mbps`; the mean rate of an
  elastic flow in a processor-sharing cell); for schools ``users`` is the number of schools on the cell;
* a school asks for ``max(outlet target, students x mbps_per_student)`` (:func:`school_demand_mbps`) down and
  its live classrooms' video up (:func:`school_uplink_demand_mbps`); it meets its link only where both directions
  carry their demand at the busy hour.

Every function here is geometry-free; :func:`busy_hour` applies them to the coverage stage's rows.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from gis.settings import CapacitySettings

logger = logging.getLogger(__name__)

__all__ = [
    "busy_hour",
    "busy_hour_mbps_per_subscriber",
    "cell_load",
    "offered_mbps",
    "school_demand_mbps",
    "school_uplink_demand_mbps",
    "sustained_rate_mbps",
]

#: Megabits in a (decimal) gigabyte.
MBIT_PER_GB = 8000.0
#: Days in the month of the monthly traffic figure (DOU).
DAYS_PER_MONTH = 30.0


def busy_hour_mbps_per_subscriber(monthly_gb: float, busy_hour_share: float) -> float:
    """Mean rate of one subscriber in the busy hour (Mbps): ``monthly_gb x 8000 / 30 x busy_hour_share / 3600``.

    19 GB a month and 8 % of a day's traffic in the busy hour give 0.113 Mbps.
    """
    return monthly_gb * MBIT_PER_GB / DAYS_PER_MONTH * busy_hour_share / 3600.0


def offered_mbps(population: np.ndarray, *, capacity: CapacitySettings) -> np.ndarray:
    """Busy-hour traffic of villages (Mbps, all operators): population x subscribers per person x busy-hour rate."""
    per_sub = busy_hour_mbps_per_subscriber(capacity.monthly_gb_per_subscriber, capacity.busy_hour_share)
    return np.asarray(population, dtype=float) * capacity.subscribers_per_person * per_sub


def school_demand_mbps(students: np.ndarray, *, outlet_mbps: float, mbps_per_student: float) -> np.ndarray:
    """What a school asks for (Mbps): ``max(outlet_mbps, students x mbps_per_student)``."""
    return np.maximum(outlet_mbps, np.asarray(students, dtype=float) * mbps_per_student)


def school_uplink_demand_mbps(students: np.ndarray, *, capacity: CapacitySettings) -> np.ndarray:
    """What a school sends up at the same time (Mbps): its live classrooms' video (同步课堂/专递课堂),
    ``min(ceil(students / students_per_class), live_classes) x classroom_stream_mbps`` (0 without students).

    With the defaults (45 per class, one live class, 4 Mbps 1080p) every school with a student asks for 4 Mbps.
    """
    st = np.maximum(np.asarray(students, dtype=float), 0.0)
    classes = np.ceil(st / float(capacity.students_per_class))
    return np.minimum(classes, float(capacity.live_classes)) * capacity.classroom_stream_mbps


def sustained_rate_mbps(
    peak_mbps: np.ndarray, load_share: np.ndarray | float, users: np.ndarray | float = 1.0
) -> np.ndarray:
    """Rate a user can count on at the busy hour (Mbps): ``peak x max(1 - load, 0) / users``.

    Parameters
    ----------
    peak_mbps : array
        The user's rate alone in the cell (Mbps).
    load_share : array
        Share of the cell's resources the other traffic takes at the busy hour (1 or more: nothing is left).
    users : array or float
        Users sharing what is left at the same time (at least 1).
    """
    left = np.clip(1.0 - np.asarray(load_share, dtype=float), 0.0, 1.0)
    return np.asarray(peak_mbps, dtype=float) * left / np.maximum(np.asarray(users, dtype=float), 1.0)


def cell_load(
    cell_ids: np.ndarray, offered: np.ndarray, peak_mbps: np.ndarray, carriers: np.ndarray | float = 1.0
) -> pd.Series:
    """Busy-hour load of each cell (a sector of a site): ``sum(offered / peak) / carriers`` over its points (those
    without a cell or a peak rate add nothing), ``peak`` being a point's single-user rate on one carrier and
    ``carriers`` the cell's (per point, the serving cell's; at least 1). Returns the load indexed by cell id.

    E.g. 30 subscribers at 0.113 Mbps on a cell whose single-user peak there is 50 Mbps take 3.39 / 50 = 6.8 % of
    one carrier, 3.4 % of two.
    """
    cells = pd.Series(cell_ids, dtype=object)
    peak = np.asarray(peak_mbps, dtype=float)
    n_car = np.maximum(np.broadcast_to(np.asarray(carriers, dtype=float), peak.shape), 1.0)
    ok = cells.notna().to_numpy() & (peak > 0.0)
    share = np.zeros(len(peak))
    share[ok] = np.asarray(offered, dtype=float)[ok] / peak[ok] / n_car[ok]
    return pd.Series(share[ok], index=cells[ok].to_numpy()).groupby(level=0).sum()


def _tech_split(villages: pd.DataFrame, nr_share: float) -> dict[str, np.ndarray]:
    """Share of each village's traffic on 4G and 5G: ``nr_share`` on 5G where both cover it, all on the one that
    does otherwise, none where neither does."""
    c4 = villages["4g_covered"].to_numpy(dtype=bool)
    c5 = villages["5g_covered"].to_numpy(dtype=bool)
    return {
        "5g": np.where(c5, np.where(c4, nr_share, 1.0), 0.0),
        "4g": np.where(c4, np.where(c5, 1.0 - nr_share, 1.0), 0.0),
    }


def busy_hour(
    villages: pd.DataFrame,
    schools: pd.DataFrame,
    *,
    population: np.ndarray,
    students: np.ndarray,
    share_of_site: pd.Series,
    capacity: CapacitySettings,
    outlet_mbps: float,
    carriers_of_site: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage rows of villages (handheld) and schools (CPE) with the busy hour applied.

    Parameters
    ----------
    villages, schools : DataFrame
        :func:`planning.radio.coverage.coverage` output (``{t}_cell_id``, ``{t}_site_id``, ``{t}_peak_mbps``,
        ``{t}_covered``; for schools ``{t}_ul_mbps``).
    population, students : array
        Aligned with ``villages`` / ``schools``.
    share_of_site : Series
        Subscriber share of each site's operator (RAN group), by ``site_id``
        (:func:`planning.radio.coverage.market_shares`).
    capacity : CapacitySettings
    outlet_mbps : float
        The school outlet target.
    carriers_of_site : Series, optional
        Carriers per sector of each site, by ``site_id`` (:attr:`planning.radio.coverage.SiteTable.carriers`);
        1 where missing.

    Returns
    -------
    (DataFrame, DataFrame)
        Copies with ``demand_mbps`` (a village's busy-hour traffic over all operators; a school's demand) and per tech
        ``{t}_cell_load`` (load of the serving cell from the villages, per carrier) and ``{t}_throughput_mbps`` set to
        the sustained rate (villages: one user; schools: the schools on the cell share what is left). Schools also
        get ``ul_demand_mbps`` (:func:`school_uplink_demand_mbps`), per tech ``{t}_ul_throughput_mbps`` (their
        uplink rate shared by the schools on the cell) and ``{t}_ul_meets``; a school's ``{t}_throughput_mbps`` is
        0 where its uplink demand is not met (a link counts only when both directions carry their demand).
    """
    v, s = villages.copy(), schools.copy()
    v["demand_mbps"] = np.round(offered_mbps(population, capacity=capacity), 3)
    s["demand_mbps"] = school_demand_mbps(students, outlet_mbps=outlet_mbps, mbps_per_student=capacity.mbps_per_student)
    s["ul_demand_mbps"] = school_uplink_demand_mbps(students, capacity=capacity)
    split = _tech_split(v, capacity.nr_traffic_share)
    carriers = carriers_of_site if carriers_of_site is not None else pd.Series(dtype=float)
    for t in ("4g", "5g"):
        share = v[f"{t}_site_id"].map(share_of_site).fillna(0.0).to_numpy(dtype=float)
        offered = v["demand_mbps"].to_numpy(dtype=float) * share * split[t]
        n_car = v[f"{t}_site_id"].map(carriers).fillna(1.0).to_numpy(dtype=float)
        peak = v[f"{t}_peak_mbps"].to_numpy(dtype=float)
        load = cell_load(v[f"{t}_cell_id"].to_numpy(dtype=object), offered, peak, n_car)
        _apply_load(v, t, load, fixed=False)
        _apply_load(s, t, load, fixed=True)
        logger.info(
            "busy hour %s: %d cells loaded, %d at or over capacity; %.0f Mbps offered",
            t,
            len(load),
            int((load >= 1.0).sum()),
            float(offered.sum()),
        )
    return v, s


def _apply_load(frame: pd.DataFrame, t: str, load: pd.Series, *, fixed: bool) -> None:
    """Set ``{t}_cell_load`` and the busy-hour ``{t}_throughput_mbps`` of ``frame`` in place: one user on its cell
    (villages), or the schools on the cell sharing what is left (``fixed``), whose uplink must carry their
    ``ul_demand_mbps`` as well (``{t}_ul_throughput_mbps``, ``{t}_ul_meets``; not tested without ``{t}_ul_mbps``)."""
    cells = frame[f"{t}_cell_id"]
    own = cells.map(load).fillna(0.0).to_numpy(dtype=float)
    users: np.ndarray | float = 1.0
    if fixed:
        on = cells.where(frame[f"{t}_covered"].to_numpy(dtype=bool))
        users = on.map(on.value_counts()).fillna(1.0).to_numpy(dtype=float)
    frame[f"{t}_cell_load"] = np.round(np.where(cells.notna(), own, np.nan), 4)
    rate = sustained_rate_mbps(frame[f"{t}_peak_mbps"].to_numpy(dtype=float), own, users)
    if fixed and f"{t}_ul_mbps" in frame:
        ul = sustained_rate_mbps(frame[f"{t}_ul_mbps"].fillna(0.0).to_numpy(dtype=float), 0.0, users)
        ul = np.where(frame[f"{t}_covered"].to_numpy(dtype=bool), ul, 0.0)
        meets = frame[f"{t}_covered"].to_numpy(dtype=bool) & (ul >= frame["ul_demand_mbps"].to_numpy(dtype=float))
        frame[f"{t}_ul_throughput_mbps"] = np.round(ul, 3)
        frame[f"{t}_ul_meets"] = meets
        rate = np.where(meets, rate, 0.0)
    frame[f"{t}_throughput_mbps"] = np.round(rate, 2)
