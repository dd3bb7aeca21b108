"""``cnncourse``: release, grade, give feedback on and export the CNN course, on nbgrader's layout.

Run ``cnncourse <command> --help`` for each command's options and an example.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .course import COURSE_ID, DEFAULT_NOTEBOOKS, Course, course_notebooks

EXAMPLES = {
    "release": "cnncourse release                       # every notebook in notebooks/\n  cnncourse release notebooks/01_*.ipynb  # one\n  cnncourse release --exchange notebooks/03_*.ipynb  # and publish it to students on JupyterHub\n  cnncourse release --per-student roster.csv  # and a copy with their own numbers for each student",
    "grade": "cnncourse grade --jobs 8                # every submission in course/submitted/\n  cnncourse grade --assignment 01_convolution_vs_cross_correlation --student alice --force\n  cnncourse grade --scheduler tcp://10.0.0.5:8786  # on the workers of a Dask cluster",
    "feedback": "cnncourse feedback                      # course/feedback/<student>/<assignment>/<assignment>.html\n  cnncourse feedback --release            # and hand it back through nbgrader's exchange",
    "collect": "cnncourse collect                       # every released assignment, from nbgrader's exchange\n  cnncourse collect 03_output_size_arithmetic",
    "export": "cnncourse export                        # course/reports/grades.csv\n  cnncourse export --format canvas --roster roster.csv    # course/reports/grades-canvas.csv, for Canvas's Grades > Import\n  cnncourse export --format moodle --output moodle.csv   # for Moodle's Grades > Import > CSV file",
    "check": "cnncourse check 01_convolution_vs_cross_correlation.ipynb",
    "validate": "cnncourse validate notebooks/01_convolution_vs_cross_correlation.ipynb",
    "duedate": 'cnncourse duedate                       # every assignment\'s due date, and the late-penalty setting\n  cnncourse duedate 01_convolution_vs_cross_correlation "2026-12-10 17:00 Europe/Berlin"\n  cnncourse duedate 01_convolution_vs_cross_correlation --clear',
    "similarity": "cnncourse similarity                    # every assignment: course/reports/similarity/<assignment>.html and .csv\n  cnncourse similarity 05_matrix_view_im2col_receptive_fields --floor 0.5 --top 50",
}


WORKFLOW = """example, a term:
  cnncourse release                                   # student versions in course/release/
  cnncourse duedate 01_convolution_vs_cross_correlation "2026-12-10 17:00 Europe/Berlin"
  cnncourse grade --jobs 8                            # course/submitted/<student>/<assignment>/
  cnncourse similarity                                # course/reports/similarity/<assignment>.html
  cnncourse feedback                                  # course/feedback/<student>/<assignment>/
  cnncourse export --format canvas --roster roster.csv"""


def _course(args) -> Course:
    course = Course(Path(args.course), db_url=args.db)
    course.init()
    return course


def _add_course_options(parser):
    parser.add_argument("--course", default=os.environ.get("CNNCOURSE_DIR", "course"), help="the course folder (default: ./course, or $CNNCOURSE_DIR)")
    parser.add_argument("--db", default=None, help="gradebook URL (default: sqlite:///<course>/gradebook.db; e.g. postgresql://user@host/db)")


def _add_exchange_options(parser):
    from .exchange import DEFAULT_ROOT

    parser.add_argument("--exchange-root", default=os.environ.get("CNNCOURSE_EXCHANGE", DEFAULT_ROOT), help=f"nbgrader's exchange folder (default: $CNNCOURSE_EXCHANGE, set on the course's JupyterHub, or {DEFAULT_ROOT})")
    parser.add_argument("--course-id", default=os.environ.get("CNNCOURSE_COURSE_ID", COURSE_ID), help=f"the course's name in the exchange (default: $CNNCOURSE_COURSE_ID or {COURSE_ID})")


def _exchange(args):
    from .exchange import Exchange

    return Exchange(Path(args.exchange_root), args.course_id)


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
    from . import variants
    from .validate import check_structure

    course = _course(args)
    try:
        roster = variants.read_roster(args.per_student) if args.per_student else None
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
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
        key_file = variants.write_release_key(course, assignment)
        line = f"{assignment}: released to {release.relative_to(course.root.parent) if course.root.parent in release.parents else release}"
        if key_file is not None:
            line += f" with its variant key ({key_file.name})"
        solutions_full_marks = True
        if not args.no_manifest:
            manifest = build_manifest(course, assignment)
            line += f" ({manifest['max_score']:g} points in {sum(len(v) for v in manifest['cells'].values())} checks)"
            if manifest["score"] != manifest["max_score"]:
                line += f"; WARNING: the solutions score {manifest['score']:g} with this grader"
                status = 1
                solutions_full_marks = False
        if roster is not None:
            top = variants.release_per_student(course, assignment, roster)
            line += f"; a copy for each of {len(roster)} students in {top.name}/<student>/{assignment}/"
        if args.exchange and solutions_full_marks:
            from .exchange import ExchangeError, publish

            try:
                line += f"; published to {publish(course, _exchange(args), assignment)}"
            except ExchangeError as exc:
                print(line + f"\n{assignment}: not published: {exc}", file=sys.stderr)
                status = 1
                continue
        elif args.exchange:
            line += "; not published, since its solutions do not earn full marks"
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

    from . import gradebook, reports, variants
    from .engines import EngineLost, EngineUnavailable, engine_for
    from .late import LatePenalties, LateWorkError
    from .notebook import load_notebook, plan_notebook
    from .parallel import Task, grade_class, load_result, result_path, submission_key

    course = _course(args)
    try:  # the course's late-submission plugin, as nbgrader autograde would use it
        late_work = LatePenalties(course)
    except LateWorkError as exc:
        print(f"nothing was graded: {exc}", file=sys.stderr)
        return 2
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
    try:  # whose numbers each submission's varied questions have: its folder's student's
        variant_of = {a: variants.submission_variants(course, a) for a in sorted({a for _, a, _ in submissions})}
    except (variants.VariantKeyError, ValueError) as exc:
        print(f"nothing was graded: {exc}", file=sys.stderr)
        return 2
    tasks, unchanged = [], 0
    for student, assignment, path in submissions:
        key = submission_key(path, course.source_notebook(assignment))
        old_key, _ = load_result(course, student, assignment)
        if old_key == key and not args.force:
            unchanged += 1
            continue
        variant = variant_of[assignment](student) if variant_of[assignment] else None
        tasks.append(Task(student, assignment, path, key, variant))
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
        late_work.apply(task.student, task.assignment, outcome.notebook)
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
    from .gradebook import submission_records
    from .late import lateness_note
    from .reports import write_feedback

    course = _course(args)
    outcomes = _all_results(course, args.assignment, args.student)
    if not outcomes:
        print("nothing graded yet: run `cnncourse grade` first", file=sys.stderr)
        return 2
    records = {(r.student, r.assignment): r for r in submission_records(course.db_url)}
    for outcome in outcomes:
        late = lateness_note(records.get((outcome.student, outcome.assignment)))
        write_feedback(course.feedback / outcome.student / outcome.assignment / f"{outcome.assignment}.html", outcome, late=late)
    print(f"wrote {len(outcomes)} feedback page(s) under {course.feedback}")
    return _release_feedback(course, _exchange(args), outcomes) if args.release else 0


def _release_feedback(course: Course, exchange, outcomes) -> int:
    """Hand each page back through the exchange, only where it grades the submission now collected."""
    from .exchange import ExchangeError, release_feedback
    from .parallel import load_result, submission_key

    released, skipped = 0, []
    for outcome in outcomes:
        student, assignment = outcome.student, outcome.assignment
        key, _ = load_result(course, student, assignment)
        path = course.submitted / student / assignment / f"{assignment}.ipynb"
        if key != submission_key(path, course.source_notebook(assignment)):
            skipped.append(f"{student}/{assignment}: a newer submission was collected after grading; run `cnncourse grade` first")
            continue
        try:
            release_feedback(course, exchange, student, assignment)
            released += 1
        except ExchangeError as exc:
            skipped.append(f"{student}/{assignment}: {exc}")
    print(f"released {released} feedback page(s) to {exchange.root}; students fetch them in the Assignments tab")
    for line in skipped:
        print(f"not released: {line}", file=sys.stderr)
    return 1 if skipped else 0


def cmd_collect(args) -> int:
    from .exchange import ExchangeError, collect

    course = _course(args)
    exchange = _exchange(args)
    assignments = args.assignments or [a for a in course.assignments() if exchange.outbound(a).is_dir()]
    if not assignments:
        print(f"nothing to collect: no assignment of {course.source} is published in {exchange.root} (`cnncourse release --exchange`)", file=sys.stderr)
        return 2
    status = 0
    for assignment in assignments:
        try:
            collected = collect(course, exchange, assignment)
        except ExchangeError as exc:
            print(f"{assignment}: {exc}", file=sys.stderr)
            status = 1
            continue
        new = [c for c in collected if c.new]
        listed = ", ".join(f"{c.student} ({c.timestamp})" for c in new) or "nothing new"
        print(f"{assignment}: {len(new)} new submission(s) in {course.submitted}: {listed}; {len(collected)} in all")
    if status == 0:
        print("next: `cnncourse grade`")
    return status


def cmd_export(args) -> int:
    from .lms import ExportError, export

    course = _course(args)
    try:
        done = export(course, args.format, output=Path(args.output) if args.output else None, roster=Path(args.roster) if args.roster else None, columns=args.column)
    except ExportError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"wrote the grades of {done.students} student(s) in {done.assignments} assignment(s) to {done.output} ({args.format})")
    print(f"scores are after late penalties: {done.late} late submission(s) lost {done.points_lost:g} point(s) in all; each submission's due date, time, hours late and score before and after the penalty are in {done.details}")
    if done.unmatched:
        shown = ", ".join(done.unmatched[:10]) + (f" and {len(done.unmatched) - 10} more" if len(done.unmatched) > 10 else "")
        what = "no Canvas ID, SIS id or name" if args.format == "canvas" else "no email or ID number (their nbgrader id is the Username)"
        print(f"warning: {len(done.unmatched)} student(s) have {what}, so {args.format} may not match them: {shown}; give --roster ROSTER.csv", file=sys.stderr)
    return 0


def cmd_check(args) -> int:
    from cnnlib.checks.core import CheckSetupError

    from .grading import grade_notebook
    from .notebook import load_notebook, plan_notebook
    from .sandbox.client import Zygote
    from .variants import local_variant

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
    variant, message = local_variant(path, cells)  # the numbers the notebook shows here
    if message:
        print(message)
    zygote = Zygote(use_bwrap=False if args.no_bwrap else None)
    try:
        prepare_checks(plan.checks_modules)
        outcome = grade_notebook(zygote, plan, cells, visible_only=True, variant=variant)
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


def cmd_duedate(args) -> int:
    from . import late

    course = _course(args)
    try:
        penalties = late.LatePenalties(course)
        if args.assignment:
            if args.when is None and not args.clear:
                print("give the due date (e.g. \"2026-12-10 17:00 Europe/Berlin\") or --clear", file=sys.stderr)
                return 2
            if args.when is not None and args.clear:
                print("give a due date or --clear, not both", file=sys.stderr)
                return 2
            duedate = None if args.clear else late.parse_duedate(args.when)
            late.set_duedate(course, args.assignment, duedate)
            graded, late_ones = penalties.reassess(args.assignment)
            print(f"{args.assignment}: due {late.format_utc(duedate)}; {graded} graded submission(s), {late_ones} late, penalties recomputed")
        else:
            dates = late.duedates(course)
            if not dates:
                print("no assignments in the gradebook yet: run `cnncourse release` first")
            for assignment, duedate in dates.items():
                print(f"{assignment}: due {late.format_utc(duedate)}")
    except late.LateWorkError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"late penalty ({course.root / 'nbgrader_config.py'}): {penalties.description}")
    return 0


def cmd_similarity(args) -> int:
    from .similarity import similarity_report

    course = _course(args)
    assignments = args.assignments or course.assignments()
    unknown = [a for a in assignments if not course.source_notebook(a).is_file()]
    if unknown or not assignments:
        print(f"unknown assignment(s): {', '.join(unknown) or '(none released)'}; run `cnncourse release` first", file=sys.stderr)
        return 2
    try:
        for assignment in assignments:
            report = similarity_report(course, assignment, floor=args.floor, top=args.top, common=args.common)
            top = f"; most similar: {report.pairs[0].a.student} and {report.pairs[0].b.student} ({report.pairs[0].score:.2f})" if report.pairs else ""
            print(f"{assignment}: {report.submissions} submissions, {len(report.pairs)} pair{'s score' if len(report.pairs) != 1 else ' scores'} {args.floor:g} or more{top}; wrote {report.html} and {report.csv.name}")
            for note in report.notes:
                print(f"  {note}")
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def cmd_validate(args) -> int:
    from .validate import main

    return main([str(p) for p in args.notebooks] + (["--no-run"] if args.no_run else []))


# -- entry point -------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from . import lms, similarity

    parser = argparse.ArgumentParser(prog="cnncourse", description=__doc__, epilog=WORKFLOW, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, help_text, func):
        p = sub.add_parser(name, help=help_text, description=help_text, epilog="example:\n  " + EXAMPLES[name], formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    p = add("release", "Copy course notebooks into course/source/ and generate the student versions in course/release/ (nbgrader generate_assignment); grade the solutions once to record each test cell's checks.", cmd_release)
    _add_course_options(p)
    p.add_argument("notebooks", nargs="*", help="notebooks to release (default: all of notebooks/)")
    p.add_argument("--no-manifest", action="store_true", help="skip grading the solutions")
    p.add_argument("--per-student", metavar="ROSTER.csv", help="also write one copy per student, with their id and numbers filled in, to course/release-per-student/<student>/<assignment>/ (the roster's column 'id', or one id per line)")
    p.add_argument("--exchange", action="store_true", help="also publish each student version to nbgrader's exchange (nbgrader release_assignment), where students fetch it in JupyterLab's Assignments tab")
    _add_exchange_options(p)

    p = add("collect", "Collect the submissions from nbgrader's exchange (nbgrader collect) into course/submitted/<student>/<assignment>/, each student's newest with its submission time (timestamp.txt).", cmd_collect)
    _add_course_options(p)
    _add_exchange_options(p)
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="assignments to collect (default: every one published to the exchange)")

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
    p.add_argument("--release", action="store_true", help="also hand each page back through nbgrader's exchange (nbgrader release_feedback), for the submission that was graded; students fetch it in the Assignments tab")
    _add_exchange_options(p)

    p = add("export", "Write the grades from nbgrader's gradebook (manual grades included, late penalties applied) as a CSV that Canvas or Moodle imports, or as the plain CSV: one row per student, one column per assignment. Also writes reports/submissions.csv: each submission's due date, time, hours late and score before and after the penalty.", cmd_export)
    _add_course_options(p)
    p.add_argument("--format", choices=lms.FORMATS, default="csv", help="csv (student_id, assignments, total), canvas (Canvas's gradebook import) or moodle (Moodle's CSV grade import); default csv")
    p.add_argument("--output", help="where to write (default: course/reports/grades.csv, grades-canvas.csv or grades-moodle.csv)")
    p.add_argument("--roster", help="a CSV with a column id (the nbgrader student id) and any of first_name, last_name, email, lms_user_id, sis_user_id, sis_login_id, section, idnumber, username: the students' LMS identities")
    p.add_argument("--column", action="append", metavar="ASSIGNMENT=HEADER", help="the column header of an assignment in the LMS file, e.g. a Canvas assignment's title and id: '01_convolution_vs_cross_correlation=Notebook 1 (4521)' (repeatable)")

    p = add("check", "A student's self-check: run the notebook's visible checks, sandboxed as in grading, and print what passed and what is wrong.", cmd_check)
    p.add_argument("notebook", help="your notebook (.ipynb)")
    p.add_argument("--no-bwrap", action="store_true", help="do not use bubblewrap even when it is available")

    p = add("duedate", "Show or set an assignment's due date in nbgrader's gradebook (what formgrader shows). A submission is late when its timestamp.txt (written by nbgrader's collect) is past the due date; the penalty comes from the late-submission plugin in course/nbgrader_config.py (see README) and is recomputed for the graded submissions.", cmd_duedate)
    _add_course_options(p)
    p.add_argument("assignment", nargs="?", metavar="ASSIGNMENT", help="the assignment (default: list every assignment's due date)")
    p.add_argument("when", nargs="?", metavar="DUE_DATE", help='date, time and time zone: "2026-12-10 17:00 Europe/Berlin", "2026-12-10 16:00 UTC" or "2026-12-10T17:00+01:00"')
    p.add_argument("--clear", action="store_true", help="remove the due date (nothing is late)")

    p = add("similarity", "Compare every pair of submissions of an assignment (the code the grader runs, the starter code left out; robust to renaming, reordering, comments and whitespace) and write an HTML page with the most similar pairs side by side, and a CSV of every pair above the floor. Evidence for a person to review, not a verdict.", cmd_similarity)
    _add_course_options(p)
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="assignments to compare (default: all)")
    p.add_argument("--floor", type=float, default=similarity.FLOOR, help=f"leave out pairs scoring less than this (0..1, default {similarity.FLOOR:g})")
    p.add_argument("--top", type=int, default=similarity.TOP, help=f"pairs shown side by side on the page (default {similarity.TOP}; the CSV has all above the floor)")
    p.add_argument("--common", type=int, default=similarity.COMMON, help=f"ignore passages found in more than this many submissions, as idioms (default {similarity.COMMON})")

    p = add("validate", "Check that a course notebook releases and grades correctly: structure, runs with solutions, student version, full marks for solutions and zero for a blank copy.", cmd_validate)
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--no-run", action="store_true", help="skip executing the notebooks")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
