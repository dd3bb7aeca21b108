"""Convert between a course notebook and an editable percent-format script (jupytext).

    python scripts/pynb.py to-py notebooks/01_x.ipynb /tmp/01_x.py     # edit the .py ...
    python scripts/pynb.py to-ipynb /tmp/01_x.py notebooks/01_x.ipynb  # ... and write it back

``to-ipynb`` keeps the cell ids of the notebook it overwrites (matched by position and text),
clears outputs, drops jupytext's own metadata and sets the python3 kernel, so that the committed
notebook is a clean nbgrader source. Only the .ipynb is committed.
"""

import sys
from pathlib import Path

import jupytext
import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def to_py(src: Path, dest: Path) -> None:
    jupytext.write(jupytext.read(src), dest, fmt="py:percent")


def to_ipynb(src: Path, dest: Path) -> None:
    nb = jupytext.read(src)
    old_ids = []
    if dest.exists():
        old = nbformat.read(str(dest), as_version=4)
        old_ids = [(c.get("id"), c.source) for c in old.cells]
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("lines_to_next_cell", None)
        cell.metadata.pop("jupyter", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if index < len(old_ids) and old_ids[index][0]:
            cell["id"] = old_ids[index][0]
    nbformat.validate(nb)
    nbformat.write(nb, str(dest))


if __name__ == "__main__":
    command, src, dest = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    {"to-py": to_py, "to-ipynb": to_ipynb}[command](src, dest)
