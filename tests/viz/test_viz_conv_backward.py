"""Notebook 07's explorer: the step-by-step sums against autograd and cnnlib.reference, what each
step touches, the figure's content and the controls driven headless."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from vizhelpers import drawn

from cnnlib import arithmetic as arith
from cnnlib.viz.conv_backward import (
    BackwardSetting,
    backward_steps,
    conv_backward_explorer,
    describe_step,
    draw_conv_backward_step,
    example_arrays,
    reference_gradients,
)
from cnnlib.viz.explorer import figure_png

SETTINGS = [(n, k, s, p) for n in (3, 4, 5, 6) for k in (1, 2, 3, 4) for s in (1, 2, 3) for p in (0, 1, 2) if k <= n + 2 * p]


@pytest.mark.parametrize("n, k, s, p", SETTINGS)
def test_last_step_equals_autograd_and_the_reference(n, k, s, p):
    setting = BackwardSetting(n=n, kernel_size=k, stride=s, padding=p)
    x, w, dout = example_arrays(setting)
    assert dout.shape == (arith.conv_output_size(n, k, stride=s, padding=p),) * 2
    assert np.all(dout != 0)
    final = backward_steps(x, w, dout, s, p)[-1]
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x[None, None], w[None, None], np.zeros(1)))
    F.conv2d(xt, wt, bt, stride=s, padding=p).backward(torch.tensor(dout[None, None]))
    assert np.allclose(final.dx_pad[p: p + n, p: p + n], xt.grad[0, 0].numpy())
    assert np.allclose(final.dw, wt.grad[0, 0].numpy())
    assert np.isclose(final.db, bt.grad[0].item())
    dx, dw, db = reference_gradients(x, w, dout, s, p)
    assert np.allclose(final.dx_pad[p: p + n, p: p + n], dx) and np.allclose(final.dw, dw) and np.isclose(final.db, db)


def test_each_step_adds_one_output_gradient_along_its_window():
    x, w, dout = example_arrays(BackwardSetting(n=5, kernel_size=3, stride=2, padding=1))
    steps = backward_steps(x, w, dout, 2, 1)
    assert len(steps) == dout.size + 1 and steps[0].position is None and not steps[0].dx_pad.any()
    x_pad = np.pad(x, 1)
    for before, after in zip(steps, steps[1:]):
        i, j = after.position
        assert after.index == before.index + 1 == i * dout.shape[1] + j + 1
        rows, cols = after.window
        assert (rows.start, cols.start, rows.stop - rows.start) == (2 * i, 2 * j, 3)
        change = after.dx_pad - before.dx_pad
        assert np.allclose(change[rows, cols], dout[i, j] * w)
        change[rows, cols] = 0
        assert not change.any()  # nothing outside the window
        assert np.allclose(after.dw - before.dw, dout[i, j] * x_pad[rows, cols])
        assert after.db - before.db == dout[i, j]


def test_bad_arrays_get_clear_errors():
    x, w, dout = example_arrays(BackwardSetting())
    with pytest.raises(ValueError, match=r"dout must have the convolution's output shape \(3, 3\), got \(2, 2\)"):
        backward_steps(x, w, dout[:2, :2])
    with pytest.raises(ValueError, match=r"x must be 2-dimensional \(one channel, one image\), got shape \(1, 4, 4\)"):
        backward_steps(x[None], w, dout)
    with pytest.raises(ValueError, match=r"step must be in 0 \.\. 9"):
        draw_conv_backward_step(BackwardSetting(step=10))
    with pytest.raises(ValueError, match="does not fit the padded input"):
        draw_conv_backward_step(BackwardSetting(n=3, kernel_size=4))


def test_figure_outlines_what_the_step_adds_into_and_writes_the_terms():
    setting = BackwardSetting(n=5, kernel_size=3, stride=2, padding=1, step=3)  # dout[0, 2]
    figure = draw_conv_backward_step(setting)
    x, w, dout = example_arrays(setting)
    axes = {ax.get_title().split(",")[0].split(":")[0].split(" (")[0]: ax for ax in figure.axes}
    assert set(axes) == {"x", "w", "dout", "dx", "dw", "db"}
    counts = drawn(figure)
    assert counts["x"] == counts["dx"] == 7 * 7 and counts["w"] == counts["dw"] == 9 and counts["dout"] == 9
    (window,) = [p for p in axes["dx"].patches if p.get_gid() == "dx-added"]
    assert (window.get_x(), window.get_y(), window.get_width(), window.get_height()) == (4, 0, 3, 3)
    (current,) = [p for p in axes["dout"].patches if p.get_gid() == "dout-added"]
    assert (current.get_x(), current.get_y()) == (2, 0)
    terms = [t.get_text() for t in axes["dw"].texts if t.get_text().startswith("+")]
    paren = lambda a: f"{a:g}" if a >= 0 else f"({a:g})"  # noqa: E731
    window = np.pad(x, 1)[0:3, 4:7]
    assert terms == [f"+{paren(dout[0, 2])}·{paren(value)}" for value in window.flat]  # every dw entry gets v * x
    dx_terms = [t.get_text() for t in axes["dx"].texts if t.get_text().startswith("+")]
    assert dx_terms == [f"+{paren(dout[0, 2])}·{paren(value)}" for value in w.flat]  # only the window's dx entries
    assert not [t for t in figure.texts if t.get_gid() == "reference-check"]  # not the last step


def test_last_step_says_the_sums_equal_the_reference():
    figure = draw_conv_backward_step(BackwardSetting(step=9))
    (note,) = [t for t in figure.texts if t.get_gid() == "reference-check"]
    assert note.get_text().startswith("all output gradients sent back") and "equal cnnlib.reference.conv2d_backward" in note.get_text()
    assert describe_step(BackwardSetting(step=9)).endswith("equal cnnlib.reference.conv2d_backward: True")


def test_the_explorer_steps_and_follows_the_shape_sliders():
    explorer = conv_backward_explorer()
    assert explorer.view.text.startswith("step 0 of 9")
    before = figure_png(explorer.view.figure)
    explorer.controls["step"].value = 1
    assert explorer.view.text.startswith("step 1 of 9: dout[0, 0]")
    assert figure_png(explorer.view.figure) != before
    explorer.controls["stride"].value = 2  # 4x4 input, 2x2 kernel, stride 2: 2x2 outputs
    assert explorer.controls["step"].max == 4
    explorer.controls["step"].value = 4
    assert "the sums equal cnnlib.reference.conv2d_backward: True" in explorer.view.text
    explorer.controls["kernel_size"].value = 4
    explorer.controls["n"].value = 3
    assert explorer.view.figure is None and "does not fit the padded input" in explorer.view.error
    assert explorer.controls["step"].disabled
    explorer.controls["padding"].value = 1
    assert explorer.view.error is None and not explorer.controls["step"].disabled
