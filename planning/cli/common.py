"""What every command shares: the error console, problem tables, the exit-2 line of coverplan's errors (printed by
the one error door, ``planning.cli._Commands.invoke``), progress display."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from gis.errors import CoverplanError, LayerError, Problem
from planning.progress import progress_of
from planning.status import LedgerError

logger = logging.getLogger(__name__)

EXIT_BAD_INPUT = 2

console = Console(stderr=True)


def problem_table(problems: list[Problem], *, title: str) -> Table:
    table = Table(title=title, show_lines=False, expand=False)
    for col in ("severity", "file", "layer", "row", "id", "column", "problem"):
        table.add_column(col, overflow="fold")
    for p in problems:
        table.add_row(
            p.severity,
            Path(p.file).name if p.file else "",
            p.layer,
            "" if p.row is None else str(p.row),
            p.row_id or "",
            p.column or "",
            p.message,
        )
    return table


def report_problems(problems: list[Problem]) -> None:
    """Errors and warnings, once: as tables on a terminal, as ``ERROR ...``/``WARNING ...`` lines (for logs and
    grep) when stderr is piped or written to a file."""
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if console.is_terminal:
        if errors:
            console.print(problem_table(errors, title=f"{len(errors)} error(s)"))
        if warnings:
            console.print(problem_table(warnings[:100], title=f"{len(warnings)} warning(s)"))
        return
    for p in errors:
        click.echo(f"ERROR {p}", err=True)
    for p in warnings[:100]:
        click.echo(f"WARNING {p}", err=True)
    if len(warnings) > 100:
        click.echo(f"WARNING ... and {len(warnings) - 100} more warning(s)", err=True)


class CommandError(CoverplanError):
    """A refusal a command makes itself (options that do not go together, nothing to write ...): the error door
    prints ``coverplan: MESSAGE`` and exits 2."""


def fail(message: str) -> NoReturn:
    """Refuse with ``message`` (exit 2 through the error door; nothing here exits)."""
    raise CommandError(message)


@dataclass(frozen=True)
class About:
    """What a command's errors are about, for the exit-2 line the error door prints.

    Attributes
    ----------
    subject : str
        What the layer problems were found in (the project file, the measurements, the DEM tiles); '' for none.
    outcome : str
        What a failure left, added to the line (``nothing written``, ``the ledger is unchanged``).
    count : {"errors", "problems"}
        Count the errors among the problems, or all of them.
    """

    subject: str = ""
    outcome: str = ""
    count: Literal["errors", "problems"] = "errors"


_ABOUT = "coverplan.about"


def about(subject: object = "", *, outcome: str = "", count: Literal["errors", "problems"] = "errors") -> None:
    """Say what the running command's errors are about (see :class:`About`); a later call replaces it."""
    click.get_current_context().meta[_ABOUT] = About(str(subject), outcome, count)


def current_about(ctx: click.Context) -> About:
    """What :func:`about` last said in ``ctx`` (or a context below it), or an empty :class:`About`."""
    found = ctx.meta.get(_ABOUT)
    return found if isinstance(found, About) else About()


def error_line(exc: CoverplanError, about: About) -> str:
    """The exit-2 line of ``exc`` (without ``coverplan: ``): for layer problems the subject and their count, for a
    ledger's the project's ``[ledger]`` and the first line, else the error's own message."""
    problems = list(getattr(exc, "problems", ()) or ())
    tail = f"; {about.outcome}" if about.outcome else ""
    if isinstance(exc, LedgerError):
        text = str(exc).split("\n", 1)[0] if problems else str(exc)
        return (f"{about.subject}: [ledger] " if about.subject else "") + text + tail
    if isinstance(exc, LayerError) and problems:
        n = len(problems) if about.count == "problems" else sum(p.severity == "error" for p in problems)
        unit = "problem" if about.count == "problems" else "error"
        return f"{about.subject + ': ' if about.subject else ''}{n} {unit}(s){tail}"
    if isinstance(exc, LayerError) and about.subject:
        return f"{about.subject}: {exc}"
    return str(exc)


def report_error(exc: CoverplanError, about: About) -> None:
    """Print ``exc`` as the error door does: its problems (a table on a terminal, ``ERROR ...`` lines when
    piped), then ``coverplan: LINE`` (:func:`error_line`)."""
    problems = list(getattr(exc, "problems", ()) or ())
    if problems:
        report_problems(problems)
    click.echo(f"coverplan: {error_line(exc, about)}", err=True)


class Steps:
    """What a long run shows on the command line: the stages the runner starts (its ``progress`` callback) and
    the items its stages report (:func:`planning.progress.log_progress`, caught from the logging records; library
    code only logs).

    On a terminal a rich progress display: a line per stage with a spinner, and for stages that report items a
    bar, ``done/total`` and the time spent. Piped or written to a log: plain lines on stderr, one when a stage
    starts and one per 25 % of a stage's items, each with the seconds since the start. Nothing when disabled
    (``-q``).
    """

    def __init__(self, enabled: bool, *, live: bool | None = None) -> None:
        self.enabled = enabled
        self.live = enabled and (console.is_terminal if live is None else live)
        self.display: Progress | None = None
        self.task: TaskID | None = None
        self.stage = ""
        self.started = time.perf_counter()
        self.shown: dict[str, int] = {}
        self.handler = _ProgressRecords(self)

    def __enter__(self) -> Steps:
        if self.enabled:
            logging.getLogger().addHandler(self.handler)
        if self.live:
            self.display = Progress(
                SpinnerColumn(finished_text="✓"),
                TextColumn("{task.description}"),
                BarColumn(bar_width=30),
                TextColumn("{task.fields[count]}"),
                TimeElapsedColumn(),
                console=console,
            )
            self.display.start()
        return self

    def __call__(self, step: str) -> None:
        """A stage started."""
        logger.info("step: %s", step)
        if not self.enabled:
            return
        if self.display is None:
            self._line(step)
            self.stage = step
            return
        head = step.split(":", maxsplit=1)[0]
        if self.task is not None and head == self.stage.split(":", maxsplit=1)[0]:  # a part (inputs: villages)
            self.display.update(self.task, description=step)
        else:
            self._finish_task()
            self.task = self.display.add_task(step, total=None, count="")
        self.stage = step

    def items(self, task: str, done: int, total: int) -> None:
        """``done`` of ``total`` items of ``task`` (within the current stage) are finished."""
        if not self.enabled:
            return
        if self.display is not None and self.task is not None:
            head = self.stage.split(" (", maxsplit=1)[0].split(":", maxsplit=1)[0]
            self.display.update(
                self.task,
                total=max(total, 1),
                completed=done,
                description=task if task.startswith(head) else f"{head}: {task}",
                count=f"{done:,}/{total:,}",
            )
            return
        quarter = 4 * done // total if total > 0 else 4
        if quarter > self.shown.get(task, 0):
            self.shown[task] = quarter
            self._line(f"{task}: {done:,}/{total:,} ({done / total if total else 1:.0%})")

    def _finish_task(self) -> None:
        if self.display is not None and self.task is not None:
            task = self.display.tasks[self.task]
            total = task.total or 1
            name = self.stage.split(":", maxsplit=1)[0]
            self.display.update(
                self.task, total=total, completed=total, description=task.description if task.fields["count"] else name
            )
            self.display.stop_task(self.task)

    def _line(self, text: str) -> None:
        click.echo(f"coverplan [{time.perf_counter() - self.started:6.1f} s] {text}", err=True)

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self.handler)
        if self.display is not None:
            if exc[0] is None:
                self._finish_task()
            self.display.stop()


class _ProgressRecords(logging.Handler):
    """Hands the progress records of :func:`planning.progress.log_progress` to a :class:`Steps`."""

    def __init__(self, steps: Steps) -> None:
        super().__init__(level=logging.INFO)
        self.steps = steps

    def emit(self, record: logging.LogRecord) -> None:
        found = progress_of(record)
        if found is not None:
            self.steps.items(*found)
