"""Shared helpers for the reference tests: PyTorch twins in float64 and input-mutation guards."""

import numpy as np
import pytest
import torch


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def torch_grads(fn, arrays, dout):
    """Run ``fn`` on float64 tensors made from ``arrays`` (None stays None); return (out, grads)."""
    tensors = [None if a is None else torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return out.detach().numpy(), [None if t is None else t.grad.numpy() for t in tensors]


class Unchanged:
    """Context manager asserting that arrays are not modified in place."""

    def __init__(self, *arrays):
        self.arrays = [a for a in arrays if isinstance(a, np.ndarray)]

    def __enter__(self):
        self.copies = [a.copy() for a in self.arrays]

    def __exit__(self, *exc):
        if exc[0] is None:
            for a, c in zip(self.arrays, self.copies):
                np.testing.assert_array_equal(a, c, err_msg="an input was modified")


@pytest.fixture
def unchanged():
    return Unchanged


@pytest.fixture
def autograd():
    return torch_grads
