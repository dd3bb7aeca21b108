"""The residual blocks of He et al. (2016): basic, bottleneck and pre-activation, and their shortcuts.

A block computes ``relu(F(x) + shortcut(x))``. When the block keeps the shape, the shortcut is the
identity. When it changes the shape (stride 2 halves the height and width while the number of
feature maps grows), the shortcut must change it too, in one of two ways:

- ``"projection"``: a 1x1 convolution with the block's stride, then batch norm (option B of the
  paper; the ImageNet ResNets);
- ``"identity_pad"``: take every ``stride``-th pixel and pad the new channels with zeros, no
  parameters (option A; the CIFAR ResNets).

``"none"`` drops the shortcut altogether, which turns the block into two plain layers: the "plain"
networks of the degradation experiment.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SHORTCUTS", "BasicBlock", "Bottleneck", "IdentityPadShortcut", "PreActBlock", "make_shortcut"]

SHORTCUTS = ("projection", "identity_pad", "none")


class IdentityPadShortcut(nn.Module):
    """Option A: subsample by ``stride`` and append ``out_channels - in_channels`` zero channels.

    Shape
    -----
    ``(N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))``, the output
    shape of a 3x3, padding-1 convolution with that stride.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        if out_channels < in_channels:
            raise ValueError(f"an identity_pad shortcut cannot reduce channels: in_channels={in_channels}, out_channels={out_channels}")
        self.extra_channels = out_channels - in_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))  # pad (W, H, C): zeros after the last channel

    def extra_repr(self) -> str:
        return f"stride={self.stride}, extra_channels={self.extra_channels}"


def make_shortcut(in_channels: int, out_channels: int, stride: int, shortcut: str, *, batch_norm: bool = True) -> nn.Module | None:
    """The shortcut branch of a block, or ``None`` for a plain block.

    Parameters
    ----------
    in_channels, out_channels, stride : int
        The shape change the block makes.
    shortcut : {"projection", "identity_pad", "none"}
        What to do when the shape changes (see the module docstring).
    batch_norm : bool
        Whether a projection ends with batch norm (not in pre-activation blocks, where the next
        block's batch norm follows).

    Returns
    -------
    nn.Module or None
        ``nn.Identity`` when the shape does not change, else the projection or the zero padding;
        ``None`` for ``shortcut="none"``.
    """
    if shortcut not in SHORTCUTS:
        raise ValueError(f"shortcut must be one of {SHORTCUTS}, got {shortcut!r}")
    if shortcut == "none":
        return None
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    if shortcut == "identity_pad":
        return IdentityPadShortcut(in_channels, out_channels, stride)
    conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)
    return nn.Sequential(conv, nn.BatchNorm2d(out_channels)) if batch_norm else conv


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution, padding 1, no bias (a batch norm follows)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN, plus the shortcut, then ReLU (ResNet-18/34 and the CIFAR ResNets).

    Parameters
    ----------
    in_channels, out_channels : int
        Channels in and out.
    stride : int
        Stride of the first convolution (2 halves the height and width).
    shortcut : {"projection", "identity_pad", "none"}
        How the shortcut changes shape; ``"none"`` gives the plain block.

    Shape
    -----
    ``(N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))``.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, *, shortcut: str = "projection"):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = make_shortcut(in_channels, out_channels, stride, shortcut)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return F.relu(out)

    def last_bn(self) -> nn.BatchNorm2d:
        """The batch norm that ends the residual branch (zeroed for ``zero_init_residual``)."""
        return self.bn2


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (each with BN, ReLU between), plus the shortcut, then ReLU.

    The deeper ImageNet ResNets (50, 101, 152) use it: the 3x3 convolution works on
    ``mid_channels`` maps, and the block's output has ``expansion * mid_channels = 4 * mid_channels``.
    The stride sits on the 3x3 convolution (as in torchvision; the paper put it on the first 1x1,
    which gives the same parameter count).

    Parameters
    ----------
    in_channels : int
        Channels in.
    mid_channels : int
        Channels of the 3x3 convolution; the output has ``4 * mid_channels``.
    stride : int
        Stride of the 3x3 convolution.
    shortcut : {"projection", "identity_pad", "none"}
        How the shortcut changes shape.

    Shape
    -----
    ``(N, in_channels, H, W) -> (N, 4 * mid_channels, ceil(H / stride), ceil(W / stride))``.
    """

    expansion = 4

    def __init__(self, in_channels: int, mid_channels: int, stride: int = 1, *, shortcut: str = "projection"):
        super().__init__()
        out_channels = self.expansion * mid_channels
        self.conv1 = nn.Conv2d(in_channels, mid_channels, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = conv3x3(mid_channels, mid_channels, stride)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(mid_channels, out_channels, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = make_shortcut(in_channels, out_channels, stride, shortcut)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return F.relu(out)

    def last_bn(self) -> nn.BatchNorm2d:
        """The batch norm that ends the residual branch (zeroed for ``zero_init_residual``)."""
        return self.bn3


class PreActBlock(nn.Module):
    """BN-ReLU-conv3x3-BN-ReLU-conv3x3, plus the shortcut, with nothing after the addition.

    The pre-activation block of He et al., "Identity Mappings in Deep Residual Networks" (2016):
    with the ReLU moved inside the branch, the shortcut path from any block to any later one is a
    pure identity, so the signal and its gradient pass through unchanged. A projection shortcut
    takes the pre-activated input ``relu(bn1(x))``, which the branch computes anyway; an identity or
    ``identity_pad`` shortcut takes ``x`` itself.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels in and out.
    stride : int
        Stride of the first convolution.
    shortcut : {"projection", "identity_pad", "none"}
        How the shortcut changes shape (a projection here is a 1x1 convolution without batch norm).

    Shape
    -----
    ``(N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride))``.
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, *, shortcut: str = "projection"):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.shortcut = make_shortcut(in_channels, out_channels, stride, shortcut, batch_norm=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        preact = F.relu(self.bn1(x))
        out = self.conv1(preact)
        out = self.conv2(F.relu(self.bn2(out)))
        if self.shortcut is None:
            return out
        shortcut_input = preact if isinstance(self.shortcut, nn.Conv2d) else x
        return out + self.shortcut(shortcut_input)

    def last_bn(self) -> nn.BatchNorm2d:
        """The batch norm inside the residual branch (zeroed for ``zero_init_residual``)."""
        return self.bn2
