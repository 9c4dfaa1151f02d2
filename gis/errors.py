"""Errors and the problem records that validation collects.

Every problem names the file, the layer, the row (position and id) and the column, and says what was
expected, so a planner can fix the source data without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Attributes
    ----------
    layer : str
        Layer name (``villages``, ``schools``, ``terrain``, ``project`` ...).
    message : str
        What is wrong and what was expected.
    file : str or None
        Source file the problem was found in.
    row : int or None
        1-based row number in the source (feature order), if the problem is about one row.
    row_id : str or None
        The row's id value (``village_id`` ...), where it has one.
    column : str or None
        The offending column.
    severity : {"error", "warning"}
        Errors stop a run; warnings are reported and the run goes on.
    """

    layer: str
    message: str
    file: str | None = None
    row: int | None = None
    row_id: str | None = None
    column: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        where.append(f"[{self.layer}]")
        if self.row is not None:
            rid = f" ({self.row_id})" if self.row_id else ""
            where.append(f"row {self.row}{rid}")
        if self.column:
            where.append(f"column `{self.column}`")
        return f"{' '.join(where)}: {self.message}"


class CoverplanError(Exception):
    """Base class of coverplan's own errors."""


class ProjectError(CoverplanError, ValueError):
    """A project file (project.toml) that cannot be used."""


class LayerError(CoverplanError, ValueError):
    """One or more problems with input layers; ``problems`` lists all of them."""

    def __init__(self, message: str | Problem | Iterable[Problem]) -> None:
        if isinstance(message, str):
            self.problems: tuple[Problem, ...] = ()
            text = message
        else:
            probs = (message,) if isinstance(message, Problem) else tuple(message)
            self.problems = probs
            errors = [p for p in probs if p.severity == "error"]
            shown = errors or list(probs)
            text = "\n".join(str(p) for p in shown[:50])
            if len(shown) > 50:
                text += f"\n... and {len(shown) - 50} more problems"
        super().__init__(text)


class OutputError(CoverplanError):
    """An output folder or file that cannot be written safely (see :mod:`gis.outdir`)."""


class TerrainError(LayerError):
    """A DEM that cannot be read, or that does not cover what it must."""


def raise_if_errors(problems: Iterable[Problem], *, cls: type[LayerError] = LayerError) -> None:
    """Raise ``cls`` carrying every problem when any of them is an error."""
    probs = list(problems)
    if any(p.severity == "error" for p in probs):
        raise cls(probs)
