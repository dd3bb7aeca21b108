"""What is compared: each student's code as the grader runs it, and the starter code to leave out.

A student's code is :func:`autograder.notebook.student_code`'s selection (the solution cells and
any code cells they added), so the report compares exactly what was graded. The starter code is
every code cell of the released notebook, stubs, signatures and docstrings included: what every
student received is no evidence of anything.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..course import Course
from ..notebook import Cell, load_notebook, plan_notebook, student_code
from ..sandbox.policy import strip_magics
from .fingerprints import K, CodeCell, all_kgrams, canonical_tokens
from .pairs import Submission


@dataclass
class Starter:
    """What every student received: its k-grams (left out) and the names it defines (kept)."""

    kgrams: set[int]
    names: frozenset[str]


def api_names(source: str) -> set[str]:
    """The functions and classes a cell defines and the modules it imports (not its variables,
    whose names a student may well reuse for something else)."""
    try:
        tree = ast.parse(strip_magics(source)[0])
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def starter_code(release: list[Cell], k: int = K) -> Starter:
    """The released notebook's code cells: every k-gram, and the names of the functions,
    classes and modules they define (the exercises' functions, ``np``), which stay as written
    when tokens are normalised."""
    sources = [c.source for c in release if c.cell_type == "code"]
    names = frozenset(n for source in sources for n in api_names(source))
    return Starter(all_kgrams(sources, k, names), names)


def code_cells(cells: list[Cell], starter: Starter) -> list[CodeCell]:
    return [CodeCell(f"cell {c.index + 1}" + (f" ({c.grade_id})" if c.grade_id else ""), c.source, canonical_tokens(c.source, starter.names)) for c in cells]


def load_assignment(course: Course, assignment: str, *, k: int = K) -> tuple[list[Submission], Starter, list[str]]:
    """The submissions of one assignment, its starter code, and notes on what was left out."""
    if not course.release_notebook(assignment).is_file():
        course.release(assignment)
    source = load_notebook(course.source_notebook(assignment))
    release = load_notebook(course.release_notebook(assignment))
    plan = plan_notebook(assignment, source, release)
    starter = starter_code(release, k)
    submissions, notes = [], []
    for student, _, path in course.submissions([assignment]):
        try:
            cells = load_notebook(path)
        except ValueError as exc:
            notes.append(f"{student}: left out, {exc}")
            continue
        submissions.append(Submission(student, code_cells(student_code(plan, cells).cells, starter)))
    return submissions, starter, notes
