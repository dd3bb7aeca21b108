"""Scores into nbgrader's gradebook, through nbgrader's own API (SQLite or PostgreSQL).

Only ``auto_score`` is written; a grader's manual score in formgrader is never overwritten, and a
cell that has one is flagged for review when its automatic score changes, as nbgrader does.
"""

from __future__ import annotations

from .course import _ensure_alembic_on_path
from .grading import NotebookOutcome


def open_gradebook(db_url: str):
    from nbgrader.api import Gradebook

    _ensure_alembic_on_path()
    return Gradebook(db_url)


def record(db_url: str, outcomes: list[NotebookOutcome], timestamps: dict | None = None) -> None:
    """Write every outcome's per-cell automatic scores (one transaction per notebook).

    ``timestamps`` maps ``(student, assignment)`` to the submission's time as nbgrader records it
    (``submitted/<student>/<assignment>/timestamp.txt``, None when absent): formgrader counts a
    submission as autograded only when the gradebook holds that same time.
    """
    timestamps = timestamps or {}
    import warnings

    from nbgrader.api import MissingEntry

    with warnings.catch_warnings(), open_gradebook(db_url) as gb:
        warnings.simplefilter("ignore")  # nbgrader's add_submission trips SQLAlchemy's autoflush warnings
        for outcome in outcomes:
            gb.update_or_create_student(outcome.student)
            timestamp = timestamps.get((outcome.student, outcome.assignment))
            try:
                submission = gb.find_submission(outcome.assignment, outcome.student)
            except MissingEntry:
                submission = gb.add_submission(outcome.assignment, outcome.student)
            submission.timestamp = timestamp
            for cell in outcome.cells:
                try:
                    grade = gb.find_grade(cell.grade_id, outcome.notebook, outcome.assignment, outcome.student)
                except MissingEntry:
                    continue  # a test cell the gradebook does not know: re-run `cnncourse release`
                changed = grade.auto_score != cell.earned
                grade.auto_score = cell.earned
                grade.needs_manual_grade = bool(grade.manual_score is not None and changed)
            gb.db.commit()


def scores(db_url: str) -> dict[str, dict[str, float]]:
    """``{student: {assignment: score}}`` as nbgrader computes it (manual scores take precedence)."""
    table: dict[str, dict[str, float]] = {}
    with open_gradebook(db_url) as gb:
        for assignment in gb.assignments:
            for submission in gb.assignment_submissions(assignment.name):
                table.setdefault(submission.student.id, {})[assignment.name] = float(submission.score)
    return table


def max_scores(db_url: str) -> dict[str, float]:
    with open_gradebook(db_url) as gb:
        return {a.name: float(a.max_score) for a in gb.assignments}
