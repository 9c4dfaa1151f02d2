"""Which candidates dig a trench: fibre extensions to villages and schools, and new sites whose backhaul is fibre.

Both join one shared-trench plan (:func:`planning.fibre.plan_routes` in :func:`planning.plan.proposal.solve_rounds`):
a trench segment is built once, paid in the year it is first built, and counted once in 光缆皮长. A candidate's
*trench part* (:func:`trench_base_cny`) is the part of its price that the plan re-prices: an extension's whole
price; a site's fibre backhaul (``backhaul_cny``, priced on its own by :func:`planning.fibre.fibre_reach`); its
equipment stays as it is.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

__all__ = ["SITE_KINDS_WITH_BACKHAUL", "trench_base_cny", "trench_labels", "trench_of_site"]

#: Candidate kinds that carry a backhaul of their own (a fibre one digs a trench).
SITE_KINDS_WITH_BACKHAUL = ("new_site", "share", "share_5g")


def trench_of_site(cands: pd.DataFrame) -> np.ndarray:
    """Per candidate: a site whose chosen backhaul is fibre (not the fibre of a shared tower, ``existing``)."""
    kind = cands["kind"].astype(str).to_numpy()
    back = cands["backhaul"].astype(str).to_numpy() if "backhaul" in cands else np.full(len(cands), "")
    return np.isin(kind, SITE_KINDS_WITH_BACKHAUL) & (back == "fibre")


def trench_labels(cands: pd.DataFrame, joined: Collection[str] | None) -> np.ndarray:
    """Per candidate: the network label of the point its trench reaches (a fibre extension's ``source``; a
    fibre-backhauled site's ``candidates:<candidate_id>``), "" for none or when it is not in ``joined`` (the
    labels joined to the road network; None: no network)."""
    n = len(cands)
    if joined is None or not n:
        return np.full(n, "", dtype=object)
    kind = cands["kind"].astype(str).to_numpy()
    src = cands["source"].astype(str).to_numpy() if "source" in cands else np.full(n, "")
    site = "candidates:" + cands["candidate_id"].astype(str).to_numpy(dtype=object)
    out = np.where(kind == "fibre", src, np.where(trench_of_site(cands), site, "")).astype(object)
    known = pd.Index(list(joined))
    return np.where(pd.Index(out).isin(known), out, "").astype(object)


def trench_base_cny(cands: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
    """Per candidate: the trench part of its standalone price (CNY): an extension's ``cost_cny``, a site's fibre
    ``backhaul_cny``; 0 where ``labels`` is empty."""
    kind = cands["kind"].astype(str).to_numpy()
    cost = cands["cost_cny"].to_numpy(dtype=float)
    back = (
        np.nan_to_num(cands["backhaul_cny"].to_numpy(dtype=float)) if "backhaul_cny" in cands else np.zeros(len(cands))
    )
    part = np.where(kind == "fibre", cost, back)
    return np.where(np.asarray(labels, dtype=object) != "", part, 0.0)
