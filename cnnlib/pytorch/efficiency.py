"""What a network costs, measured: parameters, multiply-adds, latency and throughput, against its accuracy.

Counting and timing answer different questions. The parameters and multiply-accumulates (MACs)
follow from the architecture (:func:`count_parameters`, :func:`count_macs`); the time a forward pass
takes also depends on how well the hardware and the library run each kind of layer, so it is
measured (:func:`measure_latency` for one image at a time, :func:`measure_throughput` for large
batches). :func:`measure` collects all of it for one model in an :class:`Efficiency` row;
:func:`train_and_measure` trains a list of registered models with the same recipe first;
:func:`plot_efficiency` draws accuracy against MACs and against latency. Notebook 15 and ``benchmarks/efficient_convs.py`` both use them.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import NamedTuple

import torch
from torch import nn

from cnnlib.arithmetic import layer_table

from .device import resolve_device
from .models import get_model
from .seeding import seed_everything
from .train import evaluate, fit

__all__ = [
    "Efficiency",
    "count_macs",
    "count_parameters",
    "format_table",
    "measure",
    "measure_latency",
    "measure_throughput",
    "plot_efficiency",
    "train_and_measure",
]


class Efficiency(NamedTuple):
    """One model's costs and accuracy."""

    name: str
    params: int  # learnable parameters
    macs: int  # multiply-accumulates of one forward pass of one image
    latency_ms: float  # median time of a forward pass of one image, in milliseconds
    throughput: float  # images per second in forward passes of large batches
    accuracy: float  # top-1 accuracy on the test set (nan when not trained)
    device: str  # where latency and throughput were measured, e.g. "CPU, 1 thread"


def count_parameters(model: nn.Module) -> int:
    """``sum(p.numel())`` over the model's parameters."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, input_shape) -> int:
    """Multiply-accumulates of the convolutions and dense layers in one forward pass of one example.

    ``input_shape`` is one example's shape, e.g. ``(3, 32, 32)``; the count comes from forward hooks
    (:func:`cnnlib.arithmetic.layer_table`).
    """
    return sum(row.macs for row in layer_table(model, tuple(input_shape)))


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.inference_mode()
def _median_batch_time(model: nn.Module, x: torch.Tensor, warmup: int, repeats: int) -> float:
    for _ in range(warmup):  # the first calls allocate memory and pick kernels
        model(x)
    _synchronize(x.device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x)
        _synchronize(x.device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _prepare(model: nn.Module, input_shape, batch_size: int, device) -> tuple[nn.Module, torch.Tensor, torch.device]:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    device = resolve_device(device)
    parameter = next(model.parameters(), None)
    dtype = parameter.dtype if parameter is not None else torch.float32
    model = model.to(device).eval()
    return model, torch.randn(batch_size, *input_shape, device=device, dtype=dtype), device


def measure_latency(model: nn.Module, input_shape, *, batch_size: int = 1, device=None, warmup: int = 5, repeats: int = 30) -> float:
    """Median wall-clock time of one forward pass (evaluation mode, no autograd), in seconds.

    Parameters
    ----------
    model : nn.Module
        Moved to ``device`` and put in evaluation mode.
    input_shape : tuple of int
        One example, e.g. ``(3, 32, 32)``.
    batch_size : int
        1 for the latency of answering one request.
    device : str or torch.device, optional
        Default: the course's default device (CUDA, then MPS, then CPU).
    warmup, repeats : int
        Untimed calls first, then the timed ones; the median ignores the odd slow call (another
        process taking the CPU).
    """
    model, x, _ = _prepare(model, input_shape, batch_size, device)
    return _median_batch_time(model, x, warmup, repeats)


def measure_throughput(model: nn.Module, input_shape, *, batch_size: int = 128, device=None, warmup: int = 2, repeats: int = 5) -> float:
    """Images per second in forward passes of ``batch_size`` images (evaluation mode, no autograd)."""
    model, x, _ = _prepare(model, input_shape, batch_size, device)
    return batch_size / _median_batch_time(model, x, warmup, repeats)


def measure(model: nn.Module, name: str, *, accuracy: float = math.nan, device=None, input_shape=(3, 32, 32),
            latency_repeats: int = 30, throughput_batch: int = 128, throughput_repeats: int = 5) -> Efficiency:
    """Count and time ``model`` on ``device``: one :class:`Efficiency` row (``accuracy`` as given).

    The model is moved to ``device`` in float32 and put in evaluation mode.
    """
    device = resolve_device(device)
    model = model.float().to(device).eval()
    return Efficiency(
        name=name,
        params=count_parameters(model),
        macs=count_macs(model, input_shape),
        latency_ms=1e3 * measure_latency(model, input_shape, device=device, repeats=latency_repeats),
        throughput=measure_throughput(model, input_shape, batch_size=throughput_batch, device=device, repeats=throughput_repeats),
        accuracy=accuracy,
        device=_device_label(device),
    )


def _device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"CPU, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''}"
    return device.type


def train_and_measure(names, train_loader, test_loader, *, epochs: int, lr: float, weight_decay: float = 5e-4, device=None,
                      measure_devices=("cpu",), input_shape=(3, 32, 32), seed: int = 0, latency_repeats: int = 30,
                      throughput_batch: int = 128, progress: bool = True) -> dict[str, list[Efficiency]]:
    """Train each registered model with the same recipe, then count and time it on each of ``measure_devices``.

    Parameters
    ----------
    names : sequence of str
        Names for :func:`cnnlib.pytorch.get_model` (e.g. ``"small_cnn"``, ``"resnet20"``).
    train_loader, test_loader :
        As for :func:`cnnlib.pytorch.fit`; the accuracy is top-1 on ``test_loader``.
    epochs, lr, weight_decay :
        The recipe of :func:`cnnlib.pytorch.fit` (SGD with Nesterov momentum, one-cycle schedule).
    device : str or torch.device, optional
        Where to train (default: CUDA, then MPS, then CPU).
    measure_devices : sequence of str or torch.device
        Where to time the forward passes.
    input_shape : tuple of int
    seed : int
        Each model starts from the same seed (initial weights, data order, augmentation).
    latency_repeats, throughput_batch : int
    progress : bool
        Progress bars while training.

    Returns
    -------
    dict
        ``{str(measure_device): [Efficiency per model]}``.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    device = resolve_device(device)
    results = {str(d): [] for d in measure_devices}
    for name in names:
        seed_everything(seed)
        model = get_model(name)
        fit(model, train_loader, None, epochs=epochs, lr=lr, weight_decay=weight_decay, device=device, seed=seed, progress=progress)
        accuracy = evaluate(model, test_loader, device)["top1"]
        for measure_device in measure_devices:
            results[str(measure_device)].append(measure(model, name, accuracy=accuracy, device=measure_device, input_shape=input_shape,
                                                        latency_repeats=latency_repeats, throughput_batch=throughput_batch))
    return results


def format_table(results) -> str:
    """The rows as a fixed-width text table, one model per line."""
    lines = [f"{'model':<22} {'params':>9} {'MACs':>12} {'latency (batch 1)':>18} {'throughput':>14} {'accuracy':>9}"]
    for r in results:
        accuracy = "-" if math.isnan(r.accuracy) else f"{r.accuracy:.1%}"
        lines.append(f"{r.name:<22} {r.params:>9,} {r.macs:>12,} {r.latency_ms:>15.2f} ms {r.throughput:>9,.0f} im/s {accuracy:>9}")
    return "\n".join(lines)


def plot_efficiency(results, *, dataset: str, note: str = "", axes=None):
    """Accuracy against multiply-adds (marker area: parameters) and against measured latency.

    Parameters
    ----------
    results : sequence of Efficiency
    dataset : str
        The data set the accuracies were measured on, written in the title (e.g. ``"CIFAR-10"``
        or ``"shapes (stand-in for CIFAR-10)"``).
    note : str
        A second title line, e.g. the training budget.
    axes : pair of matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    else:
        fig = axes[0].figure
    largest = max(r.params for r in results)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, r in enumerate(results):
        color = colors[index % len(colors)]
        size = 60 + 900 * r.params / largest
        axes[0].scatter(r.macs / 1e6, 100 * r.accuracy, s=size, color=color, alpha=0.7, edgecolor="black")
        axes[0].annotate(f"{r.name}\n{r.params / 1e3:,.0f}k params", (r.macs / 1e6, 100 * r.accuracy), textcoords="offset points", xytext=(12, -4), fontsize=8)
        axes[1].scatter(r.latency_ms, 100 * r.accuracy, s=80, color=color, edgecolor="black")
        axes[1].annotate(r.name, (r.latency_ms, 100 * r.accuracy), textcoords="offset points", xytext=(8, -4), fontsize=8)
    axes[0].set(xscale="log", xlabel="multiply-adds per image (millions, log scale)", ylabel=f"test accuracy on {dataset} (%)",
                title="Accuracy vs multiply-adds (area: parameters)")
    axes[0].xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes[0].xaxis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if f"{value:g}"[0] in "25" else ""))
    devices = sorted({r.device for r in results})
    axes[1].set(xlabel=f"latency of one image, measured on {', '.join(devices)} (ms)", title="Accuracy vs measured latency")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
        ax.margins(x=0.35, y=0.25)
    fig.suptitle(f"{dataset}" + (f": {note}" if note else ""), fontsize=10)
    return fig
