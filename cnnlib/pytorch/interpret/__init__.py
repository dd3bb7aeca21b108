"""Looking inside a trained CNN (notebook 14): what its layers compute, which pixels its decisions
depend on, whether those maps can be trusted, and how little it takes to fool it.

- ``maps``: :func:`saliency_map`, :func:`occlusion_map` (and :func:`occlusion_to_pixels`),
  :func:`grad_cam`, the reference implementations the notebook's checks compare with;
- ``adversarial``: :func:`fgsm`, :func:`random_sign_noise`, :func:`accuracy_under_attack`;
- ``activations``: :func:`record_activations` (forward hooks on named layers), :func:`activations`,
  :func:`penultimate_features`;
- ``sanity``: :func:`randomize_layers`, :func:`cascading_randomization` (Adebayo et al. 2018),
  :func:`spearman`;
- ``grids``: :func:`filter_grid`, :func:`tile`, for showing filters and feature maps;
- ``neighbours``: :func:`nearest_neighbours`; ``localisation``: :func:`fraction_on_object`;
- ``network``: :func:`small_cnn`, the network the notebook studies, and :func:`train_or_load`.

Conventions: images are float tensors with pixel values in [0, 1] (the course's networks for this
notebook standardise their input themselves); one image is ``(C, H, W)``, a batch ``(N, C, H, W)``;
a class score is the model's raw output (logit); maps come back as NumPy arrays.
"""

from .activations import activations, penultimate_features, record_activations
from .adversarial import accuracy_under_attack, fgsm, random_sign_noise
from .grids import filter_grid, tile
from .localisation import fraction_on_object
from .maps import grad_cam, occlusion_map, occlusion_to_pixels, saliency_map
from .neighbours import nearest_neighbours
from .network import Standardize, small_cnn, train_or_load
from .sanity import cascading_randomization, rank, randomize_layers, spearman

__all__ = [
    "Standardize", "accuracy_under_attack", "activations", "cascading_randomization", "fgsm", "filter_grid",
    "fraction_on_object", "grad_cam", "nearest_neighbours", "occlusion_map", "occlusion_to_pixels", "penultimate_features", "random_sign_noise", "randomize_layers", "rank",
    "record_activations", "saliency_map", "small_cnn", "spearman", "tile", "train_or_load",
]
