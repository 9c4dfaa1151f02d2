"""OpenCelliD cells -> the ``sites`` layer: one site per LTE eNodeB / NR gNodeB of a Chinese operator.

The public OpenCelliD export (``cell_towers.csv.gz``, with a header; the per-country ``460.csv.gz``, without
one) has the columns radio, mcc, net, area, cell, unit, lon, lat, range, samples, changeable, created,
updated, averageSignal. A file may add a channel number per cell: ``earfcn`` (LTE), ``nrarfcn`` (NR) or
``arfcn`` (either).

Rules (README "Bringing real data"):

* only MCC 460 (China); LTE -> ``4g``, NR -> ``5g``; GSM, UMTS and CDMA cells are counted and dropped;
* MNC -> operator: China Mobile 00/02/04/07/08 ``CMCC``, China Unicom 01/06/09 ``CUCC``, China Telecom
  03/05/11 ``CTCC``, China Broadcasting Network 15 ``CBN``; other MNCs are counted and dropped;
* LTE cell identity (28 bits) = eNodeB id (20 bits) x 256 + local cell id, so eNodeB = cell // 256; NR cell
  identity (36 bits) = gNodeB id (``gnb_id_bits``, 22..32, default 24) followed by the local cell id;
* one site per (MNC, technology, base-station id) at the mean of its cells' estimated positions (metric CRS);
  ``samples`` summed, ``range_m`` the largest cell range, ``spread_m`` the farthest cell from the site's medoid
  cell (the cell nearest all the others: two cells 8.9 km apart spread 8.9 km, not 4.45), a note above
  :data:`SPREAD_NOTE_M`; ``area_code`` the LAC/TAC as an integer;
* ``band_mhz``: the lowest downlink carrier among the site's cells with a channel number (TS 36.101 /
  TS 38.104, :mod:`gis.importers.bands`), else the operator's rural coverage band
  (:data:`~gis.importers.bands.RURAL_BAND_MHZ`: 900/800 MHz LTE, 700 MHz/2.1 GHz NR; or with
  ``band_defaults="urban"`` its usual capacity band, :data:`~gis.importers.bands.USUAL_BAND_MHZ`), stated in the
  report and in ``band_mhz_source``; public OpenCelliD exports carry no channel numbers, so this is every site's;
* ``height_m``: OpenCelliD has no antenna heights: the project's tower height, ``height_m_source = "default"``.
"""

from __future__ import annotations

import codecs
import copy
import datetime as dt
import gzip
import io
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gis.errors import LayerError, Problem
from gis.importers.bands import RURAL_BAND_MHZ, USUAL_BAND_MHZ, earfcn_to_dl_mhz, nr_arfcn_to_mhz
from gis.importers.common import WGS84, ImportReport, Region, beyond
from gis.readers import duplicate_columns
from gis.validation import validate_frame

logger = logging.getLogger(__name__)

COLUMNS = (
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averageSignal",
)
REQUIRED = ("radio", "mcc", "net", "cell", "lon", "lat", "range", "samples")
RADIOS = ("GSM", "UMTS", "CDMA", "LTE", "NR")
MCC_CHINA = 460
#: MNC -> operator code (the codes of gis.synthetic and the sites layer's ``operator``).
MNC_OPERATOR: dict[int, str] = {
    0: "CMCC",
    2: "CMCC",
    4: "CMCC",
    7: "CMCC",
    8: "CMCC",
    1: "CUCC",
    6: "CUCC",
    9: "CUCC",
    3: "CTCC",
    5: "CTCC",
    11: "CTCC",
    15: "CBN",
}
TECH = {"LTE": "4g", "NR": "5g"}
#: Values of ``band_mhz_source``: the channel number of a cell, or a stated default.
BandSource = Literal["earfcn", "nrarfcn", "operator_default", "project_default"]
MAX_PROBLEMS = 1000
#: A site whose cells lie farther than this from its medoid cell gets a note (m): a macro cell's estimated position
#: is off by some hundred metres to a few km; beyond 5 km two base stations likely share an id, or a position is
#: wrong.
SPREAD_NOTE_M = 5000.0
BandDefaults = Literal["rural", "urban"]
_CELL_COLUMNS = [
    "row",
    "radio",
    "mnc",
    "area",
    "cell",
    "lon",
    "lat",
    "range_m",
    "samples",
    "updated",
    "earfcn",
    "nrarfcn",
]
#: (column, low, high, integer, what) checked on every MCC-460 row; bounds inclusive.
_CHECKS: tuple[tuple[str, float, float, bool, str], ...] = (
    ("net", 0, 999, True, "a mobile network code 0..999"),
    ("cell", 0, 2**36 - 1, True, "a cell identity >= 0 (LTE < 2^28, NR < 2^36)"),
    ("lon", -180.0, 180.0, False, "a longitude in degrees -180..180"),
    ("lat", -90.0, 90.0, False, "a latitude in degrees -90..90"),
    ("range", 0.0, 1e6, False, "a cell range in metres 0..1,000,000"),
    ("samples", 0, 1e12, True, "a whole number of samples >= 0"),
    ("area", 0, 2**32 - 1, True, "a location/tracking area code >= 0"),
    ("updated", 0, 4.2e9, True, "a Unix time in seconds"),
    ("earfcn", 0, 262143, True, "an E-UTRA EARFCN 0..262143"),
    ("nrarfcn", 0, 3279165, True, "an NR-ARFCN 0..3279165"),
    ("arfcn", 0, 3279165, True, "a channel number 0..3279165"),
)


def _encoding(path: Path, gz: bool) -> str:
    """``utf-16`` when the (gunzipped) file starts with a UTF-16 byte-order mark (Excel's "Unicode text"), else
    ``utf-8-sig`` (UTF-8 with or without a BOM)."""
    with gzip.open(path, "rb") if gz else open(path, "rb") as fh:
        head = fh.read(2)
    return "utf-16" if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"


def _open_text(path: Path) -> io.TextIOBase:
    """The file as text, gunzipped when it starts with the gzip magic bytes (whatever its name), decoded as UTF-16
    when it starts with a UTF-16 byte-order mark, else as UTF-8."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    gz = magic == b"\x1f\x8b"
    encoding = _encoding(path, gz)
    if gz:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


@dataclass(frozen=True)
class _Layout:
    """How the CSV is laid out: a header row or not, the separator, and lines to skip first (Excel's ``sep=,``)."""

    header: bool
    sep: str = ","
    skip: int = 0


def _layout(path: Path) -> _Layout:
    """The file's :class:`_Layout`, from its first lines; LayerError when it is not an OpenCelliD CSV."""
    file = str(path)
    try:
        with _open_text(path) as fh:
            first = fh.readline(4096).strip()
            skip, sep = 0, ","
            if first.lower().startswith("sep=") and len(first) == 5:  # Excel's separator line
                skip, sep = 1, first[4]
                first = fh.readline(4096).strip()
            elif "\t" in first and "," not in first:  # Excel's "Unicode text" is tab-separated
                sep = "\t"
    except UnicodeDecodeError as exc:
        msg = (
            f"cannot read the text ({exc.reason} at byte {exc.start}); expected UTF-8 (or UTF-16 with a byte-order "
            "mark, as Excel's Unicode text): save the file as CSV UTF-8"
        )
        raise LayerError([Problem("opencellid", msg, file=file)]) from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise LayerError([Problem("opencellid", f"cannot read: {exc}", file=file)]) from exc
    fields = [f.strip().strip('"') for f in first.split(sep)]
    if fields and fields[0].lower() == "radio":
        dups = duplicate_columns(fields, file=file, layer="opencellid")  # pandas would rename the second
        if dups:
            raise LayerError(dups)
        return _Layout(header=True, sep=sep, skip=skip)
    if fields and fields[0].upper() in RADIOS and len(fields) >= 13:
        return _Layout(header=False, sep=sep, skip=skip)
    msg = (
        f"not an OpenCelliD CSV: line {skip + 1} starts {first[:60]!r}; expected the header "
        f"{','.join(COLUMNS[:6])},... or a data row starting with one of {list(RADIOS)}"
    )
    raise LayerError([Problem("opencellid", msg, file=file, row=1)])


def _numbers(chunk: pd.DataFrame, rows: np.ndarray, *, file: str) -> tuple[dict[str, np.ndarray], list[Problem]]:
    """Parse and range-check the numeric columns of MCC-460 rows (file rows ``rows``); problems name row, cell
    and column."""
    out: dict[str, np.ndarray] = {}
    problems: list[Problem] = []
    cells = chunk["cell"].astype(str).to_numpy()
    for col, low, high, integer, what in _CHECKS:
        if col not in chunk.columns:
            continue
        raw = chunk[col]
        empty = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
        val = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = ~empty & ~np.isfinite(val)
        rng = ~empty & np.isfinite(val) & ((val < low) | (val > high))
        if integer:
            rng |= ~empty & np.isfinite(val) & (np.floor(np.nan_to_num(val)) != np.nan_to_num(val))
        if col in REQUIRED:
            bad |= empty
        for i in np.flatnonzero(bad | rng):
            shown = "empty" if empty[i] else repr(raw.iloc[i])
            why = "is not a finite number" if bad[i] else "is out of range"
            problems.append(
                Problem(
                    "opencellid",
                    f"{shown} {why}; expected {what}",
                    file=file,
                    row=int(rows[i]),
                    row_id=f"cell={cells[i]}",
                    column=col,
                )
            )
        out[col] = np.where(empty, np.nan, val)
    return out, problems


def read_opencellid(
    path: str | Path,
    *,
    bbox_lonlat: tuple[float, float, float, float] | None = None,
    skip_bad_rows: bool = False,
    chunk_rows: int = 500_000,
) -> tuple[pd.DataFrame, ImportReport]:
    """Read the Chinese (MCC 460) cells of an OpenCelliD CSV (plain or gzipped, with or without header).

    Parameters
    ----------
    path : str or Path
        The CSV (``.csv`` or ``.csv.gz``).
    bbox_lonlat : (min_lon, min_lat, max_lon, max_lat), optional
        Keep only cells inside this box (degrees); the rest are counted as outside the region.
    skip_bad_rows : bool
        Drop (and count) MCC-460 rows with a non-numeric or out-of-range value instead of raising.
    chunk_rows : int
        Rows parsed at a time (the world export has ~40 million).

    Returns
    -------
    cells, report
        One row per kept cell: ``row`` (1-based data row), ``radio`` (upper case), ``mnc``, ``area``, ``cell``,
        ``lon``, ``lat`` (degrees), ``range_m``, ``samples``, ``updated`` (Unix s), ``earfcn``, ``nrarfcn``
        (NaN when absent); and the counts so far.

    Raises
    ------
    LayerError
        Unreadable, truncated or corrupt (gzip) file, not an OpenCelliD CSV, missing columns, or (without
        ``skip_bad_rows``) any bad MCC-460 value, each named by file, row, cell and column.
    """
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise LayerError([Problem("opencellid", "file does not exist", file=file)])
    layout = _layout(path)
    header = layout.header
    report = ImportReport(source=file, unit="cells")
    parts: list[pd.DataFrame] = []
    problems: list[Problem] = []
    try:
        with _open_text(path) as fh:
            reader = pd.read_csv(
                fh,
                header=0 if header else None,
                sep=layout.sep,
                skiprows=layout.skip,
                names=None if header else list(COLUMNS),
                dtype=str,
                chunksize=chunk_rows,
                skipinitialspace=True,
                keep_default_na=False,
                na_values=[""],
                index_col=False,
            )
            offset = 1
            for chunk in reader:
                part, probs = _cells_of_chunk(chunk, offset, report, bbox_lonlat=bbox_lonlat, file=file)
                offset += len(chunk)
                if probs and skip_bad_rows:
                    report.drop("cells: a bad value (--skip-bad-rows)", len({p.row for p in probs}))
                    part = part[~part["row"].isin({p.row for p in probs})]
                problems.extend(probs[: max(MAX_PROBLEMS - len(problems), 0)])
                parts.append(part)
    except LayerError:
        raise
    except UnicodeDecodeError as exc:
        msg = (
            f"cannot read the text ({exc.reason}); expected UTF-8 (or UTF-16 with a byte-order mark, as Excel's "
            "Unicode text): save the file as CSV UTF-8"
        )
        raise LayerError([Problem("opencellid", msg, file=file)]) from exc
    except (OSError, EOFError, zlib.error, pd.errors.ParserError, ValueError) as exc:
        msg = f"cannot read (truncated or corrupt file?): {type(exc).__name__}: {exc}"
        raise LayerError([Problem("opencellid", msg, file=file)]) from exc
    if problems and not skip_bad_rows:
        hint = (
            f"{len(problems)}{'+' if len(problems) >= MAX_PROBLEMS else ''} row(s) with a bad value; pass "
            "--skip-bad-rows to leave them out (counted in the report), as a real export almost always needs"
        )
        raise LayerError([*problems, Problem("opencellid", hint, file=file)])
    cells = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_CELL_COLUMNS)
    return cells, report


def _cells_of_chunk(
    chunk: pd.DataFrame,
    first_row: int,
    report: ImportReport,
    *,
    bbox_lonlat: tuple[float, float, float, float] | None,
    file: str,
) -> tuple[pd.DataFrame, list[Problem]]:
    """The MCC-460 cells of one chunk (validated) and the problems found; counts go into ``report``."""
    chunk.columns = [str(c).strip() for c in chunk.columns]
    missing = [c for c in REQUIRED if c not in chunk.columns]
    if missing:
        msg = f"columns {missing} are missing; columns present: {list(chunk.columns)}; expected {list(COLUMNS)}"
        raise LayerError([Problem("opencellid", msg, file=file)])
    report.read += len(chunk)
    mcc = pd.to_numeric(chunk["mcc"], errors="coerce").to_numpy(dtype=float)
    problems = [
        Problem(
            "opencellid",
            f"{chunk['mcc'].iloc[i]!r} is not a number; expected a mobile country code",
            file=file,
            row=first_row + int(i),
            column="mcc",
        )
        for i in np.flatnonzero(~np.isfinite(mcc))
    ]
    china = mcc == MCC_CHINA
    report.drop("cells: MCC is not 460 (China)", int((np.isfinite(mcc) & ~china).sum()))
    sub = chunk[china]
    rows = first_row + np.flatnonzero(china)
    nums, probs = _numbers(sub, rows, file=file) if len(sub) else ({}, [])
    problems.extend(probs)
    n = len(sub)

    def col(name: str) -> np.ndarray:
        return nums.get(name, np.full(n, np.nan))

    cells = pd.DataFrame(
        {
            "row": rows,
            "radio": sub["radio"].astype(str).str.strip().str.upper().to_numpy(),
            "mnc": col("net"),
            "area": col("area"),
            "cell": col("cell"),
            "lon": col("lon"),
            "lat": col("lat"),
            "range_m": col("range"),
            "samples": col("samples"),
            "updated": col("updated"),
            "earfcn": col("earfcn"),
            "nrarfcn": col("nrarfcn"),
        }
    )
    cell = cells["cell"].to_numpy(dtype=float)
    lte_big = (cells["radio"].to_numpy() == "LTE") & np.isfinite(cell) & (cell >= 2**28) & (cell < 2**36)
    problems.extend(
        Problem(
            "opencellid",
            f"LTE cell identity {int(cells.at[i, 'cell'])} has more than 28 bits; "
            "expected an E-UTRAN cell identity 0..268435455",
            file=file,
            row=int(cells.at[i, "row"]),
            row_id=f"cell={int(cells.at[i, 'cell'])}",
            column="cell",
        )
        for i in np.flatnonzero(lte_big)
    )
    arfcn = col("arfcn")
    cells["earfcn"] = np.where(np.isnan(cells["earfcn"]) & (cells["radio"] == "LTE"), arfcn, cells["earfcn"])
    cells["nrarfcn"] = np.where(np.isnan(cells["nrarfcn"]) & (cells["radio"] == "NR"), arfcn, cells["nrarfcn"])
    if bbox_lonlat is not None and n:
        x0, y0, x1, y1 = bbox_lonlat
        lon, lat = cells["lon"].to_numpy(), cells["lat"].to_numpy()
        away = ~((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)) & np.isfinite(lon) & np.isfinite(lat)
        away &= ~cells["row"].isin({p.row for p in problems}).to_numpy()  # bad rows are counted as such
        report.drop("cells: outside the region's bounding box (+ buffer)", int(away.sum()))
        cells = cells[~away]
    return cells, problems


def base_station_ids(cell: np.ndarray, radio: np.ndarray, *, gnb_id_bits: int = 24) -> np.ndarray:
    """eNodeB id (LTE: cell // 256) or gNodeB id (NR: the top ``gnb_id_bits`` of the 36-bit NCI).

    Parameters
    ----------
    cell : array_like of int
        E-UTRAN cell identity (28 bits) or NR cell identity (36 bits).
    radio : array_like of str
        ``LTE`` or ``NR`` per cell.
    gnb_id_bits : int
        Length of the gNB id in the NCI (TS 38.413: 22..32 bits; operators choose it; 24 by default).
    """
    if not 22 <= gnb_id_bits <= 32:
        msg = f"`gnb_id_bits` = {gnb_id_bits!r}; expected 22..32 (TS 38.413 gNB-ID length)"
        raise ValueError(msg)
    c = np.asarray(cell, dtype=np.int64)
    nr = np.asarray(radio) == "NR"
    return np.where(nr, c >> (36 - gnb_id_bits), c >> 8)


def _check_ids(cells: pd.DataFrame, *, file: str) -> None:
    """LTE cell identities must fit 28 bits (NR's 36 bits are checked on reading)."""
    big = cells.index[(cells["radio"] == "LTE") & (cells["cell"] >= 2**28)]
    if len(big):
        raise LayerError(
            [
                Problem(
                    "opencellid",
                    f"LTE cell identity {int(cells.at[i, 'cell'])} has more than 28 bits; "
                    "expected an E-UTRAN cell identity 0..268435455",
                    file=file,
                    row=int(cells.at[i, "row"]),
                    row_id=f"cell={int(cells.at[i, 'cell'])}",
                    column="cell",
                )
                for i in big[:MAX_PROBLEMS]
            ]
        )


def _cell_bands(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: downlink carrier (MHz; NaN when no usable channel number) and band name."""
    lte = cells["radio"].to_numpy() == "LTE"
    f_lte, b_lte = earfcn_to_dl_mhz(cells["earfcn"].to_numpy())
    f_nr, b_nr = nr_arfcn_to_mhz(cells["nrarfcn"].to_numpy())
    return np.where(lte, f_lte, f_nr), np.where(lte, b_lte, b_nr)


def _band_defaults(
    sites: pd.DataFrame,
    report: ImportReport,
    *,
    lte_default_mhz: float,
    nr_default_mhz: float,
    band_defaults: BandDefaults = "rural",
) -> pd.DataFrame:
    """Fill ``band_mhz`` of sites without a channel number from the operator's rural (or usual urban) band, else
    the project's."""
    out = sites.copy()
    table = RURAL_BAND_MHZ if band_defaults == "rural" else USUAL_BAND_MHZ
    source = np.where(out["tech"] == "4g", "earfcn", "nrarfcn").astype(object)
    unknown = out["band_mhz"].isna().to_numpy()
    if unknown.any():
        report.notes.append(
            f"{int(unknown.sum())} of {len(out)} site(s) have no channel number: band_mhz is the operator's "
            f"{band_defaults} default (band_mhz_source = 'operator_default'); correct it where the real band is known"
        )
    for (op, tech), idx in out[unknown].groupby(["operator", "tech"]).groups.items():
        usual = table.get((op, tech))
        if usual is not None:
            mhz, band, cite = usual
            rule = f"{op} {tech}: operator's {band_defaults} band {mhz:g} MHz {band} ({cite})"
            out.loc[idx, ["band_mhz", "band"]] = [mhz, band]
            source[out.index.get_indexer(idx)] = "operator_default"
        else:
            mhz = lte_default_mhz if tech == "4g" else nr_default_mhz
            rule = f"{op} {tech}: no usual band known, project [radio] default {mhz:g} MHz"
            out.loc[idx, ["band_mhz", "band"]] = [mhz, ""]
            source[out.index.get_indexer(idx)] = "project_default"
        report.fill("band_mhz", rule, len(idx))
    out["band_mhz_source"] = source
    return out


def _group_sites(c: pd.DataFrame, region: Region) -> pd.DataFrame:
    """One row per (MNC, tech, base station): mean position (metric), counts, ranges, band of the lowest carrier."""
    tr = Transformer.from_crs(WGS84, region.crs, always_xy=True)
    x, y = tr.transform(c["lon"].to_numpy(), c["lat"].to_numpy())
    c = c.assign(x=x, y=y).sort_values(["freq", "row"], na_position="last", kind="stable")
    keys = ["mnc", "tech", "bs"]
    g = c.groupby(keys, sort=True)
    sites = g.agg(
        operator=("operator", "first"),
        x=("x", "mean"),
        y=("y", "mean"),
        n_cells=("cell", "size"),
        samples=("samples", "sum"),
        range_m=("range_m", "max"),
        area=("area", "first"),
        updated=("updated", "max"),
        band_mhz=("freq", "min"),
        band=("band", "first"),
    ).reset_index()
    spread = g[["x", "y"]].apply(_medoid_spread_m).rename("spread_m").reset_index()
    return sites.merge(spread, on=keys)


def _medoid_spread_m(xy: pd.DataFrame) -> float:
    """Farthest distance (m) of a site's cells from its medoid cell (the cell with the least summed distance to
    the others)."""
    p = xy[["x", "y"]].to_numpy(dtype=float)
    d = np.hypot(p[:, None, 0] - p[None, :, 0], p[:, None, 1] - p[None, :, 1])
    return float(d[int(np.argmin(d.sum(axis=1)))].max())


def cells_to_sites(
    cells: pd.DataFrame,
    region: Region,
    *,
    buffer_m: float = 10_000.0,
    gnb_id_bits: int = 24,
    height_m: float = 35.0,
    lte_default_mhz: float = 1800.0,
    nr_default_mhz: float = 700.0,
    report: ImportReport | None = None,
    file: str = "",
    band_defaults: BandDefaults = "rural",
) -> tuple[gpd.GeoDataFrame, ImportReport]:
    """Group OpenCelliD cells (from :func:`read_opencellid`) into the ``sites`` layer, clipped to the region.

    Parameters
    ----------
    cells : DataFrame
        Cells of MCC 460 as :func:`read_opencellid` returns them.
    region : Region
        The project's admin areas (metric CRS).
    buffer_m : float
        Keep sites within this distance (m) of the admin areas (towers outside serve villages near the border).
    gnb_id_bits : int
        gNB-id length in the NR cell identity (22..32 bits).
    height_m : float
        Antenna height (m) given to every site (OpenCelliD has none); ``height_m_source = "default"``.
    lte_default_mhz, nr_default_mhz : float
        Band (MHz) of a site with no channel number whose operator has no default band for its technology.
    band_defaults : {"rural", "urban"}
        The operator's band given to a site with no channel number: its rural coverage layer
        (:data:`~gis.importers.bands.RURAL_BAND_MHZ`, default) or its usual urban band
        (:data:`~gis.importers.bands.USUAL_BAND_MHZ`).
    report : ImportReport, optional
        Counts from reading (copied, not changed).

    Returns
    -------
    sites, report
        The layer in the region's metric CRS (valid as ``sites``) and the counts of what was kept and dropped.
    """
    report = copy.deepcopy(report) if report is not None else ImportReport(source=file, unit="cells")
    _check_ids(cells, file=file)
    radio = cells["radio"]
    for r in ("GSM", "UMTS", "CDMA"):
        report.drop(f"cells: {r} (2G/3G is not planned)", int((radio == r).sum()))
    for r, n in radio[~radio.isin(RADIOS)].value_counts().items():
        report.drop(f"cells: radio {r!r} is not one of {list(RADIOS)}", int(n))
    c = cells[radio.isin(list(TECH))].copy()
    c["operator"] = c["mnc"].map(MNC_OPERATOR)
    for mnc, n in c.loc[c["operator"].isna(), "mnc"].value_counts().items():
        report.drop(f"cells: MNC {int(mnc):02d} is not China Mobile, Unicom, Telecom or Broadcasting Network", int(n))
    c = c[c["operator"].notna()]
    c["freq"], c["band"] = _cell_bands(c)
    fr2 = c["freq"].to_numpy() > 6000.0
    report.drop("cells: NR above 6 GHz (FR2 mmWave is not planned)", int(fr2.sum()))
    c = c[~fr2]
    c.loc[c["band"] == "", "freq"] = np.nan
    chan = np.where(c["radio"] == "LTE", c["earfcn"], c["nrarfcn"])
    lost = np.isfinite(chan) & ~np.isfinite(c["freq"].to_numpy())
    if lost.any():
        report.notes.append(
            f"{int(lost.sum())} cell(s) carry a channel number in no band of the 3GPP tables; "
            "their site's band comes from another cell or the operator's usual band"
        )
    c["tech"] = c["radio"].map(TECH)
    c["bs"] = base_station_ids(c["cell"].to_numpy(), c["radio"].to_numpy(), gnb_id_bits=gnb_id_bits)
    sites = _group_sites(c, region) if len(c) else pd.DataFrame(columns=["mnc", "tech", "bs", "x", "y", "n_cells"])
    pts = shapely.points(sites["x"].to_numpy(dtype=float), sites["y"].to_numpy(dtype=float))
    keep = shapely.intersects(region.buffered(buffer_m), pts) if len(sites) else np.zeros(0, bool)
    report.drop(f"cells: their site lies {beyond(buffer_m)}", int(sites.loc[~keep, "n_cells"].sum()))
    sites = sites[keep].reset_index(drop=True)
    return _sites_frame(
        sites,
        pts[keep],
        region,
        report,
        height_m=height_m,
        lte_default_mhz=lte_default_mhz,
        nr_default_mhz=nr_default_mhz,
        file=file,
        band_defaults=band_defaults,
    )


def _sites_frame(
    sites: pd.DataFrame,
    pts: np.ndarray,
    region: Region,
    report: ImportReport,
    *,
    height_m: float,
    lte_default_mhz: float,
    nr_default_mhz: float,
    file: str,
    band_defaults: BandDefaults = "rural",
) -> tuple[gpd.GeoDataFrame, ImportReport]:
    """The ``sites`` layer from grouped base stations; validated."""
    if not len(sites):
        report.kept["sites"] = 0
        return gpd.GeoDataFrame(
            {"site_id": [], "tech": [], "band_mhz": [], "height_m": []}, geometry=[], crs=region.crs
        ), report
    sites = _band_defaults(
        sites, report, lte_default_mhz=lte_default_mhz, nr_default_mhz=nr_default_mhz, band_defaults=band_defaults
    )
    kind = np.where(sites["tech"] == "4g", "enb", "gnb")
    ids = [f"460-{int(m):02d}-{k}{int(b)}" for m, k, b in zip(sites["mnc"], kind, sites["bs"], strict=True)]
    updated = [
        dt.datetime.fromtimestamp(t, dt.UTC).date().isoformat() if np.isfinite(t) else None
        for t in sites["updated"].to_numpy(dtype=float)
    ]
    frame = gpd.GeoDataFrame(
        {
            "site_id": ids,
            "tech": sites["tech"].to_numpy(),
            "band_mhz": sites["band_mhz"].to_numpy(dtype=float),
            "band": sites["band"].to_numpy(),
            "band_mhz_source": sites["band_mhz_source"].to_numpy(),
            "height_m": np.full(len(sites), float(height_m)),
            "height_m_source": "default",
            "operator": sites["operator"].to_numpy(),
            "mnc": sites["mnc"].to_numpy(dtype=np.int64),
            "base_station_id": sites["bs"].to_numpy(dtype=np.int64),
            "n_cells": sites["n_cells"].to_numpy(np.int64),
            "samples": sites["samples"].to_numpy(dtype=np.int64),
            "range_m": sites["range_m"].to_numpy(dtype=float),
            "spread_m": np.round(sites["spread_m"].to_numpy(dtype=float), 1),
            "area_code": pd.array(
                [int(a) if np.isfinite(a) else None for a in sites["area"].to_numpy(dtype=float)], dtype="Int64"
            ),
            "updated": updated,
        },
        geometry=pts,
        crs=region.crs,
    )
    report.fill(
        "height_m", f"default {height_m:g} m, the project's tower height (OpenCelliD has no heights)", len(frame)
    )
    wide = frame["spread_m"].to_numpy() > SPREAD_NOTE_M
    if wide.any():
        named = ", ".join(frame.loc[wide, "site_id"].head(5))
        report.notes.append(
            f"{int(wide.sum())} site(s) ({named}{' ...' if wide.sum() > 5 else ''}) have cells more than "
            f"{SPREAD_NOTE_M / 1000:g} km apart (column spread_m, from the medoid cell): two base stations sharing "
            "an id, or a wrong position (OpenCelliD positions are estimates); check them"
        )
    frame, problems = validate_frame(frame, "sites", file=file)
    if any(p.severity == "error" for p in problems):
        raise LayerError(problems)
    report.kept["sites"] = len(frame)
    report.notes.append(
        f"sites: {int((frame['tech'] == '4g').sum())} 4g eNodeB, "
        f"{int((frame['tech'] == '5g').sum())} 5g gNodeB from {int(frame['n_cells'].sum())} cells"
    )
    return frame, report
