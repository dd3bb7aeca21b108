"""Interactive explorers for the course notebooks, and the pure drawing functions behind them.

Each explorer is a function that returns an :class:`~cnnlib.viz.explorer.Explorer`: ipywidgets
controls and a figure with a line of text that follow them. Displayed in a notebook it shows the
figure of its default setting as an ordinary output (so a notebook rendered without a widget front
end still shows it), and in JupyterLab moving a control redraws it in place. Every figure is drawn
by a pure function of the setting, which the tests call directly.

- :mod:`~cnnlib.viz.conv_arithmetic` (notebook 03): :func:`conv_arithmetic_explorer`, where a
  convolution's windows sit and the output size they give, transposed convolutions included;
- :mod:`~cnnlib.viz.receptive_field` (notebook 05): :func:`receptive_field_explorer`, the input
  pixels that one unit of a stack of layers reads;
- :mod:`~cnnlib.viz.conv_backward` (notebook 07): :func:`conv_backward_explorer`, the backward pass
  of a small convolution, one output gradient at a time.

Sizes and receptive fields come from :mod:`cnnlib.arithmetic`, gradients are checked against
:mod:`cnnlib.reference`: the explorers compute nothing that the library already has.
"""

from cnnlib.viz.conv_arithmetic import (
    ConvSetting,
    conv_arithmetic_explorer,
    conv_arithmetic_formula,
    draw_conv_arithmetic,
    unread_positions,
    window_positions,
)
from cnnlib.viz.conv_backward import BackwardSetting, backward_steps, conv_backward_explorer, draw_conv_backward_step
from cnnlib.viz.explorer import Explorer, View
from cnnlib.viz.receptive_field import (
    Layer,
    draw_receptive_field,
    parse_layers,
    receptive_field_explorer,
    trace_receptive_field,
)

__all__ = [
    "Explorer", "View",
    "ConvSetting", "window_positions", "unread_positions", "draw_conv_arithmetic", "conv_arithmetic_formula",
    "conv_arithmetic_explorer",
    "Layer", "parse_layers", "trace_receptive_field", "draw_receptive_field", "receptive_field_explorer",
    "BackwardSetting", "backward_steps", "draw_conv_backward_step", "conv_backward_explorer",
]
