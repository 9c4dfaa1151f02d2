"""``coverplan rules list|show``: the shipped packs, one pack's rules, a project's merged rules; errors exit 2."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from planning.cli import cli


def invoke(*args: str | Path):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_rules_list_names_every_pack_with_version_and_title():
    res = invoke("rules", "list")
    assert res.exit_code == 0
    ids = [line.split("\t")[0] for line in res.output.splitlines()]
    assert ids == [
        "jilin-2019-schools",
        "poverty-2018",
        "tp-2020",
        "usf-2018-pilot",
        "usf-2019-settlements",
        "usf-2026-5g",
    ]


def test_rules_show_gives_each_rule_with_its_citation():
    res = invoke("rules", "show", "usf-2018-pilot")
    assert res.exit_code == 0
    assert "kpi village_4g: target 98% by end of 2020" in res.output
    assert "5公里范围内有4G基站" in res.output
    assert "30% x (capex + 6 years of opex; 10 in key border areas)" in res.output


def test_rules_show_of_a_project_merges_its_packs(demo_copy: Path):
    demo_copy.write_text(
        demo_copy.read_text(encoding="utf-8") + '\n[programme]\nrules = ["poverty-2018", "tp-2020"]\n',
        encoding="utf-8",
    )
    res = invoke("rules", "show", "--project", demo_copy)
    assert res.exit_code == 0
    assert "packs: poverty-2018 (2018.1), tp-2020 (2020.1)" in res.output
    assert "kpi tp_connected: target 100% by end of 2020" in res.output


def test_an_unknown_pack_or_both_arguments_exit_2(demo_copy: Path):
    res = invoke("rules", "show", "nope")
    assert res.exit_code == 2
    assert "not shipped" in res.output
    res = invoke("rules", "show", "usf-2018-pilot", "--project", demo_copy)
    assert res.exit_code == 2
    assert "expected exactly one" in res.output


def test_rules_show_gives_the_regional_rates_and_assumed_terms():
    res = invoke("rules", "show", "usf-2018-pilot")
    assert "subsidy by region: east not verified, central not verified, west not verified; region = not stated" in (
        res.output
    )
    res = invoke("rules", "show", "usf-2026-5g")
    assert "subsidy terms assumed: rate, opex years and eligibility not verified" in res.output
