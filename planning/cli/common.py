"""What every command shares: the error console, problem tables, exit code 2 for bad input, step display."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table

from gis.errors import Problem

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
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if errors:
        console.print(problem_table(errors, title=f"{len(errors)} error(s)"))
    if warnings:
        console.print(problem_table(warnings[:100], title=f"{len(warnings)} warning(s)"))
    # plain lines too, for logs and grep
    for p in errors:
        click.echo(f"ERROR {p}", err=True)


def fail(message: str) -> NoReturn:
    click.echo(f"coverplan: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


class Steps:
    """A rich progress display of named steps (progress bars only in the CLI)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.status = None

    def __enter__(self) -> Steps:
        if self.enabled:
            self.status = console.status("starting")
            self.status.__enter__()
        return self

    def __call__(self, step: str) -> None:
        if self.status is not None:
            self.status.update(f"[bold]{step}[/bold]")
        logger.info("step: %s", step)

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)
