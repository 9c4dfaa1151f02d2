"""Operator rules: the bands each operator builds on and who shares RAN with whom (``RadioSettings.operators``).

Defaults (README "Radio propagation and coverage"): China Mobile upgrades on n28 700 MHz (China Broadcasting
Network's band, built and shared with China Mobile) and n41 2.6 GHz; China Telecom and China Unicom on n78
3.5 GHz (their shared 3.4-3.6 GHz network) and NR 2.1 GHz, sharing RAN with each other; LTE new sites on
1.8 GHz. An operator without a row takes the ``*`` row.
"""

from __future__ import annotations

import numpy as np

from gis.settings import OperatorRule, RadioSettings

__all__ = ["operator_rule", "ran_partners", "same_ran"]


def operator_rule(radio: RadioSettings, operator: object) -> OperatorRule:
    """The rule of ``operator`` (a sites-layer value; None/empty: unknown): its own row, else ``*``, else one
    built from the project's ``lte_band_mhz`` and ``nr_bands_mhz``."""
    rules = {r.operator: r for r in radio.operators}
    known = isinstance(operator, str) and operator != ""
    key = operator if known else "*"
    if key in rules:
        return rules[key]
    if "*" in rules:
        return rules["*"]
    return OperatorRule(operator="*", lte_bands_mhz=(radio.lte_band_mhz,), nr_bands_mhz=radio.nr_bands_mhz)


def ran_partners(radio: RadioSettings, operator: str) -> set[str]:
    """``operator`` and every operator in its RAN-sharing group (``ran_group``)."""
    group = operator_rule(radio, operator).ran_group if operator else ""
    out = {operator}
    if group:
        out |= {r.operator for r in radio.operators if r.ran_group == group}
    return out


def same_ran(radio: RadioSettings, operators: np.ndarray, operator: str) -> np.ndarray:
    """Per site (its ``operator`` value), whether it belongs to ``operator``'s RAN group (all when ``operator`` is
    empty)."""
    ops = np.asarray(operators, dtype=object)
    if not operator:
        return np.ones(len(ops), dtype=bool)
    partners = ran_partners(radio, operator)
    return np.array([o in partners for o in ops], dtype=bool)
