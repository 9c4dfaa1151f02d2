"""Radio settings (``[radio]`` of project.toml): bands, equipment, coverage criteria, propagation model, operator
band rules, clutter classes, capacity and backhaul, with their default tables.

README "Radio propagation and coverage" gives the source of every default; :mod:`planning.radio` uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from gis.settings.fields import num, rows, section

__all__ = [
    "DEFAULT_CANOPY",
    "DEFAULT_CLUTTER",
    "DEFAULT_DISHES",
    "DEFAULT_EQUIPMENT",
    "DEFAULT_MICROWAVE",
    "DEFAULT_MODULATIONS",
    "DEFAULT_OPERATORS",
    "DEFAULT_RELAY_MASTS",
    "ENVIRONMENTS",
    "HUB_RULES",
    "MISSING_AZIMUTH",
    "PROPAGATION_MODELS",
    "RSRP_RANGE_DBM",
    "SCHOOL_CPE",
    "TECH_CHOICES",
    "BackhaulSettings",
    "BandEquipment",
    "CanopyClass",
    "CapacitySettings",
    "ClutterClass",
    "Environment",
    "HubRule",
    "MicrowaveBand",
    "MicrowaveDish",
    "MicrowaveModulation",
    "MissingAzimuth",
    "Model",
    "OperatorRule",
    "RadioSettings",
    "RelayMast",
    "SchoolCpe",
    "Tech",
]

#: What a sites-layer row without ``azimuth_deg`` is: three sectors at 0/120/240 deg (how operators build macro
#: sites) or one omni cell.
MissingAzimuth = Literal["three_sectors", "omni"]
MISSING_AZIMUTH: tuple[MissingAzimuth, ...] = get_args(MissingAzimuth)
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
    carriers : int
        Carriers of ``bandwidth_mhz`` each sector radiates on this band (1..8) where the sites layer gives no
        ``carriers``: one by default, what a Chinese operator's holding in one band carries (docs/radio.md).
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
    carriers: int = num(1, 1, 8, integer=True)

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
        LTE bands the operator holds: the first is that of its new sites and 4G shares; a 4G site of this
        operator on another band is warned about (``gis.layers``).
    nr_bands_mhz : tuple of float
        NR bands the operator may add: one 5G upgrade candidate per band, 5G shares on the first; a 5G site of
        this operator on another band is warned about.
    """

    operator: str = "*"
    ran_group: str = ""
    market_share: float = num(1.0, 0.0, 1.0)
    lte_bands_mhz: tuple[float, ...] = num((1800.0,), 300.0, 6000.0, unit="MHz")
    nr_bands_mhz: tuple[float, ...] = num((3500.0,), 300.0, 6000.0, unit="MHz")


#: Default operator rules (MIIT licences; README gives the sources). Subscriber shares are the operators' mobile
#: customers at the end of 2024 (annual reports), rounded; ``*`` (an unknown operator) carries every subscriber.
DEFAULT_OPERATORS: tuple[OperatorRule, ...] = (
    OperatorRule(
        operator="CMCC",
        ran_group="CMCC+CBN",
        market_share=0.56,
        lte_bands_mhz=(1800.0, 900.0, 1900.0, 2300.0, 2600.0),
        nr_bands_mhz=(700.0, 2600.0),
    ),
    OperatorRule(operator="CBN", ran_group="CMCC+CBN", market_share=0.01, nr_bands_mhz=(700.0,)),
    OperatorRule(
        operator="CTCC",
        ran_group="CTCC+CUCC",
        market_share=0.24,
        lte_bands_mhz=(1800.0, 850.0, 2100.0),
        nr_bands_mhz=(3500.0, 2100.0),
    ),
    OperatorRule(
        operator="CUCC",
        ran_group="CTCC+CUCC",
        market_share=0.19,
        lte_bands_mhz=(1800.0, 900.0, 2100.0),
        nr_bands_mhz=(3500.0, 2100.0),
    ),
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
    classroom_stream_mbps : float
        Uplink of one classroom's live video (同步课堂/专递课堂, 1080p), Mbps.
    students_per_class : int
        Students per class: a school has ceil(students / this) classes.
    live_classes : int
        Classes of one school that send video up at the same time (at most its classes); a school's uplink
        demand is ``min(classes, live_classes) x classroom_stream_mbps``.
    """

    subscribers_per_person: float = num(0.66, 0.0, 5.0)
    monthly_gb_per_subscriber: float = num(19.0, 0.0, 1000.0, unit="GB")
    busy_hour_share: float = num(0.08, 0.0, 1.0, low_open=True)
    nr_traffic_share: float = num(0.6, 0.0, 1.0)
    mbps_per_student: float = num(0.1, 0.0, 100.0, unit="Mbps")
    classroom_stream_mbps: float = num(4.0, 0.0, 1000.0, unit="Mbps")
    students_per_class: int = num(45, 1, 1000, integer=True)
    live_classes: int = num(1, 0, 100, integer=True)


@dataclass(frozen=True)
class MicrowaveBand:
    """One microwave band: carrier, longest hop searched, the radio (transmit power, channel widths, price of one
    end's ODU and IDU), the receiver's threshold offset from the table of :class:`MicrowaveModulation` and the
    smallest dish offered in the band."""

    freq_ghz: float = num(7.0, 1.0, 100.0, unit="GHz")
    max_hop_m: float = num(50_000.0, 100.0, 200_000.0, unit="m")
    tx_power_dbm: float = num(26.0, -10.0, 40.0, unit="dBm")
    channels_mhz: tuple[float, ...] = num((7.0, 14.0, 28.0), 1.0, 5000.0, unit="MHz")
    radio_cny: float = num(15_000.0, 0.0, 1e9, unit="CNY")
    threshold_offset_db: float = num(0.0, -20.0, 20.0, unit="dB")
    min_dish_m: float = num(0.3, 0.0, 5.0, unit="m")


#: Microwave bands (ITU-R channel plans F.385 (7 GHz), F.497 (13 GHz), F.636 (15 GHz), F.595 (18 GHz), F.637
#: (23 GHz), F.2006 (71-86 GHz)); transmit power and channels of current split-mount radios (Ericsson MINI-LINK
#: 6352/6363, Huawei OptiX RTN XMC ODU datasheets); radio price per end an assumption (docs/radio.md).
DEFAULT_MICROWAVE: tuple[MicrowaveBand, ...] = (
    MicrowaveBand(freq_ghz=7.0, max_hop_m=50_000.0, tx_power_dbm=26.0, channels_mhz=(14.0, 28.0), min_dish_m=0.6),
    MicrowaveBand(freq_ghz=13.0, max_hop_m=30_000.0, tx_power_dbm=24.0, channels_mhz=(28.0, 56.0)),
    MicrowaveBand(freq_ghz=15.0, max_hop_m=25_000.0, tx_power_dbm=24.0, channels_mhz=(28.0, 56.0)),
    MicrowaveBand(freq_ghz=18.0, max_hop_m=20_000.0, tx_power_dbm=22.0, channels_mhz=(28.0, 56.0)),
    MicrowaveBand(freq_ghz=23.0, max_hop_m=15_000.0, tx_power_dbm=20.0, channels_mhz=(28.0, 56.0)),
    MicrowaveBand(
        freq_ghz=80.0,
        max_hop_m=5_000.0,
        tx_power_dbm=15.0,
        channels_mhz=(250.0, 500.0),
        radio_cny=30_000.0,
        threshold_offset_db=6.0,
    ),
)


@dataclass(frozen=True)
class MicrowaveModulation:
    """One modulation of the radios: capacity per MHz of channel and the receiver threshold (BER 1e-6) in a
    28 MHz channel (it moves by 10 log10(channel / 28 MHz) with the channel)."""

    name: str = "256QAM"
    mbps_per_mhz: float = num(6.4, 0.1, 50.0, unit="Mbps/MHz")
    threshold_28mhz_dbm: float = num(-68.0, -120.0, -20.0, unit="dBm")


#: Modulations and thresholds of current split-mount radios (typical of Ericsson MINI-LINK 6352 and Huawei OptiX
#: RTN 905/950 datasheets, BER 1e-6, L1 capacity without compression).
DEFAULT_MODULATIONS: tuple[MicrowaveModulation, ...] = (
    MicrowaveModulation(name="QPSK", mbps_per_mhz=1.5, threshold_28mhz_dbm=-87.0),
    MicrowaveModulation(name="16QAM", mbps_per_mhz=3.0, threshold_28mhz_dbm=-80.0),
    MicrowaveModulation(name="64QAM", mbps_per_mhz=4.6, threshold_28mhz_dbm=-74.0),
    MicrowaveModulation(name="256QAM", mbps_per_mhz=6.4, threshold_28mhz_dbm=-68.0),
    MicrowaveModulation(name="1024QAM", mbps_per_mhz=8.0, threshold_28mhz_dbm=-62.0),
)


@dataclass(frozen=True)
class MicrowaveDish:
    """A parabolic antenna size and the price of one (with its mount); its gain follows from the diameter, the
    band and ``BackhaulSettings.dish_efficiency``."""

    diameter_m: float = num(0.6, 0.1, 5.0, unit="m")
    cost_cny: float = num(6_000.0, 0.0, 1e9, unit="CNY")


#: Dish sizes (CommScope VHLP / Huawei A-series single-polarised catalogue sizes); prices an assumption.
DEFAULT_DISHES: tuple[MicrowaveDish, ...] = (
    MicrowaveDish(diameter_m=0.3, cost_cny=3_000.0),
    MicrowaveDish(diameter_m=0.6, cost_cny=6_000.0),
    MicrowaveDish(diameter_m=1.2, cost_cny=15_000.0),
    MicrowaveDish(diameter_m=1.8, cost_cny=30_000.0),
)


@dataclass(frozen=True)
class RelayMast:
    """A new relay mast of one height with its civil work, power and price (built once; its radios are priced
    with the hops)."""

    height_m: float = num(30.0, 5.0, 150.0, unit="m")
    cost_cny: float = num(180_000.0, 0.0, 1e10, unit="CNY")


#: Relay masts (China Tower 通信铁塔 of 20-50 m; prices an assumption around the former flat 200,000 at 35 m).
DEFAULT_RELAY_MASTS: tuple[RelayMast, ...] = (
    RelayMast(height_m=20.0, cost_cny=150_000.0),
    RelayMast(height_m=30.0, cost_cny=180_000.0),
    RelayMast(height_m=40.0, cost_cny=220_000.0),
    RelayMast(height_m=50.0, cost_cny=270_000.0),
)


@dataclass(frozen=True)
class CanopyClass:
    """Height of the clutter (trees, buildings) of one land-cover class that a microwave hop must clear."""

    code: int = num(10, 0, 65535, integer=True)
    height_m: float = num(0.0, 0.0, 100.0, unit="m")


#: Clutter heights of the ESA WorldCover classes for hop clearance (ITU-R P.452-17 Table 4 / P.1812-6 Table 2
#: representative heights: forest 15 m, suburban 9 m; mangroves as forest; shrubland 2 m an assumption; the
#: others open ground, 0 m).
DEFAULT_CANOPY: tuple[CanopyClass, ...] = (
    CanopyClass(code=10, height_m=15.0),
    CanopyClass(code=20, height_m=2.0),
    CanopyClass(code=50, height_m=9.0),
    CanopyClass(code=95, height_m=15.0),
)


@dataclass(frozen=True)
class BackhaulSettings:
    """Microwave hops on the DEM, relays and satellite (planning.radio.backhaul, planning.radio.microwave).

    Attributes
    ----------
    k_factor, clearance_f1 : float
        ITU-R P.530-18 §2.2.2.1 step 2: at the median effective earth-radius factor ``k_factor`` (4/3) the line
        between the antennas clears the terrain and clutter by ``clearance_f1`` (1.0) of the first Fresnel zone.
    clearance_low_f1, k_low_path_km, k_low : float
        Step 3: at the k_e exceeded 99.9 % of the worst month (``k_low`` at path lengths ``k_low_path_km``, read
        from P.530-18 Figure 3, log-linear in between) the clearance is at least ``clearance_low_f1`` (0.3: an
        obstruction extended along the path; 0.0 for a single isolated one).
    hop_step_m : float
        Terrain profile step of a hop.
    canopy, canopy_default_m : tuple of CanopyClass, float
        Clutter height per land-cover class of ``[radio] clutter_path``, and where there is no raster or no row.
    relay_masts : tuple of RelayMast
        Heights of a new relay mast, each with its price: a relay takes the lowest that clears its hops.
    availability_pct : float
        Yearly availability each hop must reach (rain + multipath outage, ITU-R P.530), 99.99 %.
    polarisation_tilt_deg : float
        Polarisation of the hops for P.838 (90: vertical, the usual choice on rain-limited hops).
    branching_loss_db, dish_efficiency, hop_install_cny : float
        Losses of both ends' feeders and branching, the aperture efficiency of the dishes and the installation,
        alignment and survey of one hop (both ends).
    needed_4g_mbps, needed_5g_mbps : float
        Capacity a new 4G or 5G site's backhaul must carry.
    hubs : {"own_fibre", "any_fibre"}
        Far ends: the planner's (and its RAN partners') sites with fibre backhaul, plus fibre nodes; or any site with
        fibre (a tower company that sells transmission).
    relays_on_towers : bool
        Existing towers may carry a relay (every tower is taken as a China Tower site the planner may lease on).
    relay_spacing_m : float
        One high-point relay candidate (the highest DEM cell) per square of this side.
    microwave, modulations, dishes : tuples
        Bands (with the longest hop searched), modulations and dish sizes: a hop takes the cheapest band, dish,
        channel and modulation that clears, carries the site and reaches the availability.
    microwave_mbps : float
        Capacity assumed for an existing site's microwave backhaul.
    satellite_backhaul_mbps, satellite_rtt_ms : float
        What a site's satellite backhaul plan carries (GEO VSAT; the default matches the default
        ``satellite_fee_cny_per_year``: raise both together for a high-throughput plan) and its round-trip time.
    """

    k_factor: float = num(4.0 / 3.0, 0.3, 10.0)
    clearance_f1: float = num(1.0, 0.0, 2.0)
    clearance_low_f1: float = num(0.3, -1.0, 2.0)
    k_low_path_km: tuple[float, ...] = num((2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0), 0.1, 1000.0, unit="km")
    k_low: tuple[float, ...] = num((0.5, 0.6, 0.7, 0.8, 0.9, 0.97, 1.0), 0.1, 10.0)
    hop_step_m: float = num(10.0, 1.0, 1000.0, unit="m")
    canopy: tuple[CanopyClass, ...] = rows(DEFAULT_CANOPY, CanopyClass)
    canopy_default_m: float = num(0.0, 0.0, 100.0, unit="m")
    relay_masts: tuple[RelayMast, ...] = rows(DEFAULT_RELAY_MASTS, RelayMast)
    availability_pct: float = num(99.99, 90.0, 99.99999, unit="%")
    polarisation_tilt_deg: float = num(90.0, 0.0, 90.0, unit="deg")
    branching_loss_db: float = num(2.0, 0.0, 30.0, unit="dB")
    dish_efficiency: float = num(0.55, 0.1, 1.0)
    hop_install_cny: float = num(20_000.0, 0.0, 1e9, unit="CNY")
    needed_4g_mbps: float = num(150.0, 1.0, 100_000.0, unit="Mbps")
    needed_5g_mbps: float = num(500.0, 1.0, 100_000.0, unit="Mbps")
    hubs: HubRule = "own_fibre"
    relays_on_towers: bool = True
    relay_spacing_m: float = num(3000.0, 100.0, 100_000.0, unit="m")
    microwave: tuple[MicrowaveBand, ...] = rows(DEFAULT_MICROWAVE, MicrowaveBand)
    modulations: tuple[MicrowaveModulation, ...] = rows(DEFAULT_MODULATIONS, MicrowaveModulation)
    dishes: tuple[MicrowaveDish, ...] = rows(DEFAULT_DISHES, MicrowaveDish)
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
    ue_antenna_gain_dbi, ue_body_loss_db : float
        A handheld's antenna gain (both links) and the loss of the hand and head of the person using it, counted
        on the uplink (the RSRP thresholds are drive-test criteria, measured without a hand).
    missing_azimuth : {"three_sectors", "omni"}
        A sites-layer row without ``azimuth_deg``: three sectors at 0/120/240 deg (counted in the run's warnings
        and ``summary.json``) or one omni cell.
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
    ue_antenna_gain_dbi: float = num(0.0, -20.0, 20.0, unit="dBi")
    ue_body_loss_db: float = num(3.0, 0.0, 30.0, unit="dB")
    missing_azimuth: MissingAzimuth = "three_sectors"
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
