"""nbgrader's exchange: publishing assignments, collecting submissions and releasing feedback.

On a JupyterHub (``deploy/jupyterhub``) students fetch an assignment in JupyterLab's Assignments
tab, work on it and press Submit; nbgrader's exchange, a folder that every user can write into,
carries the files between them and the instructor::

    <root>/<course id>/outbound/<assignment>/<assignment>.ipynb    publish (the student version)
    <root>/<course id>/inbound/<student>+<assignment>+<time>+<random>/    a student's Submit
    <root>/<course id>/feedback/<hash>.html                        release_feedback

Every transfer goes through nbgrader's own exchange classes (by ``NbGraderAPI``), so the files are
where and as nbgrader's Lab extension expects them:

* :func:`collect` copies each student's newest submission into ``submitted/<student>/<assignment>/``
  with its ``timestamp.txt`` (the time of the Submit, which ``cnncourse grade`` records for late
  work) and ``submission_secret.txt``;
* :func:`release_feedback` names a student's page by a hash of that submission's secret and the
  notebook's name. The student's own copy of the submission (in their nbgrader cache) holds the
  same secret, so Fetch Feedback finds the page, and finds it only for the submission it belongs to.
"""

from __future__ import annotations

import copy
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .course import COURSE_ID, Course

DEFAULT_ROOT = "/srv/nbgrader/exchange"


class ExchangeError(RuntimeError):
    """nbgrader's exchange refused a transfer; the message holds nbgrader's own explanation."""


@dataclass(frozen=True)
class Exchange:
    """Where the exchange is (``root``) and the course's name in it (``course_id``)."""

    root: Path
    course_id: str = COURSE_ID

    def outbound(self, assignment: str) -> Path:
        return Path(self.root) / self.course_id / "outbound" / assignment

    def feedback_page(self, secret: str, notebook: str) -> Path:
        from nbgrader.utils import notebook_hash

        return Path(self.root) / self.course_id / "feedback" / f"{notebook_hash(secret=secret, notebook_id=notebook)}.html"


@dataclass(frozen=True)
class Collected:
    student: str
    timestamp: str  # as the student's Submit wrote it
    new: bool  # False: the same submission was collected before


def nbgrader_api(course: Course, exchange: Exchange):
    """nbgrader's API for the course (as ``Course.nbgrader_api``), pointed at ``exchange``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = copy.deepcopy(course.nbgrader_api().config)
    config.Exchange.root = str(exchange.root)
    config.CourseDirectory.course_id = exchange.course_id
    config.ExchangeReleaseAssignment.force = True  # publishing again replaces the released version
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def _check(result: dict, doing: str) -> str:
    """nbgrader's result dictionary -> its log, or ExchangeError with nbgrader's own words."""
    log = (result or {}).get("log") or ""
    if not (result or {}).get("success"):
        detail = "\n".join(line for line in log.strip().splitlines() if line.strip())[-2000:]
        raise ExchangeError(f"nbgrader could not {doing}:\n{detail or (result or {}).get('error') or '(no message)'}")
    return log


def _check_root(exchange: Exchange) -> None:
    root = Path(exchange.root)
    if not root.is_dir():
        raise ExchangeError(
            f"no exchange folder at {root}: on the hub it is made by `deploy/jupyterhub/classroom.py setup`; "
            "elsewhere give the folder with --exchange-root (or $CNNCOURSE_EXCHANGE)"
        )


def publish(course: Course, exchange: Exchange, assignment: str) -> Path:
    """Put the student version of ``assignment`` (``release/<assignment>/``) into the exchange, where
    students fetch it; returns its folder there. A version published before is replaced; students
    who fetched it keep their copy."""
    _check_root(exchange)
    if not course.release_notebook(assignment).is_file():
        raise ExchangeError(f"{assignment} has no student version in {course.release_dir}; run `cnncourse release` first")
    _check(nbgrader_api(course, exchange).release_assignment(assignment), f"publish {assignment} to {exchange.root}")
    return exchange.outbound(assignment)


def collected_timestamps(course: Course, assignment: str) -> dict[str, str]:
    """``{student: timestamp.txt}`` of the submissions of ``assignment`` in ``submitted/``."""
    found = {}
    if course.submitted.is_dir():
        for path in sorted(course.submitted.glob(f"*/{assignment}/timestamp.txt")):
            found[path.parent.parent.name] = path.read_text().strip()
    return found


def collect(course: Course, exchange: Exchange, assignment: str) -> list[Collected]:
    """Copy each student's newest submission of ``assignment`` from the exchange into
    ``submitted/<student>/<assignment>/`` (replacing an older one); returns every submission now
    there that came through the exchange."""
    _check_root(exchange)
    before = collected_timestamps(course, assignment)
    log = _check(nbgrader_api(course, exchange).collect(assignment, update=True), f"collect {assignment} from {exchange.root}")
    for line in log.splitlines():
        if "cheating attempt" in line or "claims to be submitted by" in line:
            print(f"warning: {line.strip()}")  # a submission whose owner is not the student it names
    after = collected_timestamps(course, assignment)
    for student in after:  # nbgrader copies the inbound folder's mode (world-writable); ours need not be
        folder = course.submitted / student / assignment
        if folder.stat().st_mode & 0o002:
            folder.chmod(0o755)
    return [Collected(student, stamp, before.get(student) != stamp) for student, stamp in after.items()]


def release_feedback(course: Course, exchange: Exchange, student: str, assignment: str) -> Path:
    """Release ``feedback/<student>/<assignment>/<assignment>.html`` to the exchange, keyed to the
    submission in ``submitted/<student>/<assignment>/``; returns the page's path in the exchange."""
    _check_root(exchange)
    submission = course.submitted / student / assignment
    feedback = course.feedback / student / assignment
    page = feedback / f"{assignment}.html"
    if not page.is_file():
        raise ExchangeError(f"no feedback page at {page}; run `cnncourse feedback` first")
    secret = submission / "submission_secret.txt"
    if not secret.is_file() or not (submission / "timestamp.txt").is_file():
        raise ExchangeError(
            f"{student}/{assignment} did not come through the exchange (no submission_secret.txt in {submission}), "
            "so there is no way to hand its feedback back there"
        )
    for name in ("timestamp.txt", "submission_secret.txt"):  # nbgrader's release_feedback reads them here
        shutil.copyfile(submission / name, feedback / name)
    api = nbgrader_api(course, exchange)
    _check(api.release_feedback(assignment, student), f"release the feedback of {student}/{assignment}")
    released = exchange.feedback_page(secret.read_text(), assignment)
    if not released.is_file():
        raise ExchangeError(f"nbgrader reported success but there is no {released}")
    os.chmod(released, 0o644)  # students open their page by its name; the folder itself is not listable
    return released
