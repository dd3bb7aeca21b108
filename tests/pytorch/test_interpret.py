"""cnnlib.pytorch.interpret against computations that do not use it: finite differences, hand-built
networks whose maps are known, closed forms on linear models, scipy's rank correlation."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.pytorch import interpret
from cnnlib.pytorch.interpret import (
    accuracy_under_attack,
    activations,
    cascading_randomization,
    fgsm,
    filter_grid,
    fraction_on_object,
    grad_cam,
    nearest_neighbours,
    occlusion_map,
    occlusion_to_pixels,
    penultimate_features,
    random_sign_noise,
    randomize_layers,
    rank,
    record_activations,
    saliency_map,
    spearman,
    tile,
)


def tiny_cnn(seed=0, channels=3, classes=4, size=8, dtype=torch.float64):
    """conv-relu-pool-conv-relu, flatten, linear: scores depend on every pixel in a non-linear way."""
    torch.manual_seed(seed)
    model = nn.Sequential()
    model.add_module("conv1", nn.Conv2d(channels, 5, 3, padding=1))
    model.add_module("relu1", nn.ReLU())
    model.add_module("pool1", nn.MaxPool2d(2))
    model.add_module("conv2", nn.Conv2d(5, 6, 3, padding=1))
    model.add_module("relu2", nn.ReLU())
    model.add_module("flatten", nn.Flatten())
    model.add_module("fc", nn.Linear(6 * (size // 2) ** 2, classes))
    return model.to(dtype).eval()


def linear_model(weight, bias):
    """scores = weight @ x.flatten() + bias, as a network."""
    classes, features = weight.shape
    model = nn.Sequential(nn.Flatten(), nn.Linear(features, classes).double())
    with torch.no_grad():
        model[1].weight.copy_(torch.as_tensor(weight))
        model[1].bias.copy_(torch.as_tensor(bias))
    return model.eval()


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


# ---------------------------------------------------------------------------------------------
# saliency_map
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_saliency_equals_finite_differences(seed):
    model = tiny_cnn(seed)
    x = torch.rand(3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    target = seed % 4
    h = 1e-6
    grad = np.zeros(x.shape)
    for index in np.ndindex(*x.shape):
        plus, minus = x.clone(), x.clone()
        plus[index] += h
        minus[index] -= h
        with torch.no_grad():
            grad[index] = (model(plus[None])[0, target] - model(minus[None])[0, target]).item() / (2 * h)
    np.testing.assert_allclose(saliency_map(model, x, target), np.abs(grad).max(axis=0), rtol=1e-5, atol=1e-8)


def test_saliency_of_a_linear_model_is_its_weights():
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((3, 2 * 4 * 5))
    model = linear_model(weight, np.zeros(3))
    out = saliency_map(model, torch.rand(2, 4, 5, dtype=torch.float64), 1)
    np.testing.assert_allclose(out, np.abs(weight[1].reshape(2, 4, 5)).max(axis=0))


def test_saliency_keeps_float32_and_leaves_model_and_input_alone():
    model = tiny_cnn(dtype=torch.float32)
    x = torch.rand(3, 8, 8)
    before = x.clone()
    out = saliency_map(model, x, torch.tensor(2))
    assert out.dtype == np.float32 and out.shape == (8, 8)
    assert torch.equal(x, before) and not x.requires_grad
    assert all(p.grad is None for p in model.parameters())


# ---------------------------------------------------------------------------------------------
# occlusion_map
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, patch, stride", [((2, 6, 6), 2, 2), ((3, 7, 5), 3, 2), ((1, 5, 8), 5, 1), ((2, 6, 7), 1, 3)])
def test_occlusion_on_a_linear_model_is_exact(shape, patch, stride):
    rng = np.random.default_rng(sum(shape) + patch)
    c, h, w = shape
    weight, bias = rng.standard_normal((3, c * h * w)), rng.standard_normal(3)
    x = rng.uniform(0, 1, shape)
    target = 2
    base = softmax(weight @ x.ravel() + bias)[target]
    rows, cols = (h - patch) // stride + 1, (w - patch) // stride + 1
    expected = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            hidden = x.copy()
            hidden[:, i * stride : i * stride + patch, j * stride : j * stride + patch] = 0.5
            expected[i, j] = base - softmax(weight @ hidden.ravel() + bias)[target]
    out = occlusion_map(linear_model(weight, bias), torch.as_tensor(x), target, patch, stride, batch_size=4)
    assert out.shape == (rows, cols)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_occlusion_fill_value_is_used():
    weight = np.zeros((2, 4))
    weight[1] = 1.0  # the score of class 1 is the sum of the pixels
    model = linear_model(weight, np.zeros(2))
    x = torch.full((1, 2, 2), 0.2, dtype=torch.float64)
    black = occlusion_map(model, x, 1, 1, 1, fill=0.0)
    grey = occlusion_map(model, x, 1, 1, 1)
    assert (black > 0).all() and (grey < 0).all()  # darker hurts class 1, a brighter grey patch helps it


def test_occlusion_to_pixels_averages_covering_patches():
    drops = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = occlusion_to_pixels(drops, 2, 1, 3)
    expected = np.array([[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]])
    np.testing.assert_allclose(out, expected)
    uncovered = occlusion_to_pixels(np.ones((1, 1)), 2, 2, (3, 3))
    np.testing.assert_allclose(uncovered, [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


# ---------------------------------------------------------------------------------------------
# grad_cam
# ---------------------------------------------------------------------------------------------


def bilinear_upsample(a, size):
    """Bilinear interpolation with pixel centres aligned as align_corners=False, written from the formula."""
    h, w = a.shape
    out_h, out_w = size

    def coordinates(n_out, n_in):
        src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        src = np.clip(src, 0, None)
        low = np.minimum(np.floor(src).astype(int), n_in - 1)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, src - low

    r0, r1, fr = coordinates(out_h, h)
    c0, c1, fc = coordinates(out_w, w)
    top = a[r0][:, c0] * (1 - fc) + a[r0][:, c1] * fc
    bottom = a[r1][:, c0] * (1 - fc) + a[r1][:, c1] * fc
    return top * (1 - fr[:, None]) + bottom * fr[:, None]


class PooledLinear(nn.Module):
    """A = avgpool2(x) (the layer 'features'); score_t = sum_{k,i,j} W[t,k,i,j] A[k,i,j]: dscore/dA = W[t]."""

    def __init__(self, weight):
        super().__init__()
        self.features = nn.AvgPool2d(2)
        self.weight = nn.Parameter(torch.as_tensor(weight))

    def forward(self, x):
        a = self.features(x)
        return torch.einsum("nkij,tkij->nt", a, self.weight)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_grad_cam_matches_the_hand_computation(seed):
    rng = np.random.default_rng(seed)
    channels, size, classes = 3, 8, 2
    weight = rng.standard_normal((classes, channels, size // 2, size // 2))
    x = rng.uniform(0, 1, (channels, size, size))
    target = seed % classes
    a = x.reshape(channels, size // 2, 2, size // 2, 2).mean(axis=(2, 4))  # (K, h, w)
    alpha = weight[target].mean(axis=(1, 2))  # spatial mean of the gradient
    cam = np.maximum((alpha[:, None, None] * a).sum(axis=0), 0)
    up = bilinear_upsample(cam, (size, size))
    expected = up / up.max() if up.max() > 0 else up
    out = grad_cam(PooledLinear(weight).eval(), torch.as_tensor(x), target, "features")
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_grad_cam_of_a_single_positive_channel_is_that_channel_upsampled():
    x = torch.zeros(1, 4, 4, dtype=torch.float64)
    x[0, :2, :2] = 1.0  # top-left quarter bright: the pooled map is [[1, 0], [0, 0]]
    model = PooledLinear(np.ones((1, 1, 2, 2))).eval()
    out = grad_cam(model, x, 0, "features")
    assert out.shape == (4, 4) and out.max() == 1.0 and out.min() >= 0
    np.testing.assert_allclose(out, bilinear_upsample(np.array([[1.0, 0.0], [0.0, 0.0]]), (4, 4)))
    assert out[0, 0] == 1.0 and out[3, 3] == 0.0


def test_grad_cam_is_zero_when_all_evidence_is_negative():
    model = PooledLinear(-np.ones((1, 1, 2, 2))).eval()
    out = grad_cam(model, torch.rand(1, 4, 4, dtype=torch.float64), 0, "features")
    assert out.shape == (4, 4) and (out == 0).all()


def test_grad_cam_on_a_cnn_layer_is_in_the_unit_interval_and_works_with_frozen_weights():
    model = tiny_cnn(3)
    for p in model.parameters():
        p.requires_grad_(False)
    out = grad_cam(model, torch.rand(3, 8, 8, dtype=torch.float64), 1, "relu2")
    assert out.shape == (8, 8) and out.min() >= 0 and out.max() == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------
# fgsm
# ---------------------------------------------------------------------------------------------


def two_class_linear(w):
    """Scores (0, w.x): the cross-entropy of label 0 grows along +w, that of label 1 along -w."""
    weight = np.stack([np.zeros_like(w), w])
    return linear_model(weight, np.zeros(2))


def test_fgsm_steps_along_the_known_gradient_sign():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(2 * 3 * 3)
    model = two_class_linear(w)
    x = torch.as_tensor(rng.uniform(0.2, 0.8, (2, 2, 3, 3)))
    y = torch.tensor([0, 1])
    out = fgsm(model, x, y, 0.1).numpy()
    sign = np.sign(w).reshape(2, 3, 3)
    np.testing.assert_allclose(out[0], x[0].numpy() + 0.1 * sign)
    np.testing.assert_allclose(out[1], x[1].numpy() - 0.1 * sign)


def test_fgsm_clips_to_the_pixel_range_and_eps_zero_changes_nothing():
    w = np.ones(4)
    model = two_class_linear(w)
    x = torch.tensor([[[[0.0, 0.5], [0.95, 1.0]]]], dtype=torch.float64)
    out = fgsm(model, x, torch.tensor([0]), 0.1)
    np.testing.assert_allclose(out.numpy().ravel(), [0.1, 0.6, 1.0, 1.0])
    assert torch.equal(fgsm(model, x, torch.tensor([0]), 0.0), x)
    assert out.dtype == x.dtype and not out.requires_grad


def test_fgsm_raises_the_loss_and_random_noise_hardly_does():
    model = tiny_cnn(1, dtype=torch.float32)
    x = torch.rand(16, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = model(x).argmax(1)
        clean = F.cross_entropy(model(x), y)
        attacked = F.cross_entropy(model(fgsm(model, x, y, 0.05)), y)
        noisy = F.cross_entropy(model(random_sign_noise(x, 0.05)), y)
    assert attacked > clean and attacked - clean > 3 * abs(noisy - clean)


def test_accuracy_under_attack_counts_the_flipped_predictions():
    # Two classes, scores (0, w.x): FGSM moves the margin w.x by eps * |w|_1 towards the other class,
    # so a correctly classified image flips exactly when |w.x| < eps * |w|_1 (no clipping in [0.3, 0.7]).
    rng = np.random.default_rng(3)
    w = rng.standard_normal(12)
    model = two_class_linear(w)
    x = rng.uniform(0.3, 0.7, (50, 3, 2, 2))
    margin = x.reshape(50, -1) @ w
    y = torch.as_tensor((margin > 0).astype(np.int64))
    epsilons = [0.0, 0.02, 0.1, 0.3]
    expected = [np.mean(np.abs(margin) >= eps * np.abs(w).sum()) for eps in epsilons]
    accuracy = accuracy_under_attack(model, torch.as_tensor(x), y, epsilons, batch_size=16)
    np.testing.assert_allclose(accuracy, expected)
    assert accuracy[0] == 1.0 and accuracy[-1] < 0.5


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, phrase",
    [
        (lambda m, x: saliency_map(m, x[None], 0), ValueError, "pass x[0]"),
        (lambda m, x: saliency_map(m, x.numpy(), 0), TypeError, "torch.Tensor"),
        (lambda m, x: saliency_map(m, (x * 255).to(torch.uint8), 0), TypeError, "floating-point"),
        (lambda m, x: saliency_map(m, x, 4), ValueError, "0 .. 3"),
        (lambda m, x: saliency_map(m, x, -1), ValueError, "class index"),
        (lambda m, x: saliency_map(m, x, 1.0), TypeError, "class index"),
        (lambda m, x: saliency_map("model", x, 0), TypeError, "torch.nn.Module"),
        (lambda m, x: occlusion_map(m, x, 0, 9, 1), ValueError, "patch must fit"),
        (lambda m, x: occlusion_map(m, x, 0, 2, 0), ValueError, "stride must be >= 1"),
        (lambda m, x: occlusion_map(m, x, 0, 2.0, 1), TypeError, "patch must be an int"),
        (lambda m, x: grad_cam(m, x, 0, "conv9"), ValueError, "'conv9' is not a submodule"),
        (lambda m, x: grad_cam(m, x, 0, m.conv1), TypeError, "name of a submodule"),
        (lambda m, x: grad_cam(m, x, 0, "fc"), ValueError, "(1, K, h, w)"),
        (lambda m, x: fgsm(m, x, torch.tensor([0]), 0.1), ValueError, "pass x[None]"),
        (lambda m, x: fgsm(m, x[None], torch.tensor([0]), -0.1), ValueError, "eps must be >= 0"),
        (lambda m, x: fgsm(m, x[None], torch.tensor([0, 1]), 0.1), ValueError, "one label per image"),
        (lambda m, x: fgsm(m, x[None], torch.tensor([0.0]), 0.1), TypeError, "integer class labels"),
        (lambda m, x: fgsm(m, (x[None] - 0.5) / 0.2, torch.tensor([0]), 0.1), ValueError, "pixel values in [0, 1]"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, phrase):
    model = tiny_cnn()
    x = torch.rand(3, 8, 8, dtype=torch.float64)
    with pytest.raises(error, match=None) as info:
        call(model, x)
    assert phrase in str(info.value), str(info.value)


def test_a_model_with_the_wrong_output_is_named():
    model = nn.Sequential(nn.Conv2d(3, 2, 3)).double()
    with pytest.raises(ValueError, match=r"scores of shape \(1, num_classes\)"):
        saliency_map(model, torch.rand(3, 8, 8, dtype=torch.float64), 0)


# ---------------------------------------------------------------------------------------------
# Activations and features
# ---------------------------------------------------------------------------------------------


def test_recorded_activations_equal_the_layers_outputs_and_hooks_are_removed():
    model = tiny_cnn()
    x = torch.rand(2, 3, 8, 8, dtype=torch.float64)
    out = activations(model, x, ["relu1", "conv2"])
    torch.testing.assert_close(out["relu1"], model[:2](x))
    torch.testing.assert_close(out["conv2"], model[:4](x))
    assert all(not m._forward_hooks for m in model.modules())
    with pytest.raises(RuntimeError):
        with record_activations(model, "relu1"):
            model(torch.rand(2, 4, 8, 8, dtype=torch.float64))  # wrong channels: the forward pass fails
    assert all(not m._forward_hooks for m in model.modules())


def test_penultimate_features_are_what_the_classifier_receives():
    model = tiny_cnn()
    x = torch.rand(7, 3, 8, 8, dtype=torch.float64)
    features = penultimate_features(model, x, batch_size=3)
    assert features.shape == (7, 6 * 16)
    np.testing.assert_allclose(features, model[:-1](x).detach().numpy(), rtol=1e-6)


def test_small_cnn_layers_and_shapes():
    model = interpret.small_cnn([0.5] * 3, [0.25] * 3, num_classes=7).eval()
    x = torch.rand(2, 3, 32, 32)
    out = activations(model, x, ["relu1", "relu4"])
    assert out["relu1"].shape == (2, 16, 32, 32) and out["relu4"].shape == (2, 128, 8, 8)
    assert model(x).shape == (2, 7) and penultimate_features(model, x).shape == (2, 128)
    torch.testing.assert_close(model.normalize(x), (x - 0.5) / 0.25)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        model(torch.rand(2, 1, 32, 32))


# ---------------------------------------------------------------------------------------------
# Sanity check: randomisation and rank correlation
# ---------------------------------------------------------------------------------------------


def test_randomize_layers_changes_only_the_named_layers_and_is_seeded():
    model = tiny_cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    random = randomize_layers(model, ["fc"], seed=3)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # the original is untouched
    changed = [k for k, v in random.state_dict().items() if not torch.equal(v, before[k])]
    assert changed == ["fc.weight", "fc.bias"]
    again = randomize_layers(model, "fc", seed=3)
    assert torch.equal(again.fc.weight, random.fc.weight)
    assert not torch.equal(randomize_layers(model, "fc", seed=4).fc.weight, random.fc.weight)
    assert random.training == model.training


def test_randomize_resets_batch_norm_statistics():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    model.train()(torch.randn(4, 1, 5, 5) * 3 + 1)
    out = randomize_layers(model, "1")
    assert torch.equal(out[1].running_mean, torch.zeros(2)) and torch.equal(out[1].running_var, torch.ones(2))


def test_cascading_randomization_accumulates_from_the_top():
    model = tiny_cnn()
    stages = ["fc", ["conv2"], ["conv1"]]
    copies = cascading_randomization(model, stages, seed=0)
    assert [label for label, _ in copies] == ["fc", "conv2", "conv1"]
    (_, first), (_, second), (_, third) = copies
    assert not torch.equal(first.fc.weight, model.fc.weight) and torch.equal(first.conv2.weight, model.conv2.weight)
    assert torch.equal(second.fc.weight, first.fc.weight) and not torch.equal(second.conv2.weight, model.conv2.weight)
    assert torch.equal(third.conv2.weight, second.conv2.weight) and not torch.equal(third.conv1.weight, model.conv1.weight)


def test_spearman_agrees_with_scipy_with_and_without_ties():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 7)), rng.standard_normal((6, 7))
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a.ravel(), b.ravel())[0])
    tied_a, tied_b = np.round(a), np.round(b + a)
    assert spearman(tied_a, tied_b) == pytest.approx(stats.spearmanr(tied_a.ravel(), tied_b.ravel())[0])
    assert spearman(a, 2 * a + 1) == pytest.approx(1.0) and spearman(a, -a**3) == pytest.approx(-1.0)
    assert np.isnan(spearman(np.ones(4), np.arange(4)))
    np.testing.assert_array_equal(rank([3, 1, 3, 2]), [3.5, 1, 3.5, 2])
    with pytest.raises(ValueError, match="same shape"):
        spearman(a, b.T)


# ---------------------------------------------------------------------------------------------
# Neighbours, localisation, grids, training cache
# ---------------------------------------------------------------------------------------------


def test_nearest_neighbours_agree_with_brute_force():
    rng = np.random.default_rng(0)
    pool = rng.standard_normal((30, 2, 3))
    queries = pool[[4, 9]]
    found = nearest_neighbours(queries, pool, 3, exclude=[4, 9])
    for q, row, self_index in zip(queries, found, [4, 9]):
        distances = [np.inf if i == self_index else np.linalg.norm(p - q) for i, p in enumerate(pool)]
        assert list(row) == list(np.argsort(distances)[:3])
    assert list(nearest_neighbours(queries, pool, 1)[:, 0]) == [4, 9]  # without exclude, a query finds itself
    with pytest.raises(ValueError, match="same number of values"):
        nearest_neighbours(queries, pool.reshape(30, 6)[:, :5], 1)


def test_fraction_on_object():
    mask = np.zeros((4, 4), dtype=np.uint8)
    mask[:2, :2] = 255
    assert fraction_on_object(np.ones((4, 4)), mask) == pytest.approx(0.25)  # an even map scores the object's area
    on = np.zeros((4, 4))
    on[0, 0] = 2.0
    on[3, 3] = -5.0  # negative values do not count
    assert fraction_on_object(on, mask) == 1.0
    assert np.isnan(fraction_on_object(-np.ones((4, 4)), mask))


def test_tile_and_filter_grid():
    grid = tile(np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3), ncols=2, pad=1)
    assert grid.shape == (3 * 3 - 1, 2 * 4 - 1) and np.isnan(grid[2, 0]) and grid[0, 0] == 0 and grid[3, 4] == 18
    weight = torch.randn(6, 3, 5, 5)
    picture = filter_grid(weight, ncols=3)
    assert picture.shape == (2 * 6 - 1, 3 * 6 - 1, 3) and picture.min() == 0 and picture.max() == 1
    with pytest.raises(ValueError, match=r"\(K, 3, kh, kw\)"):
        filter_grid(torch.randn(6, 1, 5, 5))


def test_train_or_load_trains_once_then_loads_the_same_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 3, 64)
    settings = dict(epochs=1, lr=0.05, batch_size=32, progress=False)

    def fresh():
        torch.manual_seed(0)
        return interpret.small_cnn([0.5] * 3, [0.25] * 3, num_classes=3, widths=(4, 4, 4, 4))

    trained = fresh()
    history, loaded = interpret.train_or_load(trained, images, labels, device="cpu", **settings)
    assert not loaded and len(history) == 1 and not trained.training
    again = fresh()
    history_again, loaded = interpret.train_or_load(again, images, labels, device="cpu", **settings)
    assert loaded and history_again.train_loss == history.train_loss
    assert all(torch.equal(a, b) for a, b in zip(trained.state_dict().values(), again.state_dict().values()))
    _, loaded = interpret.train_or_load(fresh(), images, labels, device="cpu", **{**settings, "lr": 0.01})
    assert not loaded  # other settings: another checkpoint
    assert len(list((tmp_path / "checkpoints").glob("*.pt"))) == 2 and not list((tmp_path / "checkpoints").glob("*.tmp"))
    other_val = interpret.network.checkpoint_path(fresh(), images, labels, images[:8], labels[:8], epochs=1)
    assert other_val != interpret.network.checkpoint_path(fresh(), images, labels, images[8:16], labels[8:16], epochs=1)
