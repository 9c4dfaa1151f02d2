"""ITU-R P.1812-8 against ITU-R Working Party 3M's validation profiles (tests/reference/p1812/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planning.radio.p1812 import basic_transmission_loss, pair_loss_db, path_centre

REF = Path(__file__).resolve().parents[2] / "reference" / "p1812"


def _read(path: Path) -> tuple[dict[str, float], np.ndarray, list[list[str]]]:
    """Header values, the profile (distance km, height m, coverage code, clutter height m, zone) and the rows of
    the measurement table (frequency MHz, Tx height, -, Rx height, polarisation, ..., time %, -, E, Lb)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    head: dict[str, float] = {}
    keys = {"Tx LAT:": "phi_t", "Tx LON:": "lam_t", "Rx LAT:": "phi_r", "Rx LON:": "lam_r"}
    for line in lines:
        cells = line.split(",")
        if cells[0] in keys:
            head[keys[cells[0]]] = float(cells[1])
        elif cells[0].startswith("Average annual values dN"):
            head["dn"] = float(cells[1])
        elif cells[0].startswith("Average annual sea-level surface refractivity"):
            head["n0"] = float(cells[1])
    start = next(i for i, line in enumerate(lines) if line.startswith("Number of Points:"))
    npts = int(lines[start].split(",")[1])
    prof = np.array([[float(c) for c in lines[start + 1 + k].split(",")[:5]] for k in range(npts)])
    m0 = next(i for i, line in enumerate(lines) if line.startswith("{Begin of Measurements}"))
    m1 = next(i for i, line in enumerate(lines) if line.startswith("{End of Measurements}"))
    return head, prof, [line.split(",") for line in lines[m0 + 1 : m1]]


def _cases() -> list[tuple[str, int]]:
    out = []
    for path in sorted(REF.glob("*.csv")):
        _, _, rows = _read(path)
        out += [(path.name, k) for k in range(len(rows))]
    return out


CASES = _cases()


def _lb(name: str, k: int) -> tuple[float, float]:
    head, prof, rows = _read(REF / name)
    row = rows[k]
    zone = prof[:, 4].astype(int)
    got = basic_transmission_loss(
        f_ghz=float(row[0]) / 1000.0,
        p_pct=float(row[14]),
        d_km=prof[:, 0],
        h_m=prof[:, 1],
        r_m=prof[:, 3],
        zone=zone,
        htg_m=float(row[1]),
        hrg_m=float(row[3]),
        pol=int(row[4]),
        phi_t=head["phi_t"],
        phi_r=head["phi_r"],
        lam_t=head["lam_t"],
        lam_r=head["lam_r"],
        dn=head["dn"],
        n0=head["n0"],
        dct_km=0.0 if zone[0] == 1 else 500.0,
        dcr_km=0.0 if zone[-1] == 1 else 500.0,
    )
    return got, float(row[17])


def test_validation_set_is_complete() -> None:
    # 19 profiles of WP 3M's set, 63 (profile, frequency, time %) cases at 1 to 50 % time
    assert len({n for n, _ in CASES}) == 19
    assert len(CASES) == 63


def test_every_validation_case_within_0_1_db() -> None:
    worst = max(abs(got - ref) for got, ref in (_lb(n, k) for n, k in CASES))
    assert worst <= 0.1, worst


@pytest.mark.parametrize(("name", "k"), [("b2iseac.csv", 0), ("rburg_urban_with_clutter.csv", 5)])
def test_named_cases(name: str, k: int) -> None:
    # b2iseac, 95.3 MHz, 1 % time: 129.0969 dB (log b2iseac_0_log.csv, eq. 69); rburg urban, 6 GHz, 20 %: 225.9555 dB
    got, ref = _lb(name, k)
    assert got == pytest.approx(ref, abs=0.1)


def test_path_centre_of_a_meridian_path() -> None:
    assert path_centre(40.0, 42.0, 127.0, 127.0) == pytest.approx(41.0, abs=1e-9)


def test_refuses_outside_its_range() -> None:
    d = np.linspace(0.0, 5.0, 11)
    h = np.zeros(11)
    kw: dict[str, Any] = {"d_km": d, "h_m": h, "r_m": h, "zone": np.full(11, 4), "htg_m": 30.0, "hrg_m": 1.5}
    kw |= {"pol": 2, "phi_t": 41.8, "phi_r": 41.8, "lam_t": 127.2, "lam_r": 127.3}
    with pytest.raises(ValueError, match="f_ghz"):
        basic_transmission_loss(f_ghz=26.0, p_pct=50.0, **kw)
    with pytest.raises(ValueError, match="p_pct"):
        basic_transmission_loss(f_ghz=1.8, p_pct=80.0, **kw)


def test_flat_short_path_is_near_free_space() -> None:
    # 2 km over flat ground, 30 m and 10 m antennas, 1.8 GHz: the ray clears the first Fresnel zone
    n = 41
    d = np.linspace(0.0, 2.0, n)
    h = np.zeros(n)
    lb = basic_transmission_loss(
        f_ghz=1.8, p_pct=50.0, d_km=d, h_m=h, r_m=h, zone=np.full(n, 4), htg_m=30.0, hrg_m=10.0, pol=2,
        phi_t=41.8, phi_r=41.8, lam_t=127.2, lam_r=127.22,
    )  # fmt: skip
    fs = 92.4 + 20 * np.log10(1.8) + 20 * np.log10(2.0)
    assert fs <= lb <= fs + 6.0


def test_pair_kernel_agrees_with_the_public_entry() -> None:
    # a ridge across a plain: the DEM path and the profile path give the same Lb
    dem = np.zeros((20, 200))
    dem[:, 100:103] = 60.0
    transform = (0.0, 2000.0, 100.0, -100.0)
    ends = np.array([[50.0, 1050.0, 19950.0, 1050.0]])
    lb, ok = pair_loss_db(dem, transform, ends, np.array([[30.0, 1.5]]), np.array([1.8]), np.array([41.8]), step_m=50.0)
    assert ok[0]
    n = 399
    d = np.linspace(0.0, 19.9, n)
    x = 50.0 + d * 1000.0
    col = x / 100.0 - 0.5
    h = np.interp(col, np.arange(200), dem[10])
    ref = basic_transmission_loss(
        f_ghz=1.8, p_pct=50.0, d_km=d, h_m=h, r_m=np.zeros(n), zone=np.full(n, 4), htg_m=30.0, hrg_m=1.5, pol=2,
        phi_t=41.8, phi_r=41.8, lam_t=127.2, lam_r=127.2,
    )  # fmt: skip
    assert lb[0] == pytest.approx(ref, abs=0.05)
    assert lb[0] > 92.4 + 20 * np.log10(1.8 * 19.9) + 10.0  # the ridge diffracts


def test_a_mast_at_the_point_itself_is_free_space_down_the_mast() -> None:
    # a candidate site placed at its own village (0 m apart): line of sight over the 28.5 m height difference
    dem = np.zeros((20, 20))
    transform = (0.0, 2000.0, 100.0, -100.0)
    ends = np.array([[1000.0, 1000.0, 1000.0, 1000.0], [1000.0, 1000.0, 1000.4, 1000.0]])
    lb, ok = pair_loss_db(
        dem, transform, ends, np.array([[30.0, 1.5], [30.0, 1.5]]), np.array([1.8, 1.8]), np.array([41.8, 41.8])
    )
    by_hand = 92.45 + 20 * np.log10(1.8) + 20 * np.log10(0.0285)  # 66.65 dB
    assert ok.all()
    assert lb == pytest.approx([by_hand, by_hand], abs=1e-6)
    assert lb[0] == pytest.approx(66.65, abs=0.01)
