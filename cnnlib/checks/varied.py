"""What the checks of per-student questions share (:mod:`cnnlib.variants`).

A check of a varied question grades the variant being graded (:func:`cnnlib.variants.current`:
the grader's, or the one the notebook loaded) and, when that is not the default, recognises an
answer to the default numbers: the most likely way to answer someone else's question is to answer
the one a notebook shows before it knows who you are.
"""

from __future__ import annotations

from cnnlib import variants
from cnnlib.variants import Params, QuestionSet

#: What a student is told whose answer fits the default numbers instead of their own.
DEFAULT_NUMBERS = (
    "that is the answer for the course's default numbers, not for your own question: once the notebook "
    "knows your student id (STUDENT_ID near the top, or JupyterHub) it shows your numbers; answer with those"
)


def numbers(question_set: QuestionSet, name: str) -> tuple[Params, Params | None]:
    """``(numbers graded, default numbers)`` of question ``name``; the second is None when the
    variant being graded is the default one."""
    variant = variants.current()
    mine = question_set.params(name, variant)
    return mine, (None if variant.is_default else question_set.params(name, variants.DEFAULT))
