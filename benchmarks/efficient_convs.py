"""Benchmark: a standard CNN, its depthwise-separable twin and ResNet-20 on CIFAR-10: accuracy against
parameters, multiply-adds, latency and throughput.

The full run behind notebook 15's short one. Each network (``small_cnn``, ``small_cnn_separable``,
``resnet20`` from ``cnnlib.pytorch.get_model``) is trained with the same recipe (random crops and
flips, SGD with Nesterov momentum 0.9, weight decay 5e-4, a one-cycle schedule), then measured: its
parameters and multiply-adds per image (forward hooks), the median latency of one 32x32 image
(batch 1) and the throughput in batches of 128 (forward passes, evaluation mode, float32), on the
CPU and, when there is one, on the GPU. It prints one table per device and saves the scatter plot
of accuracy against multiply-adds and against latency (one PNG per device). Run from the project
root with CIFAR-10 in ``$CNNLIB_DATA``::

    CNNLIB_DATA=../shared/data python benchmarks/efficient_convs.py
    CNNLIB_DATA=../shared/data python benchmarks/efficient_convs.py --device cpu --subset 10000 --test-subset 2000 --epochs 5 --threads 2

Without CIFAR-10 it uses the generated shapes data set and says so (``cnnlib.data.load_or_fallback``).
The CPU timings use ``--threads`` threads (default: PyTorch's default, one per core); the machine
should be otherwise idle for them to mean anything. A run of fewer than 200 optimizer steps is a
check of the code path, not an accuracy figure, and says so.

Figures, not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402

from cnnlib.data import load_or_fallback  # noqa: E402
from cnnlib.pytorch.data import channel_stats, make_loader, random_subset  # noqa: E402
from cnnlib.pytorch.device import resolve_device  # noqa: E402
from cnnlib.pytorch.efficiency import format_table, plot_efficiency, train_and_measure  # noqa: E402

MODELS = ("small_cnn", "small_cnn_separable", "resnet20")
SMOKE_STEPS = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), help="names for cnnlib.pytorch.get_model")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.2, help="peak learning rate of the one-cycle schedule")
    parser.add_argument("--subset", type=int, help="train on a fixed random sample of this many images")
    parser.add_argument("--test-subset", type=int, help="evaluate on a fixed random sample of this many test images")
    parser.add_argument("--device", help="where to train: cuda, mps or cpu (default: the best available)")
    parser.add_argument("--threads", type=int, help="CPU threads for training on the CPU and for the CPU timings")
    parser.add_argument("--latency-repeats", type=int, default=50)
    parser.add_argument("--throughput-batch", type=int, default=128)
    parser.add_argument("--out", default="artifacts/efficient_convs.png", help="where to save the scatter plot (one file per device)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    measure_devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

    train, test = load_or_fallback("cifar10", "train"), load_or_fallback("cifar10", "test")
    dataset = train.name if not train.fallback else f"{train.name} (stand-in for CIFAR-10)"
    train_images, train_labels = random_subset(train.images, train.labels, args.subset, seed=args.seed)
    test_images, test_labels = random_subset(test.images, test.labels, args.test_subset, seed=args.seed)
    mean, std = channel_stats(train_images)
    train_loader = make_loader(train_images, train_labels, args.batch_size, mean, std, train=True, device=device, seed=args.seed)
    test_loader = make_loader(test_images, test_labels, 500, mean, std, train=False, device=device)
    steps = len(train_loader) * args.epochs
    print(f"{dataset}: {len(train_labels):,} training and {len(test_labels):,} test images; {args.epochs} epochs of batch "
          f"{args.batch_size}, peak lr {args.lr}, trained on {device}; CPU timings with {torch.get_num_threads()} thread(s)")

    start = time.perf_counter()
    results = train_and_measure(args.models, train_loader, test_loader, epochs=args.epochs, lr=args.lr, device=device,
                                measure_devices=measure_devices, seed=args.seed, latency_repeats=args.latency_repeats,
                                throughput_batch=args.throughput_batch, progress=not args.no_progress)
    print(f"trained and measured {len(args.models)} models in {time.perf_counter() - start:.0f} s")
    note = f"{args.epochs} epochs on {len(train_labels):,} images"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for measure_device, rows in results.items():
        print(f"\nlatency and throughput on {rows[0].device} (forward passes, float32; throughput at batch {args.throughput_batch}):")
        print(format_table(rows))
        path = out if measure_device == "cpu" else out.with_name(f"{out.stem}_{measure_device}{out.suffix}")
        figure = plot_efficiency(rows, dataset=dataset, note=note)
        figure.savefig(path, dpi=120)
        print(f"scatter plot: {path}")
    if steps < SMOKE_STEPS:
        print(f"\nnote: only {steps} optimizer steps per model: this checks the code path; the accuracies are not a result")


if __name__ == "__main__":
    main()
