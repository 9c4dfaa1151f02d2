"""Field helpers of the settings dataclasses: a number with its physical range, an array of tables, a nested table,
and the closed choices of a text setting (read from its ``Literal`` annotation).

The metadata these helpers write is read back by the project loader (:func:`gis.project.load_project`) through
:func:`number_range`, :func:`choices`, :func:`row_type` and :func:`section_type`, so the metadata keys live in this
module only (``"section"`` and ``"items"`` are also read by tests/test_readme.py).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping
from dataclasses import Field, dataclass, field
from typing import Literal, TypeVar, Union, get_args, get_origin, get_type_hints

__all__ = ["Range", "choices", "num", "number_range", "row_type", "rows", "section", "section_type"]

T = TypeVar("T")


@dataclass(frozen=True)
class Range:
    """The physical range of a numeric setting (:func:`num`).

    Attributes
    ----------
    low, high : float or None
        Smallest and largest value allowed, in ``unit`` (None: unbounded on that side).
    unit : str
        Unit shown in messages (``"MHz"``, ``"CNY"``).
    low_open : bool
        ``low`` itself is refused (the value must be above it).
    integer : bool
        Only whole numbers are allowed.
    """

    low: float | None = None
    high: float | None = None
    unit: str = ""
    low_open: bool = False
    integer: bool = False

    def contains(self, value: float) -> bool:
        """Whether the finite ``value`` lies in the range (whole-number rule aside)."""
        below = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        return not below and (self.high is None or value <= self.high)

    def text(self) -> str:
        """What the setting accepts, for messages: ``'a finite number >= 0 and <= 1 MHz'``."""
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"<= {self.high:g}")
        base = "a whole number" if self.integer else "a finite number"
        unit = f" {self.unit}" if self.unit else ""
        return f"{base} {' and '.join(parts)}{unit}".rstrip()


def num(
    default: T,
    low: float | None = None,
    high: float | None = None,
    *,
    unit: str = "",
    low_open: bool = False,
    integer: bool = False,
) -> T:
    """A numeric setting (a number or a tuple of numbers) with its physical range.

    Parameters
    ----------
    default : float, int or tuple of float
        The value when the project file does not set it.
    low, high : float or None
        Smallest and largest value allowed, in ``unit`` (None: unbounded on that side).
    unit : str
        Unit shown in the loader's message (``"MHz"``, ``"CNY"``).
    low_open : bool
        ``low`` itself is refused (the value must be above it).
    integer : bool
        Only whole numbers are allowed.

    Returns
    -------
    dataclasses.Field
        Typed as ``default`` for the dataclass, with its :class:`Range`; :func:`gis.project.load_project` checks
        every value against it (NaN and inf never pass).
    """
    bounds = Range(low=low, high=high, unit=unit, low_open=low_open, integer=integer)
    return field(default=default, metadata={"range": bounds})


def rows(default: tuple[T, ...], item: type[T]) -> tuple[T, ...]:
    """An array of tables (``[[radio.equipment]]``) of ``item`` settings: the whole default list is replaced when
    the file gives one."""
    return field(default=default, metadata={"items": item})


def section(cls: type[T]) -> T:
    """A nested table (``[radio.capacity]``) of ``cls`` settings, its defaults when the file gives none."""
    return field(default_factory=cls, metadata={"section": cls})


def row_type(f: Field[object]) -> type | None:
    """The settings class of the rows of an array-of-tables field (:func:`rows`), or None."""
    item = f.metadata.get("items")
    return item if isinstance(item, type) else None


def section_type(f: Field[object]) -> type | None:
    """The settings class of a nested-table field (:func:`section`), or None."""
    cls = f.metadata.get("section")
    return cls if isinstance(cls, type) else None


def number_range(f: Field[object]) -> Range | None:
    """The range of a numeric field (:func:`num`), or None for a field that is not one."""
    bounds = f.metadata.get("range")
    return bounds if isinstance(bounds, Range) else None


@functools.cache
def choices(cls: type) -> Mapping[str, tuple[str, ...]]:
    """The closed choices of each text setting of ``cls``: the values of its ``Literal`` annotation.

    The empty text, where a ``Literal`` allows it (``ClutterClass.environment``: "keep the project's"), is a
    default only, not a choice a project file may state. Text settings typed ``str`` take any printable text
    and are absent.

    Parameters
    ----------
    cls : type
        A settings dataclass.

    Returns
    -------
    Mapping of str to tuple of str
        Field name to its allowed values, in the order the ``Literal`` lists them.
    """
    out = {}
    for name, hint in get_type_hints(cls).items():
        values = tuple(v for v in _literal_values(hint) if isinstance(v, str) and v)
        if values:
            out[name] = values
    return types.MappingProxyType(out)


def _literal_values(hint: object) -> tuple[object, ...]:
    """Values of a ``Literal`` annotation, through unions (``Environment | Literal[""]``); () for other types."""
    origin = get_origin(hint)
    if origin is Literal:
        return get_args(hint)
    if origin is Union or origin is types.UnionType:
        return tuple(v for arg in get_args(hint) for v in _literal_values(arg))
    return ()
