"""Questions whose numbers vary per student: the parameters of one question (:class:`Params`),
how they are drawn (:class:`Question`), a notebook's questions (:class:`QuestionSet`), and one
student's view of them (:class:`Questions`).

A question's numbers come from a generator of its own, seeded from the student's seed and the
question's name, so adding or changing one question never changes the numbers of another. The
default variant (no student) is the question as the course prints it for someone working alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Params", "Question", "QuestionSet", "Questions", "a", "number_word"]

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def number_word(n: int) -> str:
    """``10 -> "ten"`` up to twelve, digits above: how the questions write small counts."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def a(n: int) -> str:
    """The article before a number read aloud: ``a(8) -> "an"`` (eight), ``a(32) -> "a"``."""
    digits = str(n)
    return "an" if digits.startswith("8") or digits in ("11", "18") or (len(digits) in (5, 6) and digits[:2] in ("11", "18")) else "a"


def _plain(value):
    """Numbers as Python ints and floats, arrays and lists as tuples: data that reads the same everywhere."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


class Params(Mapping):
    """One question's numbers, read-only: ``p.n`` or ``p["n"]``.

    Arrays are stored as tuples of tuples (write ``np.array(p.x)`` to compute with one).
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping):
        object.__setattr__(self, "_values", {str(k): _plain(v) for k, v in dict(values).items()})

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        try:
            return values[name]
        except KeyError:
            raise AttributeError(f"this question has no number called {name!r}; it has {', '.join(values)}") from None

    def __setattr__(self, name, value):
        raise AttributeError("a question's numbers are read-only")

    def __getitem__(self, name):
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        return "Params(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"

    def __eq__(self, other):
        return isinstance(other, Params) and self._values == other._values

    def __hash__(self):
        return hash(repr(self))


@dataclass(frozen=True)
class Question:
    """One question: its name, the course's default numbers, how to draw other numbers, its text.

    ``name`` is the answer variable (``answer_volume``), or the answer cell's id when one
    question has several answers (``answers`` then lists them). ``draw(rng)`` returns a dict of
    numbers that always make a valid, non-degenerate question; ``text(params)`` the question in
    Markdown, without its number in the list.
    """

    name: str
    default: Mapping
    draw: Callable[[np.random.Generator], Mapping]
    text: Callable[[Params], str]
    answers: tuple[str, ...] = ()

    @property
    def answer_names(self) -> tuple[str, ...]:
        return self.answers or (self.name,)

    def params(self, seed: str | None) -> Params:
        """The numbers for ``seed`` (a student's seed, hex), or the defaults when it is None."""
        if seed is None:
            return Params(self.default)
        digest = hashlib.sha256(f"{seed}/{self.name}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:16], "big"))
        return Params(self.draw(rng))


class QuestionSet:
    """The varied questions of one notebook, in the order the notebook numbers them."""

    def __init__(self, notebook: str, questions: list[Question]):
        self.notebook = notebook
        self.questions = {q.name: q for q in questions}
        if len(self.questions) != len(questions):
            raise ValueError(f"question names in notebook {notebook} must be unique")

    def __iter__(self):
        return iter(self.questions.values())

    def __contains__(self, name) -> bool:
        return name in self.questions

    def question(self, name: str) -> Question:
        try:
            return self.questions[name]
        except KeyError:
            raise KeyError(f"notebook {self.notebook} has no varied question {name!r}; it has {', '.join(self.questions)}") from None

    def number(self, name: str) -> int:
        """The question's number in the notebook's list (1 for the first)."""
        return list(self.questions).index(self.question(name).name) + 1

    def params(self, name: str, variant) -> Params:
        """The numbers of question ``name`` in ``variant`` (a :class:`~cnnlib.variants.Variant`)."""
        return self.question(name).params(variant.seed)

    def markdown(self, name: str, variant) -> str:
        """The question with the variant's numbers: ``3. `answer_stride3`: a 3 × 3 filter ...``."""
        question = self.question(name)
        return f"{self.number(name)}. `{question.name}`: {question.text(question.params(variant.seed))}"

    def for_variant(self, variant) -> "Questions":
        return Questions(self, variant)


class Questions:
    """One student's questions of one notebook (what :func:`cnnlib.variants.load` returns).

    ``questions["answer_volume"]`` gives that question's numbers (:class:`Params`);
    ``questions.show("answer_volume", ...)`` displays the questions with them.
    """

    def __init__(self, question_set: QuestionSet, variant):
        self.question_set = question_set
        self.variant = variant

    def __getitem__(self, name: str) -> Params:
        return self.question_set.params(name, self.variant)

    def __repr__(self):
        return f"<the questions of notebook {self.question_set.notebook}: {self.variant.describe()}>"

    def markdown(self, *names: str) -> str:
        """The questions ``names`` as a Markdown list with this variant's numbers."""
        names = names or tuple(self.question_set.questions)
        lines = [self.question_set.markdown(name, self.variant) for name in names]
        return "\n".join(lines) + f"\n\n*{self.variant.describe(capital=True)}.*"

    def show(self, *names: str) -> None:
        """Display the questions (as Markdown in Jupyter, as text elsewhere)."""
        text = self.markdown(*names)
        try:
            from IPython import get_ipython
            from IPython.display import Markdown, display

            if get_ipython() is not None:
                display(Markdown(text))
                return
        except ImportError:  # pragma: no cover - IPython comes with Jupyter
            pass
        print(text)
