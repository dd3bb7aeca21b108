"""Counting and timing models (cnnlib.pytorch.efficiency): the counts agree with the architecture, timings are sane, the table and plot work."""

import math

import matplotlib
import numpy as np
import pytest
import torch

from cnnlib import arithmetic as arith
from cnnlib.pytorch.data import make_loader
from cnnlib.pytorch.efficiency import (
    Efficiency,
    count_macs,
    count_parameters,
    format_table,
    measure,
    measure_latency,
    measure_throughput,
    plot_efficiency,
    train_and_measure,
)
from cnnlib.pytorch.models import DepthwiseSeparableConv2d, get_model

matplotlib.use("Agg")


def test_counts_of_a_separable_layer_are_the_arithmetic_ones():
    layer = DepthwiseSeparableConv2d(16, 32, 3, padding=1)
    assert count_parameters(layer) == arith.depthwise_separable_params(16, 32, 3)
    assert count_macs(layer, (16, 10, 12)) == arith.depthwise_separable_macs(16, 32, 3, 10, 12)


def test_small_cnn_counts():
    model = get_model("small_cnn_separable")
    assert count_parameters(model) == 64_170
    assert count_macs(model, (3, 32, 32)) == 10_712_320


def test_latency_and_throughput_are_positive_and_leave_the_model_in_eval_mode():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    latency = measure_latency(model, (3, 8, 8), device="cpu", warmup=1, repeats=3)
    assert 0 < latency < 1
    assert measure_throughput(model, (3, 8, 8), batch_size=4, device="cpu", warmup=1, repeats=2) > 0
    assert not model.training
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        measure_latency(model, (3, 8, 8), batch_size=0, device="cpu")


def test_measure_table_and_plot():
    row = measure(get_model("small_cnn_separable"), "small_cnn_separable", device="cpu", latency_repeats=2, throughput_batch=4, throughput_repeats=1)
    assert isinstance(row, Efficiency) and row.params == 64_170 and math.isnan(row.accuracy) and row.device.startswith("CPU")
    rows = [row, row._replace(name="other", macs=2 * row.macs, accuracy=0.5)]
    table = format_table(rows)
    assert "small_cnn_separable" in table and "50.0%" in table and table.splitlines()[1].rstrip().endswith("-")
    figure = plot_efficiency([r._replace(accuracy=0.4) for r in rows], dataset="shapes", note="a test")
    assert len(figure.axes) == 2
    assert figure.get_suptitle() == "shapes: a test" and "shapes" in figure.axes[0].get_ylabel()


def test_train_and_measure_trains_each_model_and_measures_on_each_device():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, 32)
    mean, std = torch.full((3,), 0.5), torch.full((3,), 0.25)
    train = make_loader(images, labels, 16, mean, std, train=True, device="cpu")
    test = make_loader(images, labels, 16, mean, std, train=False, device="cpu")
    results = train_and_measure(["small_cnn_separable"], train, test, epochs=1, lr=0.01, device="cpu", measure_devices=["cpu"],
                                latency_repeats=2, throughput_batch=4, progress=False)
    (row,) = results["cpu"]
    assert row.name == "small_cnn_separable" and 0 <= row.accuracy <= 1 and row.latency_ms > 0
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        train_and_measure(["small_cnn"], train, test, epochs=0, lr=0.1)
