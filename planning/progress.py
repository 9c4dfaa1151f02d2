"""Progress of long stages as log records: library code only logs, the command line shows them.

A stage that works through items (blocks of points, optimiser rounds, budgets of the cost curve) calls
:func:`log_progress`: an ordinary INFO line (``coverage villages: 4,000/20,000``) that also carries
``(task, done, total)`` in the record's :data:`PROGRESS` attribute. :class:`planning.cli.common.Steps` turns those
records into a progress bar on a terminal, or a line per 25 % when the output is piped or logged; without the
command line they are plain log records.

:func:`numba_cache_cold` tells whether a numba kernel (``cache=True``) will be compiled on its first call, so the
command line can say why the first run is slower.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

#: Name of the log-record attribute holding ``(task, done, total)``.
PROGRESS = "coverplan_progress"


def log_progress(logger: logging.Logger, task: str, done: int, total: int) -> None:
    """Log that ``done`` of ``total`` items of ``task`` are finished (INFO, with :data:`PROGRESS` attached)."""
    logger.info("%s: %s/%s", task, f"{done:,}", f"{total:,}", extra={PROGRESS: (task, int(done), int(total))})


def progress_of(record: logging.LogRecord) -> tuple[str, int, int] | None:
    """``(task, done, total)`` of a record logged by :func:`log_progress`, else None."""
    value = getattr(record, PROGRESS, None)
    return value if isinstance(value, tuple) and len(value) == 3 else None


def numba_cache_cold(*kernels: Any) -> bool | None:
    """Whether any of these numba functions (compiled with ``cache=True``) has no compiled version in numba's
    cache yet, i.e. will be compiled on its first call; None when that cannot be told (numba's cache layout is
    not a public interface)."""
    try:
        paths = [Path(k._cache._cache_file._index_path) for k in kernels]
    except AttributeError:
        return None
    return not all(p.exists() for p in paths)
