"""Scores into nbgrader's gradebook, through nbgrader's own API (SQLite or PostgreSQL).

Only ``auto_score`` is written; a grader's manual score in formgrader is never overwritten, and a
cell that has one is flagged for review when its automatic score changes, as nbgrader does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


@dataclass
class SubmissionRecord:
    """One graded submission as nbgrader's gradebook holds it (what formgrader and nbgrader's
    export show): the score before and after the late penalty, and how late it was."""

    student: str
    assignment: str
    raw_score: float  # nbgrader's score: automatic, or manual where a grader gave one
    late_penalty: float  # SubmittedAssignment.late_submission_penalty (0 when none)
    max_score: float
    timestamp: datetime | None  # the submission time (timestamp.txt), UTC
    duedate: datetime | None  # the assignment's due date, with the student's extension, UTC
    seconds_late: float

    @property
    def score(self) -> float:
        """The score after the penalty, as nbgrader's export computes it."""
        return max(0.0, self.raw_score - self.late_penalty)


def submission_records(db_url: str) -> list[SubmissionRecord]:
    records = []
    with open_gradebook(db_url) as gb:
        for assignment in gb.assignments:
            for s in gb.assignment_submissions(assignment.name):
                records.append(
                    SubmissionRecord(s.student.id, assignment.name, float(s.score), float(s.late_submission_penalty or 0.0), float(s.max_score), s.timestamp, s.duedate, float(s.total_seconds_late))
                )
    return records


def students(db_url: str) -> dict[str, dict[str, str]]:
    """nbgrader's student table: ``{id: {first_name, last_name, email, lms_user_id}}``."""
    with open_gradebook(db_url) as gb:
        return {s.id: {"first_name": s.first_name or "", "last_name": s.last_name or "", "email": s.email or "", "lms_user_id": s.lms_user_id or ""} for s in gb.students}
