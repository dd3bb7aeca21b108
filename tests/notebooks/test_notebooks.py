"""Every course notebook: structure, source runs, student version, and grading (autograder.validate).

One test per notebook, so a failure names the notebook and lists every problem found.
"""

import pytest

from autograder.course import course_notebooks
from autograder.validate import validate

NOTEBOOKS = course_notebooks()
# The source must run with solutions well inside its budget (60 s for 01-07, 180 s for 08-13);
# the test allows 3x the budget so that a busy CI machine does not fail it, and prints the time.
BUDGET = {n: (60 if int(n.name[:2]) <= 7 else 180) for n in NOTEBOOKS}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(path, tmp_path):
    report = validate(path, workdir=tmp_path)
    print(report.summary())
    assert report.ok, report.summary()
    assert report.source_score[0] == report.source_score[1] > 0
    assert report.student_score[0] == 0
    assert report.source_seconds < 3 * BUDGET[path], f"{path.name} took {report.source_seconds:.0f} s (budget {BUDGET[path]} s)"


def test_there_are_thirteen_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 14)]
