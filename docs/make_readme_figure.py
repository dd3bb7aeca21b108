"""Regenerate the README's picture from the notebook figure it shows.

    .venv/bin/python docs/make_readme_figure.py

Runs notebook 01 (about half a minute), takes the figure drawn by the cell that compares
cross-correlation with convolution on a photograph, and saves it as a palette PNG under 180 KB.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "01_convolution_vs_cross_correlation.ipynb"
MARKER = 'set_title("echo kernel (31 x 31)")'  # identifies the figure's cell
OUTPUT = REPO / "docs" / "cross_correlation_vs_convolution.png"


def main() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    cell = next(c for c in nb.cells if c.cell_type == "code" and MARKER in c.source)
    png = next(o["data"]["image/png"] for o in cell.outputs if "image/png" in o.get("data", {}))
    image = Image.open(io.BytesIO(base64.b64decode(png))).convert("RGB")
    # The most colours (median cut keeps the photograph's greys smooth) that stay under 180 KB.
    for colors in range(128, 15, -8):
        buffer = io.BytesIO()
        image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(buffer, "PNG", optimize=True)
        if buffer.tell() < 180_000:
            break
    OUTPUT.write_bytes(buffer.getvalue())
    print(f"wrote {OUTPUT.relative_to(REPO)}: {image.size[0]}x{image.size[1]}, {colors} colours, {OUTPUT.stat().st_size / 1000:.0f} KB")


if __name__ == "__main__":
    main()
