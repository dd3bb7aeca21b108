"""What grading leaves behind for people: the per-check CSV, the LMS export, the graded notebook
for formgrader, and a feedback page per student and notebook.

Feedback shows each check's title, points and message. It never shows test code, and hidden
checks' messages are written without their inputs (``cnnlib.checks.core.fail``), so hidden tests
stay hidden.
"""

from __future__ import annotations

import csv
import html
import os
from pathlib import Path

import nbformat

from .grading import NotebookOutcome
from .variants import questions_html

CHECK_COLUMNS = ["student", "assignment", "notebook", "grade_id", "check", "points", "max_points", "message"]


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        write(handle)
    os.replace(tmp, path)


def check_rows(outcome: NotebookOutcome, manifest: dict | None = None) -> list[dict]:
    """One row per check (and one for a test cell that failed outside any check)."""
    rows = []
    expected = (manifest or {}).get("cells", {})
    mismatch = (outcome.variant or {}).get("mismatch")
    if mismatch:  # graded with the numbers of the folder's student, not of the STUDENT_ID written in the notebook
        rows.append(dict(student=outcome.student, assignment=outcome.assignment, notebook=outcome.notebook, grade_id="(student id)",
                         check="student_id", points="0", max_points="0", message=mismatch))
    for cell in outcome.cells:
        seen: dict[str, int] = {}
        for check in cell.checks:
            seen[check.name] = seen.get(check.name, 0) + 1
            rows.append(
                dict(student=outcome.student, assignment=outcome.assignment, notebook=outcome.notebook, grade_id=cell.grade_id,
                     check=check.name, points=f"{check.earned:g}", max_points=f"{check.points:g}", message=check.message)
            )
        for name, points in expected.get(cell.grade_id, []):
            if seen.get(name, 0) > 0:
                seen[name] -= 1
                continue
            rows.append(
                dict(student=outcome.student, assignment=outcome.assignment, notebook=outcome.notebook, grade_id=cell.grade_id,
                     check=name, points="0", max_points=f"{points:g}", message=f"not run: {cell.error or 'the test cell stopped before this check'}")
            )
        if not cell.checks and not expected.get(cell.grade_id):
            rows.append(
                dict(student=outcome.student, assignment=outcome.assignment, notebook=outcome.notebook, grade_id=cell.grade_id,
                     check="(cell)", points=f"{cell.earned:g}", max_points=f"{cell.points:g}", message=cell.error or "")
            )
    return rows


def write_checks_csv(path: Path, outcomes: list[NotebookOutcome], manifests: dict[str, dict]) -> int:
    rows = [row for o in outcomes for row in check_rows(o, manifests.get(o.assignment))]

    def write(handle):
        writer = csv.DictWriter(handle, fieldnames=CHECK_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)

    _atomic_write(path, write)
    return len(rows)


def write_grades_csv(path: Path, scores: dict[str, dict[str, float]], max_scores: dict[str, float]) -> None:
    """LMS export: one row per student, one column per assignment, then the total."""
    assignments = sorted(max_scores)

    def write(handle):
        writer = csv.writer(handle)
        writer.writerow(["student_id", *assignments, "total", "max_total"])
        total = f"{sum(max_scores.values()):g}"
        writer.writerow(["(max)", *[f"{max_scores[a]:g}" for a in assignments], total, total])
        for student in sorted(scores):
            row = [scores[student].get(a, 0.0) for a in assignments]
            writer.writerow([student, *[f"{v:g}" for v in row], f"{sum(row):g}", f"{sum(max_scores.values()):g}"])

    _atomic_write(path, write)


def write_graded_notebook(path: Path, student_path: Path, source_path: Path, outcome: NotebookOutcome) -> None:
    """The student's notebook with the instructor's test cells and the grader's results as their
    outputs, where nbgrader's formgrader looks for it (``autograded/``)."""
    try:
        nb = nbformat.read(str(student_path), as_version=4)
    except Exception:
        nb = nbformat.v4.new_notebook()
    source = nbformat.read(str(source_path), as_version=4)
    tests = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}
    by_id = {c.grade_id: c for c in outcome.cells}
    cells, placed = [], set()
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in tests:
            if grade_id in placed:
                continue
            cell = nbformat.from_dict(dict(tests[grade_id]))
            placed.add(grade_id)
        if cell.get("cell_type") == "code":
            cell["outputs"] = _outputs(by_id.get(grade_id)) if grade_id in tests else []
            cell["execution_count"] = None
        cells.append(cell)
    for grade_id, cell in tests.items():  # deleted test cells are put back at the end
        if grade_id not in placed:
            cell = nbformat.from_dict(dict(cell))
            cell["outputs"] = _outputs(by_id.get(grade_id))
            cells.append(cell)
    nb.cells = cells
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    nbformat.write(nb, str(tmp))
    os.replace(tmp, path)


def _outputs(cell) -> list:
    if cell is None:
        return []
    lines = [f"{'PASS' if c.passed else 'FAIL'} [{c.earned:g}/{c.points:g}] {c.title}" + ("" if c.passed else f"\n    {c.message}") for c in cell.checks]
    text = "\n".join(lines) + "\n" if lines else ""
    outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] if text else []
    if cell.earned < cell.points:
        outputs.append(nbformat.v4.new_output("error", ename="CheckFailed", evalue=f"{cell.earned:g} of {cell.points:g} points", traceback=[cell.error or "some checks failed (see above)"]))
    return outputs


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem} .score{font-size:1.2rem;font-weight:600}
table{border-collapse:collapse;width:100%;margin:1rem 0} td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
.pass{color:#1a7f37}.fail{color:#cf222e} pre{white-space:pre-wrap;margin:0;font-size:.9rem}
.note{background:#fff8c5;padding:.5rem;border-radius:4px;margin:.3rem 0}
"""


def feedback_html(outcome: NotebookOutcome, late: str | None = None) -> str:
    """The feedback page; ``late`` is a sentence about the submission's lateness and penalty."""
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Feedback: {esc(outcome.notebook)} ({esc(outcome.student)})</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(outcome.notebook)}</h1>",
        f"<p>Student: <b>{esc(outcome.student)}</b></p>",
        f"<p class='score'>Score: {outcome.score:g} / {outcome.max_score:g}</p>",
    ]
    if late:
        parts.append(f"<div class='note'>{esc(late)}</div>")
    if outcome.notes:
        parts.append("<h2>About your notebook</h2>")
        parts.extend(f"<div class='note'>{esc(n)}</div>" for n in outcome.notes)
    parts.append(questions_html(outcome.variant))
    for cell in outcome.cells:
        parts.append(f"<h2>{esc(cell.grade_id)}: {cell.earned:g} / {cell.points:g}</h2><table><tr><th></th><th>check</th><th>points</th><th>what the grader found</th></tr>")
        for check in cell.checks:
            mark = "<span class='pass'>&#10004;</span>" if check.passed else "<span class='fail'>&#10008;</span>"
            title = esc(check.title) + (" <i>(hidden test)</i>" if check.hidden else "")
            message = "correct" if check.passed else esc(check.message)
            parts.append(f"<tr><td>{mark}</td><td>{title}</td><td>{check.earned:g}/{check.points:g}</td><td><pre>{message}</pre></td></tr>")
        if cell.error:
            parts.append(f"<tr><td><span class='fail'>&#10008;</span></td><td colspan='2'>test cell</td><td><pre>{esc(cell.error)}</pre></td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_feedback(path: Path, outcome: NotebookOutcome, late: str | None = None) -> None:
    _atomic_write(path, lambda handle: handle.write(feedback_html(outcome, late)))
