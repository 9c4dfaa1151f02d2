"""dask.distributed for ``coverplan run --dask [SCHEDULER_ADDRESS]``: the client, and the
:class:`~planning.jobs.MapJobs` that runs a stage's jobs on it.

The stages split their own work and never know about dask: coverage and the gaps' status one job per county
(:func:`planning.radio.stage.coverage_stage`, :func:`planning.status.stage.gaps_stage`), fibre and the optimiser
one job per province in a region of several provinces (:func:`planning.fibre.stage.fibre_stage`,
:func:`planning.plan.proposal.propose`). Each takes ``map_jobs``: :func:`planning.jobs.in_turn` in this process, or
:func:`dask_map` of a client from :func:`dask_client`, which runs every job as a task (the jobs' shared arguments,
the DEM say, are scattered to the workers once). The results come back in the jobs' order, so the outputs are the
same either way (tested on a LocalCluster with two workers).

Without a scheduler address a :class:`distributed.LocalCluster` with one single-threaded worker process per core
is started and closed after the run.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from gis.errors import CoverplanError
from planning.jobs import Job, MapJobs

#: A scheduler address ``--dask`` accepts: a protocol, a host (name, IPv4 or [IPv6]) and a port.
_ADDRESS = re.compile(r"(tcp|tls|ucx|ws|wss)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}")
#: How long ``--dask ADDRESS`` waits for the scheduler to answer (s).
CONNECT_TIMEOUT_S = 10.0


class SchedulerError(CoverplanError):
    """A dask scheduler address that is malformed or does not answer."""


@contextlib.contextmanager
def dask_client(address: str | None = None, *, n_workers: int | None = None) -> Iterator[Any]:
    """A dask.distributed client: of the scheduler at ``address``, else of a LocalCluster closed on exit.

    The LocalCluster has ``n_workers`` single-threaded worker processes (default: the CPU count).

    Raises
    ------
    SchedulerError
        ``address`` is not a scheduler address (``tcp://host:port``), or no scheduler answers there within
        :data:`CONNECT_TIMEOUT_S`.
    """
    if address and not _ADDRESS.fullmatch(address):
        msg = f"`--dask` = {address!r} is not a scheduler address; expected e.g. tcp://host:8786 (or no address)"
        raise SchedulerError(msg)
    from distributed import Client, LocalCluster  # noqa: PLC0415 (only --dask runs pay for importing it)

    cluster = None
    if address:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, ValueError) as exc:  # TimeoutError is an OSError
            msg = (
                f"cannot reach the dask scheduler at {address} ({exc}); expected a running scheduler there, or "
                "--dask without an address for a local cluster"
            )
            raise SchedulerError(msg) from exc
    else:
        cluster = LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def dask_map(client: Any) -> MapJobs:
    """A :class:`planning.jobs.MapJobs` that runs each job as a task on ``client`` (shared arguments scattered to
    every worker once); results in the jobs' order."""

    def run(jobs: Sequence[Job], *, shared: Mapping[str, Any] | None = None) -> list[Any]:
        sent = {k: client.scatter(v, broadcast=True) if v is not None else None for k, v in (shared or {}).items()}
        futures = [client.submit(job.fn, *job.args, **job.kwargs, **sent, key=job.key, pure=False) for job in jobs]
        return client.gather(futures)

    return run
