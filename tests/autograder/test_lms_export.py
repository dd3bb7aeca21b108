"""`cnncourse export --format canvas|moodle|csv` against the formats Canvas and Moodle document:
the header rows and columns, one total per assignment, late penalties applied, identities from
nbgrader's student table and a roster, and names with commas, quotes and non-ASCII letters."""

from __future__ import annotations

import csv
import re
from datetime import datetime

import pytest
from fixture_course import build_source

from autograder import gradebook
from autograder.cli import main as cnncourse
from autograder.course import Course
from autograder.grading import CellOutcome, NotebookOutcome
from autograder.late import LatePenalties

ONE, TWO = "fixture_nb", "fixture_two"
POINTS = {"test_cross_correlate1d": 3.0, "test_convolve2d": 3.0, "test_answer_size": 1.0}
PEOPLE = {  # nbgrader's student table
    "s1": dict(first_name="Zoë", last_name="O'Brien, Jr.", email="zoe@example.org", lms_user_id="1001"),
    "s2": dict(first_name='Thị "Lan"', last_name="Nguyễn", email="lan@example.org", lms_user_id="1002"),
    "s3": dict(first_name="", last_name="", email="", lms_user_id=""),
}
EARNED = {("s1", ONE): (3, 3, 1), ("s1", TWO): (3, 0, 1), ("s2", ONE): (3, 3, 1), ("s3", ONE): (0, 3, 0)}
ROSTER = 'id,sis_user_id,sis_login_id,section,idnumber,username\ns1,SIS-1,zob,"Section A, Monday",20261,zoe\ns2,SIS-2,lng,Section B,20262,lan\ns4,SIS-4,new,Section B,20264,\n'


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("lms")
    course = Course(root / "course")
    for name in (ONE, TWO):
        assert cnncourse(["release", "--course", str(course.root), "--no-manifest", str(build_source(root / "notebooks" / f"{name}.ipynb"))]) == 0
    with gradebook.open_gradebook(course.db_url) as gb:
        for sid, info in PEOPLE.items():
            gb.update_or_create_student(sid, **info)
    assert cnncourse(["duedate", "--course", str(course.root), TWO, "2026-11-20 16:00 UTC"]) == 0
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write("c.LateSubmissionPlugin.penalty_method = 'zero'\n")
    for (sid, assignment), earned in EARNED.items():
        cells = [CellOutcome(g, p, float(e)) for (g, p), e in zip(POINTS.items(), earned)]
        stamp = datetime(2026, 11, 21) if (sid, assignment) == ("s1", TWO) else None  # s1 hands in TWO a day late
        gradebook.record(course.db_url, [NotebookOutcome(assignment, cells, [], student=sid, assignment=assignment)], {(sid, assignment): stamp})
        LatePenalties(course).apply(sid, assignment)
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    course.roster = root / "roster.csv"
    return course


def _export(course, *args) -> int:
    return cnncourse(["export", "--course", str(course.root), *args])


def canvas_would_read(path) -> dict:
    """Canvas's gradebook importer's reading of a CSV (app/models/gradebook_importer.rb): the
    header starts with Student and ID, then SIS User ID and SIS Login ID, and the student columns
    end with Section; a row whose first cell contains "Points Possible" gives the points; the other
    columns are assignments, "Title (id)" matching by id."""
    rows = list(csv.reader(open(path, newline="", encoding="utf-8")))
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1]
    assert re.match(r"SIS\s+User\s+ID", header[2]) and re.match(r"SIS\s+Login\s+ID", header[3])
    student_columns = 5
    assert "Section" in header[student_columns - 1]
    assignments = header[student_columns:]
    assert not any(re.search("Current Score|Final Score|Current Points|Final Points|Current Grade|Final Grade", a) for a in assignments)
    points, students = {}, {}
    for row in rows[1:]:
        assert len(row) == len(header)
        if "Points Possible" in row[0]:
            points = dict(zip(assignments, map(float, row[student_columns:])))
            continue
        key = row[1] or row[2] or row[3] or row[0]  # Canvas: ID, else SIS User ID, else SIS Login ID, else the name
        students[key] = dict(name=row[0], section=row[4], grades=dict(zip(assignments, map(float, row[student_columns:]))))
    return dict(assignments=assignments, points=points, students=students)


def test_canvas_format(course, capsys):
    capsys.readouterr()
    assert _export(course, "--format", "canvas", "--roster", str(course.roster)) == 0
    out = capsys.readouterr()
    path = course.reports / "grades-canvas.csv"
    assert str(path) in out.out and "1 late submission(s) lost 4 point(s)" in out.out
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # UTF-8 without a byte-order mark
    rows = list(csv.reader(raw.decode("utf-8").splitlines()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ONE, TWO]
    assert rows[1] == ["Points Possible", "", "", "", "", "7", "7"]
    read = canvas_would_read(path)
    assert read["assignments"] == [ONE, TWO] and read["points"] == {ONE: 7, TWO: 7}
    zoe, lan = read["students"]["1001"], read["students"]["1002"]
    assert zoe == dict(name="O'Brien, Jr., Zoë", section="Section A, Monday", grades={ONE: 7, TWO: 0})  # TWO was late: 'zero'
    assert lan["name"] == 'Nguyễn, Thị "Lan"' and lan["grades"] == {ONE: 7, TWO: 0}
    assert read["students"]["SIS-4"]["grades"] == {ONE: 0, TWO: 0}  # on the roster, nothing handed in
    assert read["students"]["s3"] == dict(name="s3", section="", grades={ONE: 3, TWO: 0})
    assert '"O\'Brien, Jr., Zoë"' in raw.decode("utf-8") and '"Nguyễn, Thị ""Lan"""' in raw.decode("utf-8")
    assert "1 student(s) have no Canvas ID, SIS id or name" in out.err and "s3" in out.err


def test_canvas_columns_can_name_existing_assignments(course):
    assert _export(course, "--format", "canvas", "--column", f"{ONE}=Notebook 1 (4521)") == 0
    header = next(csv.reader(open(course.reports / "grades-canvas.csv", encoding="utf-8")))
    assert header[5:] == ["Notebook 1 (4521)", TWO]
    title, ident = re.match(r"^(.*) \((\d+)\)$", header[5]).groups()  # Canvas's Assignment.title_and_id
    assert (title, ident) == ("Notebook 1", "4521")


def test_moodle_format(course, capsys):
    capsys.readouterr()
    out_path = course.root / "moodle.csv"
    assert _export(course, "--format", "moodle", "--roster", str(course.roster), "--output", str(out_path)) == 0
    rows = list(csv.DictReader(open(out_path, newline="", encoding="utf-8")))
    assert list(rows[0]) == ["First name", "Last name", "Email address", "ID number", "Username", ONE, TWO]
    by_email = {r["Email address"]: r for r in rows}
    assert by_email["zoe@example.org"] == {"First name": "Zoë", "Last name": "O'Brien, Jr.", "Email address": "zoe@example.org", "ID number": "20261", "Username": "zoe", ONE: "7", TWO: "0"}
    assert by_email["lan@example.org"]["First name"] == 'Thị "Lan"' and by_email["lan@example.org"]["Username"] == "lan"
    assert all(float(r[a]) <= 7 for r in rows for a in (ONE, TWO))  # Moodle refuses a grade above the item's maximum
    assert not any(r["First name"] == "Points Possible" for r in rows)  # every row after the header is a user
    s4 = next(r for r in rows if r["ID number"] == "20264")
    assert s4["Username"] == "s4" and s4[ONE] == "0"
    assert "have no email or ID number" in capsys.readouterr().err


def test_csv_format_is_unchanged(course):
    assert _export(course) == 0
    rows = list(csv.reader(open(course.reports / "grades.csv", encoding="utf-8")))
    assert rows[0] == ["student_id", ONE, TWO, "total", "max_total"]
    assert rows[1] == ["(max)", "7", "7", "14", "14"]
    assert ["s1", "7", "0", "7", "14"] in rows and ["s3", "3", "0", "3", "14"] in rows
    assert _export(course, "--column", f"{ONE}=x") == 2


@pytest.mark.parametrize(
    "roster, message",
    [
        ("name,email\nx,y\n", "the roster needs a column 'id'"),
        ("id,nickname\ns1,z\n", "unknown roster column(s) 'nickname'"),
        ("id,email\ns1,a\ns1,b\n", "line 3: the student id 's1' appears twice"),
        ("id,email\n,a\n", "line 2: the column 'id' is empty"),
        ("id,email\ns1,a,extra\n", "line 2: more values than columns"),
    ],
)
def test_bad_roster_is_refused_with_the_reason(course, tmp_path, capsys, roster, message):
    path = tmp_path / "roster.csv"
    path.write_text(roster)
    capsys.readouterr()
    assert _export(course, "--format", "canvas", "--roster", str(path)) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err


def test_roster_problems_outside_the_rows(course, tmp_path, capsys):
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("id,first_name\ns1,Zo\xeb\n".encode("latin-1"))
    assert _export(course, "--roster", str(latin1)) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err
    assert _export(course, "--roster", str(tmp_path / "missing.csv")) == 2
    assert "no roster file at" in capsys.readouterr().err
    with_bom = tmp_path / "excel.csv"
    with_bom.write_bytes("id,email\ns3,s3@example.org\n".encode("utf-8-sig"))  # what Excel saves as "CSV UTF-8"
    assert _export(course, "--format", "moodle", "--roster", str(with_bom)) == 0
    assert "s3@example.org" in (course.reports / "grades-moodle.csv").read_text(encoding="utf-8")
    assert _export(course, "--format", "canvas", "--column", "no_such=Title") == 2
    assert "there is no assignment 'no_such'" in capsys.readouterr().err
