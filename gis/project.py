"""The project file (``project.toml``): layer paths, CRS, radio parameters, costs and targets.

One frozen :class:`Project` is read once and passed explicitly to every stage; there are no global settings.
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
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

from gis.crs import metric_units_problem, parse_crs
from gis.errors import ProjectError
from gis.files import not_a_regular_file
from gis.text import text_problem

LayerName = Literal["villages", "schools", "sites", "fibre", "fibre_nodes", "roads", "candidates", "admin"]
LAYER_NAMES: tuple[str, ...] = get_args(LayerName)
REQUIRED_LAYERS: tuple[str, ...] = ("villages", "schools", "sites", "admin")
Language = Literal["zh", "en"]
#: Propagation models and Hata environments a project may name (planning.radio.propagation implements them).
PROPAGATION_MODELS: tuple[str, ...] = ("free_space", "hata", "rma", "uma", "itm")
ENVIRONMENTS: tuple[str, ...] = ("urban_large", "urban", "suburban", "rural")
#: Background maps of the folium map (planning.present.maps): AMap (GCJ-02 tiles), Tianditu (needs a key), OSM, none.
BASEMAPS: tuple[str, ...] = ("amap", "tianditu", "osm", "none")
#: What counts as a village with broadband (``[targets] broadband``) and where FWA counts for the outlet target.
BROADBAND_DEFINITIONS: tuple[str, ...] = ("fibre_or_4g", "fibre")
FWA_OUTLET: tuple[str, ...] = ("teaching_points", "all", "none")
#: What the optimiser minimises in target mode (``[economics] objective``); how a school's line is rented.
OBJECTIVES: tuple[str, ...] = ("lifecycle", "capex", "subsidy")
SCHOOL_LINES: tuple[str, ...] = ("broadband", "leased_line")
#: Schools' fixed-wireless CPE (planning.radio.coverage): outdoor (on the roof) or indoor (building entry loss).
SCHOOL_CPE: tuple[str, ...] = ("outdoor", "indoor")
TECH_CHOICES: tuple[str, ...] = ("4g", "5g")
#: Far ends a microwave hop may land on: the planner's own sites with fibre (and fibre nodes), or any site with fibre.
HUB_RULES: tuple[str, ...] = ("own_fibre", "any_fibre")
_CHOICES: dict[str, tuple[str, ...]] = {
    "model": PROPAGATION_MODELS,
    "environment": ENVIRONMENTS,
    "basemap": BASEMAPS,
    "broadband": BROADBAND_DEFINITIONS,
    "fwa_outlet": FWA_OUTLET,
    "objective": OBJECTIVES,
    "school_line": SCHOOL_LINES,
    "school_cpe": SCHOOL_CPE,
    "tech": TECH_CHOICES,
    "hubs": HUB_RULES,
}


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
    """

    path: Path
    layer: str | None = None
    crs: str | None = None
    lon: str = "lon"
    lat: str = "lat"
    sheet: str | None = None


def _num(
    default: float,
    low: float | None = None,
    high: float | None = None,
    *,
    unit: str = "",
    low_open: bool = False,
    integer: bool = False,
) -> Any:
    """A numeric setting with its physical range (checked by :func:`load_project`; NaN and inf never pass)."""
    return field(
        default=default, metadata={"low": low, "high": high, "unit": unit, "low_open": low_open, "integer": integer}
    )


#: Largest money amount a project may state (CNY): ten trillion, beyond any national programme.
MAX_CNY = 1e13
_MAX_CNY = MAX_CNY
#: 3GPP RSRP reporting range (TS 36.133 §9.1.4, TS 38.133 §10.1.6): thresholds outside it cannot be measured.
_RSRP = (-156.0, -31.0)


def _rows(default: tuple, item: type) -> Any:
    """An array of tables (``[[radio.equipment]]``): the whole default list is replaced when the file gives one."""
    return field(default=default, metadata={"items": item})


@dataclass(frozen=True)
class BandEquipment:
    """Base-station equipment of one technology over a band range (the first matching row of
    ``RadioSettings.equipment`` applies to a site).

    Attributes
    ----------
    name : str
        Label (``"4T4R macro"``, ``"64T64R AAU"``).
    tech : {"4g", "5g"}
    band_low_mhz, band_high_mhz : float
        Carrier frequencies this row applies to (inclusive).
    tx_power_dbm : float
        Conducted power behind the reference signal: one port of a passive-antenna RRU (the CRS/SSB port), the
        whole array of a massive-MIMO AAU (its broadcast beams combine every transceiver).
    antenna_gain_dbi : float
        Gain of that port or beam (a massive-MIMO SSB beam includes the array gain).
    feeder_loss_db : float
        Jumper/feeder loss between radio and antenna (0 for an AAU).
    ul_gain_dbi : float
        Receive gain on the uplink, including multi-branch combining.
    dl_layers : int
        Downlink MIMO layers to one user at high SINR (limited by the UE's receive antennas).
    bandwidth_mhz : float
        Carrier bandwidth; 0 means the project's ``lte_bandwidth_mhz`` / ``nr_bandwidth_mhz`` (30 MHz at most
        below 1 GHz).
    vertical_beamwidth_deg, tilt_deg : float
        Vertical half-power beamwidth and downtilt of the pattern (TR 36.814 Table A.2.1.1-2 form).
    """

    name: str = "4T4R macro"
    tech: str = "4g"
    band_low_mhz: float = _num(300.0, 300.0, 6000.0, unit="MHz")
    band_high_mhz: float = _num(6000.0, 300.0, 6000.0, unit="MHz")
    tx_power_dbm: float = _num(43.0, 0.0, 70.0, unit="dBm")
    antenna_gain_dbi: float = _num(18.0, -10.0, 40.0, unit="dBi")
    feeder_loss_db: float = _num(0.5, 0.0, 20.0, unit="dB")
    ul_gain_dbi: float = _num(21.0, -10.0, 45.0, unit="dBi")
    dl_layers: int = _num(2, 1, 8, integer=True)
    bandwidth_mhz: float = _num(0.0, 0.0, 400.0, unit="MHz")
    vertical_beamwidth_deg: float = _num(10.0, 1.0, 90.0, unit="deg")
    tilt_deg: float = _num(3.0, -10.0, 30.0, unit="deg")

    @property
    def eirp_dbm(self) -> float:
        """EIRP of the reference-signal port or beam over the carrier (dBm)."""
        return self.tx_power_dbm + self.antenna_gain_dbi - self.feeder_loss_db


#: Default equipment (README "Radio propagation and coverage" gives the sources): LTE and FDD NR on 4T4R RRUs with
#: passive panels, NR TDD (n41, n78, n79) on 64T64R AAUs with 200 W and beamformed broadcast beams.
DEFAULT_EQUIPMENT: tuple[BandEquipment, ...] = (
    BandEquipment(name="LTE 4T4R macro", tech="4g"),
    BandEquipment(
        name="NR <1 GHz 4T4R macro",
        tech="5g",
        band_high_mhz=1000.0,
        tx_power_dbm=46.0,
        antenna_gain_dbi=15.0,
        ul_gain_dbi=18.0,
        bandwidth_mhz=30.0,
        vertical_beamwidth_deg=14.0,
    ),
    BandEquipment(name="NR FDD 4T4R macro", tech="5g", band_low_mhz=1000.0, band_high_mhz=2300.0, bandwidth_mhz=20.0),
    BandEquipment(
        name="NR TDD 64T64R AAU",
        tech="5g",
        band_low_mhz=2300.0,
        tx_power_dbm=53.0,
        antenna_gain_dbi=24.0,
        feeder_loss_db=0.0,
        ul_gain_dbi=24.0,
        dl_layers=4,
        bandwidth_mhz=100.0,
        vertical_beamwidth_deg=12.0,
    ),
)


@dataclass(frozen=True)
class OperatorRule:
    """Which bands an operator builds on, its RAN-sharing group and its share of subscribers.

    Attributes
    ----------
    operator : str
        A value of the sites layer's ``operator`` column (``"*"``: any operator without a row of its own).
    ran_group : str
        Operators with the same non-empty group share their RAN (China Telecom and China Unicom since 2019;
        China Mobile and China Broadcasting Network on 700 MHz since 2020): each may upgrade the other's sites and
        neither is offered a tower share on the other's tower; a cell carries the group's subscribers.
    market_share : float
        Share of mobile subscribers on this operator (the busy-hour load of its cells).
    lte_bands_mhz : tuple of float
        LTE bands of new sites and 4G shares (the first is used).
    nr_bands_mhz : tuple of float
        NR bands the operator may add: one 5G upgrade candidate per band, 5G shares on the first.
    """

    operator: str = "*"
    ran_group: str = ""
    market_share: float = _num(1.0, 0.0, 1.0)
    lte_bands_mhz: tuple[float, ...] = _num((1800.0,), 300.0, 6000.0, unit="MHz")
    nr_bands_mhz: tuple[float, ...] = _num((3500.0,), 300.0, 6000.0, unit="MHz")


#: Default operator rules (MIIT licences; README gives the sources). Subscriber shares are the operators' mobile
#: customers at the end of 2024 (annual reports), rounded; ``*`` (an unknown operator) carries every subscriber.
DEFAULT_OPERATORS: tuple[OperatorRule, ...] = (
    OperatorRule(operator="CMCC", ran_group="CMCC+CBN", market_share=0.56, nr_bands_mhz=(700.0, 2600.0)),
    OperatorRule(operator="CBN", ran_group="CMCC+CBN", market_share=0.01, nr_bands_mhz=(700.0,)),
    OperatorRule(operator="CTCC", ran_group="CTCC+CUCC", market_share=0.24, nr_bands_mhz=(3500.0, 2100.0)),
    OperatorRule(operator="CUCC", ran_group="CTCC+CUCC", market_share=0.19, nr_bands_mhz=(3500.0, 2100.0)),
    OperatorRule(operator="*"),
)


@dataclass(frozen=True)
class ClutterClass:
    """One class of a land-cover raster (``RadioSettings.clutter_path``): the Hata environment of points in it and
    an extra loss (foliage, buildings) at the receiver.

    ``environment`` empty keeps the project's. Default rows: ESA WorldCover 10 m v200 class codes.
    """

    code: int = _num(0, 0, 65_535, integer=True)
    name: str = ""
    environment: str = ""
    extra_loss_db: float = _num(0.0, 0.0, 60.0, unit="dB")


#: ESA WorldCover v200 classes; foliage loss of a terminal in woodland from ITU-R P.833-10 §2 (about 20 m of
#: trees at 1-4 GHz), open land as Hata's open area, settlements as suburban (README gives the sources).
DEFAULT_CLUTTER: tuple[ClutterClass, ...] = (
    ClutterClass(code=10, name="tree cover", environment="suburban", extra_loss_db=8.0),
    ClutterClass(code=20, name="shrubland", environment="suburban", extra_loss_db=2.0),
    ClutterClass(code=30, name="grassland", environment="rural"),
    ClutterClass(code=40, name="cropland", environment="rural"),
    ClutterClass(code=50, name="built-up", environment="suburban"),
    ClutterClass(code=60, name="bare / sparse vegetation", environment="rural"),
    ClutterClass(code=70, name="snow and ice", environment="rural"),
    ClutterClass(code=80, name="permanent water", environment="rural"),
    ClutterClass(code=90, name="herbaceous wetland", environment="rural"),
    ClutterClass(code=95, name="mangroves", environment="suburban", extra_loss_db=8.0),
    ClutterClass(code=100, name="moss and lichen", environment="rural"),
)


@dataclass(frozen=True)
class CapacitySettings:
    """Busy-hour load of cells and what a school can count on (planning.radio.capacity).

    Attributes
    ----------
    subscribers_per_person : float
        Mobile internet users per inhabitant of a village (rural internet penetration).
    monthly_gb_per_subscriber : float
        Mobile data per user and month (DOU), GB.
    busy_hour_share : float
        Share of a day's traffic carried in the busy hour.
    nr_traffic_share : float
        Share of a village's traffic on 5G where both 4G and 5G cover it.
    mbps_per_student : float
        A school's demand per student; a school asks for max(outlet target, students x this).
    """

    subscribers_per_person: float = _num(0.66, 0.0, 5.0)
    monthly_gb_per_subscriber: float = _num(19.0, 0.0, 1000.0, unit="GB")
    busy_hour_share: float = _num(0.08, 0.0, 1.0, low_open=True)
    nr_traffic_share: float = _num(0.6, 0.0, 1.0)
    mbps_per_student: float = _num(0.1, 0.0, 100.0, unit="Mbps")


@dataclass(frozen=True)
class MicrowaveBand:
    """One microwave band: carrier, longest hop it is planned for and the capacity of one hop."""

    freq_ghz: float = _num(7.0, 1.0, 100.0, unit="GHz")
    max_hop_m: float = _num(50_000.0, 100.0, 200_000.0, unit="m")
    capacity_mbps: float = _num(200.0, 1.0, 100_000.0, unit="Mbps")


#: Microwave bands and planned hop lengths (ITU-R channel plans F.385/F.497/F.636/F.595/F.637/F.2006; hop lengths
#: for ~99.99 % availability in a moderate rain climate, ITU-R P.530; README gives the sources).
DEFAULT_MICROWAVE: tuple[MicrowaveBand, ...] = (
    MicrowaveBand(freq_ghz=7.0, max_hop_m=50_000.0, capacity_mbps=200.0),
    MicrowaveBand(freq_ghz=13.0, max_hop_m=25_000.0, capacity_mbps=400.0),
    MicrowaveBand(freq_ghz=15.0, max_hop_m=20_000.0, capacity_mbps=400.0),
    MicrowaveBand(freq_ghz=18.0, max_hop_m=15_000.0, capacity_mbps=400.0),
    MicrowaveBand(freq_ghz=23.0, max_hop_m=10_000.0, capacity_mbps=400.0),
    MicrowaveBand(freq_ghz=80.0, max_hop_m=4_000.0, capacity_mbps=10_000.0),
)


@dataclass(frozen=True)
class BackhaulSettings:
    """Microwave hops on the DEM, relays and satellite (planning.radio.backhaul).

    Attributes
    ----------
    k_factor, clearance_f1 : float
        A hop is clear when every point of the terrain (with earth bulge at effective radius k x 6371 km) stays
        ``clearance_f1`` of the first Fresnel zone below the line between the antennas.
    hop_step_m : float
        Terrain profile step of a hop.
    hubs : {"own_fibre", "any_fibre"}
        Far ends: the planner's (and its RAN partners') sites with fibre backhaul, plus fibre nodes; or any site with
        fibre (a tower company that sells transmission).
    relays_on_towers : bool
        Existing towers may carry a relay (every tower is taken as a China Tower site the planner may lease on).
    relay_spacing_m : float
        One high-point relay candidate (the highest DEM cell) per square of this side.
    microwave : tuple of MicrowaveBand
        Bands, the longest hop each is planned for and their capacity; a hop takes the highest band that reaches.
    microwave_mbps : float
        Capacity assumed for an existing site's microwave backhaul.
    satellite_backhaul_mbps, satellite_rtt_ms : float
        What a site's satellite backhaul plan carries (GEO VSAT; the default matches the default
        ``satellite_fee_cny_per_year``: raise both together for a high-throughput plan) and its round-trip time.
    """

    k_factor: float = _num(4.0 / 3.0, 0.3, 10.0)
    clearance_f1: float = _num(0.6, 0.0, 2.0)
    hop_step_m: float = _num(50.0, 1.0, 1000.0, unit="m")
    hubs: str = "own_fibre"
    relays_on_towers: bool = True
    relay_spacing_m: float = _num(3000.0, 100.0, 100_000.0, unit="m")
    microwave: tuple[MicrowaveBand, ...] = _rows(DEFAULT_MICROWAVE, MicrowaveBand)
    microwave_mbps: float = _num(400.0, 1.0, 100_000.0, unit="Mbps")
    satellite_backhaul_mbps: float = _num(10.0, 0.1, 100_000.0, unit="Mbps")
    satellite_rtt_ms: float = _num(600.0, 0.0, 5000.0, unit="ms")


@dataclass(frozen=True)
class RadioSettings:
    """Radio defaults (DESIGN.md): 4G 1800 MHz/20 MHz, 5G n28/n41/n78, 35 m towers; per-band equipment, coverage
    criteria (RSRP and SINR, downlink and uplink, at a cell-edge location probability), operator band rules,
    capacity and backhaul. README "Radio propagation and coverage" gives the source of every default.

    Bands must lie in 300-6000 MHz (FR1 below 6 GHz, where coverplan's models hold), LTE carriers are 1.4-20 MHz
    (TS 36.101 Table 5.6-1), NR FR1 carriers 5-100 MHz (TS 38.101-1 Table 5.3.2-1), EIRP per sector 10-90 dBm.

    Attributes (beyond the bands, heights, thresholds, model and calibration)
    ----------
    eirp_dbm : float
        EIRP of a site whose band no ``equipment`` row covers (and that gives none in the sites layer).
    environment : str
        Hata environment; ``suburban`` by default (forest and hills), ``rural`` is Hata's open area.
    lte_sinr_threshold_db, nr_sinr_threshold_db : float
        Coverage needs SINR (SS-SINR) at or above these as well as RSRP (SS-RSRP) at or above its threshold.
    sinr_cap_db : float
        Receiver/transmitter EVM limit: the SINR of a link is 1 / (1/SINR + 1/cap).
    shadow_sigma_db, edge_probability : float
        Lognormal shadow fading and the cell-edge location probability: a link closes with a margin of
        sigma x Q^-1(1 - p) dB; a point's location probability is reported.
    ue_power_dbm, cpe_power_dbm, bs_noise_figure_db, ul_interference_margin_db : float
        Uplink budget: handheld (power class 3) and CPE (power class 2) transmit power, base-station noise figure,
        uplink noise rise.
    lte_ul_edge_mbps, nr_ul_edge_mbps : float
        Uplink rate the cell edge must carry (one user, best allocation).
    school_cpe : {"outdoor", "indoor"}
        Schools' fixed-wireless CPE: outdoor at the CPE height, or indoor (building entry loss, TR 38.901 O2I).
    clutter_path : str
        Optional land-cover raster (relative to project.toml); its classes map through ``clutter``.
    """

    lte_band_mhz: float = _num(1800.0, 300.0, 6000.0, unit="MHz")
    lte_bandwidth_mhz: float = _num(20.0, 1.4, 20.0, unit="MHz")
    nr_bands_mhz: tuple[float, ...] = _num((700.0, 2600.0, 3500.0), 300.0, 6000.0, unit="MHz")
    nr_bandwidth_mhz: float = _num(100.0, 5.0, 100.0, unit="MHz")
    tower_height_m: float = _num(35.0, 0.0, 300.0, unit="m", low_open=True)
    ue_height_m: float = _num(1.5, 0.0, 50.0, unit="m", low_open=True)
    eirp_dbm: float = _num(61.0, 10.0, 90.0, unit="dBm")
    lte_rsrp_threshold_dbm: float = _num(-110.0, *_RSRP, unit="dBm")
    nr_rsrp_threshold_dbm: float = _num(-105.0, *_RSRP, unit="dBm")
    lte_sinr_threshold_db: float = _num(-3.0, -20.0, 40.0, unit="dB")
    nr_sinr_threshold_db: float = _num(-3.0, -20.0, 40.0, unit="dB")
    sinr_cap_db: float = _num(30.0, 5.0, 60.0, unit="dB")
    shadow_sigma_db: float = _num(8.0, 0.0, 20.0, unit="dB")
    edge_probability: float = _num(0.75, 0.5, 0.999)
    ue_power_dbm: float = _num(23.0, 0.0, 36.0, unit="dBm")
    cpe_power_dbm: float = _num(26.0, 0.0, 36.0, unit="dBm")
    bs_noise_figure_db: float = _num(3.0, 0.0, 20.0, unit="dB")
    ul_interference_margin_db: float = _num(2.0, 0.0, 30.0, unit="dB")
    lte_ul_edge_mbps: float = _num(0.5, 0.0, 1000.0, unit="Mbps", low_open=True)
    nr_ul_edge_mbps: float = _num(1.0, 0.0, 1000.0, unit="Mbps", low_open=True)
    school_cpe: str = "outdoor"
    model: str = "hata"
    environment: str = "suburban"
    profile_step_m: float = _num(30.0, 1.0, 1000.0, unit="m")
    raster_resolution_m: float = _num(500.0, 10.0, 100_000.0, unit="m")
    calibration_offset_db: float = _num(0.0, -60.0, 60.0, unit="dB")
    calibration_slope_db_per_decade: float = _num(0.0, -60.0, 60.0, unit="dB per decade")
    clutter_path: str = ""
    equipment: tuple[BandEquipment, ...] = _rows(DEFAULT_EQUIPMENT, BandEquipment)
    operators: tuple[OperatorRule, ...] = _rows(DEFAULT_OPERATORS, OperatorRule)
    clutter: tuple[ClutterClass, ...] = _rows(DEFAULT_CLUTTER, ClutterClass)
    capacity: CapacitySettings = field(default_factory=CapacitySettings, metadata={"section": CapacitySettings})
    backhaul: BackhaulSettings = field(default_factory=BackhaulSettings, metadata={"section": BackhaulSettings})


@dataclass(frozen=True)
class CostSettings:
    """Unit costs in CNY (DESIGN.md).

    ``share_site_cny`` is the planner's radio equipment on another operator's existing tower (no civil works;
    the tower's fibre is shared, other backhaul priced as for a new site): an assumption, override it with the
    local China Tower co-location price. ``satellite_school_fee_cny_per_year`` is the yearly fee of a school's
    satellite plan at ``[optimise] satellite_school_mbps`` (dearer than a site's backhaul link).
    ``microwave_hop_cny`` is one hop (two radios and dishes); a backhaul through a relay pays two hops plus
    ``relay_tower_cny`` (a new mast with power on a high point, no RAN) or ``relay_lease_cny`` (the relay's dishes
    on an existing tower: installation and lease; an assumption to replace with the local China Tower price).
    ``fibre_line_upgrade_cny`` is the one-off cost of a faster tier on a school's existing fibre line: no
    construction (the GPON/XG-PON port and the ONT already carry 100 Mbps and more), so 0 by default; the dearer
    tariff is a yearly cost.

    Running costs and the split of capex (:mod:`planning.plan.economics`; README, "Lifecycle cost and funding",
    gives every default's source): ``ran_equipment_cny`` is the radio equipment within ``new_site_cny`` (renewed
    every ``[economics] equipment_life_years``; the rest is the tower and civil works), ``grid_connection_cny`` a
    new site's power line (市电引入); a share of another operator's tower pays China Tower's lease
    ``tower_lease_cny_per_year`` less ``tower_share_discount``; every site pays electricity (``site_power_*_kw``
    around the clock at ``electricity_cny_per_kwh``) and maintenance (``maintenance_share_per_year`` of its capex,
    fibre ``fibre_maintenance_share_per_year``); a microwave hop its frequency fee; a school its line at the
    outlet target (``school_line``: ``broadband`` at ``broadband_cny_per_mbps_month`` or ``leased_line`` at
    ``leased_line_cny_per_mbps_month``).
    """

    fibre_aerial_cny_per_km: float = _num(15_000.0, 0.0, _MAX_CNY, unit="CNY/km")
    fibre_buried_cny_per_km: float = _num(60_000.0, 0.0, _MAX_CNY, unit="CNY/km")
    new_site_cny: float = _num(350_000.0, 0.0, _MAX_CNY, unit="CNY")
    upgrade_5g_cny: float = _num(150_000.0, 0.0, _MAX_CNY, unit="CNY")
    microwave_hop_cny: float = _num(80_000.0, 0.0, _MAX_CNY, unit="CNY")
    satellite_terminal_cny: float = _num(30_000.0, 0.0, _MAX_CNY, unit="CNY")
    satellite_fee_cny_per_year: float = _num(12_000.0, 0.0, _MAX_CNY, unit="CNY/year")
    satellite_school_fee_cny_per_year: float = _num(36_000.0, 0.0, _MAX_CNY, unit="CNY/year")
    share_site_cny: float = _num(200_000.0, 0.0, _MAX_CNY, unit="CNY")
    fibre_line_upgrade_cny: float = _num(0.0, 0.0, _MAX_CNY, unit="CNY")
    relay_tower_cny: float = _num(200_000.0, 0.0, _MAX_CNY, unit="CNY")
    relay_lease_cny: float = _num(30_000.0, 0.0, _MAX_CNY, unit="CNY")
    # running costs (README, "Lifecycle cost and funding")
    ran_equipment_cny: float = _num(150_000.0, 0.0, _MAX_CNY, unit="CNY")
    grid_connection_cny: float = _num(50_000.0, 0.0, _MAX_CNY, unit="CNY")
    tower_lease_cny_per_year: float = _num(30_000.0, 0.0, _MAX_CNY, unit="CNY/year")
    tower_share_discount: float = _num(0.30, 0.0, 1.0)
    electricity_cny_per_kwh: float = _num(0.65, 0.0, 100.0, unit="CNY/kWh")
    site_power_4g_kw: float = _num(1.2, 0.0, 100.0, unit="kW")
    site_power_5g_kw: float = _num(3.5, 0.0, 100.0, unit="kW")
    maintenance_share_per_year: float = _num(0.03, 0.0, 1.0)
    fibre_maintenance_share_per_year: float = _num(0.01, 0.0, 1.0)
    microwave_fee_cny_per_year: float = _num(3_000.0, 0.0, _MAX_CNY, unit="CNY/year")
    school_line: str = "broadband"
    broadband_cny_per_mbps_month: float = _num(0.24, 0.0, 1e6, unit="CNY/Mbps/month")
    leased_line_cny_per_mbps_month: float = _num(5.75, 0.0, 1e6, unit="CNY/Mbps/month")


@dataclass(frozen=True)
class EconomicsSettings:
    """Lifecycle cost (:mod:`planning.plan.economics`).

    Attributes
    ----------
    horizon_years : int
        Years of opex counted (and of equipment renewal), 10.
    discount_rate : float
        Yearly discount rate, 0.08 (the social discount rate of 国家发展改革委、建设部《建设项目经济评价方法与参数》
        第三版, 2006).
    equipment_life_years : int
        Life of radio equipment, terminals and microwave radios before renewal, 8 (Chinese operators depreciate
        network equipment over 5-10 years).
    objective : {"lifecycle", "capex", "subsidy"}
        What target mode minimises: the present value of capex and opex over the horizon (default), capex alone,
        or the central subsidy (the eligible capex x ``[funding] central_share``).
    """

    horizon_years: int = _num(10, 1, 100, integer=True, unit="years")
    discount_rate: float = _num(0.08, 0.0, 1.0)
    equipment_life_years: int = _num(8, 1, 100, integer=True, unit="years")
    objective: str = "lifecycle"


@dataclass(frozen=True)
class FundingSettings:
    """Who pays the capex (:func:`planning.plan.economics.funding_split`): "中央资金引导、地方协调支持、企业为主推进".

    Attributes
    ----------
    central_share : float
        Central finance's share of the eligible investment, 0.30 (unified at 30 % from the 2018 4G pilots; earlier
        batches had 15/20/30/35 % for east/central/west/autonomous regions; domain review §3.5).
    central_share_by_batch : list of float
        Per batch (1, 2, ...) a rate that replaces ``central_share`` (empty: none).
    local_share : float
        The province's or county's share of the eligible investment, 0.
    """

    central_share: float = _num(0.30, 0.0, 1.0)
    central_share_by_batch: tuple[float, ...] = _num((), 0.0, 1.0)
    local_share: float = _num(0.0, 0.0, 1.0)


@dataclass(frozen=True)
class FibreSettings:
    """Road/fibre network and fibre reach (planning.fibre).

    Attributes
    ----------
    snap_tolerance_m : float
        Line ends and vertices closer than this are one node; dangling ends this close to a line are joined to it.
    drop_m : float
        A point whose cheapest extension to existing fibre is at most this long counts as connected by fibre.
    buried_share : float
        Share of new fibre built buried (the rest aerial on poles); sets the cost per km.
    """

    snap_tolerance_m: float = _num(5.0, 0.0, 1000.0, unit="m", low_open=True)
    drop_m: float = _num(300.0, 0.0, 50_000.0, unit="m")
    buried_share: float = _num(0.0, 0.0, 1.0)

    def cny_per_m(self, costs: CostSettings) -> float:
        """Cost of one metre of new fibre (CNY), from the aerial and buried prices per km."""
        per_km = (1.0 - self.buried_share) * costs.fibre_aerial_cny_per_km + self.buried_share * (
            costs.fibre_buried_cny_per_km
        )
        return per_km / 1000.0


@dataclass(frozen=True)
class OptimiseSettings:
    """The optimiser (planning.plan.cover, planning.plan.proposal).

    Attributes
    ----------
    budget_cny : float
        Total budget; > 0 serves the programme's priorities within it (unconnected schools first, then registered
        poor villages, then the rest), 0 minimises cost to reach every KPI target of ``[targets]`` in every county.
    yearly_budget_cny : float
        Budget of one yearly batch when phasing the plan.
    poor_village_weight, teaching_point_weight, school_weight : float
        Demand weights: a village weighs 1 + population/1000, times ``poor_village_weight`` when registered
        poor; a school weighs ``school_weight``, times ``teaching_point_weight`` for a teaching point.
    time_limit_s : float
        Wall-clock limit of each exact solve.
    fibre_rounds : int
        Rounds of re-pricing fibre candidates with the shared-trench plan of the chosen ones.
    operator : str
        The operator the plan is for (a value of the sites layer's ``operator`` column). When set, 5G upgrades
        are offered for its own 4G sites only and every other operator's tower is offered for sharing (the
        planner's 4G or 5G equipment on it at ``share_site_cny``). Empty: every existing site is the planner's
        and nothing is shared.
    satellite_school_mbps : float
        Downlink of a school satellite terminal (Mbps): 20 Mbps by default, a shared GEO high-throughput plan
        (ChinaSat-16 class, ~600 ms round trip). Each unconnected school is offered a direct satellite connection
        (terminal + 5 years of fees); it serves the school's outlet only where ``[targets] satellite_outlet`` lets
        satellite count and this downlink reaches the target.
    first_year : int
        Calendar year of batch 1 (the ledger records each planned row's year); 0: the year after the run date.
    tender_lots : int
        Tender lots (标段) the plan is cut into: that many geographically compact lots of similar cost; 0 (default):
        one lot per county (:mod:`planning.plan.lots`).
    """

    budget_cny: float = _num(0.0, 0.0, _MAX_CNY, unit="CNY")
    yearly_budget_cny: float = _num(20_000_000.0, 0.0, _MAX_CNY, unit="CNY", low_open=True)
    poor_village_weight: float = _num(3.0, 0.0, 1e6)
    teaching_point_weight: float = _num(1.5, 0.0, 1e6)
    school_weight: float = _num(5.0, 0.0, 1e6)
    time_limit_s: float = _num(60.0, 0.0, 86_400.0, unit="s", low_open=True)
    fibre_rounds: int = _num(4, 1, 100, integer=True)
    operator: str = ""
    satellite_school_mbps: float = _num(20.0, 0.0, 100_000.0, unit="Mbps", low_open=True)
    first_year: int = _num(0, 0, 2100, integer=True)
    tender_lots: int = _num(0, 0, 1000, integer=True)


@dataclass(frozen=True)
class TargetSettings:
    """Targets of the universal-service and network poverty-alleviation programmes, one per KPI, counted per
    county (README, "KPIs"). A target of 0 means the KPI is reported but not targeted.

    Attributes
    ----------
    broadband : {"fibre_or_4g", "fibre"}
        What counts as a village with broadband: fibre or 4G/5G coverage (the 2018-2020 network poverty
        alleviation plan counted 通光纤 and 4G; default), or fibre only.
    poor_village_broadband_share, poor_village_4g_share : float
        Registered poor villages with broadband and with 4G: 0.98 each (工信部《关于推进网络扶贫的实施方案
        (2018-2020年)》, 工信部通信〔2018〕83号: 贫困村宽带网络覆盖率和4G网络覆盖率均超过98%).
    village_5g_share : float
        Administrative villages with 5G: 0 (no target). The 14th Five-Year Plan for information and communication
        (工信部规〔2021〕164号) sets 行政村5G通达率 80 % by 2025: set 0.8 to plan for it.
    school_connected_share, school_outlet_share, teaching_point_connected_share : float
        Schools (teaching points included) connected, at >= ``school_outlet_mbps``, and teaching points
        connected: 0.98 each (教育部 2019-2020 学校联网攻坚行动: 中小学(含教学点)宽带接入率达到98%以上、出口带宽
        达到100Mbps以上).
    school_outlet_mbps : float
        The outlet target, 100 Mbps (the same campaign).
    fibre_tier_mbps : float
        Outlet of a new fibre line to a school (what a planned fibre connection provides), 1000 Mbps.
    fwa_outlet : {"teaching_points", "all", "none"}
        Where 4G/5G fixed-wireless (a CPE on a cell) counts towards the outlet target: teaching points only
        (default: provinces accept FWA as the interim remedy of teaching points, domain review §3.2), every
        school, or none. FWA always counts as connected.
    satellite_outlet : bool
        Whether a satellite link counts towards the outlet target (default no: a shared GEO plan of tens of Mbps at
        ~600 ms is connected, not at target; domain review §3.12).
    """

    broadband: str = "fibre_or_4g"
    poor_village_broadband_share: float = _num(0.98, 0.0, 1.0)
    poor_village_4g_share: float = _num(0.98, 0.0, 1.0)
    village_5g_share: float = _num(0.0, 0.0, 1.0)
    school_connected_share: float = _num(0.98, 0.0, 1.0)
    school_outlet_share: float = _num(0.98, 0.0, 1.0)
    teaching_point_connected_share: float = _num(0.98, 0.0, 1.0)
    school_outlet_mbps: float = _num(100.0, 0.0, 100_000.0, unit="Mbps", low_open=True)
    fibre_tier_mbps: float = _num(1000.0, 0.0, 100_000.0, unit="Mbps", low_open=True)
    fwa_outlet: str = "teaching_points"
    satellite_outlet: bool = False


@dataclass(frozen=True)
class MapSettings:
    """The folium map of a run (planning.present.maps).

    Attributes
    ----------
    basemap : str
        Tile background when online: ``amap`` (AMap/Gaode; the layers are shifted to GCJ-02 to match it),
        ``tianditu`` (needs ``tianditu_key``), ``osm`` or ``none``. A hillshade rendered from the DEM is always
        offered as a background too.
    tianditu_key : str
        Tianditu (天地图) token, required for ``basemap = "tianditu"``: letters and digits only.
    offline : bool
        Inline Leaflet into map.html and use only the local hillshade background: the map opens on an intranet
        with no tile server and no CDN (``coverplan run --offline`` sets it too).
    hillshade_max_px : int
        Largest side of the hillshade image in pixels (the DEM is resampled down to it).
    """

    basemap: str = "amap"
    tianditu_key: str = ""
    offline: bool = False
    hillshade_max_px: int = _num(1600, 64, 8192, unit="px", integer=True)


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
    coordinates: Literal["wgs84", "gcj02"] = "wgs84"
    metric_crs: str | None = None
    terrain: Path | None = None
    ledger: Path | None = None
    radio: RadioSettings = field(default_factory=RadioSettings)
    costs: CostSettings = field(default_factory=CostSettings)
    economics: EconomicsSettings = field(default_factory=EconomicsSettings)
    funding: FundingSettings = field(default_factory=FundingSettings)
    targets: TargetSettings = field(default_factory=TargetSettings)
    fibre: FibreSettings = field(default_factory=FibreSettings)
    optimise: OptimiseSettings = field(default_factory=OptimiseSettings)
    map: MapSettings = field(default_factory=MapSettings)

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


def _number_section(cls: type, table: Mapping[str, Any], *, where: str, path: Path) -> Any:
    """Build a settings dataclass from a TOML table, checking names, types and each number's range.

    Nested tables (``[radio.capacity]``) and arrays of tables (``[[radio.equipment]]``) are read the same way.
    """
    if not isinstance(table, Mapping):
        msg = f"{path}: [{where}] = {table!r}; expected a table of settings"
        raise ProjectError(msg)
    names = {f.name for f in fields(cls)}
    _unknown(table, names, where=where, path=path)
    values = {f.name: _setting(f, table[f.name], where=where, path=path) for f in fields(cls) if f.name in table}
    out = cls(**values)
    _check_rows(out, where=where, path=path)
    return out


def _setting(f: Any, raw: object, *, where: str, path: Path) -> Any:
    """One setting of a table: a nested table, an array of tables, a flag, a text, numbers."""
    if "section" in f.metadata:
        return _number_section(f.metadata["section"], raw, where=f"{where}.{f.name}", path=path)  # type: ignore[arg-type]
    if "items" in f.metadata:
        if not isinstance(raw, list) or not raw or not all(isinstance(r, Mapping) for r in raw):
            msg = f"{path}: [{where}] `{f.name}` = {raw!r}; expected a non-empty array of tables [[{where}.{f.name}]]"
            raise ProjectError(msg)
        item = f.metadata["items"]
        empty = [i + 1 for i, r in enumerate(raw) if not r]
        if empty:  # a header left with its keys commented out would replace the defaults by rows of defaults
            msg = (
                f"{path}: [[{where}.{f.name}]] row(s) {empty} have no key; an array of tables replaces the whole "
                f"default list, so expected every row's keys ({', '.join(x.name for x in fields(item))}), or no "
                f"[[{where}.{f.name}]] header to keep the defaults"
            )
            raise ProjectError(msg)
        return tuple(_number_section(item, r, where=f"{where}.{f.name}[{i}]", path=path) for i, r in enumerate(raw))
    if isinstance(f.default, bool):
        if not isinstance(raw, bool):
            msg = f"{path}: [{where}] `{f.name}` = {raw!r}; expected true or false"
            raise ProjectError(msg)
        return raw
    if isinstance(f.default, str):
        allowed = _CHOICES.get(f.name, ())
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


def _check_rows(settings: Any, *, where: str, path: Path) -> None:
    """Checks across the settings of one table: band ranges in order, one operator rule and one class per key."""
    if isinstance(settings, BandEquipment) and settings.band_low_mhz > settings.band_high_mhz:
        msg = (
            f"{path}: [{where}] `band_low_mhz` = {settings.band_low_mhz:g} is above `band_high_mhz` = "
            f"{settings.band_high_mhz:g}; expected low <= high"
        )
        raise ProjectError(msg)
    if isinstance(settings, RadioSettings):
        for rows, key in ((settings.operators, "operator"), (settings.clutter, "code")):
            keys = [getattr(r, key) for r in rows]
            dup = sorted({str(k) for k in keys if keys.count(k) > 1})
            if dup:
                what = "operators" if key == "operator" else "clutter"
                msg = f"{path}: [{where}.{what}] `{key}` {dup} appears more than once; expected one row per {key}"
                raise ProjectError(msg)


def _number(raw: object, f: Any, *, where: str, path: Path) -> float | int:
    """One numeric setting: a finite number (a whole one for integer settings) in its physical range."""
    meta = f.metadata
    expected = _expected(meta)
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) >= 2**63:  # TOML integers are 64-bit
        msg = f"{path}: [{where}] `{f.name}` = an integer of {len(str(abs(raw)))} digits; expected {expected}"
        raise ProjectError(msg)
    if not isinstance(raw, int | float) or isinstance(raw, bool) or not math.isfinite(raw):
        msg = f"{path}: [{where}] `{f.name}` = {raw!r}; expected {expected}"
        raise ProjectError(msg)
    shown = f"{raw:g}" if abs(raw) >= 1e15 else repr(raw)  # 1e+300, not an integer of 300 digits
    if meta.get("integer") and float(raw) != int(raw):
        msg = f"{path}: [{where}] `{f.name}` = {shown} is not a whole number; expected {expected}"
        raise ProjectError(msg)
    low, high = meta.get("low"), meta.get("high")
    below = low is not None and (raw <= low if meta.get("low_open") else raw < low)
    if below or (high is not None and raw > high):
        msg = f"{path}: [{where}] `{f.name}` = {shown} is out of range; expected {expected}"
        raise ProjectError(msg)
    if meta.get("integer"):
        raw = int(raw)
    return raw if meta.get("integer") else float(raw)


def _expected(meta: Mapping[str, Any]) -> str:
    """'a number >= 0 and <= 1 MHz' for a setting's range metadata."""
    parts = []
    if meta.get("low") is not None:
        parts.append(f"{'>' if meta.get('low_open') else '>='} {meta['low']:g}")
    if meta.get("high") is not None:
        parts.append(f"<= {meta['high']:g}")
    base = "a whole number" if meta.get("integer") else "a finite number"
    unit = f" {meta['unit']}" if meta.get("unit") else ""
    return f"{base} {' and '.join(parts)}{unit}".rstrip()


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
    _unknown(raw, {"path", "layer", "crs", "lon", "lat", "sheet"}, where=f"layers.{name}", path=path)
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
    )


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
        | {"optimise", "map"},
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
    ledger = _file_section(doc, "ledger", path=path, what="the ledger GeoPackage's path")
    if "target_share" in doc.get("optimise", {}):
        msg = (
            f"{path}: [optimise] `target_share` is replaced by one target per KPI in [targets] (e.g. "
            '`poor_village_broadband_share`, `school_outlet_share`; README, "KPIs"); remove it'
        )
        raise ProjectError(msg)

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
        funding=_funding_section(doc.get("funding", {}), path=path),
        targets=_number_section(TargetSettings, doc.get("targets", {}), where="targets", path=path),
        fibre=_number_section(FibreSettings, doc.get("fibre", {}), where="fibre", path=path),
        optimise=_number_section(OptimiseSettings, doc.get("optimise", {}), where="optimise", path=path),
        map=_map_section(doc.get("map", {}), path=path),
    )


def _project_meta(meta: Mapping[str, Any], *, path: Path) -> tuple[Any, Any, Any]:
    """[project]: (language, coordinates, metric_crs), each checked."""
    _unknown(meta, {"name", "language", "coordinates", "metric_crs"}, where="project", path=path)
    language = meta.get("language", "zh")
    if language not in get_args(Language):
        msg = f"{path}: [project] `language` = {language!r}; expected 'zh' or 'en'"
        raise ProjectError(msg)
    coordinates = meta.get("coordinates", "wgs84")
    if coordinates not in ("wgs84", "gcj02"):
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


def _funding_section(table: Mapping[str, Any], *, path: Path) -> FundingSettings:
    """[funding], checked: the central and local shares of any batch add up to at most 1."""
    funding = _number_section(FundingSettings, table, where="funding", path=path)
    worst = max([funding.central_share, *funding.central_share_by_batch])
    if worst + funding.local_share > 1.0 + 1e-12:
        msg = (
            f"{path}: [funding] central share {worst:g} and `local_share` = {funding.local_share:g} add up to more "
            "than 1; expected at most the whole investment"
        )
        raise ProjectError(msg)
    return funding


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


def with_layers(project: Project, **sources: LayerSource) -> Project:
    """A copy of ``project`` with some layer sources replaced (for notebooks and tests)."""
    merged = dict(project.layers)
    merged.update(sources)
    return replace(project, layers=MappingProxyType(merged))
