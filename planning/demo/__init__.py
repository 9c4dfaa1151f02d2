"""The bundled demo region (package data, so that ``coverplan demo`` works from an installed package): the real
临江市 boundary with synthetic layers and terrain; see ``data/README.md`` for provenance and licences."""

from __future__ import annotations

from pathlib import Path

#: Folder of the demo's files (``project.toml``, ``layers.gpkg``, ``schools.csv``, ``dem.tif``, the boundary).
DEMO_DIR = Path(__file__).resolve().parent


def demo_project() -> Path:
    """Path of the demo's ``project.toml``."""
    return DEMO_DIR / "project.toml"


__all__ = ["DEMO_DIR", "demo_project"]
