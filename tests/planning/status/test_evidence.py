"""Evidence precedence: measured (ledger) > reported (layer) > predicted (models); hand-built cases, one per rule."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.admin import REGION
from gis.settings import TargetSettings
from planning.status.evidence import school_status, verification_list, village_status
from planning.status.kpi import kpi_table
from tests.conftest import CRS_M

TARGETS = TargetSettings()


def villages(**columns: list) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values()))) if columns else 4
    base = {
        "village_id": [f"V{i + 1}" for i in range(n)],
        "name": [f"村{i + 1}" for i in range(n)],
        "county": ["A"] * n,
        "is_poor": [True] * n,
    }
    return gpd.GeoDataFrame(
        {**base, **columns},
        geometry=shapely.points(np.arange(n) * 100.0, np.zeros(n)),
        crs=CRS_M,
        index=10 + np.arange(n),
    )


def v_cov(index: pd.Index, g4: list[bool], g5: list[bool] | None = None) -> pd.DataFrame:
    g5 = g5 or [False] * len(g4)
    return pd.DataFrame(
        {
            "4g_covered": g4,
            "5g_covered": g5,
            "4g_rsrp_dbm": [-95.0 if x else -125.0 for x in g4],
            "5g_rsrp_dbm": [-100.0 if x else np.nan for x in g5],
        },
        index=index,
    )


def v_reach(index: pd.Index, connected: list[bool]) -> pd.DataFrame:
    return pd.DataFrame(
        {"connected": connected, "fibre_distance_m": [100.0 if c else 2500.0 for c in connected]}, index=index
    )


def test_reported_village_columns_win_over_the_model_and_disagreements_are_listed() -> None:
    v = villages(fibre_connected=[False, True, None, None], covered_4g=[True, None, False, None])
    cov = v_cov(v.index, [False, True, True, False])
    reach = v_reach(v.index, [True, False, False, True])
    s = village_status(v, targets=TARGETS, coverage=cov, reach=reach)
    # V1: reports no fibre (model: fibre 100 m away) and 4G (model: none) -> the reports count
    assert (bool(s["status_fibre"].iloc[0]), bool(s["status_4g"].iloc[0])) == (False, True)
    assert list(s["evidence_fibre"]) == ["reported", "reported", "predicted", "predicted"]
    assert list(s["evidence_4g"]) == ["reported", "predicted", "reported", "predicted"]
    # V3 reports no 4G where the model finds it: reported wins, the village lacks broadband and 4G
    assert list(s["has_4g"]) == [True, True, False, False]
    assert list(s["has_fibre"]) == [False, True, False, True]
    assert list(s["lacks"]) == ["", "", "broadband;4g", "4g"]
    assert s["verify"].iloc[0] == (
        "fibre: reported no, model yes (fibre 100 m away along roads); 4g: reported yes, model no (RSRP -125.0 dBm)"
    )
    assert s["verify"].iloc[1] == "fibre: reported yes, model no (fibre 2,500 m away along roads)"
    assert s["verify"].iloc[3] == ""


def test_village_access_column_implies_what_it_can() -> None:
    v = villages(access=["fibre", "5g", "4g", "none"])
    s = village_status(v, targets=TARGETS)
    assert list(s["reported_fibre"]) == [True, False, False, False]
    assert list(s["reported_4g"].isna()) == [True, False, False, False]  # fibre says nothing about 4G
    assert list(s["reported_4g"].fillna(False)) == [False, True, True, False]  # NR NSA rides on LTE
    assert list(s["reported_5g"].fillna(False)) == [False, True, False, False]
    assert list(s["broadband"]) == ["fibre", "5g", "4g", "none"]
    # the poor fibre village lacks 4G (unknown counts as lacking: "4G first" needs evidence)
    assert list(s["lacks"]) == ["4g", "", "", "broadband;4g"]


def test_broadband_definition_fibre_only() -> None:
    v = villages(access=["fibre", "5g", "4g", "none"])
    s = village_status(v, targets=TargetSettings(broadband="fibre"))
    assert list(s["has_broadband"]) == [True, False, False, False]


def test_5g_lack_only_when_targeted() -> None:
    v = villages(access=["4g", "5g"], is_poor=[False, False])
    assert list(village_status(v, targets=TARGETS)["lacks"]) == ["", ""]
    assert list(village_status(v, targets=TargetSettings(village_5g_share=0.8))["lacks"]) == ["5g", ""]


def test_village_without_evidence_is_unknown_not_none() -> None:
    s = village_status(villages(), targets=TARGETS)
    assert set(s["broadband"]) == {"unknown"}
    assert not s["has_broadband"].any()
    assert set(s["evidence_fibre"]) == {"unknown"}


def test_misaligned_coverage_is_refused() -> None:
    v = villages()
    cov = pd.DataFrame({"4g_covered": [True] * 4, "5g_covered": [True] * 4})
    with pytest.raises(ValueError, match="same index"):
        village_status(v, targets=TARGETS, coverage=cov)


def measured(rows: dict[str, dict]) -> pd.DataFrame:
    cols = ["status", "lacks", "measured_mbps", "reason", "access"]
    return pd.DataFrame([{c: r.get(c, pd.NA) for c in cols} for r in rows.values()], index=list(rows))


def test_ledger_acceptance_beats_report_and_exclusion_leaves_the_village_out() -> None:
    v = villages(access=["none", "none", "none", "none"])
    m = measured(
        {
            "villages:V1": {"status": "accepted", "lacks": "broadband;4g", "access": "4g"},
            "villages:V2": {"status": "excluded", "lacks": "broadband;4g", "reason": "relocated"},
            "villages:V3": {"status": "planned", "lacks": "broadband;4g"},
        }
    )
    s = village_status(v, targets=TARGETS, measured=m)
    assert list(s["evidence_fibre"]) == ["measured", "reported", "reported", "reported"]
    assert list(s["has_broadband"]) == [True, False, False, False]
    assert list(s["has_4g"]) == [True, False, False, False]
    assert list(s["excluded"]) == ["", "relocated", "", ""]
    assert list(s["lacks"]) == ["", "", "broadband;4g", "broadband;4g"]  # planned is not done


def schools(**columns: list) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "school_id": [f"S{i + 1}" for i in range(n)],
        "name": [f"学校{i + 1}" for i in range(n)],
        "kind": ["primary"] * n,
        "county": ["A"] * n,
    }
    return gpd.GeoDataFrame({**base, **columns}, geometry=shapely.points(np.arange(n) * 100.0, np.ones(n)), crs=CRS_M)


def s_cov(index: pd.Index, mbps_4g: list[float], mbps_5g: list[float] | None = None) -> pd.DataFrame:
    mbps_5g = mbps_5g or [0.0] * len(mbps_4g)
    return pd.DataFrame(
        {
            "4g_covered": [x > 0 for x in mbps_4g],
            "5g_covered": [x > 0 for x in mbps_5g],
            "4g_throughput_mbps": mbps_4g,
            "5g_throughput_mbps": mbps_5g,
        },
        index=index,
    )


def test_reported_school_link_wins_over_predicted_links() -> None:
    # the review's cases: reported none/0 with a predicted CPE link; fibre at 50 Mbps with the fibre tier
    # predicted; 4G at 20 Mbps where the model predicts 150 Mbps
    s = schools(access=["none", "fibre", "4g"], bandwidth_mbps=[0.0, 50.0, 20.0])
    st = school_status(
        s, targets=TARGETS, coverage=s_cov(s.index, [120.0, 0.0, 150.0]), reach=v_reach(s.index, [False, True, False])
    )
    assert list(st["access"]) == ["none", "fibre", "4g"]
    np.testing.assert_allclose(st["outlet_mbps"], [0.0, 50.0, 20.0])
    assert list(st["connected"]) == [False, True, True]
    assert list(st["meets_outlet"]) == [False, False, False]
    assert list(st["evidence"]) == ["reported"] * 3
    # the predictions are kept beside the reports: a feasible remedy, not a disagreement
    assert list(st["predicted_access"]) == ["4g", "fibre", "4g"]
    np.testing.assert_allclose(st["predicted_mbps"], [120.0, 1000.0, 150.0])
    assert list(st["lacks"]) == ["connection;outlet_target", "outlet_target", "outlet_target"]
    assert list(st["verify"]) == ["", "", ""]


def test_prediction_fills_only_what_is_unknown_and_asks_for_a_check() -> None:
    s = schools(access=[None, None, "fibre"], bandwidth_mbps=[np.nan, np.nan, 200.0])
    st = school_status(
        s, targets=TARGETS, coverage=s_cov(s.index, [2.0, 0.0, 0.0]), reach=v_reach(s.index, [True, False, False])
    )
    # S1: fibre predicted (fibre tier); S2: a 2 Mbps cell is no connection (< 4 Mbps) -> none
    assert list(st["access"]) == ["fibre", "none", "fibre"]
    assert list(st["evidence"]) == ["predicted", "predicted", "reported"]
    np.testing.assert_allclose(st["outlet_mbps"], [1000.0, 0.0, 200.0])
    assert st["verify"].iloc[0] == "access: not reported, status from the model only"
    assert st["verify"].iloc[2] == (
        "access: reported fibre, model finds no fibre within the drop distance (2,500 m along roads)"
    )
    ver = verification_list(village_status(villages(), targets=TARGETS).assign(verify=""), st)
    assert list(ver["id"]) == ["schools:S1", "schools:S2", "schools:S3"]


def test_outlet_policy_for_fixed_wireless_and_satellite() -> None:
    s = schools(
        kind=["teaching_point", "primary", "primary"],
        access=["5g", "5g", "satellite"],
        bandwidth_mbps=[150.0, 150.0, 100.0],
    )
    default = school_status(s, targets=TARGETS)
    assert list(default["meets_outlet"]) == [True, False, False]  # FWA for teaching points only; no satellite
    assert list(default["connected"]) == [True, True, True]
    every = school_status(s, targets=TargetSettings(fwa_outlet="all", satellite_outlet=True))
    assert list(every["meets_outlet"]) == [True, True, True]
    none = school_status(s, targets=TargetSettings(fwa_outlet="none"))
    assert list(none["meets_outlet"]) == [False, False, False]


def test_school_acceptance_with_measured_speed_beats_the_report() -> None:
    s = schools(access=["none", "4g", "none"], bandwidth_mbps=[0.0, 20.0, 0.0])
    m = measured(
        {
            "schools:S1": {
                "status": "accepted",
                "lacks": "connection;outlet_target",
                "measured_mbps": 180.0,
                "access": "fibre",
            },
            "schools:S2": {"status": "accepted", "lacks": "outlet_target", "measured_mbps": 60.0, "access": "fibre"},
            "schools:S3": {"status": "excluded", "lacks": "connection;outlet_target", "reason": "merged"},
        }
    )
    st = school_status(s, targets=TARGETS, measured=m)
    assert list(st["evidence"]) == ["measured", "measured", "reported"]
    np.testing.assert_allclose(st["outlet_mbps"], [180.0, 60.0, 0.0])
    assert list(st["meets_outlet"]) == [True, False, False]  # a measured 60 Mbps is below the target
    assert list(st["lacks"]) == ["", "outlet_target", ""]
    assert list(st["excluded"]) == ["", "", "merged"]


def test_placeholder_population_is_unknown_not_zero() -> None:
    # `coverplan import osm` writes population 0 with population_source "none" where OSM has no tag: no count of
    # people, so the people-weighted shares over such villages are unknown rather than those of the tagged ones
    v = villages(
        population=[800, 0, 0, 1200],
        population_source=["osm_tag", "none", "none", "worldpop"],
        access=["fibre", "none", "none", "none"],
    )
    s = village_status(v, targets=TARGETS)
    assert s["population"].tolist()[0] == 800
    assert np.isnan(s["population"].tolist()[1:3]).all()
    assert s["population"].tolist()[3] == 1200
    no_schools = school_status(schools(access=["fibre"], bandwidth_mbps=[200.0]), targets=TARGETS).iloc[:0]
    t = kpi_table(s, no_schools, targets=TARGETS).set_index("county")
    assert t.loc[REGION, "poor_broadband_share"] == pytest.approx(0.25)
    assert np.isnan(t.loc[REGION, "poor_broadband_people_share"])
    # filled in (as `coverplan import population` does): a share again
    s = village_status(v.assign(population=[800, 50, 150, 1200], population_source="worldpop"), targets=TARGETS)
    t = kpi_table(s, no_schools, targets=TARGETS).set_index("county")
    assert t.loc[REGION, "poor_broadband_people_share"] == pytest.approx(800 / 2200)
