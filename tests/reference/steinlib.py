"""Reader of SteinLib ``.stp`` files (graph section and terminals), for tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import networkx as nx


def read_stp(path: str | Path) -> tuple[nx.Graph, list[int]]:
    """Graph (edge attribute ``weight``; parallel edges keep the lightest) and terminal list of an STP file."""
    g = nx.Graph()
    terminals: list[int] = []
    section = None
    for raw in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        low = line.lower()
        if low.startswith("section"):
            section = low.split()[1]
            continue
        if low == "end":
            section = None
            continue
        parts = line.split()
        if section == "graph" and parts[0] in ("E", "A"):
            u, v, w = int(parts[1]), int(parts[2]), float(parts[3])
            if not g.has_edge(u, v) or g[u][v]["weight"] > w:
                g.add_edge(u, v, weight=w)
        elif section == "graph" and parts[0].lower() == "nodes":
            g.add_nodes_from(range(1, int(parts[1]) + 1))
        elif section == "terminals" and parts[0] == "T":
            terminals.append(int(parts[1]))
    return g, terminals
