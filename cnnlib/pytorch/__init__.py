"""The PyTorch path of the course: the same layers as ``cnnlib.reference``, the architectures, and a GPU-ready training loop.

- ``functional``: the twin of every ``cnnlib.reference`` operation (same names, arguments, shapes;
  backward by autograd).
- ``models``: the blocks and architectures from LeNet-5 to ResNet-152, and ``get_model(name)``.
- ``convert``: NumPy weights to PyTorch modules and back (``load_numpy_weights``, ``torch_to_numpy``).
- ``data``: augmentation with torch ops and loaders over the ``cnnlib.data`` arrays (``GPULoader``
  keeps a small data set on the GPU).
- ``train``: ``fit`` and ``evaluate``; ``history``: the ``History`` they return, with ``.plot()``.
- ``transfer``: ``replace_head`` and ``freeze_backbone`` for fine-tuning.
- ``interpret``: looking inside a trained CNN (notebook 14): saliency, occlusion, Grad-CAM, the
  weight-randomisation sanity check, features and neighbours, FGSM.
- ``efficiency``: parameters, multiply-adds, measured latency and throughput, and the plot of
  accuracy against them (notebook 15, ``benchmarks/efficient_convs.py``).
- ``device``, ``seeding``, ``checkpoint``, ``metrics``: device choice, reproducible runs,
  saving and loading, top-k accuracy.

A run in four lines::

    from cnnlib.pytorch import cifar10_loaders, fit, get_model
    train_loader, test_loader = cifar10_loaders(batch_size=512)
    history = fit(get_model("resnet20"), train_loader, test_loader, epochs=30, lr=0.2, weight_decay=5e-4)
    history.plot()
"""

from .checkpoint import load_checkpoint, save_checkpoint
from .convert import load_numpy_weights, torch_to_numpy
from .data import GPULoader, cifar10_loaders, make_loader, mnist_loaders, random_crop_flip
from .device import default_device
from .history import History
from .metrics import topk_error
from .models import get_model, model_names
from .seeding import seed_everything
from .train import evaluate, fit
from .transfer import freeze_backbone, replace_head

__all__ = [
    "GPULoader", "History", "cifar10_loaders", "default_device", "evaluate", "fit", "freeze_backbone", "get_model",
    "load_checkpoint", "load_numpy_weights", "make_loader", "mnist_loaders", "model_names",
    "random_crop_flip", "replace_head", "save_checkpoint", "seed_everything", "topk_error", "torch_to_numpy",
]
