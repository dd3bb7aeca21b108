"""Grade a class: many submissions at once, on an engine, resumable.

The engine (``autograder.engines``) grades: the local pool of ``--jobs`` processes by default, or
the workers of a Dask cluster (``--scheduler``). Either way each grading process keeps its own
zygote (fork server), so most of the cost of a notebook is the student's own code, and results
come back as plain data to this process, which alone writes them: one by one to
``.cnncourse/results/<assignment>/<student>.json`` with a key made of the submission's bytes, the
source notebook's bytes and the grader's version, so a re-run grades only what changed and an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from .course import Course
from .engines import AssignmentFiles, Engine, EngineLost, Submission, engine_for
from .engines.runner import grader_fingerprint
from .grading import NotebookOutcome

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


# -- in the instructor's process ------------------------------------------------------------------


def _assignment_files(course: Course, assignment: str) -> AssignmentFiles:
    release = course.release_notebook(assignment)
    return AssignmentFiles(assignment, course.source_notebook(assignment).read_bytes(), release.read_bytes() if release.is_file() else None)


def _failed(task: Task, exc: BaseException) -> NotebookOutcome:
    """The grader itself failed on this submission: ``on_result`` says so and writes nothing, so
    the next run grades it again."""
    return NotebookOutcome(task.assignment, [], [f"the grader failed on this notebook: {type(exc).__name__}: {exc}"], student=task.student, assignment=task.assignment)


def grade_class(course: Course, tasks: list[Task], *, jobs: int = 1, settings: dict, on_result, progress: bool = True, engine: Engine | None = None) -> list[NotebookOutcome]:
    """Grade ``tasks`` on ``engine`` (default: a local pool of ``jobs`` processes);
    ``on_result(task, outcome)`` is called here, once per task, as each finishes.

    ``settings``: ``bwrap`` (None: when available), ``cell_time_limit``, ``call_time_limit``,
    ``notebook_time_limit`` and ``memory_limit_mb``. Raises ``EngineUnavailable`` before grading
    anything when the engine cannot start, ``EngineLost`` when it stops in the middle of a run.
    """
    outcomes = []
    if not tasks:
        return outcomes
    from tqdm.auto import tqdm

    engine = engine or engine_for(None, jobs=jobs, log_dir=str(course.state / "logs"))
    by_submission = {(t.student, t.assignment): t for t in tasks}
    files = {a: _assignment_files(course, a) for a in sorted({t.assignment for t in tasks})}
    settings = dict(settings, course_root=str(course.root), fingerprint=grader_fingerprint())
    submissions = (Submission(t.student, t.assignment, t.key, Path(t.path).read_bytes(), t.variant) for t in tasks)  # read as sent
    with engine:
        bar = tqdm(total=len(tasks), desc="grading", unit="nb", disable=not progress, smoothing=0.1)
        start = time.monotonic()
        try:
            for submission, result in engine.run(submissions, files, settings):
                task = by_submission[(submission.student, submission.assignment)]
                try:
                    outcome = _failed(task, result) if isinstance(result, BaseException) else NotebookOutcome.from_json(json.loads(result))
                except Exception as exc:  # an outcome that is not what a grading process writes
                    outcome = _failed(task, exc)
                on_result(task, outcome)
                outcomes.append(outcome)
                bar.set_postfix_str(f"{task.student}/{task.assignment} {outcome.score:g}/{outcome.max_score:g}")
                bar.update(1)
        except (KeyboardInterrupt, EngineLost):
            bar.close()
            print(f"interrupted after {len(outcomes)} of {len(tasks)} notebooks; their results are saved: run `cnncourse grade` again to grade the rest")
            raise
        bar.close()
        elapsed = time.monotonic() - start
        print(f"graded {len(tasks)} notebooks in {elapsed:.1f} s ({elapsed / len(tasks):.2f} s per notebook, {engine.describe()})")
    return outcomes
