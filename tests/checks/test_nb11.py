"""The checks of notebook 11 pass correct answers (two ways each) and name each recognised mistake."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.checks import nb11
from checkhelpers import assert_passes, run


def assert_fails(check, answer, *phrases, **kwargs):
    result = run(check, answer, **kwargs)
    assert not result.passed
    for phrase in phrases:
        assert phrase in result.message, result.message


# ---------------------------------------------------------------------------------------------
# topk_error
# ---------------------------------------------------------------------------------------------


def topk_sort(logits, y, k):
    top = np.argsort(logits, axis=1)[:, -k:]
    return float(1.0 - np.mean(np.any(top == np.asarray(y)[:, None], axis=1)))


def topk_rank(logits, y, k):
    # the label is found when fewer than k classes score higher than it
    logits = np.asarray(logits)
    label_scores = logits[np.arange(len(y)), y]
    higher = (logits > label_scores[:, None]).sum(axis=1)
    return float(np.mean(higher >= k))


def topk_partition(logits, y, k):
    missed = 0
    for row, label in zip(logits, y):
        top = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
        missed += label not in top
    return missed / len(y)


@pytest.mark.parametrize("answer", [topk_sort, topk_rank, topk_partition])
def test_topk_error_passes(answer):
    assert_passes(nb11.topk_error_examples, answer)
    assert_passes(nb11.topk_error_random, answer, seed=5)
    assert_passes(nb11.topk_error_random, answer, seed=6)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda l, y, k: 1 - topk_sort(l, y, k), "top-k accuracy"),
        (lambda l, y, k: 100 * topk_sort(l, y, k), "percentage"),
        (lambda l, y, k: topk_sort(l, y, k) * len(y), "number of misses"),
        (lambda l, y, k: float(1 - np.mean(np.any(np.argsort(l, axis=1)[:, :k] == y[:, None], axis=1))), "SMALLEST"),
        (lambda l, y, k: topk_sort(l, y, 1), "ignores k"),
        (lambda l, y, k: topk_sort(l, y, min(k + 1, l.shape[1])), "top 2 scores instead of the top 1"),
    ],
)
def test_topk_error_mistakes(answer, phrase):
    assert_fails(nb11.topk_error_examples, answer, phrase)


def test_topk_error_torch_is_forbidden():
    def with_torch(logits, y, k):
        return 1 - torch.topk(torch.as_tensor(logits), k).indices.eq(torch.as_tensor(y)[:, None]).any(1).double().mean().item()

    assert_fails(nb11.topk_error_examples, with_torch, "torch")


# ---------------------------------------------------------------------------------------------
# vgg_block
# ---------------------------------------------------------------------------------------------


def vgg_block_list(in_channels, out_channels, num_convs):
    layers = []
    for i in range(num_convs):
        layers.append(nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1))
        layers.append(nn.ReLU(inplace=True))
    layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


def vgg_block_nested(in_channels, out_channels, num_convs):
    pairs = [nn.Sequential(nn.Conv2d(c, out_channels, kernel_size=(3, 3), padding="same"), nn.ReLU()) for c in [in_channels] + [out_channels] * (num_convs - 1)]
    return nn.Sequential(*pairs, nn.MaxPool2d(kernel_size=2, stride=2))


@pytest.mark.parametrize("answer", [vgg_block_list, vgg_block_nested])
def test_vgg_block_passes(answer):
    assert_passes(nb11.vgg_block_layers, answer)
    assert_passes(nb11.vgg_block_random, answer, seed=1)
    assert_passes(nb11.vgg_block_random, answer, seed=2)


def vgg_no_relu(i, o, n):
    return nn.Sequential(*[nn.Conv2d(i if j == 0 else o, o, 3, padding=1) for j in range(n)], nn.MaxPool2d(2))


def vgg_one_relu(i, o, n):
    return nn.Sequential(*[nn.Conv2d(i if j == 0 else o, o, 3, padding=1) for j in range(n)], nn.ReLU(), nn.MaxPool2d(2))


def vgg_no_pool(i, o, n):
    return nn.Sequential(*vgg_block_list(i, o, n)[:-1])


def vgg_no_padding(i, o, n):
    block = vgg_block_list(i, o, n)
    for m in block:
        if isinstance(m, nn.Conv2d):
            m.padding = (0, 0)
    return block


def vgg_no_bias(i, o, n):
    layers = []
    for j in range(n):
        layers += [nn.Conv2d(i if j == 0 else o, o, 3, padding=1, bias=False), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2))


def vgg_list(i, o, n):
    return list(vgg_block_list(i, o, n))


def vgg_library(i, o, n):
    from cnnlib.pytorch.models import vgg_block

    return vgg_block(i, o, n)


def vgg_avg_pool(i, o, n):
    return nn.Sequential(*vgg_block_list(i, o, n)[:-1], nn.AvgPool2d(2))


@pytest.mark.parametrize(
    "answer, phrases",
    [
        (vgg_no_relu, ["has no ReLU", "single linear map"]),
        (vgg_one_relu, ["1 ReLU(s) for 2 convolutions"]),
        (vgg_no_pool, ["max pool"]),
        (vgg_avg_pool, ["max pool"]),
        (vgg_no_padding, ["should be (2, 8, 4, 4)", "padding 1"]),
        (vgg_no_bias, ["no bias"]),
        (vgg_list, ["torch.nn.Module"]),
        (vgg_library, ["cnnlib.pytorch"]),
    ],
)
def test_vgg_block_mistakes(answer, phrases):
    assert_fails(nb11.vgg_block_layers, answer, *phrases)


# ---------------------------------------------------------------------------------------------
# InceptionModule
# ---------------------------------------------------------------------------------------------


def unit(i, o, k, *, bias=False, bn=True):
    layers = [nn.Conv2d(i, o, k, padding=k // 2, bias=bias)]
    if bn:
        layers.append(nn.BatchNorm2d(o))
    return nn.Sequential(*layers, nn.ReLU())


class InceptionSequential(nn.Module):
    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()
        self.b1 = unit(in_channels, c1, 1)
        self.b3 = nn.Sequential(unit(in_channels, c3_reduce, 1), unit(c3_reduce, c3, 3))
        self.b5 = nn.Sequential(unit(in_channels, c5_reduce, 1), unit(c5_reduce, c5, 5))
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1), unit(in_channels, pool_proj, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], dim=1)


class InceptionExplicit(nn.Module):
    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, c1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c1)
        self.reduce3 = nn.Conv2d(in_channels, c3_reduce, 1, bias=False)
        self.bn_reduce3 = nn.BatchNorm2d(c3_reduce)
        self.conv3 = nn.Conv2d(c3_reduce, c3, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c3)
        self.reduce5 = nn.Conv2d(in_channels, c5_reduce, 1, bias=False)
        self.bn_reduce5 = nn.BatchNorm2d(c5_reduce)
        self.conv5 = nn.Conv2d(c5_reduce, c5, 5, padding=2, bias=False)
        self.bn5 = nn.BatchNorm2d(c5)
        self.proj = nn.Conv2d(in_channels, pool_proj, 1, bias=False)
        self.bn_proj = nn.BatchNorm2d(pool_proj)

    def forward(self, x):
        a = F.relu(self.bn1(self.conv1(x)))
        b = F.relu(self.bn3(self.conv3(F.relu(self.bn_reduce3(self.reduce3(x))))))
        c = F.relu(self.bn5(self.conv5(F.relu(self.bn_reduce5(self.reduce5(x))))))
        d = F.relu(self.bn_proj(self.proj(F.max_pool2d(x, 3, stride=1, padding=1))))
        return torch.cat((a, b, c, d), 1)


@pytest.mark.parametrize("answer", [InceptionSequential, InceptionExplicit])
def test_inception_passes(answer):
    assert_passes(nb11.inception_shapes, answer)
    assert_passes(nb11.inception_forward, answer)
    assert_passes(nb11.inception_random, answer, seed=1)
    assert_passes(nb11.inception_random, answer, seed=2)


class InceptionOrder(InceptionSequential):
    def forward(self, x):
        return torch.cat([self.b3(x), self.b1(x), self.b5(x), self.bp(x)], dim=1)


class InceptionAvg(InceptionSequential):
    def __init__(self, *widths):
        super().__init__(*widths)
        self.bp[0] = nn.AvgPool2d(3, 1, 1)


class InceptionNoBN(nn.Module):
    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj, bias=True):
        super().__init__()
        self.b1 = unit(in_channels, c1, 1, bias=bias, bn=False)
        self.b3 = nn.Sequential(unit(in_channels, c3_reduce, 1, bias=bias, bn=False), unit(c3_reduce, c3, 3, bias=bias, bn=False))
        self.b5 = nn.Sequential(unit(in_channels, c5_reduce, 1, bias=bias, bn=False), unit(c5_reduce, c5, 5, bias=bias, bn=False))
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1), unit(in_channels, pool_proj, 1, bias=bias, bn=False))

    forward = InceptionSequential.forward


class InceptionBias(InceptionSequential):
    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        nn.Module.__init__(self)
        self.b1 = unit(in_channels, c1, 1, bias=True)
        self.b3 = nn.Sequential(unit(in_channels, c3_reduce, 1, bias=True), unit(c3_reduce, c3, 3, bias=True))
        self.b5 = nn.Sequential(unit(in_channels, c5_reduce, 1, bias=True), unit(c5_reduce, c5, 5, bias=True))
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1), unit(in_channels, pool_proj, 1, bias=True))


class InceptionNoReduce(InceptionSequential):
    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        nn.Module.__init__(self)
        self.b1 = unit(in_channels, c1, 1)
        self.b3 = unit(in_channels, c3, 3)
        self.b5 = unit(in_channels, c5, 5)
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1), unit(in_channels, pool_proj, 1))


class InceptionPoolFirst(InceptionSequential):
    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        nn.Module.__init__(self)
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1), unit(in_channels, pool_proj, 1))
        self.b1 = unit(in_channels, c1, 1)
        self.b3 = nn.Sequential(unit(in_channels, c3_reduce, 1), unit(c3_reduce, c3, 3))
        self.b5 = nn.Sequential(unit(in_channels, c5_reduce, 1), unit(c5_reduce, c5, 5))


class InceptionNoPadding(InceptionSequential):
    def __init__(self, *widths):
        super().__init__(*widths)
        self.b3[1][0].padding = (0, 0)


class InceptionReluFirst(InceptionExplicit):
    def forward(self, x):
        a = self.bn1(F.relu(self.conv1(x)))
        b = self.bn3(F.relu(self.conv3(self.bn_reduce3(F.relu(self.reduce3(x))))))
        c = self.bn5(F.relu(self.conv5(self.bn_reduce5(F.relu(self.reduce5(x))))))
        d = self.bn_proj(F.relu(self.proj(F.max_pool2d(x, 3, stride=1, padding=1))))
        return torch.cat((a, b, c, d), 1)


class InceptionNoRelu(InceptionExplicit):
    def forward(self, x):
        a = self.bn1(self.conv1(x))
        b = self.bn3(self.conv3(self.bn_reduce3(self.reduce3(x))))
        c = self.bn5(self.conv5(self.bn_reduce5(self.reduce5(x))))
        d = self.bn_proj(self.proj(F.max_pool2d(x, 3, stride=1, padding=1)))
        return torch.cat((a, b, c, d), 1)


@pytest.mark.parametrize(
    "answer, check, phrase",
    [
        (InceptionNoBN, nb11.inception_shapes, "no batch norm"),
        (InceptionBias, nb11.inception_shapes, "biases"),
        (InceptionNoReduce, nb11.inception_shapes, "reduce the channels with a 1x1"),
        (InceptionPoolFirst, nb11.inception_shapes, "another order"),
        (InceptionNoPadding, nb11.inception_shapes, "raised RuntimeError"),
        (InceptionOrder, nb11.inception_forward, "concatenated in the order 3x3, 1x1, 5x5, pool"),
        (InceptionAvg, nb11.inception_forward, "average pooling"),
        (InceptionReluFirst, nb11.inception_forward, "ReLU before the batch norm"),
        (InceptionNoRelu, nb11.inception_forward, "no ReLU"),
    ],
)
def test_inception_mistakes(answer, check, phrase):
    assert_fails(check, answer, phrase)


def test_inception_hidden_names_the_mistake_without_inputs():
    result = run(nb11.inception_random, InceptionOrder, seed=3)
    assert not result.passed and "concatenated in the order" in result.message
    assert "random input" not in result.message


# ---------------------------------------------------------------------------------------------
# Parameter counts
# ---------------------------------------------------------------------------------------------


def test_counts_pass():
    assert_passes(nb11.vgg16_parameter_count, 138_357_544)
    assert_passes(nb11.vgg16_parameter_count, np.int64(138_357_544))
    assert_passes(nb11.alexnet_parameter_count, 61_100_840)
    assert_passes(nb11.alexnet_parameter_count, 61_100_840.0)


def test_vgg16_count_mistakes():
    vgg_convs = 14_714_688
    assert_fails(nb11.vgg16_parameter_count, vgg_convs, "only the 13 convolutions")
    assert_fails(nb11.vgg16_parameter_count, 138_357_544 - vgg_convs, "only the three dense layers")
    biases = 2 * 64 + 2 * 128 + 3 * 256 + 6 * 512 + 4096 * 2 + 1000
    assert_fails(nb11.vgg16_parameter_count, 138_357_544 - biases, "not the biases")
    assert_fails(nb11.vgg16_parameter_count, 138_357_544 - 25088 * 4096 + 4 * 25088 * 4096, "14x14")
    assert_fails(nb11.vgg16_parameter_count, 138_000_000, "not the parameter count")
    result = run(nb11.vgg16_parameter_count, None)
    assert not result.passed and result.not_written and "not set yet" in result.message
    assert_fails(nb11.vgg16_parameter_count, 1.5, "whole number")


def test_alexnet_count_mistakes():
    assert_fails(nb11.alexnet_parameter_count, 60_965_224, "two-GPU")
    assert_fails(nb11.alexnet_parameter_count, 62_378_344, "paper's filter numbers")
    assert_fails(nb11.alexnet_parameter_count, 2_469_696, "only the five convolutions")
    assert_fails(nb11.alexnet_parameter_count, 61_100_840 - 2_469_696, "only the three dense layers")
