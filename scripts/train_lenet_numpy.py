"""Train LeNet-5, built only from the NumPy reference (``cnnlib.reference``), on MNIST.

    CNNLIB_DATA=../shared/data python scripts/train_lenet_numpy.py [--epochs 2] [--batch-size 64]

Prints the test accuracy and the wall time. MNIST comes from ``cnnlib.data.load_or_fallback`` (local
files under ``$CNNLIB_DATA/mnist/``, the download cache, or a download); when it cannot be had, that
says so in one line and the script trains on scikit-learn's 8x8 digits enlarged to MNIST's 28x28
instead, and names them in its report.

The recipe: 28x28 digits zero-padded to LeNet-5's 32x32 input, normalised with the training set's
mean and standard deviation (reused for the test set), float32, mini-batches of 64 drawn in a fresh
order each epoch, SGD with Nesterov momentum and a learning rate that decays linearly to zero.

NumPy's BLAS runs on one thread unless ``--threads`` says otherwise: LeNet-5's matrix products are
small, so a second thread gains little, and BLAS threads that wait for each other slow down many
times over when other processes compete for the cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from cnnlib.data import load_or_fallback
from cnnlib.reference import SGD, lenet5, softmax_cross_entropy


def load_data() -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(name, X_train, y_train, X_test, y_test)`` with images ``float32 (N, 1, 32, 32)``, not yet normalised."""
    train, test = load_or_fallback("mnist", "train"), load_or_fallback("mnist", "test")
    pad = ((0, 0), (0, 0), (2, 2), (2, 2))  # 28x28 -> 32x32, as LeNet-5 was designed
    return train.name, np.pad(train.images, pad).astype(np.float32), train.labels, np.pad(test.images, pad).astype(np.float32), test.labels


def normalize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sets shifted and scaled per channel by the training set's mean and standard deviation."""
    mean = train.mean(axis=(0, 2, 3), keepdims=True)
    std = train.std(axis=(0, 2, 3), keepdims=True)
    return (train - mean) / std, (test - mean) / std


def accuracy(model, X: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    """The fraction of ``X`` that ``model`` (in evaluation mode) classifies correctly."""
    model.eval()
    correct = sum(
        int((model.forward(X[i : i + batch_size]).argmax(axis=1) == y[i : i + batch_size]).sum())
        for i in range(0, len(X), batch_size)
    )
    model.train()
    return correct / len(X)


def fit(model, X: np.ndarray, y: np.ndarray, num_epochs: int, batch_size: int, lr: float, seed: int, progress: bool) -> None:
    """Mini-batch SGD (Nesterov momentum 0.9, weight decay 5e-4), learning rate decaying linearly to 0."""
    rng = np.random.default_rng(seed)
    opt = SGD(lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps_per_epoch = -(-len(X) // batch_size)
    total_steps = num_epochs * steps_per_epoch
    step = 0
    for epoch in range(num_epochs):
        order = rng.permutation(len(X))
        losses = []
        batches = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{num_epochs}", disable=not progress, mininterval=2)
        for b in batches:
            index = order[b * batch_size : (b + 1) * batch_size]
            loss, dlogits = softmax_cross_entropy(model.forward(X[index]), y[index])
            model.backward(dlogits)
            opt.lr = lr * (1 - step / total_steps)
            model.params = opt.step(model.params, model.grads)
            losses.append(float(loss))
            step += 1
            if b % 50 == 0:
                batches.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
        print(f"epoch {epoch + 1}/{num_epochs}: mean training loss {np.mean(losses):.4f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 2 on MNIST, 40 on the (30 times smaller) digits")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="threads for NumPy's BLAS (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    threadpool_limits(args.threads, user_api="blas")

    start = time.perf_counter()
    name, X_train, y_train, X_test, y_test = load_data()
    X_train, X_test = normalize(X_train, X_test)
    print(f"{name}: {len(X_train)} training and {len(X_test)} test images of shape {X_train.shape[1:]}")
    num_epochs = args.epochs or (2 if name == "MNIST" else 40)
    model = lenet5(num_classes=10, in_channels=1, seed=args.seed, dtype=np.float32)
    train_start = time.perf_counter()
    fit(model, X_train, y_train, num_epochs, args.batch_size, args.lr, args.seed, not args.no_progress)
    train_time = time.perf_counter() - train_start
    test_accuracy = accuracy(model, X_test, y_test)
    print(f"test accuracy: {test_accuracy:.2%} on {len(X_test)} {name} test images")
    print(f"wall time: {time.perf_counter() - start:.1f} s (training {train_time:.1f} s, {num_epochs} epochs)")


if __name__ == "__main__":
    main()
