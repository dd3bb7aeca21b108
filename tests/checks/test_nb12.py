"""The checks of notebook 12 pass correct answers (two ways each) and name each recognised mistake."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.checks import nb12
from checkhelpers import assert_passes, run


def assert_fails(check, answer, *phrases, **kwargs):
    result = run(check, answer, **kwargs)
    assert not result.passed
    for phrase in phrases:
        assert phrase in result.message, result.message


def conv3x3(i, o, stride=1, bias=False):
    return nn.Conv2d(i, o, 3, stride=stride, padding=1, bias=bias)


# ---------------------------------------------------------------------------------------------
# BasicBlock
# ---------------------------------------------------------------------------------------------


class BasicNamed(nn.Module):
    """The layout of the exercise, attribute by attribute."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class BasicSequential(nn.Module):
    """Other names, a residual branch as one nn.Sequential, no shortcut module when it is the identity."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.project = stride != 1 or in_channels != out_channels
        if self.project:
            self.skip = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels))

    def forward(self, x):
        identity = self.skip(x) if self.project else x
        return torch.relu(self.residual(x) + identity)


@pytest.mark.parametrize("answer", [BasicNamed, BasicSequential])
def test_basic_block_passes(answer):
    assert_passes(nb12.basic_block_identity, answer)
    assert_passes(nb12.basic_block_projection, answer)
    assert_passes(nb12.basic_block_random, answer, seed=1)
    assert_passes(nb12.basic_block_random, answer, seed=2)


class BasicNoFinalRelu(BasicNamed):
    def forward(self, x):
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.shortcut(x)


class BasicReluBeforeAdd(BasicNamed):
    def forward(self, x):
        return F.relu(F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))) + self.shortcut(x))


class BasicNoShortcut(BasicNamed):
    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))


class BasicStrideSecond(BasicNamed):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        self.conv1.stride, self.conv2.stride = (1, 1), (stride, stride)


class BasicNoProjectionBN(BasicNamed):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False))


class BasicProjectionBias(BasicNamed):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        if stride != 1 or in_channels != out_channels:
            self.shortcut[0] = nn.Conv2d(in_channels, out_channels, 1, stride=stride)


class BasicProjection3x3(BasicNamed):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        if stride != 1 or in_channels != out_channels:
            self.shortcut[0] = conv3x3(in_channels, out_channels, stride)


class BasicAlwaysProject(BasicNamed):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels))


class BasicBiases(BasicNamed):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        self.conv1 = conv3x3(in_channels, out_channels, stride, bias=True)
        self.conv2 = conv3x3(out_channels, out_channels, bias=True)


class BasicShortcutFirst(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.skip = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels))
        self.a = conv3x3(in_channels, out_channels, stride)
        self.b = nn.BatchNorm2d(out_channels)
        self.c = conv3x3(out_channels, out_channels)
        self.d = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return F.relu(self.d(self.c(F.relu(self.b(self.a(x))))) + self.skip(x))


class BasicNoProjection(BasicNamed):
    """Option A (parameter-free): subsample and pad with zero channels."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        self.shortcut = nn.Identity()
        self.stride, self.extra = stride, out_channels - in_channels

    def forward(self, x):
        shortcut = F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, 0, self.extra))
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + shortcut)


def basic_from_library(in_channels, out_channels, stride=1):
    from cnnlib.pytorch.models import BasicBlock

    return BasicBlock(in_channels, out_channels, stride)


@pytest.mark.parametrize(
    "answer, check, phrase",
    [
        (BasicNoFinalRelu, nb12.basic_block_identity, "does not apply a ReLU after the addition"),
        (BasicReluBeforeAdd, nb12.basic_block_identity, "before the addition"),
        (BasicNoShortcut, nb12.basic_block_identity, "leaves out the shortcut"),
        (BasicAlwaysProject, nb12.basic_block_identity, "shape does not change"),
        (BasicBiases, nb12.basic_block_identity, "bias=False"),
        (BasicStrideSecond, nb12.basic_block_projection, "stride on the second convolution"),
        (BasicNoProjectionBN, nb12.basic_block_projection, "projection has no batch norm"),
        (BasicProjectionBias, nb12.basic_block_projection, "projection's 1x1 convolution has a bias"),
        (BasicProjection3x3, nb12.basic_block_projection, "3x3 kernel"),
        (BasicNoProjection, nb12.basic_block_projection, "has no projection shortcut"),
        (BasicShortcutFirst, nb12.basic_block_projection, "another order"),
        (basic_from_library, nb12.basic_block_identity, "cnnlib.pytorch"),
    ],
)
def test_basic_block_mistakes(answer, check, phrase):
    assert_fails(check, answer, phrase)


def test_hidden_messages_name_the_mistake():
    result = run(nb12.basic_block_random, BasicNoFinalRelu, seed=4)
    assert not result.passed and "ReLU after the addition" in result.message
    assert "random input" not in result.message


# ---------------------------------------------------------------------------------------------
# Bottleneck
# ---------------------------------------------------------------------------------------------


class BottleneckNamed(nn.Module):
    expansion = 4

    def __init__(self, in_channels, mid_channels, stride=1):
        super().__init__()
        out = 4 * mid_channels
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = conv3x3(mid_channels, mid_channels, stride)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(mid_channels, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.bn3(self.conv3(out)) + self.shortcut(x))


class BottleneckSequential(nn.Module):
    def __init__(self, in_channels, mid_channels, stride=1):
        super().__init__()
        out = mid_channels * 4
        self.f = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, (1, 1), bias=False), nn.BatchNorm2d(mid_channels), nn.ReLU(),
            nn.Conv2d(mid_channels, mid_channels, (3, 3), stride=stride, padding=1, bias=False), nn.BatchNorm2d(mid_channels), nn.ReLU(),
            nn.Conv2d(mid_channels, out, (1, 1), bias=False), nn.BatchNorm2d(out),
        )
        self.g = None
        if stride > 1 or in_channels != out:
            self.g = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        return F.relu(self.f(x) + (x if self.g is None else self.g(x)))


@pytest.mark.parametrize("answer", [BottleneckNamed, BottleneckSequential])
def test_bottleneck_passes(answer):
    assert_passes(nb12.bottleneck_identity, answer)
    assert_passes(nb12.bottleneck_projection, answer)
    assert_passes(nb12.bottleneck_random, answer, seed=1)
    assert_passes(nb12.bottleneck_random, answer, seed=2)


class BottleneckStrideFirst(BottleneckNamed):
    def __init__(self, in_channels, mid_channels, stride=1):
        super().__init__(in_channels, mid_channels, stride)
        self.conv1.stride, self.conv2.stride = (stride, stride), (1, 1)


class BottleneckNoExpansion(nn.Module):
    def __init__(self, in_channels, mid_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = conv3x3(mid_channels, mid_channels, stride)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(mid_channels, mid_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid_channels)
        self.shortcut = nn.Sequential(nn.Conv2d(in_channels, mid_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(mid_channels))

    forward = BottleneckNamed.forward


class BottleneckNoFinalRelu(BottleneckNamed):
    def forward(self, x):
        out = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        return self.bn3(self.conv3(out)) + self.shortcut(x)


class BottleneckNoProjectionBN(BottleneckNamed):
    def __init__(self, in_channels, mid_channels, stride=1):
        super().__init__(in_channels, mid_channels, stride)
        if stride != 1 or in_channels != 4 * mid_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, 4 * mid_channels, 1, stride=stride, bias=False))


class BottleneckBiases(BottleneckNamed):
    def __init__(self, in_channels, mid_channels, stride=1):
        super().__init__(in_channels, mid_channels, stride)
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1)
        self.conv2 = conv3x3(mid_channels, mid_channels, stride, bias=True)
        self.conv3 = nn.Conv2d(mid_channels, 4 * mid_channels, 1)


@pytest.mark.parametrize(
    "answer, check, phrase",
    [
        (BottleneckStrideFirst, nb12.bottleneck_projection, "stride on the first 1x1"),
        (BottleneckNoExpansion, nb12.bottleneck_projection, "expands to expansion * mid_channels"),
        (BottleneckNoFinalRelu, nb12.bottleneck_identity, "ReLU after the addition"),
        (BottleneckNoProjectionBN, nb12.bottleneck_projection, "projection has no batch norm"),
        (BottleneckBiases, nb12.bottleneck_identity, "bias=False"),
    ],
)
def test_bottleneck_mistakes(answer, check, phrase):
    assert_fails(check, answer, phrase)


# ---------------------------------------------------------------------------------------------
# PreActBlock
# ---------------------------------------------------------------------------------------------


class PreActNamed(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)

    def forward(self, x):
        pre = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(pre))))
        return out + (x if self.shortcut is None else self.shortcut(pre))


class PreActSequential(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.pre = nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU())
        self.rest = nn.Sequential(
            conv3x3(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels), nn.ReLU(), conv3x3(out_channels, out_channels)
        )
        self.proj = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)) if stride != 1 or in_channels != out_channels else None

    def forward(self, x):
        p = self.pre(x)
        return self.rest(p) + (self.proj(p) if self.proj is not None else x)


@pytest.mark.parametrize("answer", [PreActNamed, PreActSequential])
def test_preact_passes(answer):
    assert_passes(nb12.preact_block_identity, answer)
    assert_passes(nb12.preact_block_projection, answer)
    assert_passes(nb12.preact_block_random, answer, seed=1)
    assert_passes(nb12.preact_block_random, answer, seed=2)


class PreActPostRelu(PreActNamed):
    def forward(self, x):
        return F.relu(super().forward(x))


class PreActProjectRaw(PreActNamed):
    def forward(self, x):
        pre = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(pre))))
        return out + (x if self.shortcut is None else self.shortcut(x))


class PreActIdentityOfPreact(PreActNamed):
    def forward(self, x):
        pre = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(pre))))
        return out + (pre if self.shortcut is None else self.shortcut(pre))


class PreActProjectionBN(PreActNamed):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__(in_channels, out_channels, stride)
        if self.shortcut is not None:
            self.shortcut = nn.Sequential(self.shortcut, nn.BatchNorm2d(out_channels))


@pytest.mark.parametrize(
    "answer, check, phrase",
    [
        (PreActPostRelu, nb12.preact_block_identity, "applies a ReLU after the addition"),
        (PreActProjectRaw, nb12.preact_block_projection, "reads the raw input"),
        (PreActIdentityOfPreact, nb12.preact_block_identity, "the input x itself"),
        (PreActProjectionBN, nb12.preact_block_projection, "projection has a batch norm"),
        (BasicNamed, nb12.preact_block_identity, "post-activation"),
    ],
)
def test_preact_mistakes(answer, check, phrase):
    assert_fails(check, answer, phrase)


# ---------------------------------------------------------------------------------------------
# Numeric answers
# ---------------------------------------------------------------------------------------------


def test_stride2_shape():
    assert_passes(nb12.answer_stride2_shape, (512, 7, 7))
    assert_passes(nb12.answer_stride2_shape, [512, 7, 7])
    assert_fails(nb12.answer_stride2_shape, (128, 14, 14), "does not divide the number of maps")
    assert_fails(nb12.answer_stride2_shape, (512, 14, 14), "stride of 2")
    assert_fails(nb12.answer_stride2_shape, (256, 7, 7), "512 filters")
    assert_fails(nb12.answer_stride2_shape, 7, "tuple")


def test_resnet_counts():
    assert_passes(nb12.resnet18_parameter_count, 11_689_512)
    assert_passes(nb12.resnet50_parameter_count, 25_557_032)
    assert_fails(nb12.resnet18_parameter_count, 11_679_912, "batch norms")
    assert_fails(nb12.resnet18_parameter_count, 11_515_688, "projection shortcuts")
    assert_fails(nb12.resnet50_parameter_count, 23_508_032, "dense layer")
    assert_fails(nb12.resnet50_parameter_count, 22_735_016, "batch norms and the projection shortcuts")
    assert_fails(nb12.resnet50_parameter_count, 25_000_000, "not the parameter count")
