"""The ImageNet ResNets of He et al. (2016): ResNet-18, 34, 50, 101 and 152."""

from __future__ import annotations

import torch
from torch import nn

from ._input import check_input
from .resnet_blocks import BasicBlock, Bottleneck

__all__ = ["ResNet", "init_resnet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]


def init_resnet(model: nn.Module, zero_init_residual: bool) -> None:
    """He (Kaiming) normal initialisation for convolutions, unit-scale batch norms.

    With ``zero_init_residual`` the last batch norm of every residual branch starts at zero, so that
    each block starts as the identity (Goyal et al. 2017); it helps short training runs.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    if zero_init_residual:
        for module in model.modules():
            if hasattr(module, "last_bn"):
                nn.init.zeros_(module.last_bn().weight)


class ResNet(nn.Module):
    """ImageNet ResNet: 7x7 stem and max pool, four stages of residual blocks, global average pool, dense layer.

    Stage ``i`` (widths 64, 128, 256, 512) has ``layers[i]`` blocks; the first block of stages 2 to 4
    has stride 2 and a projection shortcut (1x1 convolution and batch norm).

    With ``stem="cifar"`` the 7x7 stride-2 convolution and the max pool become one 3x3 stride-1
    convolution, the usual adaptation to 32x32 images (the ImageNet stem would shrink them to 8x8
    before the first block, and the last stage to 1x1); the stages are unchanged.

    Parameters
    ----------
    block : type
        :class:`BasicBlock` (ResNet-18/34) or :class:`Bottleneck` (ResNet-50/101/152).
    layers : sequence of 4 ints
        Number of blocks per stage.
    num_classes : int
        Size of the output.
    in_channels : int
        Channels of the input images.
    stem : {"imagenet", "cifar"}
        The input layers (see above).
    zero_init_residual : bool
        Start each residual branch's last batch norm at zero (see :func:`init_resnet`).
    name : str
        Named in error messages.

    Shape
    -----
    Input ``(N, in_channels, H, W)`` with ``H, W >= 32`` (total stride 32; 224x224 in the paper,
    where the last map is 7x7), or ``H, W >= 8`` with the CIFAR stem (total stride 8; 32x32, where
    the last map is 4x4); output ``(N, num_classes)``.
    """

    def __init__(self, block: type, layers, num_classes: int = 1000, in_channels: int = 3, *, stem: str = "imagenet", zero_init_residual: bool = False, name: str = "ResNet"):
        super().__init__()
        self.name = name
        self.in_channels = in_channels
        if stem == "imagenet":
            self.min_input_size = 32
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False),  # 224 -> 112
                nn.BatchNorm2d(64),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # -> 56
            )
        elif stem == "cifar":
            self.min_input_size = 8
            self.stem = nn.Sequential(nn.Conv2d(in_channels, 64, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        else:
            raise ValueError(f"stem must be 'imagenet' or 'cifar', got {stem!r}")
        stages = []
        channels = 64
        for stage, (width, num_blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            blocks = []
            for i in range(num_blocks):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(block(channels, width, stride))
                channels = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)  # 56 -> 56 -> 28 -> 14 -> 7 (CIFAR stem: 32 -> 32 -> 16 -> 8 -> 4)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        init_resnet(self, zero_init_residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.name, self.in_channels, min_size=self.min_input_size)
        x = self.avgpool(self.stages(self.stem(x)))  # (N, 512 * expansion, 1, 1)
        return self.fc(torch.flatten(x, 1))


def resnet18(num_classes: int = 1000, in_channels: int = 3, *, stem: str = "imagenet") -> ResNet:
    """ResNet-18: basic blocks (2, 2, 2, 2), 11,689,512 parameters for 1000 classes (ImageNet stem)."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, in_channels, stem=stem, name="ResNet-18")


def resnet34(num_classes: int = 1000, in_channels: int = 3, *, stem: str = "imagenet") -> ResNet:
    """ResNet-34: basic blocks (3, 4, 6, 3), 21,797,672 parameters for 1000 classes (ImageNet stem)."""
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes, in_channels, stem=stem, name="ResNet-34")


def resnet50(num_classes: int = 1000, in_channels: int = 3, *, stem: str = "imagenet") -> ResNet:
    """ResNet-50: bottleneck blocks (3, 4, 6, 3), 25,557,032 parameters for 1000 classes (ImageNet stem)."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, in_channels, stem=stem, name="ResNet-50")


def resnet101(num_classes: int = 1000, in_channels: int = 3, *, stem: str = "imagenet") -> ResNet:
    """ResNet-101: bottleneck blocks (3, 4, 23, 3), 44,549,160 parameters for 1000 classes (ImageNet stem)."""
    return ResNet(Bottleneck, (3, 4, 23, 3), num_classes, in_channels, stem=stem, name="ResNet-101")


def resnet152(num_classes: int = 1000, in_channels: int = 3, *, stem: str = "imagenet") -> ResNet:
    """ResNet-152: bottleneck blocks (3, 8, 36, 3), 60,192,808 parameters for 1000 classes (ImageNet stem)."""
    return ResNet(Bottleneck, (3, 8, 36, 3), num_classes, in_channels, stem=stem, name="ResNet-152")
