"""Drive-test calibration: a least-squares offset and slope (per decade of distance) of the propagation model.

Each measurement (``rsrp_dbm``, ``site_id``) is predicted from the site it names with the project's model
(:func:`planning.radio.coverage.pair_loss_db` and :func:`planning.radio.coverage.pair_rsrp_dbm`); measurements the
models cannot predict are left out, each with its reason (:data:`EXCLUSION_REASONS`), and a calibration on too
few is refused (:class:`CalibrationRefusedError`). ``coverplan calibrate`` is the command.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import LayerError, Problem
from gis.settings import RadioSettings
from gis.terrain import Dem, reproject_dem, sample_heights
from planning.radio.coverage import SiteTable, pair_loss_db, pair_rsrp_dbm, site_table
from planning.radio.linkbudget import LinkBudget
from planning.radio.pathloss import P1812Params
from planning.radio.propagation import Environment, Model

__all__ = [
    "CALIBRATION_MAX_M",
    "CALIBRATION_MIN_M",
    "EXCLUSION_REASONS",
    "MIN_CALIBRATION_ROWS",
    "MIN_SLOPE_SPREAD_DECADES",
    "Calibration",
    "CalibrationRefusedError",
    "calibrate",
]

#: Fewest usable measurements a calibration is fitted on; with fewer it is refused.
MIN_CALIBRATION_ROWS = 20
#: Least spread of the usable measurements' log10(distance) (10th to 90th percentile, in decades) over which the
#: slope is fitted; below it only the offset is, and the slope stays 0 (0.3 decades: a factor of 2 in distance).
MIN_SLOPE_SPREAD_DECADES = 0.3
#: Nearest distance (m) the models resolve (every model clips distances there): a nearer measurement is excluded.
CALIBRATION_MIN_M = 10.0
#: Farthest distance (m) each model is calibrated to: its published validity, Hata 20 km (and 10 km for the carriers
#: above Hata's 2000 MHz, whose paths ITU-R P.1812 computes), RMa 10 km, UMa 5 km; free space and
#: ITM (valid to 2000 km) to the farthest coverage predicts (``LinkBudget.max_range_m``).
CALIBRATION_MAX_M = {"hata": 20_000.0, "rma": 10_000.0, "uma": 5_000.0}
#: Why a measurement is left out of a calibration (the ``reason`` of :attr:`Calibration.excluded`).
EXCLUSION_REASONS = {
    "site_unknown": "its site is not in the sites layer",
    "too_close": "nearer its site than the models resolve",
    "beyond_range": "beyond the model's range",
    "site_off_dem": "its site is off the DEM",
    "off_dem": "off the DEM",
    "path_off_dem": "the path from its site leaves the DEM or crosses nodata",
    "no_prediction": "the model gives no prediction",
}
_EXCLUDED_COLUMNS = ["file", "row", "site_id", "distance_m", "reason", "why"]


@dataclass(frozen=True)
class Calibration:
    """Least-squares correction of a model to drive-test measurements.

    The corrected loss is ``loss + offset_db + slope_db_per_decade * log10(d_km)``, i.e. the predicted RSRP
    falls by that much; ``before_*``/``after_*`` are the mean, standard deviation and root mean square of measured
    minus predicted RSRP (dB) over the ``n`` measurements used.

    Attributes
    ----------
    n, n_rows : int
        Measurements used, and measurements given (``n_rows - n`` are in ``excluded``).
    slope_fitted : bool
        False when the distances vary too little for a slope (``spread_decades`` below the minimum): the offset
        alone is fitted and ``slope_db_per_decade`` is 0.
    spread_decades : float
        10th to 90th percentile of log10(distance) of the measurements used.
    slope_se_db : float
        Standard error of the slope (dB per decade); NaN when it was not fitted.
    distance_range_m : (float, float)
        Nearest and farthest measurement used.
    excluded : DataFrame
        One row per measurement left out: ``file``, ``row`` (1-based), ``site_id``, ``distance_m`` (NaN for an
        unknown site), ``reason`` (:data:`EXCLUSION_REASONS`) and ``why`` (the sentence a planner reads).
    """

    n: int
    n_rows: int
    offset_db: float
    slope_db_per_decade: float
    slope_fitted: bool
    spread_decades: float
    slope_se_db: float
    distance_range_m: tuple[float, float]
    before_mean_db: float
    before_std_db: float
    before_rms_db: float
    after_mean_db: float
    after_std_db: float
    after_rms_db: float
    excluded: pd.DataFrame


class CalibrationRefusedError(LayerError):
    """Too few usable measurements to fit: ``excluded`` names every measurement left out and why, ``n_rows`` and
    ``n_used`` count them."""

    def __init__(self, message: str, *, excluded: pd.DataFrame, n_rows: int, n_used: int) -> None:
        super().__init__(message)
        self.excluded = excluded
        self.n_rows = n_rows
        self.n_used = n_used


def _measurements(
    measurements: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, *, file: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """(RSRP in dBm, site index or -1 where the ``site_id`` is not in the sites layer) of each drive-test
    measurement; LayerError naming every row whose RSRP is not a number in the 3GPP reporting range."""
    problems = []
    for col in ("rsrp_dbm", "site_id"):
        if col not in measurements:
            problems.append(Problem("measurements", "required column is missing", file=file, column=col))
    if problems:
        raise LayerError(problems)
    if not len(measurements):
        raise LayerError([Problem("measurements", "no measurement; expected rows of a drive test", file=file)])
    ids = sites["site_id"].astype(str).to_numpy()
    index = {sid: k for k, sid in enumerate(ids)}
    rsrp = pd.to_numeric(measurements["rsrp_dbm"], errors="coerce").to_numpy(dtype=float)
    for i, r in enumerate(rsrp):
        if not np.isfinite(r) or not -156.0 <= r <= -31.0:  # 3GPP RSRP reporting range (TS 36.133, 38.133)
            problems.append(
                Problem(
                    "measurements",
                    f"{measurements['rsrp_dbm'].iloc[i]!r} is not an RSRP; expected a number between -156 and -31 dBm",
                    file=file,
                    row=i + 1,
                    column="rsrp_dbm",
                )
            )
    if problems:
        raise LayerError(problems)
    m_ids = measurements["site_id"].astype(str).to_numpy()
    return rsrp, np.array([index.get(s, -1) for s in m_ids], dtype=np.int64)


def calibrate(
    measurements: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    radio: RadioSettings,
    dem: Dem | None = None,
    budget: LinkBudget = LinkBudget(),
    model: Model | None = None,
    environment: Environment | None = None,
    file: str | None = None,
    min_rows: int = MIN_CALIBRATION_ROWS,
    min_spread_decades: float = MIN_SLOPE_SPREAD_DECADES,
) -> Calibration:
    """Fit offset and slope of the propagation model to RSRP measurements (``rsrp_dbm``, ``site_id``).

    Each measurement is predicted from the site it names (not the best server), with the project's model
    and without any earlier calibration. A measurement is left out, and named in ``excluded`` with why, when
    its site is not in the sites layer, it lies nearer than :data:`CALIBRATION_MIN_M` or beyond the model's
    range (:data:`CALIBRATION_MAX_M`, at most ``budget.max_range_m``), it or its site is off the DEM, or its path
    from the site leaves the DEM. The slope is fitted only when the log-distances of the measurements used spread
    over at least ``min_spread_decades`` (10th to 90th percentile); otherwise only the offset is, and the slope
    stays 0: a slope from one distance is undefined, from a narrow band it is noise.

    Parameters
    ----------
    min_rows : int
        Fewest usable measurements to fit on (at least 3).
    min_spread_decades : float
        Least spread of log10(distance) over which the slope is fitted (>= 0).

    Raises
    ------
    LayerError
        A missing column or an RSRP that is not a number between -156 and -31 dBm (file, row, column).
    CalibrationRefusedError
        Fewer than ``min_rows`` usable measurements (every excluded one named in its ``excluded``).
    ValueError
        ``min_rows`` below 3 or a negative ``min_spread_decades``.
    """
    if int(min_rows) < 3:
        msg = f"`min_rows` = {min_rows!r}; expected at least 3 (an offset, a slope and a residual)"
        raise ValueError(msg)
    if not min_spread_decades >= 0:
        msg = f"`min_spread_decades` = {min_spread_decades!r}; expected a spread >= 0 decades"
        raise ValueError(msg)
    rsrp, si = _measurements(measurements, sites, file=file)
    plain = replace(radio, calibration_offset_db=0.0, calibration_slope_db_per_decade=0.0)
    model = model or plain.model
    environment = environment or plain.environment
    if dem is not None and not dem.crs.equals(sites.crs):
        dem = reproject_dem(dem, sites.crs)
    st = site_table(sites, plain, dem=dem)
    geoms = np.asarray(measurements.geometry.values)
    px, py = shapely.get_x(geoms), shapely.get_y(geoms)
    known = si >= 0
    k = np.where(known, si, 0)
    dist = np.where(known, np.hypot(px - st.x[k], py - st.y[k]), np.nan)
    reason = _range_reasons(dist, known, st.band_mhz[k], model, budget=budget)
    ground = sample_heights(dem, px, py) if dem is not None else np.zeros(len(px))
    if dem is not None:
        site_ground = sample_heights(dem, st.x[k], st.y[k])
        reason[(reason == "") & ~np.isfinite(site_ground)] = "site_off_dem"
        reason[(reason == "") & ~np.isfinite(ground)] = "off_dem"
    pred = np.full(len(px), np.nan)
    ok = reason == ""
    if ok.any():
        pred[ok], complete = _predict(
            st, si[ok], px[ok], py[ok], ground[ok], dem, plain, budget, model=model, environment=environment
        )
        sub = reason[ok]
        sub[~complete] = "path_off_dem"
        sub[(sub == "") & ~np.isfinite(pred[ok])] = "no_prediction"
        reason[ok] = sub
    excluded = _excluded_table(measurements, reason, dist, st, si, model=model, budget=budget, file=file)
    used = reason == ""
    if used.sum() < min_rows:
        msg = _refusal(len(rsrp), int(used.sum()), min_rows, excluded, file=file)
        raise CalibrationRefusedError(msg, excluded=excluded, n_rows=len(rsrp), n_used=int(used.sum()))
    return _fit(rsrp[used] - pred[used], dist[used], min_spread_decades, excluded=excluded, n_rows=len(rsrp))


def _predict(
    st: SiteTable,
    si: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    ground: np.ndarray,
    dem: Dem | None,
    radio: RadioSettings,
    budget: LinkBudget,
    *,
    model: Model,
    environment: Environment,
) -> tuple[np.ndarray, np.ndarray]:
    """RSRP (dBm) of site ``si`` at each measurement point with a handheld receiver over ``ground``, and whether
    its path lies whole on the DEM."""
    loss, complete = pair_loss_db(
        dem,
        st.x[si],
        st.y[si],
        px,
        py,
        st.band_mhz[si],
        st.height_m[si],
        np.full(len(si), radio.ue_height_m),
        model=model,
        environment=environment,
        step_m=radio.profile_step_m,
        p1812=P1812Params.of(radio),
    )
    pred = pair_rsrp_dbm(
        st,
        si,
        px,
        py,
        loss,
        radio=radio,
        budget=budget,
        rx_gain_dbi=budget.ue_gain_dbi,
        body_loss_db=budget.body_loss_db,
        rx_z_m=ground + radio.ue_height_m,
    )
    return pred, complete


def _max_range_m(model: str, band_mhz: np.ndarray, budget: LinkBudget) -> np.ndarray:
    """The farthest distance (m) each pair is calibrated to (:data:`CALIBRATION_MAX_M`)."""
    top = np.full(len(band_mhz), CALIBRATION_MAX_M.get(model, budget.max_range_m))
    if model == "hata":  # carriers above Hata's 2000 MHz are P.1812's (planning.radio.pathloss): kept to 10 km
        top = np.where(band_mhz > 2000.0, CALIBRATION_MAX_M["rma"], top)
    return np.minimum(top, budget.max_range_m)


def _range_reasons(
    dist: np.ndarray, known: np.ndarray, band_mhz: np.ndarray, model: str, *, budget: LinkBudget
) -> np.ndarray:
    """Per measurement: ``site_unknown``, ``too_close``, ``beyond_range`` or "" (the first that applies)."""
    top = _max_range_m(model, band_mhz, budget)
    with np.errstate(invalid="ignore"):
        return np.select(
            [~known, dist < CALIBRATION_MIN_M, dist > top], ["site_unknown", "too_close", "beyond_range"], ""
        ).astype(object)


def _excluded_table(
    measurements: gpd.GeoDataFrame,
    reason: np.ndarray,
    dist: np.ndarray,
    st: SiteTable,
    si: np.ndarray,
    *,
    model: str,
    budget: LinkBudget,
    file: str | None,
) -> pd.DataFrame:
    """The measurements left out: file, 1-based row, site_id, distance (m) from that site, reason and why (the
    sentence a planner reads, without the distance)."""
    rows = np.flatnonzero(reason != "")
    ids = measurements["site_id"].astype(str).to_numpy()
    band = st.band_mhz[np.where(si >= 0, si, 0)]
    top = _max_range_m(model, band, budget)
    why = []
    for i in rows:
        r = reason[i]
        if r == "site_unknown":
            why.append(f"site {ids[i]!r} is not in the sites layer")
        elif r == "too_close":
            why.append(f"nearer its site than the {CALIBRATION_MIN_M:g} m the models resolve")
        elif r == "beyond_range":
            above = " above 2000 MHz (ITU-R P.1812)" if model == "hata" and band[i] > 2000.0 else ""
            why.append(f"beyond {model}'s range of {top[i] / 1000:g} km{above}")
        else:
            why.append(EXCLUSION_REASONS[r])
    return pd.DataFrame(
        {
            "file": file or "",
            "row": rows + 1,
            "site_id": ids[rows],
            "distance_m": np.round(dist[rows], 1),
            "reason": reason[rows].astype(str),
            "why": why,
        },
        columns=_EXCLUDED_COLUMNS,
    )


def _refusal(n_rows: int, n_used: int, min_rows: int, excluded: pd.DataFrame, *, file: str | None) -> str:
    counts = excluded["reason"].value_counts()
    parts = ", ".join(f"{n} {EXCLUSION_REASONS[r]}" for r, n in counts.items())
    hint = ""
    if counts.get("site_unknown", 0) == n_rows:
        hint = "; no site_id of the file is in the sites layer (are they cell ids, or another operator's?)"
    return (
        f"{file or 'measurements'}: {n_used} of {n_rows} measurements usable, fewer than the {min_rows} a "
        f"calibration needs; nothing fitted (left out: {parts}){hint}"
    )


def _fit(resid: np.ndarray, dist: np.ndarray, min_spread: float, *, excluded: pd.DataFrame, n_rows: int) -> Calibration:
    """Least squares of -(measured - predicted) on [1, log10(d_km)], or on the offset alone when the
    log-distances spread less than ``min_spread`` decades."""
    n = len(resid)
    logd = np.log10(np.maximum(dist, CALIBRATION_MIN_M) / 1000.0)
    p10, p90 = np.percentile(logd, [10, 90])
    spread = float(p90 - p10)
    fitted = spread >= min_spread and np.ptp(logd) > 0
    if fitted:
        a_mat = np.column_stack([np.ones(n), logd])
        coef, *_ = np.linalg.lstsq(a_mat, -resid, rcond=None)
        offset, slope = float(coef[0]), float(coef[1])
    else:
        offset, slope = float(-resid.mean()), 0.0
    after = resid + offset + slope * logd
    se = np.nan
    if fitted and n > 2:
        se = float(np.sqrt((after @ after) / (n - 2) / np.sum((logd - logd.mean()) ** 2)))
    return Calibration(
        n=n,
        n_rows=n_rows,
        offset_db=offset,
        slope_db_per_decade=slope,
        slope_fitted=bool(fitted),
        spread_decades=spread,
        slope_se_db=se,
        distance_range_m=(float(dist.min()), float(dist.max())),
        before_mean_db=float(resid.mean()),
        before_std_db=float(resid.std(ddof=1)),
        before_rms_db=float(np.sqrt(np.mean(resid**2))),
        after_mean_db=float(after.mean()),
        after_std_db=float(after.std(ddof=1)),
        after_rms_db=float(np.sqrt(np.mean(after**2))),
        excluded=excluded,
    )
