"""Activations, linear, flatten, softmax cross-entropy and dropout against PyTorch and gradcheck."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.reference import (
    dropout_backward,
    dropout_forward,
    flatten_backward,
    flatten_forward,
    gradcheck,
    leaky_relu_backward,
    leaky_relu_forward,
    linear_backward,
    linear_forward,
    log_softmax,
    rel_error,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax,
    softmax_cross_entropy,
    tanh_backward,
    tanh_forward,
)

ACTIVATIONS = [
    ("relu", relu_forward, relu_backward, F.relu),
    ("leaky_relu", leaky_relu_forward, leaky_relu_backward, F.leaky_relu),
    ("leaky_relu_0.2", lambda x: leaky_relu_forward(x, negative_slope=0.2), leaky_relu_backward, lambda x: F.leaky_relu(x, 0.2)),
    ("sigmoid", sigmoid_forward, sigmoid_backward, torch.sigmoid),
    ("tanh", tanh_forward, tanh_backward, torch.tanh),
]


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("name, forward, backward, twin", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_matches_torch_and_gradcheck(name, forward, backward, twin, shape, rng, autograd, unchanged):
    x = rng.standard_normal(shape) * 3
    dout = rng.standard_normal(shape)
    expected, (tdx,) = autograd(twin, [x], dout)
    with unchanged(x, dout):
        out, cache = forward(x)
        dx = backward(dout, cache)
    assert rel_error(out, expected) <= 1e-10
    assert rel_error(dx, tdx) <= 1e-8
    assert rel_error(dx, gradcheck(lambda z: forward(z)[0], x, dout)) < 1e-7


@pytest.mark.parametrize("name, forward, backward, twin", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_float32_stays_float32(name, forward, backward, twin, rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    out, cache = forward(x)
    assert out.dtype == np.float32
    assert backward(np.ones_like(out), cache).dtype == np.float32


def test_relu_gradient_at_zero_is_zero_like_torch(autograd):
    x = np.array([-1.0, 0.0, 1.0])
    _, (tdx,) = autograd(F.relu, [x], np.ones(3))
    np.testing.assert_array_equal(relu_backward(np.ones(3), relu_forward(x)[1]), tdx)


def test_sigmoid_is_finite_for_huge_inputs():
    x = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        out, _ = sigmoid_forward(x)
    np.testing.assert_allclose(out, torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("x_shape", [(5, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch_and_gradcheck(x_shape, bias, rng, autograd, unchanged):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((6, 4))
    b = rng.standard_normal(6) if bias else None
    dout = rng.standard_normal((*x_shape[:-1], 6))
    expected, (tdx, tdw, tdb) = autograd(F.linear, [x, w, b], dout)
    with unchanged(x, w, b, dout):
        out, cache = linear_forward(x, w, b)
        dx, dw, db = linear_backward(dout, cache)
    assert rel_error(out, expected) <= 1e-10
    assert rel_error(dx, tdx) <= 1e-8 and rel_error(dw, tdw) <= 1e-8
    assert (db is None) if not bias else rel_error(db, tdb) <= 1e-8
    assert rel_error(dx, gradcheck(lambda z: linear_forward(z, w, b)[0], x, dout)) < 1e-7
    assert rel_error(dw, gradcheck(lambda z: linear_forward(x, z, b)[0], w, dout)) < 1e-7


def test_linear_float32_stays_float32(rng):
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (2, 4), (2,)])
    out, cache = linear_forward(x, w, b)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in linear_backward(np.ones_like(out), cache))


def test_flatten_round_trip_and_copy(rng, unchanged):
    x = rng.standard_normal((2, 3, 4, 5))
    with unchanged(x):
        out, cache = flatten_forward(x)
        out[...] = 0  # writing into the output must not change x
    assert out.shape == (2, 60)
    np.testing.assert_array_equal(flatten_forward(x)[0], torch.flatten(torch.tensor(x), 1).numpy())
    dout = rng.standard_normal((2, 60))
    np.testing.assert_array_equal(flatten_backward(dout, cache), dout.reshape(2, 3, 4, 5))
    assert flatten_forward(x, start_dim=2)[0].shape == (2, 3, 20)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax_match_torch(axis, rng):
    x = rng.standard_normal((4, 5)) * 10
    assert rel_error(softmax(x, axis), torch.softmax(torch.tensor(x), axis).numpy()) <= 1e-10
    assert rel_error(log_softmax(x, axis), torch.log_softmax(torch.tensor(x), axis).numpy()) <= 1e-10
    np.testing.assert_allclose(softmax(x, axis).sum(axis=axis), 1.0, rtol=1e-12)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.5])
def test_softmax_cross_entropy_matches_torch(label_smoothing, rng, unchanged):
    logits = rng.standard_normal((6, 5)) * 3
    y = rng.integers(0, 5, 6)
    t = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(t, torch.tensor(y), label_smoothing=label_smoothing)
    expected.backward()
    with unchanged(logits, y):
        loss, dlogits = softmax_cross_entropy(logits, y, label_smoothing=label_smoothing)
    assert rel_error(loss, expected.item()) <= 1e-10
    assert rel_error(dlogits, t.grad.numpy()) <= 1e-8
    numerical = gradcheck(lambda z: softmax_cross_entropy(z, y, label_smoothing=label_smoothing)[0], logits)
    assert rel_error(dlogits, numerical) < 1e-7


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, -1e4, -1e4]])
    y = np.array([0, 2, 1])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        loss, dlogits = softmax_cross_entropy(logits, y)
    t = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(t, torch.tensor(y))
    expected.backward()
    assert np.isfinite(loss) and np.all(np.isfinite(dlogits))
    assert rel_error(loss, expected.item()) <= 1e-10
    assert rel_error(dlogits, t.grad.numpy()) <= 1e-10


def test_softmax_cross_entropy_float32_and_uniform_value():
    loss, dlogits = softmax_cross_entropy(np.zeros((3, 4), np.float32), np.array([0, 1, 2]))
    assert loss.dtype == np.float32 and dlogits.dtype == np.float32
    assert abs(loss - np.log(4)) < 1e-6  # uniform scores: the loss is log(K)


def test_dropout_training_mask_statistics_and_gradient(rng, unchanged):
    x = rng.standard_normal((200, 100))
    with unchanged(x):
        out, mask = dropout_forward(x, 0.3, True, np.random.default_rng(1))
    kept = mask != 0
    assert set(np.unique(mask)) == {0.0, 1 / 0.7}
    assert abs(kept.mean() - 0.7) < 0.01  # 20,000 draws: 4 standard deviations is 0.013
    np.testing.assert_array_equal(out, x * mask)
    np.testing.assert_array_equal(out[~kept], 0)
    dout = rng.standard_normal(x.shape)
    np.testing.assert_array_equal(dropout_backward(dout, mask), dout * mask)
    assert abs(dropout_forward(np.ones((1000, 100)), 0.3, True, np.random.default_rng(2))[0].mean() - 1) < 0.01


def test_dropout_same_seed_same_mask_and_eval_is_identity(rng):
    x = rng.standard_normal((5, 6))
    _, a = dropout_forward(x, 0.5, True, np.random.default_rng(7))
    _, b = dropout_forward(x, 0.5, True, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    out, mask = dropout_forward(x, 0.5, False, np.random.default_rng(7))
    assert mask is None
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(dropout_backward(x, None), x)
    out32, mask32 = dropout_forward(x.astype(np.float32), 0.5, True, np.random.default_rng(7))
    assert out32.dtype == np.float32 and mask32.dtype == np.float32


def test_flatten_and_dropout_backward_match_gradcheck(rng):
    x = rng.standard_normal((2, 3, 2, 2))
    dout = rng.standard_normal((2, 12))
    _, cache = flatten_forward(x)
    assert rel_error(flatten_backward(dout, cache), gradcheck(lambda z: flatten_forward(z)[0], x, dout)) < 1e-7
    dout = rng.standard_normal(x.shape)
    _, mask = dropout_forward(x, 0.4, True, np.random.default_rng(5))
    numerical = gradcheck(lambda z: dropout_forward(z, 0.4, True, np.random.default_rng(5))[0], x, dout)  # the same mask each call
    assert rel_error(dropout_backward(dout, mask), numerical) < 1e-7
