"""Notebook 03's explorer: window geometry against im2col and autograd, the figure's content, the
formula, and the controls driven headless."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from vizhelpers import cells, drawn, patches

from cnnlib import arithmetic as arith
from cnnlib import reference as ref
from cnnlib.viz.conv_arithmetic import (
    ConvSetting,
    conv_arithmetic_explorer,
    conv_arithmetic_formula,
    draw_conv_arithmetic,
    stamp_positions,
    unread_positions,
    window_positions,
)
from cnnlib.viz.explorer import figure_png

settings_1d = st.tuples(st.integers(1, 12), st.integers(1, 5), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3))


def fits(n, k, s, p, d):
    return d * (k - 1) + 1 <= n + 2 * p


@settings(max_examples=150, deadline=None)
@given(settings_1d)
def test_windows_are_the_columns_of_im2col(setting):
    """Each output unit's window holds the pixels that im2col puts in that unit's column."""
    n, k, s, p, d = setting
    if not fits(n, k, s, p, d):
        return
    index = np.arange(1, n + 1, dtype=float)[None, None, None, :]  # pixel q holds q + 1; padding holds 0
    cols = ref.im2col(index, (1, k), stride=(1, s), padding=(0, p), dilation=(1, d))[0]  # (k, o)
    windows = window_positions(n, k, s, p, d)
    assert len(windows) == cols.shape[1] == arith.conv_output_size(n, k, stride=s, padding=p, dilation=d)
    for unit, window in enumerate(windows):
        expected = [q - p + 1 if 0 <= q - p < n else 0 for q in window]
        assert cols[:, unit].tolist() == expected


@settings(max_examples=150, deadline=None)
@given(settings_1d)
def test_unread_pixels_are_where_the_gradient_is_zero(setting):
    """A pixel no window reads gets no gradient (PyTorch autograd, all-ones kernel)."""
    n, k, s, p, d = setting
    if not fits(n, k, s, p, d):
        return
    x = torch.ones(1, 1, 1, n, dtype=torch.float64, requires_grad=True)
    F.conv2d(x, torch.ones(1, 1, 1, k, dtype=torch.float64), stride=(1, s), padding=(0, p), dilation=(1, d)).sum().backward()
    zero = np.flatnonzero(x.grad[0, 0, 0].numpy() == 0).tolist()
    assert unread_positions(ConvSetting(n=n, kernel_size=k, stride=s, padding=p, dilation=d)) == zero


@settings(max_examples=150, deadline=None)
@given(settings_1d, st.integers(0, 3))
def test_unwritten_outputs_of_a_transposed_convolution_are_zero(setting, output_padding):
    """The output positions that no stamp writes are 0 in PyTorch's conv_transpose (all-ones input and kernel)."""
    n, k, s, p, d = setting
    try:
        o = arith.transposed_conv_output_size(n, k, stride=s, padding=p, output_padding=output_padding, dilation=d)
    except ValueError:
        return
    out = F.conv_transpose2d(torch.ones(1, 1, 1, n, dtype=torch.float64), torch.ones(1, 1, 1, k, dtype=torch.float64),
                             stride=(1, s), padding=(0, p), output_padding=(0, output_padding), dilation=(1, d))
    assert out.shape[-1] == o
    zero = np.flatnonzero(out[0, 0, 0].numpy() == 0).tolist()
    setting = ConvSetting(n=n, kernel_size=k, stride=s, padding=p, dilation=d, transposed=True, output_padding=output_padding)
    assert unread_positions(setting) == zero
    assert stamp_positions(n, k, s, d)[-1][-1] == (n - 1) * s + d * (k - 1)


def test_formula_substitutes_the_numbers_and_ends_with_the_librarys_size():
    text = conv_arithmetic_formula(ConvSetting(n=7, kernel_size=3, stride=2, padding=1, dilation=2))
    assert "⌊(7 + 2·1 − 2·(3−1) − 1) / 2⌋ + 1" in text
    assert text.endswith(f"= {arith.conv_output_size(7, 3, stride=2, padding=1, dilation=2)}")
    text = conv_arithmetic_formula(ConvSetting(n=4, kernel_size=4, stride=2, padding=1, transposed=True, output_padding=1))
    assert "(4 − 1)·2 − 2·1 + 1·(4 − 1) + 1 + 1" in text
    assert text.endswith(f"= {arith.transposed_conv_output_size(4, 4, stride=2, padding=1, output_padding=1)}")


def test_impossible_settings_raise_the_librarys_error():
    with pytest.raises(ValueError, match="does not fit the padded input"):
        conv_arithmetic_formula(ConvSetting(n=3, kernel_size=5))
    with pytest.raises(ValueError, match="does not fit the padded input"):
        draw_conv_arithmetic(ConvSetting(n=3, kernel_size=3, dilation=2))
    with pytest.raises(ValueError, match="output_padding must be smaller than stride or dilation"):
        draw_conv_arithmetic(ConvSetting(n=3, kernel_size=3, transposed=True, output_padding=1))
    with pytest.raises(ValueError, match=r"unit must be in 0 \.\. 8"):
        draw_conv_arithmetic(ConvSetting(n=5, kernel_size=3, unit=9))
    with pytest.raises(TypeError, match="setting must be a ConvSetting"):
        draw_conv_arithmetic({"n": 5})


@pytest.mark.parametrize("setting", [
    ConvSetting(n=5, kernel_size=3, stride=2, padding=1, unit=4),
    ConvSetting(n=8, kernel_size=3, stride=2, unit=2),
    ConvSetting(n=7, kernel_size=3, dilation=2, unit=7),
    ConvSetting(n=6, kernel_size=2, stride=3, padding=2, unit=3),
])
def test_convolution_figure_shows_the_grids_windows_and_the_highlighted_window(setting):
    s = setting
    o = arith.conv_output_size(s.n, s.kernel_size, stride=s.stride, padding=s.padding, dilation=s.dilation)
    figure = draw_conv_arithmetic(s)
    counts = drawn(figure)
    size = s.n + 2 * s.padding
    unread = len(unread_positions(s))
    assert counts["padding"] == size * size - s.n * s.n
    assert counts["unread"] == s.n * s.n - (s.n - unread) ** 2
    assert counts["input"] + counts["unread"] == s.n * s.n
    assert counts["output"] + counts["output-highlight"] == o * o and counts["output-highlight"] == 1
    assert counts["window-centre"] == o * o
    # The highlighted unit's taps are exactly its window's pixels.
    row, col = divmod(s.unit, o)
    windows = window_positions(s.n, s.kernel_size, s.stride, s.padding, s.dilation)
    assert cells(figure, "tap") == {(q, m) for m in windows[row] for q in windows[col]}
    (window,) = patches(figure, "window")
    assert (window.get_x(), window.get_y(), window.get_width()) == (windows[col][0], windows[row][0], s.dilation * (s.kernel_size - 1) + 1)
    x0 = size + 2
    assert cells(figure, "output-highlight") == {(x0 + col, row)}
    assert {t.get_text() for t in figure.axes[0].texts} >= {f"output {o}×{o}"}


def test_transposed_figure_shows_the_stamp_and_the_cropped_border():
    s = ConvSetting(n=3, kernel_size=3, stride=2, padding=1, transposed=True, unit=4)
    o = arith.transposed_conv_output_size(3, 3, stride=2, padding=1)
    figure = draw_conv_arithmetic(s)
    counts = drawn(figure)
    full = (3 - 1) * 2 + 3  # before the padding crops it
    assert counts["input"] + counts["input-highlight"] == 9 and counts["input-highlight"] == 1
    assert counts["output"] + counts["unwritten"] == o * o
    assert counts["cropped"] == full * full - o * o
    assert counts["stamp-centre"] == 9
    x0 = 3 + 2
    assert cells(figure, "tap") == {(x0 + q, m) for m in (2, 3, 4) for q in (2, 3, 4)}  # input unit (1, 1) stamps at 2..4
    gaps = ConvSetting(n=3, kernel_size=2, stride=3, transposed=True)  # stride > kernel: gaps no stamp writes
    assert unread_positions(gaps) == [2, 5]
    assert drawn(draw_conv_arithmetic(gaps))["unwritten"] == 8 * 8 - 6 * 6  # o = 8; rows and columns 2, 5


def test_the_explorer_redraws_when_a_slider_moves():
    explorer = conv_arithmetic_explorer(ConvSetting(n=5, kernel_size=3, stride=2, padding=1))
    before_text, before_png, renders = explorer.view.text, figure_png(explorer.view.figure), explorer.renders
    assert "= 3" in before_text.splitlines()[0]
    explorer.controls["stride"].value = 1
    assert explorer.renders == renders + 1
    assert "/ 1⌋ + 1 = 5" in explorer.view.text
    assert figure_png(explorer.view.figure) != before_png
    assert explorer.controls["unit"].max == 24  # the unit slider follows the 5x5 output
    explorer.controls["unit"].value = 24
    assert drawn(explorer.view.figure)["output-highlight"] == 1
    explorer.controls["n"].value = 3  # the output shrinks to 3x3: the unit slider is clamped
    assert explorer.controls["unit"].value == 8
    assert explorer.view.error is None


def test_the_explorer_shows_the_librarys_error_for_an_impossible_setting_and_recovers():
    explorer = conv_arithmetic_explorer(ConvSetting(n=5, kernel_size=3))
    explorer.controls["kernel_size"].value = 7
    assert explorer.view.figure is None
    with pytest.raises(ValueError) as library:
        arith.conv_output_size(5, 7)
    assert explorer.view.error == f"ValueError: {library.value}"
    assert "impossible" in explorer.view.text
    assert explorer.controls["unit"].disabled
    assert "No figure" in explorer.figure_bundle()["text/html"] and "image/png" not in explorer.figure_bundle()
    explorer.controls["padding"].value = 1
    assert explorer.view.error is None and explorer.view.figure is not None
    assert not explorer.controls["unit"].disabled


def test_the_explorer_switches_to_transposed_mode():
    explorer = conv_arithmetic_explorer(ConvSetting(n=3, kernel_size=3, stride=2))
    assert explorer.controls["output_padding"].disabled
    explorer.controls["transposed"].value = True
    assert explorer.view.text.startswith("transposed convolution: o = (n − 1)s")
    assert explorer.controls["unit"].description == "input unit" and explorer.controls["unit"].max == 8
    assert not explorer.controls["output_padding"].disabled
    explorer.controls["output_padding"].value = 2
    assert "output_padding must be smaller than stride or dilation" in explorer.view.error
    explorer.controls["output_padding"].value = 1
    assert explorer.view.text.splitlines()[0].endswith(f"= {arith.transposed_conv_output_size(3, 3, stride=2, output_padding=1)}")
