"""Radio settings (``[radio]`` of project.toml): bands, equipment, coverage criteria, propagation model, operator
band rules, clutter classes, capacity and backhaul, with their default tables.

README "Radio propagation and coverage" gives the source of every default; :mod:`planning.radio` uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from gis.settings.fields import num, rows, section

__all__ = [
    "DEFAULT_CLUTTER",
    "DEFAULT_EQUIPMENT",
    "DEFAULT_MICROWAVE",
    "DEFAULT_OPERATORS",
    "ENVIRONMENTS",
    "HUB_RULES",
    "PROPAGATION_MODELS",
    "RSRP_RANGE_DBM",
    "SCHOOL_CPE",
    "TECH_CHOICES",
    "BackhaulSettings",
    "BandEquipment",
    "CapacitySettings",
    "ClutterClass",
    "Environment",
    "HubRule",
    "MicrowaveBand",
    "Model",
    "OperatorRule",
    "RadioSettings",
    "SchoolCpe",
    "Tech",
]

#: Propagation models a project may name (planning.radio.propagation and planning.radio.p1812 implement them).
Model = Literal["free_space", "hata", "rma", "uma", "itm", "p1812"]
PROPAGATION_MODELS: tuple[Model, ...] = get_args(Model)
#: Hata environments (``rural`` is Hata's open area).
Environment = Literal["urban_large", "urban", "suburban", "rural"]
ENVIRONMENTS: tuple[Environment, ...] = get_args(Environment)
#: Schools' fixed-wireless CPE (planning.radio.coverage): outdoor (on the roof) or indoor (building entry loss).
SchoolCpe = Literal["outdoor", "indoor"]
SCHOOL_CPE: tuple[SchoolCpe, ...] = get_args(SchoolCpe)
#: Radio technology of an equipment row.
Tech = Literal["4g", "5g"]
TECH_CHOICES: tuple[Tech, ...] = get_args(Tech)
#: Far ends a microwave hop may land on: the planner's own sites with fibre (and fibre nodes), or any site with fibre.
HubRule = Literal["own_fibre", "any_fibre"]
HUB_RULES: tuple[HubRule, ...] = get_args(HubRule)
#: 3GPP RSRP reporting range (TS 36.133 §9.1.4, TS 38.133 §10.1.6): thresholds outside it cannot be measured (dBm).
RSRP_RANGE_DBM = (-156.0, -31.0)


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
    tech: Tech = "4g"
    band_low_mhz: float = num(300.0, 300.0, 6000.0, unit="MHz")
    band_high_mhz: float = num(6000.0, 300.0, 6000.0, unit="MHz")
    tx_power_dbm: float = num(43.0, 0.0, 70.0, unit="dBm")
    antenna_gain_dbi: float = num(18.0, -10.0, 40.0, unit="dBi")
    feeder_loss_db: float = num(0.5, 0.0, 20.0, unit="dB")
    ul_gain_dbi: float = num(21.0, -10.0, 45.0, unit="dBi")
    dl_layers: int = num(2, 1, 8, integer=True)
    bandwidth_mhz: float = num(0.0, 0.0, 400.0, unit="MHz")
    vertical_beamwidth_deg: float = num(10.0, 1.0, 90.0, unit="deg")
    tilt_deg: float = num(3.0, -10.0, 30.0, unit="deg")

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
    market_share: float = num(1.0, 0.0, 1.0)
    lte_bands_mhz: tuple[float, ...] = num((1800.0,), 300.0, 6000.0, unit="MHz")
    nr_bands_mhz: tuple[float, ...] = num((3500.0,), 300.0, 6000.0, unit="MHz")


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
    """One class of a land-cover raster (``RadioSettings.clutter_path``): the Hata environment of points in it, an
    extra loss (foliage, buildings) at the receiver, and the representative clutter height ITU-R P.1812 puts on
    every profile point in it.

    ``environment`` empty keeps the project's. Default rows: ESA WorldCover 10 m v200 class codes. With
    ``model = "p1812"`` the extra loss is not added (P.1812 counts the clutter through ``height_m``).
    """

    code: int = num(0, 0, 65_535, integer=True)
    name: str = ""
    environment: Environment | Literal[""] = ""
    extra_loss_db: float = num(0.0, 0.0, 60.0, unit="dB")
    height_m: float = num(0.0, 0.0, 100.0, unit="m")


#: ESA WorldCover v200 classes; foliage loss of a terminal in woodland from ITU-R P.833-10 §2 (about 20 m of
#: trees at 1-4 GHz), open land as Hata's open area, settlements as suburban (README gives the sources).
#: Representative clutter heights from ITU-R P.1812-8 Table 2: water/sea and open/rural 0 m, suburban 10 m,
#: urban/trees/forest 15 m, dense urban 20 m (built-up taken as suburban, shrubland as suburban-height cover).
DEFAULT_CLUTTER: tuple[ClutterClass, ...] = (
    ClutterClass(code=10, name="tree cover", environment="suburban", extra_loss_db=8.0, height_m=15.0),
    ClutterClass(code=20, name="shrubland", environment="suburban", extra_loss_db=2.0, height_m=10.0),
    ClutterClass(code=30, name="grassland", environment="rural"),
    ClutterClass(code=40, name="cropland", environment="rural"),
    ClutterClass(code=50, name="built-up", environment="suburban", height_m=10.0),
    ClutterClass(code=60, name="bare / sparse vegetation", environment="rural"),
    ClutterClass(code=70, name="snow and ice", environment="rural"),
    ClutterClass(code=80, name="permanent water", environment="rural"),
    ClutterClass(code=90, name="herbaceous wetland", environment="rural"),
    ClutterClass(code=95, name="mangroves", environment="suburban", extra_loss_db=8.0, height_m=15.0),
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

    subscribers_per_person: float = num(0.66, 0.0, 5.0)
    monthly_gb_per_subscriber: float = num(19.0, 0.0, 1000.0, unit="GB")
    busy_hour_share: float = num(0.08, 0.0, 1.0, low_open=True)
    nr_traffic_share: float = num(0.6, 0.0, 1.0)
    mbps_per_student: float = num(0.1, 0.0, 100.0, unit="Mbps")


@dataclass(frozen=True)
class MicrowaveBand:
    """One microwave band: carrier, longest hop it is planned for and the capacity of one hop."""

    freq_ghz: float = num(7.0, 1.0, 100.0, unit="GHz")
    max_hop_m: float = num(50_000.0, 100.0, 200_000.0, unit="m")
    capacity_mbps: float = num(200.0, 1.0, 100_000.0, unit="Mbps")


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

    k_factor: float = num(4.0 / 3.0, 0.3, 10.0)
    clearance_f1: float = num(0.6, 0.0, 2.0)
    hop_step_m: float = num(50.0, 1.0, 1000.0, unit="m")
    hubs: HubRule = "own_fibre"
    relays_on_towers: bool = True
    relay_spacing_m: float = num(3000.0, 100.0, 100_000.0, unit="m")
    microwave: tuple[MicrowaveBand, ...] = rows(DEFAULT_MICROWAVE, MicrowaveBand)
    microwave_mbps: float = num(400.0, 1.0, 100_000.0, unit="Mbps")
    satellite_backhaul_mbps: float = num(10.0, 0.1, 100_000.0, unit="Mbps")
    satellite_rtt_ms: float = num(600.0, 0.0, 5000.0, unit="ms")


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
    environment : {"urban_large", "urban", "suburban", "rural"}
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
    model : {"p1812", "hata", "rma", "uma", "itm", "free_space"}
        Propagation model of the coverage stage; ITU-R P.1812-8 by default. A path outside another model's validity
        range (distance, frequency, heights) is computed with P.1812 and counted.
    p1812_dn, p1812_n0 : float
        P.1812's average refractivity lapse rate through the lowest 1 km (N-units/km) and sea-level surface
        refractivity at the path centre; defaults read from the Recommendation's DN50/N050 maps at the demo region
        (41.8 N 127.2 E): 38.7 and 317.4.
    p1812_clutter_height_m : float
        Representative clutter height of profile points without a land-cover class (no ``clutter_path``, off the
        raster or a class without a row), m.
    """

    lte_band_mhz: float = num(1800.0, 300.0, 6000.0, unit="MHz")
    lte_bandwidth_mhz: float = num(20.0, 1.4, 20.0, unit="MHz")
    nr_bands_mhz: tuple[float, ...] = num((700.0, 2600.0, 3500.0), 300.0, 6000.0, unit="MHz")
    nr_bandwidth_mhz: float = num(100.0, 5.0, 100.0, unit="MHz")
    tower_height_m: float = num(35.0, 0.0, 300.0, unit="m", low_open=True)
    ue_height_m: float = num(1.5, 0.0, 50.0, unit="m", low_open=True)
    eirp_dbm: float = num(61.0, 10.0, 90.0, unit="dBm")
    lte_rsrp_threshold_dbm: float = num(-110.0, *RSRP_RANGE_DBM, unit="dBm")
    nr_rsrp_threshold_dbm: float = num(-105.0, *RSRP_RANGE_DBM, unit="dBm")
    lte_sinr_threshold_db: float = num(-3.0, -20.0, 40.0, unit="dB")
    nr_sinr_threshold_db: float = num(-3.0, -20.0, 40.0, unit="dB")
    sinr_cap_db: float = num(30.0, 5.0, 60.0, unit="dB")
    shadow_sigma_db: float = num(8.0, 0.0, 20.0, unit="dB")
    edge_probability: float = num(0.75, 0.5, 0.999)
    ue_power_dbm: float = num(23.0, 0.0, 36.0, unit="dBm")
    cpe_power_dbm: float = num(26.0, 0.0, 36.0, unit="dBm")
    bs_noise_figure_db: float = num(3.0, 0.0, 20.0, unit="dB")
    ul_interference_margin_db: float = num(2.0, 0.0, 30.0, unit="dB")
    lte_ul_edge_mbps: float = num(0.5, 0.0, 1000.0, unit="Mbps", low_open=True)
    nr_ul_edge_mbps: float = num(1.0, 0.0, 1000.0, unit="Mbps", low_open=True)
    school_cpe: SchoolCpe = "outdoor"
    model: Model = "p1812"
    environment: Environment = "suburban"
    p1812_dn: float = num(38.7, 1.0, 156.0, unit="N-units/km")
    p1812_n0: float = num(317.4, 250.0, 450.0, unit="N-units")
    p1812_clutter_height_m: float = num(0.0, 0.0, 100.0, unit="m")
    profile_step_m: float = num(30.0, 1.0, 1000.0, unit="m")
    raster_resolution_m: float = num(500.0, 10.0, 100_000.0, unit="m")
    calibration_offset_db: float = num(0.0, -60.0, 60.0, unit="dB")
    calibration_slope_db_per_decade: float = num(0.0, -60.0, 60.0, unit="dB per decade")
    clutter_path: str = ""
    equipment: tuple[BandEquipment, ...] = rows(DEFAULT_EQUIPMENT, BandEquipment)
    operators: tuple[OperatorRule, ...] = rows(DEFAULT_OPERATORS, OperatorRule)
    clutter: tuple[ClutterClass, ...] = rows(DEFAULT_CLUTTER, ClutterClass)
    # section() is field(default_factory=...): each RadioSettings gets its own (frozen) default, nothing is shared
    capacity: CapacitySettings = section(CapacitySettings)  # noqa: RUF009
    backhaul: BackhaulSettings = section(BackhaulSettings)  # noqa: RUF009
