"""Receptive fields against the extent of a gradient backpropagated through stacked PyTorch layers."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib.arithmetic import effective_stride, receptive_field

layer = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3))  # (kernel_size, stride, dilation)


def extent(mask):
    """Number of positions from the first to the last nonzero, along each axis."""
    spans = []
    for axis in range(mask.ndim):
        hit = mask.any(dim=tuple(a for a in range(mask.ndim) if a != axis)).nonzero()
        spans.append(int(hit.max() - hit.min() + 1))
    return spans


def empirical_field(layers, input_size):
    """Receptive field of output unit (0, 0): backprop a one-hot gradient through all-ones convs."""
    x = torch.zeros(1, 1, *input_size, dtype=torch.float64, requires_grad=True)
    out = x
    for kernel_size, stride, dilation in layers:
        weight = torch.ones(1, 1, *kernel_size, dtype=torch.float64)  # positive: no cancellation
        out = F.conv2d(out, weight, stride=stride, dilation=dilation)
    seed = torch.zeros_like(out)
    seed[..., 0, 0] = 1.0
    out.backward(seed)
    return extent(x.grad[0, 0] != 0)


@settings(max_examples=200, deadline=None)
@given(layers=st.lists(layer, min_size=1, max_size=4), extra=st.integers(0, 5))
def test_receptive_field_matches_backprop(layers, extra):
    rf = receptive_field(layers)
    n = rf + extra  # unit 0 of the last layer sees [0, rf), so rf input pixels are enough
    field = empirical_field([((k, 1), (s, 1), (d, 1)) for k, s, d in layers], (n, 1))
    assert field == [rf, 1]


def test_receptive_field_of_pairs_matches_backprop():
    layers = [((3, 5), (1, 2)), ((2, 3), (2, 2)), ((3, 3), (1, 1), (2, 1))]
    rf = receptive_field(layers)
    as_pairs = [((3, 5), (1, 2), (1, 1)), ((2, 3), (2, 2), (1, 1)), ((3, 3), (1, 1), (2, 1))]
    assert empirical_field(as_pairs, (rf[0] + 3, rf[1] + 2)) == list(rf)


def test_effective_stride_is_the_spacing_of_neighbouring_units():
    """Units 0 and 1 of the last layer see windows that start effective_stride pixels apart."""
    layers = [(3, 2), (3, 1), (2, 2)]
    jump = effective_stride(layers)
    x = torch.zeros(1, 1, 40, dtype=torch.float64, requires_grad=True)
    out = x
    for kernel_size, stride in layers:
        out = F.conv1d(out, torch.ones(1, 1, kernel_size, dtype=torch.float64), stride=stride)
    starts = []
    for unit in (0, 1):
        (grad,) = torch.autograd.grad(out[0, 0, unit], x, retain_graph=True)
        starts.append(int(grad[0, 0].nonzero().min()))
    assert starts[1] - starts[0] == jump


def test_stacked_3x3_layers_see_1_plus_2L_pixels():
    for depth in range(1, 6):
        assert receptive_field([(3, 1)] * depth) == 1 + 2 * depth


def test_empty_stack_sees_one_pixel():
    assert receptive_field([]) == 1
    assert effective_stride([]) == 1


@pytest.mark.parametrize(
    "layers, error, words",
    [
        ((3, 1), ValueError, ["layers[0]", "(kernel_size, stride)", "3"]),
        ("33", TypeError, ["layers", "list", "str", "'33'"]),
        (3, TypeError, ["layers", "list", "int"]),
        ([(3, 1, 1, 1)], ValueError, ["layers[0]", "(3, 1, 1, 1)"]),
        ([(3, 1), (3, 0)], ValueError, ["layers[1] stride", ">= 1", "0"]),
        ([(3.0, 1)], TypeError, ["layers[0] kernel_size", "3.0"]),
        ([(3, 1, 0)], ValueError, ["layers[0] dilation", ">= 1", "0"]),
    ],
)
def test_bad_layers_name_the_layer(layers, error, words):
    with pytest.raises(error) as info:
        receptive_field(layers)
    for word in words:
        assert word in str(info.value)
