"""Due dates and late penalties, stored and computed the way nbgrader does it.

- The due date of an assignment is nbgrader's ``Assignment.duedate`` in the gradebook (set with
  ``cnncourse duedate``, ``nbgrader db assignment add --duedate``, or formgrader's *Manage
  Assignments*).
- The submission time is ``submitted/<student>/<assignment>/timestamp.txt``, which nbgrader's
  ``collect`` writes; ``cnncourse grade`` stores it in the gradebook. A submission without one is
  never late, as in nbgrader.
- The penalty comes from the late-submission plugin configured in the course's
  ``nbgrader_config.py``, and is computed and stored by nbgrader's own ``AssignLatePenalties``
  preprocessor (``SubmittedNotebook.late_submission_penalty``), exactly as ``nbgrader autograde``
  would: nbgrader's export and formgrader's feedback show the same numbers as ``cnncourse export``.

The plugins: nbgrader's ``LateSubmissionPlugin`` (``penalty_method = 'none'`` or ``'zero'``), or
:class:`PerPeriodPenalty` below, for the usual "10 % off per day late"::

    c.AssignLatePenalties.plugin_class = "autograder.late.PerPeriodPenalty"
    c.PerPeriodPenalty.percent_per_period = 10   # of the notebook's score, per started period
    c.PerPeriodPenalty.period_hours = 24
    c.PerPeriodPenalty.grace_minutes = 15
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float, Integer, TraitError, validate

from .course import Course

__all__ = ["PerPeriodPenalty", "LatePenalties", "LateWorkError", "parse_duedate", "format_utc", "set_duedate", "duedates"]


class LateWorkError(Exception):
    """A due date or a late-penalty setting that cannot be used; the message says what to fix."""


class PerPeriodPenalty(LateSubmissionPlugin):
    """A penalty for every started period (a day, by default) past the due date: a number of
    points, a percentage of the notebook's score, or both; nothing within the grace time; the
    whole score after ``zero_after_periods`` periods (when set). nbgrader keeps the penalty
    between 0 and the score."""

    period_hours = Float(24.0, help="length of one period, in hours").tag(config=True)
    points_per_period = Float(0.0, help="points taken off per started period").tag(config=True)
    percent_per_period = Float(0.0, help="percent of the notebook's score taken off per started period").tag(config=True)
    grace_minutes = Float(0.0, help="minutes after the due date that still count as on time").tag(config=True)
    zero_after_periods = Integer(0, help="after this many started periods the whole score is taken off (0: never)").tag(config=True)

    @validate("period_hours")
    def _positive_period(self, proposal):
        if proposal["value"] <= 0:
            raise TraitError(f"PerPeriodPenalty.period_hours must be more than 0 hours, got {proposal['value']}")
        return proposal["value"]

    @validate("points_per_period", "percent_per_period", "grace_minutes", "zero_after_periods")
    def _not_negative(self, proposal):
        if proposal["value"] < 0:
            raise TraitError(f"PerPeriodPenalty.{proposal['trait'].name} cannot be negative, got {proposal['value']}")
        if proposal["trait"].name == "percent_per_period" and proposal["value"] > 100:
            raise TraitError(f"PerPeriodPenalty.percent_per_period is a percentage (0 to 100), got {proposal['value']}")
        return proposal["value"]

    def periods_late(self, total_seconds_late: float) -> int:
        late = total_seconds_late - self.grace_minutes * 60
        return math.ceil(late / (self.period_hours * 3600)) if late > 0 else 0

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        periods = self.periods_late(total_seconds_late)
        if periods == 0:
            return None
        if self.zero_after_periods and periods > self.zero_after_periods:
            return score
        return periods * (self.points_per_period + score * self.percent_per_period / 100)

    def describe(self) -> str:
        parts = []
        if self.percent_per_period:
            parts.append(f"{self.percent_per_period:g}% of the score")
        if self.points_per_period:
            parts.append(f"{self.points_per_period:g} points")
        rule = " and ".join(parts) or "nothing"
        text = f"{rule} off per started {self.period_hours:g} h late"
        if self.grace_minutes:
            text += f", after {self.grace_minutes:g} min of grace"
        if self.zero_after_periods:
            text += f"; the whole score after {self.zero_after_periods} periods"
        return text


def _describe(plugin) -> str:
    if isinstance(plugin, PerPeriodPenalty):
        return f"PerPeriodPenalty: {plugin.describe()}"
    if type(plugin) is LateSubmissionPlugin:
        return {"none": "nbgrader's LateSubmissionPlugin, penalty_method 'none': late work is not penalised", "zero": "nbgrader's LateSubmissionPlugin, penalty_method 'zero': late work scores 0"}[plugin.penalty_method]
    return f"{type(plugin).__module__}.{type(plugin).__name__}"


# -- the course's settings ----------------------------------------------------------------------------


def course_config(course: Course):
    """The course's ``nbgrader_config.py``, loaded as nbgrader loads it."""
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    path = course.root / "nbgrader_config.py"
    try:
        return PyFileConfigLoader(path.name, path=str(course.root)).load_config()
    except ConfigFileNotFound:
        from traitlets.config import Config

        return Config()
    except Exception as exc:  # a syntax error or a failing statement in the file
        raise LateWorkError(f"{path} could not be read ({type(exc).__name__}: {exc}); fix it, then run the command again") from exc


class LatePenalties:
    """nbgrader's ``AssignLatePenalties`` preprocessor with the course's plugin settings, applied
    to one submission at a time after its scores are in the gradebook."""

    def __init__(self, course: Course):
        from nbgrader.preprocessors import AssignLatePenalties

        self.course = course
        config = course_config(course)
        try:
            self.preprocessor = AssignLatePenalties(config=config)
            self.preprocessor.log = logging.getLogger("cnncourse.late")  # nbgrader warns per late notebook
            self.preprocessor.init_plugin()
        except Exception as exc:  # an unknown plugin class, a bad setting
            raise LateWorkError(f"the late-penalty settings in {course.root / 'nbgrader_config.py'} cannot be used: {exc}") from exc
        self.description = _describe(self.preprocessor.plugin_inst)

    def apply(self, student: str, assignment: str, notebook: str | None = None) -> None:
        """Recompute and store the penalty of one graded submission (nbgrader's own code)."""
        import nbformat
        from nbgrader.api import MissingEntry

        resources = {"nbgrader": {"notebook": notebook or assignment, "assignment": assignment, "student": student, "db_url": self.course.db_url}}
        try:
            self.preprocessor.preprocess(nbformat.v4.new_notebook(), resources)
        except MissingEntry:  # no such submission in the gradebook (its scores were not recorded): nothing to penalise
            pass

    def reassess(self, assignment: str) -> tuple[int, int]:
        """Recompute every graded submission of ``assignment`` (after its due date changed);
        returns (submissions, late ones)."""
        from .gradebook import open_gradebook

        with open_gradebook(self.course.db_url) as gb:
            graded = [(s.student.id, s.total_seconds_late > 0, [nb.name for nb in s.notebooks]) for s in gb.assignment_submissions(assignment)]
        for student, _, notebooks in graded:
            for notebook in notebooks:
                self.apply(student, assignment, notebook)
        return len(graded), sum(late for _, late, _ in graded)


logging.getLogger("cnncourse.late").addHandler(logging.NullHandler())
logging.getLogger("cnncourse.late").propagate = False


# -- due dates ---------------------------------------------------------------------------------------


def parse_duedate(text: str) -> datetime:
    """A due date with its time zone (``"2026-12-10 17:00 Europe/Berlin"``, ``"2026-12-10 16:00
    UTC"``, ``"2026-12-10T17:00:00+01:00"``) as nbgrader stores it: naive, in UTC."""
    import dateutil.parser
    import dateutil.tz
    from nbgrader.utils import parse_utc

    example = 'e.g. "2026-12-10 17:00 Europe/Berlin", "2026-12-10 16:00 UTC" or "2026-12-10T17:00+01:00"'
    parts = text.split()
    if len(parts) == 3:
        zone = parts[2]
        if zone.lstrip("+-").isdigit() or dateutil.tz.gettz(zone) is None:
            raise LateWorkError(f"unknown time zone {zone!r} in the due date {text!r}; give a zone name (an offset goes in the ISO form), {example}")
    else:
        try:
            parsed = dateutil.parser.isoparse(text) if len(parts) == 1 else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise LateWorkError(f"the due date {text!r} needs a date, a time and a time zone, {example}")
    try:
        return parse_utc(text)
    except (ValueError, OverflowError) as exc:
        raise LateWorkError(f"cannot read the due date {text!r} ({exc}); {example}") from exc


def format_utc(moment: datetime | None) -> str:
    return "none" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def set_duedate(course: Course, assignment: str, duedate: datetime | None) -> None:
    """Store an assignment's due date (None: no due date) in nbgrader's gradebook."""
    from nbgrader.api import MissingEntry

    from .gradebook import open_gradebook

    with open_gradebook(course.db_url) as gb:
        try:
            record = gb.find_assignment(assignment)
        except MissingEntry:
            raise LateWorkError(f"the gradebook has no assignment {assignment!r}; run `cnncourse release` first") from None
        record.duedate = duedate
        gb.db.commit()


def lateness_note(record) -> str | None:
    """A sentence for the feedback page about a late submission (a gradebook
    :class:`~autograder.gradebook.SubmissionRecord`), or None when it was on time."""
    if record is None or record.seconds_late <= 0:
        return None
    text = f"Handed in {format_utc(record.timestamp)}, {record.seconds_late / 3600:.1f} hours after the due date ({format_utc(record.duedate)})"
    if record.late_penalty > 0:
        return text + f": the late penalty takes off {record.late_penalty:g} of your {record.raw_score:g} points, so your score is {record.score:g} / {record.max_score:g}."
    return text + "; no points were taken off."


def duedates(course: Course) -> dict[str, datetime | None]:
    from .gradebook import open_gradebook

    with open_gradebook(course.db_url) as gb:
        return {a.name: a.duedate for a in gb.assignments}
