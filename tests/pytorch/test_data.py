"""Batches from arrays: statistics, the CIFAR augmentation, and the two loaders agreeing."""

import numpy as np
import pytest
import torch

from cnnlib.pytorch.data import GPULoader, array_loader, channel_stats, make_loader, prepare_batch, random_crop_flip


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (50, 3, 8, 8), dtype=np.uint8), rng.integers(0, 10, 50)


def test_channel_stats_match_numpy(arrays):
    images, _ = arrays
    mean, std = channel_stats(images)
    scaled = images / 255.0
    np.testing.assert_allclose(mean.numpy(), scaled.mean(axis=(0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(std.numpy(), scaled.std(axis=(0, 2, 3)), rtol=1e-5)


def test_channel_stats_rejects_float_images():
    with pytest.raises(ValueError, match=r"uint8 \(N, C, H, W\)"):
        channel_stats(np.zeros((2, 3, 4, 4)))


def crops_and_flips(image, padding):
    """Every image random_crop_flip may make from ``image (C, H, W)``."""
    _, h, w = image.shape
    padded = torch.nn.functional.pad(image, (padding,) * 4)
    for dy in range(2 * padding + 1):
        for dx in range(2 * padding + 1):
            crop = padded[:, dy : dy + h, dx : dx + w]
            yield crop
            yield crop.flip(2)


def test_random_crop_flip_gives_a_shifted_or_mirrored_copy_of_each_image():
    images = torch.rand(16, 2, 6, 5, dtype=torch.float64)
    out = random_crop_flip(images, torch.Generator().manual_seed(0), padding=2)
    assert out.shape == images.shape
    for image, augmented in zip(images, out):
        assert any(torch.equal(augmented, candidate) for candidate in crops_and_flips(image, 2))


def test_random_crop_flip_varies_and_repeats_with_the_seed():
    images = torch.rand(200, 1, 4, 4)
    first = random_crop_flip(images, torch.Generator().manual_seed(1))
    assert torch.equal(first, random_crop_flip(images, torch.Generator().manual_seed(1)))
    unchanged = [torch.equal(a, b) for a, b in zip(first, images)]
    assert 0 < sum(unchanged) < 20  # the identity is one of 162 equally likely crops-and-flips


def test_random_crop_flip_with_zero_padding_only_flips():
    images = torch.rand(64, 3, 5, 5)
    out = random_crop_flip(images, torch.Generator().manual_seed(2), padding=0)
    flipped = [torch.equal(o, i.flip(2)) for o, i in zip(out, images)]
    kept = [torch.equal(o, i) for o, i in zip(out, images)]
    assert all(f or k for f, k in zip(flipped, kept)) and 10 < sum(flipped) < 54


def test_prepare_batch_normalises_and_pads(arrays):
    images, _ = arrays
    mean, std = channel_stats(images)
    x = prepare_batch(torch.as_tensor(images), mean, std, augment=False)
    assert x.dtype == torch.float32 and x.shape == (50, 3, 8, 8)
    torch.testing.assert_close(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std(dim=(0, 2, 3), unbiased=False), torch.ones(3), atol=1e-4, rtol=0)
    padded = prepare_batch(torch.as_tensor(images), mean, std, augment=False, pad_to=12)
    assert padded.shape == (50, 3, 12, 12)
    torch.testing.assert_close(padded[:, :, 2:10, 2:10], x)
    torch.testing.assert_close(padded[:, :, 0, 0], (-mean / std).expand(50, 3))


def test_gpu_loader_and_array_loader_give_the_same_batches(arrays):
    images, labels = arrays
    mean, std = channel_stats(images)
    on_device = list(GPULoader(images, labels, 16, mean, std, device="cpu"))
    standard = list(array_loader(images, labels, 16, mean, std))
    assert len(on_device) == len(standard) == 4
    for (x1, y1), (x2, y2) in zip(on_device, standard):
        torch.testing.assert_close(x1, x2)
        assert torch.equal(y1, y2)
    assert [len(y) for _, y in on_device] == [16, 16, 16, 2]


@pytest.mark.parametrize("on_device", [True, False])
def test_training_loader_shuffles_drops_the_last_batch_and_augments(arrays, on_device):
    images, labels = arrays
    mean, std = channel_stats(images)
    loader = make_loader(images, labels, 16, mean, std, train=True, device="cpu", on_device=on_device)
    assert isinstance(loader, GPULoader) == on_device
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    seen = torch.cat([y for _, y in batches])
    assert len(seen) == 48 and not torch.equal(seen, torch.as_tensor(labels[:48]))
    x = torch.cat([x for x, _ in batches])
    assert not any(torch.allclose(x, prepare_batch(torch.as_tensor(images[i : i + 1]), mean, std, augment=False)) for i in range(50))


def test_gpu_loader_with_a_seed_repeats_its_epochs_in_a_new_order(arrays):
    images, labels = arrays
    mean, std = channel_stats(images)
    first = GPULoader(images, labels, 10, mean, std, shuffle=True, augment=True, device="cpu", seed=3)
    second = GPULoader(images, labels, 10, mean, std, shuffle=True, augment=True, device="cpu", seed=3)
    epoch1, epoch2 = list(first), list(first)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(epoch1, list(second)))
    assert not torch.equal(torch.cat([y for _, y in epoch1]), torch.cat([y for _, y in epoch2]))


def test_loaders_reject_bad_arrays(arrays):
    images, labels = arrays
    mean, std = channel_stats(images)
    with pytest.raises(ValueError, match=r"labels must have shape \(N,\) = \(50,\)"):
        GPULoader(images, labels[:10], 8, mean, std, device="cpu")
    with pytest.raises(ValueError, match="images must be uint8"):
        array_loader(images.astype(np.float32), labels, 8, mean, std)
