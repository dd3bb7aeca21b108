"""The course's architectures in PyTorch, from LeNet-5 to ResNet-152, and the blocks they are built from.

Blocks (the graded names of notebooks 11 and 12): :func:`vgg_block`, :class:`InceptionModule`,
:class:`BasicBlock`, :class:`Bottleneck`, :class:`PreActBlock`. Efficient blocks (notebook 15):
:class:`DepthwiseSeparableConv2d`, :class:`DepthwiseSeparableBlock`, :class:`InvertedResidual`,
:class:`ConvNeXtBlock`, :class:`LayerNorm2d`, :func:`patchify_stem`. Architectures: :class:`LeNet5`,
:class:`AlexNet`, :class:`VGG`, :class:`GoogLeNet`, :class:`ResNet` (ImageNet), :class:`CifarResNet`
(CIFAR-10, with pre-activation and plain variants), :class:`SmallCNN` (CIFAR-10, standard or
depthwise-separable), :class:`ConvNeXt` (ImageNet). :func:`get_model` builds any of them by name.
"""

from .alexnet import AlexNet, alexnet
from .cifar_resnet import CifarResNet, resnet20, resnet32, resnet44, resnet56, resnet110
from .efficient_blocks import (
    ConvNeXt,
    ConvNeXtBlock,
    DepthwiseSeparableBlock,
    DepthwiseSeparableConv2d,
    InvertedResidual,
    LayerNorm2d,
    convnext_tiny,
    patchify_stem,
)
from .googlenet import GoogLeNet, InceptionModule, googlenet
from .lenet import LeNet5
from .registry import get_model, model_names
from .resnet import ResNet, resnet18, resnet34, resnet50, resnet101, resnet152
from .resnet_blocks import BasicBlock, Bottleneck, IdentityPadShortcut, PreActBlock
from .small_cnn import SmallCNN, small_cnn, small_cnn_separable
from .vgg import VGG, vgg11, vgg13, vgg16, vgg19, vgg_block

__all__ = [
    "AlexNet", "BasicBlock", "Bottleneck", "CifarResNet", "GoogLeNet", "IdentityPadShortcut", "InceptionModule",
    "LeNet5", "PreActBlock", "ResNet", "VGG", "alexnet", "get_model", "googlenet", "model_names",
    "resnet18", "resnet20", "resnet32", "resnet34", "resnet44", "resnet50", "resnet56", "resnet101",
    "resnet110", "resnet152", "vgg11", "vgg13", "vgg16", "vgg19", "vgg_block",
    "ConvNeXt", "ConvNeXtBlock", "DepthwiseSeparableBlock", "DepthwiseSeparableConv2d", "InvertedResidual", "LayerNorm2d",
    "SmallCNN", "convnext_tiny", "patchify_stem", "small_cnn", "small_cnn_separable",
]
