"""What the grader needs to know about a notebook, read from the instructor's copies.

The *source* notebook (with solutions and hidden tests) says which cells are test cells, with how
many points, which cells are solution cells, and which instructor cells must run before the
student's code (code cells tagged ``setup``). The *release* notebook (what students received)
says what each cell looked like when handed out, so that a student's edits can be reported.

Student notebooks are only ever used for the code of their solution cells and of cells they
added; everything else is taken from the instructor's copies.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = ["Cell", "NotebookPlan", "StudentCode", "load_notebook", "read_notebook", "plan_notebook", "student_code", "free_names", "defined_names"]


@dataclass
class Cell:
    index: int
    cell_type: str
    source: str
    cell_id: str | None
    grade_id: str | None
    grade: bool
    solution: bool
    locked: bool
    points: float
    tags: tuple[str, ...]

    @property
    def is_test(self) -> bool:
        return self.cell_type == "code" and self.grade and not self.solution

    @property
    def is_solution(self) -> bool:
        return self.cell_type == "code" and self.solution

    @property
    def is_setup(self) -> bool:
        return self.cell_type == "code" and "setup" in self.tags


def _cells(nb) -> list[Cell]:
    cells = []
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}) or {}
        nbg = meta.get("nbgrader", {}) or {}
        if not isinstance(nbg, dict):
            nbg = {}
        tags = meta.get("tags", []) or []
        try:
            points = float(nbg.get("points", 0) or 0)
        except (TypeError, ValueError):
            points = 0.0
        cells.append(
            Cell(
                index=index,
                cell_type=str(cell.get("cell_type", "")),
                source=cell.get("source", "") if isinstance(cell.get("source", ""), str) else "".join(cell.get("source")),
                cell_id=cell.get("id"),
                grade_id=nbg.get("grade_id") if isinstance(nbg.get("grade_id"), str) else None,
                grade=bool(nbg.get("grade", False)),
                solution=bool(nbg.get("solution", False)),
                locked=bool(nbg.get("locked", False)),
                points=points,
                tags=tuple(t for t in tags if isinstance(t, str)),
            )
        )
    return cells


def load_notebook(path) -> list[Cell]:
    """The cells of a notebook file; raises ``ValueError`` naming the file when it cannot be read."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"{path} is not a readable notebook ({type(exc).__name__}: {exc})") from exc
    return read_notebook(data, str(path))


def read_notebook(data: bytes | str, name: str = "the notebook") -> list[Cell]:
    """The cells of a notebook given as its file's contents (what a grading worker on another
    machine receives); raises ``ValueError`` naming ``name`` when they cannot be read."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # not UTF-8, unreadable JSON, wrong format
        raise ValueError(f"{name} is not a readable notebook ({type(exc).__name__}: {exc})") from exc
    return _cells(nb)


def digest(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


@dataclass
class NotebookPlan:
    """The instructor's view of one notebook, for grading it."""

    name: str
    setup: list[Cell]
    tests: list[Cell]
    solution_ids: list[str]
    instructor_ids: set[str]  # nbformat cell ids of every instructor cell
    instructor_texts: set[str]  # digests of instructor code cells' text (release version)
    release_texts: dict[str, str]  # grade_id -> digest of the released text (locked/test cells)
    grade_order: list[str]
    checks_modules: list[str] = field(default_factory=list)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.tests)


def plan_notebook(name: str, source: list[Cell], release: list[Cell] | None = None) -> NotebookPlan:
    """Build the plan from the source notebook (and the release version when there is one)."""
    release = release if release is not None else source
    tests = [c for c in source if c.is_test]
    modules = []
    for cell in tests:
        modules.extend(_checks_modules(cell.source))
    return NotebookPlan(
        name=name,
        setup=[c for c in source if c.is_setup and not c.solution and not c.grade],
        tests=tests,
        solution_ids=[c.grade_id for c in source if c.is_solution and c.grade_id],
        instructor_ids={c.cell_id for c in source + release if c.cell_id},
        instructor_texts={digest(c.source) for c in release if c.cell_type == "code" and not c.solution},
        release_texts={c.grade_id: digest(c.source) for c in release if c.grade_id},
        grade_order=[c.grade_id for c in source if c.grade_id],
        checks_modules=list(dict.fromkeys(modules)),
    )


def _checks_modules(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "cnnlib.checks":
            found.extend(f"cnnlib.checks.{a.name}" for a in node.names if a.name.startswith("nb"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnnlib.checks.nb"):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(a.name for a in node.names if a.name.startswith("cnnlib.checks.nb"))
    return found


@dataclass
class StudentCode:
    """The code the grader runs from a student's notebook, and what it noticed on the way."""

    cells: list[Cell]  # solution cells and added cells, in the student's order
    notes: list[str]  # changes to report: deleted, duplicated, reordered, edited, added cells


def student_code(plan: NotebookPlan, student: list[Cell]) -> StudentCode:
    """Select the student's cells to run and describe how the notebook differs from the release."""
    notes: list[str] = []
    run: list[Cell] = []
    seen: dict[str, int] = {}
    solution_ids = set(plan.solution_ids)
    test_ids = {c.grade_id for c in plan.tests}
    for cell in student:
        if cell.grade_id:
            seen[cell.grade_id] = seen.get(cell.grade_id, 0) + 1
        if cell.cell_type != "code":
            continue
        if cell.grade_id in solution_ids:
            run.append(cell)
        elif cell.grade_id in test_ids:
            if plan.release_texts.get(cell.grade_id) != digest(cell.source):
                notes.append(f"test cell '{cell.grade_id}' was edited; it was graded with the instructor's version")
        elif cell.grade_id and cell.grade_id in plan.release_texts:
            if plan.release_texts[cell.grade_id] != digest(cell.source):
                notes.append(f"locked cell '{cell.grade_id}' was edited; the edit was ignored")
        elif (cell.cell_id and cell.cell_id in plan.instructor_ids) or digest(cell.source) in plan.instructor_texts:
            continue  # an instructor cell (possibly edited): not part of the student's answer
        elif cell.source.strip():
            run.append(cell)
            notes.append(f"an added code cell (cell {cell.index + 1}) was run with your solutions")
    for grade_id in plan.solution_ids + [c.grade_id for c in plan.tests]:
        count = seen.get(grade_id, 0)
        if count == 0:
            notes.append(f"cell '{grade_id}' is missing from your notebook (deleted?)")
        elif count > 1:
            notes.append(f"cell '{grade_id}' appears {count} times; all copies were run in order")
    order = [c.grade_id for c in student if c.grade_id in set(plan.grade_order)]
    expected = [g for g in plan.grade_order if g in set(order)]
    if list(dict.fromkeys(order)) != expected:
        notes.append("graded cells are in a different order than in the assignment; your cells were run in your order")
    return StudentCode(run, notes)


def defined_names(source: str) -> set[str]:
    """Top-level names a cell defines (functions, classes, assignments, imports)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
    return names


def free_names(source: str) -> list[str]:
    """Names a test cell reads but does not define itself or get from the built-ins."""
    tree = ast.parse(source)
    bound: set[str] = set()
    loads: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                loads.append(node.id)
            else:
                bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            for arg in ast.walk(node.args) if not isinstance(node, ast.ClassDef) else ():
                if isinstance(arg, ast.arg):
                    bound.add(arg.arg)
        elif isinstance(node, ast.Lambda):
            for arg in ast.walk(node.args):
                if isinstance(arg, ast.arg):
                    bound.add(arg.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    builtin_names = set(dir(builtins))
    return list(dict.fromkeys(n for n in loads if n not in bound and n not in builtin_names))
