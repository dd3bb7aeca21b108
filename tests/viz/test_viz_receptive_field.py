"""Notebook 05's explorer: the traced pixels against autograd, the span against cnnlib.arithmetic,
parsing, the figure's content and the controls driven headless."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from vizhelpers import drawn

from cnnlib import arithmetic as arith
from cnnlib.viz.explorer import figure_png
from cnnlib.viz.receptive_field import (
    Layer,
    draw_receptive_field,
    format_layers,
    layer_sizes,
    parse_layers,
    receptive_field_explorer,
    receptive_field_formula,
    trace_receptive_field,
)

layers_strategy = st.lists(
    st.builds(Layer, st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2)), min_size=0, max_size=4)


def pixels_that_matter(layers, n, unit):
    """Input pixels with a nonzero gradient of ``unit`` of the last layer (all-ones kernels, so nothing cancels)."""
    x = torch.ones(1, 1, 1, n, dtype=torch.float64, requires_grad=True)
    out = x
    for layer in layers:
        out = F.conv2d(out, torch.ones(1, 1, 1, layer.kernel_size, dtype=torch.float64), stride=(1, layer.stride),
                       padding=(0, layer.padding), dilation=(1, layer.dilation))
    out[0, 0, 0, unit].backward()
    return np.flatnonzero(x.grad[0, 0, 0].numpy()).tolist()


@settings(max_examples=200, deadline=None)
@given(layers=layers_strategy, n=st.integers(1, 40), pick=st.floats(0, 1))
def test_trace_reads_exactly_the_pixels_with_a_gradient_and_spans_the_receptive_field(layers, n, pick):
    try:
        sizes = layer_sizes(layers, n)
    except ValueError:
        return
    unit = min(int(pick * sizes[-1]), sizes[-1] - 1)
    trace = trace_receptive_field(layers, n, unit)
    assert trace.sizes == sizes
    assert [v for v in trace.reads[0] if 0 <= v < n] == pixels_that_matter(layers, n, unit)
    first, last = trace.span
    assert last - first + 1 == arith.receptive_field([(l.kernel_size, l.stride, l.dilation) for l in layers])
    assert first == unit * arith.effective_stride([(l.kernel_size, l.stride, l.dilation) for l in layers]) - sum(
        l.padding * arith.effective_stride([(m.kernel_size, m.stride, m.dilation) for m in layers[:i]]) for i, l in enumerate(layers))


def test_parse_and_format_round_trip():
    layers = parse_layers(" 3/1, 2/2 ,3/1/1, 3/2/0/2")
    assert layers == [Layer(3, 1), Layer(2, 2), Layer(3, 1, 1), Layer(3, 2, 0, 2)]
    assert format_layers(layers) == "3/1, 2/2, 3/1/1, 3/2/0/2"
    assert parse_layers("") == []


@pytest.mark.parametrize("text, message", [
    ("3/1, 3", "item 2 is '3'; write each layer as kernel/stride"),
    ("3/1/1/1/1", "item 1 is '3/1/1/1/1'"),
    ("3/x", "item 1 is '3/x'"),
    ("0/1", r"item 1 \(0/1\) has kernel 0; it must be >= 1"),
    ("3/0", r"item 1 \(3/0\) has stride 0; it must be >= 1"),
    ("3/1/0/0", r"item 1 \(3/1/0/0\) has dilation 0"),
])
def test_bad_text_gets_a_message_naming_the_item(text, message):
    with pytest.raises(ValueError, match=message):
        parse_layers(text)


def test_a_stack_too_deep_for_its_input_names_the_layer():
    with pytest.raises(ValueError, match=r"layer 3 \(3/1\) on its input of 2 units: kernel_size=3 .* does not fit"):
        layer_sizes(parse_layers("3/1, 3/1, 3/1"), 6)
    with pytest.raises(ValueError, match=r"unit must be in 0 \.\. 7"):
        trace_receptive_field(parse_layers("3/1, 3/1, 2/2, 3/1"), 24, unit=8)
    with pytest.raises(TypeError, match="layers must be a string"):
        parse_layers([(3, 1)])


def test_formula_lists_one_term_per_layer_and_ends_with_the_librarys_field():
    text = receptive_field_formula(parse_layers("3/1, 2/2, 3/1/0/2"))
    assert "1 + 1·2·1 + 1·1·1 + 2·2·2" in text
    assert f"= {arith.receptive_field([(3, 1), (2, 2), (3, 1, 2)])} (" in text
    assert text.endswith("the last layer's units are 2 pixels apart")


def test_figure_draws_every_unit_and_the_traced_ones_in_orange():
    layers = parse_layers("3/1, 3/1, 2/2, 3/1")
    figure = draw_receptive_field(layers, 24)
    trace = trace_receptive_field(layers, 24)
    counts = drawn(figure)
    assert all(counts[f"units-{d}"] == 1 for d in range(5))  # one scatter per layer
    ax = figure.axes[0]
    for depth, size in enumerate(trace.sizes):
        (units,) = [c for c in ax.collections if c.get_gid() == f"units-{depth}"]
        assert len(units.get_offsets()) == size
        orange = [i for i, colour in enumerate(units.get_facecolors()) if np.allclose(colour[:3], (1.0, 127 / 255, 14 / 255))]
        assert orange == trace.reads[depth]
    (lines,) = [c for c in ax.collections if c.get_gid() == "reads"]
    assert len(lines.get_segments()) == sum(len(trace.reads[d]) * layers[d - 1].kernel_size for d in range(1, 5))
    assert any("receptive field: 10 pixels, positions 8 .. 17" in t.get_text() for t in ax.texts)


def test_figure_marks_padding_and_dilation_holes():
    figure = draw_receptive_field(parse_layers("3/2/1, 3/2/1, 3/1/1"), 16, unit=0)
    texts = " ".join(t.get_text() for t in figure.axes[0].texts)
    assert "receptive field: 15 pixels, positions -7 .. 7 (7 beyond the border)" in texts
    assert drawn(figure)["padding-0"] == 1
    figure = draw_receptive_field(parse_layers("3/1/0/2, 3/1/0/4"), 24)
    assert "6 pixels inside it are never read (holes of the dilation)" in " ".join(t.get_text() for t in figure.axes[0].texts)


def test_the_explorer_follows_the_text_box_and_the_sliders():
    explorer = receptive_field_explorer("3/1, 3/1, 2/2, 3/1", n=24)
    assert explorer.controls["unit"].value == 4 and explorer.controls["unit"].max == 7
    before_png, before_text = figure_png(explorer.view.figure), explorer.view.text
    explorer.controls["layers"].value = "3/1, 3/1, 3/1"
    assert explorer.view.text != before_text and "= 7 (" in explorer.view.text and "units are 1 pixel apart" in explorer.view.text
    assert explorer.controls["unit"].max == 17
    assert figure_png(explorer.view.figure) != before_png
    explorer.controls["unit"].value = 0
    assert "reads input positions 0 .. 6" in explorer.view.text
    explorer.controls["layers"].value = "3/1, 3/"
    assert explorer.view.figure is None and "item 2 is '3/'" in explorer.view.error
    assert explorer.controls["unit"].disabled
    explorer.controls["layers"].value = "5/1"
    explorer.controls["n"].value = 4
    assert "does not fit" in explorer.view.error
    explorer.controls["n"].value = 9
    assert explorer.view.error is None and explorer.controls["unit"].max == 4
