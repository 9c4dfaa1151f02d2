"""Every setting of every section is either ranged, a closed choice, a flag, free text, rows or a nested table;
every default lies in its own range."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from gis.project import Project
from gis.settings import (
    ENVIRONMENTS,
    BandEquipment,
    ClutterClass,
    OperatorRule,
    RadioSettings,
)
from gis.settings.fields import Range, choices, number_range, row_type, section_type

#: Text settings that take any printable text (names, operators, a key, a path); every other text is a choice.
FREE_TEXT = {
    ("BandEquipment", "name"),
    ("OperatorRule", "operator"),
    ("OperatorRule", "ran_group"),
    ("ClutterClass", "name"),
    ("MicrowaveModulation", "name"),
    ("RadioSettings", "clutter_path"),
    ("OptimiseSettings", "operator"),
    ("MapSettings", "tianditu_key"),
    ("CountyOperator", "county"),
    ("CountyOperator", "operator"),
    ("TownshipName", "code"),
    ("TownshipName", "name"),
}


def _settings_classes() -> list[type]:
    """The settings class of each project.toml section, and those nested in them (tables and rows); the
    programme (rules read from the packs and checked by gis.settings.programme, docs/programme.md) is not one."""
    found: list[type] = []
    sections = (
        getattr(Project(path=Path("project.toml"), name="x", layers={}), f.name)
        for f in dataclasses.fields(Project)
        if f.name != "programme"
    )
    todo: list[type] = [type(s) for s in sections if dataclasses.is_dataclass(s)]
    while todo:
        cls = todo.pop(0)
        if cls in found:
            continue
        found.append(cls)
        for f in dataclasses.fields(cls):
            todo += [c for c in (section_type(f), row_type(f)) if c is not None]
    return found


CLASSES = _settings_classes()
FIELDS = [(cls, f) for cls in CLASSES for f in dataclasses.fields(cls)]


def test_every_section_and_nested_table_is_found():
    names = {c.__name__ for c in CLASSES}
    assert names == {
        "RadioSettings",
        "BandEquipment",
        "OperatorRule",
        "ClutterClass",
        "CapacitySettings",
        "BackhaulSettings",
        "MicrowaveBand",
        "MicrowaveModulation",
        "MicrowaveDish",
        "RelayMast",
        "CanopyClass",
        "CostSettings",
        "EconomicsSettings",
        "FundingSettings",
        "TargetSettings",
        "FibreSettings",
        "OptimiseSettings",
        "MapSettings",
        "ApplicationSettings",
        "CountyOperator",
        "TownshipName",
    }


#: Numeric settings that may be left out (None): the project file's absence of the key means something.
OPTIONAL = {("OptimiseSettings", "budget_cny")}


@pytest.mark.parametrize(("cls", "f"), FIELDS, ids=[f"{c.__name__}.{f.name}" for c, f in FIELDS])
def test_every_setting_has_a_documented_kind_and_its_default_is_allowed(cls, f):
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if section_type(f) is not None or row_type(f) is not None or isinstance(default, bool):
        return
    if isinstance(default, str):
        allowed = choices(cls).get(f.name)
        if allowed is None:
            assert (cls.__name__, f.name) in FREE_TEXT, "a text setting that is neither a Literal nor listed free text"
        else:
            assert default in (*allowed, ""), f"default {default!r} not among {allowed}"
        return
    bounds = number_range(f)
    assert bounds is not None, "a numeric setting without num(...): its range is unchecked"
    assert bounds.low is not None, "a range open below"
    assert bounds.high is not None, "a range open above"
    assert bounds.low < bounds.high
    if default is None:  # an optional amount: not set unless the file gives it (then in range)
        assert (cls.__name__, f.name) in OPTIONAL, "a numeric setting defaulting to None that is not listed optional"
        return
    for value in default if isinstance(default, tuple) else (default,):
        assert math.isfinite(value)
        assert bounds.contains(value), f"default {value} outside {bounds.text()}"
        assert not bounds.integer or value == int(value)


def test_the_default_tables_lie_in_their_ranges():
    bh = RadioSettings().backhaul
    extra = (*bh.microwave, *bh.modulations, *bh.dishes, *bh.relay_masts, *bh.canopy)
    for row in (*RadioSettings().equipment, *RadioSettings().operators, *RadioSettings().clutter, *extra):
        for f in dataclasses.fields(row):
            bounds = number_range(f)
            value = getattr(row, f.name)
            for v in value if isinstance(value, tuple) else (value,):
                assert bounds is None or bounds.contains(v), (row, f.name)


def test_range_text_and_bounds():
    r = Range(low=0.0, high=1.0, unit="MHz", low_open=True)
    assert r.text() == "a finite number > 0 and <= 1 MHz"
    assert not r.contains(0.0)
    assert r.contains(1e-9)
    assert r.contains(1.0)
    assert not r.contains(1.0 + 1e-9)
    closed = Range(low=-156.0, high=-31.0, unit="dBm")
    assert closed.contains(-156.0)
    assert closed.text() == "a finite number >= -156 and <= -31 dBm"
    assert Range(low=64, high=8192, unit="px", integer=True).text() == "a whole number >= 64 and <= 8192 px"
    assert Range().text() == "a finite number"


def test_the_empty_environment_of_a_clutter_class_is_a_default_not_a_choice():
    assert ClutterClass().environment == ""
    assert choices(ClutterClass)["environment"] == ENVIRONMENTS


def test_free_text_settings_have_no_choices():
    assert "name" not in choices(BandEquipment)
    assert "operator" not in choices(OperatorRule)
