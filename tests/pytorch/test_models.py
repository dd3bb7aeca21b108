"""The architectures: parameter counts, output shapes, the blocks, and the errors for bad input."""

import pytest
import torch

from cnnlib.pytorch.models import (
    BasicBlock,
    Bottleneck,
    CifarResNet,
    IdentityPadShortcut,
    InceptionModule,
    LeNet5,
    PreActBlock,
    get_model,
    model_names,
    vgg_block,
)
from cnnlib.pytorch.models.cifar_resnet import CIFAR_DEPTHS
from cnnlib.pytorch.models.googlenet import INCEPTION_3, INCEPTION_4, INCEPTION_5


def num_params(model):
    return sum(p.numel() for p in model.parameters())


def meta_model(name, **kwargs):
    """The model with its parameters on the meta device: shapes without memory or initialisation time."""
    with torch.device("meta"):
        return get_model(name, **kwargs)


PUBLISHED_COUNTS = {
    "lenet5": 61_706,
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "convnext_tiny": 28_589_128,  # timm's convnext_tiny
}


@pytest.mark.parametrize("name, count", PUBLISHED_COUNTS.items())
def test_published_parameter_counts(name, count):
    assert num_params(meta_model(name)) == count


def conv_count(in_channels, out_channels, k, bias=False):
    return (k * k * in_channels + bias) * out_channels


def vgg_count(blocks, num_classes=1000, in_channels=3):
    """VGG parameters summed layer by layer: 3x3 convolutions with bias, then 25088-4096-4096-classes."""
    total, channels = 0, in_channels
    for num_convs, width in blocks:
        for _ in range(num_convs):
            total += conv_count(channels, width, 3, bias=True)
            channels = width
    return total + (25088 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * num_classes


@pytest.mark.parametrize(
    "depth, blocks",
    [
        (11, [(1, 64), (1, 128), (2, 256), (2, 512), (2, 512)]),
        (13, [(2, 64), (2, 128), (2, 256), (2, 512), (2, 512)]),
        (19, [(2, 64), (2, 128), (4, 256), (4, 512), (4, 512)]),
    ],
)
def test_vgg_counts_match_layer_by_layer_sum(depth, blocks):
    assert num_params(meta_model(f"vgg{depth}")) == vgg_count(blocks)


def test_vgg16_layer_sum_is_the_published_count():
    assert vgg_count([(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]) == 138_357_544


def googlenet_count(num_classes=1000, in_channels=3):
    """GoogLeNet parameters summed layer by layer: every convolution is bias-free and followed by a batch norm."""

    def unit(cin, cout, k):
        return conv_count(cin, cout, k) + 2 * cout

    total = unit(in_channels, 64, 7) + unit(64, 64, 1) + unit(64, 192, 3)
    channels = 192
    for table in (INCEPTION_3, INCEPTION_4, INCEPTION_5):
        for c1, c3r, c3, c5r, c5, pool in table.values():
            total += unit(channels, c1, 1) + unit(channels, c3r, 1) + unit(c3r, c3, 3)
            total += unit(channels, c5r, 1) + unit(c5r, c5, 5) + unit(channels, pool, 1)
            channels = c1 + c3 + c5 + pool
    return total + (channels + 1) * num_classes


def test_googlenet_count_is_the_docstring_count_and_the_layer_sum():
    from cnnlib.pytorch.models import GoogLeNet

    count = num_params(meta_model("googlenet"))
    assert count == googlenet_count()
    assert f"{count:,} parameters" in GoogLeNet.__doc__


def cifar_resnet_count(depth, num_classes=10, in_channels=3):
    """A CIFAR ResNet's parameters summed layer by layer (option A shortcuts have none)."""
    n = (depth - 2) // 6
    total, channels = conv_count(in_channels, 16, 3) + 2 * 16, 16
    for width in (16, 32, 64):
        for _ in range(n):
            total += conv_count(channels, width, 3) + 2 * width + conv_count(width, width, 3) + 2 * width
            channels = width
    return total + (64 + 1) * num_classes


CIFAR_COUNTS = {20: 269_722, 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962}
PAPER_MILLIONS = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.7}


@pytest.mark.parametrize("depth", CIFAR_DEPTHS)
@pytest.mark.parametrize("variant", ["resnet", "preact_resnet", "plain"])
def test_cifar_resnet_counts(depth, variant):
    count = num_params(get_model(f"{variant}{depth}"))
    assert count == CIFAR_COUNTS[depth] == cifar_resnet_count(depth)
    digits = 1 if depth == 110 else 2
    assert round(count / 1e6, digits) == PAPER_MILLIONS[depth]


@pytest.mark.parametrize("depth", [18, 50])
def test_cifar_stem_resnet_count_is_the_imagenet_count_with_a_3x3_stem_and_10_classes(depth):
    imagenet = PUBLISHED_COUNTS[f"resnet{depth}"]
    features = 512 * (1 if depth == 18 else 4)
    expected = imagenet - conv_count(3, 64, 7) + conv_count(3, 64, 3) - (features + 1) * 1000 + (features + 1) * 10
    assert num_params(meta_model(f"resnet{depth}_cifar")) == expected


SMALL_INPUTS = {"lenet5": (1, 32), "googlenet": (3, 32), "resnet18": (3, 32), "resnet50": (3, 32)}


@pytest.mark.parametrize("name", [n for n in model_names() if n in SMALL_INPUTS or n.endswith("20")])
def test_forward_output_shape_on_real_tensors(name):
    channels, size = SMALL_INPUTS.get(name, (3, 32))
    model = get_model(name, num_classes=7).eval()
    out = model(torch.randn(2, channels, size, size))
    assert out.shape == (2, 7)
    assert torch.isfinite(out).all()


def nominal_input(name):
    """(channels, size, classes) of the input and output each model is designed for."""
    if name == "lenet5":
        return 1, 32, 10
    cifar = name.startswith(("preact", "plain", "small_cnn")) or name.endswith("_cifar") or name in {f"resnet{depth}" for depth in CIFAR_DEPTHS}
    return (3, 32, 10) if cifar else (3, 224, 1000)


@pytest.mark.parametrize("name", model_names())
def test_every_model_maps_its_nominal_input_to_logits(name):
    channels, size, classes = nominal_input(name)
    out = meta_model(name)(torch.empty(3, channels, size, size, device="meta"))
    assert out.shape == (3, classes)


def test_get_model_overrides_classes_and_channels():
    model = meta_model("ResNet-18", num_classes=10, in_channels=1)
    assert model(torch.empty(2, 1, 64, 64, device="meta")).shape == (2, 10)
    assert meta_model("resnet18").stem[0].in_channels == 3


def test_unknown_model_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown model 'resnet19'") as info:
        get_model("resnet19")
    for name in ("lenet5", "vgg16", "googlenet", "resnet50", "resnet56", "preact_resnet110", "plain20"):
        assert name in str(info.value)


def test_lenet5_rejects_wrong_channels_and_size_naming_the_expected_shape():
    model = LeNet5()
    with pytest.raises(ValueError, match=r"LeNet5 expects input of shape \(N, 1, 32, 32\), got \(2, 3, 32, 32\)"):
        model(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match=r"\(N, 1, 32, 32\), got \(2, 1, 28, 28\)"):
        model(torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"got \(1, 32, 32\)"):
        model(torch.zeros(1, 32, 32))


@pytest.mark.parametrize(
    "name, shape, expected",
    [
        ("resnet18", (2, 3, 16, 16), r"ResNet-18 expects input of shape \(N, 3, H, W\) with H, W >= 32"),
        ("resnet18_cifar", (2, 3, 4, 4), r"ResNet-18 expects input of shape \(N, 3, H, W\) with H, W >= 8"),
        ("resnet20", (2, 1, 32, 32), r"ResNet-20 expects input of shape \(N, 3, H, W\) with H, W >= 4"),
        ("alexnet", (2, 3, 32, 32), r"AlexNet expects input of shape \(N, 3, H, W\) with H, W >= 63"),
        ("vgg16", (2, 3, 16, 16), r"VGG-16 expects .* >= 32"),
        ("googlenet", (2, 4, 224, 224), r"GoogLeNet expects input of shape \(N, 3, H, W\)"),
        ("plain56", (2, 3, 2, 2), r"Plain-56 expects"),
    ],
)
def test_bad_input_names_the_expected_shape(name, shape, expected):
    with pytest.raises(ValueError, match=expected):
        meta_model(name)(torch.empty(shape, device="meta"))


def test_lenet5_parameters_are_named_like_the_reference_layout():
    names = [name for name, _ in LeNet5().named_parameters()]
    assert names == [f"{i}.{kind}" for i in (0, 3, 7, 9, 11) for kind in ("weight", "bias")]


def test_vgg_block_halves_the_size_and_has_num_convs_convolutions():
    block = vgg_block(3, 8, num_convs=3)
    assert block(torch.randn(2, 3, 16, 12)).shape == (2, 8, 8, 6)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in block) == 3
    assert num_params(block) == (27 + 1) * 8 + 2 * (72 + 1) * 8
    with pytest.raises(ValueError, match="num_convs"):
        vgg_block(3, 8, 0)


def test_inception_module_concatenates_its_branches():
    module = InceptionModule(192, 64, 96, 128, 16, 32, 32)
    assert module(torch.randn(2, 192, 7, 7)).shape == (2, 256, 7, 7)
    assert module.out_channels == 256


@pytest.mark.parametrize("block_type", [BasicBlock, PreActBlock])
@pytest.mark.parametrize("stride, size_out", [(1, 9), (2, 5)])
def test_two_layer_blocks_shapes(block_type, stride, size_out):
    block = block_type(8, 16, stride)
    assert block(torch.randn(2, 8, 9, 9)).shape == (2, 16, size_out, size_out)


def test_bottleneck_expands_four_times():
    block = Bottleneck(64, 32, stride=2)
    assert block(torch.randn(2, 64, 8, 8)).shape == (2, 128, 4, 4)
    assert Bottleneck(128, 32).shortcut.__class__ is torch.nn.Identity


def test_projection_shortcut_is_conv_and_bn_only_when_the_shape_changes():
    assert isinstance(BasicBlock(16, 16).shortcut, torch.nn.Identity)
    projection = BasicBlock(16, 32, stride=2).shortcut
    assert [type(m) for m in projection] == [torch.nn.Conv2d, torch.nn.BatchNorm2d]
    assert projection[0].stride == (2, 2) and projection[0].kernel_size == (1, 1)


def test_identity_pad_shortcut_subsamples_and_appends_zero_channels():
    x = torch.randn(2, 4, 6, 6)
    out = IdentityPadShortcut(4, 10, stride=2)(x)
    assert out.shape == (2, 10, 3, 3)
    assert torch.equal(out[:, :4], x[:, :, ::2, ::2])
    assert not out[:, 4:].any()
    assert num_params(BasicBlock(4, 10, 2, shortcut="identity_pad")) == num_params(BasicBlock(4, 10, 2, shortcut="none"))


def test_residual_block_with_zeroed_branch_is_the_shortcut():
    block = BasicBlock(8, 8).eval()
    torch.nn.init.zeros_(block.bn2.weight)
    x = torch.randn(2, 8, 5, 5)
    assert torch.allclose(block(x), torch.relu(x))
    plain = BasicBlock(8, 8, shortcut="none").eval()
    torch.nn.init.zeros_(plain.bn2.weight)
    assert not plain(x).any()


def test_unknown_shortcut_and_bad_depth_are_value_errors():
    with pytest.raises(ValueError, match="shortcut must be one of"):
        BasicBlock(8, 16, 2, shortcut="option_a")
    with pytest.raises(ValueError, match="6n \\+ 2"):
        CifarResNet(21)
