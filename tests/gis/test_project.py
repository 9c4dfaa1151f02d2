import ast
import json
import os
from pathlib import Path

import pytest

from gis.errors import ProjectError
from gis.project import load_project
from gis.settings import BackhaulSettings, CostSettings, RadioSettings, TargetSettings
from tests.conftest import DEMO, ROOT


def test_demo_project_loads_with_design_defaults():
    p = load_project(DEMO / "project.toml")
    assert p.language == "zh"
    assert p.coordinates == "wgs84"
    assert p.metric_crs == "EPSG:32652"
    assert set(p.layers) == {"admin", "villages", "schools", "sites", "fibre", "fibre_nodes", "roads"}
    assert p.layers["villages"].path == (DEMO / "layers.gpkg").resolve()
    assert p.terrain == (DEMO / "dem.tif").resolve()
    # DESIGN.md defaults (the demo sets a 15 m canopy under microwave hops: it has no land-cover raster)
    assert p.radio == RadioSettings(backhaul=BackhaulSettings(canopy_default_m=15.0))
    assert p.radio.lte_band_mhz == 1800.0
    assert p.radio.nr_bands_mhz == (700.0, 2600.0, 3500.0)
    assert p.radio.tower_height_m == 35.0
    assert p.radio.eirp_dbm == 61.0
    assert p.radio.lte_rsrp_threshold_dbm == -110.0
    assert p.radio.nr_rsrp_threshold_dbm == -105.0
    assert p.costs == CostSettings()
    assert p.costs.fibre_aerial_cny_per_km == 15_000.0
    assert p.costs.new_site_cny == 350_000.0
    assert p.targets == TargetSettings()
    assert p.targets.poor_village_broadband_share == 0.98
    assert p.targets.school_outlet_mbps == 100.0


def _write(tmp_path: Path, text: str) -> Path:
    base = '[layers]\nvillages = "a.gpkg"\nschools = "a.gpkg"\nsites = "a.gpkg"\nadmin = "a.gpkg"\n'
    path = tmp_path / "project.toml"
    path.write_text(base + text, encoding="utf-8")
    return path


def test_overrides_are_read(tmp_path):
    p = load_project(
        _write(tmp_path, "[radio]\ntower_height_m = 45\nnr_bands_mhz = [700]\n[costs]\nnew_site_cny = 300000\n")
    )
    assert p.radio.tower_height_m == 45.0
    assert p.radio.nr_bands_mhz == (700.0,)
    assert p.costs.new_site_cny == 300_000.0
    assert p.radio.ue_height_m == 1.5


def test_fibre_section_sets_cost_per_metre(tmp_path):
    p = load_project(_write(tmp_path, "[fibre]\nburied_share = 0.25\ndrop_m = 500\n"))
    assert p.fibre.drop_m == 500.0
    # 0.75 x 15,000 + 0.25 x 60,000 CNY/km = 26,250 CNY/km
    assert p.fibre.cny_per_m(p.costs) == pytest.approx(26.25)
    assert load_project(_write(tmp_path, "")).fibre.cny_per_m(p.costs) == pytest.approx(15.0)


def test_unknown_key_suggests_the_right_one(tmp_path):
    with pytest.raises(ProjectError, match=r"unknown key `tower_hieght_m` in \[radio\]; did you mean `tower_height_m`"):
        load_project(_write(tmp_path, "[radio]\ntower_hieght_m = 45\n"))


def test_missing_required_layer(tmp_path):
    path = tmp_path / "project.toml"
    path.write_text('[layers]\nvillages = "a.gpkg"\n', encoding="utf-8")
    with pytest.raises(ProjectError, match=r"missing required layer\(s\) \['schools', 'sites', 'admin'\]"):
        load_project(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[radio]\neirp_dbm = "high"\n', r"`eirp_dbm` = 'high'; expected a finite number >= 10 and <= 90 dBm"),
        (
            "[targets]\nschool_connected_share = 1.5\n",
            r"`school_connected_share` = 1.5 is out of range; expected a "
            r"finite number >= 0 and <= 1",
        ),
        ("[costs]\nnew_site_cny = -1\n", r"`new_site_cny` = -1 is out of range; expected a finite number >= 0"),
        ('[project]\nlanguage = "fr"\n', r"`language` = 'fr'; expected 'zh' or 'en'"),
        ('[project]\ncoordinates = "bd09"\n', r"`coordinates` = 'bd09'"),
        ('[project]\nmetric_crs = "EPSG:4326"\n', r"is not projected"),
        (
            "[radio]\ntower_height_m = 0\n",
            r"`tower_height_m` = 0 is out of range; expected a finite number > 0 and "
            r"<= 300 m",
        ),
        (
            "[fibre]\nburied_share = 1.5\n",
            r"\[fibre\] `buried_share` = 1.5 is out of range; expected a finite "
            r"number >= 0 and <= 1",
        ),
        ("[fibre]\nsnap_tolerance_m = 0\n", r"`snap_tolerance_m` = 0 is out of range; expected a finite number > 0"),
        ("[fibre]\ndrop_m = -5\n", r"`drop_m` = -5 is out of range; expected a finite number >= 0 and <= 50000 m"),
        # non-finite numbers never pass a range check
        ("[fibre]\ndrop_m = nan\n", r"`drop_m` = nan; expected a finite number >= 0"),
        ("[costs]\nnew_site_cny = nan\n", r"`new_site_cny` = nan; expected a finite number"),
        ("[optimise]\nbudget_cny = inf\n", r"`budget_cny` = inf; expected a finite number"),
        # target mode is the key left out, never a budget of 0
        ("[optimise]\nbudget_cny = 0\n", r"`budget_cny` = 0 is out of range; expected a finite number > 0"),
        ("[radio]\nnr_bands_mhz = [700, -inf]\n", r"`nr_bands_mhz` = -inf; expected a finite number >= 300"),
        # whole numbers, and physically absurd values, with the range in the message
        (
            "[optimise]\nfibre_rounds = 0.5\n",
            r"`fibre_rounds` = 0.5 is not a whole number; expected a whole number "
            r">= 1 and <= 100",
        ),
        ("[map]\nhillshade_max_px = 10.5\n", r"`hillshade_max_px` = 10.5 is not a whole number"),
        (
            "[radio]\neirp_dbm = 400\n",
            r"`eirp_dbm` = 400 is out of range; expected a finite number >= 10 and <= 90 "
            r"dBm",
        ),
        (
            "[radio]\nlte_band_mhz = 60000\n",
            r"`lte_band_mhz` = 60000 is out of range; expected a finite number >= "
            r"300 and <= 6000 MHz",
        ),
        ("[radio]\nnr_bands_mhz = [700, 28000]\n", r"`nr_bands_mhz` = 28000 is out of range"),
        (
            "[radio]\nlte_rsrp_threshold_dbm = 10\n",
            r"`lte_rsrp_threshold_dbm` = 10 is out of range; expected a "
            r"finite number >= -156 and <= -31 dBm",
        ),
        ('[project]\nname = "a\\u0000b"\n', r"\[project\] `name` = 'a\\x00b' holds control character\(s\)"),
        ('[optimise]\noperator = "CM\\u001bCC"\n', r"`operator` = 'CM\\x1bCC' holds control character"),
        (
            '[map]\nbasemap = "tianditu"\ntianditu_key = "{{ 7 * 7 }}"\n',
            r"`tianditu_key` = '\{\{ 7 \* 7 \}\}'; "
            r"expected a Tianditu token",
        ),
        ("[terrain]\npath = 5\n", r"\[terrain\] `path` = 5; expected the DEM GeoTIFF's path"),
        ('[map]\nbasemap = "google"\n', r"\[map\] `basemap` = 'google'; expected one of \['amap', 'tianditu'"),
        ('[map]\nbasemap = "tianditu"\n', r"needs `tianditu_key`"),
        ('[map]\noffline = "yes"\n', r"\[map\] `offline` = 'yes'; expected true or false"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, match):
    with pytest.raises(ProjectError, match=match):
        load_project(_write(tmp_path, text))


def test_a_section_that_is_not_a_table(tmp_path):
    path = tmp_path / "project.toml"
    path.write_text('radio = 5\n[layers]\nvillages = "a.gpkg"\n', encoding="utf-8")
    with pytest.raises(ProjectError, match=r"`radio` = 5; expected a \[radio\] table"):
        load_project(path)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ProjectError, match="does not exist"):
        load_project(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[layers\n", encoding="utf-8")
    with pytest.raises(ProjectError, match="not valid TOML"):
        load_project(bad)


def test_map_section_is_read(tmp_path):
    p = load_project(_write(tmp_path, '[map]\nbasemap = "tianditu"\ntianditu_key = "abc12345"\noffline = true\n'))
    assert (p.map.basemap, p.map.tianditu_key, p.map.offline) == ("tianditu", "abc12345", True)
    assert load_project(_write(tmp_path, "")).map.offline is False


def test_a_byte_order_mark_is_skipped(tmp_path):
    path = _write(tmp_path, '[project]\nname = "临江"\n')
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_project(path).name == "临江"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            '[project]\nmetric_crs = "EPSG:2263"\n',
            r"`metric_crs` = 'EPSG:2263' has axes in \['US survey foot'\]; expected",
        ),
        ('[project]\nmetric_crs = "+proj=utm +zone=52 +units=km"\n', r"has axes in \['kilometre'\]; expected metres"),
        ('[project]\nmetric_crs = "EPSG:4326"\n', r"`metric_crs` = 'EPSG:4326' is not projected"),
        ("[optimise]\nfibre_rounds = 1e300\n", r"`fibre_rounds` = 1e\+300 is out of range; expected a whole number"),
        ("[optimise]\nfibre_rounds = 1" + "0" * 300 + "\n", r"`fibre_rounds` = an integer of 301 digits; expected"),
        (
            '[project]\nname = "a\\uffffb"\n',
            r"`name` = 'a\\uffffb' holds noncharacter or unassigned character\(s\) U\+FFFF",
        ),
        ('[project]\nname = "a\\ufdd0"\n', r"U\+FDD0"),
    ],
)
def test_more_bad_values_name_the_key(tmp_path, text, match):
    with pytest.raises(ProjectError, match=match):
        load_project(_write(tmp_path, text))


def test_a_deeply_nested_project_file_is_refused(tmp_path):
    path = _write(tmp_path, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ProjectError, match="nested too deeply"):
        load_project(path)


def test_symlink_loops_and_pipes_are_refused(tmp_path):
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    with pytest.raises(ProjectError, match="symbolic link loop"):
        load_project(loop)
    (tmp_path / "v.gpkg").symlink_to(tmp_path / "v.gpkg")
    path = tmp_path / "project.toml"
    path.write_text('[layers]\nvillages = "v.gpkg"\nschools = "a"\nsites = "a"\nadmin = "a"\n', encoding="utf-8")
    with pytest.raises(ProjectError, match=r"\[layers.villages\] `path` `.*v.gpkg` is a symbolic link loop"):
        load_project(path)
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(ProjectError, match=r"is a named pipe \(FIFO\); expected a regular file"):
        load_project(fifo)


@pytest.mark.parametrize("table", ["radio.equipment", "radio.operators", "radio.clutter", "radio.backhaul.microwave"])
def test_an_array_of_tables_row_with_no_key_is_refused(tmp_path, table):
    """A `[[radio.equipment]]` header whose keys are commented out would replace the default list by one row of
    defaults (every band on one 4T4R row, one operator rule ...): refused, naming the header."""
    text = f"[[{table}]]\n# name = ...\n"
    match = rf"\[\[{table}\]\] row\(s\) \[1\] have no key; .*or no \[\[{table}\]\] header"
    with pytest.raises(ProjectError, match=match):
        load_project(_write(tmp_path, text))
    assert load_project(_write(tmp_path, f"# [[{table}]]\n# name = ...\n")).radio == RadioSettings()


def _settings_names() -> set[str]:
    """Names defined at the top level of the gis.settings modules."""
    names = set()
    for path in sorted((ROOT / "gis" / "settings").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return names - {"__all__"}


def _sources() -> list[tuple[str, str]]:
    """(where, python source) of every module, test, bench script and notebook code cell of the repository."""
    out = []
    for top in ("gis", "planning", "tests", "bench", "notebooks", "data"):
        for path in sorted((ROOT / top).rglob("*.py")):
            out.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
        for path in sorted((ROOT / top).rglob("*.ipynb")):
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            code = [c for c in cells if c["cell_type"] == "code"]
            out += [(f"{path.relative_to(ROOT)} cell {i}", "".join(c["source"])) for i, c in enumerate(code)]
    return out


def test_no_module_takes_a_settings_name_through_gis_project():
    """Settings classes, tables and choices are imported from gis.settings, their home, never via gis.project."""
    settings = _settings_names()
    assert {"RadioSettings", "DEFAULT_EQUIPMENT", "Model", "MAX_CNY", "num"} <= settings
    wrong = []
    for where, source in _sources():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module == "gis.project":
                wrong += [f"{where}: {a.name}" for a in node.names if a.name in settings]
            elif isinstance(node, ast.Attribute) and node.attr in settings and ast.unparse(node.value) == "gis.project":
                wrong.append(f"{where}: gis.project.{node.attr}")
    assert wrong == []


def test_gis_project_defines_no_settings_class():
    tree = ast.parse((ROOT / "gis" / "project.py").read_text(encoding="utf-8"))
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    assert classes == {"LayerSource", "Project"}


def test_a_budget_is_set_only_by_the_file_and_target_mode_is_its_absence(tmp_path: Path):
    assert load_project(_write(tmp_path, "")).optimise.budget_cny is None
    assert load_project(_write(tmp_path, "[optimise]\nbudget_cny = 2500000\n")).optimise.budget_cny == 2_500_000.0


def test_application_section_is_read_and_checked(tmp_path):
    text = (
        "[application]\npresence_radius_m = 3000\nlot_max_cny = 2000000\n"
        '[[application.county_operators]]\ncounty = "临江市"\noperator = "中国联通"\n'
        '[[application.township_names]]\ncode = "220681100"\nname = "大栗子街道"\n'
    )
    app = load_project(_write(tmp_path, text)).application
    assert app.presence_radius_m == 3000.0
    assert app.lot_max_cny == 2_000_000.0
    assert (app.county_operators[0].county, app.county_operators[0].operator) == ("临江市", "中国联通")
    assert app.township_names[0].name == "大栗子街道"
    with pytest.raises(ProjectError, match=r"county_operators\]\[0\].*expected a county name and one of"):
        load_project(_write(tmp_path, '[[application.county_operators]]\ncounty = "临江市"\noperator = "中国铁塔"\n'))
    with pytest.raises(ProjectError, match="9-digit township code"):
        load_project(_write(tmp_path, '[[application.township_names]]\ncode = "2206811"\nname = "x"\n'))
    with pytest.raises(ProjectError, match="lot_min_cny"):
        load_project(_write(tmp_path, "[application]\nlot_min_cny = 5000000\nlot_max_cny = 1000000\n"))
