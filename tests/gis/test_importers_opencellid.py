"""OpenCelliD import: base-station ids, carrier frequencies, grouping into sites, and hostile files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer

from gis.errors import LayerError
from gis.importers.bands import earfcn_to_dl_mhz, nr_arfcn_to_mhz
from gis.importers.common import Region
from gis.importers.opencellid import base_station_ids, cells_to_sites, read_opencellid
from gis.validation import validate_frame
from tests.import_inputs import CELLS, CELLS_HEADER, CRS_M, EAST, NORTH, SOUTH, WEST, write_cells


@pytest.fixture
def region() -> Region:
    tr = Transformer.from_crs(4326, CRS_M, always_xy=True)
    box = shapely.segmentize(shapely.box(WEST, SOUTH, EAST, NORTH), 0.01)
    area = shapely.transform(box, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))

    return Region(area=area, crs=CRS.from_user_input(CRS_M))


def test_base_station_ids_by_hand():
    # LTE: ECI 25600001 = 100000 * 256 + 1; NR: NCI 20480001 = 5000 << 12 | 1 with a 24-bit gNB id
    ids = base_station_ids(np.array([25600001, 12800256, 20480001, 20480001]), np.array(["LTE", "LTE", "NR", "NR"]))
    assert ids.tolist() == [100000, 50001, 5000, 5000]
    assert base_station_ids(np.array([20480001]), np.array(["NR"]), gnb_id_bits=22).tolist() == [20480001 >> 14]
    assert base_station_ids(np.array([2**36 - 1]), np.array(["NR"]), gnb_id_bits=32).tolist() == [2**32 - 1]
    with pytest.raises(ValueError, match=r"22\.\.32"):
        base_station_ids(np.array([1]), np.array(["NR"]), gnb_id_bits=21)


@pytest.mark.parametrize(
    ("earfcn", "mhz", "band"),
    [
        (1650, 1850.0, "B3"),  # 1805 + 0.1 (1650 - 1200)
        (38400, 1895.0, "B39"),  # 1880 + 0.1 (38400 - 38250)
        (100, 2120.0, "B1"),
        (3590, 939.0, "B8"),  # 925 + 0.1 (3590 - 3450)
        (40936, 2624.6, "B41"),  # 2496 + 0.1 (40936 - 39650)
        (37900, 2585.0, "B38"),
        (9999, np.nan, ""),  # between band 28 (..9659) and band 33 (36000..)
        (-1, np.nan, ""),
    ],
)
def test_earfcn_to_frequency(earfcn, mhz, band):
    f, b = earfcn_to_dl_mhz(np.array([earfcn]))
    np.testing.assert_allclose(f, [mhz], equal_nan=True)
    assert b.tolist() == [band]


@pytest.mark.parametrize(
    ("arfcn", "mhz", "band"),
    [
        (630000, 3450.0, "n78"),  # 3000 + 0.015 (630000 - 600000)
        (504990, 2524.95, "n41"),  # 0.005 x 504990
        (151600, 758.0, "n28"),
        (723333, 4849.995, "n79"),
        (2016667, 24250.08, ""),  # FR2: no FR1 band
    ],
)
def test_nr_arfcn_to_frequency(arfcn, mhz, band):
    f, b = nr_arfcn_to_mhz(np.array([arfcn]))
    np.testing.assert_allclose(f, [mhz], rtol=0, atol=1e-9)
    assert b.tolist() == [band]


def test_cells_grouped_into_sites(tmp_path: Path, region: Region):
    cells, report = read_opencellid(write_cells(tmp_path))
    sites, report = cells_to_sites(cells, region, buffer_m=2000.0, report=report, file="cells.csv")
    assert sites["site_id"].tolist() == ["460-00-enb100000", "460-01-enb50001", "460-11-gnb5000"]
    cm = sites.iloc[0]
    assert (cm["operator"], cm["tech"], cm["n_cells"], cm["samples"], cm["range_m"]) == ("CMCC", "4g", 3, 25, 1500.0)
    # lowest carrier of the site's cells: B3 1850 MHz (EARFCN 1650) below B39 1895 MHz
    assert (cm["band_mhz"], cm["band"], cm["band_mhz_source"]) == (1850.0, "B3", "earfcn")
    tr = Transformer.from_crs(4326, CRS_M, always_xy=True)
    x, y = tr.transform([126.990, 126.992, 126.994], [41.500, 41.502, 41.498])
    assert cm.geometry.x == pytest.approx(np.mean(x), abs=1e-6)
    assert cm.geometry.y == pytest.approx(np.mean(y), abs=1e-6)
    assert cm["updated"] == "2021-01-07"  # the latest cell: 1610000000 = 1609459200 (2021-01-01) + 6.26 days
    cu, ct = sites.iloc[1], sites.iloc[2]
    # no channel number: the operators' rural layers (China Unicom LTE 900 B8, China Telecom NR 2.1 GHz n1)
    assert (cu["operator"], cu["band_mhz"], cu["band_mhz_source"]) == ("CUCC", 957.0, "operator_default")
    assert (ct["operator"], ct["tech"], ct["band_mhz"], ct["band"]) == ("CTCC", "5g", 2120.0, "n1")
    assert "note: 2 of 3 site(s) have no channel number: band_mhz is the operator's rural default" in " ".join(
        report.lines()
    )
    assert sites["area_code"].tolist() == [4101, 4102, 4103]
    assert str(sites["area_code"].dtype) == "Int64"  # whole numbers, not 4101.0
    assert (sites["height_m"] == 35.0).all()
    assert (sites["height_m_source"] == "default").all()
    assert report.dropped["cells: GSM (2G/3G is not planned)"] == 1
    assert report.dropped["cells: UMTS (2G/3G is not planned)"] == 1
    assert report.dropped["cells: MCC is not 460 (China)"] == 1
    assert report.dropped["cells: their site lies farther than 2000 m from the admin areas"] == 1  # Beijing
    assert report.filled["height_m: default 35 m, the project's tower height (OpenCelliD has no heights)"] == 3
    _, problems = validate_frame(sites, "sites")
    assert problems == []


def test_header_less_and_gzipped_exports_read_the_same(tmp_path: Path, region: Region):
    plain, _ = read_opencellid(write_cells(tmp_path))
    bare = tmp_path / "460.csv"
    bare.write_text("\n".join(r.rsplit(",", 1)[0] for r in CELLS) + "\n", encoding="utf-8")  # 14 columns
    headerless, _ = read_opencellid(bare)
    gz = tmp_path / "cells.csv.gz"
    gz.write_bytes(gzip.compress(write_cells(tmp_path).read_bytes()))
    zipped, _ = read_opencellid(gz)
    bom = tmp_path / "cells_windows.csv.gz"  # a byte-order mark and CRLF line ends, as spreadsheet tools write
    bom.write_bytes(gzip.compress(b"\xef\xbb\xbf" + write_cells(tmp_path).read_bytes().replace(b"\n", b"\r\n")))
    windows, _ = read_opencellid(bom)
    assert windows.equals(plain)
    assert headerless[["radio", "mnc", "cell", "lon", "lat"]].equals(plain[["radio", "mnc", "cell", "lon", "lat"]])
    assert zipped.equals(plain)
    assert headerless["earfcn"].isna().all()


def test_truncated_gzip_is_refused(tmp_path: Path):
    data = gzip.compress(("\n".join([CELLS_HEADER, *CELLS * 200]) + "\n").encode())
    gz = tmp_path / "cells.csv.gz"
    gz.write_bytes(data[: len(data) // 2])
    with pytest.raises(LayerError, match="truncated or corrupt"):
        read_opencellid(gz)


def test_non_numeric_lon_names_row_cell_and_column(tmp_path: Path):
    rows = list(CELLS)
    rows[1] = rows[1].replace("126.992", "12б.992")
    with pytest.raises(LayerError) as err:
        read_opencellid(write_cells(tmp_path, rows))
    p, hint = err.value.problems
    assert "1 row(s) with a bad value; pass --skip-bad-rows to leave them out" in hint.message
    assert (p.row, p.row_id, p.column) == (2, "cell=25600002", "lon")
    assert "'12б.992' is not a finite number; expected a longitude in degrees -180..180" in str(p)
    cells, report = read_opencellid(write_cells(tmp_path, rows), skip_bad_rows=True)
    assert 2 not in cells["row"].tolist()
    assert report.dropped["cells: a bad value (--skip-bad-rows)"] == 1


def test_out_of_range_values_are_refused(tmp_path: Path, region: Region):
    rows = [CELLS[0].replace("41.500", "95.0"), CELLS[3].replace(",30,", ",-3,")]
    with pytest.raises(LayerError) as err:
        read_opencellid(write_cells(tmp_path, rows))
    assert [(p.row, p.column) for p in err.value.problems] == [(1, "lat"), (2, "samples"), (None, None)]
    big = [CELLS[0].replace("25600001", str(2**28)), CELLS[1]]
    with pytest.raises(LayerError, match="LTE cell identity 268435456 has more than 28 bits"):
        read_opencellid(write_cells(tmp_path, big))
    cells, report = read_opencellid(write_cells(tmp_path, big), skip_bad_rows=True)
    assert cells["row"].tolist() == [2]
    assert report.dropped["cells: a bad value (--skip-bad-rows)"] == 1
    with pytest.raises(LayerError, match="more than 28 bits"):  # the grouping checks too (frames made otherwise)
        cells_to_sites(cells.assign(cell=2**28), region)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"type": "FeatureCollection", "features": []}\n', "not an OpenCelliD CSV"),
        ("radio,mcc,lon,lat\nLTE,460,127,41.5\n", r"columns \['net', 'cell', 'range', 'samples'\] are missing"),
        ("", "not an OpenCelliD CSV"),
        (
            "radio,mcc,net,area,cell,lon,lat,lon,range,samples\nLTE,460,0,1,1,127,41.5,127,1,1\n",
            r"the header has column `lon` 2 times \(columns 6, 8",
        ),
    ],
)
def test_wrong_formats_are_refused(tmp_path: Path, text: str, match: str):
    path = tmp_path / "cells.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LayerError, match=match):
        read_opencellid(path)


def test_header_only_file_gives_no_sites(tmp_path: Path, region: Region):
    cells, report = read_opencellid(write_cells(tmp_path, []))
    sites, report = cells_to_sites(cells, region, report=report)
    assert (len(cells), len(sites), report.read, report.kept) == (0, 0, 0, {"sites": 0})


def test_binary_file_is_refused(tmp_path: Path):
    path = tmp_path / "cells.csv"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(LayerError, match=r"cannot read|not an OpenCelliD CSV"):
        read_opencellid(path)


def test_unknown_mnc_fr2_and_nr_arfcn(tmp_path: Path, region: Region):
    header = CELLS_HEADER.replace(",earfcn", ",arfcn")
    rows = [
        "LTE,460,20,4101,25600001,0,126.99,41.50,500,3,1,1500000000,1600000000,0,",  # MNC 20: not an operator
        "NR,460,0,4101,20480001,0,126.99,41.50,500,3,1,1500000000,1600000000,0,2079167",  # FR2, 27.999 GHz
        "NR,460,0,4101,20480257,0,126.99,41.51,500,3,1,1500000000,1600000000,0,504990",  # gNB 5000: n41
        "NR,460,15,4101,20480001,0,127.00,41.50,500,3,1,1500000000,1600000000,0,",  # CBN: usual 700 MHz band
    ]
    path = tmp_path / "cells.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    cells, report = read_opencellid(path)
    sites, report = cells_to_sites(cells, region, report=report)
    assert sites["site_id"].tolist() == ["460-00-gnb5000", "460-15-gnb5000"]
    assert sites["band_mhz"].tolist() == [2524.95, 773.0]
    assert sites["band_mhz_source"].tolist() == ["nrarfcn", "operator_default"]
    assert report.dropped["cells: NR above 6 GHz (FR2 mmWave is not planned)"] == 1
    assert sum(n for why, n in report.dropped.items() if "MNC 20" in why) == 1


def test_urban_band_defaults_on_request(tmp_path: Path, region: Region):
    cells, report = read_opencellid(write_cells(tmp_path))
    sites, _ = cells_to_sites(cells, region, buffer_m=2000.0, report=report, band_defaults="urban")
    assert sites["band_mhz"].tolist() == [1850.0, 1855.0, 3450.0]  # the site with EARFCNs keeps its own


def test_spread_is_measured_from_the_medoid_cell(tmp_path: Path, region: Region):
    """Two cells of one eNodeB 0.09 degrees (7.5 km) apart: the spread is their distance, not half of it."""
    rows = [
        "LTE,460,0,4101,25600001,0,126.980,41.500,1200,12,1,1500000000,1600000000,0,",
        "LTE,460,0,4101,25600002,0,127.070,41.500,1200,12,1,1500000000,1600000000,0,",
    ]
    path = tmp_path / "cells.csv"
    path.write_text("\n".join([CELLS_HEADER, *rows]) + "\n", encoding="utf-8")
    cells, report = read_opencellid(path)
    sites, report = cells_to_sites(cells, region, buffer_m=10_000.0, report=report)
    tr = Transformer.from_crs(4326, CRS_M, always_xy=True)
    x, y = tr.transform([126.98, 127.07], [41.5, 41.5])
    assert sites["spread_m"].iloc[0] == pytest.approx(np.hypot(x[1] - x[0], y[1] - y[0]), abs=0.1)
    assert any("460-00-enb100000) have cells more than 5 km apart" in n for n in report.notes)
