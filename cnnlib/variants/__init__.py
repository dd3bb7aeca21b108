"""Per-student variants of the course's numeric questions, so that copying a neighbour's numbers
earns nothing.

A question such as "a 3 × 3 filter on a 7 × 7 input with stride 3: what is the output size?" has
its numbers drawn per student from a seed derived from the student's id, the assignment and a
course secret (:mod:`cnnlib.variants.keys`). Each student sees their own question, and the
self-check and the grader compute the expected answer for that student's numbers
(:mod:`cnnlib.variants.context` says where the student's id comes from in each place).

- :mod:`~cnnlib.variants.keys`: the secret, the released assignment key, a student's seed.
- :mod:`~cnnlib.variants.questions`: a question's numbers, text and generator; a notebook's set.
- :mod:`~cnnlib.variants.context`: whose numbers, in the notebook, the self-check and the grader.
- ``nb03``, ``nb04``, ``nb05``, ``nb07``: each notebook's varied questions (``QUESTIONS``).

In a notebook::

    from cnnlib import variants

    STUDENT_ID = ""
    questions = variants.load("03", STUDENT_ID)  # prints whose numbers these are
    questions.show("answer_volume")               # the question, with this student's numbers
    q = questions["answer_volume"]                # its numbers: q.n, q.k, ...

Without a student (someone working through the course alone) every question has its default
numbers, the ones the course has always printed. This package computes no answers: the checks do
(``cnnlib.checks``), with the library.
"""

from .context import DEFAULT, Variant, current, grading, impose, load, question_set, resolve
from .keys import KEY_FILE, KeyFileError, assignment_key, key_file_text, new_secret, read_key_file, variant_seed
from .questions import Params, Question, Questions, QuestionSet, number_word

__all__ = [
    "DEFAULT",
    "KEY_FILE",
    "KeyFileError",
    "Params",
    "Question",
    "QuestionSet",
    "Questions",
    "Variant",
    "assignment_key",
    "current",
    "grading",
    "impose",
    "key_file_text",
    "load",
    "new_secret",
    "number_word",
    "question_set",
    "read_key_file",
    "resolve",
    "variant_seed",
]
