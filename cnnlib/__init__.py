"""cnnlib: the library behind the CNN course.

- ``cnnlib.reference``: NumPy forward/backward pairs for every layer (the reference).
- ``cnnlib.arithmetic``: output sizes, parameter counts, MACs, receptive fields.
- ``cnnlib.data``: MNIST, Fashion-MNIST, CIFAR-10, scikit-learn digits, MNIST-1D, offline-safe.
- ``cnnlib.pytorch``: the PyTorch twin (functional mirror, models, training loop).
- ``cnnlib.checks``: the diagnostic checks that the notebooks and the autograder share.
"""

__version__ = "0.1.0"
