"""The options several commands share, declared once (as rasterio's ``rio/options.py``), and the number types that
refuse what a plain ``float`` lets through.

A command takes the shared ones by decorator: ``@project_arg``, ``@out_folder_opt()``, ``@out_file_opt``,
``@overwrite_opt()``, ``@offline_opt``, ``@ledger_arg``, ``@at_opt``, ``@buffer_m_opt(...)``. Numbers given on the
command line are checked when they are parsed (exit 2, the option named, what was expected): NaN, ``inf`` and
``1e400`` (which Python reads as inf) are refused by :class:`FiniteFloat`, since a ``click.FloatRange`` lets NaN
pass (NaN compares false with every bound).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gis.project import LEDGER_URL_SCHEMES

F = TypeVar("F", bound=Callable[..., Any])


class FiniteFloat(click.FloatRange):
    """A float within ``[min, max]`` (either bound open with ``min_open``/``max_open``) that is a finite number:
    NaN and infinities are refused naming the option and the range expected."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            bounds = f" {self._describe_range()}" if self.min is not None or self.max is not None else ""
            self.fail(f"{value!r} is not a finite number; expected a finite number{bounds}", param, ctx)
        return super().convert(number, param, ctx)


def finite(
    lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, hi_open: bool = False
) -> FiniteFloat:
    """A :class:`FiniteFloat` between ``lo`` and ``hi``."""
    return FiniteFloat(min=lo, max=hi, min_open=lo_open, max_open=hi_open)


#: The project file, as the first argument of ``validate``, ``run``, ``optimise`` and ``calibrate``.
project_arg = click.argument("project_file", type=click.Path(path_type=Path))

#: The project file as the ``--project`` option of the importers (they need only its ``[layers] admin``).
project_opt = click.option(
    "--project",
    "project_file",
    type=click.Path(path_type=Path),
    required=True,
    help="project.toml whose [layers] admin the import is clipped to (other layers optional).",
)

#: ``--out FILE`` of the importers.
out_file_opt = click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="File to write.")

#: ``--villages``: the villages layer an import reads instead of the project's (e.g. the `import osm` output).
villages_file_opt = click.option(
    "--villages",
    "villages_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Villages layer file (e.g. the `import osm` output; default: the project's villages layer).",
)


def out_folder_opt(default: Path | None = None) -> Callable[[F], F]:
    """``--out FOLDER`` of the commands that write a folder: required, or with a shown ``default`` (``demo``)."""
    return click.option(
        "--out",
        "out",
        type=click.Path(path_type=Path),
        required=default is None,
        default=default,
        show_default=default is not None,
        help="Output folder.",
    )


def overwrite_opt(what: str = "the contents of an existing output folder") -> Callable[[F], F]:
    """``--overwrite``: replace ``what`` (an output folder of coverplan's, or an output file)."""
    return click.option("--overwrite", is_flag=True, help=f"Replace {what}.")


#: ``--offline/--online`` of ``run`` and ``demo``.
offline_opt = click.option(
    "--offline/--online",
    "offline",
    default=None,
    help="Map with Leaflet inlined and a local hillshade background (no network), or with tiles and CDN; "
    "default: the project's [map] offline.",
)


class LedgerLocation(click.ParamType):
    """A ledger: a GeoPackage file (a :class:`~pathlib.Path`) or a PostgreSQL ledger's URL (``postgresql://...``,
    kept as text)."""

    name = "ledger"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.strip().lower().startswith(LEDGER_URL_SCHEMES):
            return value.strip()
        return Path(value)


#: The ledger (a GeoPackage file or a ``postgresql://`` URL), first argument of every ``ledger`` command.
ledger_arg = click.argument("ledger_file", type=LedgerLocation())

#: ``--at DATE`` of ``ledger show`` and ``ledger reconcile``.
at_opt = click.option("--at", "at", default=None, help="Use the ledger as it stood at this date (YYYY-MM-DD).")

#: Largest ``--buffer-m`` / ``--demand-buffer-m`` of the importers (m): 500 km, more than a province needs.
MAX_BUFFER_M = 500_000.0


def buffer_m_opt(name: str, *, default: float, help: str) -> Callable[[F], F]:
    """A buffer distance around the admin areas (m): finite, 0 to :data:`MAX_BUFFER_M`."""
    return click.option(name, type=finite(0, MAX_BUFFER_M), default=default, show_default=True, help=help)


#: ``--project`` of ``coverplan rules show``: the rules a project's ``[programme]`` chooses, overrides included.
programme_project_opt = click.option(
    "--project",
    "project_file",
    type=click.Path(path_type=Path),
    default=None,
    help="project.toml whose [programme] rules (and overrides) to show, merged.",
)
