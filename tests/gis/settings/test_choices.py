"""Each closed choice is one Literal: the tuple beside it, the loader's check and planning.radio agree with it, and
a value outside it is refused naming the file, the section and the key."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from click.testing import CliRunner

from gis import settings
from gis.errors import ProjectError
from gis.project import load_project
from gis.settings.fields import choices
from planning.cli import cli
from planning.radio import propagation

#: (settings class, field, Literal, tuple, the values written out by hand, the TOML table that sets it).
CHOICES = [
    (
        settings.RadioSettings,
        "model",
        settings.Model,
        settings.PROPAGATION_MODELS,
        ("free_space", "hata", "rma", "uma", "itm", "p1812"),
        "radio",
    ),
    (
        settings.RadioSettings,
        "environment",
        settings.Environment,
        settings.ENVIRONMENTS,
        ("urban_large", "urban", "suburban", "rural"),
        "radio",
    ),
    (settings.RadioSettings, "school_cpe", settings.SchoolCpe, settings.SCHOOL_CPE, ("outdoor", "indoor"), "radio"),
    (
        settings.RadioSettings,
        "missing_azimuth",
        settings.MissingAzimuth,
        settings.MISSING_AZIMUTH,
        ("three_sectors", "omni"),
        "radio",
    ),
    (
        settings.BackhaulSettings,
        "hubs",
        settings.HubRule,
        settings.HUB_RULES,
        ("own_fibre", "any_fibre"),
        "radio.backhaul",
    ),
    (settings.BandEquipment, "tech", settings.Tech, settings.TECH_CHOICES, ("4g", "5g"), None),
    (settings.MapSettings, "basemap", settings.Basemap, settings.BASEMAPS, ("amap", "tianditu", "osm", "none"), "map"),
    (
        settings.TargetSettings,
        "broadband",
        settings.BroadbandDefinition,
        settings.BROADBAND_DEFINITIONS,
        ("fibre_or_4g", "fibre"),
        "targets",
    ),
    (
        settings.TargetSettings,
        "fwa_outlet",
        settings.FwaOutlet,
        settings.FWA_OUTLET,
        ("teaching_points", "all", "none"),
        "targets",
    ),
    (settings.TargetSettings, "slack", settings.Slack, settings.SLACKS, ("share", "exclusion_only"), "targets"),
    (
        settings.EconomicsSettings,
        "objective",
        settings.Objective,
        settings.OBJECTIVES,
        ("lifecycle", "capex", "subsidy"),
        "economics",
    ),
    (
        settings.CostSettings,
        "school_line",
        settings.SchoolLine,
        settings.SCHOOL_LINES,
        ("broadband", "leased_line"),
        "costs",
    ),
    (
        settings.CostSettings,
        "tower_owner",
        settings.TowerOwner,
        settings.TOWER_OWNERS,
        ("china_tower", "operator"),
        "costs",
    ),
]
IDS = [f"{c[0].__name__}.{c[1]}" for c in CHOICES]


@pytest.mark.parametrize(("cls", "name", "literal", "values", "by_hand", "table"), CHOICES, ids=IDS)
def test_the_literal_the_tuple_and_the_loader_agree(cls, name, literal, values, by_hand, table):
    assert get_args(literal) == values == by_hand
    assert choices(cls)[name] == values


def test_every_choice_of_every_settings_class_is_listed_here():
    listed = {(c[0], c[1]) for c in CHOICES} | {(settings.ClutterClass, "environment")}
    found = {
        (cls, name)
        for cls in (getattr(settings, n) for n in settings.__all__)
        if isinstance(cls, type) and hasattr(cls, "__dataclass_fields__")
        for name in choices(cls)
    }
    assert found == listed


def test_propagation_takes_its_model_and_environment_from_the_settings():
    assert propagation.Model is settings.Model
    assert propagation.Environment is settings.Environment
    assert propagation.MODELS == settings.PROPAGATION_MODELS


def _project(tmp_path: Path, text: str) -> Path:
    base = '[layers]\nvillages = "a.gpkg"\nschools = "a.gpkg"\nsites = "a.gpkg"\nadmin = "a.gpkg"\n'
    path = tmp_path / "project.toml"
    path.write_text(base + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("cls", "name", "literal", "values", "by_hand", "table"), CHOICES, ids=IDS)
def test_an_unknown_value_is_refused_naming_file_table_and_key(tmp_path, cls, name, literal, values, by_hand, table):
    if table is None:  # a row of [[radio.equipment]]
        text, where = f'[[radio.equipment]]\n{name} = "okumura"\n', "radio.equipment[0]"
    else:
        text, where = f'[{table}]\n{name} = "okumura"\n', table
    path = _project(tmp_path, text)
    expected = f"{path}: [{where}] `{name}` = 'okumura'; expected one of {list(by_hand)}"
    with pytest.raises(ProjectError) as err:
        load_project(path)
    assert str(err.value) == expected


def test_a_known_value_is_read(tmp_path):
    p = load_project(_project(tmp_path, '[radio]\nmodel = "itm"\nenvironment = "rural"\n[map]\nbasemap = "osm"\n'))
    assert (p.radio.model, p.radio.environment, p.map.basemap) == ("itm", "rural", "osm")


def test_a_bad_model_name_exits_2_with_the_message(tmp_path):
    path = _project(tmp_path, '[radio]\nmodel = "okumura"\n')
    res = CliRunner().invoke(cli, ["validate", str(path)], catch_exceptions=False)
    assert res.exit_code == 2
    assert (
        "[radio] `model` = 'okumura'; expected one of ['free_space', 'hata', 'rma', 'uma', 'itm', 'p1812']"
        in res.output
    )
    assert "project.toml" in res.output


def test_an_empty_environment_is_refused_in_a_clutter_row(tmp_path):
    """``""`` is the clutter class's default ("the project's environment"), not a value a file may state."""
    path = _project(tmp_path, '[[radio.clutter]]\ncode = 10\nenvironment = ""\n')
    with pytest.raises(
        ProjectError, match=r"\[radio.clutter\[0\]\] `environment` = ''; expected one of \['urban_large'"
    ):
        load_project(path)
