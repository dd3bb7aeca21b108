"""The course's notebooks with per-student questions: the instructor's solutions earn full marks
for any student's numbers (they compute each answer from the numbers the grader gives the sandbox),
and the grader reports every varied question of the notebook with its answer."""

from __future__ import annotations

import pytest

from autograder.course import DEFAULT_NOTEBOOKS
from autograder.grading import grade_notebook
from autograder.notebook import load_notebook, plan_notebook
from autograder.sandbox.client import Zygote
from autograder.variants import has_variants
from cnnlib import variants

VARIED = {"03": "03_output_size_arithmetic", "04": "04_channels_and_parameters", "05": "05_matrix_view_im2col_receptive_fields", "07": "07_backprop_through_conv_and_pool"}
KEY = variants.assignment_key("0f" * 32, "any-course")


@pytest.fixture(scope="module")
def zygote():
    z = Zygote(use_bwrap=False)
    yield z
    z.close()


def test_exactly_these_notebooks_have_varied_questions():
    with_id_cell = {p.name[:2] for p in sorted(DEFAULT_NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) if has_variants(load_notebook(p))}
    assert with_id_cell == set(VARIED)


@pytest.mark.slow
@pytest.mark.parametrize("number", sorted(VARIED))
def test_solutions_earn_full_marks_for_any_student(zygote, number):
    cells = load_notebook(DEFAULT_NOTEBOOKS / f"{VARIED[number]}.ipynb")
    plan = plan_notebook(VARIED[number], cells)
    question_set = variants.question_set(number)
    for student in ("ada", "grace"):
        variant = variants.Variant(student, variants.variant_seed(KEY, student), "test")
        outcome = grade_notebook(zygote, plan, cells, variant=variant)
        failed = [f"{c.grade_id}/{k.name}: {k.message}" for c in outcome.cells for k in c.checks if not k.passed]
        assert outcome.score == outcome.max_score, failed
        assert [q["name"] for q in outcome.variant["questions"]] == list(question_set.questions)
        assert outcome.variant["student"] == student and not outcome.variant["default"]
