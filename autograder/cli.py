"""``cnncourse``: release, grade, give feedback on and export the CNN course, on nbgrader's layout.

Run ``cnncourse <command> --help`` for each command's options and an example.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .course import DEFAULT_NOTEBOOKS, Course, course_notebooks

EXAMPLES = {
    "release": "cnncourse release                       # every notebook in notebooks/\n  cnncourse release notebooks/01_*.ipynb  # one",
    "grade": "cnncourse grade --jobs 8                # every submission in course/submitted/\n  cnncourse grade --assignment 01_convolution_vs_cross_correlation --student alice --force\n  cnncourse grade --scheduler tcp://10.0.0.5:8786  # on the workers of a Dask cluster",
    "feedback": "cnncourse feedback                      # course/feedback/<student>/<assignment>/<assignment>.html",
    "export": "cnncourse export                        # course/reports/grades.csv\n  cnncourse export --output grades.csv",
    "check": "cnncourse check 01_convolution_vs_cross_correlation.ipynb",
    "validate": "cnncourse validate notebooks/01_convolution_vs_cross_correlation.ipynb",
}


def _course(args) -> Course:
    course = Course(Path(args.course), db_url=args.db)
    course.init()
    return course


def _add_course_options(parser):
    parser.add_argument("--course", default=os.environ.get("CNNCOURSE_DIR", "course"), help="the course folder (default: ./course, or $CNNCOURSE_DIR)")
    parser.add_argument("--db", default=None, help="gradebook URL (default: sqlite:///<course>/gradebook.db; e.g. postgresql://user@host/db)")


def _scheduler(text: str) -> str:
    from .engines import parse_scheduler

    try:
        return parse_scheduler(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _add_filters(parser):
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    parser.add_argument("--student", action="append", help="only this student (repeatable)")


# -- release ----------------------------------------------------------------------------------------


def cmd_release(args) -> int:
    from .validate import check_structure

    course = _course(args)
    notebooks = [Path(p) for p in args.notebooks] or course_notebooks(DEFAULT_NOTEBOOKS)
    if not notebooks:
        print(f"no notebooks to release (looked in {DEFAULT_NOTEBOOKS})", file=sys.stderr)
        return 2
    status = 0
    for notebook in notebooks:
        problems = check_structure(notebook)
        if problems:
            print(f"{notebook.name}: not released:\n  " + "\n  ".join(problems), file=sys.stderr)
            status = 1
            continue
        assignment = course.add_source(notebook)
        release = course.release(assignment)
        line = f"{assignment}: released to {release.relative_to(course.root.parent) if course.root.parent in release.parents else release}"
        if not args.no_manifest:
            manifest = build_manifest(course, assignment)
            line += f" ({manifest['max_score']:g} points in {sum(len(v) for v in manifest['cells'].values())} checks)"
            if manifest["score"] != manifest["max_score"]:
                line += f"; WARNING: the solutions score {manifest['score']:g} with this grader"
                status = 1
        print(line)
    return status


def build_manifest(course: Course, assignment: str) -> dict:
    """Grade the solutions once: the list of checks (and points) in every test cell."""
    from .grading import grade_notebook
    from .notebook import load_notebook, plan_notebook
    from .sandbox.client import Zygote

    plan = plan_notebook(assignment, load_notebook(course.source_notebook(assignment)), load_notebook(course.release_notebook(assignment)))
    zygote = Zygote(hidden_paths=(str(course.root),), log_path=str(course.state / "release-worker.log"))
    try:
        outcome = grade_notebook(zygote, plan, load_notebook(course.source_notebook(assignment)), denied_roots=(str(course.root),))
    finally:
        zygote.close()
    manifest = {
        "cells": {c.grade_id: [[k.name, k.points] for k in c.checks] for c in outcome.cells},
        "score": outcome.score,
        "max_score": outcome.max_score,
    }
    course.write_json(f"manifest/{assignment}.json", manifest)
    return manifest


def _manifests(course: Course) -> dict:
    return {a: course.read_json(f"manifest/{a}.json") or {} for a in course.assignments()}


# -- grade --------------------------------------------------------------------------------------------


def prepare_checks(modules) -> None:
    """Call each checks module's ``prepare()`` (if it has one): it fetches or loads what the checks
    need, such as a data set, and raises ``CheckSetupError`` naming what is missing."""
    import importlib

    for name in modules:
        prepare = getattr(importlib.import_module(name), "prepare", None)
        if prepare is not None:
            prepare()


def cmd_grade(args) -> int:
    from cnnlib.checks.core import CheckSetupError

    from . import gradebook, reports
    from .engines import EngineLost, EngineUnavailable, engine_for
    from .notebook import load_notebook, plan_notebook
    from .parallel import Task, grade_class, load_result, result_path, submission_key

    course = _course(args)
    assignments = args.assignment or course.assignments()
    missing = [a for a in assignments if not course.source_notebook(a).is_file()]
    if missing or not assignments:
        print(f"unknown assignment(s): {', '.join(missing) or '(none released)'}; run `cnncourse release` first", file=sys.stderr)
        return 2
    submissions = course.submissions(assignments, args.student)
    if not submissions:
        print(f"no submissions found in {course.submitted}/<student>/<assignment>/<assignment>.ipynb", file=sys.stderr)
        return 2
    for assignment in sorted({a for _, a, _ in submissions}):
        if not course.release_notebook(assignment).is_file():
            course.release(assignment)
    tasks, unchanged = [], 0
    for student, assignment, path in submissions:
        key = submission_key(path, course.source_notebook(assignment))
        old_key, _ = load_result(course, student, assignment)
        if old_key == key and not args.force:
            unchanged += 1
            continue
        tasks.append(Task(student, assignment, path, key))
    if unchanged:
        print(f"{unchanged} submission(s) unchanged since they were graded: kept (use --force to regrade)")
    try:  # before any worker starts: a data set the checks need is missing -> stop, grade nothing
        for assignment in sorted({t.assignment for t in tasks}):
            prepare_checks(plan_notebook(assignment, load_notebook(course.source_notebook(assignment))).checks_modules)
    except CheckSetupError as exc:
        print(f"nothing was graded: {exc}", file=sys.stderr)
        return 2
    settings = {  # each grading process adds its own machine's data folders (engines/runner.py)
        "bwrap": False if args.no_bwrap else None,
        "cell_time_limit": args.cell_time_limit,
        "call_time_limit": args.call_time_limit,
        "notebook_time_limit": args.notebook_time_limit,
        "memory_limit_mb": args.memory_limit_mb,
    }

    def on_result(task, outcome):
        if any(n.startswith("the grader failed") for n in outcome.notes):
            print(f"{task.student}/{task.assignment}: {outcome.notes[-1]} (will be retried on the next run)", file=sys.stderr)
            return
        reports.write_graded_notebook(course.autograded / task.student / task.assignment / f"{task.assignment}.ipynb", task.path, course.source_notebook(task.assignment), outcome)
        gradebook.record(course.db_url, [outcome], {(task.student, task.assignment): course.submitted_timestamp(task.student, task.assignment)})
        # Last: the result's key marks the submission done; an interruption before it means a regrade.
        course.write_json(result_path(course, task.student, task.assignment), {"key": task.key, "outcome": outcome.to_json()})

    jobs = args.jobs or os.cpu_count() or 1
    try:
        engine = engine_for(args.scheduler, jobs=min(jobs, max(len(tasks), 1)), log_dir=str(course.state / "logs"))
        grade_class(course, tasks, settings=settings, on_result=on_result, progress=not args.quiet, engine=engine)
    except EngineLost as exc:
        print(f"grading stopped: {exc}", file=sys.stderr)
        return 1
    except EngineUnavailable as exc:
        print(f"nothing was graded: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    outcomes = _all_results(course)
    rows = reports.write_checks_csv(course.reports / "checks.csv", outcomes, _manifests(course))
    print(f"wrote {rows} check results to {course.reports / 'checks.csv'}; scores are in the gradebook ({_safe_url(course.db_url)})")
    return 0


def _all_results(course: Course, assignments=None, students=None):
    from .parallel import load_result

    outcomes = []
    for student, assignment, _ in course.submissions(assignments, students):
        _, outcome = load_result(course, student, assignment)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# -- feedback, export, check ----------------------------------------------------------------------------


def cmd_feedback(args) -> int:
    from .reports import write_feedback

    course = _course(args)
    outcomes = _all_results(course, args.assignment, args.student)
    if not outcomes:
        print("nothing graded yet: run `cnncourse grade` first", file=sys.stderr)
        return 2
    for outcome in outcomes:
        write_feedback(course.feedback / outcome.student / outcome.assignment / f"{outcome.assignment}.html", outcome)
    print(f"wrote {len(outcomes)} feedback page(s) under {course.feedback}")
    return 0


def cmd_export(args) -> int:
    from . import gradebook
    from .reports import write_grades_csv

    course = _course(args)
    output = Path(args.output) if args.output else course.reports / "grades.csv"
    scores = gradebook.scores(course.db_url)
    write_grades_csv(output, scores, gradebook.max_scores(course.db_url))
    print(f"wrote grades of {len(scores)} student(s) to {output}")
    return 0


def cmd_check(args) -> int:
    from cnnlib.checks.core import CheckSetupError

    from .grading import grade_notebook
    from .notebook import load_notebook, plan_notebook
    from .sandbox.client import Zygote

    path = Path(args.notebook)
    try:
        cells = load_notebook(path)
    except (ValueError, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 2
    plan = plan_notebook(path.stem, cells)
    if not plan.tests:
        print(f"{path} has no test cells to check", file=sys.stderr)
        return 2
    zygote = Zygote(use_bwrap=False if args.no_bwrap else None)
    try:
        prepare_checks(plan.checks_modules)
        outcome = grade_notebook(zygote, plan, cells, visible_only=True)
    except CheckSetupError as exc:
        print(f"the checks cannot run on this machine: {exc}", file=sys.stderr)
        return 2
    finally:
        zygote.close()
    for note in outcome.notes:
        print(f"note: {note}")
    for cell in outcome.cells:
        print(f"\n{cell.grade_id}: {cell.earned:g}/{cell.points:g} from the visible checks")
        for check in cell.checks:
            mark = "PASS" if check.passed else "FAIL"
            print(f"  {mark} [{check.earned:g}/{check.points:g}] {check.title}")
            if not check.passed:
                print("       " + check.message.replace("\n", "\n       "))
        if cell.error:
            print(f"  the test cell stopped: {cell.error}")
    visible_max = sum(c.points for cell in outcome.cells for c in cell.checks)
    print(f"\nvisible checks: {outcome.score:g} of {visible_max:g} points (hidden tests add more when your instructor grades)")
    return 0


def cmd_validate(args) -> int:
    from .validate import main

    return main([str(p) for p in args.notebooks] + (["--no-run"] if args.no_run else []))


# -- entry point -------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnncourse", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, help_text, func):
        p = sub.add_parser(name, help=help_text, description=help_text, epilog="example:\n  " + EXAMPLES[name], formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    p = add("release", "Copy course notebooks into course/source/ and generate the student versions in course/release/ (nbgrader generate_assignment); grade the solutions once to record each test cell's checks.", cmd_release)
    _add_course_options(p)
    p.add_argument("notebooks", nargs="*", help="notebooks to release (default: all of notebooks/)")
    p.add_argument("--no-manifest", action="store_true", help="skip grading the solutions")

    p = add("grade", "Grade every submission in course/submitted/<student>/<assignment>/ in parallel, sandboxed; write scores to nbgrader's gradebook, graded notebooks to course/autograded/ and every check to course/reports/checks.csv. Only new or changed submissions are graded.", cmd_grade)
    _add_course_options(p)
    _add_filters(p)
    p.add_argument("--jobs", type=int, default=0, help="worker processes on this machine (default: all cores)")
    p.add_argument("--scheduler", type=_scheduler, metavar="ADDRESS", help="grade on the workers of a Dask cluster instead: tcp://HOST:8786 (or tls://) of a running `dask scheduler`, or local:N to start N Dask worker processes here; results come back to this machine, which alone writes them (see README: Grading on several machines)")
    p.add_argument("--force", action="store_true", help="regrade unchanged submissions too")
    p.add_argument("--no-bwrap", action="store_true", help="do not use bubblewrap even when it is available")
    p.add_argument("--cell-time-limit", type=float, default=60.0, help="seconds for one student cell (default 60)")
    p.add_argument("--call-time-limit", type=float, default=30.0, help="seconds for one call of a student function, unless a check sets its own (default 30)")
    p.add_argument("--notebook-time-limit", type=float, default=900.0, help="seconds for one whole notebook (default 900)")
    p.add_argument("--memory-limit-mb", type=int, default=4096, help="extra memory a student's process may allocate (default 4096)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = add("feedback", "Write an HTML page per student and notebook with each check's result and message (never hidden test code or hidden inputs).", cmd_feedback)
    _add_course_options(p)
    _add_filters(p)

    p = add("export", "Write a grades CSV for an LMS: one row per student, one column per assignment, from the gradebook (manual grades included).", cmd_export)
    _add_course_options(p)
    p.add_argument("--output", help="where to write (default: course/reports/grades.csv)")

    p = add("check", "A student's self-check: run the notebook's visible checks, sandboxed as in grading, and print what passed and what is wrong.", cmd_check)
    p.add_argument("notebook", help="your notebook (.ipynb)")
    p.add_argument("--no-bwrap", action="store_true", help="do not use bubblewrap even when it is available")

    p = add("validate", "Check that a course notebook releases and grades correctly: structure, runs with solutions, student version, full marks for solutions and zero for a blank copy.", cmd_validate)
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--no-run", action="store_true", help="skip executing the notebooks")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
