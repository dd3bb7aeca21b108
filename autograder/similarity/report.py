"""The similarity report of one assignment: an HTML page for people and a CSV for spreadsheets.

The page lists the most similar pairs (score, both students, a link to each pair) and then, per
pair, the two students' cells side by side with every matching passage highlighted in the same
colour on both sides. The CSV has one row per pair whose score reaches the floor.
"""

from __future__ import annotations

import csv
import html
from importlib import resources
from pathlib import Path

from ..reports import _atomic_write
from .pairs import Pair, Region, Submission

CSV_COLUMNS = ["assignment", "student_a", "student_b", "score", "shared_fingerprints", "share_a", "share_b", "passages", "anchor"]
COLOURS = 6  # .m0 .. .m5 in templates/similarity.css

CAVEAT = (
    "A high score says that two submissions share code beyond the starter code, even after "
    "renaming, reordering and reformatting. It is evidence for a person to review, not a verdict: "
    "short exercises have few natural solutions, students may have worked together as allowed, "
    "and code both copied from the same public source matches too. Read the highlighted "
    "passages before drawing any conclusion."
)


def anchor(rank: int) -> str:
    return f"pair-{rank}"


def write_csv(path: Path, assignment: str, pairs: list[Pair], shown: int) -> None:
    """Every pair in ``pairs`` (already above the floor); the first ``shown`` have an HTML anchor."""

    def write(handle):
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for rank, p in enumerate(pairs, 1):
            link = f"{assignment}.html#{anchor(rank)}" if rank <= shown else ""
            writer.writerow([assignment, p.a.student, p.b.student, f"{p.score:.3f}", p.shared, f"{p.share_a:.3f}", f"{p.share_b:.3f}", len(p.regions), link])

    _atomic_write(path, write)


CONTEXT = 2  # unmatched lines shown around each matching passage; longer stretches are folded


def _code(cell_source: str, marks: dict[int, int]) -> str:
    """A cell's code with line numbers; ``marks`` maps a line to the passage it belongs to.
    Long stretches without a match (a docstring, say) are folded into one "... n lines" line."""
    lines = cell_source.splitlines() or [""]
    shown = {n for m in marks for n in range(m - CONTEXT, m + CONTEXT + 1)} | {1}
    out = []
    folded = 0
    for number, line in enumerate(lines, 1):
        if number not in shown and number < len(lines):
            folded += 1
            continue
        if folded:
            out.append(f"<span class='line fold'><span class='ln'>&#8942;</span>{folded} unmatched line{'s' if folded > 1 else ''}</span>")
            folded = 0
        text = f"<span class='ln'>{number}</span>{html.escape(line) or ' '}"
        if number in marks:
            region = marks[number]
            out.append(f"<span class='line m{region % COLOURS}' title='passage {region + 1}'>{text}</span>")
        else:
            out.append(f"<span class='line'>{text}</span>")
    return "<pre class='code'>" + "".join(out) + "</pre>"


def _side_by_side(p: Pair) -> str:
    by_cells: dict[tuple[int, int], list[tuple[int, Region]]] = {}
    for number, region in enumerate(p.regions):
        by_cells.setdefault((region.cell_a, region.cell_b), []).append((number, region))
    rows = []
    for (cell_a, cell_b), found in sorted(by_cells.items()):
        marks_a: dict[int, int] = {}
        marks_b: dict[int, int] = {}
        for number, region in found:
            for line in region.lines_a:
                marks_a.setdefault(line, number)
            for line in region.lines_b:
                marks_b.setdefault(line, number)
        a, b = p.a.cells[cell_a], p.b.cells[cell_b]
        rows.append(
            "<tr>"
            f"<td><div class='celltitle'>{html.escape(p.a.student)}, {html.escape(a.label)}</div>{_code(a.source, marks_a)}</td>"
            f"<td><div class='celltitle'>{html.escape(p.b.student)}, {html.escape(b.label)}</div>{_code(b.source, marks_b)}</td>"
            "</tr>"
        )
    return "<table class='side'>" + "".join(rows) + "</table>"


def page(assignment: str, submissions: list[Submission], pairs: list[Pair], *, shown: int, floor: float, common: int, notes: list[str]) -> str:
    esc = html.escape
    style = resources.files("autograder").joinpath("templates/similarity.css").read_text()
    n = len(submissions)
    total_pairs = n * (n - 1) // 2
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Similarity: {esc(assignment)}</title><style>{style}</style></head><body>",
        f"<h1 id='top'>Similarity of the submissions of {esc(assignment)}</h1>",
        f"<p class='caveat'>{esc(CAVEAT)}</p>",
        f"<p>{n} submissions ({total_pairs} pairs). {len(pairs)} pair{'s score' if len(pairs) != 1 else ' scores'} {floor:g} or more"
        + (f"; the {min(shown, len(pairs))} highest are shown below" if pairs else "")
        + ". The score is the fraction of the smaller submission's fingerprints (winnowed passages of "
        "normalised code) that the other submission also has: 1 means one contains all of the other's code "
        "beyond the starter code. The starter code (everything in the released notebook) is left out, and "
        f"so is any passage found in more than {common} submissions (an idiom, not evidence).</p>",
    ]
    parts.extend(f"<p class='note'>{esc(note)}</p>" for note in notes)
    if not pairs:
        parts.append("<p>No pair of submissions shares code beyond the starter code and the common idioms.</p></body></html>")
        return "\n".join(parts)
    parts.append("<table><tr><th>#</th><th>score</th><th>student</th><th>student</th><th>shared fingerprints</th><th>passages</th><th></th></tr>")
    for rank, p in enumerate(pairs[:shown], 1):
        bar = f"<span class='bar' style='width:{p.score * 4:.2f}rem'></span>"
        parts.append(
            f"<tr><td class='num'>{rank}</td><td class='num'>{bar}{p.score:.2f}</td><td>{esc(p.a.student)}</td><td>{esc(p.b.student)}</td>"
            f"<td class='num'>{p.shared}</td><td class='num'>{len(p.regions)}</td><td><a href='#{anchor(rank)}'>compare</a></td></tr>"
        )
    parts.append("</table>")
    if len(pairs) > shown:
        parts.append(f"<p class='note'>{len(pairs) - shown} more pairs above the floor are in {esc(assignment)}.csv.</p>")
    for rank, p in enumerate(pairs[:shown], 1):
        parts.append(
            f"<h2 id='{anchor(rank)}'>{rank}. {esc(p.a.student)} and {esc(p.b.student)}: score {p.score:.2f}</h2>"
            f"<p>{p.shared} shared fingerprints in {len(p.regions)} passages: {p.share_a:.0%} of {esc(p.a.student)}'s "
            f"fingerprints and {p.share_b:.0%} of {esc(p.b.student)}'s. Lines of the same colour match (after renaming, "
            "reordering and dropping comments). <a class='back' href='#top'>back to the list</a></p>"
        )
        parts.append(_side_by_side(p))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(path: Path, text: str) -> None:
    _atomic_write(path, lambda handle: handle.write(text))
