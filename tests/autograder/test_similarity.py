"""``cnncourse similarity`` on constructed pairs: a renamed copy scores near 1, a copy with
reordered independent statements and added comments scores high, two independent correct
solutions (the loop and the vectorised answers of tests/checks/) score low, the unchanged starter
code scores 0, and the page shows each pair with its code escaped."""

from __future__ import annotations

import ast
import csv
import re
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbgrader.preprocessors import ClearSolutions

from autograder.notebook import load_notebook, plan_notebook, student_code
from autograder.similarity import fingerprints as fp
from autograder.similarity.pairs import Submission, compare, fingerprint_class
from autograder.similarity.report import page
from autograder.similarity.sources import code_cells, starter_code

REPO = Path(__file__).resolve().parents[2]
STUB = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Two correct answers per exercise, written independently: the loop and the vectorised versions
# the checks' own tests use (tests/checks/test_nb01.py and test_nb05.py).
NOTEBOOKS = {
    "01_convolution_vs_cross_correlation": (
        "test_nb01.py",
        {
            "cross_correlate1d": ("xcorr1d_loops", "xcorr1d_vectorised"),
            "convolve1d": ("conv1d_loops", "conv1d_vectorised"),
            "convolve1d_full": ("full_loops", "full_padded"),
            "cross_correlate2d": ("xcorr2d_loops", "xcorr2d_shifts"),
            "convolve2d": ("conv2d_loops", "conv2d_einsum"),
        },
    ),
    "05_matrix_view_im2col_receptive_fields": (
        "test_nb05.py",
        {
            "conv1d_matrix": ("toeplitz_loops", "toeplitz_diagonals"),
            "conv2d_matrix": ("matrix_loops", "matrix_blocks"),
            "im2col": ("im2col_loops", "im2col_strided"),
            "conv2d_im2col": ("conv_im2col", "conv_einsum"),
            "receptive_field": ("field_forward", "field_backward"),
        },
    ),
}


class Assignment:
    """A course notebook, its student version (nbgrader's ClearSolutions) and submissions made by
    filling the student version's solution cells."""

    def __init__(self, name: str, folder: Path):
        self.name, self.folder = name, folder
        source = REPO / "notebooks" / f"{name}.ipynb"
        self.release_nb, _ = ClearSolutions(code_stub=STUB).preprocess(nbformat.read(str(source), as_version=4), {})
        release = self._cells(self.release_nb, "release")
        self.plan = plan_notebook(name, load_notebook(source), release)
        self.code = starter_code(release)
        self.starter = self.code.kgrams
        test_file, self.answers = NOTEBOOKS[name]
        self.functions = _functions(REPO / "tests" / "checks" / test_file)
        # the test helpers call each other by their own names: use the notebook's names instead
        self.renames = {fn: grade_id for grade_id, fns in self.answers.items() for fn in fns}

    def answer(self, grade_id: str, which: int) -> str:
        """The body of one of the two correct answers, indented as in a function."""
        body = self.functions[self.answers[grade_id][which]].split("\n", 1)[1]
        for old, new in self.renames.items():
            body = re.sub(rf"\b{old}\b", new, body)
        return body

    def submission(self, student: str, bodies: dict[str, str]) -> Submission:
        """The student version with each solution cell's stub replaced by ``bodies[grade_id]``."""
        nb = nbformat.from_dict(self.release_nb)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in bodies:
                cell.source = cell.source.replace("    # YOUR CODE HERE\n    raise NotImplementedError()", bodies[grade_id].rstrip())
                assert bodies[grade_id].strip() in cell.source
        return Submission(student, code_cells(student_code(self.plan, self._cells(nb, student)).cells, self.code))

    def _cells(self, nb, label: str):
        path = self.folder / f"{label}.ipynb"
        nbformat.write(nb, str(path))
        return load_notebook(path)

    def solutions(self, student: str, which: int, edit=lambda grade_id, body: body) -> Submission:
        return self.submission(student, {g: edit(g, self.answer(g, which)) for g in self.answers})


def _functions(path: Path) -> dict[str, str]:
    text = path.read_text()
    return {node.name: ast.get_source_segment(text, node) for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)}


@pytest.fixture(scope="module", params=sorted(NOTEBOOKS))
def assignment(request, tmp_path_factory):
    return Assignment(request.param, tmp_path_factory.mktemp("notebooks"))


def _scores(subs: list[Submission], starter) -> dict[frozenset, float]:
    fingerprint_class(subs, starter)
    return {frozenset((p.a.student, p.b.student)): p.score for p in compare(subs)}


RENAMED = {"x": "signal", "w": "weights", "out": "result", "n": "length", "k": "ksize", "t": "pos", "image": "img", "kernel": "kern", "cols": "columns", "i": "row", "j": "col", "T": "mat", "layers": "stack"}


def _rename(grade_id: str, body: str) -> str:
    for old, new in RENAMED.items():
        body = re.sub(rf"\b{old}\b", new, body)
    return body


def test_renamed_copy_scores_near_one(assignment):
    original = assignment.solutions("alice", 0)
    renamed = assignment.solutions("bob", 0, _rename)
    assert [c.source for c in renamed.cells] != [c.source for c in original.cells]
    scores = _scores([original, renamed], assignment.starter)
    assert scores[frozenset(("alice", "bob"))] >= 0.95


def _swap_independent(body: str) -> tuple[str, bool]:
    """Swap the first two adjacent one-line statements of a function body that are independent
    (neither reads or writes a name the other writes)."""
    lines = body.split("\n")
    tree = ast.parse(textwrap.dedent(body))

    def names(stmt, ctx):
        return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}

    for first, second in zip(tree.body, tree.body[1:]):
        one_line = first.lineno == first.end_lineno and second.lineno == second.end_lineno == first.lineno + 1
        simple = not isinstance(first, (ast.Return, ast.For, ast.If, ast.While)) and not isinstance(second, (ast.Return, ast.For, ast.If, ast.While))
        writes_a, writes_b = names(first, ast.Store), names(second, ast.Store)
        independent = not (writes_a & (names(second, ast.Load) | writes_b)) and not (writes_b & names(first, ast.Load))
        if one_line and simple and independent:
            i = first.lineno - 1
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
            return "\n".join(lines), True
    return body, False


SWAPPED: set[str] = set()


def _reorder_and_comment(grade_id: str, body: str) -> str:
    """Swap two independent statements where there are any, add comments and blank lines."""
    body, swapped = _swap_independent(body)
    if swapped:
        SWAPPED.add(grade_id)
    out = []
    for line in body.split("\n"):
        if line.strip().startswith(("for ", "return")):
            out += ["", "    # the next step, explained at length"]
        out.append(line + ("  # my own idea" if line.rstrip().endswith(")") else ""))
    return "\n".join(out)


@pytest.fixture(scope="module")
def nb05(tmp_path_factory):
    return Assignment("05_matrix_view_im2col_receptive_fields", tmp_path_factory.mktemp("nb05"))


def test_reordered_and_commented_copy_scores_high(nb05):
    """Notebook 05's loop answers, because two of them begin with independent statements
    (notebook 01's answers have none to swap)."""
    SWAPPED.clear()
    original = nb05.solutions("alice", 0)
    edited = nb05.solutions("carol", 0, _reorder_and_comment)
    # every answered cell was edited (the notebook's varied-question cell is left at its stub in both)
    answered = [(a, b) for a, b in zip(original.cells, edited.cells) if any(f"({g})" in a.label for g in nb05.answers)]
    assert len(answered) == len(nb05.answers)
    assert all(a.source != b.source for a, b in answered)
    assert SWAPPED == {"conv2d_im2col", "conv2d_matrix"}  # statements really were reordered
    scores = _scores([original, edited], nb05.starter)
    assert scores[frozenset(("alice", "carol"))] >= 0.9


def test_reordering_does_not_change_the_canonical_tokens():
    one = "def f(x):\n    a = len(x)\n    b = x.shape[0] * 2\n    return a + b\n"
    two = "def f(x):\n    # sizes\n    b = x.shape[0] * 2   # twice\n\n    a = len(x)\n    return a + b\n"
    assert [t.text for t in fp.canonical_tokens(one)] == [t.text for t in fp.canonical_tokens(two)]
    renamed = "def g(signal):\n    n = len(signal)\n    m = signal.shape[0] * 2\n    return n + m\n"
    assert [t.text for t in fp.canonical_tokens(one)] == [t.text for t in fp.canonical_tokens(renamed)]
    different = "def f(x):\n    a = len(x)\n    b = x.size * 2\n    return a - b\n"
    assert [t.text for t in fp.canonical_tokens(one)] != [t.text for t in fp.canonical_tokens(different)]
    # two statements on a line with non-ASCII text (ast counts columns in bytes, tokenize in characters)
    accents = ["label = 'Größe ñ'; size = len(x)\n", "size = len(x); label = 'Größe ñ'\n"]
    assert [t.text for t in fp.canonical_tokens(accents[0])] == [t.text for t in fp.canonical_tokens(accents[1])]


def test_independent_solutions_score_low(assignment):
    loops = assignment.solutions("loops", 0)
    vectorised = assignment.solutions("vectorised", 1)
    renamed = assignment.solutions("renamed", 0, _rename)
    scores = _scores([loops, vectorised, renamed], assignment.starter)
    independent = scores.get(frozenset(("loops", "vectorised")), 0.0)
    assert independent <= 0.35, independent
    assert scores[frozenset(("loops", "renamed"))] - independent >= 0.6


def test_unchanged_starter_code_scores_zero(assignment):
    blank_a = assignment.submission("blank_a", {})
    blank_b = assignment.submission("blank_b", {})
    solved = assignment.solutions("solved", 0)
    assert blank_a.cells and all("raise NotImplementedError()" in c.source for c in blank_a.cells)
    fingerprint_class([blank_a, blank_b, solved], assignment.starter)
    assert blank_a.prints == {} and blank_b.prints == {}
    assert compare([blank_a, blank_b, solved]) == []


def test_code_that_does_not_tokenize_is_still_compared():
    broken = "def f(x):\n    total = sum(x[i] * 2 for i in range(len(x))\n    return total / len(x) + max(x) - min(x) * 3\n"
    renamed = re.sub(r"\bx\b", "values", broken.replace("total", "acc"))
    a = Submission("a", [fp.CodeCell("cell 1", broken, fp.canonical_tokens(broken))])
    b = Submission("b", [fp.CodeCell("cell 1", renamed, fp.canonical_tokens(renamed))])
    assert a.cells[0].tokens
    scores = _scores([a, b], set())
    assert scores[frozenset(("a", "b"))] == 1.0


def test_winnowing_guarantee():
    """Any shared run of K + WINDOW - 1 hashes gives a shared fingerprint, wherever it sits."""
    import random

    rng = random.Random(3)
    shared = [rng.getrandbits(64) for _ in range(fp.WINDOW)]
    for _ in range(50):
        left = [rng.getrandbits(64) for _ in range(rng.randrange(0, 30))] + shared + [rng.getrandbits(64) for _ in range(rng.randrange(0, 30))]
        right = [rng.getrandbits(64) for _ in range(rng.randrange(0, 30))] + shared + [rng.getrandbits(64) for _ in range(rng.randrange(0, 30))]
        assert {left[i] for i in fp.winnow(left)} & {right[i] for i in fp.winnow(right)} & set(shared)


def test_common_passages_are_ignored_and_pairs_come_from_the_index():
    """A passage in more than ``common`` submissions counts for nobody; only submissions that
    share something are paired at all."""
    idiom = "def f(x):\n    out = np.zeros((x.shape[0], x.shape[1]), dtype=np.float64)\n    return out.reshape(-1, 1) * 2.5\n"
    unusual = "def g(y):\n    acc = [v ** 3 - v // 7 for v in y if v % 5 != 2]\n    return sorted(acc, key=abs)[::-1][:4]\n"
    other = "def h(z):\n    while z:\n        z = z[1:] + z[:-2] if len(z) > 3 else []\n    yield from enumerate(z, start=9)\n"
    subs = [Submission(f"s{i}", [fp.CodeCell("cell 1", idiom, fp.canonical_tokens(idiom))]) for i in range(5)]
    subs[0].cells.append(fp.CodeCell("cell 2", unusual, fp.canonical_tokens(unusual)))
    subs[1].cells.append(fp.CodeCell("cell 2", unusual, fp.canonical_tokens(unusual)))
    subs[2].cells.append(fp.CodeCell("cell 2", other, fp.canonical_tokens(other)))
    fingerprint_class(subs, set())
    pairs = compare(subs, common=4)
    assert [(p.a.student, p.b.student) for p in pairs] == [("s0", "s1")]  # the idiom is in all five
    assert pairs[0].score == 1.0 and len(pairs[0].regions) >= 1
    assert {(p.a.student, p.b.student) for p in compare(subs, common=10)} >= {("s0", "s1"), ("s2", "s3")}
    with pytest.raises(ValueError, match="--common must be at least 2"):
        compare(subs, common=1)


def test_page_shows_the_pair_and_escapes_code(assignment):
    name = next(iter(assignment.answers))
    hostile = assignment.answer(name, 0) + "    assert '<script>alert(1)</script>' != \"&amp;\"  # a < b\n"
    a = assignment.submission("alice <b>", {name: hostile})
    b = assignment.submission("bob", {name: _rename(name, hostile)})
    fingerprint_class([a, b], assignment.starter)
    pairs = compare([a, b])
    text = page(assignment.name, [a, b], pairs, shown=10, floor=0.3, common=10, notes=[])
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&amp;amp;" in text and "# a &lt; b" in text
    assert "alice &lt;b&gt;" in text and "alice <b>" not in text
    assert "id='pair-1'" in text and "href='#pair-1'" in text
    highlighted = re.findall(r"<span class='line m\d' title='passage \d+'>", text)
    assert len(highlighted) >= 2  # matching lines marked on both sides
    assert "evidence for a person to review, not a verdict" in text


# -- the command, on a released course --------------------------------------------------------------

INDEPENDENT = {  # carol's own answers: vectorised, not the fixture's loops
    "cross_correlate1d": "def cross_correlate1d(x, w):\n    windows = np.lib.stride_tricks.sliding_window_view(x, len(w))\n    return windows @ w\n",
    "convolve2d": (
        "def convolve2d(image, kernel):\n"
        "    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)\n"
        "    return np.einsum('ijmn,mn->ij', windows, kernel[::-1, ::-1])\n"
    ),
    "answer_size": "answer_size = 28\n",
}


def test_command_writes_page_and_csv(tmp_path, capsys):
    from fixture_course import ASSIGNMENT, CORRECT, build_source, submission

    from autograder.cli import main as cnncourse
    from autograder.course import Course
    from autograder.similarity import FLOOR

    source = build_source(tmp_path / "notebooks" / f"{ASSIGNMENT}.ipynb")
    course = Course(tmp_path / "course")
    assert cnncourse(["release", "--course", str(course.root), "--no-manifest", str(source)]) == 0
    release = course.release_notebook(ASSIGNMENT)
    renamed = {g: re.sub(r"\b(x|w|n|image|kernel|out|k|kh|kw|i|j)\b", lambda m: m.group() + "_", code) for g, code in CORRECT.items()}
    handed_in = {"alice": CORRECT, "bob": renamed, "carol": INDEPENDENT, "dave": {}}
    for student, answers in handed_in.items():
        path = course.submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(submission(release, answers), str(path))
    (course.submitted / "erin" / ASSIGNMENT).mkdir(parents=True)
    (course.submitted / "erin" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text("{ not a notebook")
    capsys.readouterr()

    assert cnncourse(["similarity", "--course", str(course.root)]) == 0
    out = capsys.readouterr().out
    assert f"{ASSIGNMENT}: 4 submissions, 1 pair scores {FLOOR:g} or more" in out and "most similar: alice and bob (1.00)" in out
    assert "erin: left out" in out and "not a readable notebook" in out
    rows = list(csv.DictReader(open(course.reports / "similarity" / f"{ASSIGNMENT}.csv", encoding="utf-8")))
    assert [(r["student_a"], r["student_b"]) for r in rows] == [("alice", "bob")]
    assert float(rows[0]["score"]) == 1.0 and rows[0]["anchor"] == f"{ASSIGNMENT}.html#pair-1"
    text = (course.reports / "similarity" / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "id='pair-1'" in text and "alice" in text and "bob" in text and "erin: left out" in text
    assert "np.einsum" not in text  # carol matches nobody, so her code is not shown

    assert cnncourse(["similarity", "--course", str(course.root), "--floor", "0", "--common", "2"]) == 0
    rows = list(csv.DictReader(open(course.reports / "similarity" / f"{ASSIGNMENT}.csv", encoding="utf-8")))
    assert "dave" not in {r["student_a"] for r in rows} | {r["student_b"] for r in rows}  # the starter code matches nobody

    assert cnncourse(["similarity", "--course", str(course.root), "--floor", "2"]) == 2
    assert "--floor must be a score between 0 and 1" in capsys.readouterr().err
    assert cnncourse(["similarity", "--course", str(course.root), "no_such_assignment"]) == 2
    assert "unknown assignment(s): no_such_assignment" in capsys.readouterr().err


def test_a_class_of_300_finds_the_one_copy(nb05):
    """300 students answer notebook 05 with the loop or the vectorised answers (mostly the same
    code, so shared passages are idioms), each with two lines of their own; one more student hands
    in a renamed and reordered copy of student 7. The copy is the only pair above the floor."""
    import random

    from autograder.similarity import FLOOR
    from autograder.similarity.fingerprints import CodeCell, canonical_tokens

    rng = random.Random(12)

    def own_line(depth):
        if depth == 0:
            return rng.choice(["n", "k", "1", "2", "len(w)", "w.shape[0]", "abs(n)"])
        return f"({own_line(depth - 1)} {rng.choice(['+', '-', '*', '//', '%', '**', '<<'])} {own_line(depth - 1)})"

    def cells(bodies):
        return [CodeCell(g, body, canonical_tokens(body, nb05.code.names)) for g, body in bodies.items()]

    bodies = [{g: f"    check = {own_line(3)}\n    limit = {own_line(3)}\n" + nb05.answer(g, rng.randrange(2)) for g in nb05.answers} for _ in range(300)]
    subs = [Submission(f"s{i:03d}", cells(b)) for i, b in enumerate(bodies)]
    subs.append(Submission("copier", cells({g: _reorder_and_comment(g, _rename(g, body)) for g, body in bodies[7].items()})))
    fingerprint_class(subs, nb05.starter)
    pairs = compare(subs)
    assert len(pairs) > 100  # the inverted index did pair submissions that share something
    assert [(p.a.student, p.b.student) for p in pairs if p.score >= FLOOR] == [("s007", "copier")]
