"""``get_model``: every architecture of the course by name."""

from __future__ import annotations

from functools import partial

from torch import nn

from .alexnet import AlexNet
from .cifar_resnet import CIFAR_DEPTHS, CifarResNet
from .efficient_blocks import convnext_tiny
from .googlenet import GoogLeNet
from .lenet import LeNet5
from .resnet import resnet18, resnet34, resnet50, resnet101, resnet152
from .small_cnn import small_cnn, small_cnn_separable
from .vgg import VGG

__all__ = ["MODELS", "get_model", "model_names"]

IMAGENET_RESNETS = {"resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50, "resnet101": resnet101, "resnet152": resnet152}

# name -> (constructor taking num_classes and in_channels, default num_classes, default in_channels)
MODELS = {
    "lenet5": (LeNet5, 10, 1),
    "alexnet": (AlexNet, 1000, 3),
    **{f"vgg{depth}": (partial(VGG, depth), 1000, 3) for depth in (11, 13, 16, 19)},
    "googlenet": (GoogLeNet, 1000, 3),
    **{name: (build, 1000, 3) for name, build in IMAGENET_RESNETS.items()},
    **{f"{name}_cifar": (partial(build, stem="cifar"), 10, 3) for name, build in IMAGENET_RESNETS.items()},
    **{f"resnet{depth}": (partial(CifarResNet, depth), 10, 3) for depth in CIFAR_DEPTHS},
    **{f"preact_resnet{depth}": (partial(CifarResNet, depth, preact=True), 10, 3) for depth in CIFAR_DEPTHS},
    **{f"plain{depth}": (partial(CifarResNet, depth, shortcut="none"), 10, 3) for depth in CIFAR_DEPTHS},
    "convnext_tiny": (convnext_tiny, 1000, 3),
    "small_cnn": (small_cnn, 10, 3),
    "small_cnn_separable": (small_cnn_separable, 10, 3),
}


def model_names() -> list[str]:
    """The names :func:`get_model` knows, smallest family first."""
    return list(MODELS)


def get_model(name: str, num_classes: int | None = None, in_channels: int | None = None) -> nn.Module:
    """Build an architecture by name, freshly initialised.

    Parameters
    ----------
    name : str
        One of :func:`model_names`; case and hyphens are ignored (``"ResNet-18"`` is ``"resnet18"``).
        ``resnet18`` to ``resnet152`` are the ImageNet ResNets (``resnet18_cifar``...: the same with a
        3x3 stem for 32x32 images); ``resnet20`` to ``resnet110`` the CIFAR ResNets of the paper, with
        ``preact_resnet*`` and ``plain*`` variants; ``small_cnn`` and ``small_cnn_separable`` the
        small CIFAR CNN and its depthwise-separable twin (notebook 15); ``convnext_tiny`` ConvNeXt-T.
    num_classes : int, optional
        Size of the output; by default 10 for LeNet-5 and the CIFAR networks (``*_cifar`` included),
        1000 for the ImageNet ones.
    in_channels : int, optional
        Channels of the input; by default 1 for LeNet-5, 3 for the others.

    Returns
    -------
    nn.Module
        Maps ``(N, in_channels, H, W)`` to logits ``(N, num_classes)``.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    key = name.lower().replace("-", "") if isinstance(name, str) else name
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    build, default_classes, default_channels = MODELS[key]
    return build(
        num_classes=default_classes if num_classes is None else num_classes,
        in_channels=default_channels if in_channels is None else in_channels,
    )
