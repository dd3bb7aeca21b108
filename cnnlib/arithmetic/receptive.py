"""Receptive field and effective stride of a stack of convolution or pooling layers.

    >>> receptive_field([(3, 1), (3, 1), (3, 1)])    # three stacked 3x3 layers see 7x7
    7
    >>> receptive_field([(11, 4), (3, 2), (5, 1)])   # AlexNet's conv1, pool1, conv2
    51
"""

from __future__ import annotations

from cnnlib.arithmetic._axes import per_axis

__all__ = ["receptive_field", "effective_stride"]


def _unpack(layers):
    """``layers`` as a list of ``(kernel_size, stride, dilation)``, each an int or a pair."""
    if not isinstance(layers, (list, tuple)):
        raise TypeError(f"layers must be a list of (kernel_size, stride) tuples, got {type(layers).__name__} {layers!r}")
    unpacked = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
            raise ValueError(
                f"layers[{index}] must be (kernel_size, stride) or (kernel_size, stride, dilation), got {layer!r}"
            )
        unpacked.append((*layer, 1) if len(layer) == 2 else tuple(layer))
    return unpacked


def _walk(layers):
    """Arguments for :func:`per_axis`: every layer's settings under its own name (so that an error
    says ``layers[1] stride``), as ``kernel_size, stride, dilation`` triples in layer order."""
    arguments = {}
    for index, (kernel_size, stride, dilation) in enumerate(_unpack(layers)):
        arguments[f"layers[{index}] kernel_size"] = (kernel_size, 1)
        arguments[f"layers[{index}] stride"] = (stride, 1)
        arguments[f"layers[{index}] dilation"] = (dilation, 1)
    return arguments


def _receptive_field_axis(**settings):
    field, jump = 1, 1  # jump: input pixels between neighbouring units of the current layer
    values = list(settings.values())  # keyword order is the order _walk inserted them
    for kernel_size, stride, dilation in zip(values[0::3], values[1::3], values[2::3]):
        field += dilation * (kernel_size - 1) * jump
        jump *= stride
    return field


def _effective_stride_axis(**settings):
    jump = 1
    for stride in list(settings.values())[1::3]:
        jump *= stride
    return jump


def receptive_field(layers):
    """Receptive field of one unit of the last layer, in input pixels.

    Parameters
    ----------
    layers : list of tuple
        ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)`` per layer, first layer
        first; each value an int or a pair. Pooling layers count like convolutions. Padding does
        not change the size of the field (only where it lies).

    Returns
    -------
    int or (int, int)
        The side of the input window that one unit sees; a pair when any value is a pair. An
        empty stack sees one pixel.

    Notes
    -----
    With ``J_l = s_1 s_2 ... s_{l-1}`` the distance in input pixels between neighbouring units of
    layer ``l - 1`` (the jump, :func:`effective_stride`):

    .. math:: r = 1 + \\sum_l d_l (k_l - 1) J_l

    so ``L`` stacked ``k x k`` stride-1 layers see ``1 + L(k - 1)`` pixels.
    """
    return per_axis(_receptive_field_axis, **_walk(layers))


def effective_stride(layers):
    """Distance in input pixels between two neighbouring units of the last layer (the "jump").

    Parameters
    ----------
    layers : list of tuple
        As for :func:`receptive_field`.

    Returns
    -------
    int or (int, int)
        The product of the strides.
    """
    return per_axis(_effective_stride_axis, **_walk(layers))
