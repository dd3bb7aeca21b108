"""The sanity check of Adebayo et al. (2018): does a map change when the network's weights do?

"Sanity Checks for Saliency Maps" asks of an explanation method that it depends on what the model
has learned. The *cascading randomisation* test re-initialises the weights layer by layer, from the
output down, and compares each map with the trained network's map by rank correlation: a method
whose maps stay the same while the network is destroyed is showing the image, not the model.

- :func:`randomize_layers`: a copy of the model with some layers re-initialised (seeded);
- :func:`cascading_randomization`: the copies with the top layer, then the top two, ... re-initialised;
- :func:`spearman`: Spearman's rank correlation of two maps.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from cnnlib._validate import as_int

from ._arguments import check_layer, check_model

__all__ = ["cascading_randomization", "rank", "randomize_layers", "spearman"]


def _names(stage) -> list[str]:
    return [stage] if isinstance(stage, str) else list(stage)


def randomize_layers(model: nn.Module, layers, *, seed: int = 0) -> nn.Module:
    """A deep copy of ``model`` in which the named layers are freshly initialised.

    Parameters
    ----------
    model : nn.Module
        Left unchanged.
    layers : str or sequence of str
        Names from ``model.named_modules()``. Every module in each named layer (the layer itself
        and its children) that has ``reset_parameters`` gets it called: convolutions and linear
        layers draw new weights with PyTorch's default initialisation, batch norm goes back to
        scale 1, shift 0 and running statistics 0 and 1.
    seed : int
        Seed of the new weights.

    Returns
    -------
    nn.Module
        The copy, in the same training or evaluation mode as ``model``.
    """
    check_model(model)
    names = _names(layers)
    for name in names:
        check_layer(model, name)
    clone = copy.deepcopy(model)
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(as_int(seed, "seed", minimum=0))
    try:
        for name in names:
            for module in clone.get_submodule(name).modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
                if hasattr(module, "reset_running_stats"):
                    module.reset_running_stats()
    finally:
        torch.random.set_rng_state(generator_state)  # the caller's random stream is left as it was
    return clone


def cascading_randomization(model: nn.Module, stages, *, seed: int = 0) -> list[tuple[str, nn.Module]]:
    """Copies of ``model`` with more and more layers re-initialised, from the top down.

    Parameters
    ----------
    model : nn.Module
        Left unchanged.
    stages : sequence of (str or sequence of str)
        The layers to randomise, **output side first**, e.g. ``["fc", ["conv4", "bn4"], ["conv3",
        "bn3"], ...]``; a stage may name several modules (a convolution and its batch norm).
    seed : int
        Stage ``k`` draws its new weights with seed ``seed + k``, so that a layer keeps the same random
        weights in every later copy.

    Returns
    -------
    list of (str, nn.Module)
        One entry per stage: the stage's label (its names joined by "+") and the copy in which it and
        every stage before it are random.
    """
    check_model(model)
    seed = as_int(seed, "seed", minimum=0)
    copies = []
    current = model
    for k, stage in enumerate(stages):
        current = randomize_layers(current, stage, seed=seed + k)
        copies.append(("+".join(_names(stage)), current))
    return copies


def rank(values) -> np.ndarray:
    """The ranks of ``values`` (flattened), 1 for the smallest; tied values share their mean rank."""
    values = np.asarray(values, dtype=np.float64).ravel()
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    # Runs of equal values: each gets the mean of the positions it spans (1-based).
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + 1 + end) / 2
    return ranks


def spearman(a, b) -> float:
    """Spearman's rank correlation of two maps of the same shape: the Pearson correlation of their ranks.

    1 when one map orders the pixels exactly as the other, about 0 when the orders are unrelated,
    -1 when reversed. NaN when either map is constant (no order to compare).
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size < 2:
        raise ValueError(f"a and b must have at least 2 values, got {a.size}")
    ra, rb = rank(a), rank(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator > 0 else float("nan")
