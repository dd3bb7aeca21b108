"""Counts of the efficient blocks against the PyTorch modules: sum(p.numel()) and MACs measured with forward hooks."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlib.arithmetic import (
    conv_macs,
    conv_param_count,
    convnext_block_macs,
    convnext_block_params,
    depthwise_separable_macs,
    depthwise_separable_params,
    inverted_residual_macs,
    inverted_residual_params,
)
from cnnlib.pytorch.models import ConvNeXtBlock, DepthwiseSeparableConv2d, InvertedResidual

SETTINGS = settings(max_examples=60, deadline=None)


def numel(module):
    return sum(p.numel() for p in module.parameters())


def measured_macs(module, input_shape):
    """Multiply-accumulates of every Conv2d and Linear call in one forward pass of one example, from forward hooks.

    Independent of cnnlib.arithmetic: a convolution output element sums (in_channels / groups) * kh * kw
    products, a dense output element in_features products.
    """
    total = 0

    def count(layer, inputs, output):
        nonlocal total
        if isinstance(layer, torch.nn.Conv2d):
            total += output[0].numel() * layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
        else:
            total += output[0].numel() * layer.in_features

    hooks = [m.register_forward_hook(count) for m in module.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.no_grad():
        out = module.eval()(torch.zeros(1, *input_shape))
    for hook in hooks:
        hook.remove()
    return total, tuple(out.shape[2:])


channels = st.integers(1, 24)
odd_kernel = st.sampled_from([1, 3, 5, 7])


@SETTINGS
@given(c_in=channels, c_out=channels, k=odd_kernel, stride=st.integers(1, 2), size=st.integers(7, 12), bias=st.booleans())
def test_depthwise_separable_counts_match_the_module(c_in, c_out, k, stride, size, bias):
    module = DepthwiseSeparableConv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=bias)
    assert depthwise_separable_params(c_in, c_out, k, bias=bias) == numel(module)
    macs, (h_out, w_out) = measured_macs(module, (c_in, size, size + 1))
    assert depthwise_separable_macs(c_in, c_out, k, h_out, w_out) == macs


@SETTINGS
@given(c_in=channels, c_out=channels, expansion=st.integers(1, 6), k=st.sampled_from([3, 5]), stride=st.integers(1, 2), size=st.integers(5, 10))
def test_inverted_residual_counts_match_the_module(c_in, c_out, expansion, k, stride, size):
    module = InvertedResidual(c_in, c_out, expansion, stride=stride, kernel_size=k)
    assert inverted_residual_params(c_in, c_out, expansion, k) == numel(module)
    macs, _ = measured_macs(module, (c_in, size, size + 2))
    assert inverted_residual_macs(c_in, c_out, expansion, size, size + 2, k, stride) == macs


@SETTINGS
@given(c=st.integers(1, 32), k=st.sampled_from([3, 5, 7]), expansion=st.integers(1, 4), size=st.integers(2, 9), layer_scale=st.booleans())
def test_convnext_block_counts_match_the_module(c, k, expansion, size, layer_scale):
    module = ConvNeXtBlock(c, k, expansion, layer_scale_init=1e-6 if layer_scale else None)
    assert convnext_block_params(c, k, expansion, layer_scale=layer_scale) == numel(module)
    macs, _ = measured_macs(module, (c, size, size + 1))
    assert convnext_block_macs(c, size, size + 1, k, expansion) == macs


def test_the_separable_saving_is_about_one_over_c_out_plus_one_over_k_squared():
    standard, separable = conv_param_count(256, 256, 3, bias=False), depthwise_separable_params(256, 256, 3, bias=False)
    assert separable / standard == pytest.approx(1 / 256 + 1 / 9)
    assert depthwise_separable_macs(256, 256, 3, 14, 14) / conv_macs(256, 256, 3, 14) == pytest.approx(1 / 256 + 1 / 9)


def test_expansion_one_has_no_expansion_layer_and_no_residual_params():
    assert inverted_residual_params(16, 16, 1) == 9 * 16 + 2 * 16 + 16 * 16 + 2 * 16
    assert inverted_residual_params(16, 24, 6) == inverted_residual_params(16, 24, 6, 3)


@pytest.mark.parametrize("call, error, message", [
    (lambda: depthwise_separable_params(0, 4, 3), ValueError, "c_in must be >= 1"),
    (lambda: depthwise_separable_macs(4, 4, 3, 0, 5), ValueError, "h_out must be >= 1"),
    (lambda: inverted_residual_params(4, 4, 2.5), TypeError, "expansion must be an int"),
    (lambda: inverted_residual_macs(4, 4, 6, 3, 3, stride=0), ValueError, "stride must be >= 1"),
    (lambda: convnext_block_params(8, layer_scale=1), TypeError, "layer_scale must be a bool"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
