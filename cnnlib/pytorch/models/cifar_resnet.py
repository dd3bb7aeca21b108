"""The CIFAR-10 ResNets of He et al. (2016), section 4.2, their pre-activation variants and plain twins.

A ``6n + 2``-layer network: a 3x3 convolution to 16 maps, three stages of ``n`` two-layer blocks on
32x32, 16x16 and 8x8 maps (16, 32 and 64 filters; the first block of stages 2 and 3 has stride 2),
global average pooling and a dense layer. The paper's shortcuts are parameter-free (option A), so a
ResNet and its plain twin have exactly the same parameters: the plain network is the residual one
with the shortcuts taken out, which is what the degradation experiment compares.
"""

from __future__ import annotations

import torch
from torch import nn

from ._input import check_input
from .resnet import init_resnet
from .resnet_blocks import BasicBlock, PreActBlock

__all__ = ["CIFAR_DEPTHS", "CifarResNet", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110"]

CIFAR_DEPTHS = (20, 32, 44, 56, 110)


class CifarResNet(nn.Module):
    """ResNet for 32x32 images: ``depth = 6n + 2`` weight layers, widths 16, 32, 64.

    Parameters
    ----------
    depth : int
        ``6n + 2`` (20, 32, 44, 56 and 110 in the paper).
    num_classes : int
        Size of the output.
    in_channels : int
        Channels of the input images.
    preact : bool
        Use :class:`PreActBlock` (pre-activation, He et al. "Identity Mappings", 2016), with a final
        batch norm and ReLU before the pooling; otherwise :class:`BasicBlock`.
    shortcut : {"identity_pad", "projection", "none"}
        ``"identity_pad"``: the paper's parameter-free option A; ``"none"``: the plain network.
    zero_init_residual : bool
        Start each residual branch's last batch norm at zero.

    Shape
    -----
    Input ``(N, in_channels, H, W)`` with ``H, W >= 4`` (total stride 4; 32x32 for CIFAR-10, where
    the last map is 8x8), output ``(N, num_classes)``.
    """

    min_input_size = 4

    def __init__(self, depth: int, num_classes: int = 10, in_channels: int = 3, *, preact: bool = False, shortcut: str = "identity_pad", zero_init_residual: bool = False):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (20, 32, 44, 56, 110...), got {depth}")
        blocks_per_stage = (depth - 2) // 6
        self.name = ("PreAct" if preact else "") + ("Plain" if shortcut == "none" else "ResNet") + f"-{depth}"
        self.in_channels = in_channels
        block = PreActBlock if preact else BasicBlock
        stem = [nn.Conv2d(in_channels, 16, kernel_size=3, padding=1, bias=False)]
        if not preact:  # a pre-activation network starts its first block with BN-ReLU instead
            stem += [nn.BatchNorm2d(16), nn.ReLU(inplace=True)]
        self.stem = nn.Sequential(*stem)
        stages = []
        channels = 16
        for stage, width in enumerate((16, 32, 64)):
            blocks = []
            for i in range(blocks_per_stage):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(block(channels, width, stride, shortcut=shortcut))
                channels = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)  # 32 -> 32 -> 16 -> 8
        # Pre-activation blocks end on a convolution, so the network adds the last BN-ReLU itself.
        self.final_activation = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=True)) if preact else nn.Identity()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        init_resnet(self, zero_init_residual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.name, self.in_channels, min_size=self.min_input_size)
        x = self.final_activation(self.stages(self.stem(x)))  # (N, 64, H / 4, W / 4)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet20(num_classes: int = 10, in_channels: int = 3) -> CifarResNet:
    """CIFAR ResNet-20 with option-A shortcuts; see :class:`CifarResNet`."""
    return CifarResNet(20, num_classes, in_channels)


def resnet32(num_classes: int = 10, in_channels: int = 3) -> CifarResNet:
    """CIFAR ResNet-32 with option-A shortcuts; see :class:`CifarResNet`."""
    return CifarResNet(32, num_classes, in_channels)


def resnet44(num_classes: int = 10, in_channels: int = 3) -> CifarResNet:
    """CIFAR ResNet-44 with option-A shortcuts; see :class:`CifarResNet`."""
    return CifarResNet(44, num_classes, in_channels)


def resnet56(num_classes: int = 10, in_channels: int = 3) -> CifarResNet:
    """CIFAR ResNet-56 with option-A shortcuts; see :class:`CifarResNet`."""
    return CifarResNet(56, num_classes, in_channels)


def resnet110(num_classes: int = 10, in_channels: int = 3) -> CifarResNet:
    """CIFAR ResNet-110 with option-A shortcuts; see :class:`CifarResNet`."""
    return CifarResNet(110, num_classes, in_channels)
