"""Application settings (``[application]``): who builds what in a pilot application (试点申报), how the tender is
cut, and the township names of the task list.

:mod:`planning.plan.operators` allocates every intervention to a building operator (承建企业) by the stated rule:
a county's operator where the project names one, else the operator with the most existing sites within
``presence_radius_m``, else the operator furthest below its market share (``[radio] operators``); with
``ran_sharing`` China Telecom and China Unicom build radio sites for each other (共建共享) and split the lease.
:mod:`planning.plan.lots` cuts each work type into geographic lots of at most ``lot_max_cny``. docs/economics.md
gives every default's source.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis.settings.fields import num, rows
from gis.settings.money import MAX_CNY

__all__ = ["BUILDERS", "ApplicationSettings", "CountyOperator", "TownshipName"]

#: The operators that build (承建企业): China Mobile, China Telecom, China Unicom (values of the sites layer's
#: ``operator`` column; China Broadcasting Network's sites count as China Mobile's, its 700 MHz partner).
BUILDERS: tuple[str, ...] = ("CMCC", "CTCC", "CUCC")


@dataclass(frozen=True)
class CountyOperator:
    """A county whose new tasks one operator builds (``[[application.county_operators]]``): ``county`` as in the
    admin layer, ``operator`` one of :data:`BUILDERS`."""

    county: str = ""
    operator: str = ""


@dataclass(frozen=True)
class TownshipName:
    """A township's name by its 9-digit code (``[[application.township_names]]``): used where the villages layer
    has no ``township`` column."""

    code: str = ""
    name: str = ""


@dataclass(frozen=True)
class ApplicationSettings:
    """The application package (docs/economics.md, "The 试点申报 package").

    Attributes
    ----------
    presence_radius_m : float
        An operator is present at a task when it has an existing site within this distance (m), 5,000 (the 5 km
        of the 2018 pilot's 4G definition).
    ran_sharing : bool
        China Telecom and China Unicom build radio sites for each other and share them (共建共享, since 2019):
        a radio task of either names the other as RAN partner, and the two split its tower lease (true).
    county_operators : list of CountyOperator
        Per county, the operator that builds its new tasks (overrides presence and market share).
    township_names : list of TownshipName
        Township names by 9-digit code.
    lot_max_cny : float
        Largest tender lot (CNY): a work type is cut into as many geographic lots as this needs, 4,000,000 (the
        construction-contract threshold above which tendering is compulsory, 《必须招标的工程项目规定》,
        国家发展改革委令第16号, 2018).
    lot_min_cny : float
        Smallest lot worth a tender of its own (CNY): a work type with less than this in total is one lot, and the
        cut never makes a lot smaller than this where it can be avoided, 1,000,000 (assumption).
    """

    presence_radius_m: float = num(5000.0, 0.0, 100_000.0, unit="m")
    ran_sharing: bool = True
    county_operators: tuple[CountyOperator, ...] = rows((), CountyOperator)
    township_names: tuple[TownshipName, ...] = rows((), TownshipName)
    lot_max_cny: float = num(4_000_000.0, 0.0, MAX_CNY, unit="CNY", low_open=True)
    lot_min_cny: float = num(1_000_000.0, 0.0, MAX_CNY, unit="CNY")
