"""How a stage runs independent jobs (one per province, say): in turn here, or on a cluster the runner chose.

A stage that splits its work takes ``map_jobs`` (keyword) and never knows about dask: :func:`in_turn` runs the
jobs one after the other in this process; :func:`planning.run.distributed.dask_map` gives one that runs them as
dask.distributed tasks. Both return the results in the jobs' order, so a stage computes the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


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
