"""Run: the stage result types (:mod:`planning.run.results`), the stage functions (:mod:`planning.run.stages`),
the summary (:mod:`planning.run.summary`), dask partitioning (:mod:`planning.run.distributed`) and the runner that
composes them and writes the outputs folder (:mod:`planning.run.runner`)."""
