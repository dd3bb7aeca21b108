"""Checks for notebook 14, what a trained CNN sees.

Each graded function receives a small seeded CNN built where the student's code runs
(:func:`seeded_model`, through :class:`~cnnlib.checks.core.Construct`: conv-ReLU-pool, two more
conv-ReLU layers at half resolution, flatten, linear) and float32 tensors; the expected outputs come
from :mod:`cnnlib.pytorch.interpret` on the same model built here. The wrong answers the checks
name are computed here too, from the model's own gradients.

The checks recognise, for ``saliency_map``: the signed gradient (no absolute value), channels summed,
averaged or combined by a norm instead of the maximum, the absolute value of the channel sum, the
gradient of the softmax probability or of the loss instead of the score, the predicted class instead
of ``target``, gradient times input, a rescaled map, and maps with a channel axis; for
``occlusion_map``: the drop's sign flipped, the occluded probability instead of the drop, logits
instead of probabilities, a black patch instead of grey, rows and columns swapped, and output sizes
that hang patches over the border, miss the last position or ignore the stride; for ``grad_cam``:
no ReLU (with the map divided by its maximum, or min-max scaled), not divided by the maximum, not
upsampled, weights not averaged over space (gradient times activation), nearest or corner-aligned
upsampling, scaling before upsampling, the ReLU after upsampling, the probability's gradient, the
predicted class, activations without gradients; for ``fgsm``: the gradient's sign flipped, no
clipping, eps ignored, the raw gradient instead of its sign, the gradient of the true class's score
instead of the loss, the model's predictions as labels, and the perturbation alone.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from cnnlib.arithmetic import conv_output_size

from .core import Construct, Mistake, as_array, call, check, expect_close, fail
from .forbid import Forbid

#: Libraries that compute these maps and attacks (and the course's own reference implementations).
INTERPRETATION_LIBRARIES = ("cnnlib.pytorch.interpret", "captum", "pytorch_grad_cam", "torchcam", "torchattacks", "foolbox", "art", "cleverhans")

#: Module prefixes the student's code may not import while it is graded.
FORBIDDEN_IMPORTS = INTERPRETATION_LIBRARIES
IMPORT_REASON = (
    "cnnlib.pytorch.interpret holds the course's own saliency_map, occlusion_map, grad_cam and fgsm, and captum, "
    "pytorch-grad-cam, torchcam and the attack libraries have theirs, so they are switched off while your answers are graded"
)

INTERPRET_FORBID = Forbid(
    modules=INTERPRETATION_LIBRARIES,
    reason="write it with PyTorch itself: a forward pass, torch.autograd.grad (or .backward()) and tensor operations",
)

#: The value of the occluding patch, and the valid pixel range, that the exercises state.
GREY = 0.5
PIXEL_RANGE = (0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# The models and inputs of the checks
# ---------------------------------------------------------------------------------------------


def seeded_model(seed: int, in_channels: int = 3, num_classes: int = 4, height: int = 12, width: int = 12, channels: int = 4):
    """A small CNN with weights drawn after ``torch.manual_seed(seed)``, in evaluation mode.

    ``conv1 (3x3) relu1 pool1 conv2 (3x3) relu2 conv3 (3x3) relu3 flatten fc``: the last three
    feature maps are ``(height // 2, width // 2)``, so Grad-CAM there must be upsampled, and the dense
    head reads every position, so the score's gradient differs from place to place.
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(in_channels, channels, 3, padding=1),
            relu1=nn.ReLU(),
            pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(channels, 2 * channels, 3, padding=1),
            relu2=nn.ReLU(),
            conv3=nn.Conv2d(2 * channels, 2 * channels, 3, padding=1),
            relu3=nn.ReLU(),
            flatten=nn.Flatten(),
            fc=nn.Linear(2 * channels * (height // 2) * (width // 2), num_classes),
        )
    )
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight)
                module.bias.uniform_(-0.1, 0.1)
        model.fc.weight.mul_(np.sqrt(8.0))  # logits a few units apart: probabilities far from uniform
    return model.eval()


class _Case:
    """One test input: the seeded model's arguments, built here and (through Construct) for the student."""

    def __init__(self, seed: int, in_channels: int = 3, num_classes: int = 4, height: int = 12, width: int = 12):
        import torch

        self.args = (seed, in_channels, num_classes, height, width)
        self.model = seeded_model(*self.args)
        self.shape = (in_channels, height, width)
        rng = np.random.default_rng(seed)
        self.x = torch.as_tensor(rng.uniform(0, 1, self.shape).astype(np.float32))
        with torch.no_grad():
            self.scores = self.model(self.x[None])[0]
        self.predicted = int(self.scores.argmax())
        self.least = int(self.scores.argmin())

    def construct(self) -> Construct:
        return Construct("cnnlib.checks.nb14:seeded_model", *self.args)

    def describe(self) -> str:
        return f"a seeded {self.args[2]}-class CNN, x of shape {self.shape}"


def _np(tensor) -> np.ndarray:
    return tensor.detach().double().numpy()


def _gradient(model, x, objective):
    """``d objective(model(x[None])[0]) / d x`` as a tensor of x's shape."""
    import torch

    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(objective(model(x[None])[0]), x)
    return grad


def _close(out: np.ndarray, expected: np.ndarray, rel: float = 1e-4) -> bool:
    scale = max(1e-12, float(np.abs(expected).max()))
    return out.shape == expected.shape and bool(np.allclose(out, expected, rtol=rel, atol=rel * scale))


def _tolerances(expected: np.ndarray, rel: float = 1e-4) -> dict:
    return {"rtol": rel, "atol": rel * max(1e-12, float(np.abs(expected).max()))}


# ---------------------------------------------------------------------------------------------
# saliency_map
# ---------------------------------------------------------------------------------------------


def _saliency_mistakes(case: _Case, target: int) -> list[Mistake]:
    import torch

    model, x = case.model, case.x
    grad = _gradient(model, x, lambda s: s[target])  # (C, H, W)
    prob = _gradient(model, x, lambda s: torch.softmax(s, 0)[target])
    loss = _gradient(model, x, lambda s: -torch.log_softmax(s, 0)[target])
    correct = grad.abs().amax(0)
    mistakes = [
        Mistake(_np(grad.amax(0)), "you took the maximum of the signed gradient: take the absolute value first (a large negative derivative matters as much as a large positive one), then the maximum over the channels"),
        Mistake(_np(grad.abs().sum(0)), "you summed |gradient| over the channels: the saliency map takes the MAXIMUM over the channels (.amax(dim=0))"),
        Mistake(_np(grad.abs().mean(0)), "you averaged |gradient| over the channels: the saliency map takes the MAXIMUM over the channels (.amax(dim=0))"),
        Mistake(_np(grad.norm(dim=0)), "you took the Euclidean norm over the channels: this exercise takes the maximum of the absolute values over the channels"),
        Mistake(_np(grad.sum(0).abs()), "you took the absolute value of the gradient summed over the channels: take |gradient| of each channel, then the maximum over the channels"),
        Mistake(_np(correct[None]), "your map has an extra leading axis of length 1: return shape (H, W)"),
        Mistake(_np(grad.abs()), "you returned |gradient| for every channel: reduce the channel axis with the maximum, to get one (H, W) map"),
        Mistake(_np(prob.abs().amax(0)), "you differentiated the softmax probability: differentiate the class SCORE, the model's raw output (logit) for the target class"),
        Mistake(_np(loss.abs().amax(0)), "you differentiated the loss (or the log-probability): differentiate the class SCORE, the model's raw output (logit) for the target class"),
        Mistake(_np((grad * x).abs().amax(0)), "you multiplied the gradient by the input ('gradient times input' is another method): return the gradient's absolute value alone"),
        Mistake(_np(correct / correct.max()), "you rescaled the map (divided by its maximum): return the derivatives as they are"),
    ]
    if target != case.predicted:
        other = _gradient(model, x, lambda s: s[case.predicted])
        mistakes.append(Mistake(_np(other.abs().amax(0)), "you used the class the model predicts (the argmax) instead of target: differentiate the score of the class given as target"))
    return mistakes


def _check_saliency(saliency_map, case: _Case, target: int) -> None:
    from cnnlib.pytorch.interpret import saliency_map as reference

    expected = reference(case.model, case.x, target).astype(np.float64)
    out = call(saliency_map, case.construct(), case.x.clone(), target, forbid=INTERPRET_FORBID)
    out = as_array(out, "saliency_map's output")
    expect_close(
        out,
        expected,
        "saliency_map",
        mistakes=_saliency_mistakes(case, target),
        why=f"one value per pixel: the maximum over the {case.shape[0]} channels",
        inputs=f"{case.describe()}, target={target}",
        **_tolerances(expected),
    )


@check(points=2)
def saliency_map_examples(saliency_map):
    """saliency_map: max over channels of |d score / d x| for a small CNN, for its predicted class and another"""
    case = _Case(11)
    _check_saliency(saliency_map, case, case.predicted)
    _check_saliency(saliency_map, case, case.least)


@check(points=2, hidden=True)
def saliency_map_random(saliency_map, seed: int = 0):
    """saliency_map: seeded models, image sizes, channels and targets"""
    rng = np.random.default_rng(seed)
    for channels in (int(rng.choice([2, 3])), int(rng.choice([1, 3]))):  # several channels at least once: the reduction matters
        case = _Case(seed + 100 + channels, channels, int(rng.integers(3, 7)), 2 * int(rng.integers(4, 8)), 2 * int(rng.integers(4, 8)))
        _check_saliency(saliency_map, case, int(rng.integers(case.args[2])))


# ---------------------------------------------------------------------------------------------
# occlusion_map
# ---------------------------------------------------------------------------------------------


def _occluded_scores(case: _Case, patch: int, stride: int, fill: float = GREY):
    """The model's scores for every patch position, ``(OH, OW, num_classes)``, and the clean scores."""
    import torch

    rows, cols = conv_output_size(case.shape[1:], patch, stride=stride)
    batch = case.x.expand(rows * cols, *case.shape).clone()
    for i in range(rows):
        for j in range(cols):
            batch[i * cols + j, :, i * stride : i * stride + patch, j * stride : j * stride + patch] = fill
    with torch.no_grad():
        return case.model(batch).reshape(rows, cols, -1), case.scores


def _occlusion_mistakes(case: _Case, target: int, patch: int, stride: int, expected: np.ndarray) -> list[Mistake]:
    import torch

    occluded, clean = _occluded_scores(case, patch, stride)
    p_occluded = _np(torch.softmax(occluded, dim=2)[..., target])
    black, _ = _occluded_scores(case, patch, stride, fill=0.0)
    p_clean = float(torch.softmax(clean, 0)[target])
    mistakes = [
        Mistake(-expected, "the sign is flipped: return p(original) - p(occluded), the DROP, positive where hiding the place hurts the class"),
        Mistake(p_occluded, "you returned the probability of the occluded image: return the drop, p(original image) - p(occluded image)"),
        Mistake(_np(clean[target] - occluded[..., target]), "you compared the class scores (logits): compare the softmax PROBABILITIES of the target class"),
        Mistake(p_clean - _np(torch.softmax(black, dim=2)[..., target]), f"your patch is black (0): the exercise covers each place with mid-grey, {GREY} in every channel"),
    ]
    if expected.shape[0] == expected.shape[1]:
        mistakes.append(Mistake(expected.T, "rows and columns are swapped: D[i, j] is the patch whose top-left corner is at row i * stride, column j * stride"))
    return mistakes


def _occlusion_shape(out: np.ndarray, size: tuple[int, int], patch: int, stride: int) -> None:
    height, width = size
    want = conv_output_size((height, width), patch, stride=stride)
    if out.shape == want:
        return
    formula = f"(H - patch) // stride + 1 = ({height} - {patch}) // {stride} + 1 = {want[0]} rows, and likewise {want[1]} columns"
    if out.ndim == 2:
        # The usual wrong ways to count positions along a side of n pixels; name the one that explains
        # every side whose count is wrong.
        counts = {
            "overhang": lambda n: -(-n // stride),
            "short": lambda n: (n - patch) // stride,
            "no_stride": lambda n: n - patch + 1,
            "image": lambda n: n,
        }
        wrong_sides = [(got, n) for got, n, right in zip(out.shape, size, want) if got != right]
        reasons = {
            "overhang": "you also placed patches that hang over the bottom or right border: count only the positions where the whole patch fits",
            "short": "you missed the last position: the patch may start at row H - patch (it then ends on the last row), so range(0, H - patch + 1, stride)",
            "no_stride": "you moved the patch one pixel at a time: step by stride",
            "image": "you returned a map of the image's size: return one value per patch position",
        }
        for name, count in counts.items():
            if all(got == count(n) for got, n in wrong_sides):
                fail(f"occlusion_map's output has shape {out.shape}; it should be {want}: {reasons[name]} ({formula})")
    fail(f"occlusion_map's output has shape {out.shape}; it should be {want}: one row per patch position down the image and one column per position across ({formula})")


def _check_occlusion(occlusion_map, case: _Case, target: int, patch: int, stride: int) -> None:
    from cnnlib.pytorch.interpret import occlusion_map as reference

    expected = reference(case.model, case.x, target, patch, stride).astype(np.float64)
    out = call(occlusion_map, case.construct(), case.x.clone(), target, patch, stride, forbid=INTERPRET_FORBID)
    out = as_array(out, "occlusion_map's output")
    inputs = f"{case.describe()}, target={target}, patch={patch}, stride={stride}"
    mistakes = _occlusion_mistakes(case, target, patch, stride, expected)
    if out.shape == expected.shape:
        for mistake in mistakes:
            if _close(out, mistake.output) and not _close(out, expected):
                fail(f"occlusion_map: {mistake.explanation}", f"On {inputs}.")
    else:
        _occlusion_shape(out, case.shape[1:], patch, stride)
    expect_close(out, expected, "occlusion_map", inputs=inputs, rtol=1e-4, atol=1e-5)


@check(points=2)
def occlusion_map_examples(occlusion_map):
    """occlusion_map: the drop in the class probability for a grey patch, on a small CNN, two patch sizes and strides"""
    case = _Case(21)
    _check_occlusion(occlusion_map, case, case.predicted, 4, 2)
    _check_occlusion(occlusion_map, case, case.least, 3, 3)


@check(points=2, hidden=True)
def occlusion_map_random(occlusion_map, seed: int = 0):
    """occlusion_map: seeded models, image sizes, patches, strides and targets"""
    rng = np.random.default_rng(seed)
    for k in range(2):
        case = _Case(seed + 200 + k, int(rng.choice([1, 3])), int(rng.integers(3, 7)), 2 * int(rng.integers(4, 8)), 2 * int(rng.integers(4, 8)))
        patch = int(rng.integers(2, min(case.shape[1:]) // 2 + 1))
        _check_occlusion(occlusion_map, case, int(rng.integers(case.args[2])), patch, int(rng.integers(1, 4)))


# ---------------------------------------------------------------------------------------------
# grad_cam
# ---------------------------------------------------------------------------------------------


def _layer_output(case: _Case, layer: str, objective):
    """The layer's output ``A (1, K, h, w)`` and ``d objective(scores) / dA``."""
    import torch

    captured = []
    handle = case.model.get_submodule(layer).register_forward_hook(lambda m, i, o: captured.append(o))
    try:
        x = case.x.detach().clone().requires_grad_(True)
        scores = case.model(x[None])[0]
    finally:
        handle.remove()
    (grad,) = torch.autograd.grad(objective(scores), captured[0])
    return captured[0].detach(), grad


def _cam_variants(case: _Case, target: int, layer: str) -> list[Mistake]:
    import torch
    import torch.nn.functional as F

    size = case.shape[1:]
    A, grad = _layer_output(case, layer, lambda s: s[target])

    def up(m, mode="bilinear", align_corners=False):  # (1, 1, h, w) -> (H, W)
        if mode == "nearest":
            return F.interpolate(m, size=size, mode="nearest")[0, 0]
        return F.interpolate(m, size=size, mode=mode, align_corners=align_corners)[0, 0]

    def by_max(m):
        peak = m.max()
        return m / peak if peak > 0 else m

    weighted = (grad.mean(dim=(2, 3), keepdim=True) * A).sum(1, keepdim=True)  # (1, 1, h, w), before the ReLU
    relu = F.relu(weighted)
    no_relu = up(weighted)
    _, prob_grad = _layer_output(case, layer, lambda s: torch.softmax(s, 0)[target])
    mistakes = [
        Mistake(_np(by_max(no_relu)), "your map has no ReLU: Grad-CAM keeps only the positive evidence, ReLU(sum_k alpha_k A_k), before upsampling and scaling"),
        Mistake(_np((no_relu - no_relu.min()) / (no_relu.max() - no_relu.min())), "your map has no ReLU (scaling from the minimum hides the negative values): apply ReLU to sum_k alpha_k A_k, then divide by the maximum"),
        # Gradient times activation, summed over channels: the weights were not averaged over space.
        Mistake(_np(by_max(up(F.relu((grad * A).sum(1, keepdim=True))))), "your channel weights were not averaged over space: alpha_k is ONE number per channel, the mean of d score / d A_k over the (h, w) positions; you multiplied the gradient and the activation position by position"),
        Mistake(_np(by_max(up(relu, mode="nearest"))), "you upsampled with nearest-neighbour interpolation: use mode='bilinear' (with align_corners=False)"),
        Mistake(_np(by_max(up(relu, align_corners=True))), "you upsampled with align_corners=True: use F.interpolate(..., mode='bilinear', align_corners=False)"),
        Mistake(_np(up(by_max(relu))), "you divided by the maximum before upsampling: upsample first, then divide by the maximum of the upsampled map (so that its largest value is exactly 1)"),
        Mistake(_np(by_max(F.relu(no_relu))), "you applied the ReLU after upsampling: apply it to the small (h, w) map, then upsample"),
        Mistake(_np(by_max(up(F.relu((prob_grad.mean(dim=(2, 3), keepdim=True) * A).sum(1, keepdim=True))))), "your channel weights come from the gradient of the softmax probability: use the gradient of the class SCORE (the logit)"),
        Mistake(_np(by_max(up(F.relu(A.mean(1, keepdim=True))))), "your map is the mean of the feature maps, without the gradients: weight each channel by alpha_k, the spatial mean of d score / d A_k"),
    ]
    if target != case.predicted:
        A_p, grad_p = _layer_output(case, layer, lambda s: s[case.predicted])
        mistakes.append(Mistake(_np(by_max(up(F.relu((grad_p.mean(dim=(2, 3), keepdim=True) * A_p).sum(1, keepdim=True))))), "you explained the class the model predicts (the argmax) instead of target: differentiate the score of the class given as target"))
    return mistakes


def _check_grad_cam(grad_cam, case: _Case, target: int, layer: str) -> None:
    from cnnlib.pytorch.interpret import grad_cam as reference

    expected = reference(case.model, case.x, target, layer).astype(np.float64)
    out = call(grad_cam, case.construct(), case.x.clone(), target, layer, forbid=INTERPRET_FORBID)
    out = as_array(out, "grad_cam's output")
    inputs = f"{case.describe()}, target={target}, layer={layer!r}"
    size = case.shape[1:]
    A, _ = _layer_output(case, layer, lambda s: s[target])
    small = tuple(A.shape[2:])
    if out.shape != size:
        if out.shape == small:
            fail(f"grad_cam's output has shape {out.shape}, the size of the feature maps of layer {layer!r}: upsample it to the input's {size} with F.interpolate(..., size=(H, W), mode='bilinear', align_corners=False)")
        if out.size == int(np.prod(size)) and out.ndim > 2:
            fail(f"grad_cam's output has shape {out.shape}: drop the batch and channel axes and return shape {size}")
        fail(f"grad_cam's output has shape {out.shape}; it should be the input's height and width, {size}", f"On {inputs}.")
    if not np.all(np.isfinite(out)):
        fail("grad_cam's output contains NaN or infinity (did you divide a map that is zero everywhere by its maximum?)", f"On {inputs}.")
    mistakes = _cam_variants(case, target, layer)
    for mistake in mistakes:
        if _close(out, mistake.output, 1e-3) and not _close(out, expected, 1e-3):
            fail(f"grad_cam: {mistake.explanation}", f"On {inputs}.")
    if out.min() < -1e-6:
        fail(f"grad_cam's map has negative values (down to {out.min():.3g}): apply a ReLU to the weighted sum of the feature maps, so that only positive evidence remains")
    if expected.max() > 0 and abs(out.max() - 1) > 1e-3:
        fail(f"grad_cam's map has its maximum at {out.max():.4g}: divide the upsampled map by its maximum, so that its values lie in [0, 1] with the largest exactly 1")
    expect_close(out, expected, "grad_cam", inputs=inputs, rtol=1e-3, atol=1e-4)


@check(points=2)
def grad_cam_examples(grad_cam):
    """grad_cam: a small CNN, a 6x6 layer upsampled to the 12x12 input, for its predicted class and another"""
    case = _Case(31)
    _check_grad_cam(grad_cam, case, case.predicted, "relu3")
    _check_grad_cam(grad_cam, case, case.least, "conv2")


@check(points=2, hidden=True)
def grad_cam_random(grad_cam, seed: int = 0):
    """grad_cam: seeded models, image sizes, layers and targets"""
    rng = np.random.default_rng(seed)
    layers = ["relu2", "conv3", "relu3", "relu1"]
    for k in range(3):
        case = _Case(seed + 300 + k, int(rng.choice([1, 3])), int(rng.integers(3, 7)), 2 * int(rng.integers(4, 8)), 2 * int(rng.integers(4, 8)))
        layer = layers[k] if k < 2 else str(rng.choice(layers))
        _check_grad_cam(grad_cam, case, int(rng.integers(case.args[2])), layer)


# ---------------------------------------------------------------------------------------------
# fgsm
# ---------------------------------------------------------------------------------------------


class _Batch:
    """A batch of images and labels for FGSM on a seeded model."""

    def __init__(self, seed: int, count: int = 4, in_channels: int = 3, num_classes: int = 4, height: int = 12, width: int = 12):
        import torch

        self.args = (seed, in_channels, num_classes, height, width)
        self.model = seeded_model(*self.args)
        rng = np.random.default_rng(seed)
        self.x = torch.as_tensor(rng.uniform(0, 1, (count, in_channels, height, width)).astype(np.float32))
        with torch.no_grad():
            self.predicted = self.model(self.x).argmax(1)
        labels = self.predicted.clone()
        labels[1::2] = (labels[1::2] + 1) % num_classes  # half the labels differ from the prediction
        self.y = labels

    def construct(self) -> Construct:
        return Construct("cnnlib.checks.nb14:seeded_model", *self.args)

    def describe(self) -> str:
        return f"a seeded {self.args[2]}-class CNN, x of shape {tuple(self.x.shape)}, y={self.y.tolist()}"

    def gradient(self, objective):
        import torch

        x = self.x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(objective(self.model(x)), x)
        return grad


def _fgsm_mistakes(batch: _Batch, eps: float) -> list[tuple[np.ndarray, str]]:
    import torch.nn.functional as F

    x = batch.x
    sign = batch.gradient(lambda s: F.cross_entropy(s, batch.y)).sign()
    score = batch.gradient(lambda s: s.gather(1, batch.y[:, None]).sum()).sign()
    grad = batch.gradient(lambda s: F.cross_entropy(s, batch.y))
    predicted = batch.gradient(lambda s: F.cross_entropy(s, batch.predicted)).sign()
    clip = lambda t: t.clamp(*PIXEL_RANGE)  # noqa: E731
    return [
        (_np(x - eps * sign), "the sign is flipped and the result is not clipped: step UP the loss, x + eps * sign(gradient), then clamp to [0, 1]"),
        (_np(clip(x - eps * sign)), "the sign is flipped: you stepped DOWN the loss, which makes the model more sure of the right answer; FGSM adds eps * sign(gradient of the loss)"),
        (_np(x + eps * sign), "the result is not clipped: pixels must stay in the valid range, so clamp x + eps * sign(gradient) to [0, 1]"),
        (_np(clip(x + sign)), "eps is ignored: the step is eps * sign(gradient), not sign(gradient)"),
        (_np(clip(x + eps * grad)), "you stepped along the gradient itself: FGSM takes its SIGN, so that every pixel moves by exactly eps"),
        (_np(clip(x + eps * score)), "you followed the gradient of the true class's score, which makes the model more sure of y: follow the gradient of the LOSS (cross-entropy of the scores against y)"),
        (_np(clip(x - eps * score)), "you stepped down the true class's score: FGSM follows the gradient of the LOSS (cross-entropy of the scores against y)"),
        (_np(eps * sign), "you returned the perturbation alone: return the perturbed images, x + eps * sign(gradient), clamped to [0, 1]"),
        (_np(clip(x + eps * predicted)), "you used the model's predictions as the labels: use y, the true labels given to the function"),
    ]


def _check_fgsm(fgsm, batch: _Batch, eps: float):
    import torch.nn.functional as F

    from cnnlib.pytorch.interpret import fgsm as reference

    expected = _np(reference(batch.model, batch.x, batch.y, eps))
    out = call(fgsm, batch.construct(), batch.x.clone(), batch.y.clone(), eps, forbid=INTERPRET_FORBID)
    out = as_array(out, "fgsm's output")
    inputs = f"{batch.describe()}, eps={eps}"
    if out.shape != expected.shape:
        fail(f"fgsm's output has shape {out.shape}; it should be x's shape {expected.shape}: one perturbed image for each image of x", f"On {inputs}.")
    # Where the loss's gradient is (almost) zero its sign depends on rounding: compare elsewhere only.
    grad = batch.gradient(lambda s: F.cross_entropy(s, batch.y)).detach().numpy()
    settled = np.abs(grad) > 1e-4 * np.abs(grad).max()

    def same(a, b):
        return a.shape == b.shape and bool(np.allclose(a[settled], b[settled], rtol=0, atol=1e-5))

    if not same(out, expected):
        for wrong, explanation in _fgsm_mistakes(batch, eps):
            if same(out, wrong):
                fail(f"fgsm: {explanation}", f"On {inputs}.")
        low, high = PIXEL_RANGE[0] + 1e-6, PIXEL_RANGE[1] - 1e-6
        inside = settled & (expected > low) & (expected < high) & (out > low) & (out < high)  # clipped by neither
        steps = np.abs(out - batch.x.numpy())[inside]
        if steps.size and np.allclose(steps, steps[0], rtol=0, atol=1e-5) and abs(steps[0] - eps) > 1e-5:
            fail(f"fgsm moved every pixel by {steps[0]:.4g}, not by eps = {eps}: use the eps given to the function", f"On {inputs}.")
        if out.min() < PIXEL_RANGE[0] - 1e-6 or out.max() > PIXEL_RANGE[1] + 1e-6:
            fail(f"fgsm's images have values from {out.min():.3g} to {out.max():.3g}: clamp the result to the valid pixel range [0, 1]")
        wrong = ~np.isclose(out, expected, rtol=0, atol=1e-5) & settled
        fail(f"fgsm's images differ from x + eps * sign(d loss / d x), clamped to [0, 1], at {int(wrong.sum())} of {out.size} pixels", f"On {inputs}.")
    return out


@check(points=2)
def fgsm_examples(fgsm):
    """fgsm: a batch of 4 images on a small CNN, with eps = 0.1 and eps = 0.03"""
    batch = _Batch(41)
    first = _check_fgsm(fgsm, batch, 0.1)
    second = _check_fgsm(fgsm, batch, 0.03)
    if np.array_equal(first, second):
        fail("fgsm gives the same images for eps = 0.1 and eps = 0.03: eps is ignored; the step is eps * sign(gradient)")


@check(points=2, hidden=True)
def fgsm_random(fgsm, seed: int = 0):
    """fgsm: seeded models, batches, image sizes and eps"""
    rng = np.random.default_rng(seed)
    for k in range(2):
        batch = _Batch(seed + 400 + k, int(rng.integers(2, 6)), int(rng.choice([1, 3])), int(rng.integers(3, 7)), 2 * int(rng.integers(4, 8)), 2 * int(rng.integers(4, 8)))
        _check_fgsm(fgsm, batch, float(np.round(rng.uniform(0.01, 0.2), 3)))
