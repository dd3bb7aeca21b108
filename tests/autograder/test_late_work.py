"""Due dates and late penalties through nbgrader's own mechanism: the due date in the gradebook,
the submission's timestamp.txt, the late-submission plugin set in the course's
nbgrader_config.py, the penalty computed and stored by nbgrader's AssignLatePenalties; nbgrader's
own export (what `nbgrader export` writes) shows the same scores as `cnncourse export`."""

from __future__ import annotations

import csv
from datetime import datetime

import nbformat
import pytest
from fixture_course import ASSIGNMENT, CORRECT, WRONG, build_source, submission

from autograder import gradebook
from autograder.cli import main as cnncourse
from autograder.course import Course
from autograder.grading import CellOutcome, NotebookOutcome
from autograder.late import LatePenalties, LateWorkError, PerPeriodPenalty, parse_duedate

POINTS = {"test_cross_correlate1d": 3.0, "test_convolve2d": 3.0, "test_answer_size": 1.0}
DUE = "2026-11-20 17:00 Europe/Berlin"  # 16:00 UTC
PER_DAY = (
    "c.AssignLatePenalties.plugin_class = 'autograder.late.PerPeriodPenalty'\n"
    "c.PerPeriodPenalty.percent_per_period = 10\n"
    "c.PerPeriodPenalty.grace_minutes = 10\n"
)
# student: (submission time in timestamp.txt or None, earned points per test cell, expected penalty
# with 10% per started day after 10 minutes of grace)
CLASS = {
    "alice": ("2026-11-20 15:59:59 UTC", (3, 3, 1), 0.0),  # on time
    "bob": ("2026-11-20 16:09:00 UTC", (3, 3, 1), 0.0),  # 9 minutes late: within the grace
    "carol": ("2026-11-21 22:00:00 UTC", (3, 3, 1), 1.4),  # 30 h late: 2 started days, 20% of 7
    "dave": (None, (3, 0, 1), 0.0),  # no timestamp.txt: never late, as in nbgrader
    "erin": ("2026-11-22 19:00:00 Europe/Berlin", (3, 0, 1), 1.2),  # 50 h late: 3 started days, 30% of 4
}


@pytest.fixture
def course(tmp_path):
    source = build_source(tmp_path / "notebooks" / f"{ASSIGNMENT}.ipynb")
    course = Course(tmp_path / "course")
    assert cnncourse(["release", "--course", str(course.root), "--no-manifest", str(source)]) == 0
    return course


def _record(course: Course, student: str, stamp: str | None, earned) -> None:
    """What `cnncourse grade` does with one graded notebook: scores into the gradebook, then the
    late penalty (the grading itself is tested in test_grade_class.py)."""
    folder = course.submitted / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    if stamp:
        (folder / "timestamp.txt").write_text(stamp)
    cells = [CellOutcome(g, p, float(e)) for (g, p), e in zip(POINTS.items(), earned)]
    gradebook.record(course.db_url, [NotebookOutcome(ASSIGNMENT, cells, [], student=student, assignment=ASSIGNMENT)], {(student, ASSIGNMENT): course.submitted_timestamp(student, ASSIGNMENT)})
    LatePenalties(course).apply(student, ASSIGNMENT)


def _nbgrader_export(course: Course, tmp_path) -> dict[str, dict]:
    """nbgrader's own CSV export (`nbgrader export`) of the same gradebook."""
    from nbgrader.plugins import CsvExportPlugin

    out = tmp_path / "nbgrader-export.csv"
    with gradebook.open_gradebook(course.db_url) as gb:
        CsvExportPlugin(to=str(out)).export(gb)
    return {row["student_id"]: row for row in csv.DictReader(open(out))}


def _grades(path) -> dict[str, str]:
    rows = list(csv.reader(open(path, encoding="utf-8")))
    column = rows[0].index(ASSIGNMENT)
    return {row[0]: row[column] for row in rows[1:] if row[0] != "(max)"}


def test_penalties_follow_the_due_date_and_the_configured_plugin(course, tmp_path, capsys):
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write(PER_DAY)
    assert cnncourse(["duedate", "--course", str(course.root), ASSIGNMENT, DUE]) == 0
    assert "due 2026-11-20 16:00:00 UTC" in capsys.readouterr().out
    for student, (stamp, earned, _) in CLASS.items():
        _record(course, student, stamp, earned)

    with gradebook.open_gradebook(course.db_url) as gb:
        stored = {s.student.id: s.late_submission_penalty for s in gb.assignment_submissions(ASSIGNMENT)}
    assert stored == pytest.approx({s: penalty for s, (_, _, penalty) in CLASS.items()})

    # formgrader's and nbgrader's numbers are the export's numbers
    theirs = _nbgrader_export(course, tmp_path)
    capsys.readouterr()
    assert cnncourse(["export", "--course", str(course.root)]) == 0
    out = capsys.readouterr().out
    assert "2 late submission(s) lost 2.6 point(s)" in out
    ours = _grades(course.reports / "grades.csv")
    for student, (_, earned, penalty) in CLASS.items():
        assert float(theirs[student]["raw_score"]) == sum(earned)
        assert float(theirs[student]["late_submission_penalty"]) == pytest.approx(penalty)
        assert float(ours[student]) == pytest.approx(float(theirs[student]["score"])) == pytest.approx(sum(earned) - penalty)
    details = {r["student_id"]: r for r in csv.DictReader(open(course.reports / "submissions.csv", encoding="utf-8"))}
    assert details["carol"]["duedate"] == "2026-11-20 16:00:00 UTC" and details["carol"]["timestamp"] == "2026-11-21 22:00:00 UTC"
    assert details["carol"]["hours_late"] == "30.00" and details["carol"]["raw_score"] == "7" and details["carol"]["late_penalty"] == "1.4" and details["carol"]["score"] == "5.6"
    assert details["erin"]["hours_late"] == "50.00" and details["dave"]["timestamp"] == "" and details["dave"]["hours_late"] == "0.00"

    # a later due date: nobody is late any more, without regrading
    assert cnncourse(["duedate", "--course", str(course.root), ASSIGNMENT, "2026-12-01 00:00 UTC"]) == 0
    assert "5 graded submission(s), 0 late, penalties recomputed" in capsys.readouterr().out
    assert all(float(row["late_submission_penalty"]) == 0 for row in _nbgrader_export(course, tmp_path).values())

    # nbgrader's built-in plugin, 'zero': a late submission scores 0
    config = (course.root / "nbgrader_config.py").read_text().replace(PER_DAY, "c.LateSubmissionPlugin.penalty_method = 'zero'\n")
    (course.root / "nbgrader_config.py").write_text(config)
    assert cnncourse(["duedate", "--course", str(course.root), ASSIGNMENT, DUE]) == 0
    out = capsys.readouterr().out
    assert "5 graded submission(s), 3 late" in out and "penalty_method 'zero'" in out  # bob's 9 minutes count now
    theirs = _nbgrader_export(course, tmp_path)
    assert {s: float(r["score"]) for s, r in theirs.items()} == {"alice": 7, "bob": 0, "carol": 0, "dave": 4, "erin": 0}
    assert cnncourse(["export", "--course", str(course.root)]) == 0
    assert {s: float(v) for s, v in _grades(course.reports / "grades.csv").items()} == {s: float(r["score"]) for s, r in theirs.items()}

    # no due date: nothing is late
    assert cnncourse(["duedate", "--course", str(course.root), ASSIGNMENT, "--clear"]) == 0
    assert "due none; 5 graded submission(s), 0 late" in capsys.readouterr().out


def test_duedate_lists_and_rejects_bad_input(course, capsys):
    capsys.readouterr()
    assert cnncourse(["duedate", "--course", str(course.root)]) == 0
    out = capsys.readouterr().out
    assert f"{ASSIGNMENT}: due none" in out and "penalty_method 'none': late work is not penalised" in out
    assert cnncourse(["duedate", "--course", str(course.root), ASSIGNMENT, "2026-12-10 17:00"]) == 2
    assert "needs a date, a time and a time zone" in capsys.readouterr().err
    assert cnncourse(["duedate", "--course", str(course.root), ASSIGNMENT, "2026-12-10 17:00 Atlantis/Capital"]) == 2
    assert "unknown time zone 'Atlantis/Capital'" in capsys.readouterr().err
    assert cnncourse(["duedate", "--course", str(course.root), "no_such_assignment", DUE]) == 2
    assert "the gradebook has no assignment 'no_such_assignment'" in capsys.readouterr().err
    assert cnncourse(["duedate", "--course", str(course.root), ASSIGNMENT]) == 2
    assert "or --clear" in capsys.readouterr().err


def test_bad_late_settings_stop_grading_and_say_why(course, capsys):
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write("c.AssignLatePenalties.plugin_class = 'autograder.late.NoSuchPlugin'\n")
    path = course.submitted / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(submission(course.release_notebook(ASSIGNMENT), CORRECT), str(path))
    capsys.readouterr()
    assert cnncourse(["grade", "--course", str(course.root), "--jobs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "nothing was graded" in err and "NoSuchPlugin" in err and "nbgrader_config.py" in err
    (course.root / "nbgrader_config.py").write_text((course.root / "nbgrader_config.py").read_text().replace("NoSuchPlugin", "PerPeriodPenalty") + "c.PerPeriodPenalty.period_hours = 0\n")
    with pytest.raises(LateWorkError, match="period_hours must be more than 0"):
        LatePenalties(course)


@pytest.mark.parametrize(
    "settings, seconds_late, score, expected",
    [
        (dict(percent_per_period=10), 1, 8.0, 0.8),  # one second late starts a day
        (dict(percent_per_period=10), 86400, 8.0, 0.8),
        (dict(percent_per_period=10), 86401, 8.0, 1.6),
        (dict(points_per_period=0.5, period_hours=1), 3 * 3600 + 1, 8.0, 2.0),
        (dict(points_per_period=1, grace_minutes=30), 29 * 60, 8.0, None),
        (dict(percent_per_period=10, zero_after_periods=2), 3 * 86400, 8.0, 8.0),
    ],
)
def test_per_period_penalty(settings, seconds_late, score, expected):
    plugin = PerPeriodPenalty(**settings)
    assert plugin.late_submission_penalty("s", score, seconds_late) == (pytest.approx(expected) if expected is not None else None)


def test_parse_duedate_keeps_the_time_zone():
    assert parse_duedate("2026-12-10 17:00 Europe/Berlin") == datetime(2026, 12, 10, 16, 0)
    assert parse_duedate("2026-07-10 17:00 Europe/Berlin") == datetime(2026, 7, 10, 15, 0)  # summer time
    assert parse_duedate("2026-12-10T17:00+01:00") == parse_duedate("2026-12-10 16:00 UTC")


@pytest.mark.slow
def test_grade_applies_the_penalty(course, capsys):
    """`cnncourse grade` itself: a submission graded after its due date loses the configured share,
    and its feedback page says so."""
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write(PER_DAY)
    assert cnncourse(["duedate", "--course", str(course.root), ASSIGNMENT, DUE]) == 0
    for student, stamp, answers in [("alice", "2026-11-20 15:00:00 UTC", CORRECT), ("carol", "2026-11-21 22:00:00 UTC", {**WRONG, "cross_correlate1d": CORRECT["cross_correlate1d"]})]:
        path = course.submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(submission(course.release_notebook(ASSIGNMENT), answers), str(path))
        (path.parent / "timestamp.txt").write_text(stamp)
    assert cnncourse(["grade", "--course", str(course.root), "--jobs", "2", "--no-bwrap", "--quiet", "--cell-time-limit", "20", "--notebook-time-limit", "120"]) == 0
    with gradebook.open_gradebook(course.db_url) as gb:
        graded = {s.student.id: (s.score, s.late_submission_penalty) for s in gb.assignment_submissions(ASSIGNMENT)}
    assert graded == {"alice": (7.0, 0.0), "carol": (3.0, pytest.approx(0.6))}
    api = course.nbgrader_api()
    assert api.get_submission(ASSIGNMENT, "carol")["timestamp"].startswith("2026-11-21T22:00:00")
    assert cnncourse(["feedback", "--course", str(course.root)]) == 0
    carol = (course.feedback / "carol" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Handed in 2026-11-21 22:00:00 UTC, 30.0 hours after the due date (2026-11-20 16:00:00 UTC)" in carol
    assert "the late penalty takes off 0.6 of your 3 points, so your score is 2.4 / 7" in carol
    assert "Handed in" not in (course.feedback / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
