"""Benchmark: ResNet-20 and ResNet-18 on CIFAR-10, on a GPU (or on the CPU with a small subset).

For each model, prints the test accuracy, the training time to the target accuracy, and the
training throughput (images/s) in float32 with the usual memory layout and in bf16 autocast with
channels-last memory. Targets on one H100 or H200: ResNet-20 at least 91% (the paper's 91.25%),
ResNet-18 at least 94% in under 3 minutes. Run from the project root with the data in
``$CNNLIB_DATA`` (the JPEG copy ``cifar10/cifar10-jpeg.zip`` or the official tarball)::

    CNNLIB_DATA=../shared/data python benchmarks/cifar_resnet.py
    CNNLIB_DATA=../shared/data python benchmarks/cifar_resnet.py --device cpu --models resnet20 --subset 5000 --test-subset 1000 --epochs 5

On a CPU the bf16 + channels-last throughput is skipped unless ``--cpu-bf16`` asks for it (CPUs
without bf16 kernels run it many times slower than float32), and a run with fewer than
200 optimizer steps says that it is a check of the code path, not an accuracy figure. Without
CIFAR-10 it stops and says how to get it (``python -m cnnlib.data fetch cifar10``): its figures are
CIFAR-10 figures, so it has no stand-in.

The recipe (He et al. 2016's augmentation, a one-cycle schedule instead of their step schedule):
random 32x32 crops of the 4-pixel zero-padded images and horizontal flips, per-channel
normalisation, SGD with Nesterov momentum 0.9, weight decay 5e-4 on the weights, and label
smoothing 0.1 for ResNet-18. ResNet-20 is the paper's CIFAR network (option-A shortcuts,
0.27M parameters); ResNet-18 is the ImageNet network with a 3x3 stem for 32x32 images (11.2M).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import torch

from cnnlib.data import DatasetNotFoundError
from cnnlib.pytorch.data import cifar10_loaders
from cnnlib.pytorch.device import resolve_device
from cnnlib.pytorch.models import get_model
from cnnlib.pytorch.seeding import seed_everything
from cnnlib.pytorch.train import fit


@dataclass(frozen=True)
class Recipe:
    model: str
    title: str
    epochs: int
    batch_size: int
    lr: float
    label_smoothing: float
    target: float


RECIPES = {
    "resnet20": Recipe("resnet20", "ResNet-20", epochs=80, batch_size=256, lr=0.2, label_smoothing=0.0, target=0.91),
    "resnet18": Recipe("resnet18_cifar", "ResNet-18", epochs=35, batch_size=512, lr=0.4, label_smoothing=0.1, target=0.94),
}


#: Below this many optimizer steps a run is a smoke test: batch norm's running statistics and the
#: one-cycle schedule have not settled, so evaluation accuracy can sit at chance.
SMOKE_STEPS = 200


def num_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def throughput(recipe: Recipe, loader, device, *, amp: bool, channels_last: bool, compile: bool) -> float:
    """Training images/s of a fresh model over the second of two epochs on ``loader`` (the first warms up)."""
    model = get_model(recipe.model)
    history = fit(model, loader, None, epochs=2, lr=recipe.lr, weight_decay=5e-4, device=device, amp=amp, channels_last=channels_last, compile=compile, progress=False)
    return history.images_per_s[-1]


def run(recipe: Recipe, args, device: torch.device) -> None:
    epochs = args.epochs or recipe.epochs
    batch_size = args.batch_size or recipe.batch_size
    seed_everything(args.seed)
    train_loader, test_loader = cifar10_loaders(batch_size, device=device, subset=args.subset, test_subset=args.test_subset)
    model = get_model(recipe.model)
    start = time.perf_counter()
    history = fit(
        model, train_loader, test_loader, epochs=epochs, lr=recipe.lr, weight_decay=5e-4, label_smoothing=recipe.label_smoothing,
        device=device, compile=args.compile, seed=args.seed, progress=not args.no_progress,
    )
    wall = time.perf_counter() - start
    test = {"top1": history.val_top1[-1], "top5": history.val_top5[-1], "loss": history.val_loss[-1]}  # the test set is the validation set
    reached = history.time_to_accuracy(recipe.target)

    # Throughput on a fixed slice of the training set, so that the two settings see the same batches.
    slice_size = min(args.throughput_images, args.subset or 50_000)
    bench_loader, _ = cifar10_loaders(batch_size, device=device, subset=slice_size, test_subset=batch_size)
    fp32 = throughput(recipe, bench_loader, device, amp=False, channels_last=False, compile=args.compile)
    measure_bf16 = device.type == "cuda" or args.cpu_bf16
    bf16 = throughput(recipe, bench_loader, device, amp=True, channels_last=True, compile=args.compile) if measure_bf16 else None
    steps = len(train_loader) * epochs

    print(f"{recipe.title} ({num_params(model):,} parameters) on CIFAR-10 ({args.data_name}), "
          f"{len(train_loader) * batch_size:,} training images per epoch, {epochs} epochs, batch {batch_size}, device {describe(device)}")
    test_images = f"{args.test_subset:,}" if args.test_subset else "all 10,000"
    print(f"  test accuracy      top-1 {100 * test['top1']:.2f}%, top-5 {100 * test['top5']:.2f}%, loss {test['loss']:.4f} ({test_images} test images)")
    print(f"  training time      {sum(history.train_time):.1f} s (wall time with the evaluations {wall:.1f} s)")
    print(f"  time to {100 * recipe.target:.0f}%        " + (f"{reached:.1f} s of training" if reached is not None else f"not reached (best {100 * max(history.val_top1):.2f}%)"))
    low_precision = (f"bf16 + channels_last: {bf16:,.0f} images/s (x{bf16 / fp32:.2f})" if bf16 is not None
                     else f"bf16 + channels_last: skipped on {device.type} (--cpu-bf16 measures it)")
    print(f"  throughput         float32: {fp32:,.0f} images/s; {low_precision}, over {slice_size:,} images")
    if steps < SMOKE_STEPS:
        print(f"  note               only {steps} optimizer steps: this checks the code path; the accuracy is not a result "
              f"(the recipe runs {50_000 // recipe.batch_size * recipe.epochs:,} steps on the full set)")


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(RECIPES), default=list(RECIPES))
    parser.add_argument("--epochs", type=int, help="override each recipe's number of epochs")
    parser.add_argument("--batch-size", type=int, help="override each recipe's batch size")
    parser.add_argument("--subset", type=int, help="train on a fixed random sample of this many images")
    parser.add_argument("--test-subset", type=int, help="evaluate on a fixed random sample of this many test images")
    parser.add_argument("--throughput-images", type=int, default=10_240, help="images per epoch of the throughput measurement")
    parser.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the models")
    parser.add_argument("--cpu-bf16", action="store_true", help="also measure bf16 + channels_last throughput on a CPU (slow without bf16 kernels)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-name", default="JPEG copy", help="how to name the data source in the report")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    args = parser.parse_args()
    device = resolve_device(args.device)
    try:
        for name in args.models:
            run(RECIPES[name], args, device)
    except DatasetNotFoundError as error:  # a benchmark of CIFAR-10 has no stand-in: say what to fetch
        sys.exit(f"this benchmark needs CIFAR-10 (python -m cnnlib.data fetch cifar10):\n{error}")


if __name__ == "__main__":
    main()
