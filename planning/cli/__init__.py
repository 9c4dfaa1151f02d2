"""The ``coverplan`` command line: one module per command group, shared helpers in :mod:`planning.cli.common`.

Commands: ``validate``, ``run``, ``optimise``, ``demo`` (:mod:`planning.cli.run`), ``synth``
(:mod:`planning.cli.synth`), ``calibrate`` (:mod:`planning.cli.calibrate`),
``ledger init|migrate|show|list|update|diff|reconcile`` (:mod:`planning.cli.ledger`), ``rules list|show``
(:mod:`planning.cli.rules`), ``import opencellid|dem|osm|population|register`` (:mod:`planning.cli.imports`),
``notebook export`` (:mod:`planning.cli.notebook`). Exit
codes: 0 success, 2 bad input (every problem listed: file, layer, row, id, column, what was expected) or an output
that may not be written, 130 Ctrl-C, 143 SIGTERM, 141 a reader that closed the pipe (``| head``), 1 an unexpected
failure (a bug).

Start-up is lazy: ``coverplan --help`` and ``--version`` import no command module (the short help of each command
is kept in :data:`COMMANDS`; a test checks it against the command's own), and a command's module (with pandas,
geopandas, the models) is imported only when that command runs or shows its help.

One error door: every coverplan error (:class:`gis.errors.CoverplanError`, any subclass, also one added later) that
leaves a command is caught once, in :meth:`_Commands.invoke`, which prints its problems and the exit-2 line
(:func:`planning.cli.common.report_error`) and exits 2; no command catches them to exit itself.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import click

logger = logging.getLogger(__name__)

#: Command name -> (module, attribute, short help shown by ``coverplan --help``): the module is imported only when the
#: command runs or shows its own help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": (
        "planning.cli.run",
        "validate",
        "Check every layer and the terrain of PROJECT_FILE; list all problems (exit 2 if any error).",
    ),
    "run": (
        "planning.cli.run",
        "run",
        "Run the whole pipeline on PROJECT_FILE and write the outputs (layers, proposal, map.html, report.html).",
    ),
    "optimise": (
        "planning.cli.run",
        "optimise",
        "Run the pipeline on PROJECT_FILE and propose the interventions (--budget-cny X or --targets).",
    ),
    "demo": (
        "planning.cli.run",
        "demo",
        "Run the pipeline on the bundled demo region (the package's planning/demo/project.toml).",
    ),
    "synth": (
        "planning.cli.synth",
        "synth",
        "Write a synthetic region of any size (layers, DEM, project.toml) into --out.",
    ),
    "calibrate": (
        "planning.cli.calibrate",
        "calibrate",
        "Fit the propagation model's offset and slope to drive-test MEASUREMENTS (CSV: lon, lat, rsrp_dbm, site_id).",
    ),
    "ledger": (
        "planning.cli.ledger",
        "ledger",
        "The ledger (台账) of unconnected villages and schools: init, migrate, show, list, update, diff, reconcile.",
    ),
    "rules": (
        "planning.cli.rules",
        "rules",
        "Programme rule packs: which are shipped, and what a pack or a project's [programme] sets.",
    ),
    "import": (
        "planning.cli.imports",
        "import_group",
        "Bring real data in: OpenCelliD cells, DEM tiles, an OSM extract, a population raster, a village register.",
    ),
    "notebook": (
        "planning.cli.notebook",
        "notebook_group",
        "Notebooks: the pilot application (申报书) executed and exported as HTML without code.",
    ),
}
#: Exit status when input is refused (as :data:`planning.cli.common.EXIT_BAD_INPUT`).
EXIT_BAD_INPUT = 2

#: Exit status of a command stopped by Ctrl-C (SIGINT): 128 + 2, as shells report it.
EXIT_INTERRUPTED = 130
#: Exit status of a command stopped by SIGTERM (``kill``, a scheduler's time limit): 128 + 15.
EXIT_TERMINATED = 143
#: Exit status when the reader of the output closed the pipe (``coverplan ledger show L | head -1``): 128 + 13
#: (SIGPIPE), as other tools end then.
EXIT_BROKEN_PIPE = 141


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: raised in the main thread like Ctrl-C's KeyboardInterrupt, so every path that cleans up
    after Ctrl-C (a run's temporary folder, a ledger update's rollback, an import's partial file) does so too."""


def _interrupt_of(exc: BaseException) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt (or :class:`Terminated`) that ``exc`` is or was raised while handling, or None (numba's
    compiled functions turn one into ``SystemError: CPUDispatcher(...) returned a result with an exception set``)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:  # both links: `raise X from Y` while handling an interrupt keeps it in X's context
        e = todo.pop()
        if id(e) in seen:
            continue
        if isinstance(e, KeyboardInterrupt):
            return e
        seen.add(id(e))
        todo += [x for x in (e.__context__, e.__cause__) if x is not None]
    return None


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises :class:`Terminated` (only the main thread may set a handler)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _quiet_stdout() -> None:
    """After the reader closed the pipe: point stdout at /dev/null so that the flush at exit raises nothing."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _short_help(text: str, limit: int) -> str:
    """``text`` cut after the last whole word that fits in ``limit`` characters with ``...`` (as click's own)."""
    if len(text) <= limit:
        return text
    words: list[str] = []
    used = 0
    for word in text.split():
        if used + len(word) + (1 if words else 0) + 3 > limit:
            break
        used += len(word) + (1 if words else 0)
        words.append(word)
    return " ".join(words) + "..."


class _Commands(click.Group):
    """The command group and its one error door: a coverplan error anywhere ends a command with its problems, one
    line and exit 2; Ctrl-C with exit 130 and SIGTERM with exit 143, one line each; a closed output pipe quietly
    with exit 141; never a traceback. Nothing is left half-written: runs write a temporary folder removed on the
    way out, ledger updates roll back, imports replace their file only when whole.

    Commands are loaded on first use (:data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attr, _ = COMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from :data:`COMMANDS` without importing a command's module."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, _short_help(COMMANDS[name][2], limit)) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:  # --help and --version print while the arguments are parsed
            return super().parse_args(ctx, args)
        except BrokenPipeError:
            _quiet_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)

    def invoke(self, ctx: click.Context) -> object:
        from gis.errors import CoverplanError  # noqa: PLC0415 - imported when a command runs, not for --help

        try:
            with _sigterm_as_interrupt():
                return super().invoke(ctx)
        except CoverplanError as exc:
            from planning.cli.common import current_about, report_error  # noqa: PLC0415

            report_error(exc, current_about(ctx))
            ctx.exit(EXIT_BAD_INPUT)
        except BrokenPipeError:
            _quiet_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except BaseException as exc:
            # Ctrl-C or SIGTERM, also when it surfaces as another error: numba's SystemError, or an error that a
            # clean-up raised while handling it (a library's close failing half-way)
            interrupt = _interrupt_of(exc)
            if interrupt is None:
                raise
            what = "terminated (SIGTERM)" if isinstance(interrupt, Terminated) else "interrupted"
            if exc is interrupt or isinstance(exc, SystemError):
                click.echo(f"coverplan: {what}; nothing written", err=True)
            else:  # a clean-up failed: what it was cleaning may be left; say what failed
                logger.debug("the clean-up after the interrupt failed", exc_info=exc)
                failed = f"{type(exc).__name__}: {exc}"
                click.echo(f"coverplan: {what}; a clean-up failed while stopping ({failed})", err=True)
            ctx.exit(EXIT_TERMINATED if isinstance(interrupt, Terminated) else EXIT_INTERRUPTED)


def _version() -> str:
    """coverplan's version from the installed package's metadata; ``0+unknown`` when it is not installed (run from
    a source tree through PYTHONPATH)."""
    try:
        return importlib.metadata.version("coverplan")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"coverplan {_version()}")
        ctx.exit()


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("-q", "--quiet", count=True, help="Less output (errors only).")
@click.option(
    "--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version, help="Show the version."
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """coverplan: rural telecom coverage gaps, fibre reach and universal-service pilot planning."""
    from rich.logging import RichHandler  # noqa: PLC0415 - not needed for --help/--version

    from planning.cli.common import console  # noqa: PLC0415

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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="coverplan")


__all__ = ["EXIT_BROKEN_PIPE", "EXIT_INTERRUPTED", "EXIT_TERMINATED", "cli", "main"]
