"""Per-student variants through ``cnncourse``: the release ships the assignment key and never the
secret, per-student copies carry their student's id and seed, every student's own answers earn
full marks, a neighbour's numbers do not, the folder decides whose numbers are graded (and the
feedback and checks.csv say so when the notebook names someone else), the self-check uses the
released key, and a key that does not match the course's secret stops the grading."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat

import nbformat
import pytest
from variant_course import ASSIGNMENT, QUESTIONS, answers_for, build_source, submission

from autograder import variants as course_variants
from autograder.cli import main as cnncourse
from autograder.course import Course
from cnnlib import variants

GRADE_ARGS = ["--jobs", "2", "--cell-time-limit", "20", "--call-time-limit", "20", "--notebook-time-limit", "120", "--memory-limit-mb", "1024", "--quiet", "--no-bwrap"]
CLASS = [f"s{i:03d}" for i in range(50)]


def _variant(course: Course, student: str) -> variants.Variant:
    key = variants.assignment_key(course_variants.course_secret(course), ASSIGNMENT)
    return variants.Variant(student, variants.variant_seed(key, student))


def _put(course: Course, student: str, nb) -> None:
    path = course.submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def _secret_forms(course: Course) -> list[bytes]:
    secret = course_variants.course_secret(course)
    return [secret.encode(), secret.upper().encode(), bytes.fromhex(secret)]


def _files_holding(folder, needles) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and any(needle in path.read_bytes() for needle in needles):
            found.append(str(path))
    return found


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    root = tmp_path_factory.mktemp("variants")
    source = build_source(root / "notebooks" / f"{ASSIGNMENT}.ipynb")
    roster = root / "roster.csv"
    roster.write_text("id,first_name\nalice,Alice\nbob,Bob\ncarol,Carol\n")
    course = Course(root / "course")
    assert cnncourse(["release", "--course", str(course.root), "--no-manifest", "--per-student", str(roster), str(source)]) == 0
    return course


def test_release_ships_the_key_and_keeps_the_secret(released):
    course = released
    secret_path = course.state / course_variants.SECRET_FILE
    assert stat.S_IMODE(secret_path.stat().st_mode) == 0o600
    key_path = course.release_dir / ASSIGNMENT / variants.KEY_FILE
    assert variants.read_key_file(key_path) == (ASSIGNMENT, variants.assignment_key(course_variants.course_secret(course), ASSIGNMENT))
    assert course_variants.course_secret(course) == course_variants.course_secret(course)  # made once
    assert _files_holding(course.release_dir, _secret_forms(course)) == []
    assert _files_holding(course.root / course_variants.PER_STUDENT_DIR, _secret_forms(course)) == []


def test_per_student_copies_carry_their_id_and_seed_but_no_key(released, monkeypatch):
    course = released
    # running a copy's student-id cell here loads that student's variant into this test process:
    # put the process's variant back afterwards, or later checks in this worker grade alice's numbers
    monkeypatch.setattr(variants.context, "_loaded", None)
    monkeypatch.setattr(variants.context, "_imposed", None)
    top = course.root / course_variants.PER_STUDENT_DIR
    assert sorted(p.name for p in top.iterdir()) == ["alice", "bob", "carol"]
    release = nbformat.read(str(course.release_notebook(ASSIGNMENT)), as_version=4)
    key = variants.assignment_key(course_variants.course_secret(course), ASSIGNMENT)
    for student in ("alice", "bob", "carol"):
        folder = top / student / ASSIGNMENT
        assert sorted(p.name for p in folder.iterdir()) == [f"{ASSIGNMENT}.ipynb"]  # no variant_key.json
        copy = nbformat.read(str(folder / f"{ASSIGNMENT}.ipynb"), as_version=4)
        assert len(copy.cells) == len(release.cells)
        for mine, theirs in zip(copy.cells, release.cells):
            if "student-id" in theirs.metadata.get("tags", []):
                assert f"STUDENT_ID = {student!r}" in mine.source and f"seed={variants.variant_seed(key, student)!r}" in mine.source
                assert key not in mine.source
                namespace = {}
                exec(mine.source, namespace)  # the cell runs where there is no key and gives this student's numbers
                assert namespace["questions"].variant.seed == variants.variant_seed(key, student)
            else:
                assert mine.source == theirs.source


def test_roster_errors_name_the_line(tmp_path):
    bad = tmp_path / "roster.csv"
    bad.write_text("id\nalice\n../etc\n")
    with pytest.raises(ValueError, match="line 3: '../etc'"):
        course_variants.read_roster(bad)
    plain = tmp_path / "plain.csv"
    plain.write_text("alice\nbob\nalice\n")
    assert course_variants.read_roster(plain) == ["alice", "bob"]


@pytest.fixture(scope="module")
def graded(released):
    course = released
    release = course.release_notebook(ASSIGNMENT)
    for student in CLASS + ["alice"]:
        _put(course, student, submission(release, answers_for(_variant(course, student))))
    _put(course, "bob", submission(release, answers_for(_variant(course, "alice"))))  # copied alice's answers
    _put(course, "carol", submission(release, answers_for(_variant(course, "dave")), student_id="dave"))  # dave's notebook
    _put(course, "erin", submission(release, answers_for(variants.DEFAULT)))  # answered the default numbers
    assert cnncourse(["grade", "--course", str(course.root), *GRADE_ARGS]) == 0
    assert cnncourse(["feedback", "--course", str(course.root)]) == 0
    results = {p.stem: json.loads(p.read_text())["outcome"] for p in (course.state / "results" / ASSIGNMENT).glob("*.json")}
    return course, results


def _messages(outcome) -> str:
    return "\n".join(c["message"] for cell in outcome["cells"] for c in cell["checks"]) + "\n" + "\n".join(outcome["notes"])


@pytest.mark.slow
def test_every_students_own_answers_earn_full_marks(graded):
    _, results = graded
    low = {s: results[s]["score"] for s in CLASS + ["alice"] if results[s]["score"] != 4}
    assert not low, {s: _messages(results[s]) for s in low}


@pytest.mark.slow
def test_a_neighbours_numbers_earn_less(graded):
    course, results = graded
    alice, bob = _variant(course, "alice"), _variant(course, "bob")
    differing = sum(answers_for(alice)[q] != answers_for(bob)[q] for q in QUESTIONS)
    assert differing >= 3
    assert results["alice"]["score"] == 4 and results["bob"]["score"] == 4 - differing


@pytest.mark.slow
def test_default_numbers_are_recognised(graded):
    _, results = graded
    assert results["erin"]["score"] < 4
    assert "default numbers" in _messages(results["erin"])


@pytest.mark.slow
def test_the_folder_decides_and_the_mismatch_is_reported(graded):
    course, results = graded
    carol = results["carol"]
    mismatch = "STUDENT_ID = 'dave', but it was handed in as 'carol'"
    assert carol["score"] < 4 and mismatch in carol["notes"][0]
    assert carol["variant"]["marked_id"] == "dave" and carol["variant"]["student"] == "carol"
    with open(course.reports / "checks.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["student"] == "carol" and r["grade_id"] == "(student id)"]
    assert len(rows) == 1 and mismatch in rows[0]["message"]
    page = (course.feedback / "carol" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "STUDENT_ID = &#x27;dave&#x27;, but it was handed in as &#x27;carol&#x27;" in page


@pytest.mark.slow
def test_feedback_shows_the_students_own_questions_and_answers(graded):
    course, _ = graded
    page = (course.feedback / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    variant = _variant(course, "alice")
    assert "Your questions" in page and "numbers of alice" in page
    q = variants.question_set("03").params("answer_no_padding", variant)
    assert f"one {q.k} × {q.k} filter slides over a {q.n} × {q.n} image" in page
    assert f">{answers_for(variant)['answer_no_padding']}</pre>" in page
    side, _, filters = answers_for(variant)["answer_volume"]
    assert f">({side}, {side}, {filters})</pre>" in page


@pytest.mark.slow
def test_secret_is_in_no_report(graded):
    course, _ = graded
    for folder in (course.feedback, course.reports, course.autograded, course.release_dir, course.root / course_variants.PER_STUDENT_DIR):
        assert _files_holding(folder, _secret_forms(course)) == [], folder


@pytest.mark.slow
def test_regrading_is_resumable_and_stable(graded):
    course, results = graded
    assert cnncourse(["grade", "--course", str(course.root), *GRADE_ARGS]) == 0  # nothing changed: nothing regraded
    again = {p.stem: json.loads(p.read_text())["outcome"]["score"] for p in (course.state / "results" / ASSIGNMENT).glob("*.json")}
    assert again == {s: r["score"] for s, r in results.items()}


@pytest.mark.slow
def test_worker_never_receives_the_secret_or_the_key(released, monkeypatch):
    """What the grader sends the sandboxed process: the student's seed, never the secret or the key."""
    from autograder.grading import grade_notebook
    from autograder.notebook import load_notebook, plan_notebook
    from autograder.sandbox.client import Zygote

    course = released
    sent = []
    real_fork = Zygote.fork

    def recording_fork(self, config):
        sent.append(json.dumps(config))
        return real_fork(self, config)

    monkeypatch.setattr(Zygote, "fork", recording_fork)
    variant = _variant(course, "alice")
    plan = plan_notebook(ASSIGNMENT, load_notebook(course.source_notebook(ASSIGNMENT)), load_notebook(course.release_notebook(ASSIGNMENT)))
    zygote = Zygote(use_bwrap=False)
    try:
        outcome = grade_notebook(zygote, plan, load_notebook(course.source_notebook(ASSIGNMENT)), variant=variant)
    finally:
        zygote.close()
    assert outcome.score == 4  # the instructor's solutions compute alice's answers in the sandbox
    secret = course_variants.course_secret(course)
    key = variants.assignment_key(secret, ASSIGNMENT)
    assert sent and all(secret not in s and key not in s for s in sent)
    assert any(variant.seed in s for s in sent)


@pytest.mark.slow
def test_self_check_uses_the_released_key(released, tmp_path, monkeypatch, capsys):
    course = released
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    folder = tmp_path / "home" / ASSIGNMENT
    shutil.copytree(course.release_dir / ASSIGNMENT, folder)
    notebook = folder / f"{ASSIGNMENT}.ipynb"
    alice = _variant(course, "alice")
    nbformat.write(submission(notebook, answers_for(alice), student_id="alice"), str(notebook))
    assert cnncourse(["check", str(notebook), "--no-bwrap"]) == 0
    out = capsys.readouterr().out
    assert "numbers of student 'alice' (from STUDENT_ID)" in out and "visible checks: 4 of 4 points" in out

    monkeypatch.setenv("JUPYTERHUB_USER", "alice")  # on JupyterHub: nothing typed
    nbformat.write(submission(notebook, answers_for(alice)), str(notebook))
    assert cnncourse(["check", str(notebook), "--no-bwrap"]) == 0
    out = capsys.readouterr().out
    assert "(from your JupyterHub user name)" in out and "visible checks: 4 of 4 points" in out

    monkeypatch.delenv("JUPYTERHUB_USER")
    (folder / variants.KEY_FILE).unlink()  # no key: the default numbers, and it says so
    assert cnncourse(["check", str(notebook), "--no-bwrap"]) == 0
    out = capsys.readouterr().out
    assert "default numbers" in out and "visible checks: 4 of 4 points" not in out


def test_a_replaced_secret_stops_grading(released, tmp_path, capsys):
    course = Course(tmp_path / "course")
    shutil.copytree(released.root, course.root, ignore=shutil.ignore_patterns("submitted", "results"))
    (course.state / course_variants.SECRET_FILE).unlink()
    os.makedirs(course.submitted / "alice" / ASSIGNMENT)
    shutil.copy(released.release_notebook(ASSIGNMENT), course.submitted / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    assert cnncourse(["grade", "--course", str(course.root), *GRADE_ARGS]) == 2
    assert "was not made from this course's secret" in capsys.readouterr().err


def test_feedback_renders_a_questions_code_block():
    variant = variants.Variant("alice", "ab" * 32)
    question_set = variants.question_set("07")
    page = course_variants.questions_html({"student": "alice", "default": False, "questions": [
        {"name": "answer_hand_example", "question": question_set.markdown("answer_hand_example", variant), "answer": "answer_db = 3"}]})
    q = question_set.params("answer_hand_example", variant)
    assert "```" not in page and "<pre>x" in page and "dout" in page
    assert "[" + " ".join(f"{v:2d}" for v in q.x[0]) + " ]" in page  # the first row of x, as the notebook shows it
    assert "numbers of alice" in page and course_variants.questions_html({}) == ""
