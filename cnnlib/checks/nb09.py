"""Checks for notebook 09, normalisation and regularisation.

Batch norm is compared with :mod:`cnnlib.reference.normalization` (which is tested against
PyTorch's ``nn.BatchNorm1d``/``nn.BatchNorm2d``); the checks name the usual wrong answers: the
biased variance in the running estimate, the momentum convention reversed, running statistics
updated in evaluation mode, batch statistics used in evaluation, statistics over the wrong axes
(per example, per position, per example and channel), the gradient that ignores how the mean and
variance depend on x. Dropout and augmentation are random, so their checks test properties with an
``np.random.Generator`` built where the student's code runs: the scale of the kept values, the
fraction kept, nothing at test time, that the generator (and only it) drives the randomness, and
that every augmented image is a crop of the zero-padded original, possibly mirrored left-right.
"""

from __future__ import annotations

import numpy as np

from cnnlib.reference.dropout import dropout_forward as _ref_dropout_forward  # noqa: F401 (documents the convention)
from cnnlib.reference.normalization import batchnorm_backward as _ref_bn_backward
from cnnlib.reference.normalization import batchnorm_forward as _ref_bn_forward
from cnnlib.reference.normalization import layernorm_forward as _ref_ln_forward

from .core import CheckFailed, Construct, Mistake, as_array, call, check, describe, expect_close, expect_shape, fail
from .forbid import NUMPY_ONLY

FORBIDDEN_IMPORTS = NUMPY_ONLY.modules
IMPORT_REASON = "the exercises of this notebook are written with NumPy alone; PyTorch appears only in the demonstrations"


def _rng(seed: int) -> Construct:
    """A ``np.random.Generator`` made where the student's function runs."""
    return Construct("numpy.random:default_rng", int(seed))


def _unpack(value, count: int, name: str, what: str) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != count:
        fail(f"{name} returned {describe(value)}; it should return a tuple of {count}: {what}")
    return tuple(value)


# ---------------------------------------------------------------------------------------------
# Batch norm, forward
# ---------------------------------------------------------------------------------------------


def _normalise(x, gamma, beta, axes, *, ddof=0, eps=1e-5, sqrt=True):
    """gamma * (x - mean) / sqrt(var + eps) + beta with statistics over ``axes``; gamma and beta
    broadcast along axis 1 (batch norm) when 1-D, as they are (layer norm) otherwise."""
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    x_hat = (x - mean) / (np.sqrt(var + eps) if sqrt else var + eps)
    if gamma.ndim == 1 and x.ndim > 1:
        shape = (1, -1) + (1,) * (x.ndim - 2)
        gamma, beta = gamma.reshape(shape), beta.reshape(shape)
    return gamma * x_hat + beta


def _bn_axes(x) -> tuple:
    return (0, *range(2, x.ndim))


def _bn_out_mistakes(x, gamma, beta, rm, rv, training, eps) -> list[Mistake]:
    axes = _bn_axes(x)
    mistakes = []
    if training:
        mistakes.append(Mistake(_normalise(x, gamma, beta, axes, ddof=1, eps=eps), "you normalised with the unbiased variance (divided by m - 1); batch norm normalises x with the biased batch variance (divided by m, np.var's default) and uses the unbiased one only for the running estimate"))
        mistakes.append(Mistake(_normalise(x, gamma, beta, axes, eps=0.0), "you left out eps: divide by sqrt(var + eps), which keeps a constant feature from dividing by zero"))
        mistakes.append(Mistake(_normalise(x, gamma, beta, axes, eps=eps, sqrt=False), "you divided by the variance; divide by the standard deviation sqrt(var + eps)"))
        mistakes.append(Mistake(_normalise(x, beta, gamma, axes, eps=eps), "gamma and beta are swapped: gamma scales x_hat and beta is added"))
        if rm is not None:
            shape = (1, -1) + (1,) * (x.ndim - 2)
            running = gamma.reshape(shape) * (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + eps) + beta.reshape(shape)
            mistakes.append(Mistake(running, "in training mode normalise with the batch's own mean and variance; the running estimates are only for evaluation (training=False)"))
        # statistics over the wrong axes
        per_example = tuple(range(1, x.ndim))
        mistakes.append(Mistake(_bn_wrong_axes(x, gamma, beta, per_example, eps), "your statistics are per example (the mean of each example over its features): that is layer norm. Batch norm takes one mean and variance per feature or channel, averaged over the batch: x.mean(axis=0) for (N, D), x.mean(axis=(0, 2, 3)) for (N, C, H, W)"))
        if x.ndim == 4:
            mistakes.append(Mistake(_bn_wrong_axes(x, gamma, beta, (0,), eps), "your statistics are per channel AND position (averaged over the batch axis only); spatial batch norm shares one mean and variance per channel over the batch and all positions: axes (0, 2, 3)"))
            mistakes.append(Mistake(_bn_wrong_axes(x, gamma, beta, (2, 3), eps), "your statistics are per example and channel (averaged over H and W only, instance norm); batch norm averages over the batch too: axes (0, 2, 3)"))
    else:
        mistakes.append(Mistake(_normalise(x, gamma, beta, axes, eps=eps), "in evaluation mode (training=False) normalise with running_mean and running_var, not with the batch's statistics: the output for one example must not depend on the rest of the batch"))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        no_eps = gamma.reshape(shape) * (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape)) + beta.reshape(shape)
        mistakes.append(Mistake(no_eps, "you left out eps: divide by sqrt(running_var + eps) in evaluation too"))
    return mistakes


def _bn_wrong_axes(x, gamma, beta, axes, eps):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return gamma.reshape(shape) * (x - mean) / np.sqrt(var + eps) + beta.reshape(shape)


def _running_mistakes(x, rm, rv, momentum, which: str) -> list[Mistake]:
    axes = _bn_axes(x)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    m = x.size // x.shape[1]
    unbiased = var * m / (m - 1)
    mistakes = []
    if which == "mean":
        mistakes.append(Mistake(momentum * rm + (1 - momentum) * mean, f"the momentum convention is reversed: PyTorch's momentum is the weight of the NEW batch value, running = (1 - momentum) * running + momentum * batch (momentum = {momentum:g} here)"))
        mistakes.append(Mistake(rm, "running_mean did not change: in training mode return running = (1 - momentum) * running + momentum * batch_mean"))
        mistakes.append(Mistake(mean, "you returned the batch mean itself; blend it into the running estimate: (1 - momentum) * running_mean + momentum * batch_mean"))
    else:
        mistakes.append(Mistake((1 - momentum) * rv + momentum * var, f"the running variance uses the biased batch variance; PyTorch updates it with the unbiased one, var * m / (m - 1) with m = {m} values per channel"))
        mistakes.append(Mistake(momentum * rv + (1 - momentum) * unbiased, "the momentum convention is reversed: running = (1 - momentum) * running + momentum * batch (momentum weighs the new value)"))
        mistakes.append(Mistake(momentum * rv + (1 - momentum) * var, "the momentum convention is reversed (running = (1 - momentum) * running + momentum * batch) and the batch variance should be the unbiased one, var * m / (m - 1)"))
        mistakes.append(Mistake(rv, "running_var did not change: in training mode return (1 - momentum) * running_var + momentum * unbiased_batch_var"))
        if x.ndim > 2:
            n = x.shape[0]
            mistakes.append(Mistake((1 - momentum) * rv + momentum * var * n / (n - 1), f"the unbiased correction counts every value of a channel, m = N * H * W = {m}, not just N = {n}"))
    return mistakes


def _check_bn_forward(fn, x, gamma, beta, rm, rv, *, training, momentum=0.1, eps=1e-5, label=""):
    name = "batchnorm_forward"
    value = call(fn, x, gamma, beta, rm, rv, training=training, momentum=momentum, eps=eps, forbid=NUMPY_ONLY)
    out, new_mean, new_var, _ = _unpack(value, 4, name, "(out, running_mean, running_var, cache)")
    exp_out, exp_mean, exp_var, _ = _ref_bn_forward(x, gamma, beta, rm, rv, training=training, momentum=momentum, eps=eps)
    mode = "training" if training else "evaluation"
    inputs = f"{label}x of shape {x.shape} in {mode} mode, momentum={momentum:g}"
    expect_close(
        out,
        exp_out,
        f"{name} output",
        mistakes=_bn_out_mistakes(x, gamma, beta, rm, rv, training, eps),
        why="the output has the shape of x",
        inputs=inputs,
    )
    if training:
        expect_close(new_mean, exp_mean, f"{name} running_mean", mistakes=_running_mistakes(x, rm, rv, momentum, "mean"), why="one value per channel", inputs=inputs)
        expect_close(new_var, exp_var, f"{name} running_var", mistakes=_running_mistakes(x, rm, rv, momentum, "var"), why="one value per channel", inputs=inputs)
    else:
        updated = _ref_bn_forward(x, gamma, beta, rm, rv, training=True, momentum=momentum, eps=eps)
        changed = "in evaluation mode the running statistics stay as they are: return running_mean and running_var unchanged (update them only when training=True)"
        expect_close(new_mean, exp_mean, f"{name} running_mean", mistakes=[Mistake(updated[1], changed)], inputs=inputs)
        expect_close(new_var, exp_var, f"{name} running_var", mistakes=[Mistake(updated[2], changed)], inputs=inputs)
    return value


def _bn_case(rng, shape, *, spread=True):
    C = shape[1]
    # Features with different means and scales (one tiny) so that wrong axes and a missing eps show.
    loc = rng.normal(0, 3, size=C)
    scale = rng.uniform(0.5, 3, size=C)
    if spread:
        scale[0] = 0.004
    bshape = (1, C) + (1,) * (len(shape) - 2)
    x = rng.standard_normal(shape) * scale.reshape(bshape) + loc.reshape(bshape)
    gamma = rng.uniform(0.5, 2, size=C)
    beta = rng.normal(0, 1, size=C)
    rm = rng.normal(0, 1, size=C)
    rv = rng.uniform(0.5, 2, size=C)
    return x, gamma, beta, rm, rv


@check(points=2)
def batchnorm_forward_training(batchnorm_forward):
    """batchnorm_forward, training mode on (N, D): output and running statistics as PyTorch's BatchNorm1d"""
    rng = np.random.default_rng(9)
    x, gamma, beta, rm, rv = _bn_case(rng, (6, 4))
    _check_bn_forward(batchnorm_forward, x, gamma, beta, rm, rv, training=True, momentum=0.1)
    _check_bn_forward(batchnorm_forward, x, gamma, beta, rm, rv, training=True, momentum=0.3)


@check(points=1)
def batchnorm_forward_evaluation(batchnorm_forward):
    """batchnorm_forward, evaluation mode on (N, D): normalise with the running estimates, leave them unchanged"""
    rng = np.random.default_rng(90)
    x, gamma, beta, rm, rv = _bn_case(rng, (5, 3))
    rv[0] = 1e-4  # a small running variance, where eps matters
    _check_bn_forward(batchnorm_forward, x, gamma, beta, rm, rv, training=False, momentum=0.1)


@check(points=1)
def batchnorm_forward_spatial(batchnorm_forward):
    """batchnorm_forward on (N, C, H, W): one mean and variance per channel, as BatchNorm2d"""
    rng = np.random.default_rng(91)
    x, gamma, beta, rm, rv = _bn_case(rng, (4, 3, 5, 6))
    _check_bn_forward(batchnorm_forward, x, gamma, beta, rm, rv, training=True, momentum=0.1)
    _check_bn_forward(batchnorm_forward, x, gamma, beta, rm, rv, training=False, momentum=0.1)


@check(points=2, hidden=True)
def batchnorm_forward_random(batchnorm_forward, seed: int = 0):
    """batchnorm_forward: seeded random shapes, momenta and modes, running statistics carried over steps"""
    rng = np.random.default_rng(seed)
    for ndim in (2, 4, 2, 4):
        shape = (int(rng.integers(2, 9)), int(rng.integers(1, 6)))
        if ndim == 4:
            shape += (int(rng.integers(1, 6)), int(rng.integers(2, 6)))
        x, gamma, beta, rm, rv = _bn_case(rng, shape, spread=bool(rng.integers(0, 2)))
        momentum = float(rng.choice([0.1, 0.05, 0.5, 0.9]))
        eps = float(rng.choice([1e-5, 1e-3]))
        # a few training steps, each starting from the running statistics the previous one returned
        for _ in range(3):
            value = _check_bn_forward(batchnorm_forward, x, gamma, beta, rm, rv, training=True, momentum=momentum, eps=eps)
            rm, rv = np.asarray(value[1], dtype=np.float64), np.asarray(value[2], dtype=np.float64)
            x = x * rng.uniform(0.5, 1.5) + rng.normal()
        _check_bn_forward(batchnorm_forward, x, gamma, beta, rm, rv, training=False, momentum=momentum, eps=eps)


# ---------------------------------------------------------------------------------------------
# Batch norm, backward
# ---------------------------------------------------------------------------------------------


def _check_bn_backward(forward, backward, x, gamma, beta, rm, rv, dout, *, momentum=0.1, eps=1e-5):
    value = call(forward, x, gamma, beta, rm, rv, training=True, momentum=momentum, eps=eps, forbid=NUMPY_ONLY)
    out, _, _, cache = _unpack(value, 4, "batchnorm_forward", "(out, running_mean, running_var, cache)")
    exp_out, _, _, ref_cache = _ref_bn_forward(x, gamma, beta, rm, rv, training=True, momentum=momentum, eps=eps)
    out = as_array(out, "batchnorm_forward output")
    if out.shape != exp_out.shape or not np.allclose(out, exp_out, rtol=1e-6, atol=1e-8):
        fail("batchnorm_backward is checked with the cache from your batchnorm_forward, whose training-mode output is not right yet: make batchnorm_forward pass its checks first")
    try:
        grads = call(backward, dout, cache, forbid=NUMPY_ONLY)
    except CheckFailed as exc:
        if "'tuple' object has no attribute" in str(exc):
            # A NamedTuple cache reaches the grader's copy of batchnorm_backward as a plain tuple.
            fail(f"{exc}\nWhile grading, your cache comes back to batchnorm_backward as a plain tuple: unpack it by position (x_hat, inv_std, ... = cache) or make it a dict")
        raise
    dx, dgamma, dbeta = _unpack(grads, 3, "batchnorm_backward", "(dx, dgamma, dbeta)")
    exp_dx, exp_dgamma, exp_dbeta = _ref_bn_backward(dout, ref_cache)
    axes = _bn_axes(x)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    x_hat = ref_cache.x_hat
    inv_std = ref_cache.inv_std
    dx_hat = dout * gamma.reshape(shape)
    inputs = f"x of shape {x.shape}"
    expect_close(
        dx,
        exp_dx,
        "batchnorm_backward dx",
        mistakes=[
            Mistake(dx_hat * inv_std, "your dx treats the mean and variance as constants (dx = gamma * dout / std); in training they are computed from x, so the gradient flows through them too: dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / std, means over the batch (and space)"),
            Mistake(inv_std * (dx_hat - dx_hat.mean(axis=axes, keepdims=True)), "your dx includes the path through the mean but not through the variance: subtract x_hat * mean(dx_hat * x_hat) as well"),
            Mistake(_ref_bn_backward(dout, ref_cache._replace(x_hat=x_hat, inv_std=inv_std, gamma=None))[0], "your dx forgets gamma: the upstream gradient of x_hat is dx_hat = gamma * dout"),
        ],
        rtol=1e-5,
        atol=1e-7,
        why="dx has the shape of x",
        inputs=inputs,
    )
    expect_close(
        dgamma,
        exp_dgamma,
        "batchnorm_backward dgamma",
        mistakes=[
            Mistake(exp_dbeta, "dgamma equals sum(dout): that is dbeta; dgamma = sum(dout * x_hat) over every axis but the channel axis"),
            Mistake((dout * x).sum(axis=axes), "dgamma multiplies dout by x; gamma scales the normalised x_hat, so dgamma = sum(dout * x_hat)"),
        ],
        rtol=1e-5,
        atol=1e-7,
        why="one value per channel: sum over every axis but axis 1",
        inputs=inputs,
    )
    expect_close(
        dbeta,
        exp_dbeta,
        "batchnorm_backward dbeta",
        mistakes=[Mistake(exp_dgamma, "dbeta equals sum(dout * x_hat): that is dgamma; dbeta = sum(dout)")],
        rtol=1e-5,
        atol=1e-7,
        why="one value per channel: sum over every axis but axis 1",
        inputs=inputs,
    )


@check(points=2)
def batchnorm_backward_examples(batchnorm_forward, batchnorm_backward):
    """batchnorm_backward: dx, dgamma, dbeta from your own forward's cache, on (N, D) and (N, C, H, W)"""
    rng = np.random.default_rng(19)
    for shape in ((5, 3), (3, 2, 3, 4)):
        x, gamma, beta, rm, rv = _bn_case(rng, shape, spread=False)
        _check_bn_backward(batchnorm_forward, batchnorm_backward, x, gamma, beta, rm, rv, rng.standard_normal(shape))


@check(points=2, hidden=True)
def batchnorm_backward_random(batchnorm_forward, batchnorm_backward, seed: int = 0):
    """batchnorm_backward: seeded random shapes, from your own forward's cache"""
    rng = np.random.default_rng(seed)
    for ndim in (2, 4, 4):
        shape = (int(rng.integers(2, 8)), int(rng.integers(1, 5)))
        if ndim == 4:
            shape += (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        x, gamma, beta, rm, rv = _bn_case(rng, shape, spread=False)
        _check_bn_backward(batchnorm_forward, batchnorm_backward, x, gamma, beta, rm, rv, rng.standard_normal(shape), momentum=0.2)


# ---------------------------------------------------------------------------------------------
# Layer norm
# ---------------------------------------------------------------------------------------------


def _ln_mistakes(x, gamma, beta, eps) -> list[Mistake]:
    per_example = tuple(range(1, x.ndim))
    mistakes = [
        Mistake(_normalise(x, gamma, beta, (0,), eps=eps), "your statistics are over the batch (one mean per feature): that is batch norm. Layer norm takes one mean and variance per example, over all of its features: axes 1, ..., x.ndim - 1"),
        Mistake(_normalise(x, gamma, beta, per_example, ddof=1, eps=eps), "you used the unbiased variance (divided by n - 1); layer norm divides by the number of values, as np.var does by default"),
        Mistake(_normalise(x, gamma, beta, per_example, eps=0.0), "you left out eps: divide by sqrt(var + eps)"),
        Mistake(_normalise(x, beta, gamma, per_example, eps=eps), "gamma and beta are swapped: gamma scales x_hat and beta is added"),
    ]
    if x.ndim == 4:
        mistakes.append(Mistake(_normalise(x, gamma, beta, (x.ndim - 1,), eps=eps), "you normalised over the last axis only; layer norm uses all of an example's values: axes (1, 2, 3) for (N, C, H, W)"))
        mistakes.append(Mistake(_normalise(x, gamma, beta, (1,), eps=eps), "you normalised over the channel axis only (one mean per position); layer norm uses all of an example's values: axes (1, 2, 3)"))
        mistakes.append(Mistake(_normalise(x, gamma, beta, (0, 2, 3), eps=eps), "your statistics are per channel over the batch: that is batch norm; layer norm uses each example's own values, axes (1, 2, 3)"))
    return mistakes


def _check_ln(fn, x, gamma, beta, eps=1e-5):
    out = call(fn, x, gamma, beta, eps=eps, forbid=NUMPY_ONLY)
    if isinstance(out, (tuple, list)):
        fail(f"layernorm_forward returned {describe(out)}; it should return only the output array")
    expected, _ = _ref_ln_forward(x, gamma, beta, eps=eps)
    expect_close(out, expected, "layernorm_forward", mistakes=_ln_mistakes(x, gamma, beta, eps), why="the output has the shape of x", inputs=f"x of shape {x.shape}")


def _ln_case(rng, shape, *, tiny=True):
    x = rng.standard_normal(shape) * rng.uniform(0.5, 3, size=(shape[0],) + (1,) * (len(shape) - 1)) + rng.normal(0, 3, size=(shape[0],) + (1,) * (len(shape) - 1))
    if tiny:
        x[0] = x[0] * 0.001  # one example with a tiny spread, where eps matters
    gamma = rng.uniform(0.5, 2, size=shape[1:])
    beta = rng.normal(0, 1, size=shape[1:])
    return x, gamma, beta


@check(points=1)
def layernorm_forward_examples(layernorm_forward):
    """layernorm_forward: one mean and variance per example, on (N, D) and (N, C, H, W)"""
    rng = np.random.default_rng(29)
    for shape in ((4, 5), (3, 2, 3, 4)):
        x, gamma, beta = _ln_case(rng, shape)
        _check_ln(layernorm_forward, x, gamma, beta)
    # One example alone gives the same output as inside a batch: nothing depends on the others.
    x, gamma, beta = _ln_case(rng, (1, 6), tiny=False)
    _check_ln(layernorm_forward, x, gamma, beta)


@check(points=1, hidden=True)
def layernorm_forward_random(layernorm_forward, seed: int = 0):
    """layernorm_forward: seeded random shapes and eps"""
    rng = np.random.default_rng(seed)
    for ndim in (2, 3, 4):
        shape = (int(rng.integers(2, 7)),) + tuple(int(v) for v in rng.integers(2, 6, size=ndim - 1))
        x, gamma, beta = _ln_case(rng, shape, tiny=bool(rng.integers(0, 2)))
        _check_ln(layernorm_forward, x, gamma, beta, eps=float(rng.choice([1e-5, 1e-3])))


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------


def _dropout_train(fn, x, p, seed):
    """Run training-mode dropout; check the kept values' scale and the fraction kept; return (out, mask)."""
    value = call(fn, x, p, True, _rng(seed), forbid=NUMPY_ONLY)
    out, mask = _unpack(value, 2, "dropout_forward", "(out, mask)")
    out = as_array(out, "dropout_forward output")
    expect_shape(out, x.shape, "dropout_forward output", "the shape of x")
    kept = out != 0
    keep = 1 - p
    if p == 0:
        expect_close(out, x, "dropout_forward output with p = 0", why="nothing is dropped", inputs=f"x of shape {x.shape}")
        return out, mask
    if not kept.any():
        fail(f"dropout_forward with p = {p:g} dropped every value; each value is zeroed with probability p and kept with probability 1 - p")
    ratio = out[kept] / x[kept]
    scales = {
        1 / keep: None,
        1.0: "the kept values are not rescaled: inverted dropout divides them by the keep probability 1 - p, so that the expected output equals x and nothing needs to change at test time",
        1 / p: "you divided the kept values by p; divide by the keep probability 1 - p (p is the probability of DROPPING a value)",
        p: "you multiplied the kept values by p; inverted dropout divides them by the keep probability 1 - p",
        keep: "you multiplied the kept values by the keep probability 1 - p: that is what old-style (non-inverted) dropout does at test time; inverted dropout divides by 1 - p in training instead",
    }
    if not np.allclose(ratio, 1 / keep, rtol=1e-6):
        for scale, message in scales.items():
            if message and np.allclose(ratio, scale, rtol=1e-6):
                fail(f"dropout_forward: {message}", f"With p = {p:g} the kept values are x times {describe(float(np.median(ratio)))}.")
        fail(
            f"dropout_forward: every value should be either 0 or x / (1 - p) = x * {1 / keep:.6g}",
            f"With p = {p:g} the kept values are x times {describe(float(np.median(ratio)))} (median).",
        )
    if x.ndim >= 2 and x.shape[-1] >= 200:
        rows = kept.reshape(-1, x.shape[-1]).mean(axis=1)
        if np.all((rows == 0) | (rows == 1)):
            fail("dropout_forward drops whole rows at once; draw an independent keep/drop decision for every value (a mask of x's shape)")
    fraction = float(kept.mean())
    tolerance = 6 * np.sqrt(p * keep / x.size) + 1e-3
    if abs(fraction - keep) > tolerance:
        if abs(fraction - p) <= tolerance and abs(p - keep) > 2 * tolerance:
            fail(f"dropout_forward keeps a fraction {fraction:.3f} of the values, about p = {p:g}: p is the probability of dropping a value, so keep each with probability 1 - p (for example rng.random(x.shape) >= p)")
        fail(f"dropout_forward keeps a fraction {fraction:.3f} of the values; with p = {p:g} it should keep about 1 - p = {keep:g}")
    return out, mask


def _dropout_x(rng, shape):
    # values far from zero, so that a zero in the output always means "dropped"
    return rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


@check(points=1)
def dropout_forward_training(dropout_forward):
    """dropout_forward, training: values zeroed with probability p, the rest divided by 1 - p, the generator used"""
    rng = np.random.default_rng(39)
    x = _dropout_x(rng, (40, 500))
    p = 0.2
    first, _ = _dropout_train(dropout_forward, x, p, seed=1)
    again, _ = _dropout_train(dropout_forward, x, p, seed=1)
    other, _ = _dropout_train(dropout_forward, x, p, seed=2)
    if not np.array_equal(first, again):
        fail("dropout_forward gave different outputs for two generators with the same seed: draw the mask from the rng argument (rng.random(x.shape)), not from np.random's global functions")
    if np.array_equal(first, other):
        fail("dropout_forward gave the same output for generators with different seeds: draw the mask from the rng argument (rng.random(x.shape))")


@check(points=1)
def dropout_forward_evaluation(dropout_forward):
    """dropout_forward, evaluation (training=False): the output is x itself"""
    rng = np.random.default_rng(49)
    x = _dropout_x(rng, (20, 50))
    p = 0.2
    value = call(dropout_forward, x, p, False, _rng(3), forbid=NUMPY_ONLY)
    out, _ = _unpack(value, 2, "dropout_forward", "(out, mask)")
    out = as_array(out, "dropout_forward output")
    expect_shape(out, x.shape, "dropout_forward output", "the shape of x")
    if out.shape == x.shape and np.any(out == 0):
        fail("dropout_forward zeroes values at test time (training=False); with inverted dropout nothing is dropped and nothing is scaled at test time: return x unchanged")
    expect_close(
        out,
        x,
        "dropout_forward output with training=False",
        mistakes=[
            Mistake(x * (1 - p), "you multiplied by the keep probability 1 - p at test time: that is old-style dropout; with inverted dropout (the kept values divided by 1 - p in training) the test-time output is x itself"),
            Mistake(x * p, "you multiplied by p at test time; with inverted dropout the test-time output is x itself (and old-style dropout would scale by the keep probability 1 - p, not by p)"),
            Mistake(x / (1 - p), "you divided by 1 - p at test time; with inverted dropout that happens in training only: at test time return x"),
        ],
        inputs=f"x of shape {x.shape}, p = {p:g}",
    )


def _check_dropout_backward(forward, backward, x, p, seed, rng):
    out, mask = _dropout_train(forward, x, p, seed)
    dout = rng.standard_normal(x.shape)
    dx = call(backward, dout, mask, forbid=NUMPY_ONLY)
    expected = dout * out / x  # 0 where dropped, 1 / (1 - p) where kept
    expect_close(
        dx,
        expected,
        "dropout_backward dx",
        mistakes=[
            Mistake(dout * (out != 0), "your dx is not rescaled: the kept values were divided by 1 - p in the forward pass, so their gradient is too (dx = dout * mask with the mask holding 0 or 1 / (1 - p))"),
            Mistake(dout, "your dx ignores the mask: a dropped value had no effect on the output, so its gradient is 0"),
            Mistake(dout * (out == 0) / (1 - p), "your dx passes the gradient to the DROPPED values; it flows through the kept ones"),
        ],
        why="dx has the shape of x",
        inputs=f"x of shape {x.shape}, p = {p:g}",
    )


@check(points=1)
def dropout_backward_examples(dropout_forward, dropout_backward):
    """dropout_backward: the gradient flows through the kept values, scaled by 1 / (1 - p), with your own mask"""
    rng = np.random.default_rng(59)
    _check_dropout_backward(dropout_forward, dropout_backward, _dropout_x(rng, (30, 40)), 0.25, 5, rng)
    _check_dropout_backward(dropout_forward, dropout_backward, _dropout_x(rng, (2, 3, 8, 8)), 0.5, 6, rng)


@check(points=2, hidden=True)
def dropout_random(dropout_forward, dropout_backward, seed: int = 0):
    """dropout_forward and dropout_backward: seeded random shapes and probabilities (p = 0 included)"""
    rng = np.random.default_rng(seed)
    for p in (float(rng.uniform(0.05, 0.45)), float(rng.uniform(0.55, 0.9)), 0.0):
        shape = (int(rng.integers(20, 60)), int(rng.integers(200, 400)))
        x = _dropout_x(rng, shape)
        _check_dropout_backward(dropout_forward, dropout_backward, x, p, int(rng.integers(1000)), rng)
        value = call(dropout_forward, x, p, False, _rng(int(rng.integers(1000))), forbid=NUMPY_ONLY)
        out, _ = _unpack(value, 2, "dropout_forward", "(out, mask)")
        expect_close(out, x, "dropout_forward output with training=False", why="nothing happens at test time")


# ---------------------------------------------------------------------------------------------
# Augmentation: random crop and flip
# ---------------------------------------------------------------------------------------------


def _windows(padded, h, w):
    """All (h, w) windows of padded (N, C, H', W'): (N, C, rows, cols, h, w)."""
    return np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(2, 3))


def _match(out, images, padding, mode="constant"):
    """For each output image, which (row offset, column offset, flipped) windows of the padded
    original it equals: boolean (N, rows, cols, 2)."""
    n, c, h, w = images.shape
    pad = ((0, 0), (0, 0), (padding, padding), (padding, padding))
    padded = np.pad(images.astype(np.float64), pad, mode=mode)
    win = _windows(padded, h, w)  # (N, C, R, S, h, w)
    target = out[:, :, None, None]  # (N, C, 1, 1, h, w)
    plain = np.isclose(win, target, rtol=1e-6, atol=1e-9).all(axis=(1, 4, 5))
    flipped = np.isclose(win[..., ::-1], target, rtol=1e-6, atol=1e-9).all(axis=(1, 4, 5))
    return np.stack([plain, flipped], axis=-1)


def _check_crop_flip(fn, images, padding, seed, *, statistics: bool):
    name = "random_crop_flip"
    value = call(fn, images, _rng(seed), padding=padding, forbid=NUMPY_ONLY)
    out = as_array(value, f"{name} output", dtype=None)
    expect_shape(out, images.shape, f"{name} output", "the shape of the batch: the crop cuts the original size back out of the padded image")
    if out.dtype != images.dtype:
        fail(f"{name} returned {out.dtype} for {images.dtype} images; keep the input's dtype")
    out = out.astype(np.float64)
    n = images.shape[0]
    matches = _match(out, images, padding)
    found = matches.reshape(n, -1).any(axis=1)
    if not found.all():
        i = int(np.argmin(found))
        upside = _match(out[:, :, ::-1, :], images, padding)[..., 0].reshape(n, -1).any(axis=1)
        if upside[i]:
            fail(f"{name} flips images upside down; the flip mirrors left-right (reverse the last axis, W)")
        for mode in ("edge", "reflect", "symmetric") if padding > 0 else ():
            try:
                other_padding = _match(out, images, padding, mode=mode).reshape(n, -1).any(axis=1).all()
            except ValueError:  # 'reflect' needs padding < size
                other_padding = False
            if other_padding:
                fail(f"{name} pads with np.pad's '{mode}' mode; pad with zeros (np.pad's default, mode='constant')")
        per_channel = all(
            _match(out[:, ch : ch + 1], images[:, ch : ch + 1], padding).reshape(n, -1).any(axis=1).all() for ch in range(images.shape[1])
        )
        if per_channel and images.shape[1] > 1:
            fail(f"{name} crops (or flips) the channels of one image differently; one offset and one flip per image, applied to all of its channels")
        fail(
            f"{name}: output image {i} is not a window of the zero-padded image (flipped left-right or not): pad every side of H and W with `padding` zeros, cut an H x W window at a row and column offset in 0 .. 2 * padding, and mirror it left-right or not",
        )
    if not statistics:
        return out
    # Which offsets and flips were drawn (the first match of each image; random values make it unique).
    first = matches.reshape(n, -1).argmax(axis=1)
    rows, cols, flips = np.unravel_index(first, matches.shape[1:])
    top = 2 * padding
    if padding > 0:
        if len(set(zip(rows.tolist(), cols.tolist()))) == 1 and flips.min() == flips.max():
            fail(f"{name} gave every image of the batch the same crop and flip; draw an offset and a flip for each image")
        if rows.min() >= padding or cols.min() >= padding or rows.max() <= padding or cols.max() <= padding:
            fail(f"{name} shifts the image one way only; pad both sides of H and W with `padding` zeros and draw offsets from 0 .. 2 * padding")
        if rows.max() < top or cols.max() < top:
            fail(f"{name} never uses the largest offset 2 * padding = {top}: rng.integers(0, 2 * padding + 1) includes it (the upper end of rng.integers is excluded)")
        if rows.min() > 0 or cols.min() > 0:
            fail(f"{name} never uses the offset 0; draw row and column offsets uniformly from 0 .. 2 * padding (both ends included)")
        if len(set(rows.tolist())) < top + 1 or len(set(cols.tolist())) < top + 1:
            fail(f"{name} uses only some of the offsets 0 .. {top}; draw each uniformly")
        if np.array_equal(rows, cols):
            fail(f"{name} uses the same offset for rows and columns; draw the two independently")
    flipped_fraction = float(flips.mean()) if padding > 0 else float(matches[:, 0, 0, 1].mean())
    if flipped_fraction in (0.0, 1.0):
        what = "never" if flipped_fraction == 0 else "always"
        fail(f"{name} {what} flips; mirror each image left-right with probability 1/2")
    if abs(flipped_fraction - 0.5) > 6 * np.sqrt(0.25 / n) + 0.02:
        fail(f"{name} flips a fraction {flipped_fraction:.2f} of the images; flip each with probability 1/2")
    return out


def _crop_images(rng, shape, dtype=np.float64):
    if dtype == np.uint8:
        return rng.integers(1, 256, size=shape).astype(np.uint8)
    # random, non-zero values: every window of the padded image is different from every other
    return rng.uniform(1.0, 2.0, size=shape).astype(dtype)


@check(points=2)
def random_crop_flip_examples(random_crop_flip):
    """random_crop_flip: each output is a crop of the zero-padded image, maybe mirrored; offsets and flips drawn from rng"""
    rng = np.random.default_rng(69)
    images = _crop_images(rng, (300, 2, 6, 7))
    first = _check_crop_flip(random_crop_flip, images, 2, seed=1, statistics=True)
    again = _check_crop_flip(random_crop_flip, images, 2, seed=1, statistics=False)
    other = _check_crop_flip(random_crop_flip, images, 2, seed=2, statistics=False)
    if not np.array_equal(first, again):
        fail("random_crop_flip gave different batches for two generators with the same seed: draw the offsets and flips from the rng argument, not from np.random's global functions")
    if np.array_equal(first, other):
        fail("random_crop_flip gave the same batch for generators with different seeds: draw the offsets and flips from the rng argument")


@check(points=1, hidden=True)
def random_crop_flip_random(random_crop_flip, seed: int = 0):
    """random_crop_flip: seeded random batch shapes, paddings (0 included) and uint8 images"""
    rng = np.random.default_rng(seed)
    cases = [
        ((400, int(rng.integers(1, 4)), int(rng.integers(4, 9)), int(rng.integers(4, 9))), int(rng.integers(1, 4)), np.float64),
        ((300, 3, 5, 5), 1, np.uint8),
        ((200, 1, 4, 6), 0, np.float32),
    ]
    for shape, padding, dtype in cases:
        _check_crop_flip(random_crop_flip, _crop_images(rng, shape, dtype), padding, int(rng.integers(1000)), statistics=True)
