"""The settings of a project, one module per trade: each is a frozen dataclass read from one section of
``project.toml`` by :func:`gis.project.load_project` and passed explicitly to the stages.

* :mod:`gis.settings.radio`: ``[radio]`` (bands, equipment, coverage criteria, model, operators, clutter, capacity,
  backhaul) and its default tables;
* :mod:`gis.settings.money`: ``[costs]``, ``[economics]``, ``[funding]``;
* :mod:`gis.settings.plan`: ``[fibre]``, ``[optimise]``, ``[targets]``;
* :mod:`gis.settings.map`: ``[map]``;
* :mod:`gis.settings.fields`: the field helpers (a number with its range, an array of tables, a nested table) and
  the closed choices read from a field's ``Literal``.

Each closed choice is a ``Literal`` type (``Model``) used by its field, with the tuple of its values beside it
(``PROPAGATION_MODELS = get_args(Model)``).
"""

from gis.settings.map import BASEMAPS, Basemap, MapSettings
from gis.settings.money import (
    MAX_CNY,
    OBJECTIVES,
    SCHOOL_LINES,
    CostSettings,
    EconomicsSettings,
    FundingSettings,
    Objective,
    SchoolLine,
)
from gis.settings.plan import (
    BROADBAND_DEFINITIONS,
    FWA_OUTLET,
    BroadbandDefinition,
    FibreSettings,
    FwaOutlet,
    OptimiseSettings,
    TargetSettings,
)
from gis.settings.radio import (
    DEFAULT_CLUTTER,
    DEFAULT_EQUIPMENT,
    DEFAULT_MICROWAVE,
    DEFAULT_OPERATORS,
    ENVIRONMENTS,
    HUB_RULES,
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
    "DEFAULT_CLUTTER",
    "DEFAULT_EQUIPMENT",
    "DEFAULT_MICROWAVE",
    "DEFAULT_OPERATORS",
    "ENVIRONMENTS",
    "FWA_OUTLET",
    "HUB_RULES",
    "MAX_CNY",
    "OBJECTIVES",
    "PROPAGATION_MODELS",
    "RSRP_RANGE_DBM",
    "SCHOOL_CPE",
    "SCHOOL_LINES",
    "TECH_CHOICES",
    "BackhaulSettings",
    "BandEquipment",
    "Basemap",
    "BroadbandDefinition",
    "CanopyClass",
    "CapacitySettings",
    "ClutterClass",
    "CostSettings",
    "EconomicsSettings",
    "Environment",
    "FibreSettings",
    "FundingSettings",
    "FwaOutlet",
    "HubRule",
    "MapSettings",
    "MicrowaveBand",
    "MicrowaveDish",
    "MicrowaveModulation",
    "Model",
    "Objective",
    "OperatorRule",
    "OptimiseSettings",
    "RadioSettings",
    "RelayMast",
    "SchoolCpe",
    "SchoolLine",
    "TargetSettings",
    "Tech",
]
