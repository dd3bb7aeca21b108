"""Batch, layer, group and instance norm against torch (functional, autograd and nn modules over several steps)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.reference import (
    GroupNormCache,
    batchnorm_backward,
    batchnorm_forward,
    gradcheck,
    groupnorm_backward,
    groupnorm_forward,
    instancenorm_backward,
    instancenorm_forward,
    layernorm_backward,
    layernorm_forward,
    rel_error,
)

SHAPES = [(8, 5), (4, 3, 6), (4, 3, 5, 6)]


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_matches_torch(shape, training, affine, rng, autograd, unchanged):
    C = shape[1]
    x = rng.standard_normal(shape) * 2 + 1
    gamma, beta = (rng.standard_normal(C), rng.standard_normal(C)) if affine else (None, None)
    running_mean, running_var = rng.standard_normal(C), rng.uniform(0.5, 2, C)
    dout = rng.standard_normal(shape)
    t_mean, t_var = torch.tensor(running_mean), torch.tensor(running_var)  # torch updates these in place
    expected, grads = autograd(
        lambda x, g, b: F.batch_norm(x, t_mean, t_var, g, b, training=training, momentum=0.1, eps=1e-5), [x, gamma, beta], dout
    )
    with unchanged(x, gamma, beta, running_mean, running_var, dout):
        out, new_mean, new_var, cache = batchnorm_forward(x, gamma, beta, running_mean, running_var, training=training)
        dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    assert rel_error(out, expected) <= 1e-10
    assert rel_error(new_mean, t_mean.numpy()) <= 1e-10 and rel_error(new_var, t_var.numpy()) <= 1e-10
    assert rel_error(dx, grads[0]) <= 1e-8
    if affine:
        assert rel_error(dgamma, grads[1]) <= 1e-8 and rel_error(dbeta, grads[2]) <= 1e-8
    else:
        assert dgamma is None and dbeta is None


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (3, 2, 3, 3)])
def test_batchnorm_backward_matches_gradcheck(shape, training, rng):
    C = shape[1]
    x = rng.standard_normal(shape)
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    running = (rng.standard_normal(C), rng.uniform(0.5, 2, C))
    dout = rng.standard_normal(shape)

    def forward(x=x, gamma=gamma, beta=beta):
        return batchnorm_forward(x, gamma, beta, *running, training=training)[0]

    dx, dgamma, dbeta = batchnorm_backward(dout, batchnorm_forward(x, gamma, beta, *running, training=training)[3])
    assert rel_error(dx, gradcheck(lambda z: forward(x=z), x, dout)) < 1e-7
    assert rel_error(dgamma, gradcheck(lambda z: forward(gamma=z), gamma, dout)) < 1e-7
    assert rel_error(dbeta, gradcheck(lambda z: forward(beta=z), beta, dout)) < 1e-7


@pytest.mark.parametrize("module, shape", [(torch.nn.BatchNorm1d, (10, 4)), (torch.nn.BatchNorm2d, (6, 3, 5, 4))])
def test_running_statistics_follow_nn_batchnorm_over_steps(module, shape, rng):
    """Five training steps then evaluation: the running mean and (unbiased) variance and the eval outputs
    stay equal to nn.BatchNorm's, with momentum 0.3."""
    C = shape[1]
    bn = module(C, momentum=0.3, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(rng.standard_normal(C)))
        bn.bias.copy_(torch.tensor(rng.standard_normal(C)))
    gamma, beta = bn.weight.detach().numpy().copy(), bn.bias.detach().numpy().copy()
    running_mean, running_var = np.zeros(C), np.ones(C)
    for step in range(5):
        x = rng.standard_normal(shape) * (step + 1) + step
        bn.train()
        expected = bn(torch.tensor(x)).detach().numpy()
        out, running_mean, running_var, _ = batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum=0.3)
        assert rel_error(out, expected) <= 1e-10
        assert rel_error(running_mean, bn.running_mean.numpy()) <= 1e-10
        assert rel_error(running_var, bn.running_var.numpy()) <= 1e-10
    x = rng.standard_normal(shape)
    bn.eval()
    out, mean_after, var_after, _ = batchnorm_forward(x, gamma, beta, running_mean, running_var, training=False, momentum=0.3)
    assert rel_error(out, bn(torch.tensor(x)).detach().numpy()) <= 1e-10
    np.testing.assert_array_equal(mean_after, running_mean)
    np.testing.assert_array_equal(var_after, running_var)


def test_running_variance_is_unbiased_while_normalisation_is_biased():
    x = np.array([[0.0], [2.0]])  # mean 1, biased variance 1, unbiased variance 2
    out, mean, var, _ = batchnorm_forward(x, None, None, np.zeros(1), np.zeros(1), momentum=1.0, eps=0.0)
    np.testing.assert_allclose(out[:, 0], [-1.0, 1.0])
    np.testing.assert_allclose(mean, [1.0])
    np.testing.assert_allclose(var, [2.0])


def test_batchnorm_without_running_stats_uses_batch_statistics(rng):
    """As nn.BatchNorm1d(track_running_stats=False), even in evaluation mode."""
    x = rng.standard_normal((5, 3))
    out, mean, var, _ = batchnorm_forward(x, None, None, None, None, training=False)
    assert mean is None and var is None
    bn = torch.nn.BatchNorm1d(3, affine=False, track_running_stats=False, dtype=torch.float64).eval()
    assert rel_error(out, bn(torch.tensor(x)).numpy()) <= 1e-10


def test_batchnorm_float32_stays_float32(rng):
    x = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
    ones, zeros = np.ones(3, np.float32), np.zeros(3, np.float32)
    out, mean, var, cache = batchnorm_forward(x, ones, zeros, zeros, ones)
    assert out.dtype == mean.dtype == var.dtype == np.float32
    assert all(g.dtype == np.float32 for g in batchnorm_backward(np.ones_like(out), cache))


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_layernorm_matches_torch_and_gradcheck(shape, affine, rng, autograd, unchanged):
    x = rng.standard_normal(shape) * 3 - 1
    gamma, beta = (rng.standard_normal(shape[1:]), rng.standard_normal(shape[1:])) if affine else (None, None)
    dout = rng.standard_normal(shape)
    expected, grads = autograd(lambda x, g, b: F.layer_norm(x, x.shape[1:], g, b, eps=1e-5), [x, gamma, beta], dout)
    with unchanged(x, gamma, beta, dout):
        out, cache = layernorm_forward(x, gamma, beta)
        dx, dgamma, dbeta = layernorm_backward(dout, cache)
    assert rel_error(out, expected) <= 1e-10
    assert rel_error(dx, grads[0]) <= 1e-8
    if affine:
        assert rel_error(dgamma, grads[1]) <= 1e-8 and rel_error(dbeta, grads[2]) <= 1e-8
        assert rel_error(dgamma, gradcheck(lambda z: layernorm_forward(x, z, beta)[0], gamma, dout)) < 1e-7
    else:
        assert dgamma is None and dbeta is None
    assert rel_error(dx, gradcheck(lambda z: layernorm_forward(z, gamma, beta)[0], x, dout)) < 1e-7


def test_layernorm_normalises_each_example_separately(rng):
    """Layer norm's statistics are per example: scaling one example does not change another's output."""
    x = rng.standard_normal((3, 4, 2))
    y = x.copy()
    y[0] *= 100
    np.testing.assert_allclose(layernorm_forward(y, None, None)[0][1:], layernorm_forward(x, None, None)[0][1:])
    out = layernorm_forward(x, None, None, eps=0.0)[0]
    np.testing.assert_allclose(out.reshape(3, -1).mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.reshape(3, -1).std(axis=1), 1, rtol=1e-12)


# -- group norm and instance norm -------------------------------------------------------------------


def random_groupnorm_case(seed):
    """Random (N, C, ...) with C a multiple of the number of groups, channels on different scales."""
    rng = np.random.default_rng(seed)
    G = int(rng.integers(1, 4))
    C = G * int(rng.integers(1, 4))
    shape = (int(rng.integers(1, 4)), C, *(int(n) for n in rng.integers(2, 6, int(rng.integers(1, 3)))))
    x = rng.standard_normal(shape) * rng.uniform(0.1, 3, (1, C) + (1,) * (len(shape) - 2)) + rng.normal(0, 2, (1, C) + (1,) * (len(shape) - 2))
    affine = bool(seed % 3)
    gamma, beta = (rng.standard_normal(C), rng.standard_normal(C)) if affine else (None, None)
    return rng, x, gamma, beta, G


@pytest.mark.parametrize("seed", range(12))
def test_groupnorm_matches_torch(seed, autograd, unchanged):
    rng, x, gamma, beta, G = random_groupnorm_case(seed)
    dout = rng.standard_normal(x.shape)
    expected, grads = autograd(lambda x, g, b: F.group_norm(x, G, g, b, eps=1e-5), [x, gamma, beta], dout)
    with unchanged(x, gamma, beta, dout):
        out, cache = groupnorm_forward(x, gamma, beta, G)
        dx, dgamma, dbeta = groupnorm_backward(dout, cache)
    assert isinstance(cache, GroupNormCache)
    assert rel_error(out, expected) <= 1e-10
    assert rel_error(dx, grads[0]) <= 1e-8
    if gamma is not None:
        assert rel_error(dgamma, grads[1]) <= 1e-8 and rel_error(dbeta, grads[2]) <= 1e-8
    else:
        assert dgamma is None and dbeta is None


def test_groupnorm_backward_matches_gradcheck(rng):
    x = rng.standard_normal((2, 6, 3, 4)) * 2 + 1
    gamma, beta = rng.standard_normal(6), rng.standard_normal(6)
    dout = rng.standard_normal(x.shape)

    def forward(x=x, gamma=gamma, beta=beta):
        return groupnorm_forward(x, gamma, beta, 3)[0]

    dx, dgamma, dbeta = groupnorm_backward(dout, groupnorm_forward(x, gamma, beta, 3)[1])
    assert rel_error(dx, gradcheck(lambda z: forward(x=z), x, dout)) < 1e-7
    assert rel_error(dgamma, gradcheck(lambda z: forward(gamma=z), gamma, dout)) < 1e-7
    assert rel_error(dbeta, gradcheck(lambda z: forward(beta=z), beta, dout)) < 1e-7


def test_groupnorm_is_layer_norm_with_one_group_and_instance_norm_with_one_channel_per_group(rng):
    x = rng.standard_normal((3, 4, 5, 2)) * 3 + 2
    ones, zeros = np.ones(4), np.zeros(4)
    assert rel_error(groupnorm_forward(x, ones, zeros, 1)[0], layernorm_forward(x, None, None)[0]) < 1e-12
    assert rel_error(groupnorm_forward(x, ones, zeros, 4)[0], instancenorm_forward(x, None, None)[0]) < 1e-12


def test_groupnorm_matches_nn_groupnorm_and_does_not_depend_on_the_batch(rng):
    gn = torch.nn.GroupNorm(4, 8, dtype=torch.float64)
    with torch.no_grad():
        gn.weight.copy_(torch.tensor(rng.standard_normal(8)))
        gn.bias.copy_(torch.tensor(rng.standard_normal(8)))
    x = rng.standard_normal((5, 8, 4, 4))
    gamma, beta = gn.weight.detach().numpy().copy(), gn.bias.detach().numpy().copy()
    out, _ = groupnorm_forward(x, gamma, beta, 4)
    assert rel_error(out, gn(torch.tensor(x)).detach().numpy()) <= 1e-12
    alone, _ = groupnorm_forward(x[2:3], gamma, beta, 4)
    assert rel_error(alone, out[2:3]) <= 1e-12


@pytest.mark.parametrize("shape", [(3, 4, 7), (2, 3, 4, 5)])
def test_instancenorm_matches_torch(shape, rng, autograd):
    C = shape[1]
    x = rng.standard_normal(shape) * 2 - 1
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    dout = rng.standard_normal(shape)
    expected, grads = autograd(lambda x, g, b: F.instance_norm(x, weight=g, bias=b, eps=1e-5), [x, gamma, beta], dout)
    out, cache = instancenorm_forward(x, gamma, beta)
    assert rel_error(out, expected) <= 1e-10
    for mine, theirs in zip(instancenorm_backward(dout, cache), grads):
        assert rel_error(mine, theirs) <= 1e-8


@pytest.mark.parametrize("call, error, message", [
    (lambda: groupnorm_forward(np.zeros((2, 6, 3, 3)), None, None, 4), ValueError, r"num_groups must be a divisor of the number of channels C = 6"),
    (lambda: groupnorm_forward(np.zeros((2, 6, 3, 3)), None, None, 0), ValueError, r"num_groups must be a divisor"),
    (lambda: groupnorm_forward(np.zeros((2, 6, 3, 3)), None, None, 2.0), TypeError, r"num_groups must be an int"),
    (lambda: groupnorm_forward(np.zeros((2, 6, 3, 3)), np.ones(3), None, 3), ValueError, r"gamma must have shape \(6,\) \(one per channel"),
    (lambda: groupnorm_forward(np.zeros(6), None, None, 3), ValueError, r"x must have at least 2 dimensions"),
    (lambda: groupnorm_forward(np.zeros((2, 6)), None, None, 3, eps=-1), ValueError, r"eps must be a float >= 0"),
    (lambda: instancenorm_forward(np.zeros((2, 6)), None, None), ValueError, r"x must have at least 3 dimensions"),
    (lambda: groupnorm_backward(np.zeros((2, 6)), None), TypeError, r"cache must be the GroupNormCache"),
])
def test_groupnorm_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
