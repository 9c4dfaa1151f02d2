"""How a stage runs independent jobs (one per county or province, say): in turn here, or on a cluster the runner
chose; and how their rows come back as one table.

A stage that splits its work takes ``map_jobs`` (keyword) and never knows about dask: :func:`in_turn` runs the
jobs one after the other in this process; :func:`planning.run.distributed.dask_map` gives one that runs them as
dask.distributed tasks. Both return the results in the jobs' order, so a stage computes the same either way.
:func:`merge_in_order` puts the jobs' rows back in the order of the table they were cut from, each row once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Job:
    """One call ``fn(*args, **kwargs, **shared)``; ``key`` names it (a dask task key, a log line)."""

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


class MapJobs(Protocol):
    """Runs jobs and returns their results in order; ``shared`` keyword arguments go to every job (a cluster
    sends them to its workers once)."""

    def __call__(self, jobs: Sequence[Job], *, shared: Mapping[str, Any] | None = None) -> list[Any]: ...


def in_turn(jobs: Sequence[Job], *, shared: Mapping[str, Any] | None = None) -> list[Any]:
    """Run the jobs one after the other in this process."""
    return [job.fn(*job.args, **job.kwargs, **(shared or {})) for job in jobs]


def positions_in_order(keys: Sequence[Any] | pd.Index, index: Sequence[Any] | pd.Index, *, what: str) -> np.ndarray:
    """Where each row of ``index`` is among ``keys`` (the row keys of the parts, stacked), every row once.

    Parameters
    ----------
    keys : the row keys of the parts' rows, in the order they were stacked
    index : the rows wanted, in their order (the table the parts were cut from)
    what : what the rows are, for the message (``"coverage of the villages per county"``)

    Returns
    -------
    ndarray of int
        ``keys[positions] == index``.

    Raises
    ------
    RuntimeError
        ``index`` repeats a row, a row is in two parts (or twice in one), a row of ``index`` is in no part, or a
        part holds a row that ``index`` does not: the parts were not a partition of the table (a bug, not bad
        input).
    """
    keys, index = pd.Index(keys), pd.Index(index)
    if not index.is_unique:
        row = _shown(index[index.duplicated()][0])
        msg = f"{what}: the table's row {row} is in its index twice; expected unique rows"
        raise RuntimeError(msg)
    twice = keys[keys.duplicated()]
    if len(twice):
        msg = f"{what}: row {_shown(twice[0])} comes {int((keys == twice[0]).sum())} times; expected each row once"
        raise RuntimeError(msg)
    pos = keys.get_indexer(index)
    missing = index[pos < 0]
    if len(missing):
        msg = (
            f"{what}: {len(missing)} of the {len(index)} rows are in no part (first {_shown(missing[0])}); "
            "expected each row once"
        )
        raise RuntimeError(msg)
    if len(keys) != len(index):
        extra = keys.difference(index)
        msg = f"{what}: {len(extra)} rows that were not asked for (first {_shown(extra[0])}); expected each row once"
        raise RuntimeError(msg)
    return pos


def _shown(key: Any) -> str:
    """A row key as a message shows it: ``9``, ``'villages:V12'`` (not ``np.int64(9)``)."""
    return repr(key.item() if isinstance(key, np.generic) else key)


def merge_in_order(parts: Sequence[pd.DataFrame], index: Sequence[Any] | pd.Index, *, what: str) -> pd.DataFrame:
    """The parts' rows as one table in the order of ``index``, every row once (see :func:`positions_in_order`).

    Each part is indexed by its row keys (those of the table it was cut from). Empty parts are left out before
    stacking (they would turn a column's dtype to ``object``); a table of parts that are all empty is the first of
    them.

    Raises
    ------
    RuntimeError
        No part at all, or the parts are not a partition of ``index`` (:func:`positions_in_order`).
    """
    if not parts:
        msg = f"{what}: no parts to merge for {len(index)} rows"
        raise RuntimeError(msg)
    kept = [p for p in parts if len(p)] or [parts[0]]
    stacked = pd.concat(kept) if len(kept) > 1 else kept[0]
    return stacked.iloc[positions_in_order(stacked.index, index, what=what)]
