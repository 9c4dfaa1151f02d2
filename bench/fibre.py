"""Benchmark: road/fibre network, fibre reach and a shared-trench Steiner plan on a synthetic province.

    .venv/bin/python bench/fibre.py [--villages 20000] [--terminals 2000] [--piece-m 250] [--skip-nx]

The parent makes a seeded synthetic region (`gis.synthetic.synthesize`) and cuts its roads and fibre into
pieces of at most ``--piece-m`` metres, as road data often come (about 200k edges for 20k villages), and writes
them to a GeoPackage. Each method then runs in its own child process so its peak memory is its own:

* ``coverplan``: build_network (noding, snapping, repairs), connect_points (villages, schools, fibre nodes),
  fibre_reach (one multi-source Dijkstra), plan_routes for ``--terminals`` points chosen at random among those
  needing an extension (Steiner tree rooted at all existing fibre);
* ``networkx``: the same network as a networkx.Graph, reach by nx.multi_source_dijkstra_path_length and
  networkx.algorithms.approximation.steiner_tree (its default method) on the same rooted instance.

Prints seconds per step, peak memory and the tree costs. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _measure import run_measured

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def make_region(villages: int, piece_m: float, out: Path) -> dict[str, int]:
    """Synthetic region with roads and fibre cut into pieces, written to ``out`` (GeoPackage)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from gis.synthetic import synthesize

    region = synthesize(villages=villages, seed=1)

    def cut(frame: gpd.GeoDataFrame, id_col: str) -> gpd.GeoDataFrame:
        geoms = np.asarray(frame.geometry.values)
        length = shapely.length(geoms)
        k = np.maximum(1, np.ceil(length / piece_m)).astype(int)
        idx = np.repeat(np.arange(len(frame)), k)
        j = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
        a = shapely.get_coordinates(shapely.get_point(geoms, 0))[idx]
        b = shapely.get_coordinates(shapely.get_point(geoms, -1))[idx]
        f0, f1 = (j / k[idx])[:, None], ((j + 1) / k[idx])[:, None]
        lines = shapely.linestrings(np.stack([a + (b - a) * f0, a + (b - a) * f1], axis=1))
        ids = [f"{frame[id_col].iloc[i]}-{jj}" for i, jj in zip(idx.tolist(), j.tolist(), strict=True)]
        return gpd.GeoDataFrame({id_col: ids}, geometry=lines, crs=frame.crs)

    layers = {
        "roads": cut(region.roads, "road_id"),
        "fibre": cut(region.fibre, "route_id"),
        "villages": region.villages,
        "schools": region.schools,
        "fibre_nodes": region.fibre_nodes,
    }
    for name, frame in layers.items():
        frame.to_file(out, layer=name, driver="GPKG")
    return {k: len(v) for k, v in layers.items()}


def child(method: str, gpkg: str, terminals: int, report: str) -> None:
    """Run one method on the region in ``gpkg``; write step seconds and results as JSON to ``report``."""
    import geopandas as gpd
    import networkx as nx
    import numpy as np

    from planning import fibre

    layers = {n: gpd.read_file(gpkg, layer=n) for n in ("roads", "fibre", "villages", "schools", "fibre_nodes")}
    out: dict[str, float | int] = {}
    t0 = time.perf_counter()
    net = fibre.build_network(layers["roads"], layers["fibre"])
    out["build_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    net = fibre.connect_points(net, {k: layers[k] for k in ("villages", "schools", "fibre_nodes")})
    out["connect_s"] = time.perf_counter() - t0
    out["nodes"], out["edges"] = net.n_nodes, len(net.u)
    reach = fibre.fibre_reach(net)
    ext = reach.index[(reach["reach"] == "extension") & reach["layer"].isin(["villages", "schools"])]
    pick = list(np.random.default_rng(0).choice(np.asarray(ext), size=min(terminals, len(ext)), replace=False))
    out["terminals"] = len(pick)
    out["reach_points"] = int(reach["layer"].isin(["villages", "schools"]).sum())
    if method == "coverplan":
        t0 = time.perf_counter()
        reach = fibre.fibre_reach(net)
        out["reach_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        plan = fibre.plan_routes(net, pick, reach=reach)
        out["steiner_s"] = time.perf_counter() - t0
        out["tree_km"] = plan.total_length_m / 1000.0
        out["separate_km"] = float(reach.loc[pick, "fibre_distance_m"].sum()) / 1000.0
    else:
        t0 = time.perf_counter()
        g = nx.Graph()
        w = np.where(net.kind == "fibre", 1e-6, np.maximum(net.length_m, 1e-6))
        g.add_weighted_edges_from(zip(net.u.tolist(), net.v.tolist(), w.tolist(), strict=True), weight="w")
        sources = net.fibre_sources().tolist()
        g.add_weighted_edges_from(((-1, s, 1e-6) for s in sources), weight="w")
        out["to_networkx_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        dist = nx.multi_source_dijkstra_path_length(g, sources, weight="w")
        out["reach_s"] = time.perf_counter() - t0
        del dist
        nodes = [-1, *sorted({int(net.point_node.loc[p, "node"]) for p in pick})]
        t0 = time.perf_counter()
        tree = nx.algorithms.approximation.steiner_tree(g, nodes, weight="w")
        out["steiner_s"] = time.perf_counter() - t0
        out["tree_km"] = sum(d for _, _, d in tree.edges(data="w") if d > 1e-3) / 1000.0
    Path(report).write_text(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--villages", type=int, default=20000)
    ap.add_argument("--terminals", type=int, default=2000)
    ap.add_argument("--piece-m", type=float, default=250.0)
    ap.add_argument("--skip-nx", action="store_true")
    ap.add_argument("--child", nargs=4, metavar=("METHOD", "GPKG", "TERMINALS", "REPORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]), args.child[3])
        return
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = Path(tmp) / "region.gpkg"
        t0 = time.perf_counter()
        counts = make_region(args.villages, args.piece_m, gpkg)
        print(f"region: {counts} ({time.perf_counter() - t0:.1f} s)")
        rows = []
        for method in ("coverplan", *(() if args.skip_nx else ("networkx",))):
            report = Path(tmp) / f"{method}.json"
            seconds, peak = run_measured(
                [sys.executable, __file__, "--child", method, str(gpkg), str(args.terminals), str(report)]
            )
            rows.append((method, seconds, peak, json.loads(report.read_text())))
    r0 = rows[0][3]
    print(
        f"\nnetwork: {r0['nodes']} nodes, {r0['edges']} edges; reach for {r0['reach_points']} points; "
        f"Steiner plan for {r0['terminals']} terminals\n"
    )
    print("| method | build s | connect s | to networkx s | reach s | Steiner s | tree km | child total s | peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for method, seconds, peak, r in rows:
        print(
            f"| {method} | {r['build_s']:.1f} | {r['connect_s']:.1f} | {r.get('to_networkx_s', 0.0):.1f} | "
            f"{r['reach_s']:.2f} | {r['steiner_s']:.1f} | {r['tree_km']:.1f} | {seconds:.1f} | {peak:.0f} |"
        )
    print(f"\nconnecting the {r0['terminals']} points one by one would build {r0['separate_km']:.1f} km")


if __name__ == "__main__":
    main()
