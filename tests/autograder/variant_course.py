"""A small course notebook with per-student questions, for the grader's variant tests.

Four of notebook 03's exam questions (4 points), with the course's own id cell and checks; the
solution computes each answer from the variant's numbers, as the real notebook does. A
submission answers with plain numbers, as a student types them.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from fixture_course import code_cell

from cnnlib import variants
from cnnlib.checks import nb03

ASSIGNMENT = "03_variant_fixture"
QUESTIONS = ("answer_volume", "answer_no_padding", "answer_stride3", "answer_alexnet")
ID_CELL = 'from cnnlib import variants\n\nSTUDENT_ID = ""  # your student id, only when the line this cell prints asks for it\nquestions = variants.load("03", STUDENT_ID)'
SOLUTION = """\
answer_volume = None
answer_no_padding = None
answer_stride3 = None
answer_alexnet = None
### BEGIN SOLUTION
q = questions["answer_volume"]
side = (q.n + 2 * q.padding - q.k) // q.stride + 1
answer_volume = (side, side, q.filters)
q = questions["answer_no_padding"]
answer_no_padding = q.n - q.k + 1
q = questions["answer_stride3"]
answer_stride3 = (q.n - q.k) // 3 + 1
q = questions["answer_alexnet"]
side = (q.n - q.k) // q.stride + 1
answer_alexnet = (side, side, q.filters)
### END SOLUTION"""
TEST = '"""Exam answers: output volumes and sizes of single convolution layers."""\nfrom cnnlib.checks import nb03\n\n' + "\n".join(f"nb03.{name}({name})" for name in QUESTIONS)


def build_source(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Exam questions with numbers of your own"),
        code_cell("import numpy as np", tags=["setup"]),
        code_cell(ID_CELL, tags=["setup", "student-id"]),
        code_cell('questions.show(*%r)' % (QUESTIONS,)),
        code_cell(SOLUTION, grade=False, solution=True, locked=False, grade_id="answer_conv_sizes"),
        code_cell(TEST, grade=True, solution=False, locked=True, grade_id="test_answer_conv_sizes", points=4),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def answers_for(variant: variants.Variant) -> dict:
    """The right answers for ``variant``, computed with the checks' own answers."""
    return {name: nb03.VARIANT_ANSWERS[name](nb03.VARIANT_QUESTIONS.params(name, variant)) for name in QUESTIONS}


def submission(release: Path, answers: dict, *, student_id: str | None = None) -> nbformat.NotebookNode:
    """The released notebook answered with ``answers`` typed as numbers (and ``STUDENT_ID`` filled in)."""
    nb = nbformat.read(str(release), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "answer_conv_sizes":
            cell.source = "\n".join(f"{name} = {value!r}" for name, value in answers.items())
        if student_id is not None and "student-id" in cell.metadata.get("tags", []):
            cell.source = cell.source.replace('STUDENT_ID = ""', f"STUDENT_ID = {student_id!r}")
    return nb
