"""Whose numbers: a :class:`Variant`, and where it comes from in each place the questions are used.

* **In the grader** (``cnncourse grade``), the student is the ``submitted/<student>`` folder and
  the seed comes from the course secret. The grader sets the variant in two places, neither of
  which the student's code can touch: :func:`grading` (a context variable in the grader's own
  process, where the checks compute the expected answers) and :func:`impose` (in the sandboxed
  process that runs the student's code, so the notebook's own cells see the same numbers).
* **In the student's notebook** (and ``cnncourse check``), :func:`resolve` finds the id: baked into
  a personal copy (with its seed); else JupyterHub's user name (``$JUPYTERHUB_USER``); else the
  notebook's ``STUDENT_ID`` cell; and computes the seed with the assignment key released next to
  the notebook (:data:`~cnnlib.variants.keys.KEY_FILE`).
* **Nowhere** (someone working through the course alone): the default variant, the numbers the
  course prints.

The checks ask :func:`current`, which answers in that order of trust: the grader's context, the
variant imposed on this process, the variant the notebook loaded, the default.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .keys import KEY_FILE, KeyFileError, read_key_file, variant_seed
from .questions import Questions, QuestionSet

__all__ = ["DEFAULT", "Variant", "current", "grading", "impose", "load", "question_set", "resolve"]


@dataclass(frozen=True)
class Variant:
    """Whose numbers: a student and the seed of their numbers; no seed is the default variant.

    ``source`` says where the student's id came from ("the submitted folder", "your JupyterHub
    user name", ...), for messages.
    """

    student: str | None = None
    seed: str | None = None
    source: str = ""

    @property
    def is_default(self) -> bool:
        return self.seed is None

    def describe(self, capital: bool = False) -> str:
        text = "the default numbers" if self.is_default else f"the numbers of student {self.student!r}"
        return text[0].upper() + text[1:] if capital else text

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict | None) -> "Variant":
        if not data:
            return DEFAULT
        return cls(data.get("student"), data.get("seed"), data.get("source", ""))


DEFAULT = Variant()

# The grader's variant, in the grader's own process (never set by anything a student runs).
_grading: contextvars.ContextVar = contextvars.ContextVar("cnnlib_variant_grading", default=None)
# The variant the grader imposed on this (sandboxed) process before the student's code ran.
_imposed: Variant | None = None
# The variant the notebook's own load() found (a student's kernel).
_loaded: Variant | None = None


@contextlib.contextmanager
def grading(variant: Variant):
    """``with grading(variant):`` checks run inside compute the answers of ``variant``."""
    token = _grading.set(variant)
    try:
        yield variant
    finally:
        _grading.reset(token)


def impose(variant: Variant) -> None:
    """Fix this process's variant (the grader does it in the sandboxed process before any student
    code runs): :func:`load` then returns it whatever the notebook says."""
    global _imposed
    _imposed = variant


def current() -> Variant:
    """The variant the checks grade: the grader's, else the imposed one, else the loaded one, else the default."""
    return _grading.get() or _imposed or _loaded or DEFAULT


def question_set(notebook: str) -> QuestionSet:
    """The varied questions of notebook ``"03"`` (``cnnlib.variants.nb03.QUESTIONS``)."""
    if not isinstance(notebook, str) or not re.fullmatch(r"\d\d", notebook):
        raise ValueError(f"notebook must be a notebook's two-digit number such as '03', got {notebook!r}")
    try:
        module = importlib.import_module(f"cnnlib.variants.nb{notebook}")
    except ModuleNotFoundError:
        raise ValueError(f"notebook {notebook} has no varied questions (there is no cnnlib.variants.nb{notebook})") from None
    return module.QUESTIONS


def resolve(student_id: str = "", *, seed: str | None = None, key_dir=".") -> tuple[Variant, str]:
    """Find the student and their seed where a notebook runs; returns ``(variant, message)``.

    ``seed`` is given in a personal copy (baked in with the id). Otherwise the id is
    ``$JUPYTERHUB_USER`` or, failing that, ``student_id`` (the notebook's ``STUDENT_ID``), and the
    seed is computed with the key file in ``key_dir``. Without a key file or an id the variant is
    the default, and the message says what to do when that is not what the course wants.
    """
    if _imposed is not None:
        return _imposed, f"Graded with {_imposed.describe()}."
    typed = (student_id or "").strip() if isinstance(student_id, str) else ""
    if seed:
        if not typed:
            raise ValueError("a personal copy gives both its student's id and seed; STUDENT_ID is empty")
        return Variant(typed, seed, "this copy, made for you"), f"Your questions use the numbers of student {typed!r} (this copy was made for you)."
    hub = os.environ.get("JUPYTERHUB_USER", "").strip()
    student, source = (hub, "your JupyterHub user name") if hub else (typed, "STUDENT_ID") if typed else (None, "")
    key_path = Path(key_dir) / KEY_FILE
    if not key_path.is_file():
        if student:
            return DEFAULT, (
                f"There is no {KEY_FILE} next to this notebook, so the questions show the default numbers, not those "
                f"of {student!r}. If your course gives each student their own numbers, copy {KEY_FILE} from the "
                "assignment's folder next to the notebook and run this cell again."
            )
        return DEFAULT, "The questions show the course's default numbers (this notebook has no course key next to it)."
    try:
        _, key = read_key_file(key_path)
    except KeyFileError as exc:
        return DEFAULT, f"{exc}. Until then the questions show the default numbers, which are not yours."
    if not student:
        return DEFAULT, (
            "This assignment gives every student their own numbers, and this notebook does not know who you are: "
            "write your student id (the one your course knows you by) between the quotes of STUDENT_ID in this "
            "cell and run it again. Until then the questions show the default numbers, which are not yours."
        )
    message = f"Your questions use the numbers of student {student!r} (from {source})."
    if hub and typed and typed != hub:
        message += f" STUDENT_ID says {typed!r}, but your work is collected under your JupyterHub name, so its numbers are used."
    return Variant(student, variant_seed(key, student), source), message


def load(notebook: str, student_id: str = "", *, seed: str | None = None, key_dir=".") -> Questions:
    """This student's questions of ``notebook`` (``"03"``); prints one line saying whose numbers they are.

    Called once near the top of a notebook with varied questions::

        STUDENT_ID = ""
        questions = variants.load("03", STUDENT_ID)

    In the grader's sandbox it returns the numbers of the student being graded, whatever the cell says.
    """
    global _loaded
    questions = question_set(notebook)
    variant, message = resolve(student_id, seed=seed, key_dir=key_dir)
    if _imposed is None:
        _loaded = variant
    print(message)
    return questions.for_variant(variant)
