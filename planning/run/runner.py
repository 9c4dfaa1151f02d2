"""The coverplan pipeline: compose the stages on one project and write the outputs folder.

Stages (each a pure function in its own room; this module only composes them, chooses where their jobs run,
and writes files). Every stage that splits its work (coverage and gaps per county, fibre and the optimiser per
province) takes the run's one ``map_jobs``: :func:`planning.jobs.in_turn`, or with ``--dask``
:func:`planning.run.distributed.dask_map` over a client; the outputs are the same. The stages:

1. ``inputs``: read, validate and project all layers; terrain heights (:func:`gis.inputs.load_inputs`).
2. ``coverage``: 4G/5G best server, RSRP, SINR, throughput of villages (handheld) and schools (fixed-wireless
   CPE) with terrain (:func:`planning.radio.coverage.coverage`), and a best-RSRP raster of the region.
3. ``fibre``: road/fibre network with its repairs, fibre reach of every village, school and candidate, and the
   shared-trench plan (Steiner tree from existing fibre) for the villages and schools not yet connected
   (:mod:`planning.fibre`); ``fibre.gpkg`` (layers ``reach`` and ``routes``), ``fibre_repairs.csv``,
   ``fibre_components.csv``.
4. ``gaps``: status of every village and school from its evidence (the project's ledger, the layers' reports,
   the models), every KPI per county, the verification list and the rows the ledger (台账) must hold
   (:mod:`planning.status`); ``gaps.gpkg`` (layers ``villages``, ``schools``), ``county_targets.csv``,
   ``verification.csv``.
5. ``optimise``: candidate interventions, the optimiser's choice with shared fibre, and yearly batches
   (:mod:`planning.plan.proposal`); ``proposal.gpkg`` (layers ``interventions``, ``demands``, ``fibre_routes``,
   ``backhaul``),
   ``proposal.csv``, ``batches.csv``, ``county_targets_after.csv``, ``kpis_short.csv``.
6. ``ledger``: the project's ledger (``[ledger] path``; a new one without it) copied into the outputs and the
   plan written into the copy as dated events (:func:`planning.status.ledger.record_plan`); ``ledger.gpkg``,
   ``ledger_changes.csv``. The project's own ledger is never written by a run.
7. ``report``: the proposal report (:mod:`planning.present.report`) with the cost vs coverage curve
   (:func:`planning.plan.proposal.cost_curve`: real budget runs); ``report.html``, ``report.xlsx``,
   ``report_<table>.csv``, charts.
8. ``map``: the planner's folium map (:func:`planning.present.maps.build_map`); ``map.html``.
9. ``summary``: counts and totals of the region, written as ``summary.json`` and ``summary.md``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.inputs import Inputs, load_inputs
from gis.layers import write_layers
from gis.outdir import check_output_dir, record_written, staged_output
from gis.project import Project
from gis.writers import write_csv
from planning.fibre import FibreResult, fibre_stage
from planning.jobs import MapJobs, in_turn
from planning.plan import Proposal, asked_budget, backhaul_layer, cost_curve, propose
from planning.present import map_stage, report_tables, save_map, write_report
from planning.radio import coverage_raster, coverage_stage, terrain_kernels_cold, write_raster
from planning.run.distributed import dask_client, dask_map
from planning.run.summary import (
    summarise,
    summarise_coverage,
    summarise_fibre,
    summarise_gaps,
    summarise_programme,
    summary_markdown,
)
from planning.status import (
    GapsResult,
    Replan,
    budget_left,
    commitments,
    copy_ledger,
    create_ledger,
    diff_totals,
    gaps_stage,
    ledger_evidence,
    plan_diff,
    read_ledger,
    record_plan,
    shares_before,
    shown_url,
    unspent_by_year,
    with_commitments,
)

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class RunResult:
    """What a run produced: the inputs, coverage, summary, the files written and the seconds per stage."""

    inputs: Inputs
    summary: dict[str, Any]
    coverage: gpd.GeoDataFrame | None = None
    fibre: FibreResult | None = None
    gaps: GapsResult | None = None
    proposal: Proposal | None = None
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def input_paths(project: Project) -> list[Path]:
    """Every file and folder a run reads: the project file and its folder, each layer file, the DEM.

    An output folder must not be nor contain any of them (:func:`gis.outdir.check_output_dir`).
    """
    paths = [project.path, project.root, *(src.path for src in project.layers.values())]
    if project.terrain is not None:
        paths.append(project.terrain)
    if isinstance(project.ledger, Path):  # a database ledger (URL) is no file
        paths.append(project.ledger)
    return [Path(p) for p in paths]


def write_proposal(prop: Proposal, out: Path) -> list[Path]:
    """Write the proposal files into ``out``; returns their paths."""
    inter = prop.interventions.copy()
    layers = {"interventions": inter, "demands": prop.demands, "fibre_routes": prop.routes}
    write_layers({**layers, "backhaul": backhaul_layer(inter)}, out / "proposal.gpkg")
    table = pd.DataFrame(inter.drop(columns="geometry"))
    xy = inter.geometry.to_crs(4326)
    table["lon"], table["lat"] = xy.x.round(6), xy.y.round(6)
    write_csv(table, out / "proposal.csv")
    write_csv(prop.batches, out / "batches.csv")
    write_csv(prop.targets_after, out / "county_targets_after.csv")
    write_csv(prop.short, out / "kpis_short.csv")
    names = ["proposal.gpkg", "proposal.csv", "batches.csv", "county_targets_after.csv", "kpis_short.csv"]
    for name, frame in (("compliance", prop.compliance), ("unserved", prop.unserved)):
        if frame is not None:  # the programme's rules held against the plan; every need left unserved and why
            write_csv(frame, out / f"{name}.csv")
            names.append(f"{name}.csv")
    if prop.provinces is not None:
        write_csv(prop.provinces, out / "provinces.csv")
        names.append("provinces.csv")
    return [out / n for n in names]


def run_pipeline(
    project: Project,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    ledger_date: dt.date | None = None,
    goal: Literal["targets"] | None = None,
    budget_cny: float | None = None,
    offline: bool | None = None,
    dask: str | bool | None = None,
    replan: Replan = "none",
) -> RunResult:
    """Run every stage on ``project`` and write the outputs into ``out_dir``.

    Files written: ``layers.gpkg`` (validated layers in the metric CRS, point layers with ``ground_m``),
    ``coverage.gpkg``, ``coverage.tif``, ``fibre.gpkg``, ``fibre_repairs.csv``, ``fibre_components.csv``,
    ``gaps.gpkg``, ``county_targets.csv``, ``verification.csv``, ``proposal.gpkg``, ``proposal.csv``,
    ``batches.csv``, ``county_targets_after.csv``, ``kpis_short.csv``, ``provinces.csv`` (the national summary,
    when the region holds several provinces), ``ledger.gpkg`` and ``ledger_changes.csv`` (the plan's events,
    dated ``ledger_date``, default today), ``report.html``,
    ``report.xlsx``, ``report_<table>.csv``, ``chart_*.png``, ``map.html``, ``summary.json`` and ``summary.md``.
    ``goal="targets"`` asks for every KPI target in every county, ``budget_cny`` (finite, > 0) for the
    priorities within that budget; with neither the project's ``[optimise] budget_cny`` decides
    (:func:`planning.plan.proposal.asked_budget`). ``offline`` overrides the project's ``[map] offline``.
    ``dask``: run the stages' jobs (coverage and gaps per county, fibre and the optimiser per province) on
    dask.distributed (True: a LocalCluster; a string: that scheduler's address), see
    :mod:`planning.run.distributed`; the outputs are the same.

    With a ledger (``[ledger] path``) the run keeps its commitments (:mod:`planning.status.ledger_replan`): rows
    planned, under construction or completed stay as the ledger holds them (remedy, money, batch, year), the
    optimiser plans only what they do not close, and ``plan_diff.csv`` lists per row what was kept, added,
    dropped, moved or replaced (with its reason and money); ``replan="planned"`` re-decides the planned rows too,
    ``replan="all"`` everything. The money the kept planned and under construction rows still spend is held first:
    a budget (``budget_cny`` or ``[optimise] budget_cny``: what may be spent from this run on) less that money is
    the new plan's (:func:`planning.status.budget_left`, a :class:`planning.status.LedgerError` before the work
    when nothing is left), and each year's batch gets what the yearly budget leaves after that year's commitments.

    The run is written into a temporary folder beside ``out_dir`` and renamed into place only when every stage
    has finished (:func:`gis.outdir.staged_output`): an error or Ctrl-C leaves ``out_dir`` as it was.

    Raises
    ------
    LayerError
        Bad input (every problem listed); nothing is written then.
    gis.outdir.OutputExistsError
        ``out_dir`` is not empty and ``overwrite`` is false.
    gis.outdir.OutputRefusedError
        ``out_dir`` is or contains an input, the project folder, the current or home folder or ``/``, or holds
        files coverplan did not write there.
    gis.outdir.OutputBusyError
        Another coverplan process is writing ``out_dir``.
    """
    budget = asked_budget(project, goal=goal, budget_cny=budget_cny)  # a goal that cannot be: refused before the work
    ledger = _commitments(project, replan=replan, budget_cny=budget)  # commitments above the budget: refused too
    out = Path(out_dir)
    protected = input_paths(project)
    check_output_dir(out, overwrite=overwrite, protected=protected)  # fail before the work, not after it
    with (
        staged_output(out, overwrite=overwrite, protected=protected) as tmp,
        _stage_warnings() as logged,
        _jobs_runner(dask, progress) as map_jobs,
    ):
        result = _run(
            project,
            tmp,
            map_jobs=map_jobs,
            stage_warnings=logged,
            progress=progress,
            ledger_date=ledger_date,
            goal=goal,
            budget_cny=budget_cny if ledger.budget_cny is None else ledger.budget_cny,
            offline=offline,
            replan=replan,
            ledger=ledger,
        )
    final = Path(os.path.abspath(out))
    result.files = [final / f.relative_to(tmp) for f in result.files]
    return result


@dataclass(frozen=True)
class _Ledger:
    """The project's ledger as the run read it (None: no ledger), the commitments it keeps, what they still spend
    per year (CNY) and the new plan's budget (CNY; None: as asked, no budget or nothing held)."""

    before: pd.DataFrame | None = None
    kept: pd.DataFrame | None = None
    unspent_by_year: dict[int, float] = field(default_factory=dict)
    asked_cny: float | None = None
    budget_cny: float | None = None

    def summary(self) -> dict[str, Any]:
        """The summary's money of the commitments: still to spend (total, per year), the budget asked and left."""
        out: dict[str, Any] = {
            "unspent_cny": round(sum(self.unspent_by_year.values()), 2),
            "unspent_by_year_cny": {str(y or "unknown"): v for y, v in self.unspent_by_year.items()},
        }
        if self.asked_cny is not None:
            out["budget_asked_cny"] = self.asked_cny
            out["budget_new_plan_cny"] = round(self.budget_cny if self.budget_cny is not None else self.asked_cny, 2)
        return out


def _commitments(project: Project, *, replan: Replan, budget_cny: float | None) -> _Ledger:
    """The project's ledger, its commitments (:func:`planning.status.commitments`) and the budget they leave for
    new work (:func:`planning.status.budget_left`, raising before the work when they take it all)."""
    if project.ledger is None:
        return _Ledger()
    before = read_ledger(project.ledger)
    kept = commitments(before, replan=replan)
    by_year = unspent_by_year(kept)
    left = None
    if budget_cny is not None and by_year:
        where = shown_url(project.ledger) if isinstance(project.ledger, str) else str(project.ledger)
        left = budget_left(budget_cny, sum(by_year.values()), ledger=where)
    return _Ledger(before=before, kept=kept, unspent_by_year=by_year, asked_cny=budget_cny, budget_cny=left)


@contextlib.contextmanager
def _jobs_runner(dask: str | bool | None, progress: Progress | None) -> Iterator[MapJobs]:
    """Where the stages' jobs run: in turn here, or (``dask``: True or a scheduler address) as tasks on a dask
    client that is closed after the run."""
    if not dask:
        yield in_turn
        return
    if progress:
        progress("dask: connecting" if isinstance(dask, str) else "dask: starting a local cluster")
    with dask_client(dask if isinstance(dask, str) else None) as client:
        yield dask_map(client)


@dataclass
class _Run:
    """One run in progress: where it writes, how its stages are timed and reported, where its jobs run."""

    out: Path
    progress: Progress | None
    map_jobs: MapJobs
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str, step: str | None = None) -> Iterator[None]:
        """Time a stage (``seconds[name]``) and tell the progress display ``step``."""
        if self.progress and step:
            self.progress(step)
        t0 = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
        record_written(self.out, self.files)  # a killed run's finished files are known to be coverplan's

    def wrote(self, *names: str) -> None:
        self.files += [self.out / n for n in names]


def _run(
    project: Project,
    out: Path,
    *,
    progress: Progress | None,
    ledger_date: dt.date | None,
    goal: Literal["targets"] | None,
    budget_cny: float | None,
    offline: bool | None,
    map_jobs: MapJobs,
    stage_warnings: list[str],
    replan: Replan = "none",
    ledger: _Ledger | None = None,
) -> RunResult:
    """The stages of :func:`run_pipeline` (``map_jobs``: runs the jobs of every stage that splits its work;
    ``stage_warnings``: what the stages have logged as warnings, filled while they run; ``ledger``: the project's
    ledger and its commitments, ``budget_cny`` already the new plan's)."""
    led = ledger if ledger is not None else _commitments(project, replan=replan, budget_cny=None)
    run = _Run(out=out, progress=progress, map_jobs=map_jobs)
    with run.stage("inputs", "inputs"):
        inputs = load_inputs(project, progress=(lambda name: progress(f"inputs: {name}")) if progress else None)
    with run.stage("write_layers", "write layers"):
        write_layers(inputs.layers.frames, out / "layers.gpkg")
        run.wrote("layers.gpkg")
    cold = inputs.dem is not None and terrain_kernels_cold(project.radio.model)
    with run.stage("coverage", "coverage" + (" (first run: numba compiles the terrain kernels)" if cold else "")):
        cov = coverage_stage(project, inputs, map_jobs=run.map_jobs)
        write_layers({"coverage": cov}, out / "coverage.gpkg")
        run.wrote("coverage.gpkg")
    with run.stage("coverage_raster", "coverage raster"):
        bands, transform = coverage_raster(
            inputs.layers["sites"], inputs.layers.region, crs=inputs.layers.crs, radio=project.radio, dem=inputs.dem
        )
        write_raster(out / "coverage.tif", bands, transform, inputs.layers.crs)
        run.wrote("coverage.tif")
    with run.stage("fibre", "fibre"):
        fib = fibre_stage(project, inputs, map_jobs=run.map_jobs)
        if fib is not None:
            _write_fibre(fib, out)
            run.wrote("fibre.gpkg", "fibre_repairs.csv", "fibre_components.csv")
    with run.stage("gaps", "gaps"):
        measured = ledger_evidence(project.ledger) if project.ledger is not None else None
        gaps = gaps_stage(project, inputs, coverage=cov, fibre=fib, measured=measured, map_jobs=run.map_jobs)
        write_layers({"villages": gaps.villages, "schools": gaps.schools}, out / "gaps.gpkg")
        write_csv(gaps.targets, out / "county_targets.csv")
        write_csv(gaps.verification, out / "verification.csv")
        run.wrote("gaps.gpkg", "county_targets.csv", "verification.csv")
        before, kept = led.before, led.kept
        plan_gaps = _planning_gaps(
            project, inputs, gaps, measured=measured, cov=cov, fib=fib, kept=kept, map_jobs=run.map_jobs
        )
    with run.stage("optimise", "optimise"):
        prop = propose(
            project,
            inputs,
            coverage=cov,
            fibre=fib,
            gaps=plan_gaps,
            goal=goal,
            budget_cny=budget_cny,
            map_jobs=run.map_jobs,
            committed_by_year=led.unspent_by_year or None,
        )
        if plan_gaps is not gaps:  # planned with the commitments delivered: the KPIs before are the real ones
            prop.totals.update(shares_before(gaps.targets))
        run.files += write_proposal(prop, out)
    with run.stage("ledger", "ledger"):
        keep = kept.index if kept is not None else pd.Index([])
        changes = write_ledger(project, gaps, prop, out, date=ledger_date or dt.date.today(), keep=keep)
        run.wrote("ledger.gpkg", "ledger_changes.csv")
        committed = _write_plan_diff(before, kept, out, replan=replan, prop=prop)
        if committed is not None:
            committed.update(led.summary())
            run.wrote("plan_diff.csv")
    with run.stage("report", "report"):
        tables = report_tables(
            project, gaps, prop, curve=cost_curve(project, gaps, prop, fibre=fib), ledger_changes=changes
        )
        run.files += write_report(project, tables, prop, out, date=ledger_date, limits=inputs.layers.limits)
    with run.stage("map", "map"):
        fmap = map_stage(project, inputs, gaps=gaps, proposal=prop, coverage_bands=(bands, transform), offline=offline)
        run.files.append(save_map(fmap, out / "map.html"))
    with run.stage("summary"):
        summary = _summary(project, inputs, cov, fib, gaps, prop, stage_warnings=stage_warnings)
        if committed is not None:
            summary["commitments"] = committed
    _write_summary(summary, run.seconds, out)
    run.wrote("summary.json", "summary.md")
    logger.info("wrote %s", ", ".join(f.name for f in run.files))
    return RunResult(
        inputs=inputs,
        summary=summary,
        coverage=cov,
        fibre=fib,
        gaps=gaps,
        proposal=prop,
        files=run.files,
        seconds=run.seconds,
    )


def _planning_gaps(
    project: Project,
    inputs: Inputs,
    gaps: GapsResult,
    *,
    measured: pd.DataFrame | None,
    cov: gpd.GeoDataFrame,
    fib: FibreResult | None,
    kept: pd.DataFrame | None,
    map_jobs: MapJobs,
) -> GapsResult:
    """The gaps the optimiser closes: ``gaps`` less what the commitments ``kept`` close
    (:mod:`planning.status.ledger_replan`; None without a ledger)."""
    if kept is None or not len(kept):
        return gaps
    plan_measured = with_commitments(measured, kept, outlet_mbps=project.targets.school_outlet_mbps)
    return gaps_stage(project, inputs, coverage=cov, fibre=fib, measured=plan_measured, map_jobs=map_jobs)


def _write_plan_diff(
    before: pd.DataFrame | None, kept: pd.DataFrame | None, out: Path, *, replan: Replan, prop: Proposal
) -> dict[str, Any] | None:
    """``plan_diff.csv`` (the project's ledger against the run's ``ledger.gpkg``) and the summary's ``commitments``
    entry; None (nothing written) without a project ledger."""
    if before is None or kept is None:
        return None
    pdiff = plan_diff(before, read_ledger(out / "ledger.gpkg"), kept=kept.index)
    write_csv(pdiff, out / "plan_diff.csv")
    return {
        "replan": replan,
        "rows": len(kept),
        "committed_cny": round(float(kept["remedy_cost_cny"].sum()), 2),
        "new_plan_cny": prop.totals.get("cost_cny"),
        "plan_diff": diff_totals(pdiff),
    }


def write_ledger(
    project: Project, gaps: GapsResult, prop: Proposal, out: Path, *, date: dt.date, keep: pd.Index | None = None
) -> pd.DataFrame:
    """``ledger.gpkg``: a copy of the project's ledger (a new one when it has none) with this run's gaps and plan
    recorded as events dated ``date`` (the commitments ``keep``, ids, left as they are); ``ledger_changes.csv``:
    those events. Returns the events."""
    target = out / "ledger.gpkg"
    created = pd.DataFrame(columns=["id", "field", "old", "new"])
    if project.ledger is not None:
        copy_ledger(project.ledger, target)
    else:
        create_ledger(gaps.ledger, target, date=date, source="coverplan run")
        created = pd.DataFrame(
            {"id": gaps.ledger["id"].to_numpy(), "field": "status", "old": "", "new": gaps.ledger["status"].to_numpy()}
        )
    events = record_plan(
        target, gaps.ledger, prop.ledger_plan, date=date, source="coverplan run", keep=() if keep is None else keep
    )
    events = pd.concat([created, events], ignore_index=True)
    write_csv(events, out / "ledger_changes.csv")
    return events


def _write_fibre(fib: FibreResult, out: Path) -> None:
    reach = fib.reach.copy()
    for col in ("fibre_distance_m", "fibre_cost_cny"):
        reach[col] = reach[col].replace(np.inf, np.nan)  # GeoPackage has no infinity: no route is empty
    write_layers({"reach": reach, "routes": fib.plan.routes}, out / "fibre.gpkg")
    write_csv(fib.repairs, out / "fibre_repairs.csv")
    write_csv(fib.components, out / "fibre_components.csv", index=True)


def _summary(
    project: Project,
    inputs: Inputs,
    cov: gpd.GeoDataFrame,
    fib: FibreResult | None,
    gaps: GapsResult,
    prop: Proposal,
    *,
    stage_warnings: Sequence[str] = (),
) -> dict[str, Any]:
    summary = summarise(project, inputs)
    summary["coverage"] = summarise_coverage(cov, project)
    summary["gaps"] = summarise_gaps(gaps)
    summary["proposal"] = prop.totals
    summary["programme"] = summarise_programme(project, gaps, prop)
    if prop.provinces is not None:
        summary["provinces"] = json.loads(prop.provinces.to_json(orient="records", force_ascii=False))
    summary["fibre"] = summarise_fibre(fib) if fib is not None else {"skipped": "no roads or fibre layer"}
    listed = [str(w) for w in inputs.warnings[:200]]
    skipped = [w for w in dict.fromkeys(stage_warnings) if w not in listed]  # a stage skipped, a fallback taken
    summary["warnings_list"] = listed + skipped
    summary["warnings"] = summary.get("warnings", 0) + len(skipped)
    return summary


class _WarningLog(logging.Handler):
    """Collects the warnings coverplan's own modules log (``gis.*``, ``planning.*``) during a run."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _stage_warnings() -> Iterator[list[str]]:
    """The warnings logged by ``gis`` and ``planning`` while the block runs (a skipped stage, say), for the
    summary."""
    handler = _WarningLog()
    loggers = [logging.getLogger(name) for name in ("gis", "planning")]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        yield handler.messages
    finally:
        for lg in loggers:
            lg.removeHandler(handler)


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite number (NaN: a share of 0 of 0, infinity) as None: JSON has neither, and
    ``NaN``/``Infinity`` make a file other readers refuse."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _write_summary(summary: dict[str, Any], seconds: dict[str, float], out: Path) -> None:
    (out / "summary.json").write_text(
        json.dumps(json_safe({**summary, "seconds": seconds}), ensure_ascii=False, indent=2, allow_nan=False),
        encoding="utf-8",
    )
    (out / "summary.md").write_text(
        summary_markdown({k: v for k, v in summary.items() if k != "warnings_list"}, seconds), encoding="utf-8"
    )
