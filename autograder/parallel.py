"""Grade a class: many submissions in parallel worker processes, resumable.

Each job slot is a process with its own zygote (fork server), so most of the cost of a notebook is
the student's own code. Results are written one by one to ``.cnncourse/results/<assignment>/
<student>.json`` with a key made of the submission's bytes, the source notebook's bytes and the
grader's version: a re-run grades only what changed, and an interrupted run resumes where it
stopped.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from cnnlib.variants import Variant

from .course import Course
from .grading import CellOutcome, NotebookOutcome, grade_notebook
from .notebook import load_notebook, plan_notebook
from .sandbox.policy import Policy

GRADER_VERSION = "1"


@dataclass
class Task:
    student: str
    assignment: str
    path: Path
    key: str
    variant: dict | None = None  # whose numbers the varied questions have (autograder.variants.submission_variants)


def submission_key(path: Path, source: Path) -> str:
    digest = hashlib.sha256()
    digest.update(GRADER_VERSION.encode())
    digest.update(Path(source).read_bytes())
    digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def result_path(course: Course, student: str, assignment: str) -> str:
    return f"results/{assignment}/{student}.json"


def load_result(course: Course, student: str, assignment: str) -> tuple[str | None, NotebookOutcome | None]:
    data = course.read_json(result_path(course, student, assignment))
    if not data:
        return None, None
    try:
        return data["key"], NotebookOutcome.from_json(data["outcome"])
    except (KeyError, TypeError):
        return None, None


# -- in each job process -------------------------------------------------------------------------

_STATE: dict = {}


def _init_job(course_root: str, db_url: str, settings: dict) -> None:
    from multiprocessing import util

    from .sandbox.client import Zygote

    course = Course(Path(course_root), db_url)
    log = course.state / "logs" / f"worker-{os.getpid()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    zygote = Zygote(hidden_paths=(str(course.root),), use_bwrap=settings.get("bwrap"), log_path=str(log))
    _STATE.update(course=course, zygote=zygote, plans={}, settings=settings)
    util.Finalize(None, zygote.close, exitpriority=10)


def _plan(assignment: str):
    plans = _STATE["plans"]
    if assignment not in plans:
        course: Course = _STATE["course"]
        source = load_notebook(course.source_notebook(assignment))
        release_path = course.release_notebook(assignment)
        release = load_notebook(release_path) if release_path.is_file() else None
        plans[assignment] = plan_notebook(assignment, source, release)
    return plans[assignment]


def grade_task(task: Task) -> dict:
    """Grade one submission in this job process; returns the outcome as JSON-able data."""
    from .sandbox.client import Zygote

    settings = _STATE["settings"]
    plan = _plan(task.assignment)
    try:
        cells = load_notebook(task.path)
    except ValueError as exc:
        outcome = NotebookOutcome(task.assignment, [CellOutcome(c.grade_id, c.points, 0.0, error="notebook unreadable") for c in plan.tests], [str(exc)])
    else:
        if not _STATE["zygote"].alive():  # a submission took the fork server down: start another
            _STATE["zygote"] = Zygote(hidden_paths=(str(_STATE["course"].root),), use_bwrap=settings.get("bwrap"))
        policy = Policy(data_dirs=tuple(settings.get("data_dirs", ())), cell_time_limit=settings["cell_time_limit"], memory_limit_mb=settings["memory_limit_mb"])
        outcome = grade_notebook(
            _STATE["zygote"],
            plan,
            cells,
            base_policy=policy,
            denied_roots=(str(_STATE["course"].root),),
            time_limit=settings["notebook_time_limit"],
            call_time_limit=settings["call_time_limit"],
            variant=Variant.from_json(task.variant) if task.variant else None,
        )
    outcome.student, outcome.assignment = task.student, task.assignment
    return outcome.to_json()


# -- in the instructor's process ------------------------------------------------------------------


def grade_class(course: Course, tasks: list[Task], *, jobs: int, settings: dict, on_result, progress: bool = True) -> list[NotebookOutcome]:
    """Grade ``tasks`` on ``jobs`` processes; ``on_result(task, outcome)`` is called as each finishes."""
    outcomes = []
    if not tasks:
        return outcomes
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc="grading", unit="nb", disable=not progress, smoothing=0.1)
    context = multiprocessing.get_context("spawn")
    start = time.monotonic()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_job, initargs=(str(course.root), course.db_url, settings)) as pool:
        futures = {pool.submit(grade_task, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                outcome = NotebookOutcome.from_json(future.result())
            except Exception as exc:  # the grader itself failed on this submission: say so, go on
                outcome = NotebookOutcome(task.assignment, [], [f"the grader failed on this notebook: {type(exc).__name__}: {exc}"], student=task.student, assignment=task.assignment)
            on_result(task, outcome)
            outcomes.append(outcome)
            bar.set_postfix_str(f"{task.student}/{task.assignment} {outcome.score:g}/{outcome.max_score:g}")
            bar.update(1)
    bar.close()
    elapsed = time.monotonic() - start
    print(f"graded {len(tasks)} notebooks in {elapsed:.1f} s ({elapsed / len(tasks):.2f} s per notebook, {jobs} jobs)")
    return outcomes
