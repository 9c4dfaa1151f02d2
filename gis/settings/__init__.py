"""The settings of a project, one module per trade: each is a frozen dataclass read from one section of
``project.toml`` by :func:`gis.project.load_project` and passed explicitly to the stages.

* :mod:`gis.settings.radio`: ``[radio]`` (bands, equipment, coverage criteria, model, operators, clutter, capacity,
  backhaul) and its default tables;
* :mod:`gis.settings.money`: ``[costs]``, ``[economics]``, ``[funding]``;
* :mod:`gis.settings.plan`: ``[fibre]``, ``[optimise]``, ``[targets]``;
* :mod:`gis.settings.map`: ``[map]``;
* :mod:`gis.settings.application`: ``[application]`` (operators that build, tender lots, township names);
* :mod:`gis.settings.programme`: ``[programme]`` (the programme rule packs of :mod:`gis.rules`, docs/programme.md);
* :mod:`gis.settings.fields`: the field helpers (a number with its range, an array of tables, a nested table) and
  the closed choices read from a field's ``Literal``.

Each closed choice is a ``Literal`` type (``Model``) used by its field, with the tuple of its values beside it
(``PROPAGATION_MODELS = get_args(Model)``).
"""

from gis.settings.application import BUILDERS, ApplicationSettings, CountyOperator, TownshipName
from gis.settings.fields import Range, choices, number_range, row_type, section_type
from gis.settings.map import BASEMAPS, Basemap, MapSettings
from gis.settings.money import (
    MAX_CNY,
    OBJECTIVES,
    SCHOOL_LINES,
    TOWER_OWNERS,
    CostSettings,
    EconomicsSettings,
    FundingSettings,
    Objective,
    SchoolLine,
    TowerOwner,
)
from gis.settings.plan import (
    BROADBAND_DEFINITIONS,
    FWA_OUTLET,
    KPI_TARGET_SETTING,
    SLACKS,
    BroadbandDefinition,
    FibreSettings,
    FwaOutlet,
    OptimiseSettings,
    Slack,
    TargetSettings,
)
from gis.settings.programme import Applicant, Citation, KpiRule, Programme, build_programme, pack_ids, read_pack
from gis.settings.radio import (
    DEFAULT_CLUTTER,
    DEFAULT_EQUIPMENT,
    DEFAULT_MICROWAVE,
    DEFAULT_OPERATORS,
    ENVIRONMENTS,
    HUB_RULES,
    MISSING_AZIMUTH,
    PROPAGATION_MODELS,
    RSRP_RANGE_DBM,
    SCHOOL_CPE,
    TECH_CHOICES,
    BackhaulSettings,
    BandEquipment,
    CanopyClass,
    CapacitySettings,
    ClutterClass,
    Environment,
    HubRule,
    MicrowaveBand,
    MicrowaveDish,
    MicrowaveModulation,
    MissingAzimuth,
    Model,
    OperatorRule,
    RadioSettings,
    RelayMast,
    SchoolCpe,
    Tech,
)

__all__ = [
    "BASEMAPS",
    "BROADBAND_DEFINITIONS",
    "BUILDERS",
    "DEFAULT_CLUTTER",
    "DEFAULT_EQUIPMENT",
    "DEFAULT_MICROWAVE",
    "DEFAULT_OPERATORS",
    "ENVIRONMENTS",
    "FWA_OUTLET",
    "HUB_RULES",
    "KPI_TARGET_SETTING",
    "MAX_CNY",
    "MISSING_AZIMUTH",
    "OBJECTIVES",
    "PROPAGATION_MODELS",
    "RSRP_RANGE_DBM",
    "SCHOOL_CPE",
    "SCHOOL_LINES",
    "SLACKS",
    "TECH_CHOICES",
    "TOWER_OWNERS",
    "Applicant",
    "ApplicationSettings",
    "BackhaulSettings",
    "BandEquipment",
    "Basemap",
    "BroadbandDefinition",
    "CanopyClass",
    "CapacitySettings",
    "Citation",
    "ClutterClass",
    "CostSettings",
    "CountyOperator",
    "EconomicsSettings",
    "Environment",
    "FibreSettings",
    "FundingSettings",
    "FwaOutlet",
    "HubRule",
    "KpiRule",
    "MapSettings",
    "MicrowaveBand",
    "MicrowaveDish",
    "MicrowaveModulation",
    "MissingAzimuth",
    "Model",
    "Objective",
    "OperatorRule",
    "OptimiseSettings",
    "Programme",
    "RadioSettings",
    "Range",
    "RelayMast",
    "SchoolCpe",
    "SchoolLine",
    "Slack",
    "TargetSettings",
    "Tech",
    "TowerOwner",
    "TownshipName",
    "build_programme",
    "choices",
    "number_range",
    "pack_ids",
    "read_pack",
    "row_type",
    "section_type",
]
