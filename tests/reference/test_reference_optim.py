"""SGD and Adam against torch.optim over several steps."""

import numpy as np
import pytest
import torch

from cnnlib.reference import SGD, Adam, rel_error, sgd_momentum_step

SHAPES = {"0.weight": (3, 2, 3, 3), "0.bias": (3,), "1.weight": (4, 5)}


def run_both(make_ours, make_torch, rng, steps=6):
    """Apply the same gradients (made up, different each step) with both optimisers; compare every step."""
    params = {name: rng.standard_normal(shape) for name, shape in SHAPES.items()}
    tensors = {name: torch.tensor(p, requires_grad=True) for name, p in params.items()}
    ours, theirs = make_ours(), make_torch(list(tensors.values()))
    for _ in range(steps):
        grads = {name: rng.standard_normal(shape) for name, shape in SHAPES.items()}
        for name, t in tensors.items():
            t.grad = torch.tensor(grads[name])
        theirs.step()
        before = {name: p.copy() for name, p in params.items()}
        params = ours.step(params, grads)
        for name, p in params.items():
            assert rel_error(p, tensors[name].detach().numpy()) <= 1e-12
        assert all(not np.shares_memory(params[n], before[n]) for n in params)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.1),
        dict(lr=0.05, momentum=0.9),
        dict(lr=0.05, momentum=0.9, nesterov=True),
        dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=1e-2),
        dict(lr=0.01, weight_decay=0.1),
    ],
)
def test_sgd_matches_torch(kwargs, rng):
    run_both(lambda: SGD(**kwargs), lambda ps: torch.optim.SGD(ps, **kwargs), rng)


@pytest.mark.parametrize(
    "kwargs",
    [dict(), dict(lr=0.01, betas=(0.8, 0.99)), dict(lr=0.003, eps=1e-6, weight_decay=0.05)],
)
def test_adam_matches_torch(kwargs, rng):
    run_both(lambda: Adam(**kwargs), lambda ps: torch.optim.Adam(ps, **kwargs), rng)


def test_sgd_momentum_step_matches_torch(rng):
    class Functional:
        def __init__(self):
            self.velocity = {}

        def step(self, params, grads):
            params, self.velocity = sgd_momentum_step(params, grads, self.velocity, lr=0.05, momentum=0.9)
            return params

    run_both(Functional, lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9), rng)


def test_optimisers_do_not_modify_their_arguments_and_keep_float32(rng, unchanged):
    params = {"w": rng.standard_normal((3, 3)).astype(np.float32)}
    grads = {"w": rng.standard_normal((3, 3)).astype(np.float32)}
    for opt in (SGD(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True), Adam(weight_decay=0.01)):
        with unchanged(params["w"], grads["w"]):
            new = opt.step(params, grads)
            new = opt.step(new, grads)
        assert new["w"].dtype == np.float32


def test_adam_first_step_moves_each_value_by_lr(rng):
    """With bias correction, Adam's first step is lr * sign(grad) (up to eps), whatever the gradient's scale."""
    params = {"w": np.zeros(5)}
    grads = {"w": np.array([1e-3, -2.0, 50.0, -1e-2, 3.0])}
    new = Adam(lr=0.1, eps=0.0).step(params, grads)
    np.testing.assert_allclose(new["w"], -0.1 * np.sign(grads["w"]), rtol=1e-12)


def test_step_rejects_mismatched_names_and_shapes():
    opt = SGD(lr=0.1)
    with pytest.raises(ValueError, match="grads must have the same names as params"):
        opt.step({"a": np.zeros(2)}, {"b": np.zeros(2)})
    with pytest.raises(ValueError, match=r"grads\['a'\] must have the shape of params\['a'\], \(2,\), got \(3,\)"):
        opt.step({"a": np.zeros(2)}, {"a": np.zeros(3)})
    with pytest.raises(ValueError, match="lr must be a number"):
        SGD(lr=-1.0)
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        SGD(lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas must be a pair"):
        Adam(betas=(0.9, 1.0))
