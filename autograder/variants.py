"""Per-student variants, the grader's side (the questions themselves are in ``cnnlib.variants``).

- **The course secret**, ``course/.cnncourse/secret`` (mode 0600), made once by the first
  ``release`` or ``grade`` and never released. Keep a copy: the numbers every student saw come
  from it.
- **The assignment key**, ``release/<assignment>/variant_key.json``, written with every release of
  a notebook that has a student-id cell (a code cell tagged ``student-id``). From it a notebook
  computes the numbers of whoever runs it (JupyterHub's user name or ``STUDENT_ID``).
- **Per-student copies**, ``release-per-student/<student>/<assignment>/`` (``release
  --per-student ROSTER.csv``): the student version with that student's id and seed written into
  the student-id cell, and no key.
- **Grading**: a submission is graded with the numbers of the ``submitted/<student>`` folder it
  was collected from (:func:`submission_variant`), whatever its ``STUDENT_ID`` says; when the two
  differ, the feedback and ``checks.csv`` say so (:func:`variant_report`).
"""

from __future__ import annotations

import ast
import csv
import html
import importlib
import os
import re
import shutil
import textwrap
from pathlib import Path

import numpy as np

from cnnlib import variants
from cnnlib.variants import KEY_FILE

from .course import Course
from .notebook import Cell, NotebookPlan, free_names

SECRET_FILE = "secret"  # under course/.cnncourse/
PER_STUDENT_DIR = "release-per-student"
ID_TAG = "student-id"
FOLDER = "the submitted folder"


class VariantKeyError(RuntimeError):
    """The released key does not come from this course's secret: grading would use other numbers
    than the students saw."""


# -- the secret and the released key ------------------------------------------------------------


def course_secret(course: Course) -> str:
    """The course's secret, made on first use (32 random bytes, readable by the owner only)."""
    path = course.state / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if not re.fullmatch(r"[0-9a-f]{64}", secret):
            raise VariantKeyError(f"{path} is not a course secret (64 hexadecimal digits); restore it from your backup") from None
        return secret
    secret = variants.new_secret()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


def id_cell(cells: list[Cell]) -> Cell | None:
    """The notebook's student-id cell: tagged ``student-id``, else the first that sets ``STUDENT_ID``."""
    tagged = [c for c in cells if c.cell_type == "code" and ID_TAG in c.tags]
    if tagged:
        return tagged[0]
    return next((c for c in cells if c.cell_type == "code" and _id_literals(c.source)[0] is not None), None)


def _id_literals(source: str) -> tuple[str | None, str | None]:
    """``(STUDENT_ID, seed)`` as written in a student-id cell (literal strings only), else None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None, None
    student = seed = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "STUDENT_ID" for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                student = node.value.value.strip()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                for keyword in sub.keywords:
                    if keyword.arg == "seed" and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                        seed = keyword.value.value
    return student, seed


def has_variants(source_cells: list[Cell]) -> bool:
    return any(c.cell_type == "code" and ID_TAG in c.tags for c in source_cells)


def write_release_key(course: Course, assignment: str) -> Path | None:
    """Write ``release/<assignment>/variant_key.json`` when the notebook has varied questions."""
    from .notebook import load_notebook

    if not has_variants(load_notebook(course.source_notebook(assignment))):
        return None
    path = course.release_dir / assignment / KEY_FILE
    path.write_text(variants.key_file_text(assignment, variants.assignment_key(course_secret(course), assignment)))
    return path


def submission_variants(course: Course, assignment: str):
    """A function ``student -> variant (JSON data)`` for grading ``assignment``, or None when its
    release shipped no key (then every submission is graded with the default numbers, which is what
    its students saw). Raises :class:`VariantKeyError` when the released key is not this course's."""
    path = course.release_dir / assignment / KEY_FILE
    if not path.is_file():
        return None
    released_for, key = variants.read_key_file(path)
    if released_for != assignment or key != variants.assignment_key(course_secret(course), assignment):
        raise VariantKeyError(
            f"{path} was not made from this course's secret ({course.state / SECRET_FILE}): the students' numbers "
            "cannot be computed. Restore the secret that was in place when you released the assignment; "
            "releasing again would give the students new numbers"
        )
    return lambda student: variants.Variant(student, variants.variant_seed(key, student), FOLDER).to_json()


# -- per-student copies ---------------------------------------------------------------------------


def read_roster(path) -> list[str]:
    """Student ids from a roster CSV: the column ``id`` (nbgrader's), ``student_id`` or ``student``,
    else the first column; raises ``ValueError`` naming the line of an id that cannot be a folder."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as exc:
        raise ValueError(f"cannot read the roster {path}: {exc}") from exc
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise ValueError(f"the roster {path} is empty; it needs one student id per line (a column 'id')")
    header = [h.strip().lower() for h in rows[0]]
    column = next((header.index(name) for name in ("id", "student_id", "student") if name in header), None)
    body = rows[1:] if column is not None else rows
    column = column or 0
    students, seen = [], set()
    for number, row in enumerate(body, start=2 if body is not rows else 1):
        student = row[column].strip() if column < len(row) else ""
        if not student or student in (".", "..") or student.startswith(".") or re.search(r"[/\\\x00-\x1f]", student):
            raise ValueError(f"{path}, line {number}: {student!r} cannot be a student id (it names a folder: no '/', no leading '.', not empty)")
        if student not in seen:
            seen.add(student)
            students.append(student)
    return students


def personal_id_cell(source: str, student: str, seed: str) -> str:
    """The student-id cell of a personal copy: ``STUDENT_ID`` and the seed filled in, every other
    statement (the import) as released."""
    tree = ast.parse(source)
    lines, found = [], False
    for index, node in enumerate(tree.body):
        text = ast.get_source_segment(source, node)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "STUDENT_ID" for t in node.targets):
            text = (
                "# This copy of the assignment was made for you: your student id and the seed of your numbers are\n"
                f"# filled in. Leave this cell as it is.\nSTUDENT_ID = {student!r}"
            )
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and getattr(node.value.func, "attr", None) == "load":
            call = node.value
            if not call.args or not isinstance(call.args[0], ast.Constant) or len(node.targets) != 1:
                raise ValueError("the student-id cell must say questions = variants.load('NN', STUDENT_ID)")
            target = ast.get_source_segment(source, node.targets[0])
            text = f"{target} = variants.load({call.args[0].value!r}, STUDENT_ID, seed={seed!r})"
            found = True
        lines.append(text)
        following = tree.body[index + 1] if index + 1 < len(tree.body) else None
        if isinstance(node, (ast.Import, ast.ImportFrom)) and following is not None and not isinstance(following, (ast.Import, ast.ImportFrom)):
            lines.append("")  # a blank line after the imports
    if not found:
        raise ValueError("the student-id cell must say questions = variants.load('NN', STUDENT_ID)")
    return "\n".join(lines)


def release_per_student(course: Course, assignment: str, students: list[str]) -> Path:
    """Write ``release-per-student/<student>/<assignment>/`` for every student; returns the top folder."""
    import nbformat

    top = course.root / PER_STUDENT_DIR
    released = course.release_dir / assignment
    nb = nbformat.read(str(course.release_notebook(assignment)), as_version=4)
    index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and ID_TAG in c.metadata.get("tags", [])), None)
    key = None
    if index is not None:
        key = variants.assignment_key(course_secret(course), assignment)
    for student in students:
        folder = top / student / assignment
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(released, folder, ignore=shutil.ignore_patterns(KEY_FILE, f"{assignment}.ipynb"))
        copy = nbformat.from_dict(nb)
        if index is not None:
            copy.cells[index].source = personal_id_cell(nb.cells[index].source, student, variants.variant_seed(key, student))
        nbformat.write(copy, str(folder / f"{assignment}.ipynb"))
    return top


# -- the self-check ------------------------------------------------------------------------------


def local_variant(notebook: Path, cells: list[Cell]) -> tuple[variants.Variant | None, str]:
    """For ``cnncourse check``: the variant the notebook shows where it is, as its own cell finds it
    (a personal copy's seed, JupyterHub's user, ``STUDENT_ID``, with the key next to the notebook)."""
    cell = id_cell(cells)
    if cell is None:
        return None, ""
    student, seed = _id_literals(cell.source)
    return variants.resolve(student or "", seed=seed, key_dir=Path(notebook).parent)


# -- what grading reports ------------------------------------------------------------------------


def _format(value) -> str:
    if isinstance(value, dict):  # one answer per line, arrays aligned under their first row
        return "\n".join(f"{k} = " + _format(v).replace("\n", "\n" + " " * (len(k) + 3)) for k, v in value.items())
    if isinstance(value, np.ndarray):
        if np.all(np.isfinite(value)) and np.all(value == np.round(value)):
            value = value.astype(np.int64)
        return np.array2string(value, separator=", ")
    if isinstance(value, tuple):
        return "(" + ", ".join(_format(v) for v in value) + ")"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if isinstance(value, np.generic) else value)


def variant_report(plan: NotebookPlan, variant: variants.Variant, student_cells: list[Cell]) -> dict:
    """What the feedback shows of a graded variant: each varied question with the student's numbers
    and its answer, and a ``mismatch`` message when the notebook's ``STUDENT_ID`` names someone else."""
    report: dict = {}
    tested = {name for cell in plan.tests for name in _names(cell.source)}
    questions = []
    for module_name in plan.checks_modules:
        module = importlib.import_module(module_name)
        question_set = getattr(module, "VARIANT_QUESTIONS", None)
        answers = getattr(module, "VARIANT_ANSWERS", {})
        if question_set is None:
            continue
        for question in question_set:
            if tested & set(question.answer_names) and question.name in answers:
                questions.append({
                    "name": question.name,
                    "question": question_set.markdown(question.name, variant),
                    "answer": _format(answers[question.name](question.params(variant.seed))),
                })
    if questions:
        report.update(student=variant.student, default=variant.is_default, questions=questions)
    cell = id_cell(student_cells)
    marked = _id_literals(cell.source)[0] if cell is not None else None
    if marked and variant.student and marked != variant.student:
        report["marked_id"] = marked
        report["mismatch"] = (
            f"Your notebook says STUDENT_ID = {marked!r}, but it was handed in as {variant.student!r}, and the folder a "
            f"notebook is handed in from decides whose it is: it was graded with the questions of {variant.student!r} "
            "(the feedback page lists them, with their answers)."
        )
    return report


def _names(source: str) -> list[str]:
    try:
        return free_names(source)
    except SyntaxError:
        return []


def _markdown_html(text: str) -> str:
    """The little Markdown the questions use as HTML: ```fenced blocks```, `code`, *emphasis*,
    paragraphs."""
    parts = []
    for index, piece in enumerate(re.split(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```[ \t]*$", text, flags=re.M | re.S)):
        if index % 2:  # a fenced block, as it is
            parts.append(f"<pre>{html.escape(textwrap.dedent(piece).rstrip())}</pre>")
            continue
        piece = html.escape(piece.strip())
        piece = re.sub(r"`([^`]+)`", r"<code>\1</code>", piece)
        piece = re.sub(r"\*([^*]+)\*", r"<i>\1</i>", piece)
        if piece:
            parts.append(piece.replace("\n\n", "<br><br>"))
    return "\n".join(parts)


def questions_html(report: dict) -> str:
    """The feedback page's "Your questions" section ('' when the notebook has none)."""
    questions = (report or {}).get("questions")
    if not questions:
        return ""
    whose = "the default numbers" if report.get("default") else f"the numbers of {html.escape(str(report.get('student')))}"
    parts = [
        "<h2>Your questions</h2>",
        f"<p>Your questions had numbers of their own ({whose}); here they are with their answers.</p>",
        "<table><tr><th>question</th><th>answer</th></tr>",
    ]
    for q in questions:
        question = re.sub(r"^\d+\. ", "", q["question"])
        parts.append(f"<tr><td>{_markdown_html(question)}</td><td><pre style='white-space:pre'>{html.escape(q['answer'])}</pre></td></tr>")
    parts.append("</table>")
    return "\n".join(parts)
