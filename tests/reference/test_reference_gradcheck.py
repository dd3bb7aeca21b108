"""numerical_gradient, gradcheck and rel_error."""

import numpy as np
import pytest

from cnnlib.reference import gradcheck, numerical_gradient, rel_error


def test_numerical_gradient_of_known_functions(rng, unchanged):
    x = rng.standard_normal((3, 4))
    with unchanged(x):
        np.testing.assert_allclose(numerical_gradient(lambda z: np.sum(z**2), x), 2 * x, rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(numerical_gradient(lambda z: np.sum(np.sin(z)), x, h=1e-6), np.cos(x), rtol=1e-7, atol=1e-8)


def test_gradcheck_weights_the_output_by_dout(rng):
    x = rng.standard_normal(5)
    dout = rng.standard_normal(5)
    np.testing.assert_allclose(gradcheck(lambda z: z**3, x, dout), 3 * x**2 * dout, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(gradcheck(lambda z: z**3, x), 3 * x**2, rtol=1e-7, atol=1e-8)


def test_gradcheck_works_in_float64_for_float32_input():
    x = np.array([0.5, -1.5], dtype=np.float32)
    seen = []
    gradcheck(lambda z: seen.append(z.dtype) or z * 2, x)
    assert set(seen) == {np.dtype(np.float64)}


def test_numerical_gradient_needs_a_scalar_function():
    with pytest.raises(ValueError, match=r"f must return a scalar, got an array of shape \(2,\)"):
        numerical_gradient(lambda z: z, np.zeros(2))
    with pytest.raises(ValueError, match="h must be a float > 0, got 0"):
        numerical_gradient(np.sum, np.zeros(2), h=0)
    with pytest.raises(ValueError, match=r"dout must have the shape of f\(x\), \(2,\), got \(3,\)"):
        gradcheck(lambda z: z, np.zeros(2), np.zeros(3))


def test_rel_error():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1.0, 1e-12]), np.array([1.0, 0.0])) == pytest.approx(1e-12)  # scale is the largest value
    assert rel_error(np.array([2.0]), np.array([1.0])) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))
