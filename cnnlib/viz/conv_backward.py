"""Notebook 07's explorer: the backward pass of a small convolution, one output gradient at a time.

One channel, one kernel, small integers. In the scatter view of the backward pass, output
gradient ``dout[i, j]`` goes back along the window that made output ``(i, j)``:

- ``dx_pad[window] += dout[i, j] * w`` (the kernel as it is, onto the padded input's window),
- ``dw += dout[i, j] * x_pad[window]``,
- ``db += dout[i, j]``.

:func:`backward_steps` takes these steps one output at a time and keeps every running sum;
:func:`draw_conv_backward_step` draws one of them, with the entries that the step adds into
outlined and the term it adds written under each running sum. After the last step the sums equal
:func:`cnnlib.reference.conv2d_backward` (the figure and the text say whether they do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from matplotlib import colormaps

from cnnlib import arithmetic as arith
from cnnlib import reference as ref
from cnnlib.viz.explorer import Explorer, View
from cnnlib.viz.grids import outline

__all__ = [
    "BackwardSetting", "example_arrays", "Step", "backward_steps", "reference_gradients",
    "draw_conv_backward_step", "describe_step", "conv_backward_explorer",
]

#: The side of one cell of the figure, in inches.
CELL = 0.6

LIMITS = {"n": (3, 6), "kernel_size": (1, 4), "stride": (1, 3), "padding": (0, 2)}


@dataclass(frozen=True)
class BackwardSetting:
    """A 1-channel ``n x n`` input, one ``kernel_size x kernel_size`` kernel, and how far the backward pass has got.

    ``step`` counts the output gradients already sent back (0 .. OH*OW, in row-major order).
    ``seed`` picks the small integers of :func:`example_arrays`.
    """

    n: int = 4
    kernel_size: int = 2
    stride: int = 1
    padding: int = 0
    step: int = 0
    seed: int = 7


def example_arrays(setting: BackwardSetting) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x (n, n)``, ``w (k, k)`` and ``dout (OH, OW)``: small integers (as floats), so sums can be checked by eye.

    ``dout`` has no zeros: every step adds something.
    """
    o = arith.conv_output_size(setting.n, setting.kernel_size, stride=setting.stride, padding=setting.padding)
    rng = np.random.default_rng(setting.seed)
    x = rng.integers(-2, 4, size=(setting.n, setting.n)).astype(float)
    w = rng.integers(-1, 3, size=(setting.kernel_size, setting.kernel_size)).astype(float)
    dout = rng.choice([-2.0, -1.0, 1.0, 2.0], size=(o, o))
    return x, w, dout


class Step(NamedTuple):
    """The running sums after ``index`` output gradients have been sent back.

    ``position`` is the output ``(i, j)`` of the last one (None before the first), ``window`` the
    rows and columns of the padded input that its window covers.
    """

    index: int
    position: tuple[int, int] | None
    window: tuple[slice, slice] | None
    dx_pad: np.ndarray  # (n + 2p, n + 2p)
    dw: np.ndarray  # (k, k)
    db: float


def backward_steps(x: np.ndarray, w: np.ndarray, dout: np.ndarray, stride: int = 1, padding: int = 0) -> list[Step]:
    """Every state of the scatter-view backward pass: ``OH*OW + 1`` steps, the first all zeros.

    Parameters
    ----------
    x : ndarray of shape (H, W)
    w : ndarray of shape (KH, KW)
    dout : ndarray of shape (OH, OW)
        The output size of the convolution of ``x`` with ``w`` at this stride and padding.
    stride, padding : int
    """
    x, w, dout = (np.asarray(a, dtype=float) for a in (x, w, dout))
    for name, array in (("x", x), ("w", w), ("dout", dout)):
        if array.ndim != 2:
            raise ValueError(f"{name} must be 2-dimensional (one channel, one image), got shape {array.shape}")
    expected = tuple(arith.conv_output_size(x.shape, w.shape, stride=stride, padding=padding))
    if dout.shape != expected:
        raise ValueError(f"dout must have the convolution's output shape {expected}, got {dout.shape}")
    x_pad = np.pad(x, padding)
    dx_pad, dw, db = np.zeros_like(x_pad), np.zeros_like(w), 0.0
    steps = [Step(0, None, None, dx_pad.copy(), dw.copy(), db)]
    KH, KW = w.shape
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            window = (slice(i * stride, i * stride + KH), slice(j * stride, j * stride + KW))
            dx_pad[window] += dout[i, j] * w
            dw += dout[i, j] * x_pad[window]
            db += dout[i, j]
            steps.append(Step(len(steps), (i, j), window, dx_pad.copy(), dw.copy(), db))
    return steps


def reference_gradients(x, w, dout, stride: int = 1, padding: int = 0):
    """``(dx, dw, db)`` of :func:`cnnlib.reference.conv2d_backward` for one channel and one kernel."""
    _, cache = ref.conv2d_forward(x[None, None], w[None, None], np.zeros(1), stride=stride, padding=padding)
    dx, dw, db = ref.conv2d_backward(dout[None, None], cache)
    return dx[0, 0], dw[0, 0], float(db[0])


def _check_setting(setting) -> BackwardSetting:
    if not isinstance(setting, BackwardSetting):
        raise TypeError(f"setting must be a BackwardSetting, got {type(setting).__name__} {setting!r}")
    return setting


def _number(value: float) -> str:
    """``2`` or ``(-1)``: a factor in a product written out."""
    return f"{value:g}" if value >= 0 else f"({value:g})"


def _grid(ax, values, title, lim, *, terms=None, highlight=None, dashed_border=0, faded=None, gid="cell"):
    """Draw ``values`` as numbered cells on their own axes; ``terms`` (strings, same shape) are
    written small under the numbers; ``highlight`` (a pair of slices) gets an orange outline;
    ``faded`` cells (a boolean mask) are drawn pale."""
    from matplotlib.patches import Rectangle

    cmap = colormaps["RdBu_r"]
    rows, cols = values.shape
    for (r, c), value in np.ndenumerate(values):
        border = dashed_border and not (dashed_border <= r < rows - dashed_border and dashed_border <= c < cols - dashed_border)
        pale = faded is not None and faded[r, c]
        colour = "white" if border else cmap(0.5 + 0.42 * value / lim)
        ax.add_patch(Rectangle((c, r), 1, 1, facecolor=colour, edgecolor="0.6" if border else "0.35", alpha=0.35 if pale else 1,
                               linestyle="--" if border else "-", linewidth=0.8, gid=gid))
        dark = not border and not pale and abs(value) > 0.55 * lim
        text_colour = "0.6" if border or pale else "white" if dark else "black"
        if terms is not None and terms[r][c]:
            ax.text(c + 0.5, r + 0.36, f"{value:g}", ha="center", va="center", fontsize=11, weight="bold", color=text_colour)
            ax.text(c + 0.5, r + 0.77, terms[r][c], ha="center", va="center", fontsize=7,
                    color="white" if dark else "0.15")
        else:
            ax.text(c + 0.5, r + 0.5, f"{value:g}", ha="center", va="center", fontsize=11, color=text_colour)
    if highlight is not None:
        rows_slice, cols_slice = highlight
        outline(ax, cols_slice.start, rows_slice.start, cols_slice.stop - cols_slice.start,
                rows_slice.stop - rows_slice.start, gid=f"{gid}-added")
    ax.set_title(title, fontsize=9.5)
    ax.set_xlim(-0.05, cols + 0.05)
    ax.set_ylim(rows + 0.05, -0.05)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_conv_backward_step(setting: BackwardSetting):
    """Draw one step of the backward pass: ``x_pad``, ``w``, ``dout``, and the running ``dx``, ``dw``, ``db``.

    Returns the figure. Raises the library's ``ValueError`` when the kernel does not fit, and a
    ``ValueError`` when ``step`` is outside ``0 .. OH*OW``.
    """
    from matplotlib.figure import Figure

    s = _check_setting(setting)
    x, w, dout = example_arrays(s)
    steps = backward_steps(x, w, dout, s.stride, s.padding)
    if not 0 <= s.step < len(steps):
        raise ValueError(f"step must be in 0 .. {len(steps) - 1} (one per output gradient), got {s.step}")
    step, final = steps[s.step], steps[-1]
    x_pad = np.pad(x, s.padding)
    lim = max(np.abs(final.dx_pad).max(), np.abs(final.dw).max(), np.abs(x).max(), 1.0)
    k, o = s.kernel_size, dout.shape[0]

    # Every panel at the same scale (one cell = CELL inches), so that sizes can be compared by eye.
    shapes = [[x_pad.shape, w.shape, dout.shape], [x_pad.shape, w.shape, (1, 1)]]
    widths = [max(max(shapes[r][c][1] for r in range(2)) * CELL, 2.7) for c in range(3)]
    heights = [max(shape[0] for shape in row) * CELL + 0.75 for row in shapes]
    total_w, total_h = sum(widths) + 0.3 * 4, sum(heights) + 0.55
    figure = Figure(figsize=(total_w, total_h))
    axes = []
    for r, row in enumerate(shapes):
        top = total_h - sum(heights[:r]) - 0.7  # leave room for the titles
        row_axes = []
        for c, (rows_c, cols_c) in enumerate(row):
            left = 0.3 + sum(widths[:c]) + 0.3 * c + (widths[c] - cols_c * CELL) / 2
            row_axes.append(figure.add_axes((left / total_w, (top - rows_c * CELL) / total_h,
                                             cols_c * CELL / total_w, rows_c * CELL / total_h)))
        axes.append(row_axes)
    v = dout[step.position] if step.position is not None else None
    whole_kernel = (slice(0, k), slice(0, k)) if step.window else None  # every dw entry gets a term

    _grid(axes[0][0], x_pad, (f"x, padded ({s.n}×{s.n}, padding {s.padding})" if s.padding else f"x ({s.n}×{s.n})")
          + ";\nthe window of the current output",
          lim, highlight=step.window, dashed_border=s.padding, gid="x")
    _grid(axes[0][1], w, f"w ({k}×{k})", lim, gid="w")
    waiting = np.ones_like(dout, dtype=bool)
    waiting.flat[: step.index] = False
    _grid(axes[0][2], dout, f"dout ({o}×{o}, stride {s.stride}):\n{step.index} of {o * o} sent back (pale: not yet)",
          lim, faded=waiting, highlight=(slice(step.position[0], step.position[0] + 1), slice(step.position[1], step.position[1] + 1))
          if step.position is not None else None, gid="dout")
    _grid(axes[1][0], step.dx_pad, "dx" + (", padded" if s.padding else "") + ": running sum\n(+ the term this step adds"
          + ("; the dashed border is cropped)" if s.padding else ")"), lim,
          terms=_terms(step.dx_pad.shape, step.window, w, v), highlight=step.window, dashed_border=s.padding, gid="dx")
    _grid(axes[1][1], step.dw, "dw: running sum", lim,
          terms=_terms(w.shape, whole_kernel, x_pad[step.window] if step.window else None, v), highlight=whole_kernel, gid="dw")
    _grid(axes[1][2], np.array([[step.db]]), "db: running sum", lim, terms=[[f"+{_number(v)}" if v is not None else ""]],
          highlight=(slice(0, 1), slice(0, 1)) if step.window else None, gid="db")
    if step.index == len(steps) - 1:
        matches = _matches_reference(s, x, w, dout, final)
        note = ("all output gradients sent back: dx (cropped), dw and db equal cnnlib.reference.conv2d_backward"
                if matches else "all sent back, but the sums DIFFER from cnnlib.reference.conv2d_backward")
        figure.text(0.5, 0.12 / total_h, note, ha="center", fontsize=10, color="tab:green" if matches else "tab:red", gid="reference-check")
    return figure


def _terms(shape, window, factors, v):
    """For each cell of an array of ``shape``: the term ``+v·factor`` the current step adds, or ''."""
    terms = [["" for _ in range(shape[1])] for _ in range(shape[0])]
    if window is None:
        return terms
    rows, cols = window
    for m, r in enumerate(range(rows.start, rows.stop)):
        for q, c in enumerate(range(cols.start, cols.stop)):
            terms[r][c] = f"+{_number(v)}·{_number(factors[m, q])}"
    return terms


def _matches_reference(s: BackwardSetting, x, w, dout, final: Step) -> bool:
    dx, dw, db = reference_gradients(x, w, dout, s.stride, s.padding)
    p = s.padding
    dx_steps = final.dx_pad[p: p + s.n, p: p + s.n]
    return bool(np.allclose(dx_steps, dx) and np.allclose(final.dw, dw) and np.isclose(final.db, db))


def describe_step(setting: BackwardSetting) -> str:
    """One line on what the current step does, with the running sums' place in the arrays."""
    s = setting
    x, w, dout = example_arrays(s)
    steps = backward_steps(x, w, dout, s.stride, s.padding)
    step = steps[s.step]
    total = len(steps) - 1
    if step.position is None:
        return (f"step 0 of {total}: nothing sent back yet; move the step slider to send back dout[0, 0]."
                f"\nEach step: dx_pad[window] += dout[i, j]·w,  dw += dout[i, j]·x_pad[window],  db += dout[i, j]")
    (i, j), (rows, cols) = step.position, step.window
    v = dout[i, j]
    text = (f"step {step.index} of {total}: dout[{i}, {j}] = {v:g} goes back along the window rows {rows.start}..{rows.stop - 1}, "
            f"columns {cols.start}..{cols.stop - 1} of the padded input:\n"
            f"dx_pad[{rows.start}:{rows.stop}, {cols.start}:{cols.stop}] += {v:g}·w,  dw += {v:g}·x_pad[{rows.start}:{rows.stop}, "
            f"{cols.start}:{cols.stop}],  db += {v:g}  (now {step.db:g})")
    if step.index == total:
        matches = _matches_reference(s, x, w, dout, step)
        text += f"\nlast step: the sums equal cnnlib.reference.conv2d_backward: {matches}"
    return text


# -- the explorer --------------------------------------------------------------------------------

def render_conv_backward(**values) -> View:
    """The :class:`View` of the explorer's controls."""
    setting = BackwardSetting(**values)
    return View(draw_conv_backward_step(setting), describe_step(setting))


def _total_steps(controls) -> int | None:
    values = {name: controls[name].value for name in LIMITS}
    try:
        o = arith.conv_output_size(values["n"], values["kernel_size"], stride=values["stride"], padding=values["padding"])
    except ValueError:
        return None
    return o * o


def _sync(controls) -> None:
    total = _total_steps(controls)
    step = controls["step"]
    step.disabled = total is None
    if total is not None:
        step.max = total


def conv_backward_explorer(setting: BackwardSetting | None = None) -> Explorer:
    """Sliders for the input size, kernel size, stride, padding and the step (with a play button),
    redrawing :func:`draw_conv_backward_step`. Display the result to see it."""
    import ipywidgets as widgets

    s = _check_setting(setting) if setting is not None else BackwardSetting()
    style = {"description_width": "90px"}
    controls = {
        name: widgets.IntSlider(value=getattr(s, name), min=low, max=high, description=name, style=style, continuous_update=False)
        for name, (low, high) in LIMITS.items()
    }
    controls["step"] = widgets.IntSlider(value=s.step, min=0, max=max(s.step, 1), description="step", style=style,
                                         continuous_update=False)
    play = widgets.Play(value=s.step, min=0, max=controls["step"].max, interval=1200, description="play")
    widgets.jslink((play, "value"), (controls["step"], "value"))
    widgets.jslink((controls["step"], "max"), (play, "max"))
    arrangement = widgets.VBox([
        widgets.HBox([controls["n"], controls["kernel_size"]]),
        widgets.HBox([controls["stride"], controls["padding"]]),
        widgets.HBox([controls["step"], play]),
    ])
    return Explorer(controls, render_conv_backward, sync=_sync, layout=arrangement)
