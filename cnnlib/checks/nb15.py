"""Checks for notebook 15, efficient convolutions.

The counts are compared with :mod:`cnnlib.arithmetic.efficient` (itself tested against
``sum(p.numel())`` of the :mod:`cnnlib.pytorch.models` blocks and against multiply-adds measured with
forward hooks); group norm with :func:`cnnlib.reference.groupnorm_forward` (tested against
``torch.nn.functional.group_norm``); ``he_init`` statistically, with a seeded generator built where
the student's code runs, so that every check is deterministic and a correct answer passes with
overwhelming probability (the tolerances are six standard errors).

The checks recognise: the depthwise step counted as a standard convolution (or the whole layer as
one), the pointwise step or the biases forgotten, the multiply-adds of the depthwise step multiplied
by the output channels, FLOPs instead of MACs; the inverted residual's batch norms forgotten (or
counted with their running statistics, or the projection's left out because the bottleneck is
"linear"), biases added, the expansion applied to the output channels, an expansion layer where
``expansion = 1`` or none where it is larger, a projection shortcut added; group norm over the wrong
axes (per channel: instance norm; over the batch: batch norm; over all channels: layer norm),
interleaved groups, scale and shift per group instead of per channel, the unbiased variance, eps
left out; He initialisation with the fan-out, with ``1 / fan_in`` (Xavier's variance for equal
fans, too small for a ReLU), with Xavier's ``2 / (fan_in + fan_out)``, with the kernel left out of
the fan-in, with the variance passed as the standard deviation, a uniform distribution (the
exercise asks for a normal one), weights that do not come from the generator.
"""

from __future__ import annotations

import math

import numpy as np

from cnnlib import arithmetic as arith
from cnnlib.reference.init import fan_in_and_fan_out as _fans
from cnnlib.reference.normalization import groupnorm_forward as _ref_groupnorm_forward

from .core import Construct, Mistake, as_array, as_int, call, call_expecting_error, check, describe, expect_close, fail, is_hidden
from .forbid import NUMPY_ONLY

#: Module prefixes the student's code may not import while it is graded.
FORBIDDEN_IMPORTS = NUMPY_ONLY.modules
IMPORT_REASON = (
    "these exercises ask you to write the counts, group norm and the initialisation yourself with "
    "NumPy and Python arithmetic, so libraries that already do them are switched off while your answers are graded"
)


def _rng(seed: int) -> Construct:
    """A ``np.random.Generator`` made where the student's function runs."""
    return Construct("numpy.random:default_rng", int(seed))


def _expect_count(value, expected: int, name: str, mistakes: list[Mistake], inputs: str, formula: str) -> None:
    """Compare a whole-number answer; name the first mistake whose count it equals."""
    got = as_int(value, name)
    if got == expected:
        return
    for mistake in mistakes:
        if mistake.output is not None and int(mistake.output) == got and int(mistake.output) != expected:
            fail(f"{name}: {mistake.explanation}", f"On {inputs}: you returned {got:,}, the answer is {expected:,}.")
    fail(f"{name} returned {got:,}, which is wrong; it should be {formula}", f"On {inputs}: the answer is {expected:,}.")


# ---------------------------------------------------------------------------------------------
# depthwise_separable_params
# ---------------------------------------------------------------------------------------------


def _separable_param_mistakes(c_in: int, c_out: int, k: int) -> list[Mistake]:
    kk = k * k
    return [
        Mistake((kk * c_in + 1) * c_out, "this is the count of a standard k x k convolution from c_in to c_out channels; a depthwise-separable convolution replaces it by a depthwise k x k convolution (one k x k filter per input channel) and a pointwise 1 x 1 convolution"),
        Mistake((kk * c_in + 1) * c_in + (c_in + 1) * c_out, "the depthwise step is counted as a standard convolution (each of its c_in filters spanning all c_in channels); in a depthwise convolution each filter sees ONE input channel: k * k weights and a bias per channel"),
        Mistake((kk + 1) * c_in, "the pointwise 1 x 1 convolution is missing: after the depthwise step, (c_in + 1) * c_out parameters mix the channels"),
        Mistake(kk * c_in + c_in * c_out, "the biases are missing: both convolutions have one bias per output channel (c_in for the depthwise step, c_out for the pointwise one)"),
        Mistake(kk * c_in + (c_in + 1) * c_out, "the depthwise step's biases are missing: it has one bias per channel, c_in of them"),
        Mistake((kk + 1) * c_in + c_in * c_out, "the pointwise step's biases are missing: it has one bias per output channel, c_out of them"),
        Mistake((kk + 1) * c_in + (c_in + 1) * c_in, "the pointwise convolution maps to c_out channels, not c_in: it has (c_in + 1) * c_out parameters"),
        Mistake((k + 1) * c_in + (c_in + 1) * c_out, "the kernel is treated as 1D: a k x k depthwise filter has k * k weights"),
        Mistake((kk + 1) * c_in * c_out + (c_in + 1) * c_out, "you gave the depthwise step c_out filters per input channel; it has one k x k filter per input channel, and the pointwise step makes the c_out channels"),
    ]


def _check_separable_params(fn, c_in: int, c_out: int, k: int) -> None:
    name = "depthwise_separable_params"
    value = call(fn, c_in, c_out, k, forbid=NUMPY_ONLY)
    _expect_count(
        value,
        arith.depthwise_separable_params(c_in, c_out, k),
        name,
        _separable_param_mistakes(c_in, c_out, k),
        f"c_in={c_in}, c_out={c_out}, k={k}",
        "(k * k + 1) * c_in for the depthwise step plus (c_in + 1) * c_out for the pointwise step",
    )


@check(points=1)
def depthwise_separable_params_examples(depthwise_separable_params):
    """depthwise_separable_params: 3x3 and 5x5 layers with as many, more and fewer output channels"""
    for c_in, c_out, k in ((64, 128, 3), (32, 32, 3), (48, 16, 5)):
        _check_separable_params(depthwise_separable_params, c_in, c_out, k)


@check(points=2, hidden=True)
def depthwise_separable_params_random(depthwise_separable_params, seed: int = 0):
    """depthwise_separable_params: seeded random channels and kernels"""
    rng = np.random.default_rng(seed)
    for _ in range(8):
        _check_separable_params(depthwise_separable_params, int(rng.integers(2, 513)), int(rng.integers(2, 513)), int(rng.choice([1, 3, 5, 7])))


# ---------------------------------------------------------------------------------------------
# depthwise_separable_macs
# ---------------------------------------------------------------------------------------------


def _separable_mac_mistakes(c_in: int, c_out: int, k: int, h: int, w: int) -> list[Mistake]:
    kk, hw = k * k, h * w
    good = hw * c_in * (kk + c_out)
    mistakes = [
        Mistake(hw * c_in * kk * c_out, "this is the count of a standard k x k convolution, H' * W' * c_out * k * k * c_in; a depthwise-separable convolution does a depthwise step (H' * W' * c_in * k * k) and a pointwise step (H' * W' * c_in * c_out)"),
        Mistake(hw * c_in * kk * c_out + hw * c_in * c_out, "the depthwise step's multiply-adds are multiplied by c_out; the depthwise step filters each of the c_in channels ONCE (H' * W' * c_in * k * k), whatever the number of output channels"),
        Mistake(hw * c_in * kk, "the pointwise step is missing: mixing c_in channels into c_out at every position costs H' * W' * c_in * c_out"),
        Mistake(hw * c_in * c_out, "the depthwise step is missing: filtering each channel with its k x k kernel costs H' * W' * c_in * k * k"),
        Mistake(2 * good, "you counted FLOPs (a multiply and an add per product); count each multiply-accumulate once"),
        Mistake(good + hw * (c_in + c_out), "the bias additions are counted; a MAC is a multiply and its accumulation, and the biases are not counted"),
        Mistake(hw * c_in * (k + c_out), "the kernel is treated as 1D: each depthwise output sums k * k products"),
        Mistake(hw * c_in * kk + hw * c_in * c_in, "the pointwise step maps to c_out channels: it costs H' * W' * c_in * c_out"),
    ]
    if hw != h:
        mistakes.append(Mistake(h * c_in * (kk + c_out), "only one spatial axis of the output is counted: there are h_out * w_out output positions"))
    return mistakes


def _check_separable_macs(fn, c_in: int, c_out: int, k: int, h: int, w: int) -> None:
    name = "depthwise_separable_macs"
    value = call(fn, c_in, c_out, k, h, w, forbid=NUMPY_ONLY)
    _expect_count(
        value,
        arith.depthwise_separable_macs(c_in, c_out, k, h, w),
        name,
        _separable_mac_mistakes(c_in, c_out, k, h, w),
        f"c_in={c_in}, c_out={c_out}, k={k}, h_out={h}, w_out={w}",
        "h_out * w_out * c_in * k * k (depthwise) plus h_out * w_out * c_in * c_out (pointwise)",
    )


@check(points=1)
def depthwise_separable_macs_examples(depthwise_separable_macs):
    """depthwise_separable_macs: a MobileNet layer on 14x14 maps, a 5x5 layer with a rectangular output"""
    _check_separable_macs(depthwise_separable_macs, 512, 512, 3, 14, 14)
    _check_separable_macs(depthwise_separable_macs, 32, 64, 3, 112, 112)
    _check_separable_macs(depthwise_separable_macs, 24, 40, 5, 28, 20)


@check(points=2, hidden=True)
def depthwise_separable_macs_random(depthwise_separable_macs, seed: int = 0):
    """depthwise_separable_macs: seeded random channels, kernels and output sizes"""
    rng = np.random.default_rng(seed)
    for _ in range(8):
        h, w = int(rng.integers(2, 65)), int(rng.integers(2, 65))
        _check_separable_macs(depthwise_separable_macs, int(rng.integers(2, 257)), int(rng.integers(2, 257)), int(rng.choice([3, 5, 7])), h, w)


# ---------------------------------------------------------------------------------------------
# inverted_residual_params
# ---------------------------------------------------------------------------------------------


def _inverted_count(c_in, c_out, hidden, k, *, expand: bool, norm: int = 2, bias: int = 0, depthwise_standard=False) -> int:
    """The count of an inverted residual with the given pieces (``norm`` parameters per normalised channel)."""
    total = 0
    if expand:
        total += (c_in + bias) * hidden + norm * hidden
    total += (k * k * (hidden if depthwise_standard else 1) + bias) * hidden + norm * hidden
    return total + (hidden + bias) * c_out + norm * c_out


def _inverted_mistakes(c_in: int, c_out: int, t: int, k: int) -> list[Mistake]:
    hidden, expand = t * c_in, t > 1
    good = _inverted_count(c_in, c_out, hidden, k, expand=expand)
    mistakes = [
        Mistake(_inverted_count(c_in, c_out, hidden, k, expand=expand, norm=0), "the batch norms are missing: each of the block's convolutions is followed by a batch norm with a scale and a shift per channel (2 parameters per channel)"),
        Mistake(good - 2 * c_out, "the projection's batch norm is missing: the linear bottleneck has no activation after the last 1 x 1 convolution, but it does have its batch norm"),
        Mistake(_inverted_count(c_in, c_out, hidden, k, expand=expand, norm=4), "you counted 4 numbers per batch-norm channel; the running mean and variance are buffers, not parameters: a batch norm has 2 parameters per channel (scale and shift)"),
        Mistake(_inverted_count(c_in, c_out, hidden, k, expand=expand, bias=1), "you gave the convolutions biases; in the inverted residual each convolution is followed by a batch norm, whose shift makes a bias useless, so they have none"),
        Mistake(_inverted_count(c_in, c_out, hidden, k, expand=expand, depthwise_standard=True), "the middle convolution is counted as a standard convolution; it is depthwise: one k x k filter per channel, k * k * hidden weights"),
    ]
    if t == 1:
        mistakes.append(Mistake(_inverted_count(c_in, c_out, hidden, k, expand=True), "with expansion = 1 the block has no expansion layer (a 1 x 1 convolution from c_in to c_in channels would add nothing the projection cannot do): start with the depthwise convolution"))
    else:
        mistakes.append(Mistake(_inverted_count(c_in, c_out, hidden, k, expand=False), "the expansion layer is missing: with expansion > 1 the block starts with a 1 x 1 convolution from c_in to expansion * c_in channels, then its batch norm"))
    if c_out != c_in:
        mistakes.append(Mistake(_inverted_count(c_in, c_out, t * c_out, k, expand=expand), "the expansion multiplies the INPUT channels: the middle of the block has expansion * c_in channels"))
        mistakes.append(Mistake(good + c_in * c_out + 2 * c_out, "you added a projection shortcut (1 x 1 convolution and batch norm); MobileNet-v2 has no shortcut when the shapes differ, and the identity shortcut has no parameters"))
        mistakes.append(Mistake(good + c_in * c_out, "you added a 1 x 1 projection shortcut; MobileNet-v2 adds the input only when the shapes match, and that identity has no parameters"))
    if k != 3:
        mistakes.append(Mistake(_inverted_count(c_in, c_out, hidden, 3, expand=expand), "the kernel size k is ignored: the depthwise convolution has k * k weights per channel"))
    return mistakes


def _check_inverted(fn, c_in: int, c_out: int, t: int, k: int | None = None) -> None:
    name = "inverted_residual_params"
    args = (c_in, c_out, t) if k is None else (c_in, c_out, t, k)
    value = call(fn, *args, forbid=NUMPY_ONLY)
    k = 3 if k is None else k
    _expect_count(
        value,
        arith.inverted_residual_params(c_in, c_out, t, k),
        name,
        _inverted_mistakes(c_in, c_out, t, k),
        f"c_in={c_in}, c_out={c_out}, expansion={t}, k={k}",
        "(when expansion > 1) c_in * h + 2h, plus k * k * h + 2h, plus h * c_out + 2 * c_out, with h = expansion * c_in",
    )


@check(points=2)
def inverted_residual_params_examples(inverted_residual_params):
    """inverted_residual_params: MobileNet-v2 blocks with and without the residual, and expansion 1"""
    _check_inverted(inverted_residual_params, 24, 24, 6)
    _check_inverted(inverted_residual_params, 24, 32, 6)
    _check_inverted(inverted_residual_params, 32, 16, 1)
    _check_inverted(inverted_residual_params, 64, 96, 4, 5)


@check(points=2, hidden=True)
def inverted_residual_params_random(inverted_residual_params, seed: int = 0):
    """inverted_residual_params: seeded random channels, expansions and kernels"""
    rng = np.random.default_rng(seed)
    for index in range(8):
        c_in = int(rng.integers(4, 161))
        c_out = c_in if index % 3 == 0 else int(rng.integers(4, 161))
        t = 1 if index == 1 else int(rng.choice([2, 3, 4, 6]))
        k = None if index % 2 else int(rng.choice([3, 5, 7]))
        _check_inverted(inverted_residual_params, c_in, c_out, t, k)


# ---------------------------------------------------------------------------------------------
# groupnorm_forward
# ---------------------------------------------------------------------------------------------


def _normalise(x, axes, *, ddof=0, eps=1e-5, sqrt=True):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    return (x - mean) / (np.sqrt(var + eps) if sqrt else var + eps)


def _affine(x_hat, gamma, beta):
    shape = (1, -1) + (1,) * (x_hat.ndim - 2)
    return x_hat * gamma.reshape(shape) + beta.reshape(shape)


def _grouped(x, G, *, ddof=0, eps=1e-5, sqrt=True, interleaved=False):
    """x_hat of group norm (consecutive channels per group, or every G-th channel when ``interleaved``)."""
    N, C = x.shape[:2]
    if interleaved:  # channel c in group c % G
        view = x.reshape(N, C // G, G, *x.shape[2:])
        axes = (1, *range(3, view.ndim))
    else:
        view = x.reshape(N, G, C // G, *x.shape[2:])
        axes = tuple(range(2, view.ndim))
    return _normalise(view, axes, ddof=ddof, eps=eps, sqrt=sqrt).reshape(x.shape)


def _groupnorm_mistakes(x, gamma, beta, G, eps) -> list[Mistake]:
    C = x.shape[1]
    right = _grouped(x, G, eps=eps)
    per_group = np.repeat(np.arange(G), C // G)
    mistakes = [
        Mistake(_affine(_normalise(x, (2, 3), eps=eps), gamma, beta), "your statistics are per channel (each channel of each example over its positions): that is instance norm. Group norm takes one mean and variance per example and GROUP of C // num_groups consecutive channels: reshape x to (N, num_groups, C // num_groups, H, W) and average over the last three axes"),
        Mistake(_affine(_normalise(x, (0, 2, 3), eps=eps), gamma, beta), "your statistics are per channel over the batch: that is batch norm. Group norm never averages over examples: one mean and variance per example and group"),
        Mistake(_affine(_normalise(x, (1, 2, 3), eps=eps), gamma, beta), "your statistics are over all the channels of each example: that is layer norm (group norm with one group). Split the channels into num_groups groups and take one mean and variance per example and group"),
        Mistake(_affine(_normalise(x.reshape(x.shape[0], G, -1), (0, 2), eps=eps).reshape(x.shape), gamma, beta), "your statistics are per group but averaged over the batch as well; group norm takes them per example: average over the group's channels and the positions only"),
        Mistake(_affine(_grouped(x, G, eps=eps, interleaved=True), gamma, beta), "your groups take every num_groups-th channel; a group is C // num_groups CONSECUTIVE channels (group g holds channels g * C // num_groups to (g + 1) * C // num_groups - 1): reshape to (N, num_groups, C // num_groups, H, W)"),
        Mistake(_affine(right, gamma[per_group], beta[per_group]), "you applied gamma and beta per group (gamma[g] for every channel of group g); they have one entry per CHANNEL: scale channel c by gamma[c] and shift it by beta[c]"),
        Mistake(_affine(_grouped(x, G, eps=eps, ddof=1), gamma, beta), "you normalised with the unbiased variance (divided by n - 1); group norm divides by the number of values n, as np.var does by default"),
        Mistake(_affine(_grouped(x, G, eps=0.0), gamma, beta), "you left out eps: divide by sqrt(var + eps)"),
        Mistake(_affine(_grouped(x, G, eps=eps, sqrt=False), gamma, beta), "you divided by the variance; divide by the standard deviation sqrt(var + eps)"),
        Mistake(_affine(right, beta, gamma), "gamma and beta are swapped: gamma scales the normalised values and beta is added"),
        Mistake(right, "gamma and beta are not applied: return gamma[c] * x_hat + beta[c] for each channel c"),
    ]
    return mistakes


def _groupnorm_case(rng, shape, G):
    """x whose channels have different means and scales (one group with a tiny spread, where eps matters)."""
    N, C = shape[:2]
    loc = rng.normal(0, 3, size=(N, C, 1, 1))
    scale = rng.uniform(0.5, 3, size=(1, C, 1, 1))
    x = rng.standard_normal(shape) * scale + loc
    x[0, : C // G] *= 0.002  # a group whose spread is comparable to sqrt(eps)
    gamma = rng.uniform(0.5, 2, size=C) * rng.choice([-1.0, 1.0], size=C)
    beta = rng.normal(0, 1, size=C)
    return x, gamma, beta


def _check_groupnorm(fn, x, gamma, beta, G, eps=1e-5):
    name = "groupnorm_forward"
    value = call(fn, x, gamma, beta, G, eps=eps, forbid=NUMPY_ONLY)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"{name} returned {describe(value)}; it should return a pair (out, cache), the cache holding what a backward pass would need")
    expected, _ = _ref_groupnorm_forward(x, gamma, beta, G, eps)
    expect_close(
        value[0],
        expected,
        f"{name} output",
        mistakes=_groupnorm_mistakes(x, gamma, beta, G, eps),
        why="the output has the shape of x",
        inputs=f"x of shape {x.shape}, num_groups={G}, eps={eps:g}",
    )


@check(points=2)
def groupnorm_forward_examples(groupnorm_forward):
    """groupnorm_forward: one mean and variance per example and group of consecutive channels; gamma and beta per channel"""
    rng = np.random.default_rng(15)
    for shape, G in (((3, 6, 4, 5), 3), ((2, 8, 3, 3), 2), ((1, 4, 5, 4), 2)):
        x, gamma, beta = _groupnorm_case(rng, shape, G)
        _check_groupnorm(groupnorm_forward, x, gamma, beta, G)


@check(points=1)
def groupnorm_forward_errors(groupnorm_forward):
    """groupnorm_forward: a ValueError that names num_groups when it does not divide the channels"""
    x = np.random.default_rng(16).standard_normal((2, 6, 3, 3))
    message = call_expecting_error(groupnorm_forward, x, np.ones(6), np.zeros(6), 4, error=ValueError, forbid=NUMPY_ONLY)
    if "num_groups" not in message:
        fail(f"groupnorm_forward raised ValueError({message!r}); name the argument in the message, e.g. \"num_groups must divide the number of channels C = 6, got 4\"")


@check(points=2, hidden=True)
def groupnorm_forward_random(groupnorm_forward, seed: int = 0):
    """groupnorm_forward: seeded random shapes, numbers of groups (1 and C included) and eps"""
    rng = np.random.default_rng(seed)
    for index in range(6):
        G = int(rng.integers(1, 5)) if index > 1 else int(rng.integers(2, 5))  # the first two: 2 or more groups ...
        C = G * int(rng.integers(1, 4)) if index > 1 else G * int(rng.integers(2, 4))  # ... of 2 or more channels
        if index == 4:
            G = 1  # layer norm over (C, H, W)
        if index == 5:
            G = C  # instance norm
        shape = (int(rng.integers(1, 5)), C, int(rng.integers(2, 6)), int(rng.integers(2, 6)))
        x, gamma, beta = _groupnorm_case(rng, shape, G)
        _check_groupnorm(groupnorm_forward, x, gamma, beta, G, eps=float(rng.choice([1e-5, 1e-3])))


# ---------------------------------------------------------------------------------------------
# he_init
# ---------------------------------------------------------------------------------------------

#: A correct answer's sample statistics fall this many standard errors from the truth at most.
SIGMAS = 6


def _variance_mistakes(shape) -> list[tuple[float, str]]:
    """(the variance a wrong answer has, the message), for He initialisation of ``shape``."""
    fan_in, fan_out = _fans(shape)
    receptive = fan_in // shape[1]
    mistakes = [
        (1 / fan_in, "your weights have variance 1 / fan_in: that keeps the scale of a LINEAR layer (Xavier's variance when fan_in = fan_out); after a ReLU half of the signal is cut, so He doubles it: variance 2 / fan_in"),
        (2 / fan_out, "your weights have variance 2 / fan_out; He initialisation for the forward pass uses the fan-IN, the number of inputs each output sums: shape[1] * KH * KW (in_features for a dense layer)"),
        (2 / (fan_in + fan_out), "your weights have Xavier's variance 2 / (fan_in + fan_out); that is meant for linear or tanh layers, and after a ReLU the activations shrink layer after layer: use 2 / fan_in"),
        (1 / (fan_in + fan_out), "your weights have variance 1 / (fan_in + fan_out); He initialisation has variance 2 / fan_in"),
        ((2 / fan_in) ** 2, "your weights have variance (2 / fan_in)^2: you passed the variance 2 / fan_in where the standard deviation goes (rng.normal's scale is the standard deviation: sqrt(2 / fan_in))"),
        (2 / (fan_in * fan_out / receptive), "your fan-in multiplies both channel counts; fan_in is the number of inputs of one output: shape[1] * KH * KW"),
        (1.0, "your weights have variance 1 (a standard normal); scale them to variance 2 / fan_in"),
    ]
    if receptive > 1:
        mistakes.append((2 / shape[1], "your fan-in leaves out the kernel: each output of a convolution sums C * KH * KW inputs, so fan_in = shape[1] * shape[2] * shape[3]"))
        mistakes.append((2 / (shape[1] * shape[2]), "your fan-in uses one side of the kernel only: fan_in = C * KH * KW"))
        mistakes.append((2 / shape[0], "your fan uses shape[0], the number of filters; the fan-in of a convolution is shape[1] * KH * KW"))
    return mistakes


def _he_name(shape) -> str:
    """``he_init((F, C, KH, KW))`` in visible checks; hidden ones do not show their shapes."""
    return "he_init" if is_hidden() else f"he_init({tuple(shape)}, rng)"


def _check_he(fn, shape, seed: int) -> np.ndarray:
    name = _he_name(shape)
    value = call(fn, tuple(shape), _rng(seed), forbid=NUMPY_ONLY)
    w = as_array(value, name, dtype=None)
    if w.shape != tuple(shape):
        fail(f"{name} returned an array of shape {w.shape}; it should have the shape it was given, {tuple(shape)}")
    if not np.issubdtype(w.dtype, np.floating):
        fail(f"{name} returned {w.dtype} values; weights are floating-point numbers (float64)")
    w = w.astype(np.float64)
    if not np.all(np.isfinite(w)):
        fail(f"{name} contains NaN or infinity")
    fan_in, _ = _fans(shape)
    target = 2 / fan_in
    n = w.size
    variance = float(w.var())
    mean = float(w.mean())
    if abs(mean) > SIGMAS * math.sqrt(max(variance, target) / n):
        fail(f"{name}: the weights' mean is {mean:.3g}, far from 0; draw them from a distribution centred on 0 (rng.normal(0.0, std, size=shape))")
    # The excess kurtosis tells the distributions apart: 0 for a normal, -1.2 for a uniform (3 for
    # a Laplace); its standard error for a normal sample is sqrt(24 / n).
    centred = w - mean
    kurtosis = float(np.mean(centred**4) / variance**2 - 3) if variance > 0 else 0.0
    tolerance = SIGMAS * math.sqrt(2 / n)  # relative standard error of a normal sample's variance
    right_variance = abs(variance / target - 1) < tolerance
    if kurtosis < -0.9:
        detail = "with the right variance (that is PyTorch's kaiming_uniform_)" if right_variance else "and not the right variance either"
        fail(f"{name}: your weights look uniformly distributed ({detail}); this exercise asks for a NORMAL distribution with mean 0 and standard deviation sqrt(2 / fan_in): rng.normal(0.0, np.sqrt(2 / fan_in), size=shape)")
    if right_variance:
        if abs(kurtosis) > SIGMAS * math.sqrt(24 / n):
            fail(f"{name}: your weights have the right variance but their distribution is not normal; draw them with rng.normal(0.0, np.sqrt(2 / fan_in), size=shape)")
        return w
    for wrong, message in _variance_mistakes(tuple(shape)):
        if abs(variance / wrong - 1) < tolerance and abs(wrong / target - 1) > 2 * tolerance:
            fail(f"{name}: {message}", f"Your variance is {variance:.4g}; 2 / fan_in = 2 / {fan_in} = {target:.4g}.")
    fail(
        f"{name}: your weights do not have the variance 2 / fan_in (fan_in = shape[1] * KH * KW for a convolution, in_features for a dense layer)",
        f"Your variance is {variance:.4g}; 2 / fan_in = 2 / {fan_in} = {target:.4g}.",
    )


def _check_he_uses_rng(fn, shape) -> None:
    name = _he_name(shape)
    first = as_array(call(fn, tuple(shape), _rng(1), forbid=NUMPY_ONLY), name)
    again = as_array(call(fn, tuple(shape), _rng(1), forbid=NUMPY_ONLY), name)
    other = as_array(call(fn, tuple(shape), _rng(2), forbid=NUMPY_ONLY), name)
    if first.shape != again.shape or not np.array_equal(first, again):
        fail(f"{name} gave different weights for two generators with the same seed: draw them from the rng argument (rng.normal(...)), not from np.random's global functions")
    if np.array_equal(first, other):
        fail(f"{name} gave the same weights for generators with different seeds: draw them from the rng argument")


@check(points=2)
def he_init_examples(he_init):
    """he_init: a dense and a convolutional weight, normal with variance 2 / fan_in, drawn from rng"""
    _check_he_uses_rng(he_init, (64, 32))
    _check_he(he_init, (384, 512), seed=15)  # dense: (out_features, in_features), fan_in = 512
    _check_he(he_init, (128, 32, 3, 3), seed=16)  # convolution: fan_in = 32 * 3 * 3 = 288


@check(points=2, hidden=True)
def he_init_random(he_init, seed: int = 0):
    """he_init: seeded random dense and convolutional shapes (more and fewer filters than channels, non-square kernels)"""
    rng = np.random.default_rng(seed)
    _check_he_uses_rng(he_init, (int(rng.integers(8, 40)), int(rng.integers(8, 40)), 3, 3))
    shapes = [
        (int(rng.integers(100, 400)), int(rng.integers(400, 1000))),  # dense, fan_in > fan_out
        (int(rng.integers(400, 1000)), int(rng.integers(100, 160))),  # dense, fan_out > 2 * fan_in
        (int(rng.integers(96, 160)), int(rng.integers(16, 40)), 3, 3),  # more filters than channels
        (int(rng.integers(16, 40)), int(rng.integers(96, 160)), 3, 3),  # fewer
        (int(rng.integers(96, 160)), int(rng.integers(8, 24)), 5, 3),  # a non-square kernel
        (int(rng.integers(128, 256)), int(rng.integers(256, 512)), 1, 1),  # a 1x1 convolution
    ]
    for shape in shapes:
        _check_he(he_init, shape, seed=int(rng.integers(1_000_000)))
