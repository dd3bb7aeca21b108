"""Layer objects, Sequential and LeNet-5: parameter names and counts, parity with torch.nn, training."""

import numpy as np
import pytest
import torch
from torch import nn

from cnnlib.reference import (
    SGD,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    GlobalAvgPool2d,
    LayerNorm,
    LeakyReLU,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    lenet5,
    rel_error,
    softmax_cross_entropy,
)


def torch_lenet5(num_classes=10, in_channels=1):
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes),
    ).double()


def load_into_torch(model, module):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.tensor(model.params[name]))
        for name, b in module.named_buffers():
            if name in model.buffers:
                b.copy_(torch.tensor(model.buffers[name]))
    return module


def compare_with_torch(model, module, x, y):
    """Forward, loss and every parameter gradient equal to torch's (float64)."""
    logits = model.forward(x)
    loss, dlogits = softmax_cross_entropy(logits, y)
    dx = model.backward(dlogits)
    xt = torch.tensor(x, requires_grad=True)
    t_logits = module(xt)
    t_loss = nn.functional.cross_entropy(t_logits, torch.tensor(y))
    t_loss.backward()
    assert rel_error(logits, t_logits.detach().numpy()) <= 1e-10
    assert rel_error(loss, t_loss.item()) <= 1e-10
    assert rel_error(dx, xt.grad.numpy()) <= 1e-8
    t_grads = dict(module.named_parameters())
    assert list(model.grads) == list(t_grads)
    for name, g in model.grads.items():
        assert rel_error(g, t_grads[name].grad.numpy()) <= 1e-8, name


def test_lenet5_parameters_names_and_count():
    model = lenet5()
    assert model.num_parameters() == 61_706
    assert sum(p.numel() for p in torch_lenet5().parameters()) == 61_706
    assert [(n, p.shape) for n, p in model.params.items()] == [(n, tuple(p.shape)) for n, p in torch_lenet5().named_parameters()]
    assert lenet5(num_classes=100, in_channels=3).params["0.weight"].shape == (6, 3, 5, 5)
    assert model.forward(np.zeros((2, 1, 32, 32))).shape == (2, 10)


def test_lenet5_matches_torch_forward_and_backward(rng):
    model = lenet5(seed=3)
    module = load_into_torch(model, torch_lenet5())
    compare_with_torch(model, module, rng.standard_normal((4, 1, 32, 32)), rng.integers(0, 10, 4))


def test_lenet5_is_deterministic_in_its_seed_and_initialised_like_torch():
    a, b, c = lenet5(seed=1), lenet5(seed=1), lenet5(seed=2)
    assert all(np.array_equal(a.params[n], b.params[n]) for n in a.params)
    assert not np.array_equal(a.params["0.weight"], c.params["0.weight"])
    # PyTorch's default: uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)]; fan_in = 400 for "7.weight".
    w = a.params["7.weight"]
    assert np.abs(w).max() <= 1 / 20 and np.abs(w).max() > 0.95 / 20
    assert abs(w.std() - (1 / 20) / np.sqrt(3)) < 0.01 / 20


def test_more_layers_match_torch(rng):
    """Conv2d without bias, BatchNorm2d, LeakyReLU, Conv2d with stride and groups, Tanh, AvgPool2d (ceil_mode),
    a 1x1 Conv2d, global average pooling, LayerNorm, Sigmoid and BatchNorm1d, in training then in evaluation mode."""
    model = Sequential(
        Conv2d(2, 4, 3, padding=1, bias=False, rng=0), BatchNorm2d(4), LeakyReLU(0.1),
        Conv2d(4, 4, 3, stride=2, groups=2, rng=1), Tanh(), AvgPool2d(2, ceil_mode=True),
        Conv2d(4, 6, 1, rng=2), GlobalAvgPool2d(), LayerNorm(6), Linear(6, 5, rng=3), Sigmoid(), BatchNorm1d(5), Linear(5, 3, rng=4),
    )
    module = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.LeakyReLU(0.1),
        nn.Conv2d(4, 4, 3, stride=2, groups=2), nn.Tanh(), nn.AvgPool2d(2, ceil_mode=True),
        nn.Conv2d(4, 6, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(6), nn.Linear(6, 5), nn.Sigmoid(), nn.BatchNorm1d(5), nn.Linear(5, 3),
    ).double()
    # The torch twin has one more module (Flatten after the pooling), so its indices shift by one from there.
    rename = {f"{i}.": f"{i + 1 if i >= 8 else i}." for i in range(len(model))}
    params = {rename[n.split(".")[0] + "."] + n.split(".", 1)[1]: p for n, p in model.params.items()}
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.tensor(params[name]))
    for mode in ("train", "eval"):
        getattr(model, mode)()
        getattr(module, mode)()
        x = rng.standard_normal((6, 2, 7, 7))
        y = rng.integers(0, 3, 6)
        out = model.forward(x)
        t_out = module(torch.tensor(x))
        assert rel_error(out, t_out.detach().numpy()) <= 1e-10
        _, dlogits = softmax_cross_entropy(out, y)
        model.backward(dlogits)
        module.zero_grad()
        nn.functional.cross_entropy(t_out, torch.tensor(y)).backward()
        t_params = dict(module.named_parameters())
        for name, g in model.grads.items():
            t_name = rename[name.split(".")[0] + "."] + name.split(".", 1)[1]
            assert rel_error(g, t_params[t_name].grad.numpy()) <= 1e-8, (mode, name)
    assert rel_error(model.buffers["1.running_var"], module[1].running_var.numpy()) <= 1e-10


def test_training_lowers_the_loss_and_params_assignment(rng):
    """A few SGD steps on one batch make the loss fall; assigning params checks names and shapes."""
    model = Sequential(Conv2d(1, 4, 3, rng=0), ReLU(), MaxPool2d(2), Flatten(), Dropout(0.1, rng=0), Linear(4 * 3 * 3, 3, rng=0))
    x = rng.standard_normal((8, 1, 8, 8))
    y = rng.integers(0, 3, 8)
    opt = SGD(lr=0.1, momentum=0.9)
    losses = []
    for _ in range(20):
        loss, dlogits = softmax_cross_entropy(model.forward(x), y)
        model.backward(dlogits)
        model.params = opt.step(model.params, model.grads)
        losses.append(loss)
    assert losses[-1] < 0.5 * losses[0]
    with pytest.raises(ValueError, match="params must be a dict with the names"):
        model.params = {"0.weight": np.zeros((4, 1, 3, 3))}
    bad = dict(model.params, **{"5.bias": np.zeros(4)})
    with pytest.raises(ValueError, match=r"params\['5.bias'\] must have shape \(3,\), got \(4,\)"):
        model.params = bad


def test_eval_mode_turns_dropout_off_and_freezes_batchnorm(rng):
    model = Sequential(BatchNorm1d(3), Dropout(0.5, rng=0))
    x = rng.standard_normal((10, 3))
    model.forward(x)
    running = model.buffers
    model.eval()
    out_a, out_b = model.forward(x), model.forward(x)
    np.testing.assert_array_equal(out_a, out_b)
    assert all(np.array_equal(running[n], model.buffers[n]) for n in running)


def test_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="backward called before forward"):
        Sequential(Linear(2, 2, rng=0)).backward(np.zeros((1, 2)))


def test_layers_float32_end_to_end(rng):
    model = lenet5(dtype=np.float32)
    out = model.forward(rng.standard_normal((2, 1, 32, 32)).astype(np.float32))
    assert out.dtype == np.float32
    model.backward(np.ones_like(out))
    assert all(g.dtype == np.float32 for g in model.grads.values())
    assert Flatten()(np.zeros((2, 3, 4), np.float32)).dtype == np.float32
