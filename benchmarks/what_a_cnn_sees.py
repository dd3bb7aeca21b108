"""Benchmark: notebook 14's analyses on a network trained to a good accuracy (a GPU run).

Notebook 14 trains its small CNN for three epochs on 20,000 images so that it runs on a laptop.
This script trains the same network (or the CIFAR ResNet-20 with a standardising first layer) for
longer, with augmentation, on all of CIFAR-10, and prints the figures the notebook shows: test
accuracy; the sanity check of Adebayo et al. (2018), as the mean Spearman rank correlation between
the trained network's maps and those of its cascade of randomised copies, for saliency, occlusion
and Grad-CAM; the share of each map on the object (the shapes data set only, where masks exist);
accuracy under FGSM and under random sign noise of the same size; and how long t-SNE of the
penultimate features takes on this machine. Run from the project root::

    CNNLIB_DATA=../shared/data python benchmarks/what_a_cnn_sees.py                       # small CNN, 30 epochs
    CNNLIB_DATA=../shared/data python benchmarks/what_a_cnn_sees.py --model resnet20 --epochs 60
    python benchmarks/what_a_cnn_sees.py --device cpu --epochs 3 --subset 20000         # the notebook's setting

Without CIFAR-10 (no ``$CNNLIB_DATA``, no network) it runs on the generated shapes data set and
says so. The trained weights are cached by :func:`cnnlib.pytorch.interpret.train_or_load`, so a
second run with the same settings skips training.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from cnnlib.data import load_or_fallback, load_shapes
from cnnlib.pytorch import interpret
from cnnlib.pytorch.data import channel_stats, random_subset
from cnnlib.pytorch.device import resolve_device
from cnnlib.pytorch.models import get_model

EPSILONS = [0, 1 / 255, 2 / 255, 4 / 255, 8 / 255, 16 / 255]


def build(name: str, mean, std, num_classes: int):
    """The network, its Grad-CAM layer and its randomisation stages (classifier first)."""
    if name == "small_cnn":
        model = interpret.small_cnn(mean, std, num_classes)
        return model, "relu4", ["fc", ["conv4", "bn4"], ["conv3", "bn3"], ["conv2", "bn2"], ["conv1", "bn1"]]
    model = nn.Sequential(interpret.Standardize(mean, std), get_model(name, num_classes=num_classes))
    return model, "1.stages.2", ["1.fc", "1.stages.2", "1.stages.1", "1.stages.0", "1.stem"]


def maps(model, x, target, layer):
    return {
        "saliency": interpret.saliency_map(model, x, target),
        "occlusion": interpret.occlusion_to_pixels(interpret.occlusion_map(model, x, target, 8, 4), 8, 4, x.shape[1:]),
        "Grad-CAM": interpret.grad_cam(model, x, target, layer),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="small_cnn", choices=["small_cnn", "resnet20", "resnet56"])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--subset", type=int, default=None, help="training images (default: all)")
    parser.add_argument("--images", type=int, default=64, help="test images for the sanity check and the mask measure")
    parser.add_argument("--device", default=None)
    parser.add_argument("--no-augment", action="store_true")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)

    train = load_or_fallback("cifar10", "train")
    test = load_or_fallback("cifar10", "test")
    images, labels = random_subset(train.images, train.labels, args.subset, seed=0)
    subset = np.sort(np.random.default_rng(0).choice(len(test), min(2000, len(test)), replace=False))
    mean, std = channel_stats(images)
    torch.manual_seed(0)
    model, layer, stages = build(args.model, mean, std, len(train.classes))
    start = time.perf_counter()
    history, loaded = interpret.train_or_load(
        model, images, labels, epochs=args.epochs, lr=args.lr, augment=not args.no_augment,
        val_images=test.images[subset], val_labels=test.labels[subset], device=device,
    )
    print(f"{args.model} on {train.name}, {len(labels):,} training images, {args.epochs} epoch{'s' if args.epochs != 1 else ''} on {device.type}: "
          f"{'loaded' if loaded else 'trained'} in {time.perf_counter() - start:.0f} s; "
          f"accuracy on {len(subset):,} test images {history.val_top1[-1]:.1%}")

    x = torch.as_tensor(test.images[subset]).float() / 255
    y = torch.as_tensor(test.labels[subset])
    with torch.no_grad():
        predicted = torch.cat([model(batch) for batch in x.split(500)]).argmax(1)
    chosen = np.flatnonzero((predicted == y).numpy())[: args.images]

    # The sanity check: rank correlation with the trained network's maps, stage by stage.
    start = time.perf_counter()
    networks = [("trained", model)] + list(interpret.cascading_randomization(model, stages))
    reference = [maps(model, x[i], int(y[i]), layer) for i in chosen]
    print(f"\nsanity check ({len(chosen)} correctly classified test images; mean Spearman rank correlation with the trained map)")
    print(f"{'randomised down to':<20}" + "".join(f"{m:>11}" for m in reference[0]))
    for label, network in networks:
        rows = [maps(network.eval(), x[i], int(y[i]), layer) for i in chosen]
        means = {m: np.nanmean([interpret.spearman(r[m], ref[m]) for r, ref in zip(rows, reference)]) for m in reference[0]}
        print(f"{label:<20}" + "".join(f"{v:>+11.2f}" for v in means.values()))
    print(f"({time.perf_counter() - start:.0f} s)")

    if test.fallback:
        masks = load_shapes("test", return_masks=True)[2][subset]
        print(f"\nshare of each map's positive mass on the object (the object covers {np.mean([masks[i].mean() / 255 for i in chosen]):.1%} of the image)")
        for method in reference[0]:
            share = np.nanmean([interpret.fraction_on_object(r[method], masks[i]) for r, i in zip(reference, chosen)])
            print(f"{method:>10}: {share:.1%}")

    print("\naccuracy on 1,000 test images under attack")
    print("eps (of 255)    " + "".join(f"{round(e * 255):>7}" for e in EPSILONS))
    attacked = interpret.accuracy_under_attack(model, x[:1000], y[:1000], EPSILONS)
    noisy = interpret.accuracy_under_attack(model, x[:1000], y[:1000], EPSILONS, attack=lambda m, xb, yb, eps: interpret.random_sign_noise(xb, eps))
    print("FGSM            " + "".join(f"{a:>7.1%}" for a in attacked))
    print("random signs    " + "".join(f"{a:>7.1%}" for a in noisy))

    from sklearn.manifold import TSNE

    features = interpret.penultimate_features(model, x)
    start = time.perf_counter()
    TSNE(2, init="pca", random_state=0).fit_transform(features)
    print(f"\nt-SNE of {len(features):,} penultimate feature vectors ({features.shape[1]} values each): {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
