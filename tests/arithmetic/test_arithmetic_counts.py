"""Parameter counts, MACs and activation memory against PyTorch's own layers and tensors."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib.arithmetic import (
    activation_memory,
    conv_macs,
    conv_param_count,
    conv_output_size,
    fc_param_count,
    locally_connected_param_count,
)

SETTINGS = settings(max_examples=200, deadline=None)


def numel(module):
    return sum(p.numel() for p in module.parameters())


@st.composite
def grouped_conv(draw):
    """(in_channels, out_channels, kernel_size, groups) with both channel counts divisible by groups."""
    groups = draw(st.integers(1, 4))
    in_channels = groups * draw(st.integers(1, 4))
    out_channels = groups * draw(st.integers(1, 4))
    kernel_size = draw(st.one_of(st.integers(1, 5), st.tuples(st.integers(1, 5), st.integers(1, 5))))
    return in_channels, out_channels, kernel_size, groups


@SETTINGS
@given(conv=grouped_conv(), bias=st.booleans())
def test_conv_param_count_matches_conv2d(conv, bias):
    in_channels, out_channels, kernel_size, groups = conv
    layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias)
    assert conv_param_count(in_channels, out_channels, kernel_size, bias=bias, groups=groups) == numel(layer)


@SETTINGS
@given(in_features=st.integers(1, 300), out_features=st.integers(1, 300), bias=st.booleans())
def test_fc_param_count_matches_linear(in_features, out_features, bias):
    layer = torch.nn.Linear(in_features, out_features, bias=bias)
    assert fc_param_count(in_features, out_features, bias=bias) == numel(layer)


def test_three_3x3_layers_have_fewer_parameters_than_one_7x7():
    """27 C^2 vs 49 C^2 weights for C channels in and out (COURSE.md 04)."""
    channels = 64
    three = 3 * conv_param_count(channels, channels, 3, bias=False)
    one = conv_param_count(channels, channels, 7, bias=False)
    assert (three, one) == (27 * channels**2, 49 * channels**2)


class LocallyConnected2d(torch.nn.Module):
    """A convolution without weight sharing: one filter bank per output position, from F.unfold."""

    def __init__(self, in_channels, out_channels, input_size, kernel_size, stride, bias):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride
        patches = F.unfold(torch.zeros(1, in_channels, *input_size), kernel_size, stride=stride)
        _, patch_len, positions = patches.shape  # (1, C*KH*KW, L)
        self.weight = torch.nn.Parameter(torch.randn(positions, patch_len, out_channels))
        self.bias = torch.nn.Parameter(torch.randn(positions, out_channels)) if bias else None

    def forward(self, x):
        patches = F.unfold(x, self.kernel_size, stride=self.stride)  # (N, C*KH*KW, L)
        out = torch.einsum("ncl,lcf->nlf", patches, self.weight)
        return out if self.bias is None else out + self.bias


@SETTINGS
@given(
    in_channels=st.integers(1, 3), out_channels=st.integers(1, 3),
    input_size=st.tuples(st.integers(5, 12), st.integers(5, 12)),
    kernel_size=st.one_of(st.integers(1, 5), st.tuples(st.integers(1, 5), st.integers(1, 5))),
    stride=st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    bias=st.booleans(),
)
def test_locally_connected_param_count_matches_an_unshared_layer(
    in_channels, out_channels, input_size, kernel_size, stride, bias
):
    layer = LocallyConnected2d(in_channels, out_channels, input_size, kernel_size, stride, bias)
    out = layer(torch.randn(2, in_channels, *input_size))
    assert out.shape[1:] == (layer.weight.shape[0], out_channels)
    count = locally_connected_param_count(in_channels, out_channels, input_size, kernel_size, stride, bias=bias)
    assert count == numel(layer)


def test_locally_connected_layer_grows_with_the_input_and_a_conv_does_not():
    small = locally_connected_param_count(3, 8, 16, 3)
    large = locally_connected_param_count(3, 8, 32, 3)
    assert large / small == (30 * 30) / (14 * 14)
    assert small == conv_output_size(16, 3) ** 2 * conv_param_count(3, 8, 3)


@SETTINGS
@given(
    conv=grouped_conv(), size=st.tuples(st.integers(5, 12), st.integers(5, 12)),
    stride=st.integers(1, 3), dilation=st.integers(1, 2),
)
def test_conv_macs_counts_every_product(conv, size, stride, dilation):
    """With all-ones input and weights and no padding, each output is its own number of products."""
    in_channels, out_channels, kernel_size, groups = conv
    kernel_h, kernel_w = kernel_size if isinstance(kernel_size, tuple) else (kernel_size, kernel_size)
    x = torch.ones(1, in_channels, *size, dtype=torch.float64)
    w = torch.ones(out_channels, in_channels // groups, kernel_h, kernel_w, dtype=torch.float64)
    try:
        out = F.conv2d(x, w, stride=stride, dilation=dilation, groups=groups)
    except RuntimeError:
        return  # the kernel does not fit this input
    macs = conv_macs(in_channels, out_channels, kernel_size, tuple(out.shape[2:]), groups=groups)
    assert macs == int(out.sum())


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64, torch.uint8])
@pytest.mark.parametrize("shape", [(64, 3, 32, 32), (1, 512, 7, 7), (10,), (0, 3)])
def test_activation_memory_matches_tensor_bytes(shape, dtype):
    tensor = torch.empty(shape, dtype=dtype)
    assert activation_memory(shape, dtype_bytes=tensor.element_size()) == tensor.untyped_storage().nbytes()


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: conv_param_count(6, 4, 3, groups=4), ValueError, ["in_channels", "divisible", "groups=4", "6"]),
        (lambda: conv_param_count(4, 6, 3, groups=4), ValueError, ["out_channels", "divisible", "6"]),
        (lambda: conv_param_count(0, 4, 3), ValueError, ["in_channels", ">= 1", "0"]),
        (lambda: conv_param_count(3, 4, 3, bias=1), TypeError, ["bias", "bool", "1"]),
        (lambda: conv_param_count(3, 4, 3.5), TypeError, ["kernel_size", "3.5"]),
        (lambda: fc_param_count(10, 2.0), TypeError, ["out_features", "int", "2.0"]),
        (lambda: fc_param_count(-1, 2), ValueError, ["in_features", ">= 1", "-1"]),
        (lambda: locally_connected_param_count(3, 8, 4, 5), ValueError, ["kernel_size=5", "padded input"]),
        (lambda: conv_macs(3, 8, 3, 0), ValueError, ["output_size", ">= 1", "0"]),
        (lambda: conv_macs(3, 8, 3, 10, groups=2), ValueError, ["in_channels", "divisible", "groups=2"]),
        (lambda: activation_memory(64), TypeError, ["shape", "tuple", "64"]),
        (lambda: activation_memory((64, -1)), ValueError, ["shape[1]", ">= 0", "-1"]),
        (lambda: activation_memory((64, 3), dtype_bytes=0), ValueError, ["dtype_bytes", ">= 1", "0"]),
    ],
)
def test_bad_input_names_the_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)
