"""Who builds each intervention, by hand on a tiny fixture: the tower rule, a county's operator, presence, market
share; the CT/CU RAN-sharing pair; China Tower's towers and leases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis.settings import DEFAULT_OPERATORS, ApplicationSettings, CostSettings, CountyOperator
from planning.plan.operators import allocate_builders, market_shares, operator_money


def _fixture() -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    # existing sites: two CUCC and one CMCC near (0, 0); one CBN site (counts as CMCC) near (20 km, 0)
    sites_xy = np.array([[100.0, 0.0], [0.0, 200.0], [300.0, 300.0], [20_000.0, 100.0]])
    site_op = np.array(["CUCC", "CUCC", "CMCC", "CBN"], dtype=object)
    chosen = pd.DataFrame(
        {
            "kind": ["new_site", "fibre", "upgrade_5g", "share", "fibre", "fibre", "new_site", "fibre"],
            "operator": ["CMCC", "CMCC", "CTCC", "CMCC", "CMCC", "CMCC", "CMCC", "CMCC"],
            "county": ["甲县", "甲县", "甲县", "甲县", "甲县", "甲县", "甲县", "乙县"],
            "capex_cny": [400_000.0, 50_000.0, 150_000.0, 200_000.0, 30_000.0, 20_000.0, 400_000.0, 10_000.0],
            "central_cny": [120_000.0, 15_000.0, 45_000.0, 60_000.0, 9_000.0, 6_000.0, 120_000.0, 3_000.0],
            "operator_cny": [280_000.0, 35_000.0, 105_000.0, 140_000.0, 21_000.0, 14_000.0, 280_000.0, 7_000.0],
            "opex_cny_per_year": [50_000.0, 500.0, 20_000.0, 30_000.0, 300.0, 200.0, 50_000.0, 100.0],
        }
    )
    # locations: 0, 1 near (0, 0); 2, 3 anywhere (tower rule); 4 near the CBN site; 5, 6 far from every site;
    # 7 in 乙县, whose operator the project names
    xy = np.array(
        [[0, 0], [50, 50], [9e4, 9e4], [9e4, 0], [20_000, 0], [60_000, 60_000], [70_000, 70_000], [0, 0]], dtype=float
    )
    return chosen, xy, sites_xy, site_op


def test_operators_are_allocated_by_the_stated_rule() -> None:
    chosen, xy, sites_xy, site_op = _fixture()
    settings = ApplicationSettings(county_operators=(CountyOperator(county="乙县", operator="CTCC"),))
    shares = market_shares(DEFAULT_OPERATORS)
    assert shares["CMCC"] == pytest.approx(0.57 / 1.0)  # 0.56 + CBN's 0.01, of 1.00
    out = allocate_builders(
        chosen, xy, sites_xy=sites_xy, site_operator=site_op, shares=shares, settings=settings, costs=CostSettings()
    )
    # 0, 1: two CUCC sites against one CMCC within 5 km -> CUCC by presence (and CTCC its RAN partner on the site)
    # 2: the upgraded site's operator; 3: the share's tenant; 4: the CBN site counts as CMCC
    # 5, 6: no site within 5 km -> market share: after 5 tasks (CUCC 2, CTCC 1, CMCC 2) the deficits
    #   0.57 x 6 - 2 = 1.42 (CMCC), 0.24 x 6 - 1 = 0.44 (CTCC), 0.19 x 6 - 2 = -0.86 (CUCC) -> CMCC;
    #   then 0.57 x 7 - 3 = 0.99, 0.24 x 7 - 1 = 0.68, 0.19 x 7 - 2 = -0.67 -> CMCC
    # 7: 乙县's operator (the project's override) although CUCC has more sites there
    assert out["builder"].tolist() == ["CUCC", "CUCC", "CTCC", "CMCC", "CMCC", "CMCC", "CMCC", "CTCC"]
    assert out["allocation_rule"].tolist() == [
        "presence",
        "presence",
        "tower",
        "tower",
        "presence",
        "market_share",
        "market_share",
        "county",
    ]
    # the CT/CU pair shares the radio tasks only (a fibre line is one operator's)
    assert out["ran_partner"].tolist() == ["CTCC", "", "CUCC", "", "", "", "", ""]
    # China Tower: the two new towers (one tenant, 30k) and the share (second tenant, 21k)
    assert out["tower_owner"].tolist() == ["china_tower", "", "", "china_tower", "", "", "china_tower", ""]
    assert out["tower_lease_cny_per_year"].tolist() == [30_000.0, 0, 0, 21_000.0, 0, 0, 30_000.0, 0]


def test_operator_money_adds_up_and_a_shared_task_counts_half() -> None:
    chosen, xy, sites_xy, site_op = _fixture()
    out = allocate_builders(
        chosen,
        xy,
        sites_xy=sites_xy,
        site_operator=site_op,
        shares=market_shares(DEFAULT_OPERATORS),
        settings=ApplicationSettings(),
        costs=CostSettings(),
    )
    table = operator_money(chosen.join(out)).set_index("operator")
    ops = table.loc[["CMCC", "CTCC", "CUCC"]]
    assert ops["tasks"].sum() == pytest.approx(len(chosen))
    assert ops["capex_cny"].sum() == pytest.approx(chosen["capex_cny"].sum())
    assert ops["central_cny"].sum() == pytest.approx(chosen["central_cny"].sum())
    # CUCC: half of task 0 (400k) and task 1 (50k) and half of task 2 (150k) = 325k; without an override task 7
    # (at (0, 0), two CUCC sites) is CUCC's too: + 10k
    assert table.at["CUCC", "capex_cny"] == pytest.approx(200_000 + 50_000 + 75_000 + 10_000)
    assert table.at["CTCC", "capex_cny"] == pytest.approx(200_000 + 75_000)
    assert table.at["china_tower", "tasks"] == 2  # new towers
    assert table.at["china_tower", "shared_towers"] == 1
    assert table.at["china_tower", "tower_lease_cny_per_year"] == pytest.approx(81_000)
    assert ops["tasks_share"].sum() == pytest.approx(1.0)
