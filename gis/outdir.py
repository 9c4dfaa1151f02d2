"""Output folders that appear whole or not at all, and never delete what coverplan did not write.

A command that writes a folder (``coverplan run``, ``demo``, ``optimise``, ``synth``) goes through
:func:`staged_output`:

1. :func:`check_output_dir` refuses an ``--out`` that is empty (the current folder), a symbolic link, or is
   or contains a protected path: an input file, the project folder, the current folder, the home folder or
   ``/``; and a folder that exists with files unless ``overwrite`` is given and every file in it is one
   coverplan wrote there (listed in its marker file :data:`MARKER`).
2. A lock file beside the folder (``.NAME.coverplan-lock``, ``flock``) keeps a second run from writing the
   same folder at the same time: it is refused at once.
3. The run writes into a temporary sibling folder (``.NAME.partial-XXXX``); an error or Ctrl-C removes it and
   leaves any earlier output as it was. Only when the run has finished is the folder renamed into place: the
   earlier output (checked again under the lock) is first renamed aside, then removed file by file from its
   marker's list, never following a symbolic link.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from gis.errors import OutputError

logger = logging.getLogger(__name__)

#: File in every output folder coverplan writes: the list of files it wrote there (JSON).
MARKER = ".coverplan-output.json"


class OutputExistsError(OutputError, FileExistsError):
    """The output folder already holds files and overwriting was not asked for."""


class OutputRefusedError(OutputError):
    """An output folder that coverplan must not write or replace (inputs, home, a folder it did not write)."""


class OutputBusyError(OutputError):
    """Another coverplan process is writing the same output folder."""


def default_protected() -> list[Path]:
    """Paths no output folder may be or contain: the current folder, the home folder and ``/``."""
    return [Path.cwd(), Path.home(), Path("/")]


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _inside(path: Path, folder: Path) -> bool:
    """True when ``path`` is ``folder`` or below it (both resolved)."""
    return path == folder or folder in path.parents


def _own_files(folder: Path) -> set[str] | None:
    """The relative paths coverplan wrote into ``folder`` (from its marker), or None without a marker."""
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        listed = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {str(f) for f in listed if isinstance(f, str)}


def _contents(folder: Path) -> list[str]:
    """Every file, link and folder below ``folder`` (relative paths), without following links."""
    out = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        rel = Path(root).relative_to(folder)
        out += [str(rel / name) for name in files]
        out += [str(rel / name) for name in dirs if (Path(root) / name).is_symlink()]
    return sorted(str(Path(p)) for p in out)


def check_output_dir(out: str | Path, *, overwrite: bool, protected: Iterable[str | Path] = ()) -> Path:
    """Check that ``out`` may be written (and, with ``overwrite``, replaced); return it as an absolute path.

    Parameters
    ----------
    out : path
        The output folder asked for.
    overwrite : bool
        Replace an existing folder of coverplan's.
    protected : paths
        Input files and folders (the project file's folder, every layer file, the DEM) that ``out`` must not be
        nor contain; the current folder, the home folder and ``/`` are always protected.

    Raises
    ------
    OutputRefusedError
        ``out`` is empty, a symbolic link, not a folder, is or contains a protected path, or (with
        ``overwrite``) holds files coverplan did not write there.
    OutputExistsError
        ``out`` holds files and ``overwrite`` is false.
    """
    text = str(out)
    if not text.strip():
        msg = "`--out` is empty: it would be the current folder; expected a new or coverplan-written folder"
        raise OutputRefusedError(msg)
    path = Path(os.path.abspath(text))
    if path.is_symlink():
        msg = f"`--out` = {text!r} is a symbolic link; expected a real folder (coverplan never replaces a link)"
        raise OutputRefusedError(msg)
    real = _real(path)
    for p in [*default_protected(), *(Path(x) for x in protected)]:
        rp = _real(Path(os.path.abspath(p)))
        if _inside(rp, real):
            what = "is" if rp == real else "contains"
            msg = (
                f"`--out` = {text!r} {what} {rp}, which coverplan must not replace (an input, the project "
                "folder, the current folder, the home folder or /); expected a folder of its own, e.g. "
                "outputs/NAME"
            )
            raise OutputRefusedError(msg)
    if path.exists() and not path.is_dir():
        msg = f"`--out` = {text!r} is a file; expected a folder"
        raise OutputRefusedError(msg)
    if path.is_dir():
        present = [p for p in _contents(path) if p != MARKER]
        if present and not overwrite:
            msg = f"output folder `{path}` exists and is not empty; pass --overwrite to replace it"
            raise OutputExistsError(msg)
        own = _own_files(path)
        foreign = [p for p in present if own is None or p not in own]
        if foreign:
            listed = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            msg = (
                f"output folder `{path}` holds {len(foreign)} file(s) coverplan did not write there ({listed}); "
                "it is not replaced: move them or choose another --out"
            )
            raise OutputRefusedError(msg)
    return path


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``.NAME.coverplan-lock`` beside ``path``; refused at once when held."""
    lock = path.parent / f".{path.name}.coverplan-lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            msg = f"another coverplan process is writing `{path}` (lock {lock}); wait for it or choose another --out"
            raise OutputBusyError(msg) from None
        try:
            same = os.stat(lock, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the lock file was replaced between open and flock: take the current one
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


def write_marker(folder: Path) -> None:
    """List every file now in ``folder`` in its marker (the files coverplan wrote there)."""
    files = [p for p in _contents(folder) if p != MARKER]
    (folder / MARKER).write_text(
        json.dumps({"written_by": "coverplan", "files": files}, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def remove_own(folder: Path) -> None:
    """Remove a folder coverplan wrote: each file its marker lists, then the empty folders; never a link's target.

    Raises
    ------
    OutputRefusedError
        ``folder`` has no marker or holds something the marker does not list (nothing is removed then).
    """
    own = _own_files(folder)
    present = [p for p in _contents(folder) if p != MARKER]
    if own is None or any(p not in own for p in present):
        msg = f"`{folder}` holds files coverplan did not write; it is not removed"
        raise OutputRefusedError(msg)
    for rel in present:
        target = folder / rel
        if target.is_symlink() or target.is_file():
            target.unlink()
    (folder / MARKER).unlink()
    for root, dirs, _ in os.walk(folder, topdown=False):  # deepest first: each folder is empty by then
        for name in dirs:
            (Path(root) / name).rmdir()
    folder.rmdir()


def _clear_stale(path: Path) -> None:
    """Remove temporary folders of earlier runs to ``path`` that were killed (under the lock: none is running)."""
    for stale in path.parent.glob(f".{path.name}.partial-*"):
        if stale.is_dir() and not stale.is_symlink() and (stale / MARKER).is_file():
            shutil.rmtree(stale)
            logger.info("removed %s, left by an interrupted run", stale)


@contextlib.contextmanager
def staged_output(out: str | Path, *, overwrite: bool, protected: Iterable[str | Path] = ()) -> Iterator[Path]:
    """A temporary folder to write a run into, renamed to ``out`` when the block ends without error.

    See the module docstring. Yields the temporary folder (a sibling of ``out``, holding the marker); an
    exception inside the block removes it and re-raises, leaving ``out`` as it was.

    Raises
    ------
    OutputRefusedError, OutputExistsError
        From :func:`check_output_dir`, before anything is written.
    OutputBusyError
        Another process holds the lock of ``out``.
    """
    protected = list(protected)
    path = check_output_dir(out, overwrite=overwrite, protected=protected)
    with _lock(path):
        _clear_stale(path)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
        (tmp / MARKER).write_text(json.dumps({"written_by": "coverplan", "files": []}), encoding="utf-8")
        try:
            yield tmp
            write_marker(tmp)
            check_output_dir(path, overwrite=overwrite, protected=protected)  # again, under the lock
            _replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _replace(tmp: Path, path: Path) -> None:
    """Rename ``tmp`` to ``path``; an existing coverplan folder there is renamed aside first, then removed."""
    if not path.exists():
        os.rename(tmp, path)
        return
    if not any(path.iterdir()):
        path.rmdir()
        os.rename(tmp, path)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
    old.rmdir()
    os.rename(path, old)
    os.rename(tmp, path)
    remove_own(old)
