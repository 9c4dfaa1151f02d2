"""Memory bombs against the readers: each case runs the ``coverplan`` command in a child process and reports its
exit code, wall seconds and peak resident memory (``resource.getrusage`` of the child). The target: every bomb
refused (exit 2) within 5 s and 500 MB.

Cases (built small on disk by tests/gis/bombs.py, in a temporary folder):

* an 8 GiB ``.hgt`` in an ~8 MB zip (honest: 8 GiB of deflated zeros), ``import dem``;
* a sparse 8 GiB ``.hgt``, ``import dem``;
* a GeoTIFF DEM tile whose header declares 10^6 x 10^6 cells, ``import dem``;
* a population raster whose header declares 10^6 x 10^6 cells, ``import population``;
* a villages workbook (.xlsx) whose shared strings part declares 4 GiB, ``import population --villages``;
* a workbook holding a "billion laughs" DTD, ``import population --villages``;
* ``synth --villages 1000000000000``.

The first row is the baseline: ``coverplan import dem --help``, the cost of starting the command (imports) alone;
a case meets the target when it exits 2, peaks under 500 MB and takes under 5 s more than the baseline.
Run from the repository root: ``python bench/hostile.py``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gis.bombs import LAUGHS, forged_geotiff, sparse_file, xlsx_parts, zip_declaring, zip_of_zeros  # noqa: E402
from tests.import_inputs import write_admin, write_population  # noqa: E402

COVERPLAN = str(Path(sys.executable).parent / "coverplan")
WRAPPER = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "print(r.stdout[-2000:] + r.stderr[-2000:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)"
)


def measure(args: list[str]) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS MB of the child, its last output line)."""
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    peak_mb = int(res.stderr.strip().splitlines()[-1]) / 1024.0
    said = [line for line in res.stdout.splitlines() if line.strip()]
    said = [line for line in said if "ERROR" in line or "Error" in line] or said
    return res.returncode, seconds, peak_mb, (said[0] if said else "")[:150]


def cases(tmp: Path) -> list[tuple[str, list[str]]]:
    """(case, command) for each bomb, its files written under ``tmp``."""
    project = str(write_admin(tmp))
    pop = str(write_population(tmp))
    villages = tmp / "villages.gpkg"
    import geopandas as gpd
    import shapely

    gpd.GeoDataFrame(
        {"village_id": ["v1"], "name": ["A"], "population": [10]}, geometry=[shapely.Point(127, 41.5)], crs=4326
    ).to_file(villages, layer="villages", driver="GPKG")
    hgt_zip = zip_of_zeros(tmp / "N41E126.zip", "N41E126.hgt", 8192)
    hgt = sparse_file(tmp / "N41E127.hgt", 8 * 2**30)
    tif = forged_geotiff(tmp / "dem_tile.tif", 10**6, 10**6)
    pop_bomb = forged_geotiff(tmp / "pop_bomb.tif", 10**6, 10**6)
    xlsx = xlsx_parts(
        tmp / "v.xlsx", {"xl/sharedStrings.xml": b"<sst/>"}, declared={"xl/sharedStrings.xml": 2**32 - 16}
    )
    laughs = xlsx_parts(tmp / "laughs.xlsx", {"xl/sharedStrings.xml": LAUGHS})
    forged = zip_declaring(tmp / "N40E126.zip", "N40E126.hgt", b"\0" * 1000, 2**32 - 16)
    dem = [COVERPLAN, "import", "dem"]
    pop_cmd = [COVERPLAN, "import", "population", "--project", project, "--overwrite", "--out", str(tmp / "o.gpkg")]
    dem_out = ["--project", project, "--overwrite", "--out", str(tmp / "out.tif")]
    zip_mb = hgt_zip.stat().st_size / 2**20
    return [
        ("baseline: coverplan import dem --help", [*dem, "--help"]),
        (f"8 GiB .hgt in a {zip_mb:.1f} MB zip", [*dem, str(hgt_zip), *dem_out]),
        ("4 GiB .hgt declared in a 1 KB zip", [*dem, str(forged), *dem_out]),
        ("sparse 8 GiB .hgt", [*dem, str(hgt), *dem_out]),
        ("DEM GeoTIFF 10^6 x 10^6 header", [*dem, str(tif), *dem_out]),
        ("population 10^6 x 10^6 header", [*pop_cmd, str(pop_bomb), "--villages", str(villages)]),
        ("XLSX shared strings declared 4 GiB", [*pop_cmd, pop, "--villages", str(xlsx)]),
        ("XLSX billion laughs DTD", [*pop_cmd, pop, "--villages", str(laughs)]),
        ("synth --villages 10^12", [COVERPLAN, "synth", "--villages", str(10**12), "--out", str(tmp / "synth")]),
    ]


def main() -> None:
    """Build the bombs, run each case, print the table (markdown)."""
    with tempfile.TemporaryDirectory(prefix="coverplan-hostile-") as folder:
        tmp = Path(folder)
        rows = [(name, *measure(args)) for name, args in cases(tmp)]
    base_s, base_mb = rows[0][2], rows[0][3]
    print("| case | exit | wall s | peak RSS MB | over the baseline (s, MB) | verdict | first line of output |")
    print("|---|---:|---:|---:|---:|---|---|")
    for name, rc, seconds, peak, said in rows:
        extra_s, extra_mb = seconds - base_s, peak - base_mb
        ok = rc in (0, 2) if name.startswith("baseline") else rc == 2 and extra_s < 5.0 and peak < 500.0
        verdict = "ok" if ok else "MISSED"
        shown = said.replace("|", "/")
        print(f"| {name} | {rc} | {seconds:.2f} | {peak:.0f} | {extra_s:+.2f}, {extra_mb:+.0f} | {verdict} | {shown} |")


if __name__ == "__main__":
    main()
