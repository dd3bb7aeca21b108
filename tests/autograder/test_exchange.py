"""``cnncourse`` with nbgrader's exchange, without a hub: release --exchange, collect, grade,
feedback --release, with the students' side played by nbgrader's own fetch, submit and
fetch_feedback (what JupyterLab's Assignments tab calls). Runs as any user; the real thing, with
system users and a browser, is tests/hub.

The submission time that a student's Submit writes must reach the gradebook (late work), the newest
submission must win, each student's feedback must reach that student only, and only for the
submission that was graded.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fixture_course import ASSIGNMENT, CORRECT, WRONG, build_source, submission

from autograder.cli import main as cnncourse
from autograder.course import Course

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Passing unrecognized arguments:DeprecationWarning")]  # nbgrader's "authentictor"

GRADE_ARGS = ["--jobs", "2", "--no-bwrap", "--cell-time-limit", "6", "--call-time-limit", "6", "--notebook-time-limit", "90", "--memory-limit-mb", "1024", "--quiet"]


def student_api(exchange: Path, home: Path, student: str):
    """nbgrader's API as the Assignments tab of ``student`` uses it: assignments in ``home``, the
    student's cache of submissions in ``home/.cache``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    config.Exchange.root = str(exchange)
    config.Exchange.cache = str(home / ".cache")
    config.Exchange.assignment_dir = str(home)
    config.CourseDirectory.course_id = "cnn-course"
    config.CourseDirectory.student_id = student  # nbgrader's own default is the login name
    config.CourseDirectory.root = str(home)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def fetch(exchange: Path, home: Path, student: str) -> Path:
    from nbgrader.exchange import ExchangeFactory

    api = student_api(exchange, home, student)
    app = ExchangeFactory(parent=api).FetchAssignment(coursedir=api.coursedir, authenticator=api.authenticator, parent=api)
    api.coursedir.assignment_id = ASSIGNMENT
    app.start()
    return home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def submit(exchange: Path, home: Path, student: str, answers: dict[str, str]) -> str:
    """Fill the fetched notebook with ``answers`` and submit it; returns the submission's time."""
    import nbformat
    from nbgrader.exchange import ExchangeFactory

    notebook = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nbformat.write(submission(notebook, answers), str(notebook))
    api = student_api(exchange, home, student)
    api.coursedir.assignment_id = ASSIGNMENT
    app = ExchangeFactory(parent=api).Submit(coursedir=api.coursedir, authenticator=api.authenticator, parent=api)
    app.start()
    return app.timestamp


def fetch_feedback(exchange: Path, home: Path, student: str) -> list[Path]:
    api = student_api(exchange, home, student)
    result = api.fetch_feedback(ASSIGNMENT, student)
    assert result["success"], result
    return sorted((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))


@pytest.fixture
def setting(tmp_path):
    source = build_source(tmp_path / "notebooks" / f"{ASSIGNMENT}.ipynb")
    course = Course(tmp_path / "course")
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    return source, course, exchange, tmp_path


def test_release_collect_grade_feedback_through_the_exchange(setting, capsys):
    source, course, exchange, tmp = setting
    options = ["--course", str(course.root), "--exchange-root", str(exchange)]
    assert cnncourse(["release", "--exchange", "--no-manifest", *options, str(source)]) == 0
    assert "published to" in capsys.readouterr().out
    outbound = exchange / "cnn-course" / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert outbound.is_file() and "raise NotImplementedError()" in outbound.read_text()

    homes = {name: tmp / "home" / name for name in ("alice", "bob")}
    for name, home in homes.items():
        home.mkdir(parents=True)
        assert fetch(exchange, home, name).is_file()
    first_alice = submit(exchange, homes["alice"], "alice", WRONG)
    time.sleep(1.1)  # nbgrader's timestamps have microseconds; a second apart keeps the order plain
    stamps = {"alice": submit(exchange, homes["alice"], "alice", CORRECT), "bob": submit(exchange, homes["bob"], "bob", WRONG)}
    assert stamps["alice"] > first_alice

    assert cnncourse(["collect", *options]) == 0
    out = capsys.readouterr().out
    assert f"{ASSIGNMENT}: 2 new submission(s)" in out, out
    for name, stamp in stamps.items():  # the newest submission, with the time of its Submit
        assert (course.submitted / name / ASSIGNMENT / "timestamp.txt").read_text().strip() == stamp
    assert cnncourse(["collect", *options]) == 0
    assert "0 new submission(s)" in capsys.readouterr().out

    assert cnncourse(["grade", "--course", str(course.root), *GRADE_ARGS]) == 0
    from nbgrader.utils import parse_utc

    from autograder.gradebook import open_gradebook

    with open_gradebook(course.db_url) as gb:
        graded = {s.student.id: (s.score, s.timestamp) for s in gb.assignment_submissions(ASSIGNMENT)}
    assert graded["alice"][0] == 7 and graded["bob"][0] == 0, graded
    for name, stamp in stamps.items():  # what late-work rules compare with the due date
        assert graded[name][1] == parse_utc(stamp).replace(tzinfo=None), (name, graded[name][1], stamp)

    assert cnncourse(["feedback", "--release", *options]) == 0
    assert "released 2 feedback page(s)" in capsys.readouterr().out
    for name, home in homes.items():
        pages = fetch_feedback(exchange, home, name)
        assert len(pages) == 1, pages
        text = pages[0].read_text()
        assert f"Student: <b>{name}</b>" in text or name in text
        assert f"Score: {graded[name][0]:g} / 7" in text.replace("<b>", "").replace("</b>", ""), text[:1500]
    # alice's page is keyed to alice's submission: bob's cache cannot find it
    assert all("alice" not in p.read_text() for p in fetch_feedback(exchange, homes["bob"], "bob"))

    # alice submits again after grading; once collected, her old feedback must not go out as the new one's
    time.sleep(1.1)
    submit(exchange, homes["alice"], "alice", WRONG)
    assert cnncourse(["collect", *options]) == 0
    capsys.readouterr()
    released = set((exchange / "cnn-course" / "feedback").glob("*.html"))
    assert cnncourse(["feedback", "--release", *options]) == 1
    captured = capsys.readouterr()
    assert "released 1 feedback page(s)" in captured.out, captured.out  # bob's, again
    assert "alice" in captured.err and "run `cnncourse grade` first" in captured.err, captured.err
    assert set((exchange / "cnn-course" / "feedback").glob("*.html")) == released


def test_a_missing_exchange_is_named(tmp_path, capsys):
    source = build_source(tmp_path / "notebooks" / f"{ASSIGNMENT}.ipynb")
    missing = tmp_path / "no-exchange"
    options = ["--course", str(tmp_path / "course"), "--exchange-root", str(missing)]
    assert cnncourse(["release", "--exchange", "--no-manifest", *options, str(source)]) == 1
    assert f"no exchange folder at {missing}" in capsys.readouterr().err
    assert cnncourse(["collect", *options, ASSIGNMENT]) == 1
    assert f"no exchange folder at {missing}" in capsys.readouterr().err
