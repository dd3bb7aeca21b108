"""Checks for notebook 08, training a CNN from scratch in NumPy.

Expected values come from :mod:`cnnlib.reference` (softmax cross-entropy, the linear layer, SGD
with PyTorch's momentum, LeNet-5 as a ``Sequential``). The checks name the usual wrong answers: a
softmax that overflows on large logits, the loss summed instead of averaged, ``dlogits`` not divided
by the batch size, the weight used as ``(in_features, out_features)`` instead of PyTorch's
``(out_features, in_features)``, the test set normalised with its own statistics (or statistics
over the wrong axes), and momentum applied with the wrong sign, in the wrong order or in another
convention. The training check trains the student's network on scikit-learn's digits (upsampled
to LeNet-5's 32x32) within a time limit and measures its test accuracy with the reference network.
"""

from __future__ import annotations

import math

import numpy as np

from cnnlib import reference as ref

from .core import Mistake, as_array, call, check, describe, expect_close, expect_shape, fail, is_hidden
from .forbid import NUMPY_ONLY, Forbid

FORBIDDEN_IMPORTS = NUMPY_ONLY.modules
IMPORT_REASON = (
    "this notebook asks you to write the loss, the fully connected layer, the optimiser and the "
    "training loop with NumPy; the convolution and pooling layers you need are in the setup cell"
)

#: The model and the training loop may use the layers the setup cell provides (convolution,
#: pooling, ReLU, LeNet-5's initial weights) but not the library's versions of what the notebook
#: asks for: the loss, the linear layer, the optimiser.
_NOT_THE_EXERCISES = (
    "torch",
    "scipy.signal",
    "scipy.ndimage",
    "skimage",
    "sklearn",
    "cnnlib.pytorch",
    "cnnlib.arithmetic",
    "cnnlib.reference.losses",
    "cnnlib.reference.linear",
    "cnnlib.reference.optim",
)
TRAIN_FORBID = Forbid(
    modules=_NOT_THE_EXERCISES,
    reason="use your own softmax_cross_entropy, linear_forward/linear_backward and sgd_momentum_step; only the layers of the setup cell come from the library",
)
MODEL_FORBID = Forbid(
    modules=_NOT_THE_EXERCISES + ("cnnlib.reference.sequential", "cnnlib.reference.models"),
    reason=TRAIN_FORBID.reason,
)

#: LeNet-5's parameters, in the order of the backward pass (last layer first).
LENET5_LAYERS = (("11", "the last linear layer"), ("9", "the second linear layer"), ("7", "the first linear layer"), ("3", "the second convolution"), ("0", "the first convolution"))

#: The training check: hyperparameters it passes and the accuracy it asks for.
TRAIN_SETTINGS = dict(num_epochs=8, batch_size=32, lr=0.02, momentum=0.9, seed=0)
TRAIN_MIN_ACCURACY = 0.90
TRAIN_TIME_LIMIT = 120.0


def _unpack(value, count: int, name: str, what: str) -> tuple:
    if not isinstance(value, (tuple, list)) or len(value) != count:
        fail(f"{name} returned {describe(value)}; it should return a tuple of {count}: {what}")
    return tuple(value)


def _scalar(value, name: str) -> float:
    out = as_array(value, name)
    if out.size != 1:
        fail(f"{name} has shape {out.shape}; it should be one number (the mean over the batch)")
    return float(out.reshape(()))


# ---------------------------------------------------------------------------------------------
# softmax_cross_entropy
# ---------------------------------------------------------------------------------------------


def _onehot(y, K):
    out = np.zeros((len(y), K))
    out[np.arange(len(y)), y] = 1.0
    return out


def _check_softmax_ce(fn, logits, y, inputs: str):
    result = call(fn, logits, y, forbid=NUMPY_ONLY)
    loss, dlogits = _unpack(result, 2, "softmax_cross_entropy", "(loss, dlogits)")
    N, K = logits.shape
    exp_loss, exp_d = ref.softmax_cross_entropy(logits, y)
    exp_loss = float(exp_loss)
    loss = _scalar(loss, "loss")
    if not np.isfinite(loss):
        fail("loss is NaN or infinite: with large logits, exp overflows. Subtract each row's maximum from the logits before exponentiating (it does not change the softmax) and compute log-softmax as shifted - log(sum(exp(shifted)))", f"On {inputs}.")
    if not math.isclose(loss, exp_loss, rel_tol=1e-6, abs_tol=1e-8):
        if math.isclose(loss, N * exp_loss, rel_tol=1e-6):
            fail(f"the loss is summed over the batch; take the MEAN over the N = {N} examples", f"On {inputs}: you returned {loss:.6g}, expected {exp_loss:.6g}.")
        if math.isclose(loss, -exp_loss, rel_tol=1e-6):
            fail("the loss has the wrong sign: cross-entropy is MINUS the mean log-probability of the correct class (it is >= 0)", f"On {inputs}.")
        log2 = exp_loss / np.log(2)
        if math.isclose(loss, log2, rel_tol=1e-6):
            fail("your loss uses log base 2; use the natural logarithm (np.log)")
        fail("the loss is wrong", f"On {inputs}: you returned {loss:.6g}, expected {exp_loss:.6g}.")
    p = N * exp_d + _onehot(y, K)  # the softmax probabilities
    mistakes = [
        Mistake(N * exp_d, f"dlogits is not divided by the batch size: the loss is a mean over N = {N} examples, so its gradient is (softmax - onehot) / N"),
        Mistake(-exp_d, "dlogits has the wrong sign: it is (softmax(logits) - onehot(y)) / N"),
        Mistake(p / N, "dlogits is softmax / N: subtract 1 at each example's correct class (the one-hot of y) before dividing by N"),
        Mistake(p, "dlogits is the softmax itself: it is (softmax - onehot(y)) / N"),
    ]
    expect_close(dlogits, exp_d, "dlogits", mistakes=mistakes, why="dlogits has the logits' shape (N, K)", inputs=inputs)


@check(points=1)
def softmax_cross_entropy_examples(softmax_cross_entropy):
    """softmax_cross_entropy: loss and gradient on small batches (mean over the batch)"""
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
    _check_softmax_ce(softmax_cross_entropy, logits, np.array([0, 2]), "logits [[2, 1, 0.1], [0.5, 2.5, -1]], y = [0, 2]")
    rng = np.random.default_rng(8)
    logits = rng.standard_normal((5, 4))
    _check_softmax_ce(softmax_cross_entropy, logits, np.array([3, 0, 1, 1, 2]), "5 random rows of 4 logits, y = [3, 0, 1, 1, 2]")


@check(points=1)
def softmax_cross_entropy_stable(softmax_cross_entropy):
    """softmax_cross_entropy: no overflow with very large (or very negative) logits"""
    logits = np.array([[1000.0, 0.0, -1000.0], [-500.0, 800.0, 795.0], [0.0, 0.0, 0.0]])
    _check_softmax_ce(softmax_cross_entropy, logits, np.array([0, 2, 1]), "logits up to 1000 (exp(1000) overflows float64)")


@check(points=1, hidden=True)
def softmax_cross_entropy_random(softmax_cross_entropy, seed: int = 0):
    """softmax_cross_entropy: seeded random batches, some with logits in the thousands"""
    rng = np.random.default_rng(seed)
    for scale in (1.0, 5.0, 1000.0):
        N, K = int(rng.integers(2, 9)), int(rng.integers(2, 12))
        _check_softmax_ce(softmax_cross_entropy, scale * rng.standard_normal((N, K)), rng.integers(0, K, size=N), "")


# ---------------------------------------------------------------------------------------------
# linear_forward and linear_backward
# ---------------------------------------------------------------------------------------------


def _check_linear_forward(fn, x, w, b):
    out = call(fn, x, w, b, forbid=NUMPY_ONLY)
    expected = x @ w.T + b
    mistakes = [Mistake(x @ w.T, "the bias is missing: out = x @ w.T + b")]
    if w.shape[0] == w.shape[1]:
        mistakes.append(Mistake(x @ w + b, "you used w as (in_features, out_features); here w has PyTorch's layout (out_features, in_features), so out = x @ w.T + b"))
    inputs = f"x of shape {x.shape}, w of shape {w.shape} (out_features, in_features), b of shape {b.shape}"
    expect_close(out, expected, "linear_forward(x, w, b)", mistakes=mistakes, why="(N, out_features)", inputs=inputs)


@check(points=1)
def linear_forward_examples(linear_forward):
    """linear_forward: out = x @ w.T + b, with w in PyTorch's (out_features, in_features) layout"""
    rng = np.random.default_rng(9)
    _check_linear_forward(linear_forward, rng.standard_normal((3, 5)), rng.standard_normal((5, 5)), rng.standard_normal(5))
    _check_linear_forward(linear_forward, rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2))


def _random_linear_shapes(rng, *, min_batch: int):
    """Four (batch N, in_features D, out_features M) triples; the first has square weights (M == D),
    where using w instead of w.T goes unnoticed by the shapes."""
    for i in range(4):
        N, D = int(rng.integers(min_batch, 7)), int(rng.integers(1, 9))
        yield N, D, (D if i == 0 else int(rng.integers(1, 9)))


@check(points=1, hidden=True)
def linear_forward_random(linear_forward, seed: int = 0):
    """linear_forward: seeded random shapes, square weights included"""
    rng = np.random.default_rng(seed)
    for N, D, M in _random_linear_shapes(rng, min_batch=1):
        _check_linear_forward(linear_forward, rng.standard_normal((N, D)), rng.standard_normal((M, D)), rng.standard_normal(M))


def _check_linear_backward(fn, dout, x, w):
    result = call(fn, dout, x, w, forbid=NUMPY_ONLY)
    dx, dw, db = _unpack(result, 3, "linear_backward", "(dx, dw, db)")
    N = x.shape[0]
    exp_dx, exp_dw, exp_db = dout @ w, dout.T @ x, dout.sum(axis=0)
    inputs = f"dout of shape {dout.shape}, x of shape {x.shape}, w of shape {w.shape}"
    dx_m = []
    dw_m = [
        Mistake(x.T @ dout, "dw has the (in_features, out_features) layout; it must have w's shape (out_features, in_features): dw = dout.T @ x"),
        Mistake(exp_dw / N, "dw is averaged over the batch; sum it (dout.T @ x): the loss's mean already divided dout by N"),
    ]
    db_m = [Mistake(dout.mean(axis=0), "db is averaged over the batch; sum dout over the batch (the loss's mean already divided dout by N)")]
    if w.shape[0] == w.shape[1]:
        dx_m.append(Mistake(dout @ w.T, "dx used w transposed; with out = x @ w.T + b, dx = dout @ w"))
    expect_close(dx, exp_dx, "dx", mistakes=dx_m, why="dx has x's shape (N, in_features)", inputs=inputs)
    expect_close(dw, exp_dw, "dw", mistakes=dw_m, why="dw has w's shape (out_features, in_features)", inputs=inputs)
    expect_close(db, exp_db, "db", mistakes=db_m, why="db has one entry per output feature", inputs=inputs)


@check(points=1)
def linear_backward_examples(linear_backward):
    """linear_backward: dx, dw and db on small batches, rectangular and square weights"""
    rng = np.random.default_rng(10)
    _check_linear_backward(linear_backward, rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((4, 4)))
    _check_linear_backward(linear_backward, rng.standard_normal((4, 2)), rng.standard_normal((4, 3)), rng.standard_normal((2, 3)))


@check(points=2, hidden=True)
def linear_backward_random(linear_backward, seed: int = 0):
    """linear_backward: seeded random shapes, square weights included"""
    rng = np.random.default_rng(seed)
    for N, D, M in _random_linear_shapes(rng, min_batch=2):
        _check_linear_backward(linear_backward, rng.standard_normal((N, M)), rng.standard_normal((N, D)), rng.standard_normal((M, D)))


# ---------------------------------------------------------------------------------------------
# sgd_momentum_step
# ---------------------------------------------------------------------------------------------


def _momentum_variants(params, grads, velocity, lr, mu):
    """``{explanation: (params, velocity)}`` of the usual wrong updates."""
    variants = {}

    def run(update):
        new_p, new_v = {}, {}
        for k, p in params.items():
            v_old = velocity.get(k, np.zeros_like(p))
            new_p[k], new_v[k] = update(p, grads[k], v_old)
        return new_p, new_v

    variants["you moved the parameters UP the gradient (p + lr * v); gradient descent subtracts: p = p - lr * v"] = run(lambda p, g, v: (p + lr * (mu * v + g), mu * v + g))
    variants["you updated the parameters with the OLD velocity; first v = momentum * v + g, then p = p - lr * v with the new v"] = run(lambda p, g, v: (p - lr * v, mu * v + g))
    variants["momentum is ignored (p = p - lr * g); the step uses the velocity v = momentum * v + g"] = run(lambda p, g, v: (p - lr * g, g))
    variants["you used the dampened update v = momentum * v + (1 - momentum) * g; PyTorch's SGD (and this exercise) uses v = momentum * v + g"] = run(lambda p, g, v: (p - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g))
    variants["you folded the learning rate into the velocity (v = momentum * v + lr * g, p = p - v); this exercise keeps PyTorch's convention: v = momentum * v + g, p = p - lr * v"] = run(lambda p, g, v: (p - (mu * v + lr * g), mu * v + lr * g))
    variants["you used CS231n's convention (v = momentum * v - lr * g, p = p + v); this exercise keeps PyTorch's: v = momentum * v + g, p = p - lr * v, so the velocity is stored without the factor -lr"] = run(lambda p, g, v: (p + (mu * v - lr * g), mu * v - lr * g))
    variants["the momentum multiplies the gradient instead of the old velocity: v = momentum * v + g"] = run(lambda p, g, v: (p - lr * (v + mu * g), v + mu * g))
    return variants


def _same_dict(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.allclose(np.asarray(a[k], dtype=float), b[k], rtol=1e-7, atol=1e-10) for k in a)


def _check_sgd(fn, params, grads, velocity, lr, mu, where: str):
    result = call(fn, params, grads, velocity, lr, momentum=mu, forbid=NUMPY_ONLY)
    new_params, new_velocity = _unpack(result, 2, "sgd_momentum_step", "(params, velocity), two dicts")
    for name, value in (("params", new_params), ("velocity", new_velocity)):
        if not isinstance(value, dict):
            fail(f"the {name} it returns is {describe(value)}; it should be a dict with the same names as params")
        if set(value) != set(params):
            fail(f"the {name} dict it returns has the names {sorted(value)}; it should have {sorted(params)}")
    exp_params, exp_velocity = ref.sgd_momentum_step(params, grads, velocity, lr, mu)
    got = ({k: as_array(v, f"params[{k!r}]") for k, v in new_params.items()}, {k: as_array(v, f"velocity[{k!r}]") for k, v in new_velocity.items()})
    if _same_dict(got[0], exp_params) and _same_dict(got[1], exp_velocity):
        return
    for explanation, (p_wrong, v_wrong) in _momentum_variants(params, grads, velocity, lr, mu).items():
        if _same_dict(got[0], p_wrong) and (_same_dict(got[1], v_wrong) or not _same_dict(got[0], exp_params)):
            fail(f"sgd_momentum_step: {explanation}", f"On {where}." if where else None)
    detail = f"On {where}." if where else None
    for k in params:
        expect_close(got[1][k], exp_velocity[k], f"velocity[{k!r}]", why="the velocity has the parameter's shape", inputs=where)
        expect_close(got[0][k], exp_params[k], f"params[{k!r}]", why="each parameter keeps its shape", inputs=where)
    fail("sgd_momentum_step returned wrong values", detail)


def _sgd_case(rng, names=("w", "b"), with_velocity=True):
    shapes = {"w": (3, 2), "b": (3,), "conv.weight": (2, 1, 3, 3), "conv.bias": (2,)}
    params = {k: rng.standard_normal(shapes[k]) for k in names}
    grads = {k: rng.standard_normal(shapes[k]) for k in names}
    velocity = {k: rng.standard_normal(shapes[k]) for k in names} if with_velocity else {}
    return params, grads, velocity


@check(points=1)
def sgd_momentum_first_step(sgd_momentum_step):
    """sgd_momentum_step: the first step, from an empty velocity dict"""
    rng = np.random.default_rng(12)
    params, grads, velocity = _sgd_case(rng, with_velocity=False)
    _check_sgd(sgd_momentum_step, params, grads, velocity, 0.1, 0.9, "the first step: velocity = {}, lr = 0.1, momentum = 0.9 (missing velocities start at zero)")


@check(points=1)
def sgd_momentum_later_step(sgd_momentum_step):
    """sgd_momentum_step: a later step, with velocities from before; inputs left unchanged"""
    rng = np.random.default_rng(13)
    params, grads, velocity = _sgd_case(rng)
    _check_sgd(sgd_momentum_step, params, grads, velocity, 0.05, 0.9, "params 'w' (3, 2) and 'b' (3,) with earlier velocities, lr = 0.05, momentum = 0.9")
    _check_sgd(sgd_momentum_step, params, grads, velocity, 0.05, 0.5, "the same with momentum = 0.5")


@check(points=1, hidden=True)
def sgd_momentum_random(sgd_momentum_step, seed: int = 0):
    """sgd_momentum_step: seeded random parameters, learning rates and momenta over several steps"""
    rng = np.random.default_rng(seed)
    params, grads, _ = _sgd_case(rng, names=("conv.weight", "conv.bias", "w"), with_velocity=False)
    velocity = {}
    lr, mu = float(rng.uniform(0.01, 0.2)), float(rng.choice([0.5, 0.9, 0.99]))
    for _ in range(3):
        _check_sgd(sgd_momentum_step, params, grads, velocity, lr, mu, "")
        params, velocity = ref.sgd_momentum_step(params, grads, velocity, lr, mu)
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}


# ---------------------------------------------------------------------------------------------
# normalize
# ---------------------------------------------------------------------------------------------


def _check_normalize(fn, train, test, inputs: str):
    result = call(fn, train, test, forbid=NUMPY_ONLY)
    train_n, test_n = _unpack(result, 2, "normalize", "(train, test), both normalised")
    t, s = train.astype(float), test.astype(float)
    mean, std = t.mean(axis=(0, 2, 3), keepdims=True), t.std(axis=(0, 2, 3), keepdims=True)
    exp_train, exp_test = (t - mean) / std, (s - mean) / std
    g_mean, g_std = t.mean(), t.std()
    own_mean, own_std = s.mean(axis=(0, 2, 3), keepdims=True), s.std(axis=(0, 2, 3), keepdims=True)
    ddof_std = t.std(axis=(0, 2, 3), keepdims=True, ddof=1)
    common = [
        Mistake((t - g_mean) / g_std, "you used one mean and one std over all channels; normalise each channel with its own mean and std (axes (0, 2, 3), keepdims=True)"),
        Mistake((t - t.mean(axis=(1, 2, 3), keepdims=True)) / t.std(axis=(1, 2, 3), keepdims=True), "you normalised each image with its own statistics; use the statistics of the whole training set, per channel"),
        Mistake((t - t.mean(axis=0, keepdims=True)) / t.std(axis=0, keepdims=True), "you took a mean and std per pixel (over the images only); take them per channel, over images AND positions: axis=(0, 2, 3)"),
        Mistake((t - mean) / ddof_std, "you used the sample standard deviation (ddof=1); use np.std's default (ddof=0)"),
        Mistake(t - mean, "you subtracted the mean but did not divide by the standard deviation"),
    ]
    expect_close(train_n, exp_train, "normalize's train output", mistakes=common, why="the training set keeps its shape", inputs=inputs)
    test_mistakes = [
        Mistake((s - own_mean) / own_std, "the test set is normalised with its OWN statistics; reuse the training set's mean and std (at test time there may be a single image, and the network was trained on inputs shifted by the training statistics)"),
        Mistake((s - own_mean) / std, "the test set is centred with its own mean; reuse the training set's mean"),
        Mistake((s - mean) / own_std, "the test set is scaled by its own std; reuse the training set's std"),
        Mistake(s, "the test set is not normalised at all; apply the training set's mean and std to it"),
    ]
    expect_close(test_n, exp_test, "normalize's test output", mistakes=test_mistakes, why="the test set keeps its shape", inputs=inputs)


@check(points=1)
def normalize_examples(normalize):
    """normalize: per-channel training statistics, reused for the test set (uint8 images too)"""
    rng = np.random.default_rng(14)
    train = rng.normal([[[1.0]], [[5.0]], [[-2.0]]], [[[1.0]], [[3.0]], [[0.5]]], size=(6, 3, 4, 4))
    test = rng.normal(3.0, 2.0, size=(4, 3, 4, 4))
    _check_normalize(normalize, train, test, "6 training and 4 test images of 3 channels with different means")
    train = rng.integers(0, 256, size=(5, 1, 6, 6)).astype(np.uint8)
    test = rng.integers(100, 256, size=(3, 1, 6, 6)).astype(np.uint8)
    _check_normalize(normalize, train, test, "uint8 images (convert to float before subtracting)")


@check(points=1, hidden=True)
def normalize_random(normalize, seed: int = 0):
    """normalize: seeded random data sets whose test statistics differ from the training ones"""
    rng = np.random.default_rng(seed)
    for _ in range(2):
        C = int(rng.integers(1, 4))
        train = rng.normal(rng.uniform(-3, 3, size=(C, 1, 1)), rng.uniform(0.5, 3, size=(C, 1, 1)), size=(int(rng.integers(3, 8)), C, 5, 4))
        test = rng.normal(1.0, 2.0, size=(int(rng.integers(2, 5)), C, 5, 4))
        _check_normalize(normalize, train, test, "")


# ---------------------------------------------------------------------------------------------
# lenet5_loss
# ---------------------------------------------------------------------------------------------


def _reference_lenet5(params, X, y):
    model = ref.lenet5(num_classes=params["11.bias"].shape[0], in_channels=params["0.weight"].shape[1])
    model.params = params
    logits = model.forward(X)
    if y is None:
        return logits
    loss, dlogits = ref.softmax_cross_entropy(logits, y)
    model.backward(dlogits)
    return logits, float(loss), model.grads


def _lenet5_case(seed: int, N: int):
    rng = np.random.default_rng(seed)
    params = ref.lenet5(seed=seed).params
    X = rng.standard_normal((N, 1, 32, 32))
    y = rng.integers(0, 10, size=N)
    return params, X, y


def _check_lenet5_logits(fn, params, X):
    out = call(fn, params, X, forbid=MODEL_FORBID)
    expected = _reference_lenet5(params, X, None)
    expect_close(out, expected, "lenet5_loss(params, X) (the logits)", rtol=1e-6, atol=1e-8, why="one row of 10 class scores per image, (N, 10)", inputs=f"{len(X)} random 1x32x32 images and LeNet-5's initial weights")


def _check_lenet5_grads(fn, params, X, y):
    result = call(fn, params, X, y, forbid=MODEL_FORBID)
    loss, grads = _unpack(result, 2, "lenet5_loss(params, X, y)", "(loss, grads)")
    _, exp_loss, exp_grads = _reference_lenet5(params, X, y)
    inputs = f"{len(X)} random 1x32x32 images, labels {list(y)} and LeNet-5's initial weights"
    loss = _scalar(loss, "loss")
    if not math.isclose(loss, exp_loss, rel_tol=1e-6):
        if math.isclose(loss, len(X) * exp_loss, rel_tol=1e-6):
            fail("the loss is summed over the batch; return the mean (your softmax_cross_entropy should average)")
        fail("the loss is wrong: run the forward pass conv-ReLU-pool, conv-ReLU-pool, flatten, linear-ReLU, linear-ReLU, linear, then softmax cross-entropy", f"On {inputs}: you returned {loss:.6g}, expected {exp_loss:.6g}.")
    if not isinstance(grads, dict):
        fail(f"grads is {describe(grads)}; it should be a dict with the same names as params")
    if set(grads) != set(params):
        fail(f"grads has the names {sorted(grads)}; it should have the names of params, {sorted(params)}")
    right = None
    for layer, what in LENET5_LAYERS:
        for kind in ("weight", "bias"):
            key = f"{layer}.{kind}"
            out = as_array(grads[key], f"grads[{key!r}]")
            expect_shape(out, exp_grads[key].shape, f"grads[{key!r}]", why=f"params[{key!r}]'s shape")
            if not np.allclose(out, exp_grads[key], rtol=1e-5, atol=1e-9):
                where = f"the gradients down to {right} are right, so look at the backward step just below it" if right else "it is the first layer of the backward pass: check dlogits and the last linear layer's backward"
                fail(f"grads[{key!r}] ({what}) is wrong; {where}", f"On {inputs}.")
        right = what


@check(points=1)
def lenet5_logits(lenet5_loss):
    """lenet5_loss: the logits of the forward pass (y=None)"""
    params, X, _ = _lenet5_case(15, 3)
    _check_lenet5_logits(lenet5_loss, params, X)


@check(points=2)
def lenet5_loss_and_grads(lenet5_loss):
    """lenet5_loss: the loss and the gradient of every parameter"""
    params, X, y = _lenet5_case(16, 3)
    _check_lenet5_grads(lenet5_loss, params, X, y)


@check(points=1, hidden=True)
def lenet5_random(lenet5_loss, seed: int = 0):
    """lenet5_loss: seeded random weights, images and labels"""
    params, X, y = _lenet5_case(seed, 5)
    _check_lenet5_logits(lenet5_loss, params, X)
    _check_lenet5_grads(lenet5_loss, params, X, y)


# ---------------------------------------------------------------------------------------------
# train_classifier
# ---------------------------------------------------------------------------------------------


def digits_32x32():
    """scikit-learn's digits upsampled to 32x32 (each pixel a 4x4 block), normalised per channel
    with the training statistics: ``(X_train, y_train, X_test, y_test)``, float32."""
    from cnnlib.data import load_digits

    (X_train, y_train), (X_test, y_test) = load_digits("train"), load_digits("test")
    block = np.ones((1, 1, 4, 4), dtype=np.float32)
    X_train, X_test = np.kron(X_train.astype(np.float32), block), np.kron(X_test.astype(np.float32), block)
    mean, std = X_train.mean(axis=(0, 2, 3), keepdims=True), X_train.std(axis=(0, 2, 3), keepdims=True)
    return (X_train - mean) / std, y_train, (X_test - mean) / std, y_test


@check(points=3)
def train_classifier_digits(train_classifier):
    """train_classifier: LeNet-5 trained on scikit-learn's digits reaches the stated test accuracy"""
    X_train, y_train, X_test, y_test = digits_32x32()
    result = call(train_classifier, X_train, y_train, progress=False, forbid=TRAIN_FORBID, time_limit=TRAIN_TIME_LIMIT, **TRAIN_SETTINGS)
    params, history = _unpack(result, 2, "train_classifier", "(params, history)")
    if not isinstance(params, dict):
        fail(f"the params it returns are {describe(params)}; they should be LeNet-5's parameter dict")
    expected = ref.lenet5().params
    if set(params) != set(expected):
        fail(f"the params dict has the names {sorted(params)}; it should have LeNet-5's, {sorted(expected)}")
    params = {k: as_array(v, f"params[{k!r}]") for k, v in params.items()}
    for k, v in params.items():
        expect_shape(v, expected[k].shape, f"params[{k!r}]")
        if not np.all(np.isfinite(v)):
            fail(f"params[{k!r}] holds NaN or infinity: training diverged (a sign error in an update, or a softmax that overflows)")
    if not isinstance(history, dict) or not isinstance(history.get("loss"), (list, tuple, np.ndarray)):
        fail(f"history is {describe(history)}; it should be a dict whose 'loss' is the list of mini-batch losses")
    losses = as_array(np.asarray(history["loss"], dtype=float), "history['loss']", ndim=1)
    steps = TRAIN_SETTINGS["num_epochs"] * math.ceil(len(X_train) / TRAIN_SETTINGS["batch_size"])
    if len(losses) != steps:
        fail(f"history['loss'] has {len(losses)} entries; it should have one per mini-batch: {TRAIN_SETTINGS['num_epochs']} epochs x ceil({len(X_train)} / {TRAIN_SETTINGS['batch_size']}) = {steps}")
    logits = _reference_lenet5(params, X_test, None)
    accuracy = float((logits.argmax(axis=1) == y_test).mean())
    if accuracy < TRAIN_MIN_ACCURACY:
        first, last = losses[: steps // 8].mean(), losses[-(steps // 8) :].mean()
        trend = f" (the training loss went from {first:.3f} in the first epoch to {last:.3f} in the last)"
        fail(
            f"the trained network classifies {accuracy:.1%} of the {len(y_test)} test digits correctly; it should reach {TRAIN_MIN_ACCURACY:.0%}"
            + ("" if is_hidden() else trend)
            + ". Check the order of a step (forward, loss, backward, update), that each epoch visits every training image once in a new random order, and the sign of the update"
        )
