"""LeNet-5 in NumPy (cnnlib.reference) and in PyTorch, with the same weights: same logits, loss and gradients."""

import numpy as np
import pytest
import torch

from cnnlib.pytorch.convert import load_numpy_weights, torch_to_numpy
from cnnlib.pytorch.models import LeNet5
from cnnlib.reference import lenet5, rel_error, softmax_cross_entropy

TOLERANCE = 1e-10


def run_both(num_classes, in_channels, batch, seed):
    """Forward and backward on both paths; returns ``(reference results, PyTorch results)``, each ``(logits, loss, grads)``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, in_channels, 32, 32))
    y = rng.integers(0, num_classes, batch)

    net = lenet5(num_classes=num_classes, in_channels=in_channels, seed=seed)
    logits = net.forward(x)
    loss, dlogits = softmax_cross_entropy(logits, y)
    net.backward(dlogits)

    model = load_numpy_weights(LeNet5(num_classes, in_channels).double(), net.params)
    torch_logits = model(torch.from_numpy(x))
    torch_loss = torch.nn.functional.cross_entropy(torch_logits, torch.from_numpy(y))
    torch_loss.backward()
    torch_grads = {name: p.grad.numpy() for name, p in model.named_parameters()}
    return (logits, loss, net.grads), (torch_logits.detach().numpy(), torch_loss.item(), torch_grads)


@pytest.mark.parametrize("num_classes, in_channels, batch, seed", [(10, 1, 8, 0), (10, 3, 5, 1), (4, 1, 3, 2)])
def test_lenet5_logits_loss_and_gradients_agree(num_classes, in_channels, batch, seed):
    (logits, loss, grads), (torch_logits, torch_loss, torch_grads) = run_both(num_classes, in_channels, batch, seed)
    assert rel_error(logits, torch_logits) <= TOLERANCE
    assert rel_error(loss, torch_loss) <= TOLERANCE
    assert list(grads) == list(torch_grads)
    for name in grads:
        assert rel_error(grads[name], torch_grads[name]) <= TOLERANCE, name


def test_both_lenets_have_61706_parameters_under_the_same_names():
    net = lenet5()
    model = LeNet5()
    assert net.num_parameters() == sum(p.numel() for p in model.parameters()) == 61_706
    assert list(net.params) == list(torch_to_numpy(model))


def test_weights_copy_back_from_pytorch_to_numpy():
    model = LeNet5().double()
    net = lenet5(seed=5)
    net.params = torch_to_numpy(model)
    x = np.random.default_rng(0).standard_normal((2, 1, 32, 32))
    assert rel_error(net.forward(x), model(torch.from_numpy(x)).detach().numpy()) <= TOLERANCE
