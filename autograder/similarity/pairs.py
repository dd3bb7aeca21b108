"""Every pair of submissions that share fingerprints, found through an inverted index.

With 300 students an assignment has 44,850 pairs; comparing their code two by two would be slow
and mostly wasted. Instead each fingerprint points to the submissions that contain it, and only
submissions that meet under some fingerprint are ever paired. A fingerprint found in more than
``common`` submissions is an idiom everybody writes (or a hint everybody followed) and is
ignored, like the starter code: it is no evidence that two students worked together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from . import COMMON, MIN_SHARED
from .fingerprints import K, WINDOW, CodeCell, Fingerprint, fingerprints


@dataclass
class Submission:
    student: str
    cells: list[CodeCell]  # the code the grader runs, with canonical tokens
    prints: dict[int, Fingerprint] = field(default_factory=dict)  # hash -> first fingerprint with it


@dataclass
class Region:
    """One matching passage: the source lines it covers in each submission's cells."""

    cell_a: int
    cell_b: int
    lines_a: set[int]
    lines_b: set[int]
    fingerprints: int


@dataclass
class Pair:
    a: Submission
    b: Submission
    shared: int  # fingerprints the two have in common
    score: float  # shared / the smaller submission's fingerprints: 1.0 = one contains the other
    share_a: float  # the fraction of a's fingerprints found in b
    share_b: float
    regions: list[Region] = field(default_factory=list)


def fingerprint_class(submissions: list[Submission], starter: set[int], *, k: int = K, window: int = WINDOW) -> None:
    """Fill in each submission's fingerprints, without the starter code's k-grams."""
    for sub in submissions:
        sub.prints = {}
        for fp in fingerprints(sub.cells, k=k, window=window, exclude=starter):
            sub.prints.setdefault(fp.hash, fp)


def compare(submissions: list[Submission], *, common: int = COMMON, min_shared: int = MIN_SHARED, k: int = K) -> list[Pair]:
    """The pairs that share at least ``min_shared`` fingerprints, most similar first.

    ``submissions`` must have been fingerprinted (:func:`fingerprint_class`).
    """
    if common < 2:
        raise ValueError(f"--common must be at least 2 (a passage that two submissions share is what is looked for), got {common}")
    index: dict[int, list[int]] = defaultdict(list)
    for i, sub in enumerate(submissions):
        for h in sub.prints:
            index[h].append(i)
    ignored = {h for h, who in index.items() if len(who) > common}
    sizes = [len(sub.prints.keys() - ignored) if ignored else len(sub.prints) for sub in submissions]
    counts: dict[tuple[int, int], list[int]] = defaultdict(list)
    for h, who in index.items():
        if 2 <= len(who) <= common:
            for a, b in combinations(who, 2):
                counts[(a, b)].append(h)
    pairs = []
    for (a, b), hashes in counts.items():
        if len(hashes) < min_shared:
            continue
        sa, sb = submissions[a], submissions[b]
        shared = len(hashes)
        pair = Pair(sa, sb, shared, shared / min(sizes[a], sizes[b]), shared / sizes[a], shared / sizes[b])
        pair.regions = regions(sa, sb, hashes, k=k)
        pairs.append(pair)
    pairs.sort(key=lambda p: (-p.score, -p.shared, p.a.student, p.b.student))
    return pairs


def regions(a: Submission, b: Submission, hashes: list[int], *, k: int = K) -> list[Region]:
    """Group shared fingerprints into passages that run in step in both submissions."""
    matches = sorted(((a.prints[h], b.prints[h]) for h in hashes), key=lambda m: (m[0].cell, m[0].position))
    gap = 2 * k
    groups: list[list[tuple[Fingerprint, Fingerprint]]] = []
    for fa, fb in matches:
        if groups:
            pa, pb = groups[-1][-1]
            if fa.cell == pa.cell and fb.cell == pb.cell and 0 <= fa.position - pa.position <= gap and 0 < fb.position - pb.position <= gap:
                groups[-1].append((fa, fb))
                continue
        groups.append([(fa, fb)])
    out = []
    for group in groups:
        (fa0, fb0), (fa1, fb1) = group[0], group[-1]
        out.append(
            Region(
                fa0.cell,
                fb0.cell,
                a.cells[fa0.cell].lines_of(fa0.position, fa1.position + k - 1),
                b.cells[fb0.cell].lines_of(fb0.position, fb1.position + k - 1),
                len(group),
            )
        )
    return out
