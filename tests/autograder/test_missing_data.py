"""A check that needs a data set the grading machine lacks is the machine's problem, not the
student's: ``cnncourse grade`` stops before grading anything and says what to put where, and a
check that meets the missing data mid-grading raises instead of recording 0 points.

No course notebook needs such a data set any more (notebook 13 grades on generated data: the
offline run of ``tests/notebooks/test_notebooks.py`` grades it with no data at all), so these tests
use a checks module of their own, ``fixture_checks_needing_data``, installed as ``cnnlib.checks.nb99``.
"""

from __future__ import annotations

import shutil
import sys

import nbformat
import pytest

import fixture_checks_needing_data as needs_data
from autograder.cli import main as cnncourse
from autograder.course import Course
from cnnlib.checks.core import CheckSetupError, collecting
from cnnlib.data import cache
from cnnlib.data.errors import DatasetNotFoundError


@pytest.fixture
def offline_without_data(tmp_path, monkeypatch):
    """No local copy anywhere, offline mode on, and a network that fails the test if it is used."""
    (tmp_path / "no-data").mkdir()
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "no-data"))
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path / "no-cache"))
    monkeypatch.setenv("CNNLIB_OFFLINE", "1")
    monkeypatch.setattr(cache, "_fetch", lambda url, part: pytest.fail(f"tried to download {url}"))


@pytest.fixture
def nb99(monkeypatch):
    """The test-only checks module, importable as ``cnnlib.checks.nb99`` (where the grader looks)."""
    monkeypatch.setitem(sys.modules, needs_data.NAME, needs_data)
    return needs_data


def test_check_raises_setup_error_instead_of_failing_the_answer(offline_without_data, nb99):
    with collecting() as reporter, pytest.raises(CheckSetupError, match="cifar-10-python.tar.gz") as info:
        nb99.answer_on_cifar10(lambda: None)
    assert reporter.results == []  # no 0-point verdict was recorded
    assert isinstance(info.value.__cause__, DatasetNotFoundError)
    assert "offline mode is on" in str(info.value)


def test_prepare_names_the_missing_files(offline_without_data, nb99):
    with pytest.raises(CheckSetupError, match="notebook 99") as info:
        nb99.prepare()
    assert "CNNLIB_DATA" in str(info.value) and "python -m cnnlib.data fetch cifar10" in str(info.value)


def _notebook_needing_data(path):
    """A one-exercise source notebook whose test cell calls the test-only checks module."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}

    def code(source, **nbgrader):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"schema_version": 3, "task": False, **nbgrader}
        return cell

    nb.cells = [
        nbformat.v4.new_markdown_cell("# A notebook whose checks need CIFAR-10"),
        code("def answer():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", grade=False, solution=True, locked=False, grade_id="answer"),
        code('"""answer: checked on CIFAR-10."""\nfrom cnnlib.checks import nb99\nnb99.answer_on_cifar10(answer)',
             grade=True, solution=False, locked=True, grade_id="test_answer", points=1),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.mark.slow
def test_grade_stops_before_grading_when_checks_lack_their_data(offline_without_data, nb99, tmp_path, capsys):
    source = _notebook_needing_data(tmp_path / "notebooks" / "99_needs_data.ipynb")
    course = Course(tmp_path / "course")
    assert cnncourse(["release", "--course", str(course.root), "--no-manifest", str(source)]) == 0
    submitted = course.submitted / "alice" / source.stem / f"{source.stem}.ipynb"
    submitted.parent.mkdir(parents=True)
    shutil.copy(course.release_notebook(source.stem), submitted)
    capsys.readouterr()

    assert cnncourse(["grade", "--course", str(course.root), "--jobs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "nothing was graded" in err and "CIFAR-10" in err and "cifar-10-python.tar.gz" in err, err
    assert not any(course.state.rglob("results/**/*.json"))  # no result was written, so a later run grades alice
    assert submitted.is_file()  # the submission is untouched

    assert cnncourse(["check", str(submitted), "--no-bwrap"]) == 2
    assert "the checks cannot run on this machine" in capsys.readouterr().err
