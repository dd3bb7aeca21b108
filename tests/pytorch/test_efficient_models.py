"""The efficient blocks and the small CIFAR CNNs: what each layer computes, the residual rule, shapes and errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.pytorch.models import (
    ConvNeXt,
    ConvNeXtBlock,
    DepthwiseSeparableBlock,
    DepthwiseSeparableConv2d,
    InvertedResidual,
    LayerNorm2d,
    SmallCNN,
    get_model,
    patchify_stem,
)
from cnnlib.reference import depthwise_separable_conv2d_forward, rel_error


def numpy(t):
    return t.detach().numpy()


@pytest.mark.parametrize("stride, padding, bias", [(1, 1, True), (2, 0, False), (2, 2, True)])
def test_depthwise_separable_conv2d_is_the_reference_layer(stride, padding, bias):
    torch.manual_seed(0)
    layer = DepthwiseSeparableConv2d(3, 5, 3, stride=stride, padding=padding, bias=bias).double()
    x = torch.randn(2, 3, 9, 8, dtype=torch.float64)
    expected, _ = depthwise_separable_conv2d_forward(
        numpy(x), numpy(layer.depthwise.weight), None if not bias else numpy(layer.depthwise.bias),
        numpy(layer.pointwise.weight), None if not bias else numpy(layer.pointwise.bias), stride=stride, padding=padding,
    )
    assert rel_error(numpy(layer(x)), expected) < 1e-12


def test_depthwise_separable_block_layers():
    block = DepthwiseSeparableBlock(8, 16, stride=2)
    assert block.depthwise.groups == 8 and block.depthwise.bias is None and block.pointwise.kernel_size == (1, 1)
    assert block(torch.randn(2, 8, 9, 9)).shape == (2, 16, 5, 5)


def inverted_residual_by_hand(block, x):
    out = x if block.expand is None else F.relu6(block.expand[1](block.expand[0](x)))
    out = F.relu6(block.depthwise[1](block.depthwise[0](out)))
    return block.project[1](block.project[0](out))


@pytest.mark.parametrize("c_in, c_out, expansion, stride, residual", [
    (16, 16, 6, 1, True), (16, 16, 6, 2, False), (16, 24, 6, 1, False), (8, 8, 1, 1, True), (8, 12, 1, 2, False),
])
def test_inverted_residual_expands_filters_projects_linearly_and_adds_only_when_shapes_allow(c_in, c_out, expansion, stride, residual):
    torch.manual_seed(1)
    block = InvertedResidual(c_in, c_out, expansion, stride).eval()
    assert block.use_residual == residual
    assert (block.expand is None) == (expansion == 1)
    assert block.depthwise[0].groups == block.depthwise[0].in_channels == c_in * expansion
    x = torch.randn(2, c_in, 8, 8)
    with torch.no_grad():
        for bn in block.modules():  # non-trivial statistics so that a missing layer would show
            if isinstance(bn, torch.nn.BatchNorm2d):
                bn.running_mean.uniform_(-0.5, 0.5)
                bn.running_var.uniform_(0.5, 2)
                bn.weight.uniform_(0.5, 1.5)
                bn.bias.uniform_(-0.5, 0.5)
        out = block(x)
        branch = inverted_residual_by_hand(block, x)
    torch.testing.assert_close(out, x + branch if residual else branch)
    assert out.shape == (2, c_out, 8 // stride, 8 // stride)
    assert (branch < 0).any()  # no activation after the projection: the bottleneck is linear


def test_layernorm2d_normalises_the_channels_of_each_position():
    norm = LayerNorm2d(6)
    x = torch.randn(2, 6, 4, 5) * 3 + 1
    expected = F.layer_norm(x.permute(0, 2, 3, 1), (6,), eps=1e-6).permute(0, 3, 1, 2)
    torch.testing.assert_close(norm(x), expected)


def test_convnext_block_keeps_the_shape_and_starts_near_the_identity():
    torch.manual_seed(2)
    block = ConvNeXtBlock(16)
    assert block.depthwise.kernel_size == (7, 7) and block.depthwise.groups == 16
    assert block.expand.out_features == 64 and block.project.out_features == 16
    x = torch.randn(2, 16, 8, 8)
    out = block(x)
    assert out.shape == x.shape
    assert (out - x).abs().max() < 1e-4  # layer scale 1e-6 at the start
    free = ConvNeXtBlock(16, layer_scale_init=None)
    assert free.layer_scale is None and (free(x) - x).abs().max() > 0.1


def test_convnext_block_by_hand():
    torch.manual_seed(3)
    block = ConvNeXtBlock(4, kernel_size=3, expansion=2, layer_scale_init=0.5)
    x = torch.randn(1, 4, 5, 5)
    y = F.conv2d(x, block.depthwise.weight, block.depthwise.bias, padding=1, groups=4).permute(0, 2, 3, 1)
    y = F.layer_norm(y, (4,), block.norm.weight, block.norm.bias, eps=1e-6)
    y = block.project(F.gelu(block.expand(y))) * 0.5
    torch.testing.assert_close(block(x), x + y.permute(0, 3, 1, 2))


def test_patchify_stem_cuts_non_overlapping_patches():
    stem = patchify_stem(3, 32, 4)
    assert stem(torch.randn(2, 3, 32, 32)).shape == (2, 32, 8, 8)
    assert stem[0].kernel_size == stem[0].stride == (4, 4)


@pytest.mark.parametrize("name, convs", [("small_cnn", 10), ("small_cnn_separable", 19)])
def test_small_cnns(name, convs):
    model = get_model(name, num_classes=7).eval()
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == convs
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7)


@pytest.mark.parametrize("norm, layer", [("batch", torch.nn.BatchNorm2d), ("group", torch.nn.GroupNorm), ("layer", torch.nn.GroupNorm), ("none", torch.nn.Identity)])
def test_small_cnn_norms(norm, layer):
    model = SmallCNN(norm=norm, widths=(8, 16, 24), convs_per_stage=1)
    assert isinstance(model.stem[1], layer)
    if norm == "group":
        assert [m.num_groups for m in model.modules() if isinstance(m, torch.nn.GroupNorm)] == [8, 8, 8, 8]
    assert model(torch.randn(1, 3, 16, 16)).shape == (1, 10)


@pytest.mark.parametrize("kwargs, message", [
    (dict(widths=(8, 16)), "widths must be 3 ints"),
    (dict(convs_per_stage=0), "convs_per_stage must be an int >= 1"),
    (dict(norm="weight"), "norm must be one of"),
    (dict(separable=True, norm="group"), "a separable SmallCNN uses batch norm"),
])
def test_small_cnn_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SmallCNN(**kwargs)


def test_small_cnn_names_the_expected_input():
    with pytest.raises(ValueError, match=r"SmallCNN-separable expects input of shape \(N, 3, H, W\) with H, W >= 4"):
        get_model("small_cnn_separable")(torch.randn(1, 1, 32, 32))


@pytest.mark.parametrize("build, message", [
    (lambda: InvertedResidual(8, 8, 0), "expansion must be an int >= 1"),
    (lambda: InvertedResidual(8, 8, 6, stride=0), "stride must be an int >= 1"),
    (lambda: ConvNeXtBlock(0), "channels must be an int >= 1"),
])
def test_block_bad_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_gradients_flow_through_every_block():
    for block, shape in [(InvertedResidual(4, 4, 3), (2, 4, 6, 6)), (ConvNeXtBlock(4), (2, 4, 6, 6)), (DepthwiseSeparableConv2d(4, 6, 3), (2, 4, 6, 6))]:
        x = torch.randn(shape, requires_grad=True)
        block(x).square().sum().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in block.parameters())
        assert np.isfinite(x.grad.numpy()).all()


def test_convnext_layout_and_forward():
    model = ConvNeXt(depths=(1, 1, 2, 1), widths=(8, 16, 24, 32), num_classes=7).eval()
    assert [len(stage) for stage in model.stages] == [1, 1, 2, 1]
    assert [d[1].stride for d in model.downsample] == [(2, 2)] * 3
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7)
    with pytest.raises(ValueError, match=r"ConvNeXt expects input of shape \(N, 3, H, W\) with H, W >= 32"):
        model(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match="depths and widths must have 4 entries"):
        ConvNeXt(depths=(1, 1, 1))
