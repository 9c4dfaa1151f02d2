"""The ``coverplan`` command line: one module per command group, shared helpers in :mod:`planning.cli.common`.

Commands: ``validate``, ``run``, ``optimise``, ``demo`` (:mod:`planning.cli.run`), ``synth``
(:mod:`planning.cli.synth`), ``calibrate`` (:mod:`planning.cli.calibrate`), ``ledger show|update|diff|reconcile``
(:mod:`planning.cli.ledger`), ``import opencellid|dem|osm|population`` (:mod:`planning.cli.imports`). Exit
codes: 0 success, 2 bad input (every problem listed: file, layer, row, id, column, what was expected) or an output
that may not be written, 1 an unexpected failure (a bug).
"""

from __future__ import annotations

import logging
import sys

import click
from rich.logging import RichHandler

from planning.cli.calibrate import calibrate
from planning.cli.common import console
from planning.cli.imports import import_group
from planning.cli.ledger import ledger
from planning.cli.run import demo, optimise, run, validate
from planning.cli.synth import synth

#: Exit status of a command stopped by Ctrl-C (SIGINT): 128 + 2, as shells report it.
EXIT_INTERRUPTED = 130


def _from_interrupt(exc: BaseException) -> bool:
    """True when ``exc`` is, or was raised while handling, a KeyboardInterrupt (numba's compiled functions turn
    one into ``SystemError: CPUDispatcher(...) returned a result with an exception set``)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


class _Commands(click.Group):
    """The command group; Ctrl-C anywhere ends a command with exit 130 and one line, never a traceback. Nothing is
    left half-written: runs write a temporary folder removed on the way out, ledger updates roll back, imports
    replace their file only when whole."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, SystemError) as exc:
            if not _from_interrupt(exc):
                raise
            click.echo("coverplan: interrupted; nothing written", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("-q", "--quiet", count=True, help="Less output (errors only).")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """coverplan: rural telecom coverage gaps, fibre reach and universal-service pilot planning."""
    level = max(logging.DEBUG, min(logging.WARNING - 10 * verbose + 10 * quiet, logging.CRITICAL))
    # the handler shows what -v/-q asks for; the loggers pass INFO on, so progress records reach the progress
    # display (planning.cli.common.Steps) and the INFO lines of other libraries (dask.distributed's ~30 when
    # --dask starts a cluster) stay hidden without -v
    logging.basicConfig(
        level=min(level, logging.INFO),
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, level=level)],
        force=True,
    )
    logging.getLogger("pyogrio").setLevel(max(logging.WARNING, level))
    ctx.obj = {"quiet": quiet > 0}


for _command in (validate, run, optimise, demo, synth, calibrate, ledger, import_group):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="coverplan")
