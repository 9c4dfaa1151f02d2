"""The project file (``project.toml``): its reader and checker, :func:`load_project`, and the :class:`Project` it
returns (layer paths, CRS, and one settings object per section).

One frozen :class:`Project` is read once and passed explicitly to every stage; there are no global settings.
The settings classes of the sections live in :mod:`gis.settings`, one module per trade.
Defaults follow ../shared/DESIGN.md; the sources of the numbers are listed in ``docs`` of README.md.
Paths in the file are relative to the file's own folder.

Example
-------
::

    [project]
    name = "Linjiang demo"
    language = "zh"            # zh | en
    coordinates = "wgs84"      # wgs84 | gcj02 (data digitised from Chinese web maps)
    metric_crs = "EPSG:32652"  # optional: default is the UTM zone of the region centroid

    [layers]
    villages = { path = "demo.gpkg", layer = "villages" }
    schools = { path = "schools.csv", crs = "EPSG:4326", lon = "lon", lat = "lat" }

    [terrain]
    path = "dem.tif"

    [radio]
    tower_height_m = 35.0
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

from gis.crs import Coordinates, metric_units_problem, parse_crs
from gis.errors import ProjectError
from gis.files import not_a_regular_file
from gis.schema import SCHEMAS, operator_code
from gis.settings import (
    BUILDERS,
    KPI_TARGET_SETTING,
    REGIONS,
    ApplicationSettings,
    BandEquipment,
    Citation,
    CostSettings,
    EconomicsSettings,
    FibreSettings,
    FundingSettings,
    KpiRule,
    MapSettings,
    OptimiseSettings,
    Programme,
    RadioSettings,
    Range,
    TargetSettings,
    build_programme,
    choices,
    number_range,
    row_type,
    section_type,
)
from gis.text import text_problem

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "LAYER_NAMES",
    "REQUIRED_LAYERS",
    "Language",
    "LayerName",
    "LayerSource",
    "Project",
    "check_text",
    "load_project",
]

LayerName = Literal[
    "villages", "schools", "sites", "fibre", "fibre_nodes", "roads", "candidates", "admin", "settlements", "facilities"
]
LAYER_NAMES: tuple[str, ...] = get_args(LayerName)
REQUIRED_LAYERS: tuple[str, ...] = ("villages", "schools", "sites", "admin")
Language = Literal["zh", "en"]
#: A settings dataclass.
_S = TypeVar("_S", bound="DataclassInstance")


@dataclass(frozen=True)
class LayerSource:
    """Where one layer comes from.

    Attributes
    ----------
    path : Path
        File (GeoPackage, GeoJSON, Shapefile, GeoParquet, or CSV or .xlsx with lon/lat columns).
    layer : str or None
        Layer inside a multi-layer file (GeoPackage); default: the layer named like the coverplan layer
        if the file has one, else the file's only layer.
    crs : str or None
        CRS to assume when the file carries none (required for CSV and .xlsx).
    lon, lat : str
        Column names of a CSV's or a workbook's coordinates.
    sheet : str or None
        Sheet of an .xlsx workbook; default: the sheet named like the coverplan layer if there is one, else the
        workbook's only sheet with data.
    columns : tuple of (str, str)
        The ``columns`` entry: (schema column, heading in the file) pairs, e.g. ``("school_id", "学校编号")``;
        ``lon``/``lat`` name a table's coordinates. Headings not named here are matched by
        :data:`gis.schema.COLUMN_ALIASES`.
    values : tuple of (str, str)
        The ``values`` entry: (schema column, value) pairs for columns the file lacks, given to every feature, e.g.
        a boundary file without properties (cnmaps' GeoJSON: one MultiPolygon) as
        ``values = { area_id = "220681", name = "临江市" }`` (:func:`gis.validation.fill_values`).
    """

    path: Path
    layer: str | None = None
    crs: str | None = None
    lon: str = "lon"
    lat: str = "lat"
    sheet: str | None = None
    columns: tuple[tuple[str, str], ...] = ()
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Project:
    """A coverplan project: everything a run needs, read from ``project.toml``.

    ``ledger`` is the project's ledger (台账) from earlier runs and field reports (``[ledger] path``): its accepted
    rows (measured speed, date) and exclusions are evidence that beats the layers and the model, and a run writes
    the plan into a copy of it as dated events.
    """

    path: Path
    name: str
    layers: Mapping[str, LayerSource]
    language: Language = "zh"
    coordinates: Coordinates = "wgs84"
    metric_crs: str | None = None
    terrain: Path | None = None
    ledger: Path | str | None = None
    radio: RadioSettings = field(default_factory=RadioSettings)
    costs: CostSettings = field(default_factory=CostSettings)
    economics: EconomicsSettings = field(default_factory=EconomicsSettings)
    funding: FundingSettings = field(default_factory=FundingSettings)
    targets: TargetSettings = field(default_factory=TargetSettings)
    fibre: FibreSettings = field(default_factory=FibreSettings)
    optimise: OptimiseSettings = field(default_factory=OptimiseSettings)
    map: MapSettings = field(default_factory=MapSettings)
    programme: Programme = field(default_factory=Programme)
    application: ApplicationSettings = field(default_factory=ApplicationSettings)

    @property
    def root(self) -> Path:
        """Folder of the project file; relative paths are resolved against it."""
        return self.path.parent


def _unknown(keys: Mapping[str, Any], allowed: set[str], *, where: str, path: Path) -> None:
    for key in keys:
        if key not in allowed:
            near = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"; did you mean `{near[0]}`?" if near else f"; expected one of {sorted(allowed)}"
            msg = f"{path}: unknown key `{key}` in [{where}]{hint}"
            raise ProjectError(msg)


def _number_section(cls: type[_S], table: object, *, where: str, path: Path) -> _S:
    """Build a settings dataclass from a TOML table, checking names, types and each number's range.

    Nested tables (``[radio.capacity]``) and arrays of tables (``[[radio.equipment]]``) are read the same way.
    """
    if not isinstance(table, Mapping):
        msg = f"{path}: [{where}] = {table!r}; expected a table of settings"
        raise ProjectError(msg)
    names = {f.name for f in fields(cls)}
    _unknown(table, names, where=where, path=path)
    allowed = choices(cls)
    values = {
        f.name: _setting(f, table[f.name], allowed=allowed.get(f.name, ()), where=where, path=path)
        for f in fields(cls)
        if f.name in table
    }
    out = cls(**values)
    _check_rows(out, where=where, path=path)
    return out


def _setting(f: Field[Any], raw: object, *, allowed: tuple[str, ...], where: str, path: Path) -> object:
    """One setting of a table: a nested table, an array of tables, a flag, a text (one of ``allowed`` when that is
    not empty), numbers."""
    nested = section_type(f)
    if nested is not None:
        return _number_section(nested, raw, where=f"{where}.{f.name}", path=path)
    item = row_type(f)
    if item is not None:
        return _rows(item, raw, name=f.name, where=where, path=path)
    if isinstance(f.default, bool):
        if not isinstance(raw, bool):
            msg = f"{path}: [{where}] `{f.name}` = {raw!r}; expected true or false"
            raise ProjectError(msg)
        return raw
    if isinstance(f.default, str):
        if not isinstance(raw, str) or (allowed and raw not in allowed):
            msg = f"{path}: [{where}] `{f.name}` = {raw!r}; expected one of {list(allowed)}"
            raise ProjectError(msg)
        return check_text(raw, what=f"[{where}] `{f.name}`", path=path)
    if isinstance(f.default, tuple):
        if not isinstance(raw, list) or not raw:
            msg = f"{path}: [{where}] `{f.name}` = {raw!r}; expected a non-empty list of numbers"
            raise ProjectError(msg)
        return tuple(_number(v, f, where=where, path=path) for v in raw)
    return _number(raw, f, where=where, path=path)


def _rows(item: type[_S], raw: object, *, name: str, where: str, path: Path) -> tuple[_S, ...]:
    """An array of tables ``[[where.name]]`` of ``item`` settings (it replaces the whole default list)."""
    if not isinstance(raw, list) or not raw or not all(isinstance(r, Mapping) for r in raw):
        msg = f"{path}: [{where}] `{name}` = {raw!r}; expected a non-empty array of tables [[{where}.{name}]]"
        raise ProjectError(msg)
    empty = [i + 1 for i, r in enumerate(raw) if not r]
    if empty:  # a header left with its keys commented out would replace the defaults by rows of defaults
        msg = (
            f"{path}: [[{where}.{name}]] row(s) {empty} have no key; an array of tables replaces the whole "
            f"default list, so expected every row's keys ({', '.join(x.name for x in fields(item))}), or no "
            f"[[{where}.{name}]] header to keep the defaults"
        )
        raise ProjectError(msg)
    return tuple(_number_section(item, r, where=f"{where}.{name}[{i}]", path=path) for i, r in enumerate(raw))


def _check_rows(settings: object, *, where: str, path: Path) -> None:
    """Checks across the settings of one table: band ranges in order, one operator rule and one class per key."""
    if isinstance(settings, BandEquipment) and settings.band_low_mhz > settings.band_high_mhz:
        msg = (
            f"{path}: [{where}] `band_low_mhz` = {settings.band_low_mhz:g} is above `band_high_mhz` = "
            f"{settings.band_high_mhz:g}; expected low <= high"
        )
        raise ProjectError(msg)
    if isinstance(settings, RadioSettings):
        keyed: tuple[tuple[Sequence[object], str], ...] = ((settings.operators, "operator"), (settings.clutter, "code"))
        for rows, key in keyed:
            keys = [getattr(r, key) for r in rows]
            dup = sorted({str(k) for k in keys if keys.count(k) > 1})
            if dup:
                what = "operators" if key == "operator" else "clutter"
                msg = f"{path}: [{where}.{what}] `{key}` {dup} appears more than once; expected one row per {key}"
                raise ProjectError(msg)


def _number(raw: object, f: Field[Any], *, where: str, path: Path) -> float | int:
    """One numeric setting: a finite number (a whole one for integer settings) in its physical range."""
    bounds = number_range(f) or Range()
    expected = bounds.text()
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 2**63:  # TOML integers are 64-bit
        msg = f"{path}: [{where}] `{f.name}` = an integer of {len(str(abs(raw)))} digits; expected {expected}"
        raise ProjectError(msg)
    if not isinstance(raw, int | float) or isinstance(raw, bool) or not math.isfinite(raw):
        msg = f"{path}: [{where}] `{f.name}` = {raw!r}; expected {expected}"
        raise ProjectError(msg)
    shown = f"{raw:g}" if abs(raw) >= 1e15 else repr(raw)  # 1e+300, not an integer of 300 digits
    if bounds.integer and float(raw) != int(raw):
        msg = f"{path}: [{where}] `{f.name}` = {shown} is not a whole number; expected {expected}"
        raise ProjectError(msg)
    if not bounds.contains(raw):
        msg = f"{path}: [{where}] `{f.name}` = {shown} is out of range; expected {expected}"
        raise ProjectError(msg)
    return int(raw) if bounds.integer else float(raw)


def check_text(value: str, *, what: str, path: Path) -> str:
    """``value`` when it is printable text (no control character, noncharacter or surrogate: :mod:`gis.text`);
    else ProjectError."""
    why = text_problem(value)
    if why:
        msg = f"{path}: {what} = {why}"
        raise ProjectError(msg)
    return value


def _resolve(path: Path, *, what: str, project: Path | None = None) -> Path:
    """``path`` made absolute with its symbolic links resolved; ProjectError for a link loop."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:  # Python < 3.13 raises RuntimeError on a symbolic link loop
        where = f"{project}: " if project else ""
        msg = f"{where}{what} `{path}` is a symbolic link loop ({exc}); expected a file"
        raise ProjectError(msg) from exc


def _layer_source(name: str, raw: Any, *, path: Path) -> LayerSource:
    if isinstance(raw, str):
        raw = {"path": raw}
    if not isinstance(raw, Mapping) or "path" not in raw:
        msg = f"{path}: [layers] `{name}` = {raw!r}; expected a path or a table with `path`"
        raise ProjectError(msg)
    _unknown(
        raw, {"path", "layer", "crs", "lon", "lat", "sheet", "columns", "values"}, where=f"layers.{name}", path=path
    )
    for key in ("path", "layer", "crs", "lon", "lat", "sheet"):
        val = raw.get(key)
        if val is not None and (not isinstance(val, str) or not val.strip()):
            msg = f"{path}: [layers.{name}] `{key}` = {val!r}; expected a non-empty text"
            raise ProjectError(msg)
        if val is not None:
            check_text(val, what=f"[layers.{name}] `{key}`", path=path)
    crs = raw.get("crs")
    if crs is not None:
        try:
            parse_crs(crs, what=f"layers.{name}.crs")
        except ValueError as exc:
            raise ProjectError(f"{path}: {exc}") from exc
    return LayerSource(
        path=_resolve(path.parent / str(raw["path"]), what=f"[layers.{name}] `path`", project=path),
        layer=raw.get("layer"),
        crs=crs,
        lon=str(raw.get("lon", "lon")),
        lat=str(raw.get("lat", "lat")),
        sheet=raw.get("sheet"),
        columns=_column_map(name, raw.get("columns", {}), path=path),
        values=_value_map(name, raw.get("values", {}), path=path),
    )


def _value_map(name: str, raw: object, *, path: Path) -> tuple[tuple[str, str], ...]:
    """A layer's ``values`` table (schema column -> value for every feature), checked: known columns, non-empty
    printable text (numbers are written as text: ``area_id = "220681"``)."""
    if not isinstance(raw, Mapping):
        msg = f'{path}: [layers.{name}] `values` = {raw!r}; expected a table such as {{ area_id = "220681" }}'
        raise ProjectError(msg)
    _unknown(raw, {c.name for c in SCHEMAS[name].columns}, where=f"layers.{name}.values", path=path)
    for key, val in raw.items():
        if isinstance(val, bool) or not isinstance(val, str | int | float) or not str(val).strip():
            msg = f'{path}: [layers.{name}.values] `{key}` = {val!r}; expected a value as text, e.g. {key} = "..."'
            raise ProjectError(msg)
        check_text(str(val), what=f"[layers.{name}.values] `{key}`", path=path)
    return tuple((str(k), str(v).strip()) for k, v in raw.items())


def _column_map(name: str, raw: object, *, path: Path) -> tuple[tuple[str, str], ...]:
    """A layer's ``columns`` table (schema column -> heading in the file), checked: known columns, non-empty
    printable headings, no heading used twice."""
    if not isinstance(raw, Mapping):
        msg = f'{path}: [layers.{name}] `columns` = {raw!r}; expected a table such as {{ school_id = "学校编号" }}'
        raise ProjectError(msg)
    known = {c.name for c in SCHEMAS[name].columns} | {"lon", "lat"}
    _unknown(raw, known, where=f"layers.{name}.columns", path=path)
    for key, val in raw.items():
        if not isinstance(val, str) or not val.strip():
            msg = f"{path}: [layers.{name}.columns] `{key}` = {val!r}; expected the heading of a column in the file"
            raise ProjectError(msg)
        check_text(val, what=f"[layers.{name}.columns] `{key}`", path=path)
    twice = sorted({v for v in raw.values() if list(raw.values()).count(v) > 1})
    if twice:
        msg = f"{path}: [layers.{name}.columns] names heading(s) {twice} for several columns; expected each once"
        raise ProjectError(msg)
    return tuple((str(k), str(v).strip()) for k, v in raw.items())


def load_project(path: str | Path, *, required_layers: Sequence[str] = REQUIRED_LAYERS) -> Project:
    """Read and check a ``project.toml``.

    Parameters
    ----------
    path : str or Path
        The project file.
    required_layers : sequence of str
        Layers the file must name (default: villages, schools, sites, admin). The importers
        (``coverplan import ...``) need only ``("admin",)``: a project being built from imported layers
        names its admin boundary first.

    Returns
    -------
    Project
        Frozen settings with absolute layer paths.

    Raises
    ------
    ProjectError
        Unreadable TOML, unknown keys (with a suggestion), missing required layers, values of the wrong
        type or out of range; the message names the file, section and key.
    """
    path = _resolve(Path(path), what="project file")
    why = not_a_regular_file(path)
    if why:
        msg = f"project file `{path}` {why}"
        raise ProjectError(msg)
    doc = _read_toml(path)
    _unknown(
        doc,
        {"project", "layers", "terrain", "ledger", "radio", "costs", "economics", "funding", "targets", "fibre"}
        | {"optimise", "map", "programme", "application"},
        where="top level",
        path=path,
    )

    for section, value in doc.items():
        if not isinstance(value, Mapping):
            msg = f"{path}: `{section}` = {value!r}; expected a [{section}] table"
            raise ProjectError(msg)
    meta = doc.get("project", {})
    language, coordinates, metric_crs = _project_meta(meta, path=path)

    raw_layers = doc.get("layers", {})
    _unknown(raw_layers, set(LAYER_NAMES), where="layers", path=path)
    missing = [n for n in required_layers if n not in raw_layers]
    if missing:
        msg = f"{path}: [layers] is missing required layer(s) {missing}; expected paths for {list(required_layers)}"
        raise ProjectError(msg)
    layers = {n: _layer_source(n, raw_layers[n], path=path) for n in LAYER_NAMES if n in raw_layers}

    terrain = _file_section(doc, "terrain", path=path, what="the DEM GeoTIFF's path")
    ledger = _ledger_section(doc, path=path)
    if "target_share" in doc.get("optimise", {}):
        msg = (
            f"{path}: [optimise] `target_share` is replaced by one target per KPI in [targets] (e.g. "
            '`poor_village_broadband_share`, `school_outlet_share`; README, "KPIs"); remove it'
        )
        raise ProjectError(msg)

    programme = _programme_section(doc.get("programme", {}), path=path)
    targets = _number_section(TargetSettings, doc.get("targets", {}), where="targets", path=path)
    programme, targets = _programme_targets(programme, targets, set(doc.get("targets", {})))
    name = meta.get("name", path.parent.name)
    if not isinstance(name, str) or not name.strip():
        msg = f"{path}: [project] `name` = {name!r}; expected a non-empty text"
        raise ProjectError(msg)
    return Project(
        path=path,
        name=check_text(name.strip(), what="[project] `name`", path=path),
        layers=MappingProxyType(layers),
        language=language,
        coordinates=coordinates,
        metric_crs=metric_crs,
        terrain=terrain,
        ledger=ledger,
        radio=_radio_section(doc.get("radio", {}), path=path),
        costs=_number_section(CostSettings, doc.get("costs", {}), where="costs", path=path),
        economics=_number_section(EconomicsSettings, doc.get("economics", {}), where="economics", path=path),
        funding=_funding_section(doc.get("funding", {}), path=path, programme=programme),
        targets=targets,
        fibre=_number_section(FibreSettings, doc.get("fibre", {}), where="fibre", path=path),
        optimise=_optimise_section(doc.get("optimise", {}), path=path),
        map=_map_section(doc.get("map", {}), path=path),
        programme=programme,
        application=_application_section(doc.get("application", {}), path=path),
    )


def _application_section(table: Mapping[str, Any], *, path: Path) -> ApplicationSettings:
    """[application]: the settings, each county operator one of the building operators and each township code
    nine digits."""
    out = _number_section(ApplicationSettings, table, where="application", path=path)
    for i, row in enumerate(out.county_operators):
        if operator_code(row.operator) not in BUILDERS or not row.county:
            msg = (
                f"{path}: [application.county_operators][{i}] county = {row.county!r}, operator = "
                f"{row.operator!r}; expected a county name and one of {list(BUILDERS)}"
            )
            raise ProjectError(msg)
    for i, t in enumerate(out.township_names):
        if not (len(t.code) == 9 and t.code.isdigit()) or not t.name:
            msg = (
                f"{path}: [application.township_names][{i}] code = {t.code!r}, name = {t.name!r}; expected a "
                "9-digit township code and its name"
            )
            raise ProjectError(msg)
    if out.lot_min_cny > out.lot_max_cny:
        msg = f"{path}: [application] `lot_min_cny` = {out.lot_min_cny:g} is above `lot_max_cny` = {out.lot_max_cny:g}"
        raise ProjectError(msg)
    return out


def _programme_section(table: Mapping[str, Any], *, path: Path) -> Programme:
    """[programme]: the rule packs in order (``rules``), ``border`` (a key border area) and the overrides
    ``[programme.kpi.<key>]`` and ``[programme.subsidy]`` (docs/programme.md)."""
    _unknown(table, {"rules", "border", "region", "kpi", "subsidy"}, where="programme", path=path)
    rules = table.get("rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        msg = f"{path}: [programme] `rules` = {rules!r}; expected a list of rule pack ids (coverplan rules list)"
        raise ProjectError(msg)
    border = table.get("border", False)
    if not isinstance(border, bool):
        msg = f"{path}: [programme] `border` = {border!r}; expected true or false"
        raise ProjectError(msg)
    region = table.get("region", "")
    if region not in ("", *REGIONS):
        msg = f"{path}: [programme] `region` = {region!r}; expected one of {list(REGIONS)} (东部, 中部, 西部)"
        raise ProjectError(msg)
    kpi = table.get("kpi", {})
    subsidy = table.get("subsidy", {})
    if not isinstance(kpi, Mapping) or not isinstance(subsidy, Mapping):
        msg = f"{path}: [programme.kpi] and [programme.subsidy] must be tables"
        raise ProjectError(msg)
    if (kpi or subsidy) and not rules:
        msg = f"{path}: [programme] overrides without `rules`; expected the rule packs they override"
        raise ProjectError(msg)
    try:
        return build_programme(rules, border=border, region=region, kpi_overrides=kpi, subsidy_override=subsidy)
    except ProjectError as exc:
        raise ProjectError(f"{path}: {exc}") from exc


def _programme_targets(
    programme: Programme, targets: TargetSettings, explicit: set[str]
) -> tuple[Programme, TargetSettings]:
    """The targets a programme sets (a ``[targets]`` key the project states itself wins, and the programme's KPI
    rule then cites the project file) and the broadband definition of its packs."""
    if not programme.chosen:
        return programme, targets
    kpis = dict(programme.kpis)
    changes: dict[str, Any] = {}
    for key, rule in programme.kpis.items():
        setting = KPI_TARGET_SETTING.get(key)
        if setting is None:
            continue
        if setting in explicit:
            cite = Citation(pack="project", title="project.toml", section=f"[targets] {setting}")
            kpis[key] = KpiRule(key, float(getattr(targets, setting)), rule.deadline_year, cite)
        else:
            changes[setting] = rule.target
    if "slack" not in explicit:
        changes["slack"] = "exclusion_only"
    if programme.broadband and "broadband" not in explicit:
        changes["broadband"] = programme.broadband
    return replace(programme, kpis=MappingProxyType(kpis)), replace(targets, **changes)


def _optimise_section(table: object, *, path: Path) -> OptimiseSettings:
    """[optimise], its ``operator`` as the project's code (``中国移动`` -> ``CMCC``: :func:`gis.schema.operator_code`),
    as the sites layer's values are read."""
    settings = _number_section(OptimiseSettings, table, where="optimise", path=path)
    if settings.operator and operator_code(settings.operator) != settings.operator:
        settings = replace(settings, operator=operator_code(settings.operator))
    return settings


def _project_meta(meta: Mapping[str, Any], *, path: Path) -> tuple[Any, Any, Any]:
    """[project]: (language, coordinates, metric_crs), each checked."""
    _unknown(meta, {"name", "language", "coordinates", "metric_crs"}, where="project", path=path)
    language = meta.get("language", "zh")
    if language not in get_args(Language):
        msg = f"{path}: [project] `language` = {language!r}; expected 'zh' or 'en'"
        raise ProjectError(msg)
    coordinates = meta.get("coordinates", "wgs84")
    if coordinates not in get_args(Coordinates):
        msg = f"{path}: [project] `coordinates` = {coordinates!r}; expected 'wgs84' or 'gcj02'"
        raise ProjectError(msg)
    metric_crs = meta.get("metric_crs")
    if metric_crs is not None:
        try:
            crs = parse_crs(metric_crs, what="project.metric_crs")
        except ValueError as exc:
            raise ProjectError(f"{path}: {exc}") from exc
        why = metric_units_problem(crs)
        if why:
            msg = f"{path}: [project] `metric_crs` = {metric_crs!r} {why}"
            raise ProjectError(msg)
    return language, coordinates, metric_crs


def _read_toml(path: Path) -> dict[str, Any]:
    """The TOML document of the project file (a UTF-8 byte-order mark, as Windows editors write, is skipped)."""
    try:
        text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
        return tomllib.loads(text)
    except UnicodeDecodeError as exc:
        msg = f"{path}: not UTF-8 text ({exc}); expected a project.toml saved as UTF-8"
        raise ProjectError(msg) from exc
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML: {exc}"
        raise ProjectError(msg) from exc
    except RecursionError as exc:
        msg = f"{path}: not a usable TOML file: its tables or arrays are nested too deeply; expected a project.toml"
        raise ProjectError(msg) from exc
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc.strerror or exc})"
        raise ProjectError(msg) from exc


def _funding_section(table: Mapping[str, Any], *, path: Path, programme: Programme | None = None) -> FundingSettings:
    """[funding], checked: the central and local shares of any batch add up to at most 1; under a programme whose
    pack sets the subsidy, ``central_share_by_batch`` is refused (the pack's rate x (capex + N years of opex) per
    eligible item sets the central money; a share of each batch's capex has no meaning beside it)."""
    funding = _number_section(FundingSettings, table, where="funding", path=path)
    if programme is not None and programme.subsidy is not None and funding.central_share_by_batch:
        packs = ", ".join(p.id for p in programme.packs)
        msg = (
            f"{path}: [funding] `central_share_by_batch` = {list(funding.central_share_by_batch)} under the programme "
            f"rule packs ({packs}), whose [subsidy] sets the central money per eligible item as rate x (capex + N "
            "years of opex); expected no `central_share_by_batch` (state the rate as [programme.subsidy] rate, or "
            "[programme] region for a regional rate)"
        )
        raise ProjectError(msg)
    worst = max([funding.central_share, *funding.central_share_by_batch])
    if worst + funding.local_share > 1.0 + 1e-12:
        msg = (
            f"{path}: [funding] central share {worst:g} and `local_share` = {funding.local_share:g} add up to more "
            "than 1; expected at most the whole investment"
        )
        raise ProjectError(msg)
    return funding


#: How a database ledger's location begins (libpq URIs): ``[ledger] path = "postgresql://..."``.
LEDGER_URL_SCHEMES = ("postgresql://", "postgres://")


def _ledger_section(doc: Mapping[str, Any], *, path: Path) -> Path | str | None:
    """``[ledger] path``: a GeoPackage's path (relative to the project file), or a PostgreSQL ledger's URL kept as
    text (a province's ledger in PostGIS)."""
    raw = doc.get("ledger", {}).get("path") if isinstance(doc.get("ledger"), Mapping) else None
    if isinstance(raw, str) and raw.strip().lower().startswith(LEDGER_URL_SCHEMES):
        _unknown(doc["ledger"], {"path"}, where="ledger", path=path)
        return check_text(raw.strip(), what="[ledger] `path`", path=path)
    return _file_section(doc, "ledger", path=path, what="the ledger GeoPackage's path or a postgresql:// URL")


def _file_section(doc: Mapping[str, Any], section: str, *, path: Path, what: str) -> Path | None:
    """The absolute path of a ``[section] path = "..."`` table (relative to the project file), or None."""
    if section not in doc:
        return None
    t = doc[section]
    _unknown(t, {"path"}, where=section, path=path)
    if not isinstance(t.get("path"), str) or not t["path"].strip():
        msg = f"{path}: [{section}] `path` = {t.get('path')!r}; expected {what}"
        raise ProjectError(msg)
    check_text(t["path"], what=f"[{section}] `path`", path=path)
    return _resolve(path.parent / str(t["path"]), what=f"[{section}] `path`", project=path)


def _radio_section(table: Mapping[str, Any], *, path: Path) -> RadioSettings:
    """[radio] with ``clutter_path`` made absolute (relative to the project file) and checked to exist."""
    radio = _number_section(RadioSettings, table, where="radio", path=path)
    if radio.clutter_path:
        clutter = (path.parent / radio.clutter_path).resolve()
        if not clutter.is_file():
            msg = (
                f"{path}: [radio] `clutter_path` = {radio.clutter_path!r}: {clutter} does not exist; expected a GeoTIFF"
            )
            raise ProjectError(msg)
        radio = replace(radio, clutter_path=str(clutter))
    return radio


def _map_section(table: Mapping[str, Any], *, path: Path) -> MapSettings:
    settings = _number_section(MapSettings, table, where="map", path=path)
    if settings.basemap == "tianditu" and not settings.tianditu_key:
        msg = f"{path}: [map] `basemap` = 'tianditu' needs `tianditu_key` (a Tianditu token); none is set"
        raise ProjectError(msg)
    if settings.tianditu_key and not re.fullmatch(r"[A-Za-z0-9]{8,64}", settings.tianditu_key):
        msg = (
            f"{path}: [map] `tianditu_key` = {settings.tianditu_key!r}; expected a Tianditu token (8-64 letters "
            "and digits)"
        )
        raise ProjectError(msg)
    return settings
