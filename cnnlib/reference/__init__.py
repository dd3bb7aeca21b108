"""The NumPy reference implementation of every layer in the course.

Pure functions in forward/backward pairs, CS231n style with PyTorch's argument names:
``*_forward(...) -> (out, cache)`` and ``*_backward(dout, cache) -> gradients``, where each cache is a
``NamedTuple`` that says what it holds. Inputs are never modified; float32 input stays float32 and
everything else computes in float64. Every function is tested against its ``torch.nn.functional`` twin.

- ``conv``: 1D/2D cross-correlation and true convolution of single signals and images
- ``conv2d``: the convolution layer (naive loops and the fast im2col version), ``im2col``/``col2im``
- ``depthwise``: depthwise and depthwise-separable convolution, on the grouped conv2d
- ``pooling``: max, average and global average pooling
- ``activations``, ``linear``, ``losses``, ``dropout``
- ``normalization``: batch, layer, group and instance norm
- ``init``: He (Kaiming) and Xavier (Glorot) initialisation
- ``optim``: SGD and Adam on dictionaries of arrays
- ``sequential`` and ``models``: layer objects, ``Sequential``, ``lenet5``
- ``gradcheck``: numerical gradients and relative errors
"""

from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations
from .conv import *  # noqa: F401,F403
from .conv import __all__ as _conv
from .conv2d import *  # noqa: F401,F403
from .conv2d import __all__ as _conv2d
from .depthwise import *  # noqa: F401,F403
from .depthwise import __all__ as _depthwise
from .dropout import *  # noqa: F401,F403
from .dropout import __all__ as _dropout
from .gradcheck import *  # noqa: F401,F403
from .gradcheck import __all__ as _gradcheck
from .init import *  # noqa: F401,F403
from .init import __all__ as _init
from .linear import *  # noqa: F401,F403
from .linear import __all__ as _linear
from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses
from .models import *  # noqa: F401,F403
from .models import __all__ as _models
from .normalization import *  # noqa: F401,F403
from .normalization import __all__ as _normalization
from .optim import *  # noqa: F401,F403
from .optim import __all__ as _optim
from .pooling import *  # noqa: F401,F403
from .pooling import __all__ as _pooling
from .sequential import *  # noqa: F401,F403
from .sequential import __all__ as _sequential

__all__ = [
    *_conv, *_conv2d, *_depthwise, *_pooling, *_activations, *_linear, *_losses,
    *_normalization, *_dropout, *_init, *_optim, *_sequential, *_models, *_gradcheck,
]
