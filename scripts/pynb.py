"""Convert between a course notebook and an editable percent-format script (jupytext).

    python scripts/pynb.py to-py notebooks/01_x.ipynb /tmp/01_x.py     # edit the .py ...
    python scripts/pynb.py to-ipynb /tmp/01_x.py notebooks/01_x.ipynb  # ... and write it back

``to-ipynb`` keeps the cell ids of the notebook it overwrites (cells matched by their text, so
that inserting or deleting a cell leaves the other cells' ids alone; an edited cell keeps its id),
clears outputs, drops jupytext's own metadata and sets the python3 kernel, so that the committed
notebook is a clean nbgrader source. Only the .ipynb is committed.
"""

import difflib
import sys
from pathlib import Path

import jupytext
import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def to_py(src: Path, dest: Path) -> None:
    jupytext.write(jupytext.read(src), dest, fmt="py:percent")


def to_ipynb(src: Path, dest: Path) -> None:
    nb = jupytext.read(src)
    old = nbformat.read(str(dest), as_version=4).cells if dest.exists() else []
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    for cell in nb.cells:
        cell.metadata.pop("lines_to_next_cell", None)
        cell.metadata.pop("jupyter", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    for new_index, old_index in matching_cells([c.source for c in old], [c.source for c in nb.cells]).items():
        if old[old_index].get("id"):
            nb.cells[new_index]["id"] = old[old_index]["id"]
    nbformat.validate(nb)
    nbformat.write(nb, str(dest))


def matching_cells(old: list[str], new: list[str]) -> dict[int, int]:
    """``{new index: old index}``: unchanged cells matched by their text, and, between two unchanged
    stretches, as many edited cells as both sides have, in order. Inserted cells match nothing."""
    matches = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag in ("equal", "replace"):
            matches.update(zip(range(j1, j2), range(i1, min(i2, i1 + (j2 - j1)))))
    return matches


if __name__ == "__main__":
    command, src, dest = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    {"to-py": to_py, "to-ipynb": to_ipynb}[command](src, dest)
