"""Drawing small grids of cells, the building block of the explorers' figures.

Cells are unit squares on an axes whose y axis points down (row 0 at the top), so that a cell
``(row, col)`` of a grid whose top-left corner is at ``(x0, y0)`` covers
``[x0 + col, x0 + col + 1] x [y0 + row, y0 + row + 1]``, as the array is printed.

Every patch gets a ``gid`` naming what it is (``"input"``, ``"padding"``, ``"output"``, ...), so
that a test can count what a figure shows without looking at pixels.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

__all__ = ["COLOURS", "new_axes", "cell", "outline", "finish_grid_axes", "legend_below"]

#: One colour per meaning, shared by the explorers so that orange always means "the highlighted one".
COLOURS = {
    "input": "#9ecae1",      # an input pixel
    "padding": "white",      # a zero of the padding (drawn dashed)
    "unread": "#fb6a4a",     # an input pixel that no window reads / an output that nothing writes
    "output": "#a1d99b",     # an output unit
    "highlight": "#ff7f0e",  # the highlighted unit and what it reads or writes
    "other": "#d9d9d9",      # a unit that is not involved
    "centre": "0.25",        # the centre of a window
}


def new_axes(figsize=(10, 5)):
    """A figure that pyplot does not manage (so it is never shown twice) and its one axes."""
    figure = Figure(figsize=figsize)
    ax = figure.add_subplot()
    return figure, ax


def cell(ax, x, y, kind: str, *, inset: float = 0.0, alpha: float = 1.0, dashed: bool = False, text: str | None = None,
         fontsize: float = 8, **kwargs) -> Rectangle:
    """Draw one unit cell whose top-left corner is ``(x, y)``, coloured for ``kind`` (a key of :data:`COLOURS`)."""
    rectangle = Rectangle(
        (x + inset, y + inset), 1 - 2 * inset, 1 - 2 * inset,
        facecolor=COLOURS[kind], edgecolor=kwargs.pop("edgecolor", "0.35" if not dashed else "0.6"),
        linewidth=kwargs.pop("linewidth", 0.8 if not inset else 0), linestyle="--" if dashed else "-",
        alpha=alpha, gid=kwargs.pop("gid", kind), **kwargs,
    )
    ax.add_patch(rectangle)
    if text is not None:
        ax.text(x + 0.5, y + 0.5, text, ha="center", va="center", fontsize=fontsize)
    return rectangle


def outline(ax, x, y, width, height, colour: str = COLOURS["highlight"], gid: str = "outline", linewidth: float = 2.2):
    """An unfilled rectangle around the cells ``[x, x + width) x [y, y + height)``."""
    rectangle = Rectangle((x, y), width, height, fill=False, edgecolor=colour, linewidth=linewidth, gid=gid, zorder=4)
    ax.add_patch(rectangle)
    return rectangle


def finish_grid_axes(ax, width: float, height: float, top: float = -1.6) -> None:
    """Equal aspect, y pointing down, no frame; room above the grids for their labels."""
    ax.set_xlim(-0.6, width + 0.6)
    ax.set_ylim(height + 0.4, top)
    ax.set_aspect("equal")
    ax.axis("off")


def legend_below(ax, entries: list[tuple[str, dict]], ncol: int = 3) -> None:
    """A legend under the axes; ``entries`` are ``(label, Patch keyword arguments)``."""
    handles = [Patch(label=label, **style) for label, style in entries]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol, frameon=False, fontsize=9)
