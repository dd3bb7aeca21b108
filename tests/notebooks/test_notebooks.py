"""Every course notebook: structure, source runs, student version, and grading (autograder.validate).

One test per notebook, so a failure names the notebook and lists every problem found. The
notebooks run with the data sets of ``$CNNLIB_DATA`` when it is set (``make test`` sets it to
``../shared/data`` when that folder exists). The notebooks that load a data set run a second time
as on a fresh machine with no network and no data: ``CNNLIB_OFFLINE=1``, no ``CNNLIB_DATA`` and an
empty ``CNNLIB_CACHE``, so they must fall back to their stand-ins, and their checks must grade
without any download.
"""

import json

import pytest

from autograder.course import course_notebooks
from autograder.validate import validate

NOTEBOOKS = course_notebooks()
# The source must run with solutions well inside its budget (60 s for 01-07, 180 s for 08-15);
# the test allows 3x the budget so that a busy CI machine does not fail it, and prints the time.
BUDGET = {n: (60 if int(n.name[:2]) <= 7 else 180) for n in NOTEBOOKS}


def loads_a_data_set(path) -> bool:
    """Whether a notebook's code loads a data set through cnnlib.data (and so has an offline path)."""
    cells = json.loads(path.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return any(f"{name}(" in code for name in ("load_or_fallback", "load_mnist", "load_fashion_mnist", "load_cifar10"))


DATA_NOTEBOOKS = [p for p in NOTEBOOKS if loads_a_data_set(p)]


def check_report(report, path):
    print(report.summary())
    assert report.ok, report.summary()
    assert report.source_score[0] == report.source_score[1] > 0
    assert report.student_score[0] == 0
    assert report.source_seconds < 3 * BUDGET[path], f"{path.name} took {report.source_seconds:.0f} s (budget {BUDGET[path]} s)"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(path, tmp_path):
    check_report(validate(path, workdir=tmp_path), path)


@pytest.mark.slow
@pytest.mark.parametrize("path", DATA_NOTEBOOKS, ids=[p.stem for p in DATA_NOTEBOOKS])
def test_notebook_offline_without_data(path, tmp_path, monkeypatch):
    """Offline mode, no data folder, an empty cache: the notebook runs on its stand-ins, says so,
    and its solutions still earn full marks."""
    monkeypatch.setenv("CNNLIB_OFFLINE", "1")
    monkeypatch.delenv("CNNLIB_DATA", raising=False)
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path / "empty-cache"))
    check_report(validate(path, workdir=tmp_path / "work"), path)


def test_the_notebooks_that_load_data_are_the_ones_expected():
    """A new notebook that loads a data set joins the offline run by itself; this lists today's."""
    assert [p.name[:2] for p in DATA_NOTEBOOKS] == ["06", "08", "09", "10", "11", "12", "13", "14", "15"]


def test_there_are_fifteen_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 16)]
