"""Run: the runner that composes the stages on one project and writes the outputs folder
(:mod:`planning.run.runner`), the run summary (:mod:`planning.run.summary`) and the dask.distributed client with the
:class:`~planning.jobs.MapJobs` that runs the stages' jobs on it (:mod:`planning.run.distributed`). The stages
and their result types live in their own packages (``planning.radio.stage``, ``planning.fibre.stage``,
``planning.status.stage``, ``planning.plan.proposal``, ``planning.present.stage``)."""

from planning.run.distributed import SchedulerError, dask_client, dask_map
from planning.run.runner import input_paths, run_pipeline

__all__ = [
    "SchedulerError",
    "dask_client",
    "dask_map",
    "input_paths",
    "run_pipeline",
]
