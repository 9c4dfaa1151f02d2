"""Programme rule packs (``[programme]``): what counts as covered, which KPIs with which targets and deadline years,
the village categories, the subsidy formula and who applies, read from versioned TOML packs shipped in
:mod:`gis.rules` (package data), each rule with its citation (docs/programme.md).

A project chooses packs in order (``[programme] rules = [...]``); a later pack's rule replaces an earlier one's with
the same key, and the project's own overrides (``[programme.kpi.<key>]``, ``[programme.subsidy]``) replace both
and are cited as the project file. Code executes the definitions; it hard-codes no programme.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, get_args

from gis.errors import ProjectError

__all__ = [
    "KPI_KEYS",
    "REGIONS",
    "VILLAGE_4G_RULES",
    "Applicant",
    "Citation",
    "KpiKey",
    "KpiRule",
    "PackInfo",
    "Programme",
    "Region",
    "SubsidyRule",
    "Village4gRule",
    "Village4gRuleName",
    "build_programme",
    "pack_ids",
    "read_pack",
]

#: The KPIs a pack may target (planning.status.kpi counts them).
KpiKey = Literal[
    "poor_broadband",
    "poor_4g",
    "poor_fibre",
    "village_4g",
    "village_fibre",
    "village_5g",
    "settlement_4g",
    "school_connected",
    "school_outlet",
    "tp_connected",
]
KPI_KEYS: tuple[KpiKey, ...] = get_args(KpiKey)
#: How a village counts as 4G-covered: the model's signal at its point, or the 2018 pilot definition (a 4G site
#: within ``site_within_m`` of the village committee, or signal at committee, school, clinic and settlements).
Village4gRuleName = Literal["signal_at_point", "site_within_or_signal"]
VILLAGE_4G_RULES: tuple[Village4gRuleName, ...] = get_args(Village4gRuleName)
#: Layers whose items a subsidy rule may fund.
FUNDED_LAYERS = ("villages", "schools")
#: The regions central funding rates may differ by (东部, 中部, 西部).
Region = Literal["east", "central", "west"]
REGIONS: tuple[Region, ...] = get_args(Region)
#: Project-file citation of an override.
PROJECT_DOCUMENT = "project.toml"


@dataclass(frozen=True)
class Citation:
    """Where a rule comes from: the pack, the document (title, issuer, date, number: empty when not verified) and
    the article or section."""

    pack: str
    title: str
    issuer: str = ""
    date: str = ""
    number: str = ""
    section: str = ""

    def text(self) -> str:
        """``《title》(issuer, number, date) section``; an unverified number is said so."""
        if self.title == PROJECT_DOCUMENT:
            return f"{PROJECT_DOCUMENT} {self.section}".strip()
        number = self.number or "number not verified"
        return f"《{self.title}》（{self.issuer}，{number}，{self.date}）{self.section}"


@dataclass(frozen=True)
class KpiRule:
    """A KPI's target (share, 0-1) and the year by whose end it is due."""

    key: str
    target: float
    deadline_year: int
    citation: Citation


@dataclass(frozen=True)
class Village4gRule:
    """What counts as a 4G-covered administrative village (``rule``; ``site_within_m`` in metres, the settlement
    size in households)."""

    rule: Village4gRuleName = "signal_at_point"
    site_within_m: float = 5000.0
    settlement_households: int = 20
    citation: Citation | None = None


@dataclass(frozen=True)
class SubsidyRule:
    """Central subsidy: ``rate`` x (capex + ``opex_years`` x opex per year) of eligible items (``border_opex_years``
    in a key border area); ``eligible`` names the layers whose items the programme funds."""

    rate: float = 0.30
    opex_years: int = 0
    border_opex_years: int = 0
    eligible: tuple[str, ...] = FUNDED_LAYERS
    citation: Citation | None = None
    #: per region (east/central/west) the central rate a document states; None: not verified (``rate`` applies)
    regional_rates: Mapping[str, float | None] = field(default_factory=lambda: MappingProxyType({}))
    regional_citation: Citation | None = None
    #: why the terms are assumed (not read from the funding document; "" read from it), said in the compliance table
    assumed: str = ""

    def years(self, *, border: bool) -> int:
        """Years of opex counted in the subsidy base."""
        return self.border_opex_years if border else self.opex_years

    def rate_for(self, region: str) -> tuple[float, str]:
        """The central rate (0-1) in ``region`` ("": none stated) and a note: the regional rate used, or why the
        pack's ``rate`` applies (no regional rate, or its number not verified)."""
        if not region:
            return self.rate, ""
        regional = self.regional_rates.get(region)
        if regional is None:
            why = "number not verified" if region in self.regional_rates else "none in the pack"
            return self.rate, f"regional rate for {region}: {why}; the pack's {self.rate:.0%} applies"
        return regional, f"regional rate for {region}: {regional:.0%}"


@dataclass(frozen=True)
class Applicant:
    """Who applies and who builds."""

    applicant: str
    builders: str
    citation: Citation


@dataclass(frozen=True)
class PackInfo:
    """A pack's id, version and title."""

    id: str
    version: str
    title: str


@dataclass(frozen=True)
class Programme:
    """The rules of a project's programme, merged from its packs and overrides (empty: no pack chosen, the
    ``[targets]`` and ``[funding]`` settings alone apply).

    ``border``: the project lies in a key border area (重点边疆; the subsidy counts ``border_opex_years``);
    ``region``: its region for the central rate (east/central/west; "": none stated).
    ``broadband`` / ``upgrade_below_mbps`` carry their citations in ``broadband_citation`` / ``categories_citation``.
    ``applicants``: each pack's applicant structure (a village pilot and a school campaign apply apart).
    """

    packs: tuple[PackInfo, ...] = ()
    kpis: Mapping[str, KpiRule] = field(default_factory=lambda: MappingProxyType({}))
    village_4g: Village4gRule = field(default_factory=Village4gRule)
    broadband: str = ""
    broadband_citation: Citation | None = None
    upgrade_below_mbps: float = 0.0
    categories_citation: Citation | None = None
    subsidy: SubsidyRule | None = None
    applicants: tuple[Applicant, ...] = ()
    border: bool = False
    region: str = ""

    @property
    def chosen(self) -> bool:
        """Whether any pack is chosen."""
        return bool(self.packs)


def pack_ids() -> tuple[str, ...]:
    """The ids of the packs shipped in :mod:`gis.rules`, sorted."""
    root = resources.files("gis.rules")
    return tuple(sorted(p.name.removesuffix(".toml") for p in root.iterdir() if p.name.endswith(".toml")))


def read_pack(pack_id: str) -> dict[str, Any]:
    """The TOML document of one shipped pack; ProjectError naming the known ids for an unknown one."""
    known = pack_ids()
    if pack_id not in known:
        msg = f"programme rule pack {pack_id!r} is not shipped; expected one of {list(known)}"
        raise ProjectError(msg)
    text = resources.files("gis.rules").joinpath(f"{pack_id}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _text(table: Mapping[str, Any], key: str, *, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        msg = f"{where}: `{key}` = {value!r}; expected a text"
        raise ProjectError(msg)
    return value


def _number(table: Mapping[str, Any], key: str, *, where: str, low: float, high: float, integer: bool = False) -> Any:
    value: Any = table.get(key)
    bad = not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value)
    if bad or not low <= value <= high or (integer and float(value) != int(value)):
        kind = "a whole number" if integer else "a finite number"
        msg = f"{where}: `{key}` = {value!r}; expected {kind} >= {low:g} and <= {high:g}"
        raise ProjectError(msg)
    return int(value) if integer else float(value)


def _citation(pack_id: str, doc: Mapping[str, Any], table: Mapping[str, Any], *, where: str) -> Citation:
    """The citation of a rule table (its ``doc`` key names a ``[documents.<key>]`` of the pack)."""
    ref = _text(table, "doc", where=where)
    documents = doc.get("documents", {})
    if ref not in documents:
        msg = f"{where}: `doc` = {ref!r} names no [documents.{ref}] in pack {pack_id!r}"
        raise ProjectError(msg)
    d = documents[ref]
    w = f"{pack_id} [documents.{ref}]"
    return Citation(
        pack=pack_id,
        title=_text(d, "title", where=w),
        issuer=_text(d, "issuer", where=w, default=""),
        date=_text(d, "date", where=w, default=""),
        number=_text(d, "number", where=w, default=""),
        section=_text(table, "section", where=where, default=""),
    )


def _kpi_rule(key: str, table: Mapping[str, Any], citation: Citation, *, where: str) -> KpiRule:
    if key not in KPI_KEYS:
        msg = f"{where}: KPI `{key}` is unknown; expected one of {list(KPI_KEYS)}"
        raise ProjectError(msg)
    return KpiRule(
        key=key,
        target=_number(table, "target", where=where, low=0.0, high=1.0),
        deadline_year=_number(table, "deadline_year", where=where, low=1990, high=2100, integer=True),
        citation=citation,
    )


def _regional_rates(table: Mapping[str, Any], *, where: str) -> dict[str, float | None]:
    """``[subsidy.regional]``: per region a rate (0-1), or "" where the number is not verified (None)."""
    rates = table.get("regional", {})
    if not isinstance(rates, Mapping) or set(rates) - set(REGIONS) - {"doc", "section"}:
        msg = f"{where}: `regional` = {rates!r}; expected a table of {list(REGIONS)} rates ('' where not verified)"
        raise ProjectError(msg)
    w = f"{where} [subsidy.regional]"
    return {r: None if rates[r] == "" else _number(rates, r, where=w, low=0.0, high=1.0) for r in REGIONS if r in rates}


def _subsidy(
    table: Mapping[str, Any], citation: Citation | None, *, where: str, regional_citation: Citation | None = None
) -> SubsidyRule:
    eligible = table.get("eligible", list(FUNDED_LAYERS))
    if not isinstance(eligible, list) or any(e not in FUNDED_LAYERS for e in eligible):
        msg = f"{where}: `eligible` = {eligible!r}; expected a list of {list(FUNDED_LAYERS)}"
        raise ProjectError(msg)
    return SubsidyRule(
        rate=_number(table, "rate", where=where, low=0.0, high=1.0),
        opex_years=_number(table, "opex_years", where=where, low=0, high=100, integer=True),
        border_opex_years=_number(table, "border_opex_years", where=where, low=0, high=100, integer=True),
        eligible=tuple(eligible),
        citation=citation,
        regional_rates=MappingProxyType(_regional_rates(table, where=where)),
        regional_citation=regional_citation,
        assumed=_text(table, "assumed", where=where, default=""),
    )


def _merge_pack(out: Programme, pack_id: str, doc: Mapping[str, Any]) -> Programme:
    """``out`` with one pack's rules laid over it."""
    head = doc.get("pack", {})
    info = PackInfo(pack_id, _text(head, "version", where=pack_id), _text(head, "title", where=pack_id))
    kpis = dict(out.kpis)
    for i, t in enumerate(doc.get("kpi", [])):
        w = f"{pack_id} [[kpi]] {i + 1}"
        kpis[t.get("key")] = _kpi_rule(str(t.get("key")), t, _citation(pack_id, doc, t, where=w), where=w)
    changes: dict[str, Any] = {"packs": (*out.packs, info), "kpis": MappingProxyType(kpis)}
    defs = doc.get("definitions", {})
    if "village_4g" in defs:
        t, w = defs["village_4g"], f"{pack_id} [definitions.village_4g]"
        rule = _text(t, "rule", where=w)
        if rule not in VILLAGE_4G_RULES:
            msg = f"{w}: `rule` = {rule!r}; expected one of {list(VILLAGE_4G_RULES)}"
            raise ProjectError(msg)
        changes["village_4g"] = Village4gRule(
            rule=rule,  # checked against VILLAGE_4G_RULES above (mypy narrows it by the `in` test)
            site_within_m=_number(t, "site_within_m", where=w, low=0.0, high=100_000.0),
            settlement_households=_number(t, "settlement_households", where=w, low=1, high=10_000, integer=True),
            citation=_citation(pack_id, doc, t, where=w),
        )
    if "broadband" in defs:
        t, w = defs["broadband"], f"{pack_id} [definitions.broadband]"
        changes["broadband"] = _text(t, "rule", where=w)
        if changes["broadband"] not in ("fibre", "fibre_or_4g"):
            msg = f"{w}: `rule` = {changes['broadband']!r}; expected 'fibre' or 'fibre_or_4g'"
            raise ProjectError(msg)
        changes["broadband_citation"] = _citation(pack_id, doc, t, where=w)
    if "categories" in doc:
        t, w = doc["categories"], f"{pack_id} [categories]"
        changes["upgrade_below_mbps"] = _number(t, "upgrade_below_mbps", where=w, low=0.0, high=100_000.0)
        changes["categories_citation"] = _citation(pack_id, doc, t, where=w)
    if "subsidy" in doc:
        t, w = doc["subsidy"], f"{pack_id} [subsidy]"
        reg = t.get("regional")
        reg_cite = _citation(pack_id, doc, reg, where=f"{w} regional") if isinstance(reg, Mapping) else None
        changes["subsidy"] = _subsidy(t, _citation(pack_id, doc, t, where=w), where=w, regional_citation=reg_cite)
    if "applicant" in doc:
        t, w = doc["applicant"], f"{pack_id} [applicant]"
        applicant = Applicant(
            _text(t, "applicant", where=w), _text(t, "builders", where=w), _citation(pack_id, doc, t, where=w)
        )
        changes["applicants"] = (*out.applicants, applicant)
    return replace(out, **changes)


def _override_citation(section: str) -> Citation:
    return Citation(pack="project", title=PROJECT_DOCUMENT, section=section)


def build_programme(
    rules: Sequence[str],
    *,
    border: bool = False,
    region: str = "",
    kpi_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    subsidy_override: Mapping[str, Any] | None = None,
    where: str = "[programme]",
) -> Programme:
    """The programme of the packs ``rules`` (in order; later rules replace earlier ones of the same key) with the
    project's overrides.

    Parameters
    ----------
    rules : sequence of str
        Pack ids (:func:`pack_ids`).
    border : bool
        The project lies in a key border area (the subsidy counts ``border_opex_years`` of opex).
    region : str
        The project's region for the central rate (``east``, ``central``, ``west``; "" none stated): a pack's
        ``[subsidy.regional]`` rate for it applies where verified (:meth:`SubsidyRule.rate_for`).
    kpi_overrides : mapping, optional
        Per KPI key ``{"target": share, "deadline_year": year}`` (either or both), cited as the project file.
    subsidy_override : mapping, optional
        Keys of a pack's ``[subsidy]`` replacing the packs' (``rate``, ``opex_years``, ``border_opex_years``,
        ``eligible``); a ``rate`` stated here replaces the regional rates too (the terms are then the project's,
        not assumed).
    where : str
        Where the overrides come from, for messages.

    Raises
    ------
    ProjectError
        An unknown pack, KPI or key, or a number out of range (the message names the pack or the table).
    """
    if region not in ("", *REGIONS):
        msg = f"{where}: `region` = {region!r}; expected one of {list(REGIONS)}"
        raise ProjectError(msg)
    out = Programme(border=bool(border), region=region)
    for pack_id in rules:
        out = _merge_pack(out, pack_id, read_pack(pack_id))
    kpis = dict(out.kpis)
    for key, table in (kpi_overrides or {}).items():
        w = f"{where} [programme.kpi.{key}]"
        if not isinstance(table, Mapping) or set(table) - {"target", "deadline_year"}:
            msg = f"{w}: {table!r}; expected a table with `target` and/or `deadline_year`"
            raise ProjectError(msg)
        base = kpis.get(key)
        merged = {"target": base.target if base else 0.0, "deadline_year": base.deadline_year if base else 2100}
        kpis[key] = _kpi_rule(key, {**merged, **table}, _override_citation(f"[programme.kpi.{key}]"), where=w)
    out = replace(out, kpis=MappingProxyType(kpis))
    if subsidy_override:
        w = f"{where} [programme.subsidy]"
        base_sub = out.subsidy or SubsidyRule()
        allowed = {"rate", "opex_years", "border_opex_years", "eligible"}
        if set(subsidy_override) - allowed:
            msg = f"{w}: unknown key(s) {sorted(set(subsidy_override) - allowed)}; expected {sorted(allowed)}"
            raise ProjectError(msg)
        merged_sub = {
            "rate": base_sub.rate,
            "opex_years": base_sub.opex_years,
            "border_opex_years": base_sub.border_opex_years,
            "eligible": list(base_sub.eligible),
            **subsidy_override,
        }
        sub = _subsidy(merged_sub, _override_citation("[programme.subsidy]"), where=w)
        if "rate" not in subsidy_override:
            sub = replace(
                sub,
                regional_rates=base_sub.regional_rates,
                regional_citation=base_sub.regional_citation,
                assumed=base_sub.assumed,
            )
        out = replace(out, subsidy=sub)
    return out
