"""Commands that run the pipeline: ``validate``, ``run``, ``optimise``, ``demo``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import click

from gis.inputs import load_inputs
from gis.project import load_project
from gis.settings import MAX_CNY
from planning.cli.common import Steps, about, fail, report_problems
from planning.cli.options import offline_opt, out_folder_opt, overwrite_opt, project_arg
from planning.demo import demo_project
from planning.run import run_pipeline
from planning.status import Replan, read_ledger


def _share(value: object, digits: int = 1) -> str:
    """A share as a percentage, or ``n/a`` where there is none (no poor village in the region: 0 of 0)."""
    if isinstance(value, int | float) and math.isfinite(value):
        return f"{value:.{digits}%}"
    return "n/a"


def proposal_line(t: dict) -> str:
    """The proposal's headline for the terminal: goal, cost, batches, solver, KPIs before -> after, what is short."""
    goal = f"budget {t['budget_cny']:,.0f} CNY" if t["mode"] == "budget" else "every KPI target in every county"

    def move(key: str) -> str:
        return f"{_share(t.get(f'{key}_before'))} -> {_share(t.get(f'{key}_after'))}"

    line = (
        f"proposal ({goal}): {sum(t['interventions'].values())} interventions, {t['cost_cny']:,} CNY in "
        f"{t['batches']} yearly batch(es), {t['status']} (gap {_share(t['gap'], 2)}); poor villages with broadband "
        f"{move('poor_broadband')}, with 4G {move('poor_4g')}; schools connected {move('school_connected')}, at the "
        f"outlet target {move('school_outlet')}"
    )
    if t["mode"] == "budget":
        line += (
            f"; left unserved: {t['unconnected_schools_left']} unconnected school(s), "
            f"{t['poor_villages_left']} poor-village need(s)"
        )
    if t.get("kpis_short"):
        line += f"; {t['kpis_short']} KPI target(s) short in {t['counties_short']} county(ies) (kpis_short.csv)"
    return line


def commitments_line(c: dict) -> str:
    """The ledger's commitments for the terminal: rows kept, money still to be paid, the budget left for new work."""
    line = (
        f"commitments kept from the ledger: {c['rows']} row(s), {c['unspent_cny']:,.0f} CNY still to be paid "
        "(planned, under construction), held first in their years' budgets"
    )
    if "budget_asked_cny" in c:
        line += f"; budget {c['budget_asked_cny']:,.0f} CNY, {c['budget_new_plan_cny']:,.0f} CNY of it for the new plan"
    return line + " (plan_diff.csv)"


@click.command()
@project_arg
def validate(project_file: Path) -> None:
    """Check every layer and the terrain of PROJECT_FILE; list all problems (exit 2 if any error)."""
    about(project_file)
    project = load_project(project_file)
    inputs = load_inputs(project)
    if project.ledger is not None:
        read_ledger(project.ledger)  # its statuses are checked: a run would refuse it
    if inputs.warnings:
        report_problems(list(inputs.warnings))
    counts = ", ".join(f"{len(f)} {n}" for n, f in inputs.layers.frames.items())
    click.echo(f"{project_file}: valid ({counts}; metric CRS {inputs.layers.crs.to_string()})")


def _run(
    project_file: Path,
    out: Path,
    overwrite: bool,
    quiet: bool,
    *,
    goal: Literal["targets"] | None = None,
    budget_cny: float | None = None,
    offline: bool | None = None,
    dask: str | bool | None = None,
    replan: Replan = "none",
) -> None:
    about(project_file, outcome="nothing written")
    project = load_project(project_file)
    with Steps(enabled=not quiet) as steps:
        result = run_pipeline(
            project,
            out,
            overwrite=overwrite,
            progress=steps,
            goal=goal,
            budget_cny=budget_cny,
            offline=offline,
            dask=dask,
            replan=replan,
        )
    if result.inputs.warnings and not quiet:
        report_problems(list(result.inputs.warnings))  # once: the layers log them at INFO only
    total = sum(result.seconds.values())
    click.echo(f"coverplan: {project.name}: wrote {len(result.files)} files to {out} in {total:.1f} s")
    for f in result.files:
        click.echo(f"  {f}")
    t = result.summary.get("proposal")
    if t:
        click.echo(proposal_line(t))
    c = result.summary.get("commitments")
    if c:
        click.echo(commitments_line(c))
    for name in ("map.html", "report.html"):
        if (out / name).exists():
            click.echo(f"open {name[:-5]}: {(out / name).resolve().as_uri()}")


@click.command()
@project_arg
@out_folder_opt()
@overwrite_opt()
@offline_opt
@click.option(
    "--dask",
    "dask",
    is_flag=False,
    flag_value="local",
    default=None,
    metavar="[SCHEDULER_ADDRESS]",
    help="Run the stages' jobs (coverage and gaps per county, fibre and the optimiser per province) on "
    "dask.distributed: a "
    "LocalCluster, or the scheduler at the given address (tcp://host:8786). Results are the same "
    "as without it.",
)
@click.option(
    "--replan",
    "replan",
    type=click.Choice(["planned", "all"]),
    is_flag=False,
    flag_value="all",
    default=None,
    help="Re-decide the ledger's commitments: `planned` frees the planned rows (keeps those under construction or "
    "completed), `all` (the flag alone) frees everything. Without it a run keeps every row the ledger has planned, "
    "under construction or completed, and plans only the rest (plan_diff.csv).",
)
@click.pass_context
def run(
    ctx: click.Context,
    project_file: Path,
    out: Path,
    overwrite: bool,
    offline: bool | None,
    dask: str | None,
    replan: Literal["planned", "all"] | None,
) -> None:
    """Run the whole pipeline on PROJECT_FILE and write the outputs (layers, proposal, map.html, report.html)."""
    _run(
        project_file,
        out,
        overwrite,
        ctx.obj["quiet"],
        offline=offline,
        dask=True if dask == "local" else dask,
        replan=replan or "none",
    )


@click.command()
@out_folder_opt(default=Path("outputs/demo"))
@overwrite_opt()
@offline_opt
@click.pass_context
def demo(ctx: click.Context, out: Path, overwrite: bool, offline: bool | None) -> None:
    """Run the pipeline on the bundled demo region (the package's planning/demo/project.toml)."""
    _run(demo_project(), out, overwrite, ctx.obj["quiet"], offline=offline)


def _budget(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """``--budget-cny``: a finite amount above 0 and at most 10^13 CNY (NaN passes a FloatRange: checked here); 0
    is refused: a budget of nothing plans nothing, and target mode is ``--targets``."""
    if value is not None and not (math.isfinite(value) and 0 < value <= MAX_CNY):
        msg = f"{value!r}; expected a finite amount > 0 and <= {MAX_CNY:g} CNY"
        raise click.BadParameter(msg, ctx=ctx, param=param)
    return value


@click.command()
@project_arg
@out_folder_opt()
@click.option(
    "--budget-cny",
    "budget_cny",
    type=float,
    callback=_budget,
    default=None,
    help="Budget mode: serve unconnected schools first, then poor villages, then the rest within this budget (CNY, "
    f"> 0 and <= {MAX_CNY:g}).",
)
@click.option(
    "--targets",
    "targets",
    is_flag=True,
    help="Target mode: the least cost that reaches every KPI target of [targets] in every county.",
)
@overwrite_opt()
@click.pass_context
def optimise(
    ctx: click.Context, project_file: Path, out: Path, budget_cny: float | None, targets: bool, overwrite: bool
) -> None:
    """Run the pipeline on PROJECT_FILE and propose the interventions (--budget-cny X or --targets)."""
    if (budget_cny is not None) == targets:
        fail("give exactly one of --budget-cny and --targets")
    _run(
        project_file,
        out,
        overwrite,
        ctx.obj["quiet"],
        goal="targets" if targets else None,
        budget_cny=budget_cny,
    )
