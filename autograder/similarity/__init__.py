"""``cnncourse similarity``: which submissions of an assignment share code, and where.

- :mod:`.fingerprints`: normalised tokens in a canonical statement order, winnowed k-gram hashes;
- :mod:`.pairs`: the inverted index that pairs submissions sharing fingerprints, and the scores;
- :mod:`.sources`: the code to compare (what the grader runs) and the starter code to leave out;
- :mod:`.report`: the HTML page and the CSV.

This module stays light (``cnncourse --help`` imports it for the defaults); the work is imported
when :func:`similarity_report` runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FLOOR = 0.4  # pairs scoring less are left out of the report (independent answers in the tests score up to 0.35)
TOP = 30  # pairs shown side by side on the page
COMMON = 10  # a passage in more than this many submissions is an idiom, ignored (MOSS's default for -m)
MIN_SHARED = 4  # fewer shared fingerprints than this is a coincidence, not a pair


@dataclass
class SimilarityReport:
    assignment: str
    submissions: int
    pairs: list  # every Pair at or above the floor, most similar first
    html: Path
    csv: Path
    notes: list[str]


def similarity_report(course, assignment: str, *, floor: float = FLOOR, top: int = TOP, common: int = COMMON, min_shared: int = MIN_SHARED) -> SimilarityReport:
    """Compare every pair of submissions of ``assignment`` in ``course`` (an
    :class:`autograder.course.Course`); write ``reports/similarity/<assignment>.html`` and ``.csv``."""
    from .fingerprints import K, WINDOW
    from .pairs import compare, fingerprint_class
    from .report import page, write_csv, write_html
    from .sources import load_assignment

    if not 0 <= floor <= 1:
        raise ValueError(f"--floor must be a score between 0 and 1, got {floor:g}")
    if common < 2:
        raise ValueError(f"--common must be at least 2 (a passage that two submissions share is what is looked for), got {common}")
    if top < 1:
        raise ValueError(f"--top must be at least 1 (pairs to show side by side), got {top}")
    submissions, starter, notes = load_assignment(course, assignment, k=K)
    fingerprint_class(submissions, starter.kgrams, k=K, window=WINDOW)
    pairs = [p for p in compare(submissions, common=common, min_shared=min_shared, k=K) if p.score >= floor]
    folder = course.reports / "similarity"
    html_path, csv_path = folder / f"{assignment}.html", folder / f"{assignment}.csv"
    write_html(html_path, page(assignment, submissions, pairs, shown=top, floor=floor, common=common, notes=notes))
    write_csv(csv_path, assignment, pairs, shown=top)
    return SimilarityReport(assignment, len(submissions), pairs, html_path, csv_path, notes)
