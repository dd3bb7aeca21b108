"""notebooks/00_start_here.ipynb runs from top to bottom, and the README stays true to the repository."""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
START_HERE = REPO / "notebooks" / "00_start_here.ipynb"
README = REPO / "README.md"
BUDGET_S = 60  # the notebook says it runs in well under a minute; allow 3x on a busy CI machine


@pytest.mark.slow
def test_start_here_runs(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(START_HERE, as_version=4)
    start = time.monotonic()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(START_HERE.parent)}}).execute()
    seconds = time.monotonic() - start
    print(f"00_start_here.ipynb ran in {seconds:.0f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "stream")
    # What the notebook's prose describes is what its commands printed.
    assert "released to course/release/01_convolution_vs_cross_correlation" in text
    assert "PASS [1/1] cross_correlate1d" in text and "your output equals cross-correlation" in text
    assert re.search(r"^bob,3(\.0)?,", text, re.M), text[-2000:]
    assert seconds < 3 * BUDGET_S, f"00_start_here.ipynb took {seconds:.0f} s (budget {BUDGET_S} s)"


def test_start_here_is_not_an_assignment():
    nb = nbformat.read(START_HERE, as_version=4)
    assert not any("nbgrader" in c.metadata for c in nb.cells), "00_start_here.ipynb must not carry nbgrader metadata"
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit 00_start_here.ipynb with outputs cleared"


def test_readme_lists_every_notebook():
    readme = README.read_text()
    for path in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert path.name in readme, f"README.md does not list {path.name}"


def test_readme_picture_is_there_and_small():
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README.read_text())
    assert pictures, "README.md has no picture"
    for picture in pictures:
        path = REPO / picture
        assert path.is_file(), f"README.md shows {picture}, which does not exist"
        assert path.stat().st_size < 200_000, f"{picture} is {path.stat().st_size} bytes (keep it under 200 KB)"


def test_readme_commands_exist():
    readme = README.read_text()
    makefile = (REPO / "Makefile").read_text()
    for target in re.findall(r"`make (\w+)`", readme):
        assert re.search(rf"^{target}:", makefile, re.M), f"README.md names `make {target}`, which the Makefile lacks"
    for script in re.findall(r"`((?:scripts|benchmarks)/[\w./-]+\.(?:py|sh))", readme):
        assert (REPO / script).is_file(), f"README.md names {script}, which does not exist"
