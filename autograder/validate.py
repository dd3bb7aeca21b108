"""Validate a course notebook the way the course needs it to work (``cnncourse validate``).

For an instructor (or an author) before releasing a notebook:

1. **structure**: every test cell has a ``grade_id``, points and is locked; ids are unique; every
   solution cell has a solution region; the checks' points in each test cell add up to the cell's
   points;
2. **source runs**: the notebook, with its solutions, executes top to bottom without an error
   (and how long that took);
3. **student version**: nbgrader's release has no solution code and no hidden test left, and runs
   to the end with no error other than the unanswered exercises' ``NotImplementedError``;
4. **grading**: this grader gives the source notebook full marks and the student version zero.
"""

from __future__ import annotations

import ast
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course import Course
from .notebook import load_notebook, plan_notebook

SOLUTION_RE = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.S)
HIDDEN_RE = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.S)


@dataclass
class ValidationReport:
    notebook: str
    problems: list[str] = field(default_factory=list)
    source_seconds: float | None = None
    student_seconds: float | None = None
    student_errors: list[str] = field(default_factory=list)
    source_score: tuple[float, float] | None = None
    student_score: tuple[float, float] | None = None
    graded_functions: list[str] = field(default_factory=list)
    checks: list[tuple[str, str, float, bool]] = field(default_factory=list)  # (grade_id, check, points, hidden)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        lines = [f"{self.notebook}: {'OK' if self.ok else 'PROBLEMS'}"]
        if self.source_seconds is not None:
            lines.append(f"  source ran in {self.source_seconds:.1f} s")
        if self.student_seconds is not None:
            lines.append(f"  student version ran in {self.student_seconds:.1f} s ({len(self.student_errors)} NotImplementedError cells)")
        if self.source_score:
            lines.append(f"  grader: solutions {self.source_score[0]:g}/{self.source_score[1]:g}")
        if self.student_score:
            lines.append(f"  grader: blank student version {self.student_score[0]:g}/{self.student_score[1]:g}")
        lines.extend(f"  - {p}" for p in self.problems)
        return "\n".join(lines)


def check_structure(path: Path) -> list[str]:
    """Problems with the notebook's nbgrader metadata and regions."""
    problems = []
    nb = nbformat.read(str(path), as_version=4)
    seen = set()
    for index, cell in enumerate(nb.cells, 1):
        meta = cell.metadata.get("nbgrader")
        text = cell.source
        if "### BEGIN SOLUTION" in text and not (meta and meta.get("solution")):
            problems.append(f"cell {index} has a solution region but is not an nbgrader solution cell")
        if "### BEGIN HIDDEN TESTS" in text and not (meta and meta.get("grade") and not meta.get("solution")):
            problems.append(f"cell {index} has hidden tests but is not an nbgrader test cell")
        if not meta:
            continue
        grade_id = meta.get("grade_id")
        if not grade_id:
            problems.append(f"cell {index} has nbgrader metadata but no grade_id")
            continue
        if grade_id in seen:
            problems.append(f"grade_id '{grade_id}' is used twice")
        seen.add(grade_id)
        if meta.get("solution") and cell.cell_type == "code" and "### BEGIN SOLUTION" not in text:
            problems.append(f"solution cell '{grade_id}' has no ### BEGIN SOLUTION region")
        if meta.get("grade") and not meta.get("solution"):
            if not meta.get("locked"):
                problems.append(f"test cell '{grade_id}' is not locked")
            if not meta.get("points"):
                problems.append(f"test cell '{grade_id}' has no points")
            try:
                tree = ast.parse(text)
            except SyntaxError as exc:
                problems.append(f"test cell '{grade_id}' has a syntax error: {exc}")
                continue
            if not (tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(getattr(tree.body[0], "value", None), ast.Constant)):
                problems.append(f"test cell '{grade_id}' does not open with a one-line docstring saying what it checks")
    return problems


def execute(path: Path, *, timeout: int = 600, allow_errors: bool = False, cwd: Path | None = None):
    """Execute a notebook with nbclient; returns (executed notebook, seconds, [error outputs])."""
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors, resources={"metadata": {"path": str(cwd or path.parent)}})
    start = time.monotonic()
    client.execute()
    seconds = time.monotonic() - start
    errors = []
    for index, cell in enumerate(nb.cells, 1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors.append((index, output.get("ename"), output.get("evalue", "")))
    return nb, seconds, errors


def solution_lines(path: Path) -> list[str]:
    """The distinctive lines inside the source's solution regions (to look for in the release).

    A line that also stands outside every solution and hidden region (``optimizer.step()`` in a
    demonstration cell, say) is public anyway and is not counted.
    """
    nb = nbformat.read(str(path), as_version=4)
    public = set()
    for cell in nb.cells:
        outside = HIDDEN_RE.sub("", SOLUTION_RE.sub("", cell.source))
        public.update(line.strip() for line in outside.splitlines())
    lines = []
    for cell in nb.cells:
        for region in SOLUTION_RE.findall(cell.source) + HIDDEN_RE.findall(cell.source):
            for line in region.splitlines():
                line = line.strip()
                if len(line) >= 12 and not line.startswith("#") and line not in public:
                    lines.append(line)
    return lines


def validate(path: Path, *, run_source: bool = True, run_student: bool = True, grade: bool = True, workdir: Path | None = None) -> ValidationReport:
    """Run every validation step on one course notebook."""
    path = Path(path).resolve()
    report = ValidationReport(path.name)
    report.problems.extend(check_structure(path))
    tmp = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="cnncourse-validate-"))
    course = Course(tmp / "course")
    course.init()
    assignment = course.add_source(path)
    try:
        release = course.release(assignment)
    except RuntimeError as exc:
        report.problems.append(str(exc))
        return report
    released_text = release.read_text()
    for marker in ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"):
        if marker in released_text:
            report.problems.append(f"the student version still contains '{marker}'")
    released_lines = {line.strip() for cell in nbformat.read(str(release), as_version=4).cells for line in cell.source.splitlines()}
    leaked = [line for line in solution_lines(path) if line in released_lines]
    if leaked:
        report.problems.append(f"the student version contains solution or hidden-test text, e.g. {leaked[0]!r}")
    report.graded_functions = _graded_functions(path)

    if run_source:
        try:
            _, report.source_seconds, errors = execute(path, allow_errors=True)
            for index, name, value in errors:
                report.problems.append(f"source cell {index} raised {name}: {value[:200]}")
        except Exception as exc:  # a kernel death or a timeout
            report.problems.append(f"the source notebook did not run: {type(exc).__name__}: {exc}")
    if run_student:
        try:
            _, report.student_seconds, errors = execute(release, allow_errors=True, cwd=path.parent)
            for index, name, value in errors:
                if name == "NotImplementedError":
                    report.student_errors.append(f"cell {index}")
                else:
                    report.problems.append(f"student version cell {index} raised {name} (only NotImplementedError is expected): {value[:200]}")
        except Exception as exc:
            report.problems.append(f"the student version did not run: {type(exc).__name__}: {exc}")
    if grade:
        _grade_both(course, assignment, path, release, report)
    return report


def _graded_functions(path: Path) -> list[str]:
    nb = nbformat.read(str(path), as_version=4)
    names = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    names.append(node.name)
                elif isinstance(node, ast.Assign):
                    names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _grade_both(course: Course, assignment: str, source: Path, release: Path, report: ValidationReport) -> None:
    from .grading import grade_notebook
    from .sandbox.client import Zygote

    plan = plan_notebook(assignment, load_notebook(source), load_notebook(release))
    zygote = Zygote(hidden_paths=(str(course.root),), log_path=str(course.state / "validate-worker.log"))
    try:
        full = grade_notebook(zygote, plan, load_notebook(source), denied_roots=(str(course.root),))
        blank = grade_notebook(zygote, plan, load_notebook(release), denied_roots=(str(course.root),))
    finally:
        zygote.close()
    report.source_score = (full.score, full.max_score)
    report.student_score = (blank.score, blank.max_score)
    for cell in full.cells:
        total = sum(c.points for c in cell.checks)
        if cell.checks and abs(total - cell.points) > 1e-9:
            report.problems.append(f"test cell '{cell.grade_id}' is worth {cell.points:g} points but its checks add up to {total:g}")
        if cell.error:
            report.problems.append(f"test cell '{cell.grade_id}' raised outside a check when grading the solutions: {cell.error}")
        for check in cell.checks:
            report.checks.append((cell.grade_id, check.name, check.points, check.hidden))
            if not check.passed:
                report.problems.append(f"with the solutions, check {check.name} in '{cell.grade_id}' fails: {check.message[:300]}")
    for note in full.notes:
        if "raised" in note or "not run" in note or "setup" in note:
            report.problems.append(f"grading the solutions: {note}")
    if full.score != full.max_score:
        report.problems.append(f"the solutions score {full.score:g}/{full.max_score:g} with this grader, not full marks")
    if blank.score != 0:
        passed = [c.name for cell in blank.cells for c in cell.checks if c.passed]
        report.problems.append(f"the blank student version scores {blank.score:g}, not 0 (passing: {', '.join(passed) or 'a plain test cell'})")


def main(argv=None) -> int:
    """``python -m autograder.validate NOTEBOOK...``: validate notebooks, print a summary each."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.validate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--no-run", action="store_true", help="skip executing the source and student versions")
    args = parser.parse_args(argv)
    ok = True
    for path in args.notebooks:
        report = validate(path, run_source=not args.no_run, run_student=not args.no_run)
        print(report.summary())
        ok &= report.ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
