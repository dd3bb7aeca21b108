"""Benchmark: LeNet-5 on MNIST on the CPU, one epoch.

Prints the test accuracy and the wall time. Target: at least 98.5% test accuracy after one epoch,
in a few minutes on 2 cores. Run from the project root with the data sets in ``$CNNLIB_DATA``::

    CNNLIB_DATA=../shared/data python benchmarks/lenet_mnist_cpu.py

Without MNIST it stops and says how to get it (``python -m cnnlib.data fetch mnist``).

The recipe: the 28x28 digits zero-padded to 32x32 and normalised, batches of 64, Adam with a
one-cycle schedule peaking at 3e-3, no augmentation.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from cnnlib.data import DatasetNotFoundError
from cnnlib.pytorch.data import mnist_loaders
from cnnlib.pytorch.models import LeNet5
from cnnlib.pytorch.seeding import seed_everything
from cnnlib.pytorch.train import evaluate, fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args()

    start = time.perf_counter()
    seed_everything(args.seed)
    try:
        train_loader, test_loader = mnist_loaders(args.batch_size, device=args.device)
    except DatasetNotFoundError as error:  # an MNIST benchmark has no stand-in: say what to fetch
        sys.exit(f"this benchmark needs MNIST (python -m cnnlib.data fetch mnist):\n{error}")
    load_time = time.perf_counter() - start
    model = LeNet5()
    history = fit(model, train_loader, None, epochs=args.epochs, lr=args.lr, optimizer="adam", schedule="onecycle", device=args.device, seed=args.seed, progress=not args.no_progress)
    test = evaluate(model, test_loader)
    total_time = time.perf_counter() - start

    print(f"LeNet-5 on MNIST, {args.epochs} epoch(s), batch {args.batch_size}, Adam one-cycle lr {args.lr}, device {args.device}, {torch.get_num_threads()} threads")
    print(f"test accuracy     {100 * test['top1']:.2f}%  (test loss {test['loss']:.4f})")
    print(f"training time     {sum(history.train_time):.1f} s  ({history.images_per_s[-1]:,.0f} images/s)")
    print(f"total wall time   {total_time:.1f} s  (data loading {load_time:.1f} s)")


if __name__ == "__main__":
    main()
