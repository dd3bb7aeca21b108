"""layer_table against the model itself: shapes of a real forward pass, parameter totals, MACs."""

import pytest
import torch
from torch import nn

from cnnlib.arithmetic import activation_memory, conv_macs, conv_output_size, layer_table, pool_output_size


class SharedReLU(nn.Module):
    """Calls one ReLU module twice, as torchvision's ResNet blocks do."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, groups=2, bias=False)
        self.relu = nn.ReLU()
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        return self.bn(self.relu(self.conv2(self.relu(self.conv1(x)))))


def small_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 6, 5, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2, ceil_mode=True),
        nn.Conv2d(6, 8, (3, 1), dilation=2), nn.Flatten(), nn.Linear(8 * 3 * 7, 10),
    )


def test_rows_follow_the_forward_pass_and_the_arithmetic():
    model = small_cnn()
    rows = layer_table(model, (3, 29, 31))
    assert [row.name for row in rows] == ["0", "1", "2", "3", "4", "5"]
    assert [row.kind for row in rows] == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "Flatten", "Linear"]
    size = conv_output_size((29, 31), 5, stride=2, padding=1)
    size = pool_output_size(size, 3, stride=2, ceil_mode=True)
    size = conv_output_size(size, (3, 1), dilation=2)
    assert rows[3].output_shape == (8, *size)
    assert rows[3].macs == conv_macs(6, 8, (3, 1), size)
    assert rows[5].macs == 8 * size[0] * size[1] * 10
    assert sum(row.params for row in rows) == sum(p.numel() for p in model.parameters())
    x = torch.randn(1, 3, 29, 31)
    assert rows[-1].output_shape == tuple(model(x).shape[1:])
    assert all(row.activation_bytes == activation_memory(row.output_shape) for row in rows)


def test_a_module_called_twice_is_listed_twice_and_counted_once():
    model = SharedReLU().train()
    rows = layer_table(model, (3, 8, 8), dtype_bytes=8)
    assert [row.name for row in rows] == ["conv1", "relu", "conv2", "relu", "bn"]
    assert sum(row.params for row in rows) == sum(p.numel() for p in model.parameters())
    assert rows[4].activation_bytes == 4 * 6 * 6 * 8
    assert model.training  # the pass ran in eval mode (batch norm on one example) and restored it


def test_running_statistics_are_left_alone():
    model = SharedReLU()
    before = model.bn.running_mean.clone()
    layer_table(model, (3, 8, 8))
    assert torch.equal(model.bn.running_mean, before) and model.bn.num_batches_tracked == 0


@pytest.mark.parametrize(
    "model, shape, error, words",
    [
        ("not a model", (3, 8, 8), TypeError, ["model", "torch.nn.Module", "str"]),
        (nn.ReLU(), 8, TypeError, ["input_shape", "tuple", "8"]),
        (nn.ReLU(), (3, 0, 8), ValueError, ["input_shape[1]", ">= 1", "0"]),
    ],
)
def test_bad_input(model, shape, error, words):
    with pytest.raises(error) as info:
        layer_table(model, shape)
    for word in words:
        assert word in str(info.value)
