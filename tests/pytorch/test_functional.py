"""Every cnnlib.reference operation against its cnnlib.pytorch.functional twin, forward and backward, in float64."""

import inspect

import numpy as np
import pytest
import torch

import cnnlib.pytorch.functional as T
import cnnlib.reference as R
from cnnlib.reference import rel_error

TOLERANCE = 1e-10

# Reference names whose twin is a PyTorch class or tool rather than a function here (see T.__doc__).
NOT_MIRRORED = {
    "conv2d_forward_naive", "conv2d_backward_naive",  # the same operation as conv2d_forward/backward
    "SGD", "Adam",  # torch.optim
    "numerical_gradient", "gradcheck", "rel_error",  # torch.autograd.gradcheck
    "lenet5",  # cnnlib.pytorch.models.LeNet5 (tests/pytorch/test_parity.py)
}


def reference_operations():
    """The reference's public functions (not its classes: caches, layers, Sequential, optimisers)."""
    return {name for name in R.__all__ if inspect.isfunction(getattr(R, name))}


def test_every_reference_operation_has_a_twin_and_every_twin_a_reference():
    functions = {name for name in T.__all__ if inspect.isfunction(getattr(T, name))}
    assert reference_operations() - NOT_MIRRORED == functions
    assert NOT_MIRRORED - {"SGD", "Adam"} <= reference_operations()


@pytest.mark.parametrize("name", sorted(reference_operations() - NOT_MIRRORED))
def test_twin_has_the_reference_signature(name):
    reference, twin = inspect.signature(getattr(R, name)), inspect.signature(getattr(T, name))
    assert [(p.name, p.default) for p in reference.parameters.values()] == [(p.name, p.default) for p in twin.parameters.values()]


def numpy(value):
    return None if value is None else value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def assert_same(reference_values, twin_values):
    """Equal structure (a tuple or one value, ``None`` in the same places), values within TOLERANCE."""
    if not isinstance(reference_values, tuple):
        reference_values, twin_values = (reference_values,), (twin_values,)
    assert len(reference_values) == len(twin_values)
    for a, b in zip(reference_values, twin_values):
        assert (a is None) == (b is None)
        if a is not None:
            assert np.shape(a) == tuple(np.shape(numpy(b)))
            assert rel_error(a, numpy(b)) <= TOLERANCE


def check_pair(forward, backward, args, kwargs=None, *, seed=0):
    """Run a forward/backward pair on both paths with the same arrays and an upstream gradient; compare everything.

    Every value the forward returns before its cache is compared (batch norm's running statistics too).
    """
    kwargs = kwargs or {}
    torch_args = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    ref = getattr(R, forward)(*args, **kwargs)
    twin = getattr(T, forward)(*torch_args, **kwargs)
    assert_same(tuple(ref[:-1]), tuple(twin[:-1]))
    dout = np.random.default_rng(seed).standard_normal(ref[0].shape)
    assert_same(getattr(R, backward)(dout, ref[-1]), getattr(T, backward)(torch.from_numpy(dout), twin[-1]))


def random_conv_case(seed):
    rng = np.random.default_rng(seed)
    groups = int(rng.integers(1, 3))
    C, F = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
    KH, KW = (int(k) for k in rng.integers(1, 4, 2))
    stride = tuple(int(s) for s in rng.integers(1, 4, 2))
    padding = tuple(int(p) for p in rng.integers(0, 3, 2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
    H, W = (int(n) for n in rng.integers(7, 12, 2))
    x = rng.standard_normal((int(rng.integers(1, 4)), C, H, W))
    w = rng.standard_normal((F, C // groups, KH, KW))
    b = rng.standard_normal(F) if seed % 3 else None
    return x, w, b, stride, padding, dilation, groups


@pytest.mark.parametrize("seed", range(12))
def test_conv2d(seed):
    check_pair("conv2d_forward", "conv2d_backward", random_conv_case(seed), seed=seed)


@pytest.mark.parametrize("seed", range(6))
def test_im2col_and_col2im(seed):
    x, w, _, stride, padding, dilation, _ = random_conv_case(seed)
    kernel = w.shape[2:]
    cols = R.im2col(x, kernel, stride, padding, dilation)
    assert_same(cols, T.im2col(torch.from_numpy(x), kernel, stride, padding, dilation))
    assert_same(R.col2im(cols, x.shape[2:], kernel, stride, padding, dilation), T.col2im(torch.from_numpy(cols), x.shape[2:], kernel, stride, padding, dilation))


@pytest.mark.parametrize("mode", ["valid", "full", "same"])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_signal_and_image_correlation(mode, k):
    rng = np.random.default_rng(k)
    x, w = rng.standard_normal(9), rng.standard_normal(k)
    image, kernel = rng.standard_normal((7, 8)), rng.standard_normal((k, max(1, k - 1)))
    for name, args in (("cross_correlate1d", (x, w)), ("convolve1d", (x, w)), ("cross_correlate2d", (image, kernel)), ("convolve2d", (image, kernel))):
        assert_same(getattr(R, name)(*args, mode), getattr(T, name)(*(torch.from_numpy(a) for a in args), mode))


POOL_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), ceil_mode=True),
    dict(kernel_size=3, stride=2, ceil_mode=True),
]


@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pooling(case):
    x = np.random.default_rng(1).standard_normal((2, 3, 9, 8))
    check_pair("maxpool2d_forward", "maxpool2d_backward", (x,), case)


@pytest.mark.parametrize("case", POOL_CASES + [dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), dict(kernel_size=2, divisor_override=3)])
def test_average_pooling(case):
    x = np.random.default_rng(2).standard_normal((2, 3, 9, 8))
    check_pair("avgpool2d_forward", "avgpool2d_backward", (x,), case)


def test_global_average_pooling():
    check_pair("global_avg_pool_forward", "global_avg_pool_backward", (np.random.default_rng(3).standard_normal((2, 4, 5, 3)),))


@pytest.mark.parametrize("name, kwargs", [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("sigmoid", {}), ("tanh", {})])
def test_activations(name, kwargs):
    x = np.random.default_rng(4).standard_normal((3, 2, 4, 5)) * 3
    check_pair(f"{name}_forward", f"{name}_backward", (x,), kwargs)


@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((6, 7)), rng.standard_normal((4, 7)), rng.standard_normal(4) if bias else None
    check_pair("linear_forward", "linear_backward", (x, w, b))


@pytest.mark.parametrize("start_dim", [1, 2])
def test_flatten(start_dim):
    check_pair("flatten_forward", "flatten_backward", (np.random.default_rng(6).standard_normal((2, 3, 4, 5)), start_dim))


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(axis):
    x = np.random.default_rng(7).standard_normal((5, 6)) * 10
    assert_same(R.softmax(x, axis), T.softmax(torch.from_numpy(x), axis))
    assert_same(R.log_softmax(x, axis), T.log_softmax(torch.from_numpy(x), axis))


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_softmax_cross_entropy(label_smoothing):
    rng = np.random.default_rng(8)
    logits, y = rng.standard_normal((9, 5)) * 4, rng.integers(0, 5, 9)
    assert_same(R.softmax_cross_entropy(logits, y, label_smoothing), T.softmax_cross_entropy(torch.from_numpy(logits), torch.from_numpy(y), label_smoothing))


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 5, 6)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("running", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm(shape, training, running, affine):
    rng = np.random.default_rng(9)
    C = shape[1]
    x = rng.standard_normal(shape) * 2 + 1
    gamma, beta = (rng.standard_normal(C), rng.standard_normal(C)) if affine else (None, None)
    mean, var = (rng.standard_normal(C), rng.uniform(0.5, 2, C)) if running else (None, None)
    args = (x, gamma, beta, mean, var)
    check_pair("batchnorm_forward", "batchnorm_backward", args, dict(training=training, momentum=0.2, eps=1e-4))
    if running:  # the twin returns new running statistics and leaves the arguments alone
        before = torch.from_numpy(mean.copy())
        T.batchnorm_forward(torch.from_numpy(x), None, None, torch.from_numpy(mean), torch.from_numpy(var), training=training)
        assert torch.equal(torch.from_numpy(mean), before)


@pytest.mark.parametrize("shape", [(4, 7), (3, 2, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm(shape, affine):
    rng = np.random.default_rng(10)
    gamma, beta = (rng.standard_normal(shape[1:]), rng.standard_normal(shape[1:])) if affine else (None, None)
    check_pair("layernorm_forward", "layernorm_backward", (rng.standard_normal(shape) * 3, gamma, beta, 1e-3))


def test_dropout_masks_have_the_reference_meaning_and_backward_agrees():
    x = np.random.default_rng(11).standard_normal((200, 50))
    out, mask = T.dropout_forward(torch.from_numpy(x), 0.3, True, torch.Generator().manual_seed(0))
    values = set(np.unique(mask.numpy()).tolist())
    assert values == {0.0, 1 / 0.7}
    assert abs((mask.numpy() == 0).mean() - 0.3) < 0.01
    assert_same(x * mask.numpy(), out)
    again, _ = T.dropout_forward(torch.from_numpy(x), 0.3, True, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    dout = np.random.default_rng(12).standard_normal(x.shape)
    assert_same(R.dropout_backward(dout, mask.numpy()), T.dropout_backward(torch.from_numpy(dout), mask))
    test_out, test_mask = T.dropout_forward(torch.from_numpy(x), 0.3, False, None)
    assert test_mask is None and torch.equal(test_out, torch.from_numpy(x))
    assert_same(R.dropout_backward(dout, None), T.dropout_backward(torch.from_numpy(dout), None))


def test_sgd_momentum_step():
    rng = np.random.default_rng(13)
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    velocity = {"w": rng.standard_normal((3, 2))}  # "b" starts at zero
    ref_params, ref_velocity = R.sgd_momentum_step(params, grads, velocity, 0.1, 0.8)
    as_torch = lambda d: {k: torch.from_numpy(v) for k, v in d.items()}  # noqa: E731
    twin_params, twin_velocity = T.sgd_momentum_step(as_torch(params), as_torch(grads), as_torch(velocity), 0.1, 0.8)
    for name in params:
        assert_same(ref_params[name], twin_params[name])
        assert_same(ref_velocity[name], twin_velocity[name])


def test_float32_stays_float32_and_integers_compute_in_float64():
    x = torch.randn(2, 3, 5, 5)
    out, _ = T.conv2d_forward(x, torch.randn(4, 3, 3, 3), None)
    assert out.dtype == torch.float32
    assert T.cross_correlate1d(torch.arange(5), torch.tensor([1, -1])).dtype == torch.float64
    assert T.conv2d_forward(x, torch.randn(4, 3, 3, 3, dtype=torch.float64), None)[0].dtype == torch.float64


def test_outputs_are_plain_tensors_unless_an_input_requires_grad():
    x = torch.randn(2, 3)
    out, cache = T.relu_forward(x)
    assert not out.requires_grad and cache.out.requires_grad
    leaf = torch.randn(2, 3, requires_grad=True)
    out, _ = T.tanh_forward(leaf)
    out.sum().backward()  # composes with ordinary autograd
    torch.testing.assert_close(leaf.grad, 1 - torch.tanh(leaf.detach()) ** 2)


def test_backward_twins_check_dout_and_cache():
    _, cache = T.relu_forward(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"dout must have the forward output's shape \(2, 3\), got \(3, 2\)"):
        T.relu_backward(torch.randn(3, 2), cache)
    with pytest.raises(TypeError, match="cache must be the AutogradCache"):
        T.relu_backward(torch.randn(2, 3), R.relu_forward(np.zeros((2, 3)))[1])
    with pytest.raises(ValueError, match=r"x must have 4 dimensions \(N, C, H, W\)"):
        T.conv2d_forward(torch.randn(3, 5, 5), torch.randn(1, 3, 3, 3), None)


# -- notebook 15: depthwise convolutions, group and instance norm, initialisation -------------------


def random_depthwise_case(seed):
    rng = np.random.default_rng(seed)
    C, M, F = int(rng.integers(1, 5)), int(rng.integers(1, 3)), int(rng.integers(1, 5))
    KH, KW = (int(k) for k in rng.integers(1, 4, 2))
    stride = tuple(int(s) for s in rng.integers(1, 3, 2))
    padding = tuple(int(p) for p in rng.integers(0, 2, 2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, 2))
    x = rng.standard_normal((int(rng.integers(1, 4)), C, *(int(n) for n in rng.integers(6, 10, 2))))
    w_depthwise = rng.standard_normal((C * M, 1, KH, KW))
    b_depthwise = rng.standard_normal(C * M) if seed % 2 else None
    w_pointwise = rng.standard_normal((F, C * M, 1, 1))
    b_pointwise = rng.standard_normal(F) if seed % 3 else None
    return x, w_depthwise, b_depthwise, w_pointwise, b_pointwise, stride, padding, dilation


@pytest.mark.parametrize("seed", range(8))
def test_depthwise_conv2d(seed):
    x, w, b, _, _, stride, padding, dilation = random_depthwise_case(seed)
    check_pair("depthwise_conv2d_forward", "depthwise_conv2d_backward", (x, w, b, stride, padding, dilation), seed=seed)


@pytest.mark.parametrize("seed", range(8))
def test_depthwise_separable_conv2d(seed):
    check_pair("depthwise_separable_conv2d_forward", "depthwise_separable_conv2d_backward", random_depthwise_case(seed), seed=seed)


@pytest.mark.parametrize("shape, num_groups", [((4, 6), 3), ((3, 6, 5), 2), ((2, 6, 4, 5), 1), ((2, 6, 4, 5), 3), ((2, 6, 4, 5), 6)])
@pytest.mark.parametrize("affine", [True, False])
def test_groupnorm(shape, num_groups, affine):
    rng = np.random.default_rng(14)
    C = shape[1]
    gamma, beta = (rng.standard_normal(C), rng.standard_normal(C)) if affine else (None, None)
    check_pair("groupnorm_forward", "groupnorm_backward", (rng.standard_normal(shape) * 3 + 1, gamma, beta, num_groups, 1e-3))


@pytest.mark.parametrize("shape", [(3, 4, 7), (2, 3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_instancenorm(shape, affine):
    rng = np.random.default_rng(15)
    C = shape[1]
    gamma, beta = (rng.standard_normal(C), rng.standard_normal(C)) if affine else (None, None)
    check_pair("instancenorm_forward", "instancenorm_backward", (rng.standard_normal(shape) * 2 - 1, gamma, beta, 1e-4))


@pytest.mark.parametrize("shape", [(10, 20), (8, 3, 5, 5), (4, 6, 3), (2, 3, 2, 2, 2)])
def test_fan_in_and_fan_out(shape):
    assert R.fan_in_and_fan_out(shape) == T.fan_in_and_fan_out(shape)


@pytest.mark.parametrize("name, kwargs, variance", [
    ("he_init", {}, lambda fan_in, fan_out: 2 / fan_in),
    ("he_init", {"mode": "fan_out"}, lambda fan_in, fan_out: 2 / fan_out),
    ("he_init", {"distribution": "uniform"}, lambda fan_in, fan_out: 2 / fan_in),
    ("xavier_init", {}, lambda fan_in, fan_out: 2 / (fan_in + fan_out)),
    ("xavier_init", {"distribution": "uniform"}, lambda fan_in, fan_out: 2 / (fan_in + fan_out)),
])
def test_initialisations_have_the_variance_and_distribution_of_torch_nn_init(name, kwargs, variance):
    """Different generators give different numbers: compare the variance and the shape of the distribution."""
    shape = (96, 48, 3, 3)  # 41,472 values: the sample variance is within 2% with overwhelming probability
    ref = getattr(R, name)(shape, np.random.default_rng(0), **kwargs)
    twin = getattr(T, name)(shape, torch.Generator().manual_seed(0), **kwargs).numpy()
    expected = variance(*R.fan_in_and_fan_out(shape))
    for values in (ref, twin):
        assert values.shape == shape and values.dtype == np.float64
        assert abs(values.mean()) < 6 * np.sqrt(expected / values.size)
        assert abs(values.var() / expected - 1) < 0.03
        beyond = np.mean(np.abs(values) > np.sqrt(3 * expected))  # a uniform never goes beyond sqrt(3) std
        assert (beyond == 0) if kwargs.get("distribution") == "uniform" else (0.07 < beyond < 0.1)
