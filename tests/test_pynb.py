"""scripts/pynb.py: a notebook edited as a script keeps its cells' ids where the cells are kept."""

import importlib.util
from pathlib import Path

import nbformat

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pynb.py"
spec = importlib.util.spec_from_file_location("pynb", SCRIPT)
pynb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pynb)


def test_matching_cells_by_text_around_insertions_deletions_and_edits():
    assert pynb.matching_cells(["a", "b", "c", "d"], ["a", "x", "b", "c", "d"]) == {0: 0, 2: 1, 3: 2, 4: 3}
    assert pynb.matching_cells(["a", "b", "c"], ["a", "c"]) == {0: 0, 1: 2}
    assert pynb.matching_cells(["a", "b", "c"], ["a", "B", "c"]) == {0: 0, 1: 1, 2: 2}  # an edited cell keeps its id


def test_round_trip_with_an_inserted_cell_keeps_the_other_ids(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y = 2")]
    path, script = tmp_path / "nb.ipynb", tmp_path / "nb.py"
    nbformat.write(nb, str(path))
    ids = [c["id"] for c in nbformat.read(str(path), as_version=4).cells]
    pynb.to_py(path, script)
    script.write_text(script.read_text().replace("x = 1\n", "x = 1\n\n# %%\nz = 0\n"))
    pynb.to_ipynb(script, path)
    cells = nbformat.read(str(path), as_version=4).cells
    assert [c.source for c in cells] == ["# Title", "x = 1", "z = 0", "y = 2"]
    assert [cells[0]["id"], cells[1]["id"], cells[3]["id"]] == ids
    assert cells[2]["id"] not in ids
