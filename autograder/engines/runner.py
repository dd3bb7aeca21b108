"""Grade one submission in a grading process: a local job process or a Dask worker.

Each grading thread keeps one zygote (the sandbox's fork server, ``autograder.sandbox``) for its
whole life, so a notebook costs the student's own code, not an interpreter start; :func:`close_all`
ends them (the local pool calls it when a job process exits, Dask's worker plugin on teardown).
Plans (what the source notebook says to run and test) are built once per assignment and process.

Everything a grading process reads comes with the task: the submission's and the instructor's
notebooks as bytes, and the settings. What it needs of its own machine is the environment (the
same code, checked by :func:`grader_fingerprint`), bubblewrap when there is one, and the data sets
(``$CNNLIB_DATA``, ``$CNNLIB_CACHE``, ``~/.cache/cnnlib``), which students' code may read.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import tempfile
import threading
from importlib import metadata
from pathlib import Path

from cnnlib.variants import Variant

from ..grading import CellOutcome, NotebookOutcome, grade_notebook
from ..notebook import NotebookPlan, plan_notebook, read_notebook
from ..sandbox.client import Zygote
from ..sandbox.policy import Policy
from .base import AssignmentFiles, Submission

# Libraries whose version can change an expected value or a student's result.
FINGERPRINT_LIBRARIES = ("numpy", "scipy", "torch", "scikit-learn", "scikit-image", "nbformat")


class GraderMismatch(RuntimeError):
    """This process's grading code differs from the grader's: its scores could differ too."""


@functools.lru_cache(maxsize=1)
def grader_fingerprint() -> str:
    """A digest of what decides points here: the ``autograder`` and ``cnnlib`` sources, Python's
    version and the versions of the libraries the checks compute with. Every grading process must
    have the grader's fingerprint (a worker machine set up from another commit would grade with
    other checks)."""
    import cnnlib

    import autograder

    digest = hashlib.sha256(platform.python_version().encode())
    for package in (autograder, cnnlib):
        root = Path(package.__file__).resolve().parent
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes())
    for name in FINGERPRINT_LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name}=={version}".encode())
    return digest.hexdigest()


def data_dirs() -> list[str]:
    """This machine's data folders, which the students' code may read (the checks' data sets)."""
    dirs = (os.environ.get("CNNLIB_DATA"), os.environ.get("CNNLIB_CACHE"), str(Path.home() / ".cache" / "cnnlib"))
    return [d for d in dirs if d]


# -- the state of one grading process ----------------------------------------------------------------

_LOCK = threading.Lock()
_ZYGOTES: dict[int, tuple[tuple, Zygote]] = {}  # thread id -> (its configuration, its zygote)
_PLANS: dict[str, NotebookPlan] = {}  # AssignmentFiles.digest -> plan


def _zygote(hidden_paths: tuple[str, ...], use_bwrap: bool | None, log_dir: str | None) -> Zygote:
    """This thread's zygote; a new one when the last one died (a submission took it down) or the
    settings changed (a long-lived Dask worker serves one ``grade`` after another)."""
    config = (hidden_paths, use_bwrap)
    thread = threading.get_ident()
    with _LOCK:
        entry = _ZYGOTES.pop(thread, None)
    if entry is not None and (entry[0] != config or not entry[1].alive()):
        entry[1].close()
        entry = None
    if entry is None:
        log_dir = log_dir or os.path.join(tempfile.gettempdir(), "cnncourse-logs")
        os.makedirs(log_dir, exist_ok=True)
        log = os.path.join(log_dir, f"worker-{os.getpid()}-{thread}.log")
        entry = (config, Zygote(hidden_paths=hidden_paths, use_bwrap=use_bwrap, log_path=log))
    with _LOCK:
        _ZYGOTES[thread] = entry
    return entry[1]


def close_all() -> None:
    """End this process's zygotes (and any student process they still have)."""
    with _LOCK:
        entries = list(_ZYGOTES.values())
        _ZYGOTES.clear()
    for _, zygote in entries:
        zygote.close()


def _plan(files: AssignmentFiles) -> NotebookPlan:
    digest = files.digest
    if digest not in _PLANS:
        source = read_notebook(files.source, f"source/{files.assignment}/{files.assignment}.ipynb")
        release = read_notebook(files.release, f"release/{files.assignment}/{files.assignment}.ipynb") if files.release is not None else None
        _PLANS[digest] = plan_notebook(files.assignment, source, release)
    return _PLANS[digest]


def grade_submission(submission: Submission, files: AssignmentFiles, settings: dict, *, hidden_paths: tuple[str, ...] = (), log_dir: str | None = None) -> str:
    """Grade one submission here, sandboxed; returns the outcome as JSON text.

    ``settings``: the grader's ``course_root`` and ``fingerprint``, ``bwrap`` (None: when
    available), the time limits and ``memory_limit_mb``. The course folder and ``hidden_paths``
    (a Dask worker's own folder, where task data may be spilled) are hidden from the student's
    code and refused by its audit hook, on whatever machine this runs.
    """
    if settings.get("fingerprint") and settings["fingerprint"] != grader_fingerprint():
        raise GraderMismatch(
            f"the grading code on this machine ({platform.node()}, pid {os.getpid()}) differs from the grader's "
            "(the autograder or cnnlib sources, Python, or the version of numpy, scipy, torch, scikit-learn, scikit-image or nbformat): "
            "set up every worker from the same commit with the same pinned environment"
        )
    plan = _plan(files)
    try:
        cells = read_notebook(submission.notebook, submission.name)
    except ValueError as exc:
        outcome = NotebookOutcome(submission.assignment, [CellOutcome(c.grade_id, c.points, 0.0, error="notebook unreadable") for c in plan.tests], [str(exc)])
    else:
        hidden = tuple(dict.fromkeys(p for p in (settings.get("course_root"), *hidden_paths) if p))
        zygote = _zygote(hidden, settings.get("bwrap"), log_dir)
        policy = Policy(data_dirs=tuple(data_dirs()), cell_time_limit=settings["cell_time_limit"], memory_limit_mb=settings["memory_limit_mb"])
        outcome = grade_notebook(
            zygote,
            plan,
            cells,
            base_policy=policy,
            denied_roots=hidden,
            time_limit=settings["notebook_time_limit"],
            call_time_limit=settings["call_time_limit"],
            variant=Variant.from_json(submission.variant) if submission.variant else None,
        )
    outcome.student, outcome.assignment = submission.student, submission.assignment
    return json.dumps(outcome.to_json())
