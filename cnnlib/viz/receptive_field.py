"""Notebook 05's explorer: trace one unit of a stack of layers down to the input pixels it reads.

A stack is written as text, one layer per comma, each ``kernel/stride`` with an optional
``/padding`` and ``/dilation`` (PyTorch's argument order): ``"3/1, 3/1, 2/2, 3/1/1"``.
:func:`trace_receptive_field` walks from one unit of the last layer down, layer by layer, collecting
the units (and padding zeros) it depends on; :func:`draw_receptive_field` draws the stack along one
axis, with those units in orange and the lines along which they are read. The receptive field's
size and the jumps come from :mod:`cnnlib.arithmetic`; the traced span must equal them (a test
checks it on random stacks).

    >>> parse_layers("3/1, 2/2, 3/1/1/2")
    [Layer(kernel_size=3, stride=1, padding=0, dilation=1), Layer(kernel_size=2, stride=2, padding=0, dilation=1), Layer(kernel_size=3, stride=1, padding=1, dilation=2)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from matplotlib.collections import LineCollection

from cnnlib import arithmetic as arith
from cnnlib.viz.explorer import Explorer, View
from cnnlib.viz.grids import COLOURS, new_axes

__all__ = [
    "Layer", "parse_layers", "format_layers", "layer_sizes", "Trace", "trace_receptive_field",
    "receptive_field_formula", "draw_receptive_field", "receptive_field_explorer",
]

FORM = "kernel/stride, with optional /padding and /dilation, e.g. 3/1 or 3/1/1 or 3/1/2/2"


@dataclass(frozen=True)
class Layer:
    """One convolution or pooling layer along one axis."""

    kernel_size: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def __str__(self) -> str:
        """``kernel/stride``, then ``/padding`` and ``/dilation`` only when they are needed."""
        parts = [self.kernel_size, self.stride, self.padding, self.dilation]
        keep = 4 if self.dilation != 1 else 3 if self.padding else 2
        return "/".join(str(v) for v in parts[:keep])


def parse_layers(text: str) -> list[Layer]:
    """``"3/1, 2/2, 3/1/1"`` as a list of :class:`Layer`; ``ValueError`` naming the item that is wrong."""
    if not isinstance(text, str):
        raise TypeError(f"layers must be a string like '3/1, 2/2', got {type(text).__name__} {text!r}")
    items = [item.strip() for item in text.split(",")]
    if items == [""]:
        return []
    layers = []
    for index, item in enumerate(items, start=1):
        if not re.fullmatch(r"\d+(/\d+){1,3}", item.replace(" ", "")):
            raise ValueError(f"layers: item {index} is {item!r}; write each layer as {FORM}")
        numbers = [int(v) for v in item.replace(" ", "").split("/")]
        kernel_size, stride, padding, dilation = numbers + [0, 1][len(numbers) - 2:]
        for name, value, minimum in (("kernel", kernel_size, 1), ("stride", stride, 1), ("dilation", dilation, 1)):
            if value < minimum:
                raise ValueError(f"layers: item {index} ({item}) has {name} {value}; it must be >= {minimum}")
        layers.append(Layer(kernel_size, stride, padding, dilation))
    return layers


def format_layers(layers: list[Layer]) -> str:
    """The inverse of :func:`parse_layers`."""
    return ", ".join(str(layer) for layer in layers)


def _triples(layers: list[Layer]) -> list[tuple[int, int, int]]:
    """``(kernel_size, stride, dilation)`` per layer, as :mod:`cnnlib.arithmetic` takes them."""
    return [(layer.kernel_size, layer.stride, layer.dilation) for layer in layers]


def layer_sizes(layers: list[Layer], n: int) -> list[int]:
    """The size of the input and of every layer's output, from :func:`cnnlib.arithmetic.conv_output_size`.

    A layer whose kernel does not fit its input raises the library's ``ValueError``, prefixed with
    which layer it is.
    """
    sizes = [n]
    for index, layer in enumerate(layers, start=1):
        try:
            sizes.append(arith.conv_output_size(sizes[-1], layer.kernel_size, stride=layer.stride,
                                                padding=layer.padding, dilation=layer.dilation))
        except ValueError as error:
            raise ValueError(f"layer {index} ({layer}) on its input of {sizes[-1]} units: {error}") from None
    return sizes


class Trace(NamedTuple):
    """What one unit of the last layer depends on.

    ``reads[l]`` are the positions of layer ``l`` (0 = the input) that the unit depends on, sorted;
    a position below 0 or at or above ``sizes[l]`` is a padding zero of the layer above, and leads
    no further down. ``span`` is ``(first, last)``, the receptive field in input positions: the
    window that the unit would see if every padding zero were a real unit (so its size is the
    receptive field of :func:`cnnlib.arithmetic.receptive_field`; near a border part of it lies
    outside the image).
    """

    sizes: list[int]
    unit: int
    reads: list[list[int]]
    span: tuple[int, int]


def trace_receptive_field(layers: list[Layer], n: int, unit: int | None = None) -> Trace:
    """Walk from ``unit`` of the last layer (default: its centre unit) down to the input.

    Unit ``v`` of layer ``l`` reads positions ``v*s + j*d - p`` (``j = 0 .. k-1``) of layer ``l-1``.
    """
    sizes = layer_sizes(layers, n)
    last = sizes[-1]
    unit = last // 2 if unit is None else unit
    if not 0 <= unit < last:
        raise ValueError(f"unit must be in 0 .. {last - 1} (the last layer has {last} units), got {unit}")
    reads = [[unit]]
    first = final = unit  # the span, walked down as if the padding were real units
    for depth in range(len(layers), 0, -1):  # from the last layer down to the input
        layer = layers[depth - 1]
        units = [v for v in reads[0] if 0 <= v < sizes[depth]]  # padding zeros read nothing below
        reads.insert(0, sorted({v * layer.stride + j * layer.dilation - layer.padding
                                for v in units for j in range(layer.kernel_size)}))
        first = first * layer.stride - layer.padding
        final = final * layer.stride + layer.dilation * (layer.kernel_size - 1) - layer.padding
    return Trace(sizes, unit, reads, (first, final))


def receptive_field_formula(layers: list[Layer]) -> str:
    """``r = 1 + Σ d·(k−1)·J`` with the stack's numbers, ending in :func:`cnnlib.arithmetic.receptive_field`."""
    if not layers:
        return "r = 1 (no layers: a unit is one input pixel)"
    triples = _triples(layers)
    terms = [f"{d}·{k - 1}·{arith.effective_stride(triples[:index])}" for index, (k, s, d) in enumerate(triples)]
    return (f"r = 1 + Σ d·(k−1)·J = 1 + {' + '.join(terms)} = {arith.receptive_field(triples)}"
            f" (J: the jump of the layer below); the last layer's units are {_pixels(arith.effective_stride(triples))} apart")


def _pixels(count: int) -> str:
    return f"{count} pixel" + ("" if count == 1 else "s")


def draw_receptive_field(layers: list[Layer], n: int, unit: int | None = None, ax=None):
    """Draw the stack along one axis: every unit of every layer, the ones ``unit`` depends on in orange.

    Units sit at the centre of the input window they see, so layers line up above the input. Hollow
    squares are padding zeros (orange when read). Returns the figure.
    """
    trace = trace_receptive_field(layers, n, unit)
    own_figure = ax is None
    figure, ax = new_axes((11, 1.6 + 0.75 * (len(layers) + 1))) if own_figure else (ax.figure, ax)
    # x of unit v of layer l: origin[l] + v * spacing[l] (spacing = the jump between neighbouring units).
    origin, spacing = [0.0], [1]
    for layer in layers:
        origin.append(origin[-1] + (layer.dilation * (layer.kernel_size - 1) / 2 - layer.padding) * spacing[-1])
        spacing.append(spacing[-1] * layer.stride)
    x = lambda depth, v: origin[depth] + v * spacing[depth]  # noqa: E731
    marker = max(8.0, min(60.0, 2400.0 / max(n, 1)))
    # The lines along which the traced units read the layer below.
    segments = []
    for depth, layer in enumerate(layers, start=1):
        for v in trace.reads[depth]:
            if 0 <= v < trace.sizes[depth]:
                segments += [((x(depth, v), depth), (x(depth - 1, v * layer.stride + j * layer.dilation - layer.padding), depth - 1))
                             for j in range(layer.kernel_size)]
    ax.add_collection(LineCollection(segments, colors=COLOURS["highlight"], linewidths=0.8, alpha=0.35, zorder=1, gid="reads"))
    for depth, size in enumerate(trace.sizes):
        read = set(trace.reads[depth])
        units = np.arange(size)
        colours = [COLOURS["highlight"] if v in read else COLOURS["other"] for v in units]
        ax.scatter([x(depth, v) for v in units], np.full(size, depth), c=colours, s=marker, zorder=3,
                   edgecolors="0.4", linewidths=0.4, gid=f"units-{depth}")
        if depth < len(layers) and layers[depth].padding:  # padding of this layer's output, read by the next
            p = layers[depth].padding
            pads = list(range(-p, 0)) + list(range(size, size + p))
            ax.scatter([x(depth, v) for v in pads], np.full(len(pads), depth), marker="s", s=marker,
                       facecolors="none", edgecolors=[COLOURS["highlight"] if v in read else "0.6" for v in pads],
                       linewidths=1.2, zorder=3, gid=f"padding-{depth}")
    # The receptive field: a bracket under the input.
    first, last = trace.span
    r = arith.receptive_field(_triples(layers))
    ax.annotate("", xy=(x(0, first) - 0.4, -0.45), xytext=(x(0, last) + 0.4, -0.45),
                arrowprops=dict(arrowstyle="|-|", color=COLOURS["highlight"], lw=1.5, mutation_scale=4))
    ax.text((x(0, first) + x(0, last)) / 2, -0.7, _field_note(layers, n, trace, r), ha="center", va="top", fontsize=9, color="0.15")
    labels = [f"input ({n} pixels)"] + [
        f"layer {d}: {layer} → {trace.sizes[d]} units" for d, layer in enumerate(layers, start=1)]
    ax.set_yticks(range(len(trace.sizes)), labels, fontsize=9)
    for depth in range(1, len(trace.sizes)):
        triples = _triples(layers[:depth])
        ax.text(1.005, depth, f"r = {arith.receptive_field(triples)}, jump {arith.effective_stride(triples)}",
                transform=ax.get_yaxis_transform(), va="center", fontsize=8, color="0.35")
    if layers:
        ax.text(1.005, len(layers) + 0.4, "field, jump of its units", transform=ax.get_yaxis_transform(), va="center",
                fontsize=8, color="0.35", style="italic")
    lows = [x(d, -(layers[d].padding if d < len(layers) else 0)) for d in range(len(trace.sizes))] + [x(0, first)]
    highs = [x(d, trace.sizes[d] - 1 + (layers[d].padding if d < len(layers) else 0)) for d in range(len(trace.sizes))] + [x(0, last)]
    ax.set_xlim(min(lows) - 1, max(highs) + 1)
    ax.set_ylim(-1.2, len(layers) + 0.5)
    ax.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(left=False)
    ax.set_title(f"unit {trace.unit} of the last layer (orange) and everything it depends on, along one axis", fontsize=10)
    if own_figure:
        figure.tight_layout()
    return figure


def _field_note(layers: list[Layer], n: int, trace: Trace, r: int) -> str:
    """The bracket's label: the field's size and place, and which of its pixels the unit really reads."""
    first, last = trace.span
    note = f"receptive field: {r} pixels, positions {first} .. {last}"
    outside = sum(1 for v in range(first, last + 1) if not 0 <= v < n)
    if outside:
        note += f" ({outside} beyond the border)"
    read = {v for v in trace.reads[0] if 0 <= v < n}
    unread = sum(1 for v in range(max(first, 0), min(last, n - 1) + 1) if v not in read)
    if unread:
        why = " (holes of the dilation)" if any(layer.dilation > 1 for layer in layers) else ""
        note += f"; {unread} pixels inside it are never read{why}"
    return note


# -- the explorer --------------------------------------------------------------------------------

def render_receptive_field(layers: str, n: int, unit: int) -> View:
    """The :class:`View` of the explorer's controls."""
    stack = parse_layers(layers)
    trace = trace_receptive_field(stack, n, unit)
    sizes = " → ".join(str(size) for size in trace.sizes)
    text = (f"{receptive_field_formula(stack)}\nsizes {sizes}; unit {trace.unit} of the last layer reads input "
            f"positions {trace.span[0]} .. {trace.span[1]}")
    return View(draw_receptive_field(stack, n, trace.unit), text)


def _sync(controls) -> None:
    """Keep the unit slider inside the last layer; disable it while the stack is impossible."""
    unit = controls["unit"]
    try:
        last = layer_sizes(parse_layers(controls["layers"].value), controls["n"].value)[-1]
    except (ValueError, TypeError):
        unit.disabled = True
        return
    unit.disabled = False
    unit.max = last - 1


def receptive_field_explorer(layers: str = "3/1, 3/1, 2/2, 3/1", n: int = 24, unit: int | None = None) -> Explorer:
    """A text box for the stack, sliders for the input size and the traced unit, redrawing
    :func:`draw_receptive_field`. Display the result to see it."""
    import ipywidgets as widgets

    sizes = layer_sizes(parse_layers(layers), n)  # the starting stack must be possible
    unit = sizes[-1] // 2 if unit is None else unit
    style = {"description_width": "90px"}
    controls = {
        "layers": widgets.Text(value=layers, description="layers", placeholder="3/1, 3/1, 2/2, 3/1",
                               continuous_update=False, style=style, layout=widgets.Layout(width="460px")),
        "n": widgets.IntSlider(value=n, min=1, max=64, description="input size", continuous_update=False, style=style),
        "unit": widgets.IntSlider(value=unit, min=0, max=max(sizes[-1] - 1, unit), description="unit",
                                  continuous_update=False, style=style),
    }
    help_text = widgets.HTML(f"<small>one layer per comma: {FORM}; press Enter to apply</small>")
    arrangement = widgets.VBox([controls["layers"], help_text, widgets.HBox([controls["n"], controls["unit"]])])
    return Explorer(controls, render_receptive_field, sync=_sync, layout=arrangement)
