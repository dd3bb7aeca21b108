"""Smoke tests of the benchmark and the NumPy training script on tiny inputs (no timing is checked)."""

import importlib.util
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from cnnlib import bench
from cnnlib.data import load_digits
from cnnlib.reference import lenet5

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_lenet_numpy.py"


def load_script():
    spec = importlib.util.spec_from_file_location("train_lenet_numpy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_conv_flops_counts_two_per_multiply_accumulate():
    # 1 image, 1 -> 1 channel, 3x3 input, 2x2 kernel: 2x2 outputs of 4 MACs each.
    assert bench.conv_flops(N=1, C=1, H=3, F=1, K=2, padding=0) == 2 * 4 * 4
    assert bench.conv_flops(N=2, C=3, H=5, F=4, K=3, padding=1) == 2 * 2 * 4 * 3 * 9 * 25


def test_bench_layer_prints_every_figure(capsys):
    bench.bench_layer(bench.Layer("tiny", 2, 2, 6, 3, 3, 1, naive_N=1, naive_H=6), repeats=1, ceiling=10.0)
    printed = capsys.readouterr().out
    for label in ["fast (im2col + BLAS)", "PyTorch CPU", "naive loops", "fast / PyTorch", "naive / fast", "of the matmul ceiling"]:
        assert label in printed


def test_training_script_learns_digits():
    """Six short epochs on 400 of scikit-learn's digits, upsampled as the script does: well above chance."""
    script = load_script()
    X, y = load_digits("train")
    X = np.kron(X[:500], np.ones((4, 4), dtype=np.uint8)).astype(np.float32)
    X_train, X_test = script.normalize(X[:400], X[400:])
    assert abs(X_train.mean()) < 1e-5 and abs(X_train.std() - 1) < 1e-5
    model = lenet5(seed=0, dtype=np.float32)
    with threadpool_limits(1, user_api="blas"):  # as the script runs it
        script.fit(model, X_train, y[:400], num_epochs=6, batch_size=32, lr=0.05, seed=0, progress=False)
    assert script.accuracy(model, X_test, y[400:500]) > 0.75  # chance is 0.1; seeds 0-4 give 0.89-0.94
