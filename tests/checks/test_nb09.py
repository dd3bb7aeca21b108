"""The checks of notebook 09 pass two correct implementations of each exercise and name each mistake."""

import numpy as np
import pytest

from cnnlib.checks import nb09
from checkhelpers import assert_passes, run


def assert_fails(check, *args, expect, **kwargs):
    result = run(check, *args, **kwargs)
    assert not result.passed
    assert expect in result.message, result.message
    return result


# ---------------------------------------------------------------------------------------------
# Batch norm: two correct implementations, and parametrised wrong ones
# ---------------------------------------------------------------------------------------------


def bn_forward_vectorised(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        m = x.size // x.shape[1]
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)
    else:
        mean, var = running_mean, running_var
        running_mean, running_var = running_mean.copy(), running_var.copy()
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
    out = gamma.reshape(shape) * x_hat + beta.reshape(shape)
    return out, running_mean, running_var, (x_hat, inv_std, gamma, axes)


def bn_backward_vectorised(dout, cache):
    x_hat, inv_std, gamma, axes = cache
    shape = (1, -1) + (1,) * (dout.ndim - 2)
    dx_hat = dout * gamma.reshape(shape)
    dx = inv_std.reshape(shape) * (dx_hat - dx_hat.mean(axis=axes, keepdims=True) - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))
    return dx, (dout * x_hat).sum(axis=axes), dout.sum(axis=axes)


def _as_columns(a):
    """(N, C, ...) -> (M, C): every value of a channel in one column."""
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _from_columns(cols, shape):
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return np.moveaxis(cols.reshape(moved), -1, 1)


def bn_forward_loops(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    """Channel by channel, with the staged computation of CS231n, and a dict cache."""
    cols = _as_columns(x)
    m, C = cols.shape
    out = np.empty_like(cols)
    new_mean = np.array(running_mean, dtype=float)
    new_var = np.array(running_var, dtype=float)
    mus, vars_ = np.empty(C), np.empty(C)
    for c in range(C):
        v = cols[:, c]
        if training:
            mu = sum(v) / m
            var = sum((v - mu) ** 2) / m
            new_mean[c] = (1 - momentum) * running_mean[c] + momentum * mu
            new_var[c] = (1 - momentum) * running_var[c] + momentum * var * m / (m - 1)
        else:
            mu, var = running_mean[c], running_var[c]
        mus[c], vars_[c] = mu, var
        out[:, c] = gamma[c] * (v - mu) / np.sqrt(var + eps) + beta[c]
    cache = {"x": cols, "mu": mus, "var": vars_, "gamma": gamma, "eps": eps, "shape": x.shape}
    return _from_columns(out, x.shape), new_mean, new_var, cache


def bn_backward_loops(dout, cache):
    """Back through each stage of the computation graph (mean, centred, variance, std, x_hat)."""
    cols, mu, var, gamma, eps, shape = cache["x"], cache["mu"], cache["var"], cache["gamma"], cache["eps"], cache["shape"]
    d = _as_columns(dout)
    m = cols.shape[0]
    xc = cols - mu
    std = np.sqrt(var + eps)
    x_hat = xc / std
    dbeta = d.sum(axis=0)
    dgamma = (d * x_hat).sum(axis=0)
    dx_hat = d * gamma
    dstd = -(dx_hat * xc).sum(axis=0) / std**2
    dvar = dstd / (2 * std)
    dxc = dx_hat / std + 2 * xc * dvar / m
    dx = dxc - dxc.mean(axis=0)
    return _from_columns(dx, tuple(shape)), dgamma, dbeta


CORRECT_BN = [(bn_forward_vectorised, bn_backward_vectorised), (bn_forward_loops, bn_backward_loops)]


@pytest.mark.parametrize("forward,backward", CORRECT_BN)
def test_batchnorm_correct_implementations_pass(forward, backward):
    assert_passes(nb09.batchnorm_forward_training, forward)
    assert_passes(nb09.batchnorm_forward_evaluation, forward)
    assert_passes(nb09.batchnorm_forward_spatial, forward)
    for seed in (0, 1, 2):
        assert_passes(nb09.batchnorm_forward_random, forward, seed=seed)
        assert_passes(nb09.batchnorm_backward_random, forward, backward, seed=seed)
    assert_passes(nb09.batchnorm_backward_examples, forward, backward)


def make_bn_forward(*, ddof_norm=0, ddof_running=1, reversed_momentum=False, update_in_eval=False, batch_stats_in_eval=False,
                    axes_of=None, no_eps=False, swap=False, frozen=False, running_count=None, in_place=False):
    """A batch-norm forward with one mistake switched on."""

    def forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
        axes = axes_of(x) if axes_of else (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        batch_mean = x.mean(axis=axes, keepdims=True)
        batch_var_b = x.var(axis=axes, keepdims=True)
        m = x.size // x.shape[1] if running_count is None else running_count(x)
        e = 0.0 if no_eps else eps
        if training or batch_stats_in_eval:
            mean, var = batch_mean, x.var(axis=axes, keepdims=True, ddof=ddof_norm)
        else:
            mean, var = running_mean.reshape(shape), running_var.reshape(shape)
        x_hat = (x - mean) / np.sqrt(var + e)
        g, b = (beta, gamma) if swap else (gamma, beta)
        out = g.reshape(shape) * x_hat + b.reshape(shape)
        rm, rv = running_mean.copy(), running_var.copy()
        if (training or update_in_eval) and not frozen:
            bm, bv = batch_mean.reshape(-1)[: len(rm)], batch_var_b.reshape(-1)[: len(rm)]
            if ddof_running == 1:
                bv = bv * m / (m - 1)
            a = 1 - momentum if not reversed_momentum else momentum
            rm = a * rm + (1 - a) * bm
            rv = a * rv + (1 - a) * bv
        if in_place:
            running_mean[...] = rm
            running_var[...] = rv
        return out, rm, rv, (x_hat, 1 / np.sqrt(var.reshape(-1)[: len(rm)] + e), gamma, axes)

    return forward


BN_FORWARD_MISTAKES = [
    (nb09.batchnorm_forward_training, make_bn_forward(ddof_running=0), "unbiased one, var * m / (m - 1)"),
    (nb09.batchnorm_forward_training, make_bn_forward(reversed_momentum=True), "momentum convention is reversed"),
    (nb09.batchnorm_forward_training, make_bn_forward(ddof_norm=1), "normalised with the unbiased variance"),
    (nb09.batchnorm_forward_training, make_bn_forward(no_eps=True), "you left out eps"),
    (nb09.batchnorm_forward_training, make_bn_forward(swap=True), "gamma and beta are swapped"),
    (nb09.batchnorm_forward_training, make_bn_forward(frozen=True), "running_mean did not change"),
    (nb09.batchnorm_forward_training, make_bn_forward(axes_of=lambda x: tuple(range(1, x.ndim))), "that is layer norm"),
    (nb09.batchnorm_forward_training, make_bn_forward(in_place=True), "changed its input (argument 4, 5) in place"),
    (nb09.batchnorm_forward_evaluation, make_bn_forward(update_in_eval=True), "in evaluation mode the running statistics stay as they are"),
    (nb09.batchnorm_forward_evaluation, make_bn_forward(batch_stats_in_eval=True), "normalise with running_mean and running_var"),
    (nb09.batchnorm_forward_evaluation, make_bn_forward(no_eps=True), "sqrt(running_var + eps)"),
    (nb09.batchnorm_forward_spatial, make_bn_forward(axes_of=lambda x: (0,) if x.ndim == 4 else (0,)), "per channel AND position"),
    (nb09.batchnorm_forward_spatial, make_bn_forward(axes_of=lambda x: (2, 3) if x.ndim == 4 else (0,)), "instance norm"),
    (nb09.batchnorm_forward_spatial, make_bn_forward(axes_of=lambda x: (1, 2, 3) if x.ndim == 4 else (0,)), "that is layer norm"),
    (nb09.batchnorm_forward_spatial, make_bn_forward(running_count=lambda x: x.shape[0]), "m = N * H * W"),
]


@pytest.mark.parametrize("check,forward,expect", BN_FORWARD_MISTAKES)
def test_batchnorm_forward_mistakes_are_named(check, forward, expect):
    assert_fails(check, forward, expect=expect)


def test_batchnorm_forward_running_mean_in_training_mode_is_named():
    def uses_running(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
        out, rm, rv, cache = bn_forward_vectorised(x, gamma, beta, running_mean, running_var, False, momentum, eps)
        _, rm, rv, _ = bn_forward_vectorised(x, gamma, beta, running_mean, running_var, training, momentum, eps)
        return out, rm, rv, cache

    assert_fails(nb09.batchnorm_forward_training, uses_running, expect="in training mode normalise with the batch's own mean")


def test_batchnorm_forward_reversed_momentum_is_named_in_hidden_check_without_inputs():
    result = assert_fails(nb09.batchnorm_forward_random, make_bn_forward(reversed_momentum=True), expect="momentum convention is reversed", seed=0)
    assert "On x of shape" not in result.message
    assert result.hidden


def test_batchnorm_forward_bad_return_and_forbidden_library():
    assert_fails(nb09.batchnorm_forward_training, lambda *a, **k: bn_forward_vectorised(*a, **k)[0], expect="should return a tuple of 4")

    def uses_reference(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
        from cnnlib.reference.normalization import batchnorm_forward

        return batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps)

    assert_fails(nb09.batchnorm_forward_training, uses_reference, expect="a library implementation")

    def not_written(*args, **kwargs):
        raise NotImplementedError()

    assert_fails(nb09.batchnorm_forward_training, not_written, expect="not written yet")


def make_bn_backward(kind):
    def backward(dout, cache):
        x_hat, inv_std, gamma, axes = cache
        shape = (1, -1) + (1,) * (dout.ndim - 2)
        dx, dgamma, dbeta = bn_backward_vectorised(dout, cache)
        dx_hat = dout * gamma.reshape(shape)
        s = inv_std.reshape(shape)
        if kind == "constant_stats":
            dx = dx_hat * s
        elif kind == "mean_only":
            dx = s * (dx_hat - dx_hat.mean(axis=axes, keepdims=True))
        elif kind == "no_gamma":
            dx = s * (dout - dout.mean(axis=axes, keepdims=True) - x_hat * (dout * x_hat).mean(axis=axes, keepdims=True))
        elif kind == "swap":
            dgamma, dbeta = dbeta, dgamma
        elif kind == "batch_axis_only":
            dgamma, dbeta = (dout * x_hat).sum(axis=0), dout.sum(axis=0)
        return dx, dgamma, dbeta

    return backward


BN_BACKWARD_MISTAKES = [
    ("constant_stats", "treats the mean and variance as constants"),
    ("mean_only", "through the mean but not through the variance"),
    ("no_gamma", "forgets gamma"),
    ("swap", "that is dbeta"),
    ("batch_axis_only", "should be (2,)"),
]


@pytest.mark.parametrize("kind,expect", BN_BACKWARD_MISTAKES)
def test_batchnorm_backward_mistakes_are_named(kind, expect):
    assert_fails(nb09.batchnorm_backward_examples, bn_forward_vectorised, make_bn_backward(kind), expect=expect)


def test_batchnorm_backward_dgamma_with_x_instead_of_x_hat_is_named():
    def forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
        out, rm, rv, cache = bn_forward_vectorised(x, gamma, beta, running_mean, running_var, training, momentum, eps)
        return out, rm, rv, cache + (x,)

    def backward(dout, cache):
        x_hat, inv_std, gamma, axes, x = cache
        dx, _, dbeta = bn_backward_vectorised(dout, cache[:4])
        return dx, (dout * x).sum(axis=axes), dbeta

    assert_fails(nb09.batchnorm_backward_examples, forward, backward, expect="dgamma multiplies dout by x")


def test_batchnorm_backward_needs_a_correct_forward_first():
    assert_fails(nb09.batchnorm_backward_examples, make_bn_forward(no_eps=True), bn_backward_vectorised, expect="make batchnorm_forward pass its checks first")


# ---------------------------------------------------------------------------------------------
# Layer norm
# ---------------------------------------------------------------------------------------------


def ln_vectorised(x, gamma, beta, eps=1e-5):
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    return gamma * (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps) + beta


def ln_loops(x, gamma, beta, eps=1e-5):
    out = np.empty_like(x, dtype=float)
    for i in range(x.shape[0]):
        v = x[i].ravel()
        mu = sum(v) / v.size
        var = sum((v - mu) ** 2) / v.size
        out[i] = gamma * (x[i] - mu) / np.sqrt(var + eps) + beta
    return out


@pytest.mark.parametrize("fn", [ln_vectorised, ln_loops])
def test_layernorm_correct_implementations_pass(fn):
    assert_passes(nb09.layernorm_forward_examples, fn)
    for seed in (0, 1, 2):
        assert_passes(nb09.layernorm_forward_random, fn, seed=seed)


def make_ln(axes_of=None, ddof=0, no_eps=False, swap=False):
    def layernorm(x, gamma, beta, eps=1e-5):
        axes = axes_of(x) if axes_of else tuple(range(1, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True, ddof=ddof)
        g, b = (beta, gamma) if swap else (gamma, beta)
        return g * (x - mean) / np.sqrt(var + (0 if no_eps else eps)) + b

    return layernorm


LN_MISTAKES = [
    (make_ln(axes_of=lambda x: (0,)), "that is batch norm"),
    (make_ln(ddof=1), "unbiased variance"),
    (make_ln(no_eps=True), "you left out eps"),
    (make_ln(swap=True), "gamma and beta are swapped"),
    (make_ln(axes_of=lambda x: (x.ndim - 1,)), "over the last axis only"),
    (make_ln(axes_of=lambda x: (1,)), "over the channel axis only"),
    (make_ln(axes_of=lambda x: (0,) + tuple(range(2, x.ndim))), "that is batch norm"),
]


@pytest.mark.parametrize("fn,expect", LN_MISTAKES)
def test_layernorm_mistakes_are_named(fn, expect):
    assert_fails(nb09.layernorm_forward_examples, fn, expect=expect)


def test_layernorm_returning_a_tuple_is_named():
    assert_fails(nb09.layernorm_forward_examples, lambda x, g, b, eps=1e-5: (ln_vectorised(x, g, b, eps), None), expect="only the output array")


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------


def dropout_forward_scaled_mask(x, p, training, rng):
    if not training:
        return x.copy(), None
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask


def dropout_backward_scaled_mask(dout, mask):
    return dout.copy() if mask is None else dout * mask


def dropout_forward_binomial(x, p, training, rng):
    """A different draw (binomial keep mask) and a different mask format (a dict)."""
    if not training:
        return x, {"keep": np.ones(x.shape, dtype=bool), "scale": 1.0}
    keep = rng.binomial(1, 1 - p, size=x.shape).astype(bool)
    out = np.where(keep, x / (1 - p), 0.0)
    return out, {"keep": keep, "scale": 1 / (1 - p)}


def dropout_backward_binomial(dout, mask):
    return np.where(mask["keep"], dout * mask["scale"], 0.0)


@pytest.mark.parametrize(
    "forward,backward", [(dropout_forward_scaled_mask, dropout_backward_scaled_mask), (dropout_forward_binomial, dropout_backward_binomial)]
)
def test_dropout_correct_implementations_pass(forward, backward):
    assert_passes(nb09.dropout_forward_training, forward)
    assert_passes(nb09.dropout_forward_evaluation, forward)
    assert_passes(nb09.dropout_backward_examples, forward, backward)
    for seed in (0, 1, 2):
        assert_passes(nb09.dropout_random, forward, backward, seed=seed)


def make_dropout(*, scale=lambda p: 1 / (1 - p), keep_prob=lambda p: 1 - p, test=lambda x, p: x, global_rng=False, rows=False):
    def forward(x, p, training, rng):
        if not training:
            return test(x, p), None
        source = np.random if global_rng else rng
        shape = (x.shape[0],) + (1,) * (x.ndim - 1) if rows else x.shape
        keep = np.broadcast_to(source.random(shape) < keep_prob(p), x.shape)
        mask = keep * scale(p)
        return x * mask, mask

    return forward


DROPOUT_FORWARD_MISTAKES = [
    (nb09.dropout_forward_training, make_dropout(scale=lambda p: 1.0), "not rescaled"),
    (nb09.dropout_forward_training, make_dropout(scale=lambda p: 1 / p), "you divided the kept values by p"),
    (nb09.dropout_forward_training, make_dropout(scale=lambda p: p), "you multiplied the kept values by p"),
    (nb09.dropout_forward_training, make_dropout(scale=lambda p: 1 - p), "non-inverted"),
    (nb09.dropout_forward_training, make_dropout(keep_prob=lambda p: p), "p is the probability of dropping"),
    (nb09.dropout_forward_training, make_dropout(global_rng=True), "not from np.random's global functions"),
    (nb09.dropout_forward_training, make_dropout(rows=True), "drops whole rows"),
    (nb09.dropout_forward_evaluation, make_dropout(test=lambda x, p: x * (1 - p)), "that is old-style dropout"),
    (nb09.dropout_forward_evaluation, make_dropout(test=lambda x, p: x * p), "you multiplied by p at test time"),
    (nb09.dropout_forward_evaluation, make_dropout(test=lambda x, p: x / (1 - p)), "you divided by 1 - p at test time"),
    (nb09.dropout_forward_evaluation, lambda x, p, training, rng: make_dropout()(x, p, True, rng), "zeroes values at test time"),
]


@pytest.mark.parametrize("check,forward,expect", DROPOUT_FORWARD_MISTAKES)
def test_dropout_forward_mistakes_are_named(check, forward, expect):
    assert_fails(check, forward, expect=expect)


def test_dropout_ignoring_the_seed_is_named():
    def fixed(x, p, training, rng):
        return dropout_forward_scaled_mask(x, p, training, np.random.default_rng(0))

    assert_fails(nb09.dropout_forward_training, fixed, expect="same output for generators with different seeds")


DROPOUT_BACKWARD_MISTAKES = [
    (lambda dout, mask: dout * (mask != 0), "your dx is not rescaled"),
    (lambda dout, mask: dout.copy(), "ignores the mask"),
    (lambda dout, mask: dout * (mask == 0) / (1 - 0.25), "passes the gradient to the DROPPED values"),
]


@pytest.mark.parametrize("backward,expect", DROPOUT_BACKWARD_MISTAKES)
def test_dropout_backward_mistakes_are_named(backward, expect):
    assert_fails(nb09.dropout_backward_examples, dropout_forward_scaled_mask, backward, expect=expect)


def test_dropout_hidden_check_catches_a_hard_coded_p():
    def hard_coded(x, p, training, rng):
        return dropout_forward_scaled_mask(x, 0.25, training, rng)

    result = assert_fails(nb09.dropout_random, hard_coded, dropout_backward_scaled_mask, expect="dropout_forward", seed=0)
    assert result.hidden


# ---------------------------------------------------------------------------------------------
# Random crop and flip
# ---------------------------------------------------------------------------------------------


def crop_flip_loops(images, rng, padding=4):
    n, c, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.empty_like(images)
    for i in range(n):
        top, left = rng.integers(0, 2 * padding + 1, size=2)
        crop = padded[i, :, top : top + h, left : left + w]
        out[i] = crop[:, :, ::-1] if rng.random() < 0.5 else crop
    return out


def crop_flip_vectorised(images, rng, padding=4):
    n, c, h, w = images.shape
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=images.dtype)
    padded[:, :, padding : padding + h, padding : padding + w] = images
    tops = rng.integers(0, 2 * padding + 1, size=n)
    lefts = rng.integers(0, 2 * padding + 1, size=n)
    flips = rng.random(n) < 0.5
    rows = tops[:, None] + np.arange(h)  # (N, H)
    cols = lefts[:, None] + np.arange(w)  # (N, W)
    cols = np.where(flips[:, None], cols[:, ::-1], cols)
    return padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows[:, None, :, None], cols[:, None, None, :]]


@pytest.mark.parametrize("fn", [crop_flip_loops, crop_flip_vectorised])
def test_random_crop_flip_correct_implementations_pass(fn):
    assert_passes(nb09.random_crop_flip_examples, fn)
    for seed in (0, 1, 2):
        assert_passes(nb09.random_crop_flip_random, fn, seed=seed)


def make_crop_flip(*, high=lambda p: 2 * p + 1, low=0, flip_axis=-1, mode="constant", one_side=False, same_for_batch=False,
                   flip_prob=0.5, per_channel=False, same_offset=False, global_rng=False):
    def augment(images, rng, padding=4):
        source = np.random if global_rng else rng
        n, c, h, w = images.shape
        if one_side:
            pad = ((0, 0), (0, 0), (0, 2 * padding), (0, 2 * padding))
        else:
            pad = ((0, 0), (0, 0), (padding, padding), (padding, padding))
        padded = np.pad(images, pad, mode=mode)
        out = np.empty_like(images)
        fixed = None
        for i in range(n):
            if same_for_batch and fixed is not None:
                top, left, flip = fixed
            else:
                top = int(source.integers(low, high(padding))) if not global_rng else int(source.randint(low, high(padding)))
                left = top if same_offset else (int(source.integers(low, high(padding))) if not global_rng else int(source.randint(low, high(padding))))
                flip = source.random() < flip_prob
                fixed = (top, left, flip)
            crop = padded[i, :, top : top + h, left : left + w].copy()
            if per_channel and c > 1:
                crop[1:] = padded[i, 1:, 0:h, 0:w]
            if flip:
                crop = np.flip(crop, axis=flip_axis)
            out[i] = crop
        return out

    return augment


def shrinking_crop(images, rng, padding=4):
    return crop_flip_loops(images, rng, padding)[:, :, 1:, 1:]


def one_sided(images, rng, padding=4):
    """Pads right and bottom only, by `padding`: every shift goes the same way."""
    n, c, h, w = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (0, padding), (0, padding)))
    out = np.empty_like(images)
    for i in range(n):
        top, left = rng.integers(0, padding + 1, size=2)
        crop = padded[i, :, top : top + h, left : left + w]
        out[i] = crop[:, :, ::-1] if rng.random() < 0.5 else crop
    return out


CROP_MISTAKES = [
    (make_crop_flip(high=lambda p: 2 * p), "never uses the largest offset"),
    (make_crop_flip(flip_axis=-2), "upside down"),
    (make_crop_flip(mode="edge"), "'edge' mode"),
    (make_crop_flip(mode="reflect"), "'reflect' mode"),
    (one_sided, "one way only"),
    (make_crop_flip(same_for_batch=True), "the same crop and flip"),
    (make_crop_flip(flip_prob=0.0), "never flips"),
    (make_crop_flip(flip_prob=1.0), "always flips"),
    (make_crop_flip(flip_prob=0.15), "flip each with probability 1/2"),
    (make_crop_flip(per_channel=True), "channels of one image differently"),
    (make_crop_flip(same_offset=True), "same offset for rows and columns"),
    (make_crop_flip(low=1), "never uses the offset 0"),
    (make_crop_flip(global_rng=True), "not from np.random's global functions"),
    (shrinking_crop, "should be (300, 2, 6, 7)"),
    (lambda images, rng, padding=4: crop_flip_loops(images.astype(np.float32), rng, padding), "keep the input's dtype"),
]


@pytest.mark.parametrize("fn,expect", CROP_MISTAKES)
def test_random_crop_flip_mistakes_are_named(fn, expect):
    assert_fails(nb09.random_crop_flip_examples, fn, expect=expect)


def test_random_crop_flip_ignoring_padding_fails_the_hidden_check():
    def ignores_padding(images, rng, padding=4):
        return crop_flip_loops(images, rng, 2)

    result = assert_fails(nb09.random_crop_flip_random, ignores_padding, expect="random_crop_flip", seed=0)
    assert result.hidden


def test_random_crop_flip_keeps_uint8_in_the_hidden_check():
    def to_float(images, rng, padding=4):
        return crop_flip_loops(images.astype(np.float64), rng, padding)

    assert_fails(nb09.random_crop_flip_random, to_float, expect="keep the input's dtype", seed=1)


def test_batchnorm_backward_reading_a_plain_tuple_cache_by_name_gets_a_hint():
    """While grading, a NamedTuple cache comes back as a plain tuple; the message says what to do."""

    def forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
        out, rm, rv, cache = bn_forward_vectorised(x, gamma, beta, running_mean, running_var, training, momentum, eps)
        return out, rm, rv, tuple(cache)

    def backward(dout, cache):
        return bn_backward_vectorised(dout, (cache.x_hat,) + tuple(cache[1:]))

    assert_fails(nb09.batchnorm_backward_examples, forward, backward, expect="unpack it by position")
