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

The marker records each file's size, modification time (ns) and SHA-256. ``--overwrite`` refuses a folder where
a listed file changed since coverplan wrote it (a ledger updated with ``coverplan ledger update``, a report
annotated in Excel) or is now something else (a folder, a link): nothing is removed then. A file whose size and
modification time are as recorded is unchanged; one whose time differs is compared by its SHA-256. A marker of an
earlier coverplan (names only) counts a file as changed when it was modified after the marker was written.

Disk full (ENOSPC, a quota) while a run writes is an :class:`OutputError` ("no space left on device writing X;
nothing written"): the temporary folder is removed as for any other error.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
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


def _marker(folder: Path) -> dict | None:
    """The marker of ``folder`` as read, or None without a usable one."""
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), list) else None


def _own_files(folder: Path) -> set[str] | None:
    """The relative paths coverplan wrote into ``folder`` (from its marker), or None without a marker."""
    data = _marker(folder)
    if data is None:
        return None
    return {str(f) for f in data["files"] if isinstance(f, str)}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _record(path: Path, known: object = None) -> dict[str, object]:
    """What the marker keeps of a file coverplan wrote: size, modification time (ns), SHA-256; of a link, its
    target. ``known``: the record taken earlier in this run (:func:`record_written`), reused when the size and
    modification time are the same."""
    if path.is_symlink():
        return {"link": os.readlink(path)}
    st = os.lstat(path)
    if isinstance(known, dict) and known.get("size") == st.st_size and known.get("mtime_ns") == st.st_mtime_ns:
        return known
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": _sha256(path)}


def _kind_change(st: os.stat_result) -> str | None:
    """How a listed regular file is now something else, or None while it is a regular file."""
    if stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISLNK(st.st_mode):
        return "is now a symbolic link"
    return "is now a folder" if stat.S_ISDIR(st.st_mode) else "is now not a regular file"


def _change(folder: Path, rel: str, record: object, marker_mtime_ns: int) -> str | None:
    """How the listed file ``rel`` changed since coverplan wrote it (see the module docstring), or None."""
    target = folder / rel
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return None  # gone: nothing to lose
    if isinstance(record, dict) and "link" in record:
        same = stat.S_ISLNK(st.st_mode) and os.readlink(target) == record["link"]
        return None if same else "is no longer the link coverplan wrote"
    why = _kind_change(st)
    if why or record is None:  # record None: a marker of an earlier coverplan, names only
        return why or ("was modified after coverplan wrote it" if st.st_mtime_ns > marker_mtime_ns else None)
    if not isinstance(record, dict) or st.st_size != record.get("size"):
        return "changed size since coverplan wrote it" if isinstance(record, dict) else "is not in the marker"
    if st.st_mtime_ns == record.get("mtime_ns") or _sha256(target) == record.get("sha256"):
        return None
    return "changed since coverplan wrote it"


def changed_files(folder: Path) -> list[str]:
    """The files listed in ``folder``'s marker that changed since coverplan wrote them, each with how (see the
    module docstring); [] without a marker."""
    data = _marker(folder)
    if data is None:
        return []
    stats = data.get("stats")
    marker_mtime_ns = os.lstat(folder / MARKER).st_mtime_ns
    out = []
    for rel in sorted(str(f) for f in data["files"] if isinstance(f, str)):
        record = stats.get(rel, False) if isinstance(stats, dict) else None  # None: a marker without records
        why = _change(folder, rel, record, marker_mtime_ns)
        if why:
            out.append(f"{rel} ({why})")
    return out


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
    _check_writable_path(path, text)
    if path.is_symlink():
        msg = f"`--out` = {text!r} is a symbolic link; expected a real folder (coverplan never replaces a link)"
        raise OutputRefusedError(msg)
    clash = input_clash(path, [*default_protected(), *protected])
    if clash is not None:
        rp, what = clash
        msg = (
            f"`--out` = {text!r} {what} {rp}, which coverplan must not replace (an input, the project "
            "folder, the current folder, the home folder or /); expected a folder of its own, e.g. "
            "outputs/NAME"
        )
        raise OutputRefusedError(msg)
    if path.exists() and not path.is_dir():
        msg = f"`--out` = {text!r} is a file; expected a folder"
        raise OutputRefusedError(msg)
    _check_replaceable(path, overwrite=overwrite)
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
        changed = changed_files(path) if present else []
        if changed:
            listed = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
            msg = (
                f"output folder `{path}` holds {len(changed)} file(s) changed since coverplan wrote them ({listed}); "
                "it is not replaced: move them out of the folder (a ledger updated there belongs in the project: "
                "copy it to the file `[ledger] path` of project.toml names, so that the next run builds on it) "
                "or choose another --out"
            )
            raise OutputRefusedError(msg)
    return path


def input_clash(out: str | Path, reads: Iterable[str | Path]) -> tuple[Path, str] | None:
    """The one check that a command never writes onto what it read: the first of ``reads`` (input files and
    folders) that the output path ``out`` is (``"is"``) or, as a folder, contains (``"contains"``), or None.

    Both sides are made absolute and their symbolic links resolved; two existing paths that are the same file
    (a hard link) count as the same. Used by :func:`check_output_dir` (output folders) and
    :func:`check_output_file` (single output files).
    """
    real = _real(Path(os.path.abspath(out)))
    for p in reads:
        rp = _real(Path(os.path.abspath(p)))
        if _inside(rp, real):
            return rp, "is" if rp == real else "contains"
        with contextlib.suppress(OSError):
            if os.path.samefile(rp, real):
                return rp, "is"
    return None


def _not_writable(folder: Path) -> str | None:
    """Why files cannot be created or removed in ``folder`` (a read-only folder or file system), or None."""
    if os.access(folder, os.W_OK | os.X_OK):
        return None
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    return "on a read-only file system" if read_only else "not writable (permissions)"


def _check_replaceable(path: Path, *, overwrite: bool) -> None:
    """Refuse, before any work, an output folder that could be written but not put in place at the end: the
    nearest existing folder above it not writable, or (with ``overwrite``) the existing folder or one of its
    subfolders, whose files would have to be removed, not writable."""
    above = next((p for p in path.parents if p.is_dir()), None)  # where the lock and temporary folder go
    folders = [] if above is None else [above]
    if overwrite and path.is_dir():
        folders += [path, *(Path(root) / d for root, dirs, _ in os.walk(path) for d in dirs)]
    for folder in folders:
        why = _not_writable(folder)
        if why:
            msg = (
                f"cannot write the output folder `{path}`: `{folder}` is {why}, so the output could not be put "
                "in place (or the earlier one removed) after the run; expected a folder coverplan may write, "
                "or choose another --out"
            )
            raise OutputRefusedError(msg)


def check_output_file(
    out: str | Path,
    *,
    reads: Iterable[str | Path],
    overwrite: bool,
    others: Mapping[str, str | Path] | None = None,
    what: str = "--out",
) -> Path:
    """Check that the single file ``out`` may be written (replaced with ``overwrite``); return it, absolute.

    Parameters
    ----------
    out : path
        The file to write (an import's layer file, ``calibrate --excluded``'s CSV).
    reads : paths
        Every file the command reads (its sources, the project file, every layer file, the DEM, the ledger):
        ``out`` must be none of them (:func:`input_clash`).
    overwrite : bool
        Whether an existing ``out`` may be replaced.
    others : mapping of str to path, optional
        Files of the project's layers the command does not write: ``out`` must be none of them, since the
        whole file is replaced (a GeoPackage holding roads and fibre would lose them).
    what : str
        The option named in messages.

    Raises
    ------
    OutputRefusedError
        ``out`` is empty, an input, a file of other layers, a folder, or its folder is missing or not writable.
    OutputExistsError
        ``out`` exists and ``overwrite`` is false.
    """
    text = str(out)
    if not text.strip():
        msg = f"`{what}` is empty; expected a file path"
        raise OutputRefusedError(msg)
    path = Path(os.path.abspath(text))
    clash = input_clash(path, reads)
    if clash is not None:
        msg = (
            f"{what} `{out}` {'is also an input' if clash[1] == 'is' else 'contains an input'} ({clash[0]}); "
            "expected a new file (a command never replaces what it reads)"
        )
        raise OutputRefusedError(msg)
    held = sorted(name for name, p in (others or {}).items() if input_clash(path, [p]) is not None)
    if held:
        msg = (
            f"{what} `{out}` holds the project's {', '.join(held)} layer(s); expected a file of its own (the "
            "whole file is replaced)"
        )
        raise OutputRefusedError(msg)
    if path.is_dir():
        msg = f"{what} `{out}` is a folder; expected a file path"
        raise OutputRefusedError(msg)
    if path.exists() and not overwrite:
        msg = f"{what} `{out}` exists; pass --overwrite to replace it"
        raise OutputExistsError(msg)
    if not path.parent.is_dir():
        msg = f"{what} `{out}`: folder `{path.parent}` does not exist"
        raise OutputRefusedError(msg)
    why = _not_writable(path.parent)
    if why:
        msg = f"{what} `{out}`: folder `{path.parent}` is {why}; expected a folder the file can be written into"
        raise OutputRefusedError(msg)
    return path


#: Longest file name most file systems allow (bytes); an output folder's name leaves room for the lock's and the
#: temporary folder's names beside it (``.NAME.coverplan-lock``, ``.NAME.partial-XXXXXXXX``).
_NAME_MAX = 255
_NAME_ROOM = len(".") + len(".partial-XXXXXXXX")


def _check_writable_path(path: Path, text: str) -> None:
    """Refuse an ``--out`` that can never be a folder: a name too long, a part of the path that is a file."""
    for part in path.parts[1:]:
        if len(os.fsencode(part)) > _NAME_MAX - (_NAME_ROOM if part == path.name else 0):
            msg = (
                f"`--out` = {text!r}: the name `{part[:40]}...` is {len(os.fsencode(part))} bytes long; expected "
                f"at most {_NAME_MAX - _NAME_ROOM} bytes for the output folder (file systems allow {_NAME_MAX})"
            )
            raise OutputRefusedError(msg)
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                msg = f"`--out` = {text!r}: `{parent}` is a file, not a folder; expected a path of folders"
                raise OutputRefusedError(msg)
            break


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``.NAME.coverplan-lock`` beside ``path``; refused at once when held."""
    lock = path.parent / f".{path.name}.coverplan-lock"
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            msg = f"cannot write the output folder `{path}`: {exc.strerror or exc} ({exc.filename or lock})"
            raise OutputRefusedError(msg) from exc
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
    """List every file now in ``folder`` in its marker (the files coverplan wrote there), each with its size,
    modification time and SHA-256."""
    files = [p for p in _contents(folder) if p != MARKER]
    known = (_marker(folder) or {}).get("stats")
    known = known if isinstance(known, dict) else {}
    stats = {p: _record(folder / p, known.get(p)) for p in files}
    (folder / MARKER).write_text(
        json.dumps({"written_by": "coverplan", "files": files, "stats": stats}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )


def record_written(folder: Path, paths: Iterable[str | Path]) -> None:
    """Add files just written into a temporary output folder to its marker (as :func:`write_marker` lists them),
    so that what a killed run leaves is known to be coverplan's and is removed by the next run to the same
    ``--out``; a file being written when the run was killed is not listed, and its folder is left (a warning)."""
    data = _marker(folder) or {"written_by": "coverplan", "files": []}
    files = [str(f) for f in data["files"] if isinstance(f, str)]
    recorded = data.get("stats")
    stats = recorded if isinstance(recorded, dict) else {}
    for p in paths:
        rel = str(Path(p).relative_to(folder)) if Path(p).is_absolute() else str(p)
        target = folder / rel
        if rel == MARKER or not (target.is_file() or target.is_symlink()):
            continue
        if rel not in files:
            files.append(rel)
        stats[rel] = _record(target, stats.get(rel))
    text = json.dumps({"written_by": "coverplan", "files": files, "stats": stats}, ensure_ascii=False, indent=1)
    tmp = folder / f"{MARKER}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / MARKER)  # a kill mid-write leaves the previous marker


def _remove_listed(folder: Path) -> list[str]:
    """Remove the files ``folder``'s marker lists and that did not change (never a link's target), then the
    folders left empty, the marker and ``folder`` itself when nothing else is left; returns what is left."""
    own = _own_files(folder) or set()
    changed = {c.rsplit(" (", 1)[0] for c in changed_files(folder)}
    for rel in _contents(folder):
        target = folder / rel
        if rel in own and rel not in changed and (target.is_symlink() or target.is_file()):
            target.unlink()
    left = [p for p in _contents(folder) if p != MARKER]
    if left:
        return left
    (folder / MARKER).unlink(missing_ok=True)
    for root, dirs, _ in os.walk(folder, topdown=False):  # deepest first: each folder is empty by then
        for name in dirs:
            with contextlib.suppress(OSError):  # a folder coverplan did not make, left non-empty: kept
                (Path(root) / name).rmdir()
    with contextlib.suppress(OSError):
        folder.rmdir()
    return _contents(folder) if folder.exists() else []


def remove_own(folder: Path) -> None:
    """Remove a folder coverplan wrote: each file its marker lists, then the empty folders; never a link's target.

    Raises
    ------
    OutputRefusedError
        ``folder`` has no marker, holds something the marker does not list, or a listed file changed since
        coverplan wrote it (nothing is removed then).
    """
    own = _own_files(folder)
    present = [p for p in _contents(folder) if p != MARKER]
    if own is None or any(p not in own for p in present):
        msg = f"`{folder}` holds files coverplan did not write; it is not removed"
        raise OutputRefusedError(msg)
    changed = changed_files(folder)
    if changed:
        msg = f"`{folder}` holds files changed since coverplan wrote them ({', '.join(changed[:5])}); it is not removed"
        raise OutputRefusedError(msg)
    _remove_listed(folder)


def _clear_stale(path: Path) -> None:
    """Remove what temporary folders of earlier runs to ``path`` that were killed hold of coverplan's (under the
    lock: none is running): the files their marker lists; a folder holding anything else is left, with a warning."""
    for stale in path.parent.glob(f".{path.name}.partial-*"):
        if stale.is_dir() and not stale.is_symlink() and (stale / MARKER).is_file():
            left = _remove_listed(stale)
            if left:
                logger.warning(
                    "left %s (an interrupted run's temporary folder): it holds %d file(s) its marker does not list "
                    "(%s); remove it yourself when nothing there is yours",
                    stale,
                    len(left),
                    ", ".join(left[:5]),
                )
            else:
                logger.info("removed %s, left by an interrupted run", stale)


def _disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (or an error it came from) says the disk or the quota is full."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(e)
        if "No space left on device" in text or "database or disk is full" in text or "Disk quota exceeded" in text:
            return True
        e = e.__cause__ or e.__context__
    return False


def _umask() -> int:
    """The process's umask (read from /proc where it can be, without changing it)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
            (tmp / MARKER).write_text(json.dumps({"written_by": "coverplan", "files": []}), encoding="utf-8")
        except OSError as exc:
            msg = f"cannot write the output folder `{path}`: {exc.strerror or exc}"
            raise OutputRefusedError(msg) from exc
        try:
            yield tmp
            write_marker(tmp)
            check_output_dir(path, overwrite=overwrite, protected=protected)  # again, under the lock
            try:
                _replace(tmp, path)
            except OSError as exc:
                msg = f"cannot put the output folder `{path}` in place: {exc.strerror or exc}; nothing written"
                raise OutputRefusedError(msg) from exc
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, Exception) and _disk_full(exc):
                name = getattr(exc, "filename", None) or path
                msg = f"no space left on device writing {name}; nothing written (`{path}` is as it was)"
                raise OutputError(msg) from exc
            raise


def _replace(tmp: Path, path: Path) -> None:
    """Rename ``tmp`` to ``path``; an existing coverplan folder there is renamed aside first, then removed."""
    mode = 0o777 & ~_umask()  # mkdtemp made it 0700: give the folder the mode a plain mkdir would
    if not path.exists():
        os.rename(tmp, path)
        os.chmod(path, mode)
        return
    if not any(path.iterdir()):
        path.rmdir()
        os.rename(tmp, path)
        os.chmod(path, mode)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
    old.rmdir()
    os.rename(path, old)
    os.rename(tmp, path)
    os.chmod(path, mode)
    try:
        remove_own(old)
    except (OutputRefusedError, OSError) as exc:  # changed between the check and the rename, or not removable: kept
        logger.warning("the earlier output was kept as %s: %s", old, exc)
