"""Carrier frequencies from channel numbers (EARFCN, NR-ARFCN) and the Chinese operators' usual bands.

Sources
-------
* E-UTRA: 3GPP TS 36.101, §5.7.3 "Carrier frequency and EARFCN", Table 5.7.3-1: the downlink carrier is
  ``F_DL = F_DL_low + 0.1 (N_DL - N_Offs-DL)`` MHz for ``N_DL`` in the band's range.
* NR: 3GPP TS 38.104 §5.4.2.1 (and TS 38.101-1 §5.4.2.1), Table 5.4.2.1-1: ``F_REF = F_REF-Offs +
  ΔF_Global (N_REF - N_REF-Offs)`` with ΔF_Global 5 kHz below 3 GHz, 15 kHz from 3 to 24.25 GHz, 60 kHz above;
  the band is the first of :data:`NR_BANDS_DL_MHZ` (TS 38.101-1 Table 5.2-1, downlink ranges) containing it,
  bands used in China listed first (so 3450 MHz is n78 rather than n77, 2600 MHz n41 rather than n38).
* Operators' usual bands (:data:`USUAL_BAND_MHZ`, used only when a cell carries no channel number): the centre
  of each operator's downlink block in the MIIT licences: TD-LTE licences of 2013-12-04 (China Mobile
  1880-1900 MHz, band 39), FDD-LTE licences of 2015-02-27 (China Unicom 1850-1860 MHz and China Telecom
  1860-1875 MHz downlink, band 3), 5G frequency licences of 2018-12-10 (China Mobile 2515-2675 MHz, n41; China
  Telecom 3400-3500 MHz and China Unicom 3500-3600 MHz, n78) and China Broadcasting Network's 700 MHz (MIIT
  band plan 工信部无〔2020〕50号 of 2020-04-01: 703-743/758-798 MHz FDD; the 758-788 MHz downlink used is not
  verified).
* The rural layer (:data:`RURAL_BAND_MHZ`): the dates checked in 2026-12 against public reports (Reuters
  2013-12-04 and 2015-02-27 on the TD-LTE and FDD-LTE licences; the Telecom-Unicom agreement of 2019-09-09 as filed
  with the SEC; the China Mobile-CBN agreement reported 2020-05-21; the 700 MHz notice 工信部无〔2020〕50号 published
  2020-04-01); what could not be confirmed (the operators' exact 900/800/2100 MHz blocks, MIIT's refarming
  approvals, the day of China Mobile's April 2018 LTE FDD licence) says "not verified" in its source.
"""

from __future__ import annotations

import numpy as np

#: E-UTRA operating bands, TS 36.101 Table 5.7.3-1: band -> (F_DL_low in units of 0.1 MHz, N_Offs-DL, last N_DL).
#: The first EARFCN of a band is its N_Offs-DL.
EUTRA_BANDS: dict[int, tuple[int, int, int]] = {
    1: (21100, 0, 599),
    2: (19300, 600, 1199),
    3: (18050, 1200, 1949),
    4: (21100, 1950, 2399),
    5: (8690, 2400, 2649),
    7: (26200, 2750, 3449),
    8: (9250, 3450, 3799),
    9: (18449, 3800, 4149),
    10: (21100, 4150, 4749),
    11: (14759, 4750, 4949),
    12: (7290, 5010, 5179),
    13: (7460, 5180, 5279),
    14: (7580, 5280, 5379),
    17: (7340, 5730, 5849),
    18: (8600, 5850, 5999),
    19: (8750, 6000, 6149),
    20: (7910, 6150, 6449),
    21: (14959, 6450, 6599),
    25: (19300, 8040, 8689),
    26: (8590, 8690, 9039),
    28: (7580, 9210, 9659),
    33: (19000, 36000, 36199),
    34: (20100, 36200, 36349),
    38: (25700, 37750, 38249),
    39: (18800, 38250, 38649),
    40: (23000, 38650, 39649),
    41: (24960, 39650, 41589),
    42: (34000, 41590, 43589),
    43: (36000, 43590, 45589),
    66: (21100, 66436, 67335),
    71: (6170, 68586, 68935),
}

#: NR FR1 operating bands, downlink range in MHz (TS 38.101-1 Table 5.2-1); bands used in China first.
NR_BANDS_DL_MHZ: dict[str, tuple[float, float]] = {
    "n1": (2110.0, 2170.0),
    "n3": (1805.0, 1880.0),
    "n5": (869.0, 894.0),
    "n8": (925.0, 960.0),
    "n28": (758.0, 803.0),
    "n34": (2010.0, 2025.0),
    "n39": (1880.0, 1920.0),
    "n40": (2300.0, 2400.0),
    "n41": (2496.0, 2690.0),
    "n78": (3300.0, 3800.0),
    "n79": (4400.0, 5000.0),
    "n2": (1930.0, 1990.0),
    "n7": (2620.0, 2690.0),
    "n12": (729.0, 746.0),
    "n20": (791.0, 821.0),
    "n25": (1930.0, 1995.0),
    "n38": (2570.0, 2620.0),
    "n66": (2110.0, 2200.0),
    "n71": (617.0, 652.0),
    "n77": (3300.0, 4200.0),
}

#: The operators' usual (capacity, urban) band when a cell carries no channel number and the import says
#: ``band_defaults="urban"``: (operator, tech) -> (MHz, band, source).
USUAL_BAND_MHZ: dict[tuple[str, str], tuple[float, str, str]] = {
    ("CMCC", "4g"): (1890.0, "B39", "China Mobile TD-LTE 1880-1900 MHz, MIIT licence 2013-12-04"),
    ("CUCC", "4g"): (1855.0, "B3", "China Unicom FDD-LTE downlink 1850-1860 MHz, MIIT licence 2015-02-27"),
    ("CTCC", "4g"): (1867.5, "B3", "China Telecom FDD-LTE downlink 1860-1875 MHz, MIIT licence 2015-02-27"),
    ("CMCC", "5g"): (2595.0, "n41", "China Mobile 5G 2515-2675 MHz, MIIT licence 2018-12-10"),
    ("CTCC", "5g"): (3450.0, "n78", "China Telecom 5G 3400-3500 MHz, MIIT licence 2018-12-10"),
    ("CUCC", "5g"): (3550.0, "n78", "China Unicom 5G 3500-3600 MHz, MIIT licence 2018-12-10"),
    ("CBN", "5g"): (
        773.0,
        "n28",
        "China Broadcasting Network 700 MHz (MIIT band plan 工信部无〔2020〕50号, published 2020-04-01); downlink "
        "block 758-788 MHz not verified",
    ),
}


#: The operators' rural coverage layer, used when a cell carries no channel number and the import is for a rural
#: area (``band_defaults="rural"``, the default): the low bands the operators build rural and 普遍服务 coverage on.
#: Downlink centre of each operator's holding in the band.
RURAL_BAND_MHZ: dict[tuple[str, str], tuple[float, str, str]] = {
    ("CMCC", "4g"): (
        941.5,
        "B8",
        "China Mobile 900 MHz holding, downlink 934-949 MHz (block not verified), used for LTE FDD under the LTE FDD "
        "licence MIIT issued in April 2018 (reported; the day not verified), extended to the whole country with the "
        "5G licences of 2019-06-06; MIIT's approval of 900 MHz for LTE not verified",
    ),
    ("CUCC", "4g"): (
        957.0,
        "B8",
        "China Unicom 900 MHz holding, downlink 954-960 MHz (its GSM block; not verified), LTE FDD under the MIIT "
        "FDD-LTE licences of 2015-02-27; MIIT's approval of 900 MHz for LTE not verified",
    ),
    ("CTCC", "4g"): (
        875.0,
        "B5",
        "China Telecom 800 MHz holding, downlink 870-880 MHz (its CDMA block; not verified), LTE FDD under the MIIT "
        "FDD-LTE licences of 2015-02-27; MIIT's approval of 800 MHz for LTE not verified",
    ),
    ("CMCC", "5g"): (
        773.0,
        "n28",
        "700 MHz n28, built by China Mobile with China Broadcasting Network: MIIT band plan 工信部无〔2020〕50号 "
        "(703-743/758-798 MHz FDD, published 2020-04-01), co-build and sharing agreement 2020-05-20, cooperation "
        "agreements 2021-01-26; the network's downlink block 758-788 MHz not verified",
    ),
    ("CBN", "5g"): (
        773.0,
        "n28",
        "China Broadcasting Network 700 MHz (5G licence 2019-06-06; MIIT band plan 工信部无〔2020〕50号, published "
        "2020-04-01); downlink block 758-788 MHz not verified",
    ),
    ("CTCC", "5g"): (
        2120.0,
        "n1",
        "China Telecom 2.1 GHz holding, downlink 2110-2130 MHz (its 3G block 2110-2125 MHz; the extension not "
        "verified), shared with China Unicom for 5G NR (co-build agreement 2019-09-09); MIIT's approval of 2.1 GHz "
        "for NR not verified",
    ),
    ("CUCC", "5g"): (
        2142.5,
        "n1",
        "China Unicom 2.1 GHz holding, downlink 2130-2155 MHz (its 3G block 2130-2145 MHz; the extension not "
        "verified), shared with China Telecom for 5G NR (co-build agreement 2019-09-09); MIIT's approval of 2.1 GHz "
        "for NR not verified",
    ),
}


def earfcn_to_dl_mhz(earfcn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Downlink carrier frequency (MHz) and band name (``B3`` ...) of E-UTRA downlink EARFCNs.

    Parameters
    ----------
    earfcn : array_like of int
        Downlink EARFCNs (TS 36.101 §5.7.3); NaN/negative or outside every band of :data:`EUTRA_BANDS`
        gives NaN and ``""``.

    Returns
    -------
    freq_mhz, band : ndarray of float64, ndarray of str
        e.g. EARFCN 1650 -> 1850.0 MHz, ``B3``; 38400 -> 1895.0 MHz, ``B39``.
    """
    n = np.asarray(earfcn, dtype=float)
    freq = np.full(n.shape, np.nan)
    band = np.full(n.shape, "", dtype=object)
    ok = np.isfinite(n) & (n >= 0) & (np.floor(np.nan_to_num(n)) == np.nan_to_num(n))
    for b, (low_100khz, offs, last) in EUTRA_BANDS.items():
        sel = ok & (n >= offs) & (n <= last) & (band == "")
        freq[sel] = (low_100khz + (n[sel] - offs)) / 10.0
        band[sel] = f"B{b}"
    return freq, band.astype(str)


def nr_arfcn_to_mhz(arfcn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frequency (MHz) and FR1 band name (``n78`` ...) of NR-ARFCNs (TS 38.104 §5.4.2.1).

    Frequencies above 6 GHz, or in no band of :data:`NR_BANDS_DL_MHZ`, get band ``""`` (the frequency is still
    returned); NaN/negative/over 3279165 gives NaN. e.g. 630000 -> 3450.0 MHz ``n78``; 504990 -> 2524.95 MHz
    ``n41``.
    """
    n = np.asarray(arfcn, dtype=float)
    ok = np.isfinite(n) & (n >= 0) & (n <= 3_279_165) & (np.floor(np.nan_to_num(n)) == np.nan_to_num(n))
    m = np.where(ok, n, 0.0)
    khz = np.where(
        m < 600_000,
        5.0 * m,
        np.where(m < 2_016_667, 3_000_000.0 + 15.0 * (m - 600_000), 24_250_080.0 + 60.0 * (m - 2_016_667)),
    )
    freq = np.where(ok, khz / 1000.0, np.nan)
    band = np.full(n.shape, "", dtype=object)
    for name, (lo, hi) in NR_BANDS_DL_MHZ.items():
        sel = ok & (freq >= lo) & (freq <= hi) & (band == "")
        band[sel] = name
    return freq, band.astype(str)
