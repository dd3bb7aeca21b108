"""Output sizes of convolution, pooling and transposed convolution, with PyTorch's rules.

Each function takes the input size ``n`` and the layer's settings as ints, or as pairs
``(height, width)``; with any pair it returns a pair. A configuration that PyTorch rejects raises
``ValueError`` here, with the reason.

    >>> conv_output_size(32, kernel_size=5, padding=2)
    32
    >>> conv_output_size((32, 28), kernel_size=3, stride=2)
    (15, 13)
"""

from __future__ import annotations

from functools import partial

from cnnlib.arithmetic._axes import per_axis

__all__ = ["conv_output_size", "same_padding", "pool_output_size", "transposed_conv_output_size"]


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    """Spatial output size of a convolution (cross-correlation), as ``torch.nn.Conv2d``.

    Parameters
    ----------
    n : int or (int, int)
        Input size, ``>= 1``.
    kernel_size, stride, dilation : int or (int, int)
        Each ``>= 1``.
    padding : int or (int, int)
        Zeros added on each side, ``>= 0``.

    Returns
    -------
    int or (int, int)
        ``o``; a pair when any argument is a pair.

    Raises
    ------
    ValueError
        When the effective kernel ``d(k-1) + 1`` is larger than the padded input ``n + 2p``.
    TypeError
        For a non-integer argument.

    Notes
    -----
    .. math:: o = \\left\\lfloor \\frac{n + 2p - d(k-1) - 1}{s} \\right\\rfloor + 1

    The floor drops the last input positions when the stride does not divide
    ``n + 2p - d(k-1) - 1``: those pixels are never the start of a window.
    """
    return per_axis(
        _conv_axis, n=(n, 1), kernel_size=(kernel_size, 1), stride=(stride, 1),
        padding=(padding, 0), dilation=(dilation, 1),
    )


def _conv_axis(n, kernel_size, stride, padding, dilation):
    effective = dilation * (kernel_size - 1) + 1
    padded = n + 2 * padding
    if effective > padded:
        raise ValueError(
            f"kernel_size={kernel_size} (effective size d(k-1)+1 = {effective} with dilation={dilation}) "
            f"does not fit the padded input n + 2*padding = {n} + 2*{padding} = {padded}"
        )
    return (padded - effective) // stride + 1


def same_padding(kernel_size, dilation=1):
    """Padding that keeps the size unchanged at stride 1 ("same" or "half" padding).

    Parameters
    ----------
    kernel_size, dilation : int or (int, int)
        Each ``>= 1``.

    Returns
    -------
    int or (int, int)
        ``p = d(k-1)/2``; a pair when any argument is a pair.

    Raises
    ------
    ValueError
        When the effective kernel ``d(k-1) + 1`` is even: no symmetric padding keeps the size.

    Notes
    -----
    With ``p = d(k-1)/2``, :func:`conv_output_size` gives ``n + 2p - d(k-1) = n``. For odd ``k``
    and ``d = 1`` this is the familiar ``p = (k-1)/2``.
    """
    return per_axis(_same_axis, kernel_size=(kernel_size, 1), dilation=(dilation, 1))


def _same_axis(kernel_size, dilation):
    effective = dilation * (kernel_size - 1) + 1
    if effective % 2 == 0:
        raise ValueError(
            f"same padding needs an odd effective kernel d(k-1)+1, got {effective} "
            f"(kernel_size={kernel_size}, dilation={dilation}): one side would need more padding than the other"
        )
    return (effective - 1) // 2


def pool_output_size(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Spatial output size of max or average pooling, as ``torch.nn.MaxPool2d``/``AvgPool2d``.

    Parameters
    ----------
    n : int or (int, int)
        Input size, ``>= 1``.
    kernel_size : int or (int, int)
        Window size, ``>= 1``.
    stride : int or (int, int), optional
        ``>= 1``; defaults to ``kernel_size`` (non-overlapping windows).
    padding : int or (int, int)
        Implicit padding on each side; PyTorch requires ``padding <= kernel_size / 2``.
    ceil_mode : bool
        Round up instead of down, so that a partial window at the end still gives an output.

    Returns
    -------
    int or (int, int)
        ``o``; a pair when any argument is a pair.

    Raises
    ------
    ValueError
        When ``padding > kernel_size / 2`` or the output would be empty.

    Notes
    -----
    .. math:: o = \\left\\lfloor \\frac{n + 2p - k}{s} \\right\\rfloor + 1
       \\quad\\text{or, with ceil\\_mode,}\\quad
       \\left\\lceil \\frac{n + 2p - k}{s} \\right\\rceil + 1

    With ``ceil_mode`` PyTorch drops the last window when it would start at or after ``n + p``,
    that is, entirely inside the right padding: every window must start inside the input or the
    left padding.
    """
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"ceil_mode must be a bool, got {type(ceil_mode).__name__} {ceil_mode!r}")
    if stride is None:
        stride = kernel_size
    rule = partial(_pool_axis, ceil_mode=ceil_mode)
    return per_axis(rule, n=(n, 1), kernel_size=(kernel_size, 1), stride=(stride, 1), padding=(padding, 0))


def _pool_axis(n, kernel_size, stride, padding, ceil_mode):
    if 2 * padding > kernel_size:
        raise ValueError(
            f"padding must be at most kernel_size / 2 (PyTorch's rule for pooling), "
            f"got padding={padding} with kernel_size={kernel_size}"
        )
    span = n + 2 * padding - kernel_size
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= n + padding:
        out -= 1  # the last window would start inside the right padding
    if out < 1:
        raise ValueError(
            f"kernel_size={kernel_size} does not fit the padded input n + 2*padding = "
            f"{n} + 2*{padding} = {n + 2 * padding}"
        )
    return out


def transposed_conv_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Spatial output size of a transposed convolution, as ``torch.nn.ConvTranspose2d``.

    Parameters
    ----------
    n : int or (int, int)
        Input size, ``>= 1``.
    kernel_size, stride, dilation : int or (int, int)
        Each ``>= 1``.
    padding : int or (int, int)
        ``>= 0``; removes ``padding`` from each side of the output.
    output_padding : int or (int, int)
        ``>= 0``; extra size on one side, which picks one of the ``s`` input sizes that a strided
        convolution maps to ``n``. PyTorch requires it smaller than ``stride`` or ``dilation``.

    Returns
    -------
    int or (int, int)
        ``o``; a pair when any argument is a pair.

    Raises
    ------
    ValueError
        When ``output_padding`` is neither smaller than ``stride`` nor smaller than ``dilation``,
        or when the output would be empty.

    Notes
    -----
    .. math:: o = (n - 1)s - 2p + d(k - 1) + \\text{output\\_padding} + 1

    This inverts :func:`conv_output_size`: a convolution with the same settings maps an input of
    size ``o`` back to ``n``.
    """
    return per_axis(
        _transposed_axis, n=(n, 1), kernel_size=(kernel_size, 1), stride=(stride, 1),
        padding=(padding, 0), output_padding=(output_padding, 0), dilation=(dilation, 1),
    )


def _transposed_axis(n, kernel_size, stride, padding, output_padding, dilation):
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError(
            f"output_padding must be smaller than stride or dilation (PyTorch's rule), "
            f"got output_padding={output_padding} with stride={stride} and dilation={dilation}"
        )
    out = (n - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if out < 1:
        raise ValueError(
            f"padding={padding} removes more than the whole output: "
            f"(n-1)s - 2p + d(k-1) + output_padding + 1 = {out}"
        )
    return out
