"""Checks for notebook 11, classic architectures.

``topk_error`` is compared with :func:`cnnlib.pytorch.metrics.topk_error`; the blocks
``vgg_block`` and ``InceptionModule`` with their twins in :mod:`cnnlib.pytorch.models`: the
student's block is built where the student's code runs, its layers and parameter shapes are read
back through :func:`~cnnlib.checks.core.probe`, the library block's (random) weights are loaded
into it, and its output is compared with the library block's on the same input. The parameter
counts of VGG-16 and AlexNet are compared with those of the library's models.

The checks recognise: accuracy returned instead of error, a percentage instead of a fraction, the
``k`` smallest logits taken instead of the largest, ``k`` off by one, ``k`` ignored; a VGG block
without a ReLU after each convolution (the lecture-note mistake) or without padding or pooling;
an Inception module without batch norm, with biases before batch norm, without the 1x1
reductions, with its branches concatenated in another order, or with average pooling; and the
usual slips in counting VGG-16 and AlexNet (biases forgotten, convolutions or dense layers only,
the paper's two-GPU AlexNet).

The helpers in the first section (building a student's module, random weights, comparing layouts
and outputs) are shared with the checks of notebooks 12 and 13.
"""

from __future__ import annotations

import math

import numpy as np

from cnnlib import arithmetic as arith

from .core import Missing, Mistake, NotWrittenYet, as_array, as_int, call, check, describe, expect_close, expect_shape, fail, probe
from .forbid import MODEL_LIBRARIES, NUMPY_ONLY, Forbid

#: Module prefixes the student's code may not import while it is graded.
FORBIDDEN_IMPORTS = MODEL_LIBRARIES
IMPORT_REASON = (
    "these exercises ask you to build the blocks yourself from torch.nn layers, so the course's "
    "own models (cnnlib.pytorch) and torchvision's are switched off while your answers are graded"
)

#: For the blocks: torch.nn layers are the building material, the finished blocks are not.
BLOCK_FORBID = Forbid(
    modules=MODEL_LIBRARIES,
    reason="build it from torch.nn layers (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.MaxPool2d, ...); the finished block is what the exercise asks for",
)

TOPK_FORBID = NUMPY_ONLY | Forbid(reason="write it with NumPy (np.argsort or np.argpartition, comparisons, a mean)")


# ---------------------------------------------------------------------------------------------
# Helpers for student nn.Modules (shared with nb12 and nb13)
# ---------------------------------------------------------------------------------------------


def build_module(constructor, args: tuple, name: str, *, forbid: Forbid | None = BLOCK_FORBID):
    """Call the student's class or function with ``args`` and make sure a ``torch.nn.Module`` came back."""
    module = call(constructor, *args, forbid=forbid)
    if not probe(module, "is_module"):
        fail(f"{name} gave {describe(module)}; it should give a torch.nn.Module")
    return module


def state_arrays(module) -> dict:
    """The state dict of a library module as ``{name: ndarray}`` (float32 parameters and buffers)."""
    return {name: t.detach().cpu().numpy().copy() for name, t in module.state_dict().items()}


def random_state(module, rng: np.random.Generator) -> dict:
    """Random values for every entry of ``module``'s state dict, at scales that keep outputs near 1.

    Convolution and dense weights get He-normal values, biases small ones; batch norms get scales
    in [0.5, 1.5], shifts near 0 and running statistics far enough from (0, 1) that a batch norm in
    the wrong place, or a missing one, changes the output.
    """
    state = {}
    for name, tensor in module.state_dict().items():
        shape = tuple(tensor.shape)
        leaf = name.rsplit(".", 1)[-1]
        if leaf == "num_batches_tracked":
            value = np.zeros(shape, dtype=np.int64)
        elif leaf == "running_mean":
            value = 0.3 * rng.standard_normal(shape)
        elif leaf == "running_var":
            value = rng.uniform(0.5, 2.0, shape)
        elif leaf == "weight" and len(shape) == 1:  # a normalisation layer's scale
            value = rng.uniform(0.5, 1.5, shape)
        elif leaf == "weight":
            fan_in = int(np.prod(shape[1:]))
            value = rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
        else:
            value = 0.1 * rng.standard_normal(shape)
        state[name] = value if leaf == "num_batches_tracked" else value.astype(np.float32)
    return state


def load(module, state: dict):
    """Load ``{name: ndarray}`` into a library module (in place) and return it in eval mode."""
    import torch

    module.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    return module.eval()


def reference_output(module, x: np.ndarray) -> np.ndarray:
    """A library module's output (eval mode, no gradient) as float64."""
    import torch

    with torch.no_grad():
        return module.eval()(torch.as_tensor(x, dtype=torch.float32)).double().numpy()


def _shape_list(shapes: dict) -> list:
    return [tuple(int(d) for d in s) for s in shapes.values()]


def expect_layout(student, reference, name: str, *, count_mistakes=(), order_hint: str = "") -> None:
    """Fail unless the student's state dict has the library's entries, shape for shape, in order.

    ``count_mistakes`` are :class:`Mistake` s whose ``output`` is the parameter count of a wrong
    layout: a student whose count equals one is told that mistake. ``order_hint`` says in which
    order the layers must be created (the check loads weights by position when names differ).
    """
    expected_params = sum(p.numel() for p in reference.parameters())
    got_params = as_int(probe(student, "parameter_count"), f"the parameter count of {name}")
    if got_params != expected_params:
        for mistake in count_mistakes:
            if mistake.output is not None and int(mistake.output) == got_params:
                fail(f"{name}: {mistake.explanation}", f"It has {got_params:,} parameters; the block should have {expected_params:,}.")
        shapes = probe(student, "parameter_shapes")
        fail(
            f"{name} has {got_params:,} parameters; it should have {expected_params:,}",
            "Your parameters: " + ", ".join(f"{k} {tuple(v)}" for k, v in shapes.items()) + ".\nExpected: "
            + ", ".join(f"{k} {tuple(p.shape)}" for k, p in reference.named_parameters()) + ".",
        )
    got = probe(student, "state_shapes")
    want = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    if set(got) == set(want) and all(tuple(got[k]) == want[k] for k in want):
        return  # the same names: the weights load by name, whatever the order
    if _shape_list(got) == _shape_list(want):
        return  # other names, same order: the weights load by position
    if sorted(_shape_list(got)) == sorted(_shape_list(want)):
        fail(
            f"{name} has the right layers but creates them in another order, so the check cannot load its weights into them"
            + (f": {order_hint}" if order_hint else ""),
            "Your state dict: " + ", ".join(f"{k} {tuple(v)}" for k, v in got.items()) + ".\nExpected order: "
            + ", ".join(f"{k} {v}" for k, v in want.items()) + ".",
        )
    has_bn = any(k.endswith("running_mean") for k in got)
    needs_bn = any(k.endswith("running_mean") for k in want)
    if needs_bn and not has_bn:
        fail(f"{name} has no batch norm layer: put an nn.BatchNorm2d after each convolution as the exercise describes")
    fail(
        f"{name} has the right number of parameters but not the expected layers" + (f" ({order_hint})" if order_hint else ""),
        "Your state dict: " + ", ".join(f"{k} {tuple(v)}" for k, v in got.items()) + ".\nExpected: "
        + ", ".join(f"{k} {v}" for k, v in want.items()) + ".",
    )


def expect_forward(student, reference, x: np.ndarray, state: dict, name: str, *, mistakes=(), forbid: Forbid | None = BLOCK_FORBID, inputs: str = "") -> None:
    """Load ``state`` into both blocks and compare their outputs on ``x`` (eval mode)."""
    out = probe(student, "forward", x, state, False, forbid=forbid)
    out = as_array(out, f"the output of {name}")
    expected = reference_output(load(reference, state), x)
    expect_close(out, expected, f"the output of {name}", mistakes=list(mistakes), rtol=1e-4, atol=1e-4, inputs=inputs)


def expect_output_shape(student, input_shape: tuple, expected: tuple, name: str, why: str = "", *, forbid: Forbid | None = BLOCK_FORBID) -> None:
    """Fail unless ``student(torch.zeros(input_shape))`` has shape ``expected``."""
    shape = probe(student, "output_shape", tuple(input_shape), forbid=forbid)
    if not isinstance(shape, (tuple, list)):
        fail(f"{name} returned {describe(shape)} instead of a tensor")
    expect_shape(np.empty(tuple(shape), dtype=np.uint8), expected, f"the output of {name} on an input of shape {tuple(input_shape)}", why)


# ---------------------------------------------------------------------------------------------
# topk_error
# ---------------------------------------------------------------------------------------------


def _topk_error(logits: np.ndarray, y: np.ndarray, k: int) -> float:
    import torch

    from cnnlib.pytorch.metrics import topk_error

    return topk_error(torch.as_tensor(logits), torch.as_tensor(y), k)


def _smallest_k_error(logits, y, k) -> float:
    smallest = np.argsort(logits, axis=1, kind="stable")[:, :k]
    return float(1.0 - np.mean(np.any(smallest == y[:, None], axis=1)))


def _topk_mistakes(logits, y, k) -> list[Mistake]:
    error = _topk_error(logits, y, k)
    n, classes = logits.shape
    mistakes = [
        Mistake(1.0 - error, "you returned the top-k accuracy; the error is the fraction of examples whose label is NOT among the k highest scores (1 - accuracy)"),
        Mistake(100.0 * error, "you returned a percentage; return a fraction between 0 and 1"),
        Mistake(error * n, "you returned the number of misses; divide by the number of examples to get a fraction"),
        Mistake(_smallest_k_error(logits, y, k), "you took the k SMALLEST logits: np.argsort sorts in increasing order, so the k largest are the last k columns (argsort(...)[:, -k:] or argsort(-logits))"),
    ]
    if k > 1:
        mistakes.append(Mistake(_topk_error(logits, y, 1), "your answer ignores k: it is the top-1 error; a prediction counts as right when the label is anywhere among the k highest scores"))
        mistakes.append(Mistake(_topk_error(logits, y, k - 1), f"you looked at the top {k - 1} scores instead of the top {k}: check the slice that keeps the k largest"))
    if k < classes:
        mistakes.append(Mistake(_topk_error(logits, y, k + 1), f"you looked at the top {k + 1} scores instead of the top {k}: check the slice that keeps the k largest"))
    return mistakes


def _check_topk(topk_error, logits, y, k):
    out = call(topk_error, logits, y, k, forbid=TOPK_FORBID)
    out = as_array(out, f"topk_error(logits, y, k={k})", ndim=0)
    expect_close(
        out,
        _topk_error(logits, y, k),
        f"topk_error(logits, y, k={k})",
        mistakes=_topk_mistakes(logits, y, k),
        inputs=f"logits of shape {logits.shape}, labels {y.tolist()} and k = {k}" if len(y) <= 8 else f"logits of shape {logits.shape} and k = {k}",
    )


# Eight examples, six classes; the labels rank 1, 1, 2, 3, 6, 2, 4 and 4 among their logits, so that
# the top-k errors (0.75, 0.5, 0.125, 0 for k = 1, 2, 5, 6) differ from every wrong answer's.
_EXAMPLE_LOGITS = np.array(
    [
        [0.1, 2.0, 0.3, -1.0, 0.0, 0.5],
        [1.2, -0.4, 0.3, 0.8, 0.0, -1.1],
        [1.5, 0.2, 0.9, 2.5, -0.3, 0.1],
        [0.2, 0.4, -0.6, 1.1, 0.9, 0.0],
        [-2.0, 1.0, 0.5, 0.4, 0.3, 0.2],
        [0.3, 0.1, 2.2, -0.5, 1.4, 0.6],
        [0.7, 0.6, 0.5, 0.4, 0.3, 0.2],
        [-0.2, 0.9, 0.6, 1.3, 0.0, 0.4],
    ]
)
_EXAMPLE_LABELS = np.array([1, 0, 0, 1, 0, 4, 3, 5])


@check(points=1)
def topk_error_examples(topk_error):
    """topk_error: top-1, top-2, top-5 and top-6 error on eight examples with six classes"""
    for k in (1, 2, 5, 6):
        _check_topk(topk_error, _EXAMPLE_LOGITS, _EXAMPLE_LABELS, k)


@check(points=2, hidden=True)
def topk_error_random(topk_error, seed: int = 0):
    """topk_error: seeded random logits, labels and k"""
    rng = np.random.default_rng(seed)
    for _ in range(6):
        n, classes = int(rng.integers(5, 60)), int(rng.integers(2, 30))
        logits = rng.standard_normal((n, classes))
        y = rng.integers(0, classes, n)
        _check_topk(topk_error, logits, y, int(rng.integers(1, classes + 1)))
    # float32 logits and a k equal to the number of classes (every label found)
    logits = rng.standard_normal((10, 4)).astype(np.float32)
    _check_topk(topk_error, logits, rng.integers(0, 4, 10), 4)


# ---------------------------------------------------------------------------------------------
# vgg_block
# ---------------------------------------------------------------------------------------------


def _leaf_types(module) -> list:
    """The layer types of a student's block without its containers."""
    return [t for t in probe(module, "layer_types") if t not in ("Sequential", "ModuleList")]


def _check_vgg_block(vgg_block, in_channels: int, out_channels: int, num_convs: int, size: int, rng):
    from cnnlib.pytorch.models import vgg_block as reference_block

    name = f"vgg_block({in_channels}, {out_channels}, {num_convs})"
    block = build_module(vgg_block, (in_channels, out_channels, num_convs), name)
    kind = probe(block, "class_name")
    if kind != "Sequential":
        fail(f"{name} returned a {kind}; return an nn.Sequential of the layers")
    types = _leaf_types(block)
    expected = ["Conv2d", "ReLU"] * num_convs + ["MaxPool2d"]
    if types != expected:
        convs, relus = types.count("Conv2d"), types.count("ReLU")
        if convs == num_convs and relus == 0:
            fail(f"{name} has no ReLU: put one after EVERY convolution. Without them the {num_convs} convolutions compose into a single linear map, and the stack is no more expressive than one large convolution")
        if convs == num_convs and relus < num_convs:
            fail(f"{name} has {relus} ReLU(s) for {num_convs} convolutions: VGG puts a ReLU after every 3x3 convolution, not only at the end of the block")
        if convs != num_convs:
            fail(f"{name} has {convs} convolutions; it should have num_convs = {num_convs}")
        if "MaxPool2d" not in types:
            fail(f"{name} does not end with a 2x2 max pool (nn.MaxPool2d(kernel_size=2, stride=2)), which halves the height and width")
        if "BatchNorm2d" in types:
            fail(f"{name} has batch norm layers: the VGG block of the exercise is convolution + ReLU only, then the pool")
        fail(f"{name} has the layers {types}; it should have {expected} (each convolution followed by a ReLU, then the max pool)")
    reference = reference_block(in_channels, out_channels, num_convs)
    no_bias = sum(p.numel() for n, p in reference.named_parameters() if n.endswith("weight"))
    expect_layout(
        block,
        reference,
        name,
        count_mistakes=[Mistake(no_bias, "your convolutions have no bias; VGG's convolutions have one bias per filter (bias=True, the default)")],
    )
    out_size = size // 2
    expect_output_shape(
        block,
        (2, in_channels, size, size),
        (2, out_channels, out_size, out_size),
        name,
        f"3x3 convolutions with padding 1 keep {size}x{size}; the 2x2 max pool with stride 2 gives {out_size}x{out_size}",
    )
    x = rng.standard_normal((2, in_channels, size, size)).astype(np.float32)
    expect_forward(block, reference, x, random_state(reference, rng), name, inputs=f"a random input of shape {x.shape} with the library block's weights")


@check(points=2)
def vgg_block_layers(vgg_block):
    """vgg_block: the layers, parameters, output shape and output of vgg_block(3, 8, 2) on 8x8 images"""
    _check_vgg_block(vgg_block, 3, 8, 2, 8, np.random.default_rng(11))


@check(points=2, hidden=True)
def vgg_block_random(vgg_block, seed: int = 0):
    """vgg_block: seeded random channels, numbers of convolutions and (odd) image sizes"""
    rng = np.random.default_rng(seed)
    for _ in range(3):
        _check_vgg_block(vgg_block, int(rng.integers(1, 6)), int(rng.integers(2, 9)), int(rng.integers(1, 5)), int(rng.integers(4, 10)), rng)


# ---------------------------------------------------------------------------------------------
# InceptionModule
# ---------------------------------------------------------------------------------------------


def _inception_counts(cin, c1, c3r, c3, c5r, c5, pp) -> dict:
    """Parameter counts of the Inception module and of its usual wrong versions."""
    convs = [(cin, c1, 1), (cin, c3r, 1), (c3r, c3, 3), (cin, c5r, 1), (c5r, c5, 5), (cin, pp, 1)]
    weights = sum(arith.conv_param_count(i, o, k, bias=False) for i, o, k in convs)
    channels = sum(o for _, o, _ in convs)
    bn = 2 * channels
    no_reduce = [(cin, c1, 1), (cin, c3, 3), (cin, c5, 5), (cin, pp, 1)]
    return {
        "right": weights + bn,
        "bias_and_bn": weights + channels + bn,
        "no_bn": weights + channels,
        "no_bn_no_bias": weights,
        "no_reduce": sum(arith.conv_param_count(i, o, k, bias=False) for i, o, k in no_reduce) + 2 * (c1 + c3 + c5 + pp),
        "no_pool_proj": weights - arith.conv_param_count(cin, pp, 1, bias=False) + bn - 2 * pp,
    }


def _inception_variants(reference, x: np.ndarray, widths: tuple) -> list[Mistake]:
    """Outputs of wrong Inception modules with the reference's weights, on ``x``."""
    import torch
    import torch.nn.functional as F

    def unit(seq, t, relu=True):  # conv_bn_relu = Sequential(conv, bn, relu)
        t = seq[1](seq[0](t))
        return F.relu(t) if relu else t

    xt = torch.as_tensor(x, dtype=torch.float32)
    mistakes = []
    with torch.no_grad():
        r = reference.eval()
        b1, b3, b5, bp = r.branch1(xt), r.branch3(xt), r.branch5(xt), r.branch_pool(xt)
        for order, label in (((b3, b1, b5, bp), "3x3, 1x1, 5x5, pool"), ((b1, b5, b3, bp), "1x1, 5x5, 3x3, pool"), ((bp, b1, b3, b5), "pool, 1x1, 3x3, 5x5"), ((b1, b3, b5, bp)[::-1], "pool, 5x5, 3x3, 1x1")):
            mistakes.append(Mistake(torch.cat(order, 1).double().numpy(), f"your branches are concatenated in the order {label}: concatenate them as 1x1, 3x3, 5x5, pool (the channel order of the exercise)"))
        avg = unit(r.branch_pool[1], F.avg_pool2d(xt, 3, stride=1, padding=1, count_include_pad=True))
        mistakes.append(Mistake(torch.cat((b1, b3, b5, avg), 1).double().numpy(), "your pool branch uses average pooling: GoogLeNet's pool branch is a 3x3 MAX pool (stride 1, padding 1) before the 1x1 projection"))
        no_relu = (
            unit(r.branch1, xt, False),
            unit(r.branch3[1], unit(r.branch3[0], xt, False), False),
            unit(r.branch5[1], unit(r.branch5[0], xt, False), False),
            unit(r.branch_pool[1], F.max_pool2d(xt, 3, 1, 1), False),
        )
        mistakes.append(Mistake(torch.cat(no_relu, 1).double().numpy(), "your module has no ReLU: every convolution is followed by batch norm and then a ReLU"))
        relu_before_bn = []
        for seq, t in ((r.branch1, xt),):
            relu_before_bn.append(seq[1](F.relu(seq[0](t))))
        branch3 = r.branch3[1][1](F.relu(r.branch3[1][0](r.branch3[0][1](F.relu(r.branch3[0][0](xt))))))
        branch5 = r.branch5[1][1](F.relu(r.branch5[1][0](r.branch5[0][1](F.relu(r.branch5[0][0](xt))))))
        pool = r.branch_pool[1][1](F.relu(r.branch_pool[1][0](F.max_pool2d(xt, 3, 1, 1))))
        mistakes.append(Mistake(torch.cat((relu_before_bn[0], branch3, branch5, pool), 1).double().numpy(), "your units apply the ReLU before the batch norm: the order is convolution, batch norm, ReLU"))
    return mistakes


def _check_inception(InceptionModule, widths: tuple, size: int, rng, *, forward: bool = True):
    from cnnlib.pytorch.models import InceptionModule as Reference

    cin, c1, c3r, c3, c5r, c5, pp = widths
    name = f"InceptionModule{widths}"
    module = build_module(InceptionModule, widths, name)
    out_channels = c1 + c3 + c5 + pp
    expect_output_shape(
        module,
        (2, cin, size, size),
        (2, out_channels, size, size),
        name,
        f"the four branches keep the {size}x{size} size (padding 1 for the 3x3 convolution and the pool, 2 for the 5x5) and their channels add up: c1 + c3 + c5 + pool_proj = {out_channels}",
    )
    counts = _inception_counts(*widths)
    reference = Reference(*widths)
    assert sum(p.numel() for p in reference.parameters()) == counts["right"]
    expect_layout(
        module,
        reference,
        name,
        count_mistakes=[
            Mistake(counts["bias_and_bn"], "your convolutions have biases: a batch norm follows each one and its shift cancels a bias, so create them with bias=False"),
            Mistake(counts["no_bn"], "your module has no batch norm: follow every convolution with nn.BatchNorm2d and then a ReLU"),
            Mistake(counts["no_bn_no_bias"], "your module has no batch norm: follow every convolution with nn.BatchNorm2d and then a ReLU"),
            Mistake(counts["no_reduce"], "your 3x3 and 5x5 convolutions read the input directly: first reduce the channels with a 1x1 convolution to c3_reduce (c5_reduce), that is what saves the parameters"),
            Mistake(counts["no_pool_proj"], "your pool branch has no 1x1 projection: after the 3x3 max pool, a 1x1 convolution maps the input's channels to pool_proj"),
        ],
        order_hint="create the branches in the order 1x1, 3x3 (its 1x1 reduction first), 5x5 (its reduction first), pool, each convolution followed by its batch norm",
    )
    if forward:
        x = rng.standard_normal((2, cin, size, size)).astype(np.float32)
        state = random_state(reference, rng)
        load(reference, state)
        expect_forward(module, reference, x, state, name, mistakes=_inception_variants(reference, x, widths), inputs=f"a random input of shape {x.shape} with the library module's weights")


@check(points=2)
def inception_shapes(InceptionModule):
    """InceptionModule: output shape, parameter count and layers of a small module (and of inception 3a)"""
    _check_inception(InceptionModule, (8, 4, 3, 6, 2, 3, 2), 6, np.random.default_rng(3), forward=False)
    _check_inception(InceptionModule, (192, 64, 96, 128, 16, 32, 32), 4, np.random.default_rng(4), forward=False)


@check(points=1)
def inception_forward(InceptionModule):
    """InceptionModule: the output of a small module with the library module's weights (eval mode)"""
    _check_inception(InceptionModule, (8, 4, 3, 6, 2, 3, 2), 6, np.random.default_rng(5))


@check(points=2, hidden=True)
def inception_random(InceptionModule, seed: int = 0):
    """InceptionModule: seeded random widths and image sizes, outputs with random weights"""
    rng = np.random.default_rng(seed)
    for _ in range(3):
        widths = (int(rng.integers(2, 9)),) + tuple(int(v) for v in rng.integers(1, 7, size=6))
        _check_inception(InceptionModule, widths, int(rng.integers(3, 9)), rng)


# ---------------------------------------------------------------------------------------------
# Parameter counts of VGG-16 and AlexNet
# ---------------------------------------------------------------------------------------------


def _model_counts(model) -> dict:
    """All parameters, and the wrong counts: weights only, convolutions only, dense layers only."""
    from torch import nn

    params = dict(model.named_parameters())
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    denses = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return {
        "all": sum(p.numel() for p in params.values()),
        "weights": sum(p.numel() for n, p in params.items() if n.endswith("weight")),
        "convs": sum(p.numel() for m in convs for p in m.parameters()),
        "denses": sum(p.numel() for m in denses for p in m.parameters()),
    }


def _on_meta(build):
    """Build a library model without allocating its weights (only the shapes are needed)."""
    import torch

    with torch.device("meta"):
        return build()


def unanswered(value, name: str) -> None:
    """None (the released placeholder) or an undefined name reads as an unanswered question."""
    if value is None or isinstance(value, Missing):
        raise NotWrittenYet(f"{name} is not set yet: compute it and run its cell")


def _compare_count(value, expected: int, name: str, mistakes: list[Mistake]) -> None:
    unanswered(value, name)
    got = as_int(value, name)
    if got == expected:
        return
    for mistake in mistakes:
        if int(mistake.output) == got:
            fail(f"{name}: {mistake.explanation}")
    ratio = got / expected
    fail(f"{name} = {got:,} is not the parameter count (it is {ratio:.3g} times the right one); add up (k*k*C_in + 1)*C_out for every convolution and (n_in + 1)*n_out for every dense layer")


@check(points=1)
def vgg16_parameter_count(vgg16_params):
    """vgg16_params: the number of parameters of VGG-16 for 1000 classes"""
    from cnnlib.pytorch.models import VGG

    counts = _model_counts(_on_meta(lambda: VGG(16)))
    wrong_flatten = counts["all"] - arith.fc_param_count(512 * 7 * 7, 4096) + arith.fc_param_count(512 * 14 * 14, 4096)
    _compare_count(
        vgg16_params,
        counts["all"],
        "vgg16_params",
        [
            Mistake(counts["weights"], "you counted the weights but not the biases: every convolution filter and every dense unit has one bias"),
            Mistake(counts["convs"], "you counted only the 13 convolutions: the three dense layers (4096, 4096, 1000) hold most of the parameters"),
            Mistake(counts["denses"], "you counted only the three dense layers: add the 13 convolutions"),
            Mistake(wrong_flatten, "your first dense layer reads a 14x14 map: there are five 2x2 max pools, so a 224x224 image ends as 512 maps of 7x7 (25,088 inputs)"),
        ],
    )


@check(points=1)
def alexnet_parameter_count(alexnet_params):
    """alexnet_params: the number of parameters of AlexNet (single-GPU layout, 1000 classes)"""
    from cnnlib.pytorch.models import AlexNet

    counts = _model_counts(_on_meta(AlexNet))
    c, f = arith.conv_param_count, arith.fc_param_count
    dense = f(256 * 6 * 6, 4096) + f(4096, 4096) + f(4096, 1000)
    paper_grouped = c(3, 96, 11) + c(96, 256, 5, groups=2) + c(256, 384, 3) + c(384, 384, 3, groups=2) + c(384, 256, 3, groups=2) + dense
    paper_full = c(3, 96, 11) + c(96, 256, 5) + c(256, 384, 3) + c(384, 384, 3) + c(384, 256, 3) + dense
    _compare_count(
        alexnet_params,
        counts["all"],
        "alexnet_params",
        [
            Mistake(paper_grouped, "you counted the paper's two-GPU AlexNet (96, 256, 384, 384, 256 filters, grouped convolutions); the exercise asks for the single-GPU layout with 64, 192, 384, 256 and 256 filters"),
            Mistake(paper_full, "you counted the paper's filter numbers (96, 256, 384, 384, 256); the exercise asks for the single-GPU layout with 64, 192, 384, 256 and 256 filters"),
            Mistake(counts["weights"], "you counted the weights but not the biases: every convolution filter and every dense unit has one bias"),
            Mistake(counts["convs"], "you counted only the five convolutions: the three dense layers hold most of the parameters"),
            Mistake(counts["denses"], "you counted only the three dense layers: add the five convolutions"),
        ],
    )
