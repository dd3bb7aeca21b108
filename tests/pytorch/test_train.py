"""The training loop on tiny synthetic data: it learns, repeats with a seed, checkpoints, and measures top-k."""

import math

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

from cnnlib.pytorch.checkpoint import load_checkpoint, save_checkpoint
from cnnlib.pytorch.data import channel_stats, make_loader
from cnnlib.pytorch.history import History
from cnnlib.pytorch.metrics import topk_correct, topk_error
from cnnlib.pytorch.models import CifarResNet, LeNet5, get_model
from cnnlib.pytorch.seeding import seed_everything
from cnnlib.pytorch.train import evaluate, fit, make_optimizer, make_schedule

matplotlib.use("Agg")


def synthetic(n=64, classes=4, channels=1, size=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, channels, size, size), dtype=np.uint8), rng.integers(0, classes, n)


def loaders(images, labels, batch_size, augment=False):
    mean, std = channel_stats(images)
    train = make_loader(images, labels, batch_size, mean, std, train=True, augment=augment, device="cpu")
    val = make_loader(images, labels, batch_size, mean, std, train=False, device="cpu")
    return train, val


def test_fit_overfits_64_images():
    images, labels = synthetic()
    train, val = loaders(images, labels, batch_size=64)
    seed_everything(0)
    model = LeNet5(num_classes=4)
    before = evaluate(model, val)
    history = fit(model, train, val, epochs=40, lr=3e-3, optimizer="adam", schedule=None, device="cpu", progress=False)
    after = evaluate(model, val)
    assert len(history) == 40 and history.epoch == list(range(1, 41))
    assert after["top1"] == 1.0 and after["loss"] < 0.1 * before["loss"]
    assert history.val_top1[-1] == after["top1"] and math.isclose(history.val_loss[-1], after["loss"], rel_tol=1e-6)
    assert history.train_loss[-1] < history.train_loss[0]
    assert all(t > 0 for t in history.train_time) and all(r > 0 for r in history.images_per_s)


def run(seed):
    images, labels = synthetic(n=48, channels=3)
    train, val = loaders(images, labels, batch_size=16, augment=True)
    seed_everything(seed)
    model = CifarResNet(8, num_classes=4)  # the smallest 6n + 2 network: batch norm, shortcuts, and fast
    history = fit(model, train, val, epochs=2, lr=0.05, weight_decay=5e-4, label_smoothing=0.1, seed=seed, device="cpu", progress=False)
    return model, history


def test_fit_with_the_same_seed_repeats_exactly():
    (model1, history1), (model2, history2) = run(0), run(0)
    for (name, a), b in zip(model1.state_dict().items(), model2.state_dict().values()):
        assert torch.equal(a, b), name
    assert history1.train_loss == history2.train_loss and history1.val_top1 == history2.val_top1
    model3, _ = run(1)
    assert not torch.equal(model1.fc.weight, model3.fc.weight)


def test_fit_with_bf16_autocast_and_channels_last_on_cpu():
    images, labels = synthetic(n=32, channels=3)
    train, val = loaders(images, labels, batch_size=16)
    model = CifarResNet(8, num_classes=4)
    history = fit(model, train, val, epochs=1, lr=0.05, amp=True, channels_last=True, device="cpu", progress=False)
    assert model.stem[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert np.isfinite(history.train_loss[0]) and 0 <= history.val_top1[0] <= 1


def test_checkpoint_round_trip_restores_model_optimizer_and_history(tmp_path):
    images, labels = synthetic(n=32)
    train, val = loaders(images, labels, batch_size=16)
    model = LeNet5(num_classes=4)
    path = tmp_path / "lenet.pt"
    history = fit(model, train, val, epochs=2, lr=0.01, device="cpu", checkpoint=path, progress=False)
    restored = LeNet5(num_classes=4)
    optimizer = make_optimizer(restored, "sgd", lr=1.0)
    scheduler = make_schedule(optimizer, "onecycle", 1.0, total_steps=100)
    extra = load_checkpoint(path, restored, optimizer, scheduler)
    for a, b in zip(model.state_dict().values(), restored.state_dict().values()):
        assert torch.equal(a, b)
    assert extra["epoch"] == 2 and extra["history"] == history.as_dict()
    assert evaluate(restored, val) == evaluate(model, val)
    assert scheduler.last_epoch == 4 and optimizer.param_groups[0]["lr"] == history.lr[-1]
    momentum = optimizer.state[restored[0].weight]["momentum_buffer"]
    assert momentum.shape == (6, 1, 5, 5) and momentum.abs().sum() > 0
    save_checkpoint(path, restored)
    with pytest.raises(ValueError, match="holds no optimizer state"):
        load_checkpoint(path, LeNet5(num_classes=4), optimizer)


def test_checkpoint_from_another_architecture_says_which_keys_differ(tmp_path):
    path = tmp_path / "resnet20.pt"
    save_checkpoint(path, get_model("resnet20"))
    with pytest.raises(ValueError, match="saved from CifarResNet and does not fit this LeNet5: missing keys.*'0.weight'.*unexpected keys.*'stem.0.weight'"):
        load_checkpoint(path, LeNet5())
    save_checkpoint(path, LeNet5(num_classes=10))
    with pytest.raises(ValueError, match=r"shapes differ for \['11.weight: expected \(4, 84\), got \(10, 84\)'"):
        load_checkpoint(path, LeNet5(num_classes=4))


class FixedLogits(nn.Module):
    """A "model" whose input is an index into a table of logits."""

    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(logits)

    def forward(self, index):
        return self.logits[index]


def test_evaluate_on_hand_made_logits():
    # 4 examples, 6 classes; the true label is ranked 1st, 2nd, 6th and 5th.
    logits = torch.tensor(
        [
            [5.0, 1.0, 0.0, 0.0, 0.0, 0.0],
            [3.0, 4.0, 0.0, 0.0, 0.0, 0.0],
            [6.0, 5.0, 4.0, 3.0, 2.0, 1.0],
            [6.0, 5.0, 4.0, 3.0, 2.0, 1.0],
        ]
    )
    labels = torch.tensor([0, 0, 5, 4])
    loader = [(torch.tensor([0, 1]), labels[:2]), (torch.tensor([2, 3]), labels[2:])]
    result = evaluate(FixedLogits(logits), loader, device="cpu")
    assert result["top1"] == 0.25 and result["top5"] == 0.75
    table = logits.numpy().astype(np.float64)
    log_softmax = table - np.log(np.exp(table).sum(axis=1, keepdims=True))
    assert math.isclose(result["loss"], -log_softmax[range(4), labels.numpy()].mean(), rel_tol=1e-6)
    assert math.isclose(topk_error(logits, labels, 2), 0.5)
    assert topk_correct(logits[:, :3], labels.clamp(max=2), 5).all()  # fewer classes than k: always found


def test_topk_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"logits must be \(N, num_classes\) and y \(N,\)"):
        topk_correct(torch.zeros(4, 3), torch.zeros(3, dtype=torch.long), 1)


def test_schedules_reach_their_peak_and_end_low():
    def lrs(name, steps=100):
        optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
        schedule = make_schedule(optimizer, name, 0.1, steps)
        seen = []
        for _ in range(steps):
            seen.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            schedule.step()
        return seen

    onecycle = lrs("onecycle")
    assert math.isclose(max(onecycle), 0.1, rel_tol=1e-3) and 25 <= int(np.argmax(onecycle)) <= 35
    assert onecycle[0] < 0.01 and onecycle[-1] < 1e-3
    cosine = lrs("cosine")
    assert cosine[0] == 0.1 and cosine[-1] < 1e-3 and all(a >= b for a, b in zip(cosine, cosine[1:]))


def test_fit_rejects_unknown_options():
    images, labels = synthetic(n=16)
    train, val = loaders(images, labels, batch_size=8)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        fit(LeNet5(), train, val, epochs=1, lr=0.1, optimizer="rmsprop", device="cpu", progress=False)
    with pytest.raises(ValueError, match="schedule must be one of"):
        fit(LeNet5(), train, val, epochs=1, lr=0.1, schedule="step", device="cpu", progress=False)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            fit(LeNet5(), train, val, epochs=1, lr=0.1, device="cuda", progress=False)


def test_history_plots_learning_curves_and_times_accuracy():
    history = History()
    for epoch, top1 in enumerate([0.5, 0.8, 0.9], 1):
        history.append(epoch=epoch, lr=0.1, train_loss=1 / epoch, train_acc=top1, val_loss=1.2 / epoch, val_top1=top1, val_top5=1.0, train_time=2.0, images_per_s=100.0)
    figure = history.plot()
    loss_ax, acc_ax = figure.axes
    assert [line.get_ydata().tolist() for line in acc_ax.lines] == [[0.5, 0.8, 0.9]] * 2
    assert len(loss_ax.lines) == 2
    assert history.time_to_accuracy(0.8) == 4.0 and history.time_to_accuracy(0.95) is None
    with pytest.raises(ValueError, match="an epoch needs exactly the figures"):
        history.append(epoch=4)
