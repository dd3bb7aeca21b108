"""The instructor's course folder, in nbgrader's layout, and releasing assignments into it.

::

    course/                         (``--course``; default ./course)
      nbgrader_config.py            written on first use; formgrader reads it
      gradebook.db                  nbgrader's gradebook (or ``--db`` for PostgreSQL)
      source/<assignment>/<nb>.ipynb       copied from notebooks/ (solutions, hidden tests)
      release/<assignment>/<nb>.ipynb      student versions (nbgrader generate_assignment)
      submitted/<student>/<assignment>/<nb>.ipynb   what students handed in
      autograded/<student>/<assignment>/<nb>.ipynb  graded copies, for formgrader
      feedback/<student>/<assignment>/<nb>.html     feedback pages
      reports/checks.csv, reports/grades.csv
      .cnncourse/                   grading state (resume), manifests, worker logs

Each course notebook is its own assignment, named after the notebook file
(``01_convolution_vs_cross_correlation``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NOTEBOOKS = REPO_ROOT / "notebooks"
#: The course's id in nbgrader (its gradebook and, on JupyterHub, its exchange).
COURSE_ID = "cnn-course"


@dataclass
class Course:
    root: Path
    db_url: str | None = None

    def __post_init__(self):
        self.root = Path(self.root).resolve()
        if self.db_url is None:
            self.db_url = f"sqlite:///{self.root / 'gradebook.db'}"

    # -- paths ----------------------------------------------------------------------------------
    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def release_dir(self) -> Path:
        return self.root / "release"

    @property
    def submitted(self) -> Path:
        return self.root / "submitted"

    @property
    def autograded(self) -> Path:
        return self.root / "autograded"

    @property
    def feedback(self) -> Path:
        return self.root / "feedback"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def state(self) -> Path:
        return self.root / ".cnncourse"

    def source_notebook(self, assignment: str) -> Path:
        return self.source / assignment / f"{assignment}.ipynb"

    def release_notebook(self, assignment: str) -> Path:
        return self.release_dir / assignment / f"{assignment}.ipynb"

    def assignments(self) -> list[str]:
        if not self.source.is_dir():
            return []
        return sorted(p.name for p in self.source.iterdir() if (p / f"{p.name}.ipynb").is_file())

    def submitted_timestamp(self, student: str, assignment: str):
        """The submission time nbgrader's collect wrote (``timestamp.txt``), or None."""
        from nbgrader.utils import parse_utc

        path = self.submitted / student / assignment / "timestamp.txt"
        if not path.is_file():
            return None
        try:
            return parse_utc(path.read_text().strip())
        except (ValueError, OSError):
            return None

    def submissions(self, assignments: list[str] | None = None, students: list[str] | None = None) -> list[tuple[str, str, Path]]:
        """``(student, assignment, notebook path)`` for every submitted notebook we know how to grade."""
        known = set(assignments or self.assignments())
        found = []
        if not self.submitted.is_dir():
            return found
        for student_dir in sorted(p for p in self.submitted.iterdir() if p.is_dir()):
            if students and student_dir.name not in students:
                continue
            for assignment in sorted(known):
                path = student_dir / assignment / f"{assignment}.ipynb"
                if path.is_file():
                    found.append((student_dir.name, assignment, path))
        return found

    # -- set-up ---------------------------------------------------------------------------------
    def init(self) -> None:
        """Create the folder and an ``nbgrader_config.py`` that points formgrader at it."""
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "nbgrader_config.py"
        if not config.exists():
            config.write_text(
                "# Written by `cnncourse`; nbgrader's formgrader and command line read it.\n"
                "c = get_config()  # noqa: F821\n"
                f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
                f"c.CourseDirectory.root = {str(self.root)!r}\n"
                f"c.CourseDirectory.db_url = {self.db_url!r}\n"
                "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n"
            )
        self.state.mkdir(exist_ok=True)

    def add_source(self, notebook: Path) -> str:
        """Copy a course notebook into ``source/<name>/<name>.ipynb``; returns the assignment name."""
        notebook = Path(notebook)
        if not notebook.is_file():
            raise FileNotFoundError(f"no notebook at {notebook}")
        assignment = notebook.stem
        target = self.source_notebook(assignment)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != notebook.read_bytes():
            shutil.copyfile(notebook, target)
        return assignment

    def nbgrader_api(self):
        """nbgrader's own Python API, configured for this course."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config

        _ensure_alembic_on_path()
        config = Config()
        config.CourseDirectory.root = str(self.root)
        config.CourseDirectory.course_id = COURSE_ID
        config.CourseDirectory.db_url = self.db_url
        config.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
        config.Exchange.root = str(self.state / "exchange")
        coursedir = CourseDirectory(config=config)
        return NbGraderAPI(coursedir=coursedir, config=config)

    def release(self, assignment: str) -> Path:
        """Generate the student version of one assignment (and record it in the gradebook)."""
        api = self.nbgrader_api()
        with contextlib.redirect_stdout(io.StringIO()):
            result = api.generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            log = (result.get("log") or "") + (result.get("error") or "")
            raise RuntimeError(f"nbgrader could not generate the student version of {assignment}:\n{log.strip()[-3000:]}")
        path = self.release_notebook(assignment)
        if not path.is_file():
            raise RuntimeError(f"nbgrader reported success but wrote no {path}")
        return path

    def write_json(self, relative: str, data) -> Path:
        """Write ``data`` under ``.cnncourse/`` atomically (a crash never leaves half a file)."""
        path = self.state / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)
        return path

    def read_json(self, relative: str):
        path = self.state / relative
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None


def _ensure_alembic_on_path() -> None:
    """nbgrader's gradebook runs the ``alembic`` command; make sure our environment's is found."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def course_notebooks(directory: Path = DEFAULT_NOTEBOOKS) -> list[Path]:
    """The course's numbered notebooks (``NN_name.ipynb``), in order."""
    return sorted(p for p in Path(directory).glob("[0-9][0-9]_*.ipynb") if not p.name.startswith("00_"))
