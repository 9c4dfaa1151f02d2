"""Plan: candidate interventions and what they serve (:mod:`planning.plan.candidates`), the geometry-free covering
optimiser (:mod:`planning.plan.cover`, with :mod:`~planning.plan.heuristics` and :mod:`~planning.plan.highs`),
yearly phasing (:mod:`planning.plan.phasing`), the proposal with shared fibre (:mod:`planning.plan.proposal`) and
the national merge of provinces (:mod:`planning.plan.national`)."""

from planning.plan.hops import backhaul_layer
from planning.plan.proposal import Proposal, asked_budget, cost_curve, propose

__all__ = [
    "Proposal",
    "asked_budget",
    "backhaul_layer",
    "cost_curve",
    "propose",
]
