"""He and Xavier initialisation: fans as PyTorch computes them, the variance and distribution asked for, the generator used."""

import numpy as np
import pytest
import torch

from cnnlib.reference import fan_in_and_fan_out, he_init, xavier_init


@pytest.mark.parametrize("shape", [(10, 20), (64, 3, 7, 7), (16, 8, 3), (4, 2, 3, 3, 3), (1, 1)])
def test_fans_match_torch(shape):
    assert fan_in_and_fan_out(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def sample_statistics(values, variance):
    """The sample variance, and the fraction of values beyond sqrt(3) true standard deviations."""
    return values.var(), np.mean(np.abs(values) > np.sqrt(3 * variance))


@pytest.mark.parametrize("shape", [(512, 256), (128, 64, 3, 3), (64, 256, 1, 1)])
@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_he_init_has_variance_two_over_fan_in(shape, distribution):
    w = he_init(shape, np.random.default_rng(1), distribution=distribution)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    variance, beyond = sample_statistics(w, 2 / fan_in)
    assert w.shape == shape and w.dtype == np.float64
    # >= 65,536 values: the sample variance is within 3% of the true one with overwhelming probability
    assert abs(variance / (2 / fan_in) - 1) < 0.03
    assert abs(w.mean()) < 6 * np.sqrt(2 / fan_in / w.size)
    if distribution == "uniform":
        assert beyond == 0 and np.abs(w).max() <= np.sqrt(6 / fan_in)
    else:
        assert 0.075 < beyond < 0.092  # a normal is beyond sqrt(3) standard deviations 8.3% of the time


def test_he_fan_out_mode_and_xavier():
    shape = (256, 64, 3, 3)
    fan_in, fan_out = fan_in_and_fan_out(shape)
    assert abs(he_init(shape, np.random.default_rng(2), mode="fan_out").var() / (2 / fan_out) - 1) < 0.03
    assert abs(xavier_init(shape, np.random.default_rng(3)).var() / (2 / (fan_in + fan_out)) - 1) < 0.03
    uniform = xavier_init(shape, np.random.default_rng(3), distribution="uniform")
    assert np.abs(uniform).max() <= np.sqrt(6 / (fan_in + fan_out))


def test_the_generator_decides_the_numbers():
    a = he_init((8, 4), np.random.default_rng(5))
    assert np.array_equal(a, he_init((8, 4), np.random.default_rng(5)))
    assert not np.array_equal(a, he_init((8, 4), np.random.default_rng(6)))


@pytest.mark.parametrize("call, error, message", [
    (lambda: he_init((10,), np.random.default_rng()), ValueError, r"shape must have at least 2 dimensions"),
    (lambda: he_init((10, 0), np.random.default_rng()), ValueError, r"shape must hold ints >= 1"),
    (lambda: he_init(10, np.random.default_rng()), TypeError, r"shape must be a tuple of ints"),
    (lambda: he_init((10, 4), 0), TypeError, r"rng must be a numpy.random.Generator"),
    (lambda: he_init((10, 4), np.random.default_rng(), mode="in"), ValueError, r"mode must be one of"),
    (lambda: xavier_init((10, 4), np.random.default_rng(), distribution="gauss"), ValueError, r"distribution must be one of"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
