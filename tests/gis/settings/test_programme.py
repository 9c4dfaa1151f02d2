"""Programme rule packs: every shipped pack reads, cites its documents, and a project's [programme] sets the
targets, the 4G definition and the subsidy rule (docs/programme.md)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gis.errors import ProjectError
from gis.project import load_project
from gis.settings.programme import KPI_KEYS, build_programme, pack_ids, read_pack

SHIPPED = (
    "jilin-2019-schools",
    "poverty-2018",
    "tp-2020",
    "usf-2018-pilot",
    "usf-2019-settlements",
    "usf-2026-5g",
)


def test_the_six_programme_texts_are_shipped_and_each_rule_cites_a_document_of_its_pack():
    assert pack_ids() == SHIPPED
    for pack_id in SHIPPED:
        doc = read_pack(pack_id)
        assert doc["pack"]["id"] == pack_id
        programme = build_programme([pack_id])
        for rule in programme.kpis.values():
            assert rule.key in KPI_KEYS
            assert rule.citation.title
            assert rule.citation.section
            assert 2018 <= rule.deadline_year <= 2030


def test_unverified_document_numbers_are_said_so_never_invented():
    programme = build_programme(["poverty-2018"])
    assert "number not verified" in programme.kpis["poor_broadband"].citation.text()
    pilot = build_programme(["usf-2018-pilot"])
    assert pilot.subsidy is not None
    assert pilot.subsidy.citation is not None
    assert "财建〔2018〕226号" in pilot.subsidy.citation.text()


def test_the_2018_pilot_rules_as_published():
    p = build_programme(["usf-2018-pilot", "poverty-2018"], border=True)
    assert p.village_4g.rule == "site_within_or_signal"
    assert p.village_4g.site_within_m == 5000.0
    assert p.village_4g.settlement_households == 20
    assert p.subsidy is not None
    assert (p.subsidy.rate, p.subsidy.opex_years, p.subsidy.border_opex_years) == (0.30, 6, 10)
    assert p.subsidy.years(border=True) == 10
    assert p.subsidy.years(border=False) == 6
    assert p.subsidy.eligible == ("villages",)
    assert p.kpis["poor_fibre"].target == 0.98
    assert p.kpis["poor_fibre"].deadline_year == 2020
    assert p.broadband == "fibre"
    assert p.upgrade_below_mbps == 12.0


def test_a_later_pack_replaces_an_earlier_rule_and_the_project_overrides_both():
    p = build_programme(["jilin-2019-schools", "tp-2020"], kpi_overrides={"school_outlet": {"deadline_year": 2022}})
    assert p.kpis["tp_connected"].target == 1.0  # tp-2020 after the Jilin plan's 0.98
    assert p.kpis["tp_connected"].citation.pack == "tp-2020"
    outlet = p.kpis["school_outlet"]
    assert (outlet.target, outlet.deadline_year, outlet.citation.text()) == (
        1.0,
        2022,
        "project.toml [programme.kpi.school_outlet]",
    )


@pytest.mark.parametrize(
    ("rules", "kpi", "subsidy", "expected"),
    [
        (["nope"], {}, {}, "not shipped"),
        (["usf-2018-pilot"], {"poor_5g": {"target": 1.0}}, {}, "unknown"),
        (["usf-2018-pilot"], {"poor_4g": {"target": 1.5}}, {}, "<= 1"),
        (["usf-2018-pilot"], {"poor_4g": {"deadline_year": float("nan")}}, {}, "whole number"),
        (["usf-2018-pilot"], {}, {"opex_years": -1}, ">= 0"),
        (["usf-2018-pilot"], {}, {"eligible": ["sites"]}, "expected a list"),
    ],
)
def test_bad_rules_are_refused_naming_the_rule(rules, kpi, subsidy, expected):
    with pytest.raises(ProjectError, match=expected):
        build_programme(rules, kpi_overrides=kpi, subsidy_override=subsidy)


def test_a_project_chooses_packs_and_its_own_targets_key_wins(demo_copy: Path):
    text = demo_copy.read_text(encoding="utf-8")
    demo_copy.write_text(
        text
        + '\n[programme]\nrules = ["usf-2018-pilot", "poverty-2018", "jilin-2019-schools"]\nborder = true\n'
        + "\n[targets]\nschool_outlet_share = 0.98\n",
        encoding="utf-8",
    )
    project = load_project(demo_copy)
    t = project.targets
    assert t.broadband == "fibre"  # the poverty plan counts fibre
    assert (t.poor_village_fibre_share, t.village_4g_share, t.school_outlet_share) == (0.98, 0.98, 0.98)
    assert project.programme.border
    assert project.programme.kpis["school_outlet"].citation.text() == "project.toml [targets] school_outlet_share"


def test_a_project_without_programme_keeps_its_targets(demo_copy: Path):
    project = load_project(demo_copy)
    assert not project.programme.chosen
    assert project.targets.broadband == "fibre_or_4g"
    assert project.targets.village_4g_share == 0.0


def test_overrides_without_packs_are_refused(demo_copy: Path):
    demo_copy.write_text(
        demo_copy.read_text(encoding="utf-8") + "\n[programme.kpi.poor_4g]\ntarget = 1.0\n", encoding="utf-8"
    )
    with pytest.raises(ProjectError, match="overrides without `rules`"):
        load_project(demo_copy)


def test_regional_rates_are_carried_and_an_unverified_one_leaves_the_packs_rate():
    p = build_programme(["usf-2018-pilot"], region="west")
    rule = p.subsidy
    assert rule is not None
    # the pilot's regional rates are not verified from a document that can be cited: empty, and said
    assert dict(rule.regional_rates) == {"east": None, "central": None, "west": None}
    assert rule.rate_for("west") == (0.30, "regional rate for west: number not verified; the pack's 30% applies")
    assert rule.regional_citation is not None
    assert "number not verified" in rule.regional_citation.text()
    assert rule.rate_for("") == (0.30, "")
    # a verified regional rate is used (here stated by hand)
    verified = dataclasses.replace(rule, regional_rates={"west": 0.5})
    assert verified.rate_for("west") == (0.5, "regional rate for west: 50%")
    assert verified.rate_for("east")[0] == 0.30
    with pytest.raises(ProjectError, match="`region` = 'north'"):
        build_programme(["usf-2018-pilot"], region="north")


def test_the_5g_batch_subsidy_terms_are_marked_assumed():
    rule = build_programme(["usf-2026-5g"]).subsidy
    assert rule is not None
    assert "not verified" in rule.assumed
    assert build_programme(["usf-2018-pilot"]).subsidy.assumed == ""  # 财建〔2018〕226号: read
    # a project that states its rate owns the terms
    assert build_programme(["usf-2026-5g"], subsidy_override={"rate": 0.25}).subsidy.assumed == ""


def test_central_share_by_batch_is_refused_under_a_pack_subsidy(demo_copy: Path):
    demo_copy.write_text(
        demo_copy.read_text(encoding="utf-8")
        + '\n[programme]\nrules = ["usf-2018-pilot"]\nregion = "central"\n'
        + "\n[funding]\ncentral_share_by_batch = [0.3, 0.2]\n",
        encoding="utf-8",
    )
    with pytest.raises(ProjectError, match=r"`central_share_by_batch` = \[0.3, 0.2\] under the programme rule packs"):
        load_project(demo_copy)


def test_central_share_by_batch_stays_under_packs_without_a_subsidy(demo_copy: Path):
    demo_copy.write_text(
        demo_copy.read_text(encoding="utf-8")
        + '\n[programme]\nrules = ["poverty-2018"]\nregion = "west"\n'
        + "\n[funding]\ncentral_share_by_batch = [0.3, 0.2]\n",
        encoding="utf-8",
    )
    project = load_project(demo_copy)
    assert project.funding.central_share_by_batch == (0.3, 0.2)
    assert project.programme.region == "west"
