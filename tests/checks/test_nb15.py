"""The checks of notebook 15 pass two correct implementations of each exercise and name each recognised mistake."""

import math

import numpy as np
import pytest

from cnnlib.checks import nb15
from checkhelpers import assert_passes, run


def assert_fails(check, *args, expect, **kwargs):
    result = run(check, *args, **kwargs)
    assert not result.passed, f"{check.__name__} passed a wrong answer"
    assert expect in result.message, result.message
    return result


HIDDEN_SEEDS = (1515, 3, 42)

# ---------------------------------------------------------------------------------------------
# depthwise_separable_params
# ---------------------------------------------------------------------------------------------


def separable_params_formula(c_in, c_out, k):
    return (k * k + 1) * c_in + (c_in + 1) * c_out


def separable_params_by_layer(c_in, c_out, k):
    """Layer by layer, as a list of parameter tensors."""
    shapes = [(c_in, 1, k, k), (c_in,), (c_out, c_in, 1, 1), (c_out,)]
    return sum(math.prod(s) for s in shapes)


@pytest.mark.parametrize("fn", [separable_params_formula, separable_params_by_layer])
def test_separable_params_correct(fn):
    assert_passes(nb15.depthwise_separable_params_examples, fn)
    for seed in HIDDEN_SEEDS:
        assert_passes(nb15.depthwise_separable_params_random, fn, seed=seed)


@pytest.mark.parametrize("fn, words", [
    (lambda c_in, c_out, k: (k * k * c_in + 1) * c_out, "standard k x k convolution"),
    (lambda c_in, c_out, k: (k * k * c_in + 1) * c_in + (c_in + 1) * c_out, "depthwise step is counted as a standard convolution"),
    (lambda c_in, c_out, k: (k * k + 1) * c_in, "pointwise 1 x 1 convolution is missing"),
    (lambda c_in, c_out, k: k * k * c_in + c_in * c_out, "the biases are missing"),
    (lambda c_in, c_out, k: k * k * c_in + (c_in + 1) * c_out, "depthwise step's biases are missing"),
    (lambda c_in, c_out, k: (k * k + 1) * c_in + c_in * c_out, "pointwise step's biases are missing"),
    (lambda c_in, c_out, k: (k + 1) * c_in + (c_in + 1) * c_out, "treated as 1D"),
    (lambda c_in, c_out, k: (k * k + 1) * c_in * c_out + (c_in + 1) * c_out, "c_out filters per input channel"),
    (lambda c_in, c_out, k: (k * k + 1) * c_in + (c_in + 1) * c_in, "maps to c_out channels, not c_in"),
    (lambda c_in, c_out, k: 1000, "which is wrong"),
    (lambda c_in, c_out, k: float((k * k + 1) * c_in + (c_in + 1) * c_out) + 0.5, "whole number"),
])
def test_separable_params_mistakes(fn, words):
    assert_fails(nb15.depthwise_separable_params_examples, fn, expect=words)
    hidden = assert_fails(nb15.depthwise_separable_params_random, fn, seed=1515, expect=words)
    assert "On c_in=" not in hidden.message


def test_separable_params_forbids_the_library():
    from cnnlib.arithmetic import depthwise_separable_params

    assert_fails(nb15.depthwise_separable_params_examples, lambda c_in, c_out, k: depthwise_separable_params(c_in, c_out, k), expect="library implementation")


# ---------------------------------------------------------------------------------------------
# depthwise_separable_macs
# ---------------------------------------------------------------------------------------------


def separable_macs_formula(c_in, c_out, k, h_out, w_out):
    return h_out * w_out * c_in * (k * k + c_out)


def separable_macs_loops(c_in, c_out, k, h_out, w_out):
    depthwise = sum(k * k for _ in range(c_in)) * h_out * w_out  # one k x k window per channel and position
    pointwise = sum(c_in for _ in range(c_out)) * h_out * w_out  # one c_in-long dot product per output channel and position
    return depthwise + pointwise


@pytest.mark.parametrize("fn", [separable_macs_formula, separable_macs_loops])
def test_separable_macs_correct(fn):
    assert_passes(nb15.depthwise_separable_macs_examples, fn)
    for seed in HIDDEN_SEEDS:
        assert_passes(nb15.depthwise_separable_macs_random, fn, seed=seed)


@pytest.mark.parametrize("fn, words", [
    (lambda c_in, c_out, k, h, w: h * w * c_in * k * k * c_out, "standard k x k convolution"),
    (lambda c_in, c_out, k, h, w: h * w * c_in * k * k * c_out + h * w * c_in * c_out, "multiplied by c_out"),
    (lambda c_in, c_out, k, h, w: h * w * c_in * k * k, "pointwise step is missing"),
    (lambda c_in, c_out, k, h, w: h * w * c_in * c_out, "depthwise step is missing"),
    (lambda c_in, c_out, k, h, w: 2 * h * w * c_in * (k * k + c_out), "FLOPs"),
    (lambda c_in, c_out, k, h, w: h * w * c_in * (k * k + c_out) + h * w * (c_in + c_out), "bias additions"),
    (lambda c_in, c_out, k, h, w: h * w * c_in * (k + c_out), "treated as 1D"),
    (lambda c_in, c_out, k, h, w: h * c_in * (k * k + c_out), "one spatial axis"),
    (lambda c_in, c_out, k, h, w: h * w * c_in * k * k + h * w * c_in * c_in, "pointwise step maps to c_out channels"),
])
def test_separable_macs_mistakes(fn, words):
    assert_fails(nb15.depthwise_separable_macs_examples, fn, expect=words)
    assert_fails(nb15.depthwise_separable_macs_random, fn, seed=1515, expect=words)


# ---------------------------------------------------------------------------------------------
# inverted_residual_params
# ---------------------------------------------------------------------------------------------


def inverted_formula(c_in, c_out, expansion, k=3):
    h = expansion * c_in
    expand = c_in * h + 2 * h if expansion > 1 else 0
    return expand + k * k * h + 2 * h + h * c_out + 2 * c_out


def inverted_layers(c_in, c_out, expansion, k=3):
    """A list of (weights, batch-norm channels) per convolution, summed."""
    hidden = expansion * c_in
    layers = []
    if expansion != 1:
        layers.append((c_in * hidden, hidden))
    layers += [(k * k * hidden, hidden), (hidden * c_out, c_out)]
    return sum(weights + 2 * channels for weights, channels in layers)


@pytest.mark.parametrize("fn", [inverted_formula, inverted_layers])
def test_inverted_correct(fn):
    assert_passes(nb15.inverted_residual_params_examples, fn)
    for seed in HIDDEN_SEEDS:
        assert_passes(nb15.inverted_residual_params_random, fn, seed=seed)


def inverted_variant(*, norm=2, bias=0, expand_always=False, expand_never=False, hidden_from_out=False, depthwise_standard=False,
                     shortcut=0, kernel_ignored=False, no_project_bn=False):
    def fn(c_in, c_out, expansion, k=3):
        k = 3 if kernel_ignored else k
        h = expansion * (c_out if hidden_from_out else c_in)
        has_expand = (expansion > 1 or expand_always) and not expand_never
        total = ((c_in + bias) * h + norm * h) if has_expand else 0
        total += (k * k * (h if depthwise_standard else 1) + bias) * h + norm * h
        total += (h + bias) * c_out + (0 if no_project_bn else norm) * c_out
        if c_in != c_out and shortcut:  # 1: a 1x1 convolution, 2: with its batch norm
            total += c_in * c_out + (2 * c_out if shortcut == 2 else 0)
        return total

    return fn


@pytest.mark.parametrize("fn, words", [
    (inverted_variant(norm=0), "batch norms are missing"),
    (inverted_variant(no_project_bn=True), "projection's batch norm is missing"),
    (inverted_variant(norm=4), "running mean and variance are buffers"),
    (inverted_variant(bias=1), "gave the convolutions biases"),
    (inverted_variant(depthwise_standard=True), "counted as a standard convolution"),
    (inverted_variant(expand_always=True), "with expansion = 1 the block has no expansion layer"),
    (inverted_variant(expand_never=True), "expansion layer is missing"),
    (inverted_variant(hidden_from_out=True), "multiplies the INPUT channels"),
    (inverted_variant(shortcut=2), "projection shortcut (1 x 1 convolution and batch norm)"),
    (inverted_variant(shortcut=1), "1 x 1 projection shortcut"),
    (inverted_variant(kernel_ignored=True), "kernel size k is ignored"),
])
def test_inverted_mistakes(fn, words):
    assert_fails(nb15.inverted_residual_params_examples, fn, expect=words)
    hits = [run(nb15.inverted_residual_params_random, fn, seed=seed) for seed in HIDDEN_SEEDS]
    assert all(not r.passed for r in hits)
    assert any(words in r.message for r in hits), [r.message for r in hits]


def test_inverted_with_a_default_k_must_accept_three_arguments():
    assert_fails(nb15.inverted_residual_params_examples, lambda c_in, c_out, expansion, k: inverted_formula(c_in, c_out, expansion, k), expect="raised TypeError")


# ---------------------------------------------------------------------------------------------
# groupnorm_forward
# ---------------------------------------------------------------------------------------------


def gn_vectorised(x, gamma, beta, num_groups, eps=1e-5):
    N, C = x.shape[:2]
    if C % num_groups:
        raise ValueError(f"num_groups must divide C = {C}, got {num_groups}")
    g = x.reshape(N, num_groups, -1)
    mean, var = g.mean(axis=2, keepdims=True), g.var(axis=2, keepdims=True)
    x_hat = ((g - mean) / np.sqrt(var + eps)).reshape(x.shape)
    out = x_hat * gamma[None, :, None, None] + beta[None, :, None, None]
    return out, (x_hat, mean, var, gamma)


def gn_loops(x, gamma, beta, num_groups, eps=1e-5):
    """Example by example and group by group, with a dict cache."""
    N, C = x.shape[:2]
    if C % num_groups != 0:
        raise ValueError("num_groups must be a divisor of the number of channels")
    size = C // num_groups
    out = np.empty_like(x, dtype=float)
    for n in range(N):
        for g in range(num_groups):
            block = x[n, g * size : (g + 1) * size]
            normalised = (block - block.mean()) / math.sqrt(block.var() + eps)
            for c in range(size):
                channel = g * size + c
                out[n, channel] = gamma[channel] * normalised[c] + beta[channel]
    return out, {"x": x, "num_groups": num_groups}


@pytest.mark.parametrize("fn", [gn_vectorised, gn_loops])
def test_groupnorm_correct(fn):
    assert_passes(nb15.groupnorm_forward_examples, fn)
    assert_passes(nb15.groupnorm_forward_errors, fn)
    for seed in HIDDEN_SEEDS:
        assert_passes(nb15.groupnorm_forward_random, fn, seed=seed)


def gn_axes(axes_of):
    """Normalise over ``axes_of(x)`` of x (or of the view it returns)."""
    def fn(x, gamma, beta, num_groups, eps=1e-5):
        view, axes = axes_of(x, num_groups)
        mean, var = view.mean(axis=axes, keepdims=True), view.var(axis=axes, keepdims=True)
        x_hat = ((view - mean) / np.sqrt(var + eps)).reshape(x.shape)
        return x_hat * gamma[None, :, None, None] + beta[None, :, None, None], None

    return fn


def gn_per_group_gamma(x, gamma, beta, num_groups, eps=1e-5):
    N, C = x.shape[:2]
    g = x.reshape(N, num_groups, -1)
    x_hat = (g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + eps)  # (N, G, C_g * H * W)
    return (x_hat * gamma[None, :num_groups, None] + beta[None, :num_groups, None]).reshape(x.shape), None


def gn_changed(**options):
    def fn(x, gamma, beta, num_groups, eps=1e-5):
        N, C = x.shape[:2]
        g = x.reshape(N, num_groups, -1)
        var = g.var(axis=2, keepdims=True, ddof=options.get("ddof", 0)) + (0 if options.get("no_eps") else eps)
        x_hat = ((g - g.mean(axis=2, keepdims=True)) / (var if options.get("no_sqrt") else np.sqrt(var))).reshape(x.shape)
        scale, shift = (beta, gamma) if options.get("swap") else (gamma, beta)
        if options.get("no_affine"):
            return x_hat, None
        return x_hat * scale[None, :, None, None] + shift[None, :, None, None], None

    return fn


@pytest.mark.parametrize("fn, words", [
    (gn_axes(lambda x, G: (x, (2, 3))), "that is instance norm"),
    (gn_axes(lambda x, G: (x, (0, 2, 3))), "that is batch norm"),
    (gn_axes(lambda x, G: (x, (1, 2, 3))), "that is layer norm"),
    (gn_axes(lambda x, G: (x.reshape(x.shape[0], G, -1), (0, 2))), "averaged over the batch as well"),
    (gn_axes(lambda x, G: (x.reshape(x.shape[0], x.shape[1] // G, G, *x.shape[2:]), (1, 3, 4))), "every num_groups-th channel"),
    (gn_per_group_gamma, "applied gamma and beta per group"),
    (gn_changed(ddof=1), "unbiased variance"),
    (gn_changed(no_eps=True), "left out eps"),
    (gn_changed(no_sqrt=True), "divided by the variance"),
    (gn_changed(swap=True), "swapped"),
    (gn_changed(no_affine=True), "not applied"),
])
def test_groupnorm_mistakes(fn, words):
    assert_fails(nb15.groupnorm_forward_examples, fn, expect=words)
    hits = [run(nb15.groupnorm_forward_random, fn, seed=seed) for seed in HIDDEN_SEEDS]
    assert all(not r.passed for r in hits)
    assert any(words in r.message for r in hits), [r.message for r in hits]
    assert not any("On x of shape" in r.message for r in hits)


def test_groupnorm_must_return_the_cache_and_raise_for_bad_groups():
    assert_fails(nb15.groupnorm_forward_examples, lambda *args, **kw: gn_vectorised(*args, **kw)[0], expect="should return a pair (out, cache)")

    def no_error(x, gamma, beta, num_groups, eps=1e-5):
        return gn_vectorised(x, gamma, beta, 1, eps)

    assert_fails(nb15.groupnorm_forward_errors, no_error, expect="should raise ValueError")

    def silent_error(x, gamma, beta, num_groups, eps=1e-5):
        if x.shape[1] % num_groups:
            raise ValueError("bad")
        return gn_vectorised(x, gamma, beta, num_groups, eps)

    assert_fails(nb15.groupnorm_forward_errors, silent_error, expect="name the argument")


def test_groupnorm_forbids_torch():
    def with_torch(x, gamma, beta, num_groups, eps=1e-5):
        import torch

        out = torch.nn.functional.group_norm(torch.tensor(x), num_groups, torch.tensor(gamma), torch.tensor(beta), eps)
        return out.numpy(), None

    assert_fails(nb15.groupnorm_forward_examples, with_torch, expect="library implementation")


# ---------------------------------------------------------------------------------------------
# he_init
# ---------------------------------------------------------------------------------------------


def fan_in_of(shape):
    return shape[1] * math.prod(shape[2:])


def he_normal(shape, rng):
    return rng.normal(0.0, np.sqrt(2 / fan_in_of(shape)), size=shape)


def he_standard(shape, rng):
    fan_in = int(np.prod(shape[1:]))
    return rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)


@pytest.mark.parametrize("fn", [he_normal, he_standard])
def test_he_init_correct(fn):
    assert_passes(nb15.he_init_examples, fn)
    for seed in range(10):  # statistical checks: a correct answer must pass whatever the seed
        assert_passes(nb15.he_init_random, fn, seed=seed)


def he_with_variance(variance_of, distribution="normal"):
    def fn(shape, rng):
        fan_in, fan_out = fan_in_of(shape), shape[0] * math.prod(shape[2:])
        variance = variance_of(fan_in, fan_out, shape)
        if distribution == "uniform":
            bound = math.sqrt(3 * variance)
            return rng.uniform(-bound, bound, size=shape)
        return rng.normal(0.0, math.sqrt(variance), size=shape)

    return fn


@pytest.mark.parametrize("fn, words", [
    (he_with_variance(lambda fi, fo, s: 1 / fi), "variance 1 / fan_in"),
    (he_with_variance(lambda fi, fo, s: 2 / fo), "variance 2 / fan_out"),
    (he_with_variance(lambda fi, fo, s: 2 / (fi + fo)), "Xavier's variance 2 / (fan_in + fan_out)"),
    (he_with_variance(lambda fi, fo, s: 1 / (fi + fo)), "variance 1 / (fan_in + fan_out)"),
    (he_with_variance(lambda fi, fo, s: (2 / fi) ** 2), "where the standard deviation goes"),
    (he_with_variance(lambda fi, fo, s: 1.0), "standard normal"),
    (he_with_variance(lambda fi, fo, s: 2 / (s[0] * fi)), "multiplies both channel counts"),
    (he_with_variance(lambda fi, fo, s: 2 / fi, "uniform"), "with the right variance (that is PyTorch's kaiming_uniform_)"),
    (he_with_variance(lambda fi, fo, s: 2 / (3 * fi), "uniform"), "not the right variance either"),
    (he_with_variance(lambda fi, fo, s: 2 / (fi * 1.7)), "do not have the variance 2 / fan_in"),
])
def test_he_init_mistakes(fn, words):
    assert_fails(nb15.he_init_examples, fn, expect=words)
    assert_fails(nb15.he_init_random, fn, seed=1515, expect=words)


@pytest.mark.parametrize("fn, words", [
    (he_with_variance(lambda fi, fo, s: 2 / s[1]), "leaves out the kernel"),
    (he_with_variance(lambda fi, fo, s: 2 / (s[1] * s[2])), "one side of the kernel"),
    (he_with_variance(lambda fi, fo, s: 2 / s[0]), "uses shape[0]"),
])
def test_he_init_conv_fan_mistakes(fn, words):
    """Recognised on the visible convolution weight (on a dense weight these slips are errors or other mistakes)."""
    with pytest.raises(AssertionError, match=words.replace("[", r"\[").replace("]", r"\]")):
        nb15._check_he(fn, (128, 32, 3, 3), seed=16)
    assert not run(nb15.he_init_examples, fn).passed
    assert not run(nb15.he_init_random, fn, seed=1515).passed


def test_he_init_other_mistakes():
    assert_fails(nb15.he_init_examples, lambda shape, rng: np.random.normal(0, math.sqrt(2 / fan_in_of(shape)), size=shape), expect="same seed")
    assert_fails(nb15.he_init_examples, lambda shape, rng: he_normal(shape, np.random.default_rng(7)), expect="different seeds")
    assert_fails(nb15.he_init_examples, lambda shape, rng: np.abs(he_normal(shape, rng)), expect="far from 0")
    assert_fails(nb15.he_init_examples, lambda shape, rng: he_normal(shape, rng)[..., None], expect="should have the shape")
    assert_fails(nb15.he_init_examples, lambda shape, rng: rng.integers(-2, 3, size=shape), expect="floating-point")
    laplace = lambda shape, rng: rng.laplace(0, math.sqrt(1 / fan_in_of(shape)), size=shape)  # noqa: E731  variance 2 / fan_in
    assert_fails(nb15.he_init_examples, laplace, expect="distribution is not normal")


def test_he_init_hidden_messages_hide_the_shapes():
    result = run(nb15.he_init_random, he_with_variance(lambda fi, fo, s: 1 / fi), seed=1515)
    assert "he_init:" in result.message and "(" not in result.message.split(":")[0]
    assert "Your variance is" not in result.message


def test_he_init_forbids_the_library():
    from cnnlib.reference import he_init

    assert_fails(nb15.he_init_examples, lambda shape, rng: he_init(shape, rng), expect="library implementation")
