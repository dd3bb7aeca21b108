"""Convolution arithmetic: output sizes, parameter counts, MACs, memory and receptive fields.

Every function takes ints, or pairs ``(height, width)`` where PyTorch does, and answers with the
number that PyTorch's layers produce. A configuration PyTorch rejects raises ``ValueError``; a
non-integer raises ``TypeError``; both messages name the argument.

- :mod:`~cnnlib.arithmetic.sizes`: :func:`conv_output_size`, :func:`same_padding`,
  :func:`pool_output_size`, :func:`transposed_conv_output_size`
- :mod:`~cnnlib.arithmetic.counts`: :func:`conv_param_count`, :func:`fc_param_count`,
  :func:`locally_connected_param_count`, :func:`conv_macs`, :func:`activation_memory`
- :mod:`~cnnlib.arithmetic.efficient`: :func:`depthwise_separable_params`,
  :func:`depthwise_separable_macs`, :func:`inverted_residual_params`, :func:`inverted_residual_macs`,
  :func:`convnext_block_params`, :func:`convnext_block_macs`
- :mod:`~cnnlib.arithmetic.receptive`: :func:`receptive_field`, :func:`effective_stride`
- :mod:`~cnnlib.arithmetic.table`: :func:`layer_table`, all of the above for every layer of a
  PyTorch model (imports torch when called)
"""

from cnnlib.arithmetic.counts import (
    activation_memory,
    conv_macs,
    conv_param_count,
    fc_param_count,
    locally_connected_param_count,
)
from cnnlib.arithmetic.efficient import (
    convnext_block_macs,
    convnext_block_params,
    depthwise_separable_macs,
    depthwise_separable_params,
    inverted_residual_macs,
    inverted_residual_params,
)
from cnnlib.arithmetic.receptive import effective_stride, receptive_field
from cnnlib.arithmetic.sizes import conv_output_size, pool_output_size, same_padding, transposed_conv_output_size
from cnnlib.arithmetic.table import LayerRow, layer_table

__all__ = [
    "conv_output_size", "same_padding", "pool_output_size", "transposed_conv_output_size",
    "conv_param_count", "fc_param_count", "locally_connected_param_count", "conv_macs", "activation_memory",
    "depthwise_separable_params", "depthwise_separable_macs", "inverted_residual_params", "inverted_residual_macs",
    "convnext_block_params", "convnext_block_macs",
    "receptive_field", "effective_stride", "layer_table", "LayerRow",
]
