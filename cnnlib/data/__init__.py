"""Real data sets as NumPy arrays, offline-safe: ``images, labels = load_mnist("train")``.

Every loader returns ``(images, labels)``: images ``uint8 (N, C, H, W)`` (MNIST-1D: float32
``(N, 1, 40)``), labels ``int64 (N,)``. Files are looked for in ``root=``, else in
``$CNNLIB_DATA/<dataset>/``, then in the cache (``$CNNLIB_CACHE``, default ``~/.cache/cnnlib``);
what is missing is downloaded from the official mirrors into the cache, resumably and verified
(see :mod:`cnnlib.data.cache`; ``CNNLIB_OFFLINE=1`` switches downloads off).

- :func:`load_mnist`, :func:`load_fashion_mnist`: official IDX ``.gz`` files, ``(N, 1, 28, 28)``
- :func:`load_cifar10`: the official tarball or an image folder (directory or zip), ``(N, 3, 32, 32)``
- :func:`load_digits`: scikit-learn's 8x8 digits, ``(N, 1, 8, 8)``, values 0-16
- :func:`load_mnist1d`: MNIST-1D, generated, ``(N, 1, 40)`` float32
- :func:`load_shapes`: ten generated object classes on photographic clutter, ``(N, 3, 32, 32)``
- :func:`load_or_fallback`: a real data set, or its stand-in (digits, shapes) with one printed line

``python -m cnnlib.data fetch ...`` and ``python -m cnnlib.data status`` (:mod:`cnnlib.data.fetch`)
download the data sets once and report what a machine has.
"""

from cnnlib.data.cache import cache_dir
from cnnlib.data.cifar import CIFAR10_CLASSES, load_cifar10
from cnnlib.data.digits import load_digits
from cnnlib.data.errors import CorruptFileError, DatasetNotFoundError
from cnnlib.data.fallback import ImageData, load_or_fallback
from cnnlib.data.mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from cnnlib.data.mnist1d import load_mnist1d
from cnnlib.data.shapes import SHAPES_CLASSES, load_shapes

__all__ = [
    "load_mnist", "load_fashion_mnist", "FASHION_MNIST_CLASSES", "load_cifar10", "CIFAR10_CLASSES",
    "load_digits", "load_mnist1d", "load_shapes", "SHAPES_CLASSES", "load_or_fallback", "ImageData", "DatasetNotFoundError", "CorruptFileError", "cache_dir",
]
