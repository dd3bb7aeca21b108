"""What every engine is given and gives back, whatever runs the grading.

The grader hands an engine the class as plain data: one :class:`AssignmentFiles` per assignment
(the source notebook, with solutions and hidden tests, and the released version) and one
:class:`Submission` per student notebook (its file's bytes). A grading process needs nothing else
from the course folder, so it can run on a machine that has no copy of it. What comes back for
each submission is the outcome as JSON text (:meth:`NotebookOutcome.to_json`), or the exception
that stopped the grader on it; the grader alone writes results, gradebook and reports.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterable, Iterator


class EngineUnavailable(RuntimeError):
    """The engine cannot grade anything (a scheduler that cannot be reached, no workers, workers
    with different grading code); the message says what to do. Nothing has been graded."""


class EngineLost(EngineUnavailable):
    """The engine stopped working in the middle of a run (its scheduler went away). The results
    received until then are saved; the next run grades the rest."""


@dataclass(frozen=True)
class AssignmentFiles:
    """The instructor's notebooks of one assignment, as file contents."""

    assignment: str
    source: bytes  # course/source/<assignment>/<assignment>.ipynb: solutions and hidden tests
    release: bytes | None  # course/release/<assignment>/<assignment>.ipynb, when released

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.source + b"\0" + (self.release or b"")).hexdigest()


@dataclass(frozen=True)
class Submission:
    """One student's notebook, as file contents, and the key its result is stored under."""

    student: str
    assignment: str
    key: str  # parallel.submission_key: the submission's and the source's bytes, the grader's version
    notebook: bytes
    variant: dict | None = None  # whose numbers its varied questions have (cnnlib.variants.Variant.to_json)

    @property
    def name(self) -> str:
        """How the student's file is named in messages (relative to the course folder)."""
        return f"submitted/{self.student}/{self.assignment}/{self.assignment}.ipynb"


class Engine(ABC):
    """Runs :func:`autograder.engines.runner.grade_submission` on many submissions at once.

    Used as a context manager: entering it starts or connects to the machinery (and raises
    :class:`EngineUnavailable` when it cannot), leaving it stops or disconnects, cancelling
    whatever is still running (an interrupted ``grade`` leaves nothing behind).
    """

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        return None

    @abstractmethod
    def run(self, submissions: Iterable[Submission], files: dict[str, AssignmentFiles], settings: dict) -> Iterator[tuple[Submission, str | BaseException]]:
        """Grade ``submissions``, yielding ``(submission, outcome JSON text or exception)`` as
        each finishes, exactly once per submission. ``submissions`` is read lazily: only a few
        notebooks per grading process are in flight at a time, so a large class is never held in
        memory at once."""

    @abstractmethod
    def describe(self) -> str:
        """A few words for the summary line: ``2 jobs``, ``Dask at tcp://host:8786, 8 workers``."""
