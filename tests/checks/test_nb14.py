"""The checks of notebook 14 pass correct answers (two ways each) and name each recognised mistake."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.checks import nb14
from checkhelpers import assert_passes, run

HIDDEN_SEEDS = [1, 2, 1414]


def assert_fails(check, answer, *phrases, **kwargs):
    result = run(check, answer, **kwargs)
    assert not result.passed, f"{answer.__name__} passed {check.__name__}"
    for phrase in phrases:
        assert phrase in result.message, result.message


def assert_fails_everywhere(visible, hidden, answer, phrase):
    """The visible check names the mistake; the hidden one fails it on every seed (naming it, too)."""
    assert_fails(visible, answer, phrase)
    for seed in HIDDEN_SEEDS:
        assert_fails(hidden, answer, phrase, seed=seed)


# ---------------------------------------------------------------------------------------------
# saliency_map
# ---------------------------------------------------------------------------------------------


def saliency_autograd(model, x, target):
    """torch.autograd.grad on a leaf copy of x."""
    x = x.detach().clone().requires_grad_(True)
    score = model(x.unsqueeze(0))[0, target]
    (grad,) = torch.autograd.grad(score, x)
    return grad.abs().amax(dim=0).numpy()


def saliency_backward(model, x, target):
    """.backward() from a one-hot vector, the gradient read from x.grad, reduced with a loop in NumPy."""
    model.eval()
    batch = x[None].clone().requires_grad_()
    out = model(batch)
    out.backward(F.one_hot(torch.tensor([target]), out.shape[1]).float())
    grad = batch.grad[0].numpy()
    result = np.abs(grad[0])
    for channel in grad[1:]:
        result = np.maximum(result, np.abs(channel))
    return torch.as_tensor(result)


@pytest.mark.parametrize("answer", [saliency_autograd, saliency_backward])
def test_saliency_passes(answer):
    assert_passes(nb14.saliency_map_examples, answer)
    for seed in HIDDEN_SEEDS:
        assert_passes(nb14.saliency_map_random, answer, seed=seed)


def _grad(model, x, objective):
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(objective(model(x[None])[0]), x)
    return grad


def saliency_signed(model, x, target):
    return _grad(model, x, lambda s: s[target]).amax(0)


def saliency_sum(model, x, target):
    return _grad(model, x, lambda s: s[target]).abs().sum(0)


def saliency_mean(model, x, target):
    return _grad(model, x, lambda s: s[target]).abs().mean(0)


def saliency_norm(model, x, target):
    return _grad(model, x, lambda s: s[target]).norm(dim=0)


def saliency_abs_of_sum(model, x, target):
    return _grad(model, x, lambda s: s[target]).sum(0).abs()


def saliency_per_channel(model, x, target):
    return _grad(model, x, lambda s: s[target]).abs()


def saliency_keepdim(model, x, target):
    return _grad(model, x, lambda s: s[target]).abs().amax(0, keepdim=True)


def saliency_probability(model, x, target):
    return _grad(model, x, lambda s: torch.softmax(s, 0)[target]).abs().amax(0)


def saliency_loss(model, x, target):
    return _grad(model, x, lambda s: F.cross_entropy(s[None], torch.tensor([target]))).abs().amax(0)


def saliency_predicted(model, x, target):
    return _grad(model, x, lambda s: s[s.argmax()]).abs().amax(0)


def saliency_times_input(model, x, target):
    return (_grad(model, x, lambda s: s[target]) * x).abs().amax(0)


def saliency_rescaled(model, x, target):
    s = _grad(model, x, lambda s: s[target]).abs().amax(0)
    return s / s.max()


def saliency_library(model, x, target):
    from cnnlib.pytorch.interpret import saliency_map

    return saliency_map(model, x, target)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (saliency_signed, "signed gradient"),
        (saliency_sum, "summed |gradient|"),
        (saliency_mean, "averaged |gradient|"),
        (saliency_norm, "Euclidean norm"),
        (saliency_abs_of_sum, "absolute value of the gradient summed"),
        (saliency_per_channel, "for every channel"),
        (saliency_keepdim, "extra leading axis"),
        (saliency_probability, "softmax probability"),
        (saliency_loss, "the loss"),
        (saliency_times_input, "gradient times input"),
        (saliency_rescaled, "rescaled"),
        (saliency_library, "cnnlib.pytorch.interpret"),
    ],
)
def test_saliency_mistakes(answer, phrase):
    assert_fails_everywhere(nb14.saliency_map_examples, nb14.saliency_map_random, answer, phrase)


def test_saliency_predicted_class_is_named():
    assert_fails(nb14.saliency_map_examples, saliency_predicted, "the class the model predicts")
    assert not any(run(nb14.saliency_map_random, saliency_predicted, seed=s).passed for s in HIDDEN_SEEDS[:1])


# ---------------------------------------------------------------------------------------------
# occlusion_map
# ---------------------------------------------------------------------------------------------


def occlusion_batched(model, x, target, patch, stride):
    """All occluded copies in one batch."""
    _, h, w = x.shape
    rows, cols = (h - patch) // stride + 1, (w - patch) // stride + 1
    copies = x.repeat(rows * cols, 1, 1, 1)
    for k in range(rows * cols):
        i, j = divmod(k, cols)
        copies[k, :, i * stride : i * stride + patch, j * stride : j * stride + patch] = 0.5
    with torch.no_grad():
        base = torch.softmax(model(x[None]), 1)[0, target]
        probs = torch.softmax(model(copies), 1)[:, target]
    return (base - probs).reshape(rows, cols).numpy()


def occlusion_loop(model, x, target, patch, stride):
    """One forward pass per position, a Python list of lists."""
    model.eval()
    with torch.no_grad():
        base = F.softmax(model(x.unsqueeze(0)), dim=1)[0, target].item()
        rows = []
        for top in range(0, x.shape[1] - patch + 1, stride):
            row = []
            for left in range(0, x.shape[2] - patch + 1, stride):
                hidden = x.clone()
                hidden[:, top : top + patch, left : left + patch] = 0.5
                row.append(base - F.softmax(model(hidden[None]), dim=1)[0, target].item())
            rows.append(row)
    return np.array(rows)


@pytest.mark.parametrize("answer", [occlusion_batched, occlusion_loop])
def test_occlusion_passes(answer):
    assert_passes(nb14.occlusion_map_examples, answer)
    for seed in HIDDEN_SEEDS:
        assert_passes(nb14.occlusion_map_random, answer, seed=seed)


def _occlusion(model, x, target, patch, stride, *, fill=0.5, positions=None, measure="drop"):
    _, h, w = x.shape
    rows_at = positions(h) if positions else range(0, h - patch + 1, stride)
    cols_at = positions(w) if positions else range(0, w - patch + 1, stride)
    with torch.no_grad():
        base_scores = model(x[None])[0]
        out = []
        for top in rows_at:
            row = []
            for left in cols_at:
                hidden = x.clone()
                hidden[:, top : top + patch, left : left + patch] = fill
                scores = model(hidden[None])[0]
                if measure == "drop":
                    row.append(float(torch.softmax(base_scores, 0)[target] - torch.softmax(scores, 0)[target]))
                elif measure == "rise":
                    row.append(float(torch.softmax(scores, 0)[target] - torch.softmax(base_scores, 0)[target]))
                elif measure == "occluded":
                    row.append(float(torch.softmax(scores, 0)[target]))
                else:
                    row.append(float(base_scores[target] - scores[target]))
            out.append(row)
    return np.array(out)


def occlusion_flipped(model, x, target, patch, stride):
    return _occlusion(model, x, target, patch, stride, measure="rise")


def occlusion_probability(model, x, target, patch, stride):
    return _occlusion(model, x, target, patch, stride, measure="occluded")


def occlusion_logits(model, x, target, patch, stride):
    return _occlusion(model, x, target, patch, stride, measure="logit")


def occlusion_black(model, x, target, patch, stride):
    return _occlusion(model, x, target, patch, stride, fill=0.0)


def occlusion_overhang(model, x, target, patch, stride):
    return _occlusion(model, x, target, patch, stride, positions=lambda n: range(0, n, stride))


def occlusion_one_short(model, x, target, patch, stride):
    return _occlusion(model, x, target, patch, stride, positions=lambda n: range(0, n - patch, stride))


def occlusion_no_stride(model, x, target, patch, stride):
    return _occlusion(model, x, target, patch, stride, positions=lambda n: range(0, n - patch + 1))


def occlusion_transposed(model, x, target, patch, stride):
    return _occlusion(model, x, target, patch, stride).T


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (occlusion_flipped, "sign is flipped"),
        (occlusion_probability, "probability of the occluded image"),
        (occlusion_logits, "logits"),
        (occlusion_black, "black"),
        (occlusion_overhang, "hang over the bottom or right border"),
        (occlusion_one_short, "missed the last position"),
    ],
)
def test_occlusion_mistakes(answer, phrase):
    assert_fails_everywhere(nb14.occlusion_map_examples, nb14.occlusion_map_random, answer, phrase)


def test_occlusion_stride_ignored_and_transposed():
    assert_fails(nb14.occlusion_map_examples, occlusion_no_stride, "one pixel at a time")
    assert_fails(nb14.occlusion_map_examples, occlusion_transposed, "rows and columns are swapped")
    for seed in HIDDEN_SEEDS:  # hidden images are not square: a swapped map has the wrong shape
        assert not run(nb14.occlusion_map_random, occlusion_transposed, seed=seed).passed


# ---------------------------------------------------------------------------------------------
# grad_cam
# ---------------------------------------------------------------------------------------------


def grad_cam_hooks(model, x, target, layer):
    """A forward hook keeps the layer's output; torch.autograd.grad differentiates the score."""
    kept = {}
    handle = model.get_submodule(layer).register_forward_hook(lambda module, inputs, output: kept.update(a=output))
    scores = model(x[None].requires_grad_(True))
    handle.remove()
    a = kept["a"]
    (grad,) = torch.autograd.grad(scores[0, target], a)
    weights = grad.mean(dim=(2, 3))  # (1, K)
    cam = torch.relu(torch.einsum("nk,nkhw->nhw", weights, a))[:, None]
    cam = F.interpolate(cam, size=x.shape[1:], mode="bilinear", align_corners=False)[0, 0]
    return (cam / cam.max()).detach().numpy() if cam.max() > 0 else cam.detach().numpy()


def grad_cam_split(model, x, target, layer):
    """Run the Sequential in two halves around the layer; retain_grad and .backward()."""
    names = [name for name, _ in model.named_children()]
    cut = names.index(layer) + 1
    a = model[:cut](x.unsqueeze(0))
    a.retain_grad()
    model[cut:](a)[0, target].backward()
    alpha = a.grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((alpha * a).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=(x.shape[1], x.shape[2]), mode="bilinear")
    cam = cam.squeeze().detach()
    peak = cam.max()
    return cam / peak if peak > 0 else cam


@pytest.mark.parametrize("answer", [grad_cam_hooks, grad_cam_split])
def test_grad_cam_passes(answer):
    assert_passes(nb14.grad_cam_examples, answer)
    for seed in HIDDEN_SEEDS:
        assert_passes(nb14.grad_cam_random, answer, seed=seed)


def _cam(model, x, target, layer, *, relu=True, normalise="max", average=True, mode="bilinear", align=False, scale_first=False, relu_after=False, objective=None, gradients=True):
    kept = {}
    handle = model.get_submodule(layer).register_forward_hook(lambda m, i, o: kept.update(a=o))
    scores = model(x[None].clone().requires_grad_(True))[0]
    handle.remove()
    a = kept["a"]
    value = objective(scores) if objective else scores[target]
    (grad,) = torch.autograd.grad(value, a)
    weights = grad.mean(dim=(2, 3), keepdim=True) if average else grad
    cam = (weights * a).sum(1, keepdim=True) if gradients else a.mean(1, keepdim=True)
    if relu and not relu_after:
        cam = F.relu(cam)

    def scale(m):
        if normalise == "max":
            return m / m.max() if m.max() > 0 else m
        if normalise == "minmax":
            return (m - m.min()) / (m.max() - m.min())
        return m

    if scale_first:
        cam = scale(cam)
    cam = F.interpolate(cam, size=x.shape[1:], mode=mode) if mode == "nearest" else F.interpolate(cam, size=x.shape[1:], mode=mode, align_corners=align)
    if relu_after:
        cam = F.relu(cam)
    if not scale_first:
        cam = scale(cam)
    return cam[0, 0].detach()


def cam_no_relu(model, x, target, layer):
    return _cam(model, x, target, layer, relu=False)


def cam_no_relu_minmax(model, x, target, layer):
    return _cam(model, x, target, layer, relu=False, normalise="minmax")


def cam_unnormalised(model, x, target, layer):
    return _cam(model, x, target, layer, normalise=None)


def cam_not_upsampled(model, x, target, layer):
    kept = {}
    handle = model.get_submodule(layer).register_forward_hook(lambda m, i, o: kept.update(a=o))
    scores = model(x[None].clone().requires_grad_(True))[0]
    handle.remove()
    (grad,) = torch.autograd.grad(scores[target], kept["a"])
    cam = F.relu((grad.mean(dim=(2, 3), keepdim=True) * kept["a"]).sum(1))[0]
    return (cam / cam.max()).detach()


def cam_not_averaged(model, x, target, layer):
    return _cam(model, x, target, layer, average=False)


def cam_nearest(model, x, target, layer):
    return _cam(model, x, target, layer, mode="nearest")


def cam_align_corners(model, x, target, layer):
    return _cam(model, x, target, layer, align=True)


def cam_scaled_first(model, x, target, layer):
    return _cam(model, x, target, layer, scale_first=True)


def cam_relu_after(model, x, target, layer):
    return _cam(model, x, target, layer, relu_after=True)


def cam_probability(model, x, target, layer):
    return _cam(model, x, target, layer, objective=lambda s: torch.softmax(s, 0)[target])


def cam_predicted(model, x, target, layer):
    return _cam(model, x, target, layer, objective=lambda s: s[s.argmax()])


def cam_no_gradients(model, x, target, layer):
    return _cam(model, x, target, layer, gradients=False)


def cam_batch_axes(model, x, target, layer):
    return _cam(model, x, target, layer)[None, None]


def cam_minmax_with_relu(model, x, target, layer):
    return _cam(model, x, target, layer, normalise="minmax")


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (cam_no_relu, "no ReLU"),
        (cam_no_relu_minmax, "no ReLU"),
        (cam_unnormalised, "divide the upsampled map by its maximum"),
        (cam_not_upsampled, "upsample it to the input's"),
        (cam_not_averaged, "not averaged over space"),
        (cam_nearest, "nearest-neighbour"),
        (cam_align_corners, "align_corners=True"),
        (cam_scaled_first, "before upsampling"),
        (cam_relu_after, "ReLU after upsampling"),
        (cam_probability, "softmax probability"),
        (cam_no_gradients, "without the gradients"),
        (cam_batch_axes, "drop the batch and channel axes"),
    ],
)
def test_grad_cam_mistakes(answer, phrase):
    assert_fails_everywhere(nb14.grad_cam_examples, nb14.grad_cam_random, answer, phrase)


def test_grad_cam_predicted_class_is_named():
    assert_fails(nb14.grad_cam_examples, cam_predicted, "the class the model predicts")
    for seed in HIDDEN_SEEDS:
        assert not run(nb14.grad_cam_random, cam_predicted, seed=seed).passed


def test_grad_cam_minmax_scaling_passes_where_the_map_reaches_zero():
    # After the ReLU the map's minimum is 0 wherever some evidence is negative; then min-max scaling
    # is the same as dividing by the maximum, and the check must not fail a correct map.
    assert_passes(nb14.grad_cam_examples, cam_minmax_with_relu)


# ---------------------------------------------------------------------------------------------
# fgsm
# ---------------------------------------------------------------------------------------------


def fgsm_autograd(model, x, y, eps):
    x_adv = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x_adv), y)
    (grad,) = torch.autograd.grad(loss, x_adv)
    return torch.clamp(x + eps * grad.sign(), 0.0, 1.0)


def fgsm_per_image_sum(model, x, y, eps):
    """Summed loss, .backward(), one image at a time, NumPy for the step."""
    out = []
    for image, label in zip(x, y):
        image = image[None].clone().requires_grad_()
        F.cross_entropy(model(image), label[None], reduction="sum").backward()
        out.append(np.clip(image.detach().numpy() + eps * np.sign(image.grad.numpy()), 0, 1))
    return np.concatenate(out)


@pytest.mark.parametrize("answer", [fgsm_autograd, fgsm_per_image_sum])
def test_fgsm_passes(answer):
    assert_passes(nb14.fgsm_examples, answer)
    for seed in HIDDEN_SEEDS:
        assert_passes(nb14.fgsm_random, answer, seed=seed)


def _loss_grad(model, x, y):
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(x), y), x)
    return grad


def fgsm_flipped(model, x, y, eps):
    return (x - eps * _loss_grad(model, x, y).sign()).clamp(0, 1)


def fgsm_unclipped(model, x, y, eps):
    return x + eps * _loss_grad(model, x, y).sign()


def fgsm_flipped_unclipped(model, x, y, eps):
    return x - eps * _loss_grad(model, x, y).sign()


def fgsm_no_eps(model, x, y, eps):
    return (x + _loss_grad(model, x, y).sign()).clamp(0, 1)


def fgsm_fixed_eps(model, x, y, eps):
    return (x + 0.05 * _loss_grad(model, x, y).sign()).clamp(0, 1)


def fgsm_raw_gradient(model, x, y, eps):
    return (x + eps * _loss_grad(model, x, y)).clamp(0, 1)


def fgsm_score(model, x, y, eps):
    x_ = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x_).gather(1, y[:, None]).sum(), x_)
    return (x + eps * grad.sign()).clamp(0, 1)


def fgsm_perturbation_only(model, x, y, eps):
    return eps * _loss_grad(model, x, y).sign()


def fgsm_predicted_labels(model, x, y, eps):
    with torch.no_grad():
        predicted = model(x).argmax(1)
    return (x + eps * _loss_grad(model, x, predicted).sign()).clamp(0, 1)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (fgsm_flipped, "the sign is flipped: you stepped DOWN"),
        (fgsm_unclipped, "not clipped"),
        (fgsm_flipped_unclipped, "flipped and the result is not clipped"),
        (fgsm_no_eps, "eps is ignored"),
        (fgsm_raw_gradient, "gradient itself"),
        (fgsm_score, "true class's score"),
        (fgsm_perturbation_only, "perturbation alone"),
        (fgsm_predicted_labels, "predictions as the labels"),
    ],
)
def test_fgsm_mistakes(answer, phrase):
    assert_fails_everywhere(nb14.fgsm_examples, nb14.fgsm_random, answer, phrase)


def test_fgsm_fixed_eps_is_named():
    assert_fails(nb14.fgsm_examples, fgsm_fixed_eps, "moved every pixel by 0.05, not by eps = 0.1")
    for seed in HIDDEN_SEEDS:
        assert_fails(nb14.fgsm_random, fgsm_fixed_eps, "use the eps given", seed=seed)


# ---------------------------------------------------------------------------------------------
# Answers that are not there yet, hidden messages, speed
# ---------------------------------------------------------------------------------------------


def not_written(*args):
    raise NotImplementedError()


@pytest.mark.parametrize("check", [nb14.saliency_map_examples, nb14.occlusion_map_examples, nb14.grad_cam_examples, nb14.fgsm_examples])
def test_unanswered_exercises_read_as_not_written(check):
    result = run(check, not_written)
    assert not result.passed and result.not_written


def test_hidden_messages_show_no_inputs():
    result = run(nb14.occlusion_map_random, occlusion_black, seed=1)
    assert "black" in result.message and "On " not in result.message and "x of shape" not in result.message


def test_checks_are_deterministic():
    from cnnlib.pytorch.interpret import grad_cam

    a = nb14._Case(5)
    b = nb14._Case(5)
    assert torch.equal(a.x, b.x)
    np.testing.assert_array_equal(grad_cam(a.model, a.x, 1, "relu3"), grad_cam(b.model, b.x, 1, "relu3"))
