"""A small course notebook for the grader's tests, and submissions built from its release.

The notebook has three graded exercises (7 points): ``cross_correlate1d`` (3 points: 1 visible
check, 2 hidden), ``convolve2d`` (3 points: 1 visible, 2 hidden) and a numeric answer checked by a
plain nbgrader ``assert`` cell (1 point, all or nothing).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ASSIGNMENT = "fixture_nb"
CHEATS = Path(__file__).parent / "cheats"

CORRECT = {
    "cross_correlate1d": (
        "def cross_correlate1d(x, w):\n"
        "    n = len(x) - len(w) + 1\n"
        "    return np.array([np.dot(x[i:i + len(w)], w) for i in range(n)])\n"
    ),
    "convolve2d": (
        "def convolve2d(image, kernel):\n"
        "    k = kernel[::-1, ::-1]\n"
        "    kh, kw = k.shape\n"
        "    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=image.dtype)\n"
        "    for i in range(out.shape[0]):\n"
        "        for j in range(out.shape[1]):\n"
        "            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * k)\n"
        "    return out\n"
    ),
    "answer_size": "answer_size = 32 - 5 + 1\n",
}
WRONG = {
    "cross_correlate1d": "def cross_correlate1d(x, w):\n    return np.zeros(1)\n",
    "convolve2d": "def convolve2d(image, kernel):\n    return np.zeros((1, 1))\n",
    "answer_size": "answer_size = 0\n",
}


def code_cell(source: str, tags=None, **nbgrader) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "task": False, **nbgrader}
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _solution(name: str) -> nbformat.NotebookNode:
    head, _, body = CORRECT[name].partition("\n")
    if name == "answer_size":
        source = f"### BEGIN SOLUTION\n{CORRECT[name]}### END SOLUTION"
    else:
        source = f"{head}\n    ### BEGIN SOLUTION\n{body}    ### END SOLUTION"
    return code_cell(source, grade=False, solution=True, locked=False, grade_id=name)


def _test(grade_id: str, points: int, body: str) -> nbformat.NotebookNode:
    return code_cell(body, grade=True, solution=False, locked=True, grade_id=grade_id, points=points)


def build_source(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Fixture notebook"),
        code_cell("import numpy as np", tags=["setup"]),
        code_cell("print('a demonstration cell the grader does not run')"),
        _solution("cross_correlate1d"),
        _test("test_cross_correlate1d", 3, '"""cross_correlate1d: small examples, then hidden random cases."""\nfrom cnnlib.checks import nb01\nnb01.cross_correlate1d_examples(cross_correlate1d)\n### BEGIN HIDDEN TESTS\nnb01.cross_correlate1d_random(cross_correlate1d, seed=4242)\n### END HIDDEN TESTS'),
        _solution("convolve2d"),
        _test("test_convolve2d", 3, '"""convolve2d: a 4x5 example, then hidden random cases."""\nfrom cnnlib.checks import nb01\nnb01.convolve2d_examples(convolve2d)\n### BEGIN HIDDEN TESTS\nnb01.convolve2d_random(convolve2d, seed=777)\n### END HIDDEN TESTS'),
        nbformat.v4.new_markdown_cell("A 5x5 kernel on a 32-pixel-wide input: how wide is the valid output?"),
        _solution("answer_size"),
        _test("test_answer_size", 1, '"""answer_size: the valid output width."""\nassert answer_size == 28, "a 5-wide kernel fits at 32 - 5 + 1 positions"'),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def submission(release: Path, answers: dict[str, str], *, edit=None) -> nbformat.NotebookNode:
    """The released notebook with ``answers`` (grade_id -> cell source) filled in."""
    nb = nbformat.read(str(release), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    if edit is not None:
        edit(nb)
    return nb


def cheat_answers(name: str, course_root: Path) -> dict[str, str]:
    """A cheat fixture's code in the cross_correlate1d cell; the rest of the notebook wrong, so
    an honest score is 0 and any point is a point the cheat gained."""
    code = (CHEATS / f"{name}.py").read_text().replace("{COURSE_ROOT}", str(course_root))
    return {**WRONG, "cross_correlate1d": code}


def cheat_names() -> list[str]:
    return sorted(p.stem for p in CHEATS.glob("*.py"))
