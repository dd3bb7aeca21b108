"""Notebook 03's explorer: where the windows of a convolution sit, and the output size they give.

:class:`ConvSetting` is one setting of the sliders (square input and kernel, the same settings on
both axes). :func:`draw_conv_arithmetic` draws it: the padded input with the window of one output
unit highlighted and a dot at the centre of every other window, the input pixels that no window
reads in red, and the output grid. In transposed mode it draws the transposed convolution the way
it computes: every input unit stamps the kernel onto the output, ``stride`` pixels apart, and the
padding crops the border of the result. :func:`conv_arithmetic_formula` writes the output-size
formula with the setting's numbers, the result coming from :mod:`cnnlib.arithmetic`.

    >>> conv_arithmetic_formula(ConvSetting(n=5, kernel_size=3, stride=2, padding=1))
    'convolution: o = ⌊(n + 2p − d(k−1) − 1) / s⌋ + 1 = ⌊(5 + 2·1 − 1·(3−1) − 1) / 2⌋ + 1 = 3'
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnlib import arithmetic as arith
from cnnlib.viz.explorer import Explorer, View
from cnnlib.viz.grids import COLOURS, cell, finish_grid_axes, legend_below, new_axes, outline

__all__ = [
    "ConvSetting", "conv_arithmetic_output_size", "conv_arithmetic_formula", "window_positions",
    "stamp_positions", "unread_positions", "draw_conv_arithmetic", "conv_arithmetic_explorer",
]

#: The sliders' ranges: small enough that every cell stays visible.
LIMITS = {"n": (1, 16), "kernel_size": (1, 7), "stride": (1, 4), "padding": (0, 4), "dilation": (1, 3), "output_padding": (0, 3)}


@dataclass(frozen=True)
class ConvSetting:
    """One convolution (or transposed convolution) along one axis, applied to a square input.

    ``unit`` is the highlighted unit, in row-major order: an output unit of a convolution, an input
    unit of a transposed convolution (whose stamp is drawn).
    """

    n: int = 5
    kernel_size: int = 3
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    transposed: bool = False
    output_padding: int = 0
    unit: int = 0


def conv_arithmetic_output_size(setting: ConvSetting) -> int:
    """The output size of the setting, from :mod:`cnnlib.arithmetic` (its ``ValueError`` when impossible)."""
    s = setting
    if s.transposed:
        return arith.transposed_conv_output_size(s.n, s.kernel_size, stride=s.stride, padding=s.padding,
                                                 output_padding=s.output_padding, dilation=s.dilation)
    return arith.conv_output_size(s.n, s.kernel_size, stride=s.stride, padding=s.padding, dilation=s.dilation)


def _formula(s: ConvSetting) -> str:
    """``<kind>: <relation in symbols> = <relation with the setting's numbers>``, without the result."""
    if s.transposed:
        return (f"transposed convolution: o = (n − 1)s − 2p + d(k − 1) + output_padding + 1 = "
                f"({s.n} − 1)·{s.stride} − 2·{s.padding} + {s.dilation}·({s.kernel_size} − 1) + {s.output_padding} + 1")
    return (f"convolution: o = ⌊(n + 2p − d(k−1) − 1) / s⌋ + 1 = "
            f"⌊({s.n} + 2·{s.padding} − {s.dilation}·({s.kernel_size}−1) − 1) / {s.stride}⌋ + 1")


def conv_arithmetic_formula(setting: ConvSetting) -> str:
    """The output-size formula with the setting's numbers substituted, ending in the library's answer.

    Raises the library's ``ValueError`` when the setting is impossible.
    """
    return f"{_formula(setting)} = {conv_arithmetic_output_size(setting)}"


def window_positions(n: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> list[list[int]]:
    """Along one axis, the positions of the padded input (0 = the first padding zero) that each output unit reads.

    Output unit ``i`` reads ``i*stride + j*dilation`` for ``j = 0 .. kernel_size - 1``; there are
    ``conv_output_size(...)`` units.
    """
    o = arith.conv_output_size(n, kernel_size, stride=stride, padding=padding, dilation=dilation)
    return [[i * stride + j * dilation for j in range(kernel_size)] for i in range(o)]


def stamp_positions(n: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> list[list[int]]:
    """Along one axis, the positions of the uncropped output of a transposed convolution that each input unit writes.

    Input unit ``i`` adds its value times the kernel onto ``i*stride + j*dilation``; the output is
    then positions ``padding .. padding + o - 1`` of these.
    """
    return [[i * stride + j * dilation for j in range(kernel_size)] for i in range(n)]


def unread_positions(setting: ConvSetting) -> list[int]:
    """Along one axis: the input pixels that no window reads (convolution), or the output positions
    that no stamp writes (transposed convolution, in output coordinates: they hold only the bias)."""
    s = setting
    if s.transposed:
        o = conv_arithmetic_output_size(s)
        written = {q - s.padding for stamp in stamp_positions(s.n, s.kernel_size, s.stride, s.dilation) for q in stamp}
        return [q for q in range(o) if q not in written]
    read = {q - s.padding for window in window_positions(s.n, s.kernel_size, s.stride, s.padding, s.dilation) for q in window}
    return [q for q in range(s.n) if q not in read]


def _check_setting(setting: ConvSetting) -> ConvSetting:
    if not isinstance(setting, ConvSetting):
        raise TypeError(f"setting must be a ConvSetting, got {type(setting).__name__} {setting!r}")
    return setting


def _highlighted(setting: ConvSetting, units_per_side: int) -> tuple[int, int]:
    """``setting.unit`` as (row, column), or a ValueError naming the valid range."""
    count = units_per_side * units_per_side
    if not 0 <= setting.unit < count:
        raise ValueError(f"unit must be in 0 .. {count - 1} (a {units_per_side}x{units_per_side} grid, row-major), got {setting.unit}")
    return divmod(setting.unit, units_per_side)


def draw_conv_arithmetic(setting: ConvSetting, ax=None):
    """Draw one setting: input, window (or stamp) positions, output. Returns the figure.

    Parameters
    ----------
    setting : ConvSetting
    ax : matplotlib Axes, optional
        Draw into it (no legend, and the grids captioned only "input" and "output": put the sizes
        in the axes' title); by default a new figure with a legend.

    Raises
    ------
    ValueError
        The library's message when the setting is impossible (the kernel does not fit, or the
        ``output_padding`` is too large), or when ``setting.unit`` is outside the grid.
    """
    setting = _check_setting(setting)
    o = conv_arithmetic_output_size(setting)
    own_figure = ax is None
    if own_figure:
        figure, ax = new_axes()
    else:
        figure = ax.figure
    if setting.transposed:
        _draw_transposed(ax, setting, o, captions=own_figure)
    else:
        _draw_convolution(ax, setting, o, captions=own_figure)
    if own_figure:
        _legend(ax, setting)
        figure.tight_layout()
    return figure


def _index_labels(ax, x0, y0, count, rows: bool = False):
    """Column numbers above the grid's top edge (and row numbers left of its left edge), for cells
    ``0 .. count - 1`` starting at ``(x0, y0)``, so that a reader can name "the last column"."""
    step = 1 if count <= 10 else 2
    for c in range(0, count, step):
        ax.text(x0 + c + 0.5, -0.25, str(c), ha="center", va="bottom", fontsize=7, color="0.35")
        if rows:
            ax.text(-0.25, y0 + c + 0.5, str(c), ha="right", va="center", fontsize=7, color="0.35")


def _draw_convolution(ax, s: ConvSetting, o: int, captions: bool) -> None:
    size = s.n + 2 * s.padding
    windows = window_positions(s.n, s.kernel_size, s.stride, s.padding, s.dilation)
    unread = set(unread_positions(s))
    row, col = _highlighted(s, o)
    for r in range(size):
        for c in range(size):
            inside = s.padding <= r < s.padding + s.n and s.padding <= c < s.padding + s.n
            if not inside:
                cell(ax, c, r, "padding", dashed=True)
            elif r - s.padding in unread or c - s.padding in unread:
                cell(ax, c, r, "unread")
            else:
                cell(ax, c, r, "input")
    _index_labels(ax, s.padding, s.padding, s.n, rows=True)
    # A dot at the centre of every window; the highlighted window's taps and its outline.
    span = s.dilation * (s.kernel_size - 1) + 1
    radius = min(0.16, 0.9 / max(s.stride, 1) / 2.5)
    for i in range(o):
        for j in range(o):
            centre = (windows[j][0] + span / 2, windows[i][0] + span / 2)
            ax.add_patch(_dot(centre, radius, "window-centre"))
    for m in windows[row]:
        for q in windows[col]:
            cell(ax, q, m, "highlight", inset=0.14, alpha=0.85, gid="tap")
    outline(ax, windows[col][0], windows[row][0], span, span, gid="window")
    # The output grid, to the right.
    x0 = size + 2
    for r in range(o):
        for c in range(o):
            cell(ax, x0 + c, r, "highlight" if (r, c) == (row, col) else "output", gid="output-highlight" if (r, c) == (row, col) else "output")
    _index_labels(ax, x0, 0, o)
    ax.annotate("", xy=(x0 + col + 0.5, row + 0.5), xytext=(windows[col][0] + span, windows[row][0] + span / 2),
                arrowprops=dict(arrowstyle="->", color=COLOURS["highlight"], lw=1.5, connectionstyle="arc3,rad=-0.25"))
    _caption(ax, size / 2, f"input {s.n}×{s.n}" + (f", padded to {size}×{size}" if s.padding else ""), captions)
    _caption(ax, x0 + o / 2, f"output {o}×{o}", captions)
    finish_grid_axes(ax, x0 + o, max(size, o))


def _draw_transposed(ax, s: ConvSetting, o: int, captions: bool) -> None:
    stamps = stamp_positions(s.n, s.kernel_size, s.stride, s.dilation)
    full = (s.n - 1) * s.stride + s.dilation * (s.kernel_size - 1) + 1  # before cropping
    canvas = max(full, s.padding + o)
    unwritten = set(unread_positions(s))  # in output coordinates
    row, col = _highlighted(s, s.n)
    # The input grid, left.
    for r in range(s.n):
        for c in range(s.n):
            cell(ax, c, r, "highlight" if (r, c) == (row, col) else "input", gid="input-highlight" if (r, c) == (row, col) else "input")
    _index_labels(ax, 0, 0, s.n, rows=True)
    # The uncropped output, right: the output itself, and the border that the padding crops.
    x0 = s.n + 2
    for r in range(canvas):
        for c in range(canvas):
            inside = s.padding <= r < s.padding + o and s.padding <= c < s.padding + o
            if not inside:
                cell(ax, x0 + c, r, "padding", dashed=True, gid="cropped")
            elif r - s.padding in unwritten or c - s.padding in unwritten:
                cell(ax, x0 + c, r, "unread", gid="unwritten")
            else:
                cell(ax, x0 + c, r, "output")
    _index_labels(ax, x0 + s.padding, 0, o)
    span = s.dilation * (s.kernel_size - 1) + 1
    radius = min(0.16, 0.9 / max(s.stride, 1) / 2.5)
    for i in range(s.n):
        for j in range(s.n):
            ax.add_patch(_dot((x0 + stamps[j][0] + span / 2, stamps[i][0] + span / 2), radius, "stamp-centre"))
    for m in stamps[row]:
        for q in stamps[col]:
            cell(ax, x0 + q, m, "highlight", inset=0.14, alpha=0.85, gid="tap")
    outline(ax, x0 + stamps[col][0], stamps[row][0], span, span, gid="stamp")
    ax.annotate("", xy=(x0 + stamps[col][0], stamps[row][0] + span / 2), xytext=(col + 0.5, row + 0.5),
                arrowprops=dict(arrowstyle="->", color=COLOURS["highlight"], lw=1.5, connectionstyle="arc3,rad=0.25"))
    _caption(ax, s.n / 2, f"input {s.n}×{s.n}", captions)
    cropped = f", {full}×{full} before padding {s.padding} crops it" if s.padding else ""
    _caption(ax, x0 + canvas / 2, f"output {o}×{o}{cropped}", captions)
    finish_grid_axes(ax, x0 + canvas, max(s.n, canvas))


def _caption(ax, x, text, full: bool) -> None:
    """The grid's name above it: in full in the explorer's own figure, one word in a small panel."""
    ax.text(x, -1.0, text if full else text.split(" ")[0], ha="center", va="bottom", fontsize=10 if full else 9)


def _dot(centre, radius, gid):
    from matplotlib.patches import Circle

    return Circle(centre, radius, facecolor=COLOURS["centre"], edgecolor="none", zorder=3, gid=gid)


def _legend(ax, s: ConvSetting) -> None:
    o = conv_arithmetic_output_size(s)
    if s.transposed:
        row, col = divmod(s.unit, s.n)
        entries = [
            ("input unit", dict(facecolor=COLOURS["input"], edgecolor="0.35")),
            (f"input unit ({row}, {col}) and the kernel it stamps", dict(facecolor=COLOURS["highlight"])),
            ("output", dict(facecolor=COLOURS["output"], edgecolor="0.35")),
            ("cropped by the padding", dict(facecolor="white", edgecolor="0.6", linestyle="--")),
            ("written by no stamp (only the bias)", dict(facecolor=COLOURS["unread"], edgecolor="0.35")),
            ("dot: centre of each stamp", dict(facecolor=COLOURS["centre"])),
        ]
    else:
        row, col = divmod(s.unit, o)
        entries = [
            ("input pixel", dict(facecolor=COLOURS["input"], edgecolor="0.35")),
            ("padding (zeros)", dict(facecolor="white", edgecolor="0.6", linestyle="--")),
            ("never read by any window", dict(facecolor=COLOURS["unread"], edgecolor="0.35")),
            (f"window of output unit ({row}, {col})", dict(facecolor=COLOURS["highlight"])),
            ("output unit", dict(facecolor=COLOURS["output"], edgecolor="0.35")),
            ("dot: centre of each window", dict(facecolor=COLOURS["centre"])),
        ]
    legend_below(ax, entries)


# -- the explorer --------------------------------------------------------------------------------

def _units_per_side(setting: ConvSetting) -> int | None:
    """How many units the unit slider chooses among per side, or None for an impossible setting."""
    if setting.transposed:
        return setting.n
    try:
        return conv_arithmetic_output_size(setting)
    except ValueError:
        return None


def _summary(setting: ConvSetting, o: int) -> str:
    unread = unread_positions(setting)
    if setting.transposed:
        where = "output positions written by no stamp" if unread else "every output position is written by some stamp"
    else:
        where = "input rows/columns never read" if unread else "every input pixel is read"
    listed = f": {unread} (red)" if unread else ""
    return f"{o}×{o} = {o * o} output units; {where}{listed}"


def render_conv_arithmetic(**values) -> View:
    """The :class:`View` of the explorer's controls: the figure, the formula and a summary, or the error."""
    setting = ConvSetting(**values)
    try:
        formula = conv_arithmetic_formula(setting)
    except ValueError as error:
        return View(None, f"{_formula(setting)}: impossible", f"ValueError: {error}")
    o = conv_arithmetic_output_size(setting)
    return View(draw_conv_arithmetic(setting), f"{formula}\n{_summary(setting, o)}")


def _sync(controls) -> None:
    """Keep the unit slider inside the grid, name what it picks, and enable output_padding only when transposed."""
    values = {name: control.value for name, control in controls.items()}
    setting = ConvSetting(**values)
    per_side = _units_per_side(setting)
    unit = controls["unit"]
    if per_side is not None:
        unit.max = per_side * per_side - 1
        unit.disabled = False
    else:
        unit.disabled = True
    unit.description = "input unit" if setting.transposed else "output unit"
    controls["output_padding"].disabled = not setting.transposed


def conv_arithmetic_explorer(setting: ConvSetting | None = None) -> Explorer:
    """Sliders for input size, kernel size, stride, padding and dilation, a transposed-convolution
    switch (with ``output_padding``) and the highlighted unit, redrawing :func:`draw_conv_arithmetic`.

    Display the result (the last line of a cell) to see it; ``.controls`` are the widgets and
    ``.view`` the current figure and formula.
    """
    import ipywidgets as widgets

    setting = _check_setting(setting) if setting is not None else ConvSetting(n=5, kernel_size=3, stride=2, padding=1)
    style = {"description_width": "110px"}
    layout = widgets.Layout(width="340px")
    sliders = {
        name: widgets.IntSlider(value=getattr(setting, name), min=low, max=high, description=name, style=style,
                                layout=layout, continuous_update=False)
        for name, (low, high) in LIMITS.items()
    }
    controls = {
        **{name: sliders[name] for name in ("n", "kernel_size", "stride", "padding", "dilation")},
        "transposed": widgets.Checkbox(value=setting.transposed, description="transposed convolution", indent=False),
        "output_padding": sliders["output_padding"],
        "unit": widgets.IntSlider(value=setting.unit, min=0, max=max(setting.unit, 1), description="output unit",
                                  style=style, layout=layout, continuous_update=False),
    }
    arrangement = widgets.HBox([
        widgets.VBox([controls[name] for name in ("n", "kernel_size", "stride", "padding")]),
        widgets.VBox([controls[name] for name in ("dilation", "unit", "output_padding", "transposed")]),
    ])
    return Explorer(controls, render_conv_arithmetic, sync=_sync, layout=arrangement)
