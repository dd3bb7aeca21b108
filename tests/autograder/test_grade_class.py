"""Grade a whole class of the fixture notebook with ``cnncourse grade`` and hold every promise:
full marks for solutions, zero for blanks, exact partial and per-check credit, edits reported,
every adversarial fixture (tests/autograder/cheats/) earns nothing and stops nobody else, the
gradebook stays intact, feedback shows no hidden content, and a re-run grades only what changed.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import nbformat
import pytest
from fixture_course import ASSIGNMENT, CORRECT, WRONG, build_source, cheat_answers, cheat_names, submission

from autograder.cli import main as cnncourse
from autograder.course import Course

GRADE_ARGS = ["--jobs", "2", "--cell-time-limit", "6", "--call-time-limit", "6", "--notebook-time-limit", "90", "--memory-limit-mb", "1024", "--quiet"]

HARD_CODED = (
    "def cross_correlate1d(x, w):\n"
    "    # right only on the two visible examples\n"
    "    if len(x) == 5:\n"
    "        return np.array([-2.0, -2.0, -2.0])\n"
    "    if len(x) == 4 and len(w) == 2:\n"
    "        return np.array([2.0, 3.0, 0.0])\n"
    "    return np.zeros(len(x) - len(w) + 1)\n"
)
NOISY = "import sys, warnings\nwarnings.warn('a warning on stderr')\nprint('noise', file=sys.stderr)\n" + CORRECT["cross_correlate1d"]


def _move_cell(nb, grade_id, to_index):
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    nb.cells.remove(cell)
    nb.cells.insert(to_index, cell)


def _delete_test_and_duplicate(nb):
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_convolve2d"]
    dup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "cross_correlate1d")
    nb.cells.append(nbformat.from_dict(dict(dup)))
    _move_cell(nb, "answer_size", 2)


def _edit_locked(nb):
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id and grade_id.startswith("test_"):
            cell.source = '"""all good"""\npass'
        if "setup" in cell.metadata.get("tags", []):
            cell.source = "import numpy as np\nnp.allclose = lambda *a, **k: True"


HONEST = {
    "alice": (CORRECT, None, 7),  # the reference solutions
    "bob": ({}, None, 0),  # the blank student version
    "carol": ({**WRONG, "cross_correlate1d": CORRECT["cross_correlate1d"], "answer_size": CORRECT["answer_size"]}, None, 4),
    "dave": ({**WRONG, "cross_correlate1d": HARD_CODED}, None, 1),  # passes only the visible check
    "erin": ({**CORRECT, "cross_correlate1d": NOISY}, None, 7),  # warnings on stderr cost nothing
    "frank": (CORRECT, _delete_test_and_duplicate, 7),  # deleted a test cell, duplicated and moved cells
    "grace": (WRONG, _edit_locked, 0),  # emptied the test cells, edited the setup cell
}


def released_class(root: Path) -> Course:
    """The class under ``root``: the fixture assignment released, every HONEST student's and every
    cheat's submission in place (and zoe's unreadable one), not yet graded."""
    source = build_source(root / "notebooks" / f"{ASSIGNMENT}.ipynb")
    course = Course(root / "course")
    assert cnncourse(["release", "--course", str(course.root), str(source)]) == 0
    release = course.release_notebook(ASSIGNMENT)

    def put(student, nb):
        path = course.submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))

    for student, (answers, edit, _) in HONEST.items():
        put(student, submission(release, answers, edit=edit))
    for name in cheat_names():
        # the cheats that read the course folder name a path in it: a copy of the class made
        # from this one keeps that path, so its submissions (and results) are the same bytes
        put(f"cheat_{name}", submission(release, cheat_answers(name, course.root)))
    (course.submitted / "zoe" / ASSIGNMENT).mkdir(parents=True)
    (course.submitted / "zoe" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text("{ not a notebook")
    return course


@pytest.fixture(scope="module", params=["bwrap", "no-bwrap"])
def graded(request, tmp_path_factory):
    """The class graded twice: inside bubblewrap (where it runs) and with the in-process layers
    alone, which is what an instructor gets on a machine without bubblewrap."""
    from autograder.sandbox.bwrap import bwrap_available

    if request.param == "bwrap" and bwrap_available() is None:
        pytest.skip("bubblewrap is not installed or cannot create namespaces here (scripts/system-deps.sh installs it as root)")
    grade_args = GRADE_ARGS + (["--no-bwrap"] if request.param == "no-bwrap" else [])
    course = released_class(tmp_path_factory.mktemp("class"))
    assert cnncourse(["grade", "--course", str(course.root), *grade_args]) == 0
    course.grade_args = grade_args
    results = {}
    for path in (course.state / "results" / ASSIGNMENT).glob("*.json"):
        results[path.stem] = json.loads(path.read_text())["outcome"]
    return course, results


def _messages(outcome) -> str:
    return "\n".join(c["message"] for cell in outcome["cells"] for c in cell["checks"]) + "\n" + "\n".join(outcome["notes"])


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(HONEST))
def test_honest_scores(graded, student):
    _, results = graded
    assert results[student]["score"] == HONEST[student][2], _messages(results[student])
    assert results[student]["max_score"] == 7


@pytest.mark.slow
def test_credit_is_per_check(graded):
    _, results = graded
    cell = next(c for c in results["dave"]["cells"] if c["grade_id"] == "test_cross_correlate1d")
    assert [(c["name"], c["passed"]) for c in cell["checks"]] == [("cross_correlate1d_examples", True), ("cross_correlate1d_random", False)]
    assert cell["earned"] == 1 and cell["points"] == 3


@pytest.mark.slow
def test_edits_are_reported(graded):
    _, results = graded
    frank = "\n".join(results["frank"]["notes"])
    assert "'test_convolve2d' is missing" in frank
    assert "'cross_correlate1d' appears 2 times" in frank
    assert "different order" in frank
    grace = "\n".join(results["grace"]["notes"])
    assert "test cell 'test_cross_correlate1d' was edited" in grace


@pytest.mark.slow
def test_a_cell_that_raises_is_named_with_its_line(graded):
    _, results = graded
    # bob's answer cell is the released stub: it raises at its top level, on its second line
    notes = [n for n in results["bob"]["notes"] if "raised" in n]
    assert notes and all(n.endswith("raised NotImplementedError (line 2: raise NotImplementedError())") for n in notes), notes


@pytest.mark.slow
def test_unreadable_notebook_scores_zero_and_says_why(graded):
    _, results = graded
    assert results["zoe"]["score"] == 0
    assert "not a readable notebook" in "\n".join(results["zoe"]["notes"])


# What each cheat's report must say (besides scoring 0): the grader names what happened.
EXPECTED_REASON = {
    "delegate_numpy": "numpy",
    "delegate_numpy_private": "correlate2",
    "delegate_scipy": "scipy.signal",
    "delegate_scipy_indirect": "scipy.signal",
    "delegate_torch": "torch",
    "delegate_cnnlib": "cnnlib.reference",
    "delegate_cnnlib_from": "cnnlib.reference",
    "detect_grading": "library implementation",
    "read_source_notebook": "does not allow reading",
    "read_source_in_call": "does not allow reading",
    "read_other_students": "does not allow reading",
    "write_gradebook": "does not allow writing",
    "write_gradebook_sqlite": "sqlite3",
    "exit_process": "ended the grading process",
    "exit_process_cell": "ended the grading process",
    "infinite_loop_call": "did not finish within",
    "infinite_loop_cell": "did not finish within the time limit",
    "memory_bomb": "MemoryError",
    "network": "socket",
    "network_urllib": "urllib",
    "patch_builtins_module": "builtins",
    "patch_builtins_dunder": "__builtins__",
    "patch_check_helpers": "cnnlib.checks",
    "patch_check_helpers_from": "cnnlib.checks",
    "introspection": "getprofile",
    "computed_getattr": "computed attribute name",
    "kill_kernel": "signals",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", cheat_names())
def test_cheat_gains_nothing(graded, name):
    _, results = graded
    outcome = results[f"cheat_{name}"]
    assert outcome["score"] == 0, f"{name} earned {outcome['score']}:\n{_messages(outcome)}"
    if name in EXPECTED_REASON:
        assert EXPECTED_REASON[name] in _messages(outcome), _messages(outcome)


def test_every_cheat_has_an_expectation():
    quiet = {"patch_numpy", "always_equal", "lying_subclass", "redefine_helpers", "silence_tracebacks", "system_exit"}
    assert set(cheat_names()) == set(EXPECTED_REASON) | quiet


@pytest.mark.slow
def test_gradebook_and_results_intact(graded):
    from autograder.gradebook import scores

    course, _ = graded
    table = scores(course.db_url)
    assert table["alice"][ASSIGNMENT] == 7
    assert table["bob"][ASSIGNMENT] == 0
    assert table["cheat_write_gradebook_sqlite"][ASSIGNMENT] == 0
    assert not list((course.state / "results" / ASSIGNMENT).glob("*garbage*"))


@pytest.mark.slow
def test_checks_csv(graded):
    course, _ = graded
    rows = list(csv.DictReader(open(course.reports / "checks.csv")))
    assert set(rows[0]) == {"student", "assignment", "notebook", "grade_id", "check", "points", "max_points", "message"}
    carol = [r for r in rows if r["student"] == "carol"]
    assert sum(float(r["points"]) for r in carol) == 4
    assert sum(float(r["max_points"]) for r in carol) == 7


@pytest.mark.slow
def test_feedback_shows_no_hidden_content(graded):
    course, _ = graded
    assert cnncourse(["feedback", "--course", str(course.root)]) == 0
    pages = list(course.feedback.glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.html"))
    assert len(pages) == len(HONEST) + len(cheat_names()) + 1
    hidden_source = course.source_notebook(ASSIGNMENT).read_text()
    hidden_calls = re.findall(r"nb01\.\w+_random\([^)]*\)", hidden_source)
    assert hidden_calls
    for page in pages:
        text = page.read_text()
        assert "BEGIN HIDDEN" not in text and "4242" not in text and "seed=777" not in text
        assert not any(call in text for call in hidden_calls)
    dave = (course.feedback / "dave" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    hidden_row = next(row for row in dave.split("<tr>") if "(hidden test)" in row and "&#10008;" in row)
    assert "wrong values" in hidden_row and "you have" not in hidden_row and "On " not in hidden_row


@pytest.mark.slow
def test_graded_notebooks_for_formgrader(graded):
    course, _ = graded
    nb = nbformat.read(str(course.autograded / "carol" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")]
    assert len(tests) == 3 and all("BEGIN HIDDEN" in c.source or "assert" in c.source for c in tests)
    assert any(o.get("output_type") == "error" for c in tests for o in c.outputs)


@pytest.mark.slow
def test_export(graded):
    course, _ = graded
    out = course.reports / "grades.csv"
    assert cnncourse(["export", "--course", str(course.root)]) == 0
    rows = list(csv.reader(open(out)))
    assert rows[0] == ["student_id", ASSIGNMENT, "total", "max_total"]
    assert ["alice", "7", "7", "7"] in rows


@pytest.mark.slow
def test_rerun_grades_only_what_changed(graded, capsys):
    course, _ = graded
    capsys.readouterr()
    assert cnncourse(["grade", "--course", str(course.root), *course.grade_args]) == 0
    out = capsys.readouterr().out
    total = len(HONEST) + len(cheat_names()) + 1
    assert f"{total} submission(s) unchanged" in out
    path = course.submitted / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nbformat.write(submission(course.release_notebook(ASSIGNMENT), CORRECT), str(path))
    assert cnncourse(["grade", "--course", str(course.root), *course.grade_args]) == 0
    out = capsys.readouterr().out
    assert f"{total - 1} submission(s) unchanged" in out and "graded 1 notebooks" in out
    outcome = json.loads((course.state / "results" / ASSIGNMENT / "bob.json").read_text())["outcome"]
    assert outcome["score"] == 7


@pytest.mark.slow
def test_self_check_shows_visible_checks_only(graded, capsys):
    course, _ = graded
    path = course.submitted / "dave" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert cnncourse(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "PASS [1/1] cross_correlate1d: valid length and values on small examples" in out
    assert "_random" not in out and "hidden" not in out.split("visible checks:")[0]


@pytest.mark.slow
def test_formgrader_counts_submissions_as_autograded(graded):
    """nbgrader's own API (what formgrader shows) sees every graded submission as autograded,
    including one that nbgrader's collect stamped with a timestamp.txt."""
    course, _ = graded
    stamped = course.submitted / "carol" / ASSIGNMENT / "timestamp.txt"
    stamped.write_text("2026-11-20 10:00:00.000000 UTC")
    assert cnncourse(["grade", "--course", str(course.root), "--student", "carol", "--force", *course.grade_args]) == 0
    api = course.nbgrader_api()
    autograded = api.get_autograded_students(ASSIGNMENT)
    assert {"alice", "bob", "carol", "dave"} <= autograded
    carol = api.get_submission(ASSIGNMENT, "carol")
    assert carol["autograded"] and carol["score"] == 4
