"""Engines: what runs the grading of a class, on one machine or on many.

``grade_class`` (``autograder.parallel``) gives an engine the class as plain data and receives one
outcome per submission; it does not care which engine ran it.

- :class:`~autograder.engines.local.LocalEngine`, the default: ``cnncourse grade --jobs N``, a
  pool of N processes on this machine.
- :class:`~autograder.engines.dask.DaskEngine`: ``cnncourse grade --scheduler tcp://HOST:8786``,
  the workers of a Dask cluster on several machines; ``--scheduler local:N`` starts a
  ``LocalCluster`` of N worker processes here.

Both grade each notebook with :func:`autograder.engines.runner.grade_submission`, in the sandbox.
"""

from __future__ import annotations

import re

from .base import AssignmentFiles, Engine, EngineLost, EngineUnavailable, Submission

__all__ = ["AssignmentFiles", "Engine", "EngineLost", "EngineUnavailable", "Submission", "engine_for", "parse_scheduler"]

_ADDRESS = re.compile(r"^(tcp|tls)://[^\s:/]+(:\d+)?$|^(tcp|tls)://\[[0-9a-fA-F:]+\](:\d+)?$")
_LOCAL = re.compile(r"^local:(\d+)$")


def parse_scheduler(text: str) -> str:
    """Check a ``--scheduler`` value: ``tcp://HOST:PORT``, ``tls://HOST:PORT`` or ``local:N``."""
    text = text.strip()
    local = _LOCAL.match(text)
    if local and int(local.group(1)) >= 1:
        return text
    if _ADDRESS.match(text):
        return text
    raise ValueError(f"{text!r} is not a Dask scheduler: expected its address, tcp://HOST:PORT or tls://HOST:PORT (e.g. tcp://10.0.0.5:8786), or local:N with N >= 1 worker processes")


def engine_for(scheduler: str | None, *, jobs: int, log_dir: str) -> Engine:
    """The engine for ``--scheduler`` (None: the local pool of ``jobs`` processes)."""
    if not scheduler:
        from .local import LocalEngine

        return LocalEngine(jobs, log_dir=log_dir)
    scheduler = parse_scheduler(scheduler)
    try:
        from .dask import DaskEngine
    except ImportError as exc:
        raise EngineUnavailable(f"--scheduler needs dask.distributed, which cannot be imported here ({exc}); install the course's pinned environment") from exc
    local = _LOCAL.match(scheduler)
    if local:
        return DaskEngine(local_workers=int(local.group(1)))
    return DaskEngine(scheduler)
