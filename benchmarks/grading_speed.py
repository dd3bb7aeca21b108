"""Grade a synthetic class three ways, on the same submissions, in the same run: `cnncourse grade`
on a local pool of processes (`--jobs`), `cnncourse grade` on a Dask LocalCluster
(`--scheduler local:N`), and plain `nbgrader autograde`; print seconds per notebook for each and
the speed-up of each `cnncourse` run over nbgrader.

    python benchmarks/grading_speed.py                      # issue 12: 200 students x notebooks 01-07
    python benchmarks/grading_speed.py --students 20 --nbgrader-students 4
    python benchmarks/grading_speed.py --students 40 --notebooks all --nbgrader-students 4 --dask-workers 0

Defaults: 200 students on notebooks 01-07, `--jobs 2`, a LocalCluster of 2 workers
(`--dask-workers 0` skips it), nbgrader on the first 8 students. Both `cnncourse` runs sandbox the
students' code (bubblewrap when this machine can run it; the line "sandbox:" says which).

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

All graders get the same per-cell time limit. The mean score per kind is printed for each, which
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


def _grade_with_cnncourse(course: Course, engine_args: list[str], cell_time_limit: int, env: dict) -> float:
    command = [sys.executable, "-m", "autograder.cli", "grade", "--course", str(course.root), "--quiet", "--cell-time-limit", str(cell_time_limit), *engine_args]
    start = time.monotonic()
    subprocess.run(command, check=True, env=env, cwd=REPO)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--notebooks", nargs="+", default=["01", "02", "03", "04", "05", "06", "07"], help="notebook numbers, e.g. 01 03 05, or all")
    parser.add_argument("--jobs", type=int, default=2, help="processes of the local run (default 2)")
    parser.add_argument("--dask-workers", type=int, default=2, help="worker processes of the Dask LocalCluster run (default 2; 0 skips it)")
    parser.add_argument("--cell-time-limit", type=int, default=20)
    parser.add_argument("--nbgrader-students", type=int, default=8, help="grade only the first N students with nbgrader (default 8)")
    parser.add_argument("--keep", type=Path, help="keep the course folders here")
    args = parser.parse_args()

    from autograder.sandbox.bwrap import bwrap_available

    work = args.keep or Path(tempfile.mkdtemp(prefix="cnncourse-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ours, on_dask, theirs = Course(work / "ours"), Course(work / "dask"), work / "nbgrader"
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
    if args.dask_workers:
        shutil.copytree(ours.root, on_dask.root)  # same submissions, same fresh gradebook
    shutil.copytree(ours.root, theirs)
    their_students = min(args.nbgrader_students or args.students, args.students)
    for i in range(their_students, args.students):
        shutil.rmtree(theirs / "submitted" / f"s{i:03d}")
    count, their_count = args.students * len(notebooks), their_students * len(notebooks)
    print(f"{count} notebooks: {args.students} students x {', '.join(n.stem for n in notebooks)}; {os.cpu_count()} cores; cell time limit {args.cell_time_limit} s")
    print(f"sandbox: {'bubblewrap + the in-process layers' if bwrap_available() else 'the in-process layers (bubblewrap cannot run here)'}")
    print(f"load average before grading: {' '.join(Path('/proc/loadavg').read_text().split()[:3]) if Path('/proc/loadavg').exists() else 'n/a'}")
    if their_students < args.students:
        print(f"nbgrader grades the first {their_students} students only ({their_count} notebooks)")

    runs = {f"cnncourse grade --jobs {args.jobs}": (ours, _grade_with_cnncourse(ours, ["--jobs", str(args.jobs)], args.cell_time_limit, env))}
    if args.dask_workers:
        label = f"cnncourse grade --scheduler local:{args.dask_workers}"
        runs[label] = (on_dask, _grade_with_cnncourse(on_dask, ["--scheduler", f"local:{args.dask_workers}"], args.cell_time_limit, env))

    start = time.monotonic()
    for notebook in notebooks:
        subprocess.run(
            [sys.executable, "-m", "nbgrader", "autograde", notebook.stem, "--force",
             f"--CourseDirectory.root={theirs}", f"--CourseDirectory.db_url=sqlite:///{theirs / 'gradebook.db'}",
             f"--ExecutePreprocessor.timeout={args.cell_time_limit}", "--log-level=ERROR"],
            env=env, cwd=theirs, capture_output=True,
        )
    theirs_seconds = time.monotonic() - start
    their_per_notebook = theirs_seconds / their_count

    width = max(len(label) for label in runs) + 2
    print(f"{'':{width}}  seconds  s/notebook  speed-up over nbgrader (s/notebook)")
    for label, (_, seconds) in runs.items():
        print(f"{label:{width}}  {seconds:7.1f}  {seconds / count:10.2f}  {their_per_notebook / (seconds / count):6.2f}x  (sandboxed, per-check credit)")
    print(f"{'nbgrader autograde':{width}}  {theirs_seconds:7.1f}  {their_per_notebook:10.2f}  {1:6.2f}x  (one process, tests in the student's kernel; {their_count} notebooks)")
    worst = min(their_per_notebook / (seconds / count) for _, seconds in runs.values())
    print(f"target: cnncourse at least 4x faster per notebook than nbgrader: {'met' if worst >= 4 else 'NOT met'} (slowest cnncourse run: {worst:.2f}x)")

    score_tables = {label: scores(course.db_url) for label, (course, _) in runs.items()}
    their_scores = scores(f"sqlite:///{theirs / 'gradebook.db'}")
    if args.dask_workers:
        local_scores, dask_scores = score_tables.values()
        print(f"Dask run's scores identical to the local run's: {'yes' if dask_scores == local_scores else 'NO'}")
    ours_scores = next(iter(score_tables.values()))
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
