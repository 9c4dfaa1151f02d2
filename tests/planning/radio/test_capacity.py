"""Busy-hour capacity: offered traffic, cell load, sustained rates; a school below target at the busy hour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis.settings import CapacitySettings, RadioSettings
from planning.radio.capacity import (
    busy_hour,
    busy_hour_mbps_per_subscriber,
    cell_load,
    offered_mbps,
    school_demand_mbps,
    school_uplink_demand_mbps,
    sustained_rate_mbps,
)
from planning.radio.coverage import market_shares

CAP = CapacitySettings()


def test_offered_traffic_from_dou_and_penetration():
    per_sub = busy_hour_mbps_per_subscriber(19.0, 0.08)
    assert per_sub == pytest.approx(19.0 * 8000.0 / 30.0 * 0.08 / 3600.0)  # 0.1126 Mbps
    assert per_sub == pytest.approx(0.11259, abs=1e-5)
    # a village of 1,500: 990 mobile internet users x 0.1126 Mbps = 111.5 Mbps at the busy hour (all operators)
    assert offered_mbps(np.array([1500.0]), capacity=CAP)[0] == pytest.approx(1500 * 0.66 * per_sub)
    assert school_demand_mbps(np.array([300.0, 1765.0]), outlet_mbps=100.0, mbps_per_student=0.1) == pytest.approx(
        [100.0, 176.5]
    )


def test_sustained_rate_and_cell_load():
    assert sustained_rate_mbps(
        np.array([176.0, 176.0, 176.0]), np.array([0.5, 1.3, 0.0]), np.array([2.0, 1.0, 1.0])
    ) == (pytest.approx([44.0, 0.0, 176.0]))
    # two villages on cell A (60 Mbps at a 120 Mbps peak, 20 at 40): load 0.5 + 0.5; one on B; none without a cell
    load = cell_load(
        np.array(["A", "A", "B", None], dtype=object),
        np.array([60.0, 20.0, 10.0, 99.0]),
        np.array([120.0, 40.0, 100.0, 50.0]),
    )
    assert load.to_dict() == pytest.approx({"A": 1.0, "B": 0.1})


def _cov(cells4, peaks4, covered4, cells5=None, peaks5=None, covered5=None):
    n = len(cells4)
    cells5 = cells5 or [None] * n
    return pd.DataFrame(
        {
            "4g_site_id": [c.split("/")[0] if c else None for c in cells4],
            "4g_cell_id": cells4,
            "4g_peak_mbps": peaks4,
            "4g_covered": covered4,
            "5g_site_id": [c.split("/")[0] if c else None for c in cells5],
            "5g_cell_id": cells5,
            "5g_peak_mbps": peaks5 or [0.0] * n,
            "5g_covered": covered5 or [False] * n,
        }
    )


def test_busy_hour_leaves_a_school_below_target_though_its_peak_is_above():
    """One LTE cell (CMCC, 56 % of subscribers) serves two villages and a school whose CPE peak is 176 Mbps."""
    per_sub = busy_hour_mbps_per_subscriber(19.0, 0.08)
    villages = _cov(["T1/1", "T1/1"], [80.0, 40.0], [True, True])
    schools = _cov(["T1/1"], [176.0], [True])
    share = pd.Series(market_shares(np.array(["CMCC"], dtype=object), RadioSettings()), index=["T1"])
    assert share["T1"] == pytest.approx(0.57)  # China Mobile + China Broadcasting Network (one RAN group)
    pop = np.array([400.0, 300.0])
    v, s = busy_hour(
        villages,
        schools,
        population=pop,
        students=np.array([120.0]),
        share_of_site=share,
        capacity=CAP,
        outlet_mbps=100.0,
    )
    offered = pop * 0.66 * per_sub * 0.57  # 4G only: all of the village's traffic on the cell
    load = offered[0] / 80.0 + offered[1] / 40.0
    assert load == pytest.approx(0.5295, abs=1e-4)
    assert v["4g_cell_load"].tolist() == pytest.approx([round(load, 4)] * 2)
    assert v["4g_throughput_mbps"].tolist() == pytest.approx([80 * (1 - load), 40 * (1 - load)], abs=0.01)
    assert s.loc[0, "4g_peak_mbps"] >= 100.0
    assert s.loc[0, "4g_throughput_mbps"] == pytest.approx(176.0 * (1 - load), abs=0.01)  # 82.8 Mbps
    assert s.loc[0, "4g_throughput_mbps"] < 100.0
    assert s.loc[0, "demand_mbps"] == 100.0  # 120 students x 0.1 Mbps < the outlet target
    assert v["demand_mbps"].tolist() == pytest.approx(pop * 0.66 * per_sub, abs=1e-3)


def test_busy_hour_splits_traffic_between_4g_and_5g_and_schools_share_a_cell():
    villages = _cov(["T1/2"], [100.0], [True], cells5=["T9/2"], peaks5=[500.0], covered5=[True])
    schools = _cov(["T1/2", "T1/2", "T1/3"], [150.0, 150.0, 150.0], [True, True, True])
    share = pd.Series([1.0, 1.0], index=["T1", "T9"])
    v, s = busy_hour(
        villages,
        schools,
        population=np.array([1000.0]),
        students=np.zeros(3),
        share_of_site=share,
        capacity=CAP,
        outlet_mbps=100.0,
    )
    offered = 1000 * 0.66 * busy_hour_mbps_per_subscriber(19.0, 0.08)
    assert v.loc[0, "4g_cell_load"] == pytest.approx(round(offered * 0.4 / 100.0, 4))  # 40 % on 4G
    assert v.loc[0, "5g_cell_load"] == pytest.approx(round(offered * 0.6 / 500.0, 4))  # 60 % on 5G
    left = 1 - offered * 0.4 / 100.0
    # two schools on sector 2 share what is left; the school on sector 3 has its sector to itself
    assert s["4g_throughput_mbps"].tolist() == pytest.approx([150 * left / 2, 150 * left / 2, 150.0], abs=0.01)
    assert s["4g_cell_load"].tolist() == pytest.approx([round(1 - left, 4), round(1 - left, 4), 0.0])


def test_a_cells_load_from_n_subscribers_per_sector_carrier():
    """400 people x 0.66 = 264 subscribers, 57 % of them CMCC's: 150.48 x 0.11259 Mbps = 16.94 Mbps at the busy
    hour; at a 50 Mbps single-user peak that is 33.9 % of one carrier, 16.9 % of two."""
    offered = offered_mbps(np.array([400.0]), capacity=CAP)[0] * 0.57
    assert offered == pytest.approx(400 * 0.66 * 0.57 * 19.0 * 8000.0 / 30.0 * 0.08 / 3600.0)
    assert offered == pytest.approx(16.943, abs=1e-3)
    one = cell_load(np.array(["T1/2"], dtype=object), np.array([offered]), np.array([50.0]))
    two = cell_load(np.array(["T1/2"], dtype=object), np.array([offered]), np.array([50.0]), np.array([2.0]))
    assert one["T1/2"] == pytest.approx(0.33886, abs=1e-5)
    assert two["T1/2"] == pytest.approx(one["T1/2"] / 2.0)
    # the stage's path: the site's carriers per sector come by site id; three villages, two sectors
    villages = _cov(["T1/1", "T1/1", "T1/2"], [50.0, 25.0, 50.0], [True, True, True])
    schools = _cov(["T1/1"], [150.0], [True])
    v, _ = busy_hour(
        villages,
        schools,
        population=np.array([400.0, 400.0, 400.0]),
        students=np.array([30.0]),
        share_of_site=pd.Series([0.57], index=["T1"]),
        capacity=CAP,
        outlet_mbps=100.0,
        carriers_of_site=pd.Series([2.0], index=["T1"]),
    )
    per_village = offered_mbps(np.array([400.0]), capacity=CAP)[0] * 0.57  # rounded demand: within 1e-3 Mbps
    assert v["4g_cell_load"].tolist() == pytest.approx(
        [(per_village / 50 + per_village / 25) / 2] * 2 + [per_village / 50 / 2], abs=1e-4
    )


def test_school_uplink_demand_from_classroom_video():
    # 45 students per class, one live class at 4 Mbps: every school with a student sends 4 Mbps up
    assert school_uplink_demand_mbps(np.array([0.0, 5.0, 45.0, 900.0]), capacity=CAP) == pytest.approx(
        [0.0, 4.0, 4.0, 4.0]
    )
    two = CapacitySettings(live_classes=2)
    assert school_uplink_demand_mbps(np.array([5.0, 46.0, 900.0]), capacity=two) == pytest.approx([4.0, 8.0, 8.0])


def test_a_school_whose_uplink_demand_is_not_met_has_no_link():
    """Three schools with a 150 Mbps downlink: one alone on its cell with a 3 Mbps uplink (below the 4 Mbps of one
    classroom's video), two sharing a cell with 6 Mbps each (3 Mbps each when shared), one alone at 10 Mbps."""
    villages = _cov(["T1/1"], [100.0], [True])
    schools = _cov(["T1/1", "T1/2", "T1/2", "T1/3"], [150.0] * 4, [True] * 4).assign(
        **{"4g_ul_mbps": [3.0, 6.0, 6.0, 10.0], "5g_ul_mbps": [0.0] * 4}
    )
    _, s = busy_hour(
        villages,
        schools,
        population=np.array([0.0]),
        students=np.array([20.0, 20.0, 20.0, 20.0]),
        share_of_site=pd.Series([1.0], index=["T1"]),
        capacity=CAP,
        outlet_mbps=100.0,
    )
    assert s["ul_demand_mbps"].tolist() == [4.0] * 4
    assert s["4g_ul_throughput_mbps"].tolist() == pytest.approx([3.0, 3.0, 3.0, 10.0])
    assert s["4g_ul_meets"].tolist() == [False, False, False, True]
    # the downlink alone would carry 150 Mbps (75 shared): a link counts only when both directions carry theirs
    assert s["4g_throughput_mbps"].tolist() == [0.0, 0.0, 0.0, 150.0]
