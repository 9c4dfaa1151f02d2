"""``coverplan notebook export``: a notebook (the pilot application, ``notebooks/pilot_proposal.ipynb``) executed
from top to bottom and written as one HTML page without code (:func:`planning.present.notebook_html.notebook_page`).

The notebook runs in a fresh ``python3`` kernel (nbclient, local IPC, not TCP) in its own folder. The files it
writes beside its outputs (report, workbook, map: ``COVERPLAN_NOTEBOOK_OUT``) go to ``--files DIR`` (a new folder,
put in place only when the notebook ran through) or else to a temporary folder removed afterwards, so that
without ``--files`` the command writes only ``--out``. The page is written aside and renamed into place: it
appears whole or not at all. A cell that raises refuses the export (exit 2, the cell's number and its error);
nothing is written.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from gis.outdir import check_output_file
from planning.cli.common import about, fail
from planning.cli.options import overwrite_opt

logger = logging.getLogger(__name__)

#: Longest a notebook may run by default (s); the demo's pilot application takes about half a minute.
DEFAULT_TIMEOUT_S = 1800


def _read(path: Path) -> Any:
    import nbformat  # noqa: PLC0415 - loaded when the command runs, not for --help

    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except FileNotFoundError:
        fail(f"notebook `{path}` does not exist; expected a .ipynb file")
    except (OSError, ValueError, nbformat.ValidationError) as exc:
        fail(f"notebook `{path}` is not a readable Jupyter notebook (nbformat 4): {str(exc).splitlines()[0][:200]}")
    return nb


def _execute(nb: Any, path: Path, *, timeout_s: int, files: Path, kept: bool) -> None:
    """Run every code cell of ``nb`` in a fresh kernel in ``path``'s folder; a failing cell refuses (exit 2)."""
    from jupyter_client.kernelspec import NoSuchKernel  # noqa: PLC0415
    from nbclient import NotebookClient  # noqa: PLC0415
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError  # noqa: PLC0415
    from traitlets.config import Config  # noqa: PLC0415

    config = Config()
    config.KernelManager.transport = "ipc"  # a socket file in the run's folder, not an open TCP port
    config.KernelManager.ip = str(files.parent / "kernel")
    env = {**os.environ, "COVERPLAN_NOTEBOOK_OUT": str(files), "COVERPLAN_NOTEBOOK_FILES_KEPT": "1" if kept else "0"}
    client = NotebookClient(
        nb,
        timeout=timeout_s,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.resolve())}},
        config=config,
    )
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        cells = getattr(nb, "cells", [])
        failed = next(
            (i for i, c in enumerate(cells, 1) for o in c.get("outputs", []) if o.get("output_type") == "error"),
            None,
        )
        where = f"cell {failed}" if failed else "a cell"
        fail(f"notebook `{path}`: {where} raised {exc.ename}: {exc.evalue}; nothing written")
    except CellTimeoutError:
        fail(f"notebook `{path}`: a cell ran longer than --timeout-s {timeout_s} s; nothing written")
    except DeadKernelError as exc:
        fail(f"notebook `{path}`: the kernel died ({exc}); nothing written")
    except NoSuchKernel:
        fail("no `python3` Jupyter kernel is installed; expected ipykernel in coverplan's environment")


def _files_folder(path: Path) -> Path:
    """``--files``: absolute, a new folder in an existing one (never one that holds anything)."""
    full = Path(os.path.abspath(path))
    if full.exists() or full.is_symlink():
        fail(f"--files `{path}` exists; expected a new folder (the command never writes into or replaces a folder)")
    if not full.parent.is_dir():
        fail(f"--files `{path}`: folder `{full.parent}` does not exist")
    return full


@click.group("notebook")
def notebook_group() -> None:
    """Notebooks: the pilot application (申报书) executed and exported as HTML without code."""


@notebook_group.command("export")
@click.argument("notebook", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="The HTML file to write.")
@overwrite_opt("--out if it exists")
@click.option(
    "--files",
    "files_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="A new folder for the files the notebook writes (report.html, report.xlsx, map.html); default: none kept.",
)
@click.option(
    "--timeout-s",
    type=click.IntRange(10, 86_400),
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    help="Longest one cell may run (s).",
)
def export(notebook: Path, out: Path, overwrite: bool, files_dir: Path | None, timeout_s: int) -> None:
    """Execute NOTEBOOK (e.g. notebooks/pilot_proposal.ipynb) and write it to --out as HTML: its text, tables,
    charts and map, without code."""
    from planning.present import notebook_page  # noqa: PLC0415

    about(f"notebook {notebook}", outcome="nothing written")
    if out.suffix.lower() not in (".html", ".htm"):
        fail(f"--out `{out}`: expected a file ending in .html")
    target = check_output_file(out, reads=[notebook], overwrite=overwrite)
    keep = _files_folder(files_dir) if files_dir is not None else None
    nb = _read(notebook)
    work = Path(tempfile.mkdtemp(prefix=".coverplan-notebook-", dir=keep.parent if keep else None))
    files = work / (keep.name if keep else "notebook_files")
    files.mkdir()
    try:
        _execute(nb, notebook, timeout_s=timeout_s, files=files, kept=keep is not None)
        page = notebook_page(nb)
        if keep is not None:
            os.rename(files, keep)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        fail(f"cannot write --out `{out}`: {exc.strerror or exc}; nothing written")
    finally:
        if tmp.exists():
            tmp.unlink()
    click.echo(f"coverplan notebook export: wrote {out} ({len(page.encode('utf-8')) / 1e6:.1f} MB)")
