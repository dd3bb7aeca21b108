"""Grade exports that a learning-management system imports, from nbgrader's gradebook.

Every format has one column per assignment holding the score *after* the late penalty that
nbgrader stored (``cnncourse grade`` applies the course's late-submission plugin); a student with
no submission for an assignment gets 0, as in nbgrader's own export. Next to the chosen file,
``reports/submissions.csv`` lists every submission with its due date, submission time, hours late,
score before and after the penalty.

- ``csv``: the course's plain format: ``student_id``, one column per assignment, ``total``,
  ``max_total``, and a ``(max)`` row.
- ``canvas``: Canvas's gradebook import. The header row is ``Student, ID, SIS User ID, SIS Login
  ID, Section`` and then one column per assignment; the second row is ``Points Possible`` with each
  assignment's maximum. Canvas finds a student by ``ID`` (the Canvas user id), else ``SIS User ID``,
  else ``SIS Login ID``, else the name (``Last, First``); it matches an assignment column by the
  Canvas id in brackets (``Notebook 1 (4521)``), else by title, and creates a new assignment
  otherwise.
- ``moodle``: Moodle's grade import (Grades > Import > CSV file): a header row, then one row per
  student. ``First name``, ``Last name``, ``Email address``, ``ID number`` and ``Username`` are there
  to choose from as the identifier ("Map from" ``Email address`` to ``useremail``, ``ID number``
  to ``useridnumber``, ``Username`` to ``username``); each assignment column is then mapped to a
  grade item.

Identities come from nbgrader's student table (first and last name, email, ``lms_user_id``) and,
where given, a roster CSV with a column ``id`` (the nbgrader student id) and any of
``first_name, last_name, email, lms_user_id, sis_user_id, sis_login_id, section, idnumber,
username``: the same columns as ``nbgrader db student import`` and more. The roster's values win,
and its students without submissions are exported with 0.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the gradebook module loads nbgrader; `cnncourse --help` imports this one
    from .gradebook import SubmissionRecord

FORMATS = ("csv", "canvas", "moodle")
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_IDENTITY = ["First name", "Last name", "Email address", "ID number", "Username"]
SUBMISSION_COLUMNS = ["student_id", "assignment", "duedate", "timestamp", "hours_late", "raw_score", "late_penalty", "score", "max_score"]


class ExportError(Exception):
    """An export that cannot be written as asked; the message names the file, row and column."""


@dataclass
class Identity:
    id: str  # the nbgrader student id (the folder name under submitted/)
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""  # Canvas's user id ("ID"), as nbgrader stores it
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    idnumber: str = ""  # Moodle's "ID number"
    username: str = ""  # Moodle's username; the nbgrader id when not given

    @property
    def sortable_name(self) -> str:
        """``Last, First`` as Canvas writes names (the nbgrader id when there is no name)."""
        return ", ".join(p for p in (self.last_name, self.first_name) if p) or self.id


ROSTER_COLUMNS = [f.name for f in fields(Identity)]


def read_roster(path: Path) -> dict[str, Identity]:
    """A roster CSV (UTF-8, a byte-order mark allowed): a column ``id`` and any of the others in
    :data:`ROSTER_COLUMNS`."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            if "id" not in header:
                raise ExportError(f"{path}: the roster needs a column 'id' (the nbgrader student id); its columns are {header or 'none'}")
            unknown = [h for h in header if h not in ROSTER_COLUMNS]
            if unknown:
                raise ExportError(f"{path}: unknown roster column(s) {', '.join(map(repr, unknown))}; the columns are {', '.join(ROSTER_COLUMNS)}")
            reader.fieldnames = header
            roster: dict[str, Identity] = {}
            for line, row in enumerate(reader, 2):
                if None in row:
                    raise ExportError(f"{path}, line {line}: more values than columns")
                values = {k: (v or "").strip() for k, v in row.items()}
                if not values["id"]:
                    raise ExportError(f"{path}, line {line}: the column 'id' is empty")
                if values["id"] in roster:
                    raise ExportError(f"{path}, line {line}: the student id {values['id']!r} appears twice")
                roster[values["id"]] = Identity(**values)
    except FileNotFoundError:
        raise ExportError(f"no roster file at {path}") from None
    except UnicodeDecodeError as exc:
        raise ExportError(f"{path} is not UTF-8 text ({exc}); save it as CSV UTF-8") from None
    return roster


def identities(gradebook_students: dict[str, dict[str, str]], roster: dict[str, Identity] | None) -> dict[str, Identity]:
    """Everyone in the gradebook and the roster; the roster's non-empty values win."""
    people = {sid: Identity(sid, **info) for sid, info in gradebook_students.items()}
    for sid, entry in (roster or {}).items():
        person = people.setdefault(sid, Identity(sid))
        for f in ROSTER_COLUMNS[1:]:
            if getattr(entry, f):
                setattr(person, f, getattr(entry, f))
    for person in people.values():
        person.username = person.username or person.id
    return people


@dataclass
class Gradesheet:
    assignments: list[str]
    max_scores: dict[str, float]
    records: dict[tuple[str, str], SubmissionRecord]  # (student, assignment) -> graded submission

    def score(self, student: str, assignment: str) -> float:
        record = self.records.get((student, assignment))
        return record.score if record else 0.0

    @property
    def late(self) -> list[SubmissionRecord]:
        return [r for r in self.records.values() if r.late_penalty > 0]


def gradesheet(db_url: str) -> Gradesheet:
    from .gradebook import max_scores, submission_records

    maxima = max_scores(db_url)
    return Gradesheet(sorted(maxima), maxima, {(r.student, r.assignment): r for r in submission_records(db_url)})


def column_names(assignments: list[str], renames: list[str] | None) -> dict[str, str]:
    """Each assignment's column header; ``renames`` holds ``ASSIGNMENT=HEADER`` items."""
    names = {a: a for a in assignments}
    for item in renames or []:
        assignment, sep, header = item.partition("=")
        if not sep or not header.strip():
            raise ExportError(f"--column {item!r}: write ASSIGNMENT=HEADER, e.g. --column '01_convolution_vs_cross_correlation=Notebook 1 (4521)'")
        if assignment not in names:
            raise ExportError(f"--column {item!r}: there is no assignment {assignment!r} in the gradebook; the assignments are {', '.join(assignments)}")
        names[assignment] = header.strip()
    if len(set(names.values())) != len(names):
        raise ExportError("--column: two assignments would get the same column header")
    return names


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def _write(path: Path, rows: list[list[str]]) -> None:
    from .reports import _atomic_write

    _atomic_write(Path(path), lambda handle: csv.writer(handle).writerows(rows))


def write_canvas(path: Path, sheet: Gradesheet, people: dict[str, Identity], headers: dict[str, str]) -> None:
    rows = [CANVAS_IDENTITY + [headers[a] for a in sheet.assignments]]
    rows.append(["Points Possible", "", "", "", ""] + [_number(sheet.max_scores[a]) for a in sheet.assignments])
    for sid in sorted(people, key=lambda s: (people[s].sortable_name.casefold(), s)):
        p = people[sid]
        rows.append([p.sortable_name, p.lms_user_id, p.sis_user_id, p.sis_login_id, p.section] + [_number(sheet.score(sid, a)) for a in sheet.assignments])
    _write(path, rows)


def write_moodle(path: Path, sheet: Gradesheet, people: dict[str, Identity], headers: dict[str, str]) -> None:
    rows = [MOODLE_IDENTITY + [headers[a] for a in sheet.assignments]]
    for sid in sorted(people, key=lambda s: (people[s].last_name.casefold(), people[s].first_name.casefold(), s)):
        p = people[sid]
        rows.append([p.first_name, p.last_name, p.email, p.idnumber, p.username] + [_number(sheet.score(sid, a)) for a in sheet.assignments])
    _write(path, rows)


def write_plain(path: Path, sheet: Gradesheet, people: dict[str, Identity]) -> None:
    from .reports import write_grades_csv

    write_grades_csv(Path(path), {sid: {a: sheet.score(sid, a) for a in sheet.assignments} for sid in people}, sheet.max_scores)


def write_submissions(path: Path, sheet: Gradesheet) -> None:
    """Every graded submission: due date, submission time, hours late, score before and after."""
    from .late import format_utc

    rows = [SUBMISSION_COLUMNS]
    for (sid, assignment), r in sorted(sheet.records.items()):
        stamp = format_utc(r.timestamp) if r.timestamp else ""
        due = format_utc(r.duedate) if r.duedate else ""
        rows.append([sid, assignment, due, stamp, f"{r.seconds_late / 3600:.2f}", _number(r.raw_score), _number(r.late_penalty), _number(r.score), _number(r.max_score)])
    _write(path, rows)


DEFAULT_FILES = {"csv": "grades.csv", "canvas": "grades-canvas.csv", "moodle": "grades-moodle.csv"}


@dataclass
class Export:
    output: Path
    details: Path  # reports/submissions.csv
    students: int
    assignments: int
    late: int  # submissions that lost points to a late penalty
    points_lost: float
    unmatched: list[str]  # students the LMS has nothing to recognise by


def export(course, fmt: str, *, output: Path | None = None, roster: Path | None = None, columns: list[str] | None = None) -> Export:
    """Write ``course``'s grades in format ``fmt`` (one of :data:`FORMATS`) and
    ``reports/submissions.csv``; raises :class:`ExportError` before writing anything it cannot."""
    from .gradebook import students

    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; the formats are {', '.join(FORMATS)}")
    if columns and fmt == "csv":
        raise ExportError("--column renames columns of the canvas and moodle formats only")
    people = identities(students(course.db_url), read_roster(roster) if roster else None)
    sheet = gradesheet(course.db_url)
    headers = column_names(sheet.assignments, columns)
    output = Path(output) if output else course.reports / DEFAULT_FILES[fmt]
    if fmt == "canvas":
        write_canvas(output, sheet, people, headers)
    elif fmt == "moodle":
        write_moodle(output, sheet, people, headers)
    else:
        write_plain(output, sheet, people)
    details = course.reports / "submissions.csv"
    write_submissions(details, sheet)
    late = sheet.late
    return Export(output, details, len(people), len(sheet.assignments), len(late), sum(r.raw_score - r.score for r in late), unmatched(fmt, people))


def unmatched(fmt: str, people: dict[str, Identity]) -> list[str]:
    """Students the LMS has nothing to recognise by (only their nbgrader id is known)."""
    if fmt == "canvas":
        return sorted(s for s, p in people.items() if not (p.lms_user_id or p.sis_user_id or p.sis_login_id or p.first_name or p.last_name))
    if fmt == "moodle":
        return sorted(s for s, p in people.items() if not (p.email or p.idnumber) and p.username == p.id)
    return []
