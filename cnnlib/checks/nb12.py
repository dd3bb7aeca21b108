"""Checks for notebook 12, ResNet.

The three residual blocks are compared with their twins in :mod:`cnnlib.pytorch.models`
(``BasicBlock``, ``Bottleneck``, ``PreActBlock`` with projection shortcuts): the student's block is
built where the student's code runs, its parameter layout is compared with the library block's,
the library block's random weights and batch-norm statistics are loaded into it, and the outputs
are compared in evaluation mode. The parameter counts of ResNet-18 and ResNet-50 are compared with
those of the library's models.

The checks recognise: the ReLU after the addition forgotten, a ReLU before the addition, the
shortcut left out, the stride put on the wrong convolution, a projection shortcut without batch
norm, with a bias, with a 3x3 kernel, used where the shape does not change or missing where it
does, convolutions with biases before batch norm, the bottleneck's expansion forgotten, a
pre-activation block that adds a ReLU after the sum or projects the raw input; reading "3x3 conv,
512, /2" as halving the number of maps (the lecture-note mistake); and the usual slips in counting
ResNet-18 and ResNet-50 (batch norm, shortcuts or the dense layer left out).
"""

from __future__ import annotations

import numpy as np

from cnnlib import arithmetic as arith

from .core import Mistake, as_int, check, describe, fail, probe
from .forbid import MODEL_LIBRARIES, Forbid
from .nb11 import unanswered, build_module, expect_forward, expect_layout, expect_output_shape, load, random_state

#: Module prefixes the student's code may not import while it is graded.
FORBIDDEN_IMPORTS = MODEL_LIBRARIES
IMPORT_REASON = (
    "these exercises ask you to build the residual blocks yourself from torch.nn layers, so the "
    "course's own models (cnnlib.pytorch) and torchvision's are switched off while your answers are graded"
)

BLOCK_FORBID = Forbid(
    modules=MODEL_LIBRARIES,
    reason="build it from torch.nn layers (nn.Conv2d, nn.BatchNorm2d, torch.relu, ...); the finished block is what the exercise asks for",
)


def _out_size(size: int, stride: int) -> int:
    return arith.conv_output_size(size, 3, stride=stride, padding=1)


def _np(t) -> np.ndarray:
    return t.detach().double().numpy()


# ---------------------------------------------------------------------------------------------
# Wrong blocks, computed from the library block's layers (and its loaded weights)
# ---------------------------------------------------------------------------------------------


def _conv(conv, t, stride=None):
    """``conv`` applied with another stride (same weights)."""
    import torch.nn.functional as F

    stride = conv.stride if stride is None else stride
    return F.conv2d(t, conv.weight, conv.bias, stride, conv.padding)


def _basic_variants(block, x: np.ndarray, stride: int) -> list[Mistake]:
    import torch
    import torch.nn.functional as F

    xt = torch.as_tensor(x, dtype=torch.float32)
    with torch.no_grad():
        b = block.eval()
        shortcut = b.shortcut(xt)
        branch = b.bn2(b.conv2(F.relu(b.bn1(b.conv1(xt)))))
        mistakes = [
            Mistake(_np(branch + shortcut), "your block does not apply a ReLU after the addition: the basic block ends with relu(F(x) + shortcut(x))"),
            Mistake(_np(F.relu(F.relu(branch) + shortcut)), "your block applies a ReLU to F(x) before the addition: the second batch norm's output is added to the shortcut as it is, and the ReLU comes after the sum"),
            Mistake(_np(F.relu(branch)), "your block leaves out the shortcut: add the shortcut (the input itself, or its projection when the shape changes) before the last ReLU"),
            Mistake(_np(F.relu(branch) + shortcut), "your block adds the shortcut after the last ReLU: the sum comes first, then the ReLU"),
        ]
        if stride != 1:
            moved = b.bn2(_conv(b.conv2, F.relu(b.bn1(_conv(b.conv1, xt, 1))), stride))
            mistakes.append(Mistake(_np(F.relu(moved + shortcut)), "your block puts the stride on the second convolution: the FIRST 3x3 convolution has the stride (and so does the 1x1 projection)"))
    return mistakes


def _bottleneck_variants(block, x: np.ndarray, stride: int) -> list[Mistake]:
    import torch
    import torch.nn.functional as F

    xt = torch.as_tensor(x, dtype=torch.float32)
    with torch.no_grad():
        b = block.eval()
        shortcut = b.shortcut(xt)
        branch = b.bn3(b.conv3(F.relu(b.bn2(b.conv2(F.relu(b.bn1(b.conv1(xt))))))))
        mistakes = [
            Mistake(_np(branch + shortcut), "your block does not apply a ReLU after the addition: the bottleneck block ends with relu(F(x) + shortcut(x))"),
            Mistake(_np(F.relu(branch)), "your block leaves out the shortcut: add the shortcut (the input itself, or its projection when the shape changes) before the last ReLU"),
            Mistake(_np(F.relu(F.relu(branch) + shortcut)), "your block applies a ReLU to F(x) before the addition: the third batch norm's output is added to the shortcut as it is"),
        ]
        if stride != 1:
            first = F.relu(b.bn1(_conv(b.conv1, xt, stride)))
            moved = b.bn3(b.conv3(F.relu(b.bn2(_conv(b.conv2, first, 1)))))
            mistakes.append(Mistake(_np(F.relu(moved + shortcut)), "your block puts the stride on the first 1x1 convolution (as the original paper did); this exercise, like torchvision, puts it on the 3x3 convolution"))
    return mistakes


def _preact_variants(block, x: np.ndarray, stride: int) -> list[Mistake]:
    import torch
    import torch.nn.functional as F
    from torch import nn

    xt = torch.as_tensor(x, dtype=torch.float32)
    with torch.no_grad():
        b = block.eval()
        preact = F.relu(b.bn1(xt))
        branch = b.conv2(F.relu(b.bn2(b.conv1(preact))))
        projected = isinstance(b.shortcut, nn.Conv2d)
        shortcut = b.shortcut(preact if projected else xt)
        mistakes = [
            Mistake(_np(F.relu(branch + shortcut)), "your block applies a ReLU after the addition: a pre-activation block adds F(x) to the shortcut and stops there (the next block's batch norm and ReLU come first in that block)"),
            Mistake(_np(branch), "your block leaves out the shortcut: return F(x) + shortcut"),
        ]
        if projected:
            mistakes.append(Mistake(_np(branch + b.shortcut(xt)), "your projection reads the raw input x: in a pre-activation block the 1x1 projection takes the pre-activated input relu(bn1(x)), which the branch computes anyway"))
        else:
            mistakes.append(Mistake(_np(branch + preact), "your shortcut adds relu(bn1(x)): when the shape does not change the shortcut is the input x itself, untouched"))
            post = F.relu(b.bn2(b.conv2(F.relu(b.bn1(b.conv1(xt))))) + xt)
            mistakes.append(Mistake(_np(post), "your block is the original (post-activation) basic block, conv-BN-ReLU-conv-BN, add, ReLU; the pre-activation block runs BN-ReLU-conv-BN-ReLU-conv and adds the shortcut last, with nothing after the sum"))
    return mistakes


# ---------------------------------------------------------------------------------------------
# Parameter counts of the usual wrong blocks
# ---------------------------------------------------------------------------------------------


def _basic_count_mistakes(cin: int, cout: int, stride: int, *, preact: bool = False) -> list[Mistake]:
    c, bn = arith.conv_param_count, (lambda ch: 2 * ch)
    changes = stride != 1 or cin != cout
    main = c(cin, cout, 3, bias=False) + c(cout, cout, 3, bias=False) + (bn(cin) + bn(cout) if preact else 2 * bn(cout))
    projection_bn = 0 if preact else bn(cout)
    proj = c(cin, cout, 1, bias=False) + projection_bn
    right = main + (proj if changes else 0)
    mistakes = [Mistake(right + 2 * cout, "your convolutions have biases: a batch norm follows each one (its shift makes a bias useless), so create them with bias=False")]
    if changes:
        mistakes += [
            Mistake(main, f"your block has no projection shortcut, but its shape changes (stride {stride}, {cin} -> {cout} channels): the shortcut must be a 1x1 convolution with the block's stride" + ("" if preact else ", followed by batch norm")),
            Mistake(right + cout, "your projection's 1x1 convolution has a bias: create it with bias=False"),
            Mistake(right - c(cin, cout, 1, bias=False) + c(cin, cout, 3, bias=False), "your projection uses a 3x3 kernel: the projection shortcut is a 1x1 convolution (with the block's stride)"),
        ]
        if not preact:
            mistakes.append(Mistake(right - projection_bn, "your projection has no batch norm: the shortcut is a 1x1 convolution with the block's stride, THEN nn.BatchNorm2d"))
        else:
            mistakes.append(Mistake(right + bn(cout), "your projection has a batch norm: in a pre-activation block it is a bare 1x1 convolution (the next block's batch norm follows the sum)"))
    else:
        mistakes.append(Mistake(right + proj, "your block has a projection although its shape does not change: with stride 1 and as many channels out as in, the shortcut is the identity (no parameters)"))
    return mistakes


def _bottleneck_count_mistakes(cin: int, mid: int, stride: int) -> list[Mistake]:
    c = arith.conv_param_count
    cout = 4 * mid
    changes = stride != 1 or cin != cout
    main = c(cin, mid, 1, bias=False) + c(mid, mid, 3, bias=False) + c(mid, cout, 1, bias=False) + 2 * (mid + mid + cout)
    proj = c(cin, cout, 1, bias=False) + 2 * cout
    right = main + (proj if changes else 0)
    mistakes = [Mistake(right + 2 * mid + cout, "your convolutions have biases: a batch norm follows each one (its shift makes a bias useless), so create them with bias=False")]
    if changes:
        mistakes += [
            Mistake(main, f"your block has no projection shortcut, but its shape changes (stride {stride}, {cin} -> {cout} channels): the shortcut must be a 1x1 convolution with the block's stride, followed by batch norm"),
            Mistake(right - 2 * cout, "your projection has no batch norm: the shortcut is a 1x1 convolution with the block's stride, THEN nn.BatchNorm2d"),
            Mistake(right + cout, "your projection's 1x1 convolution has a bias: create it with bias=False"),
        ]
    else:
        mistakes.append(Mistake(right + proj, "your block has a projection although its shape does not change: with stride 1 and in_channels == 4 * mid_channels, the shortcut is the identity"))
    return mistakes


# ---------------------------------------------------------------------------------------------
# The block checks
# ---------------------------------------------------------------------------------------------

_BASIC_ORDER = "name the layers conv1, bn1, conv2, bn2 and shortcut (an nn.Sequential of the 1x1 convolution and its batch norm), and create them in that order"
_BOTTLENECK_ORDER = "name the layers conv1, bn1, conv2, bn2, conv3, bn3 and shortcut (an nn.Sequential of the 1x1 convolution and its batch norm), and create them in that order"
_PREACT_ORDER = "name the layers bn1, conv1, bn2, conv2 and shortcut (the 1x1 convolution), and create them in that order"


def _check_block(kind: str, student, args: tuple, size: int, rng, *, forward: bool = True):
    from cnnlib.pytorch import models

    cin, width, stride = args
    if kind == "basic":
        name, reference, cout = f"BasicBlock({cin}, {width}, stride={stride})", models.BasicBlock(cin, width, stride), width
        counts, variants, order = _basic_count_mistakes(cin, width, stride), _basic_variants, _BASIC_ORDER
    elif kind == "bottleneck":
        name, reference, cout = f"Bottleneck({cin}, {width}, stride={stride})", models.Bottleneck(cin, width, stride), 4 * width
        counts, variants, order = _bottleneck_count_mistakes(cin, width, stride), _bottleneck_variants, _BOTTLENECK_ORDER
    else:
        name, reference, cout = f"PreActBlock({cin}, {width}, stride={stride})", models.PreActBlock(cin, width, stride), width
        counts, variants, order = _basic_count_mistakes(cin, width, stride, preact=True), _preact_variants, _PREACT_ORDER
    block = build_module(student, args, name, forbid=BLOCK_FORBID)
    out = _out_size(size, stride)
    why = f"{cout} maps of {out}x{out}: stride {stride} on a {size}x{size} input" + (f", and the bottleneck expands to 4 * mid_channels = {cout}" if kind == "bottleneck" else "")
    if kind == "bottleneck":
        shape = probe_shape(block, (2, cin, size, size))
        if shape is not None and len(shape) == 4 and shape[1] == width and cout != width:
            fail(f"{name} outputs {width} maps: the last 1x1 convolution expands to expansion * mid_channels = 4 * {width} = {cout} maps")
    expect_output_shape(block, (2, cin, size, size), (2, cout, out, out), name, why, forbid=BLOCK_FORBID)
    if kind == "preact" and (stride != 1 or cin != cout):
        batch_norms = sum(1 for k in probe(block, "state_shapes") if k.endswith("running_mean"))
        if batch_norms > 2:
            fail(f"{name}: your projection has a batch norm: in a pre-activation block it is a bare 1x1 convolution (the next block's batch norm follows the sum)")
    expect_layout(block, reference, name, count_mistakes=counts, order_hint=order)
    if forward:
        x = rng.standard_normal((2, cin, size, size)).astype(np.float32)
        state = random_state(reference, rng)
        load(reference, state)
        expect_forward(block, reference, x, state, name, mistakes=variants(reference, x, stride), forbid=BLOCK_FORBID, inputs=f"a random input of shape {x.shape} with the library block's weights (eval mode)")


def probe_shape(block, input_shape):
    """The output shape of a student's block, or None when it fails (the shape check then reports it)."""
    from .core import CheckFailed, probe

    try:
        shape = probe(block, "output_shape", tuple(input_shape), forbid=BLOCK_FORBID)
    except CheckFailed:
        return None
    return tuple(shape) if isinstance(shape, (tuple, list)) else None


def _random_blocks(kind: str, rng, count: int = 3):
    for i in range(count):
        stride = 2 if i % 2 == 0 else 1
        cin = int(rng.integers(2, 9))
        if kind == "bottleneck":
            width = int(rng.integers(1, 5))
            if i == 1:
                cin = 4 * width  # an identity shortcut
        else:
            width = cin if i == 1 else int(rng.integers(2, 12))
        yield (cin, width, stride), int(rng.integers(4, 10))


@check(points=1)
def basic_block_identity(BasicBlock):
    """BasicBlock(8, 8): shape, layers and output with an identity shortcut"""
    _check_block("basic", BasicBlock, (8, 8, 1), 6, np.random.default_rng(1))


@check(points=2)
def basic_block_projection(BasicBlock):
    """BasicBlock(4, 8, stride=2): shape, layers and output with a projection shortcut"""
    _check_block("basic", BasicBlock, (4, 8, 2), 6, np.random.default_rng(2))


@check(points=2, hidden=True)
def basic_block_random(BasicBlock, seed: int = 0):
    """BasicBlock: seeded random channels, strides and (odd) sizes"""
    rng = np.random.default_rng(seed)
    for args, size in _random_blocks("basic", rng):
        _check_block("basic", BasicBlock, args, size, rng)


@check(points=1)
def bottleneck_identity(Bottleneck):
    """Bottleneck(16, 4): shape, layers and output with an identity shortcut"""
    _check_block("bottleneck", Bottleneck, (16, 4, 1), 6, np.random.default_rng(3))


@check(points=2)
def bottleneck_projection(Bottleneck):
    """Bottleneck(8, 4, stride=2): shape, layers and output with a projection shortcut"""
    _check_block("bottleneck", Bottleneck, (8, 4, 2), 6, np.random.default_rng(4))


@check(points=2, hidden=True)
def bottleneck_random(Bottleneck, seed: int = 0):
    """Bottleneck: seeded random channels, strides and (odd) sizes"""
    rng = np.random.default_rng(seed)
    for args, size in _random_blocks("bottleneck", rng):
        _check_block("bottleneck", Bottleneck, args, size, rng)


@check(points=1)
def preact_block_identity(PreActBlock):
    """PreActBlock(8, 8): shape, layers and output with an identity shortcut"""
    _check_block("preact", PreActBlock, (8, 8, 1), 6, np.random.default_rng(5))


@check(points=2)
def preact_block_projection(PreActBlock):
    """PreActBlock(4, 8, stride=2): shape, layers and output with a projection shortcut"""
    _check_block("preact", PreActBlock, (4, 8, 2), 6, np.random.default_rng(6))


@check(points=2, hidden=True)
def preact_block_random(PreActBlock, seed: int = 0):
    """PreActBlock: seeded random channels, strides and (odd) sizes"""
    rng = np.random.default_rng(seed)
    for args, size in _random_blocks("preact", rng):
        _check_block("preact", PreActBlock, args, size, rng)


# ---------------------------------------------------------------------------------------------
# Numeric answers
# ---------------------------------------------------------------------------------------------


@check(points=1)
def answer_stride2_shape(answer_stride2_shape):
    """"3x3 conv, 512, /2" on a 256 x 14 x 14 input: the output shape (channels, height, width)"""
    value = answer_stride2_shape
    unanswered(value, "answer_stride2_shape")
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        fail(f"answer_stride2_shape is {describe(value)}; write it as a tuple (channels, height, width)")
    got = tuple(as_int(v, "each entry of answer_stride2_shape") for v in value)
    channels = 512
    size = arith.conv_output_size(14, 3, stride=2, padding=1)
    expected = (channels, size, size)
    if got == expected:
        return
    wrong = {
        (128, 14, 14): '"/2" does not divide the number of maps: 512 is the number of filters (output maps); /2 means stride 2, which halves the height and width',
        (128, 7, 7): '"/2" does not divide the number of maps: 512 is the number of filters (output maps); /2 is the stride, which halves only the height and width',
        (256, 7, 7): "the layer has 512 filters, so the output has 512 maps, whatever the input had",
        (512, 14, 14): '"/2" is a stride of 2: with padding 1 the 3x3 convolution gives floor((14 + 2 - 3) / 2) + 1 = 7',
        (512, 6, 6): "with stride 2 and padding 1 the 3x3 convolution gives floor((14 + 2 - 3) / 2) + 1 = 7: ResNet pads its 3x3 convolutions by 1",
    }
    if got in wrong:
        fail(f"answer_stride2_shape: {wrong[got]}")
    fail("answer_stride2_shape is not right: the number of maps is the layer's number of filters, and the size follows floor((n + 2p - k) / s) + 1")


def _resnet_counts(build) -> dict:
    import torch
    from torch import nn

    with torch.device("meta"):
        model = build()
    params = dict(model.named_parameters())
    bns = sum(p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters())
    shortcuts = sum(p.numel() for n, p in params.items() if ".shortcut." in n)
    shortcut_bns = sum(p.numel() for n, m in model.named_modules() if ".shortcut." in n and isinstance(m, nn.BatchNorm2d) for p in m.parameters())
    fc = sum(p.numel() for p in model.fc.parameters())
    total = sum(p.numel() for p in params.values())
    return {
        "all": total,
        "no_bn": total - bns,
        "no_shortcuts": total - shortcuts,
        "no_fc": total - fc,
        "no_bn_no_shortcuts": total - bns - (shortcuts - shortcut_bns),
    }


def _compare_resnet(value, build, name: str, depth: int) -> None:
    unanswered(value, name)
    counts = _resnet_counts(build)
    got = as_int(value, name)
    if got == counts["all"]:
        return
    mistakes = [
        (counts["no_bn"], "you left out the batch norms: each nn.BatchNorm2d has 2 parameters per channel (its scale and shift)"),
        (counts["no_shortcuts"], "you left out the projection shortcuts: the first block of stages 2, 3 and 4 has a 1x1 convolution and a batch norm on its shortcut"),
        (counts["no_fc"], "you left out the final dense layer (512 * expansion inputs, 1000 outputs)"),
        (counts["no_bn_no_shortcuts"], "you left out the batch norms and the projection shortcuts"),
    ]
    for wrong, explanation in mistakes:
        if got == wrong:
            fail(f"{name}: {explanation}")
    fail(f"{name} = {got:,} is not the parameter count of ResNet-{depth} (it is {got / counts['all']:.3g} times the right one); count every convolution (no biases), every batch norm, the shortcuts and the dense layer")


@check(points=1)
def resnet18_parameter_count(resnet18_params):
    """resnet18_params: the number of parameters of ResNet-18 for 1000 classes"""
    from cnnlib.pytorch.models import resnet18

    _compare_resnet(resnet18_params, resnet18, "resnet18_params", 18)


@check(points=1)
def resnet50_parameter_count(resnet50_params):
    """resnet50_params: the number of parameters of ResNet-50 for 1000 classes"""
    from cnnlib.pytorch.models import resnet50

    _compare_resnet(resnet50_params, resnet50, "resnet50_params", 50)
