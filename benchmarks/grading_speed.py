"""Grade a synthetic class with `cnncourse grade` and with plain `nbgrader autograde`, on the same
submissions, in the same run, and print seconds per notebook for each and their ratio.

    python benchmarks/grading_speed.py --students 40 --notebooks 01 03 05
    python benchmarks/grading_speed.py --students 40 --notebooks all --nbgrader-students 4

`--nbgrader-students N` grades only the first N students with plain nbgrader (it runs serially and
executes every cell, training included, so a whole class of every notebook takes hours); its seconds
per notebook are then measured over those N x notebooks submissions. Use a multiple of 4 so that it
sees every kind (and 12 or more for all three attacks).

The class: for every student and notebook, one of four kinds in turn:
  full         the reference solutions
  blank        the student version as released
  partial      the first half of the solution cells answered
  adversarial  wrong answers (functions that return zeros) plus an attack, in rotation: the course's
               check results rewritten so that every check passes; a cell that never ends; a
               cell that kills the process

Both graders get the same per-cell time limit. The mean score per kind is printed for both, which
also shows what the isolation buys: plain nbgrader runs the tests in the student's kernel.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.course import Course, course_notebooks  # noqa: E402
from autograder.gradebook import scores  # noqa: E402

ATTACKS = [
    # In the student's own kernel (plain nbgrader) this makes every check report a pass.
    "import cnnlib.checks.core as _core\n_Real = _core.CheckResult\n"
    "_core.CheckResult = lambda name, title, points, passed, *rest: _Real(name, title, points, True)\n",
    "while True:\n    pass\n",
    "import os\nos.abort()\n",
]


def _strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def _wrong(solution: str) -> str:
    """The same names as the solution, defined wrongly: functions return zeros, values are 0."""
    import ast

    lines = ["import numpy as np"]
    for node in ast.parse(solution).body:
        if isinstance(node, ast.FunctionDef):
            lines.append(f"def {node.name}(*args, **kwargs):\n    return np.zeros(1)")
        elif isinstance(node, ast.Assign):
            lines.extend(f"{t.id} = 0" for t in node.targets if isinstance(t, ast.Name))
    return "\n".join(lines)


def _max_points(source: Path) -> float:
    nb = nbformat.read(str(source), as_version=4)
    return sum(float(c.metadata.get("nbgrader", {}).get("points", 0) or 0) for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))


def make_submission(source: Path, release: Path, kind: str, index: int) -> nbformat.NotebookNode:
    src = nbformat.read(str(source), as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]: _strip_markers(c.source) for c in src.cells if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(str(release), as_version=4)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    answer = set()
    if kind == "full":
        answer = set(ids)
    elif kind == "partial":
        answer = set(ids[: len(ids) // 2])
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answer:
            cell.source = solutions[grade_id]
        elif kind == "adversarial" and grade_id in solutions:
            cell.source = _wrong(solutions[grade_id])
    if kind == "adversarial":
        attack = nbformat.v4.new_code_cell(ATTACKS[index % len(ATTACKS)])
        first_test = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade"))
        nb.cells.insert(first_test, attack)
    return nb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--notebooks", nargs="+", default=["01"], help="notebook numbers, e.g. 01 03 05")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--cell-time-limit", type=int, default=20)
    parser.add_argument("--nbgrader-students", type=int, help="grade only the first N students with nbgrader (default: all)")
    parser.add_argument("--keep", type=Path, help="keep the course folders here")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="cnncourse-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ours, theirs = Course(work / "ours"), work / "nbgrader"
    notebooks = [p for p in course_notebooks() if "all" in args.notebooks or p.name[:2] in args.notebooks]
    if not notebooks:
        raise SystemExit(f"no notebooks numbered {args.notebooks}")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    cnncourse = [sys.executable, "-m", "autograder.cli"]
    subprocess.run(cnncourse + ["release", "--course", str(ours.root), "--no-manifest", *map(str, notebooks)], check=True, env=env, cwd=REPO)
    kinds = ["full", "blank", "partial", "adversarial"]
    kind_of = {}
    for notebook in notebooks:
        assignment = notebook.stem
        for i in range(args.students):
            student = f"s{i:03d}"
            kind = kinds[i % len(kinds)]
            kind_of[student] = kind
            path = ours.submitted / student / assignment / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(make_submission(ours.source_notebook(assignment), ours.release_notebook(assignment), kind, i // len(kinds)), str(path))
    shutil.copytree(ours.root, theirs)  # same submissions, same fresh gradebook
    their_students = min(args.nbgrader_students or args.students, args.students)
    for i in range(their_students, args.students):
        shutil.rmtree(theirs / "submitted" / f"s{i:03d}")
    count, their_count = args.students * len(notebooks), their_students * len(notebooks)
    print(f"{count} notebooks: {args.students} students x {', '.join(n.stem for n in notebooks)}; {args.jobs} cores; cell time limit {args.cell_time_limit} s")
    if their_students < args.students:
        print(f"nbgrader grades the first {their_students} students only ({their_count} notebooks)")

    start = time.monotonic()
    subprocess.run(cnncourse + ["grade", "--course", str(ours.root), "--jobs", str(args.jobs), "--quiet", "--cell-time-limit", str(args.cell_time_limit)], check=True, env=env, cwd=REPO)
    ours_seconds = time.monotonic() - start

    start = time.monotonic()
    for notebook in notebooks:
        subprocess.run(
            [sys.executable, "-m", "nbgrader", "autograde", notebook.stem, "--force",
             f"--CourseDirectory.root={theirs}", f"--CourseDirectory.db_url=sqlite:///{theirs / 'gradebook.db'}",
             f"--ExecutePreprocessor.timeout={args.cell_time_limit}", "--log-level=ERROR"],
            env=env, cwd=theirs, capture_output=True,
        )
    theirs_seconds = time.monotonic() - start

    print(f"cnncourse grade   : {ours_seconds:8.1f} s  {ours_seconds / count:6.2f} s/notebook  (parallel, sandboxed, per-check credit)")
    print(f"nbgrader autograde: {theirs_seconds:8.1f} s  {theirs_seconds / their_count:6.2f} s/notebook  (serial, tests in the student's kernel; {their_count} notebooks)")
    print(f"speed-up          : {(theirs_seconds / their_count) / (ours_seconds / count):.2f}x (seconds per notebook)")
    ours_scores, their_scores = scores(ours.db_url), scores(f"sqlite:///{theirs / 'gradebook.db'}")
    max_points = sum(_max_points(ours.source_notebook(n.stem)) for n in notebooks)
    print("mean score per kind (cnncourse / nbgrader):")
    for kind in kinds:
        students = [s for s, k in kind_of.items() if k == kind]
        mine = [sum(ours_scores.get(s, {}).values()) for s in students]
        other = [sum(their_scores.get(s, {}).values()) for s in students if int(s[1:]) < their_students]
        theirs_mean = f"{sum(other) / len(other):7.2f}" if other else "    n/a"
        print(f"  {kind:12s} {sum(mine) / len(mine):7.2f} / {theirs_mean}   (out of {max_points:g})")
    print(f"course folders in {work}")


if __name__ == "__main__":
    main()
