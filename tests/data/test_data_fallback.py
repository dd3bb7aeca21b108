"""load_or_fallback: the real data set when it is there, its stand-in with one printed line when it
is not, and never a stand-in for a damaged file."""

import gzip

import numpy as np
import pytest

from cnnlib.data import CorruptFileError, ImageData, cache, load_digits, load_or_fallback, load_shapes
from cnnlib.data import mnist as mnist_module
from cnnlib.data.fallback import digits_like_mnist


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("CNNLIB_OFFLINE", "1")


@pytest.fixture
def tiny_mnist(tmp_path, idx_files, monkeypatch):
    """Tiny MNIST files in CNNLIB_DATA, registered under their own checksums."""
    made = idx_files(tmp_path / "data" / "mnist")
    for name, raw in made["raw"].items():
        monkeypatch.setitem(mnist_module.MNIST.raw_md5, name, cache.md5(raw))
    monkeypatch.setenv("CNNLIB_DATA", str(tmp_path / "data"))
    return made


def test_mnist_falls_back_to_digits_in_mnists_format_with_one_line(offline, capsys):
    train = load_or_fallback("mnist", "train")
    test = load_or_fallback("mnist", "test")
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1  # one line for the data set, not one per split
    for words in ("MNIST is not on this machine", "offline mode is on (CNNLIB_OFFLINE=1)", "scikit-learn's 8x8 digits",
                  "python -m cnnlib.data fetch mnist", "CNNLIB_DATA"):
        assert words in printed[0]
    assert isinstance(train, ImageData) and train.fallback and train.name == "scikit-learn digits"
    assert train.classes == tuple("0123456789")
    assert train.images.shape[1:] == (1, 28, 28) and train.images.dtype == np.uint8 and train.images.max() == 255
    np.testing.assert_array_equal(train.labels, load_digits("train")[1])
    np.testing.assert_array_equal(test.labels, load_digits("test")[1])
    images, labels = test  # unpacks like a loader's result
    assert len(test) == len(labels) == len(images)


def test_cifar10_falls_back_to_shapes(offline, capsys):
    data = load_or_fallback("cifar10", "test")
    assert "CIFAR-10 is not on this machine" in capsys.readouterr().out
    assert data.fallback and data.name == "shapes" and data.classes[0] == "disk"
    images, labels = load_shapes("test")
    np.testing.assert_array_equal(data.images, images)
    np.testing.assert_array_equal(data.labels, labels)


def test_quiet_prints_nothing(offline, capsys):
    assert load_or_fallback("fashion-mnist", "test", quiet=True).fallback
    assert capsys.readouterr().out == ""


def test_without_offline_mode_the_line_says_the_download_failed(monkeypatch, capsys):
    def no_network(url, part):
        raise OSError("network is unreachable")

    monkeypatch.setattr(cache, "_fetch", no_network)
    assert load_or_fallback("mnist", "test").fallback
    assert "could not be downloaded" in capsys.readouterr().out


def test_the_real_data_set_is_used_when_it_is_there(tiny_mnist, offline, capsys):
    data = load_or_fallback("mnist", "test")
    assert not data.fallback and data.name == "MNIST"
    np.testing.assert_array_equal(data.images[:, 0], tiny_mnist["test"][0])
    assert capsys.readouterr().out == ""


def test_half_a_data_set_is_not_mixed_with_a_stand_in(tiny_mnist, tmp_path, offline):
    """With the training files missing, the test split falls back too: train and test always come
    from the same data set."""
    for name in mnist_module.SPLIT_FILES["train"]:
        (tmp_path / "data" / "mnist" / name).unlink()
    assert load_or_fallback("mnist", "test").fallback


def test_a_damaged_file_is_an_error_not_a_fallback(tiny_mnist, tmp_path, offline):
    path = tmp_path / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x03 not the file"))
    with pytest.raises(CorruptFileError) as info:
        load_or_fallback("mnist", "test")
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "args, words",
    [(("imagenet",), "dataset must be one of 'mnist', 'fashion-mnist', 'cifar10', got 'imagenet'"),
     (("mnist", "validation"), "split must be 'train' or 'test', got 'validation'")],
)
def test_bad_arguments(args, words):
    with pytest.raises(ValueError) as info:
        load_or_fallback(*args)
    assert words in str(info.value)


def test_digits_like_mnist_frames_a_smooth_20x20_digit():
    digits = load_digits("test")[0][:5]
    big = digits_like_mnist(digits)
    assert big.shape == (5, 1, 28, 28) and big.dtype == np.uint8
    assert not big[:, :, :4].any() and not big[:, :, -4:].any() and not big[:, :, :, :4].any() and not big[:, :, :, -4:].any()
    # Averaging each 2.5x2.5 block back gives the 8x8 digit again, roughly: the same picture, smoother.
    small = big[:, 0, 4:24, 4:24].astype(np.float64).reshape(5, 4, 5, 4, 5).mean(axis=(2, 4)) / 255 * 16  # 4x4 blocks of 5 px
    coarse = digits[:, 0].astype(np.float64).reshape(5, 4, 2, 4, 2).mean(axis=(2, 4))  # the same 4x4 blocks of the 8x8
    assert np.abs(small - coarse).mean() < 1.5  # of 16
    with pytest.raises(ValueError, match=r"images must have shape \(N, 1, 8, 8\), got \(5, 8, 8\)"):
        digits_like_mnist(digits[:, 0])
