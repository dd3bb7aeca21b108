"""Checks for notebook 13, transfer learning.

``replace_head`` and ``freeze_backbone`` receive a model built where the student's code runs (a
seeded :mod:`cnnlib.pytorch.models` network, through :class:`~cnnlib.checks.core.Construct` and
:func:`seeded_model`); the checks then ask the returned model for its layers, its trainable
parameters and its outputs. That the layers below the head are kept is tested by fitting: the
student's logits must be an affine function of the head's input in the original network (a least-
squares fit leaves no residual), which fails when the backbone was re-initialised.

``fine_tune`` receives a LeNet-5 trained by the check on six classes of the generated shapes data
set (:func:`cnnlib.data.load_shapes`: disk, ring, square, diamond, frame, triangle) and 30 images
of each of the other four (plus, star, crescent, bar); its network must classify 2,000 held-out
images of those four classes at least 4 accuracy points better than a LeNet-5 trained from scratch
on the same 120 images (the best of six runs: three learning-rate and step settings, two random
initialisations each). The shapes are generated on the grading machine, the same on every machine
and with no download, so a grade never depends on the network or on the data sets a grader
happens to have.

Measured when the check was written, over ten seeded draws of 20 to 40 images per class: the
notebook's recipe (head first, then every layer) beat that baseline by 10 to 17 points, fine-tuning
every layer at once by 8 to 15, training the head alone by 3 to 11; a LeNet-5 trained from scratch
(five initialisations per draw) never by more than 1.5, and a new head left untrained is at chance.

The checks recognise: ``None`` returned, a layer added on top of the old head instead of replacing
it, the wrong ``nn.Linear`` replaced, a head without bias, the number of classes ignored, the
backbone re-initialised; the head frozen too, nothing frozen (``model.eval()`` taken for
freezing), biases or batch-norm parameters left trainable, the head replaced by
``freeze_backbone``; and a fine-tuned network no better than training from scratch.
"""

from __future__ import annotations

import functools

import numpy as np

from .core import Construct, as_array, call, check, describe, fail, probe
from .forbid import Forbid

#: Module prefixes the student's code may not import while it is graded (the library's models are
#: allowed: fine-tuning builds on them).
FORBIDDEN_IMPORTS = (
    "cnnlib.pytorch.transfer",
    "cnnlib.pytorch.replace_head",  # blocks `from cnnlib.pytorch import replace_head`
    "cnnlib.pytorch.freeze_backbone",
    "torchvision",
    "timm",
)
IMPORT_REASON = (
    "cnnlib.pytorch.transfer already contains replace_head and freeze_backbone, and torchvision and "
    "timm have their own, so they are switched off while your answers are graded"
)

# Functions, not the module: building the check's model imports cnnlib.pytorch (and with it the
# transfer module) inside the watched call, which a module-wide rule would count against the student.
TRANSFER_FORBID = Forbid(
    modules=("torchvision", "timm"),
    functions=("cnnlib.pytorch.transfer.replace_head", "cnnlib.pytorch.transfer.freeze_backbone", "cnnlib.pytorch.transfer.head"),
    reason="write it with torch.nn: find the last nn.Linear, and set requires_grad on the parameters yourself",
)

#: Classes of the shapes data set (:data:`cnnlib.data.SHAPES_CLASSES`) in the pretraining task and in
#: the small new task.
PRETRAIN_CLASSES = (0, 1, 2, 3, 4, 5)  # disk, ring, square, diamond, frame, triangle
NEW_CLASSES = (6, 7, 8, 9)  # plus, star, crescent, bar
#: Size of the generated test split; its images of the new classes (2,000) are the held-out set.
TEST_IMAGES = 5000
#: How many accuracy points the fine-tuned network must gain over the best from-scratch run.
MARGIN = 0.04


# ---------------------------------------------------------------------------------------------
# Models built where the student's code runs
# ---------------------------------------------------------------------------------------------


def seeded_model(name: str, num_classes: int, in_channels: int, seed: int):
    """``get_model(name, num_classes, in_channels)`` with weights drawn after ``torch.manual_seed(seed)``."""
    import torch

    from cnnlib.pytorch.models import get_model

    torch.manual_seed(seed)
    return get_model(name, num_classes=num_classes, in_channels=in_channels)


def _prepare_optimisers() -> None:
    """Import ``torch._dynamo`` now, with its cache in a writable place.

    The first ``step()`` of a ``torch.optim`` optimiser imports ``torch._dynamo``, which creates a
    cache directory under the system's temporary directory. The grader's sandbox lets student code
    write only in its own working directory (also its ``$HOME``), so the student's fine-tuning would
    fail on its first step. Pointing the cache at ``$HOME`` first (unless it is set already) and
    importing the module here, where the check builds the model, avoids that.
    """
    import os
    import sys

    if "torch._dynamo" not in sys.modules:
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "torchinductor"))
        import torch._dynamo  # noqa: F401


def model_with_state(name: str, num_classes: int, in_channels: int, state: dict):
    """``get_model(name, num_classes, in_channels)`` with the weights ``state`` (``{name: ndarray}``)."""
    import torch

    _prepare_optimisers()

    from cnnlib.pytorch.models import get_model

    model = get_model(name, num_classes=num_classes, in_channels=in_channels)
    model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()})
    return model


def _head_name(model) -> str:
    from cnnlib.pytorch.transfer import head

    return head(model)[0]


def _head_input(model, x: np.ndarray) -> np.ndarray:
    """What the model's head receives on ``x`` (eval mode), as float64 ``(N, in_features)``."""
    import torch

    from cnnlib.pytorch.transfer import head

    captured = {}
    hook = head(model)[1].register_forward_hook(lambda module, args, out: captured.setdefault("x", args[0].detach()))
    try:
        with torch.no_grad():
            model.eval()(torch.as_tensor(x, dtype=torch.float32))
    finally:
        hook.remove()
    return captured["x"].double().numpy()


# Test cases: (model name, classes before, input channels, input size, classes after, seed)
_LENET = ("lenet5", 10, 1, 32, 4, 3)
_RESNET = ("resnet20", 10, 3, 8, 3, 5)


def _returned_model(model, fn: str):
    if model is None:
        fail(f"{fn} returned None: change the model in place if you like, but return it")
    if not probe(model, "is_module"):
        fail(f"{fn} returned {describe(model)}; it should return the model (a torch.nn.Module)")
    return model


# ---------------------------------------------------------------------------------------------
# replace_head
# ---------------------------------------------------------------------------------------------


def _check_replace_head(replace_head, case, rng):
    name, before, channels, size, after, seed = case
    reference = seeded_model(name, before, channels, seed)
    head = _head_name(reference)
    model = call(replace_head, Construct("cnnlib.checks.nb13:seeded_model", name, before, channels, seed), after, forbid=TRANSFER_FORBID)
    model = _returned_model(model, "replace_head")
    label = f"replace_head on a {type(reference).__name__} with {before} classes, num_classes={after}"
    want = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    in_features = want[f"{head}.weight"][1]
    want[f"{head}.weight"], want[f"{head}.bias"] = (after, in_features), (after,)
    got = {k: tuple(v) for k, v in probe(model, "state_shapes").items()}
    original = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    got_list, want_list, original_list = list(got.values()), list(want.values()), list(original.values())
    if got_list == original_list:
        fail(f"{label}: the model's layers did not change: the head still has {before} outputs; put a new nn.Linear({in_features}, num_classes) in the place of the last nn.Linear")
    if len(got_list) > len(original_list) and got_list[: len(original_list)] == original_list:
        fail(f"{label}: you added a layer after the old head; REPLACE the last nn.Linear (the one that outputs {before} classes) with a new nn.Linear({in_features}, num_classes)")
    if got_list != want_list:
        if len(got_list) == len(want_list) - 1 and [s for k, s in want.items() if k != f"{head}.bias"] == got_list:
            fail(f"{label}: the new head has no bias; create it as nn.Linear(in_features, num_classes) (bias=True)")
        changed = [k for k, s in zip(got, got_list) if k in original and original[k] != s]
        if changed and not any(k.startswith(head + ".") for k in changed):
            fail(f"{label}: you replaced a layer that is not the head ({', '.join(changed)}); the head is the LAST nn.Linear of the model (here '{head}')")
        fail(
            f"{label}: the layers are not the original ones with a new head",
            "Your state dict: " + ", ".join(f"{k} {v}" for k, v in got.items()) + ".\nExpected: " + ", ".join(f"{k} {v}" for k, v in want.items()) + ".",
        )
    shape = probe(model, "output_shape", (2, channels, size, size))
    if tuple(shape) != (2, after):
        fail(f"{label}: the output has shape {tuple(shape)} on 2 images; it should be (2, {after}), one score per new class")
    # The backbone must be the original one: the new logits are an affine function of the old head's input.
    x = rng.standard_normal((2 * in_features, channels, size, size)).astype(np.float32)
    logits = as_array(probe(model, "forward", x), "the model's output", ndim=2)
    features = _head_input(reference, x)
    design = np.hstack([features, np.ones((len(x), 1))])
    coefficients, *_ = np.linalg.lstsq(design, logits, rcond=None)
    residual = np.abs(design @ coefficients - logits).max() / max(1e-12, np.abs(logits).max())
    if residual > 1e-3:
        fail(f"{label}: the layers before the head have changed (their weights are not the trained ones any more); keep the model as it is and swap only its last nn.Linear, do not build a new model")


@check(points=2)
def replace_head_lenet(replace_head):
    """replace_head: a LeNet-5 with 10 classes gets a 4-class head, the rest unchanged"""
    _check_replace_head(replace_head, _LENET, np.random.default_rng(0))


@check(points=2, hidden=True)
def replace_head_random(replace_head, seed: int = 0):
    """replace_head: a CIFAR ResNet-20 (head 'fc') and a LeNet-5 with seeded numbers of classes"""
    rng = np.random.default_rng(seed)
    name, before, channels, size, _, _ = _RESNET
    _check_replace_head(replace_head, (name, before, channels, size, int(rng.integers(2, 8)), seed), rng)
    name, _, channels, size, _, _ = _LENET
    _check_replace_head(replace_head, (name, int(rng.integers(2, 6)), channels, size, int(rng.integers(6, 12)), seed + 1), rng)


# ---------------------------------------------------------------------------------------------
# freeze_backbone
# ---------------------------------------------------------------------------------------------


def _expect_trainable(model, reference, head: str, label: str) -> None:
    """Compare the model's ``{parameter name: requires_grad}`` with 'only the head is trainable'."""
    names = [n for n, _ in reference.named_parameters()]
    shapes = {n: tuple(s) for n, s in probe(model, "parameter_shapes").items()}
    want_shapes = {n: tuple(p.shape) for n, p in reference.named_parameters()}
    if list(shapes.items()) != list(want_shapes.items()):
        fail(
            f"{label}: the model's parameters changed: freeze_backbone should only switch gradients off, not add, remove or replace layers",
            f"Your parameters: {shapes}.\nExpected: {want_shapes}.",
        )
    flags = probe(model, "trainable")
    want = {n: n.startswith(head + ".") for n in names}
    if flags == want:
        return
    trainable = [n for n, t in flags.items() if t]
    if not trainable:
        fail(f"{label}: every parameter is frozen, the head too; the head ('{head}') must stay trainable, or fine-tuning has nothing to train")
    if len(trainable) == len(names):
        fail(f"{label}: nothing is frozen; set requires_grad = False on every parameter outside the head (model.eval() freezes nothing: it only switches batch norm and dropout to evaluation mode)")
    backbone_left = [n for n in trainable if not want[n]]
    if backbone_left and all(n.endswith("bias") for n in backbone_left):
        fail(f"{label}: you froze the weights but not the biases ({', '.join(backbone_left[:3])}...); freeze every parameter outside the head")
    if backbone_left and all(not n.endswith("weight") or "bn" in n or _is_bn(reference, n) for n in backbone_left):
        fail(f"{label}: the batch-norm scales and shifts are still trainable ({', '.join(backbone_left[:3])}...); they are parameters of the backbone too, freeze them")
    head_frozen = [n for n in names if want[n] and not flags[n]]
    if head_frozen:
        fail(f"{label}: the head's parameters {head_frozen} are frozen; the head is the LAST nn.Linear ('{head}') and must stay trainable")
    fail(f"{label}: these parameters outside the head are still trainable: {', '.join(backbone_left[:5])}; only the last nn.Linear ('{head}') stays trainable")


def _is_bn(model, parameter: str) -> bool:
    from torch import nn

    module = model.get_submodule(parameter.rpartition(".")[0])
    return isinstance(module, nn.modules.batchnorm._BatchNorm)


def _check_freeze(freeze_backbone, case, *, replace_head=None, new_classes=None):
    name, before, channels, _, _, seed = case
    construct = Construct("cnnlib.checks.nb13:seeded_model", name, before, channels, seed)
    reference = seeded_model(name, before, channels, seed)
    label = f"freeze_backbone on a {type(reference).__name__}"
    if replace_head is not None:
        model = _returned_model(call(replace_head, construct, new_classes, forbid=TRANSFER_FORBID), "replace_head")
        from cnnlib.pytorch.transfer import replace_head as library_replace_head

        reference = library_replace_head(reference, new_classes)
        label += " whose head replace_head has just replaced"
    else:
        model = construct
    model = _returned_model(call(freeze_backbone, model, forbid=TRANSFER_FORBID), "freeze_backbone")
    _expect_trainable(model, reference, _head_name(reference), label)


@check(points=2)
def freeze_backbone_lenet(freeze_backbone):
    """freeze_backbone: in a LeNet-5 only the last nn.Linear stays trainable"""
    _check_freeze(freeze_backbone, _LENET)


@check(points=2, hidden=True)
def freeze_backbone_random(freeze_backbone, replace_head, seed: int = 0):
    """freeze_backbone: a CIFAR ResNet-20 (batch norm included), and a LeNet-5 after replace_head"""
    rng = np.random.default_rng(seed)
    name, before, channels, size, after, _ = _RESNET
    _check_freeze(freeze_backbone, (name, before, channels, size, after, seed))
    _check_freeze(freeze_backbone, _LENET[:5] + (seed + 1,), replace_head=replace_head, new_classes=int(rng.integers(2, 8)))


# ---------------------------------------------------------------------------------------------
# fine_tune: a pretrained LeNet-5 beats training from scratch on a small new task
# ---------------------------------------------------------------------------------------------


def prepare() -> None:
    """Generate the shapes data set into the cache before a class is graded, so that the grading
    processes read it instead of each generating it (a few seconds). Needs no network."""
    _shapes_tasks()


@functools.lru_cache(maxsize=1)
def _shapes_tasks():
    """The shapes data set split into the pretraining task and the new task.

    The pretraining images stay uint8 (batches are normalised as they are drawn); the new task's
    few-shot pool stays uint8 too, and its held-out images (the 2,000 images of the new classes in
    a test split of :data:`TEST_IMAGES`) are normalised float32. Normalisation uses the per-channel mean and standard deviation of the
    whole training set, as the notebook does.
    """
    import torch

    from cnnlib.data import load_shapes
    from cnnlib.pytorch.data import channel_stats

    train_images, train_labels = load_shapes("train")
    test_images, test_labels = load_shapes("test", n=TEST_IMAGES)
    mean, std = (s[None, :, None, None] for s in channel_stats(train_images))
    old = np.flatnonzero(np.isin(train_labels, PRETRAIN_CLASSES))
    new_train = np.flatnonzero(np.isin(train_labels, NEW_CLASSES))
    new_test = np.flatnonzero(np.isin(test_labels, NEW_CLASSES))
    old_labels = {c: i for i, c in enumerate(PRETRAIN_CLASSES)}
    new_labels = {c: i for i, c in enumerate(NEW_CLASSES)}
    return {
        "pretrain": (torch.as_tensor(train_images[old]), torch.as_tensor(np.array([old_labels[c] for c in train_labels[old]]))),
        "new_train": (train_images[new_train], np.array([new_labels[c] for c in train_labels[new_train]])),
        "new_test": (_normalise(test_images[new_test], mean, std).numpy(), np.array([new_labels[c] for c in test_labels[new_test]])),
        "mean": mean,
        "std": std,
    }


def _normalise(images, mean, std):
    """uint8 images to normalised float32 tensors."""
    import torch

    return (torch.as_tensor(images).float() / 255 - mean) / std


def _train(model, x, y, *, steps: int, lr: float, batch_size: int, seed: int, augment=None):
    """Adam on random mini-batches; ``augment(batch, generator)`` is applied to each batch when given."""
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    model.train()
    for _ in range(steps):
        index = torch.randint(0, len(x), (batch_size,), generator=generator)
        batch = x[index] if augment is None else augment(x[index], generator)
        loss = F.cross_entropy(model(batch), y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def _accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits, axis=1) == y))


@functools.lru_cache(maxsize=1)
def pretrained_state() -> dict:
    """A LeNet-5 (3 input channels, 6 classes) trained by the check on the six pretraining classes.

    800 steps of Adam (batch 64, learning rate 1e-3) with random crops and flips, seeded; about
    90% test accuracy on those classes, about 15 s on one CPU core.
    """
    import torch

    from cnnlib.pytorch.data import random_crop_flip
    from cnnlib.pytorch.models import LeNet5

    tasks = _shapes_tasks()
    x, y = tasks["pretrain"]
    mean, std = tasks["mean"], tasks["std"]

    def augment(batch, generator):  # uint8 batch: crop and flip in [0, 1] (zero padding is black), then normalise
        return (random_crop_flip(batch.float() / 255, generator) - mean) / std

    torch.manual_seed(0)
    model = _train(LeNet5(len(PRETRAIN_CLASSES), 3), x, y, steps=800, lr=1e-3, batch_size=64, seed=0, augment=augment)
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def few_shot(per_class: int, seed: int):
    """``per_class`` training images of each new class (seeded), and the 2,000 held-out images."""
    tasks = _shapes_tasks()
    x, y = tasks["new_train"]
    rng = np.random.default_rng(seed)
    index = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(len(NEW_CLASSES))]))
    return _normalise(x[index], tasks["mean"], tasks["std"]).numpy(), y[index], tasks["new_test"][0], tasks["new_test"][1]


@functools.lru_cache(maxsize=8)
def scratch_baseline(per_class: int, seed: int) -> float:
    """Held-out accuracy of a LeNet-5 trained from scratch on the few images: the best of six runs,
    Adam with learning rate 1e-3 or 3e-3 for 150 steps, or 1e-3 for 300 steps (batch 32), each from
    two random initialisations. The best of several runs, so that a student's from-scratch network
    cannot pass by the luck of one initialisation."""
    import torch

    from cnnlib.pytorch.models import LeNet5

    x, y, x_test, y_test = few_shot(per_class, seed)
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    best = 0.0
    for init in (seed, seed + 1000):
        for lr, steps in ((1e-3, 150), (3e-3, 150), (1e-3, 300)):
            torch.manual_seed(init)
            model = _train(LeNet5(len(NEW_CLASSES), 3), x, y, steps=steps, lr=lr, batch_size=32, seed=init)
            with torch.no_grad():
                best = max(best, _accuracy(model(torch.as_tensor(x_test)).numpy(), y_test))
    return best


def _check_fine_tune(fine_tune, per_class: int, seed: int, margin: float = MARGIN):
    import torch

    classes = len(NEW_CLASSES)
    x, y, x_test, y_test = few_shot(per_class, seed)
    pretrained = Construct("cnnlib.checks.nb13:model_with_state", "lenet5", len(PRETRAIN_CLASSES), 3, pretrained_state())
    model = call(fine_tune, pretrained, torch.as_tensor(x), torch.as_tensor(y), classes, time_limit=60)
    model = _returned_model(model, "fine_tune")
    shape = probe(model, "output_shape", (2, 3, 32, 32))
    if tuple(shape) != (2, classes):
        fail(f"fine_tune's model outputs shape {tuple(shape)} for 2 images; it should be (2, {classes}): replace the head with one of num_classes = {classes} outputs")
    logits = as_array(probe(model, "forward", x_test, time_limit=60), "the fine-tuned model's output", ndim=2)
    accuracy = _accuracy(logits, y_test)
    baseline = scratch_baseline(per_class, seed)
    if accuracy < 1.0 / classes + 0.10:
        fail(f"fine_tune's model is at about chance level on held-out images of the new classes ({accuracy:.1%}, chance is {1 / classes:.0%}): is the new head trained (its parameters trainable and given to the optimiser), and does the model come back in a usable state?")
    if accuracy < baseline + margin:
        fail(
            f"fine_tune's model reaches {accuracy:.1%} on held-out images of the {classes} new classes, but a LeNet-5 trained from scratch on the same "
            f"{len(y)} images reaches {baseline:.1%} (the best of six runs); fine-tuning should beat it by {100 * margin:.0f} accuracy points at least. Train the new head with a larger learning rate "
            "than for training from scratch (e.g. Adam at 1e-2 for a few hundred steps), or unfreeze the whole network with a small one (1e-3)"
        )


@check(points=3)
def fine_tune_beats_scratch(fine_tune):
    """fine_tune: 30 images of each of four new shapes classes; the fine-tuned LeNet-5 beats training from scratch"""
    _check_fine_tune(fine_tune, per_class=30, seed=0)


@check(points=2, hidden=True)
def fine_tune_random(fine_tune, seed: int = 0):
    """fine_tune: another seeded sample of the new classes"""
    _check_fine_tune(fine_tune, per_class=int(np.random.default_rng(seed).integers(20, 41)), seed=seed + 1)
