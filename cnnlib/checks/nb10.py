"""Checks for notebook 10, from NumPy to PyTorch.

The student's ``LeNet5`` lives where the student's code runs; the checks build it with
:func:`~cnnlib.checks.core.call` and ask about it with :func:`~cnnlib.checks.core.probe` (parameter
shapes and count, outputs with given weights, gradients). The expected values come from the NumPy
network :func:`cnnlib.reference.lenet5` with the same weights. The checks name the usual wrong
layouts (a missing bias, 3x3 instead of 5x5 kernels, a padded first convolution, the wrong sizes of
the fully connected layers, ``nn.Linear``'s arguments swapped, extra layers) by the layer where they
occur, and the usual wrong forward passes (tanh or average pooling instead of the ReLU and max
pooling of the course's LeNet-5, a missing or extra ReLU, a softmax at the end, flattening in
channels-last order). ``load_numpy_weights`` is checked on the student's own ``LeNet5``: outputs
after loading, shapes left alone, every parameter copied (found by changing one array at a time).
"""

from __future__ import annotations

import numpy as np

from .core import Mistake, as_array, call, check, describe, expect_close, expect_equal, fail, probe
from .forbid import Forbid

FORBIDDEN_IMPORTS = ("cnnlib.pytorch", "cnnlib.reference", "torchvision")
IMPORT_REASON = "build LeNet-5 from torch.nn layers yourself; the course's own LeNet5 and NumPy network are what your answer is compared with"

FORBID = Forbid(
    modules=("cnnlib.pytorch", "cnnlib.reference"),
    reason="build it from torch.nn layers (nn.Conv2d, nn.MaxPool2d, nn.Linear, ...) yourself",
)

# The layers with parameters, in order, with a readable name for messages.
_LAYERS = ("the first convolution", "the second convolution", "the first fully connected layer", "the second fully connected layer", "the last fully connected layer")


def _expected_shapes(num_classes: int = 10, in_channels: int = 1) -> list[tuple]:
    return [
        (6, in_channels, 5, 5), (6,),
        (16, 6, 5, 5), (16,),
        (120, 400), (120,),
        (84, 120), (84,),
        (num_classes, 84), (num_classes,),
    ]


def _count(shapes) -> int:
    return int(sum(np.prod(s) for s in shapes))


def _layout_problem(shapes: list[tuple], num_classes: int, in_channels: int) -> str | None:
    """Say what is wrong with a list of parameter shapes (registration order), naming the layer."""
    expected = _expected_shapes(num_classes, in_channels)
    if shapes == expected:
        return None
    weights = [s for s in shapes if len(s) >= 2]
    vectors = [s for s in shapes if len(s) == 1]
    convs = [s for s in weights if len(s) == 4]
    linears = [s for s in weights if len(s) == 2]
    if len(convs) != 2 or len(linears) != 3:
        return (
            f"your model has {len(convs)} convolution(s) and {len(linears)} fully connected layer(s) with weights; "
            "LeNet-5 has 2 convolutions (6 and 16 filters of 5x5) and 3 fully connected layers (120, 84 and num_classes units)"
        )
    if not vectors:
        return "your layers have no bias: LeNet-5 has one bias per filter and per unit (nn.Conv2d and nn.Linear add it unless bias=False)"
    if len(vectors) < 5:
        return f"only {len(vectors)} of the 5 layers have a bias; every convolution and fully connected layer of LeNet-5 has one (keep bias=True)"
    if len(vectors) > 5:
        extra = [s for s in vectors][5:]
        return (
            f"your model has {len(vectors) - 5} parameter vector(s) beyond the 5 biases (shapes {extra}): LeNet-5 has no batch norm or other "
            "learned layers; keep to the 2 convolutions and 3 fully connected layers"
        )
    if [len(s) for s in shapes] != [len(s) for s in expected]:
        return "register the layers in LeNet-5's order, each weight followed by its bias: conv1, conv2, fc1, fc2, fc3"
    for index, (got, want) in enumerate(zip(shapes[0::2], expected[0::2])):
        layer = _LAYERS[index]
        if got == want:
            continue
        if len(want) == 4:
            if got[2:] != want[2:]:
                return f"{layer} has {got[2]}x{got[3]} kernels; LeNet-5's convolutions are 5x5 (kernel_size=5)"
            if got[0] != want[0]:
                return f"{layer} has {got[0]} filters; LeNet-5's have {want[0]} (then {expected[2][0]})" if index == 0 else f"{layer} has {got[0]} filters; LeNet-5's second convolution has {want[0]}"
            if got[1] != want[1]:
                what = f"in_channels = {in_channels} input channels" if index == 0 else "the 6 channels the first convolution makes"
                return f"{layer} takes {got[1]} input channels; it should take {what}"
        else:
            if got == (want[1], want[0]):
                return (
                    f"{layer} has a weight of shape {got}, the transpose of {want}: nn.Linear(in_features, out_features) takes the "
                    "number of inputs first and stores its weight as (out_features, in_features)"
                )
            if index == 2 and got[1] != 400:
                hints = {256: " (16 * 4 * 4 = 256 is the size for 28x28 input; LeNet-5 takes 32x32)", 576: " (16 * 6 * 6 = 576 comes from padding the first convolution; the classic LeNet-5 has no padding on 32x32 input)"}
                return (
                    f"{layer} takes {got[1]} inputs; after the second pooling a 32x32 input leaves 16 maps of 5 x 5, "
                    f"so it should take 16 * 5 * 5 = 400{hints.get(got[1], '')}"
                )
            if got[0] != want[0] or got[1] != want[1]:
                return f"{layer} has a weight of shape {got}; it should be {want} (LeNet-5's fully connected layers have 120, 84 and num_classes = {num_classes} units)"
    for index, (got, want) in enumerate(zip(shapes[1::2], expected[1::2])):
        if got != want:
            return f"the bias of {_LAYERS[index]} has shape {got}; it should be {want}, one per output"
    return f"your parameter shapes are {shapes}; LeNet-5's are {expected}"


def _build(LeNet5, *args, **kwargs):
    """The student's model, built where the student's code runs."""
    model = call(LeNet5, *args, forbid=FORBID, **kwargs)
    if not probe(model, "is_module"):
        fail(f"LeNet5(...) gave {describe(model)}; LeNet5 should be a class derived from torch.nn.Module (class LeNet5(nn.Module): ...)")
    return model


def _check_layout(model, num_classes: int = 10, in_channels: int = 1, *, who: str = "LeNet5") -> None:
    shapes = [tuple(int(v) for v in s) for s in probe(model, "parameter_shapes", forbid=FORBID).values()]
    problem = _layout_problem(shapes, num_classes, in_channels)
    if problem:
        args = f"num_classes={num_classes}, in_channels={in_channels}"
        fail(f"{who}({args}): {problem}")
    count = int(probe(model, "parameter_count", forbid=FORBID))
    expect_equal(count, _count(_expected_shapes(num_classes, in_channels)), f"the number of parameters of LeNet5(num_classes={num_classes}, in_channels={in_channels})")


# ---------------------------------------------------------------------------------------------
# Reference outputs and the outputs of common wrong forward passes
# ---------------------------------------------------------------------------------------------


def _reference(num_classes: int, in_channels: int, seed: int):
    from cnnlib import reference as ref

    return ref.lenet5(num_classes=num_classes, in_channels=in_channels, seed=seed)


def _variant(params: dict, x: np.ndarray, *, act="relu", pool="max", fc_relu=True, final=None, flatten="nchw", conv_relu=True):
    """LeNet-5's forward pass with one thing changed, in float64 torch, for naming mistakes."""
    import torch
    import torch.nn.functional as F

    p = {k: torch.as_tensor(np.asarray(v, dtype=np.float64)) for k, v in params.items()}
    fn = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[act]
    pooling = F.max_pool2d if pool == "max" else F.avg_pool2d
    h = torch.as_tensor(np.asarray(x, dtype=np.float64))
    for w, b in (("0.weight", "0.bias"), ("3.weight", "3.bias")):
        h = F.conv2d(h, p[w], p[b])
        h = pooling(fn(h) if conv_relu else h, 2)
    h = h.permute(0, 2, 3, 1).flatten(1) if flatten == "nhwc" else h.flatten(1)
    h = F.linear(h, p["7.weight"], p["7.bias"])
    h = fn(h) if fc_relu else h
    h = F.linear(h, p["9.weight"], p["9.bias"])
    h = fn(h) if fc_relu else h
    h = F.linear(h, p["11.weight"], p["11.bias"])
    if final == "relu":
        h = torch.relu(h)
    elif final == "softmax":
        h = torch.softmax(h, dim=1)
    elif final == "log_softmax":
        h = torch.log_softmax(h, dim=1)
    return h.numpy()


def _forward_mistakes(params, x) -> list[Mistake]:
    return [
        Mistake(_variant(params, x, flatten="nhwc"), "your output matches flattening the feature maps in (H, W, C) order; flatten them as they are, (N, 16, 5, 5) -> (N, 400) in (C, H, W) order (nn.Flatten() or x.flatten(1)), so that the weights of the NumPy network fit"),
        Mistake(_variant(params, x, final="softmax"), "your output is a softmax of the scores: return the raw scores (logits); nn.CrossEntropyLoss applies log-softmax itself"),
        Mistake(_variant(params, x, final="log_softmax"), "your output is a log-softmax of the scores: return the raw scores (logits); nn.CrossEntropyLoss applies log-softmax itself"),
        Mistake(_variant(params, x, final="relu"), "you apply a ReLU after the last layer: the scores must be able to be negative, so the last linear layer has no activation"),
        Mistake(_variant(params, x, act="tanh"), "your network uses tanh; the course's LeNet-5 uses ReLU after each convolution and hidden fully connected layer"),
        Mistake(_variant(params, x, act="sigmoid"), "your network uses a sigmoid; the course's LeNet-5 uses ReLU after each convolution and hidden fully connected layer"),
        Mistake(_variant(params, x, pool="avg"), "your network uses average pooling; the course's LeNet-5 uses 2x2 max pooling (nn.MaxPool2d(2))"),
        Mistake(_variant(params, x, fc_relu=False), "there is no ReLU between the fully connected layers; LeNet-5 has one after the first two (fc1 -> ReLU -> fc2 -> ReLU -> fc3)"),
        Mistake(_variant(params, x, conv_relu=False), "there is no ReLU after the convolutions; LeNet-5 applies conv -> ReLU -> max pool, twice"),
    ]


def _random_input(rng, n, in_channels=1):
    return rng.standard_normal((n, in_channels, 32, 32))


def _check_forward(model, num_classes, in_channels, seed, x, *, label="LeNet5"):
    net = _reference(num_classes, in_channels, seed)
    params = net.params
    expected = net.eval().forward(x)
    out = probe(model, "forward", x, params, forbid=FORBID)
    out = as_array(out, f"{label} output")
    scale = float(np.abs(expected).max())
    expect_close(
        out,
        expected,
        f"{label} output with the NumPy network's weights",
        mistakes=_forward_mistakes(params, x),
        rtol=1e-4,
        atol=1e-5 * scale,
        why=f"(N, num_classes) = ({x.shape[0]}, {num_classes})",
        inputs=f"a batch of shape {x.shape}",
    )
    return net, params


# ---------------------------------------------------------------------------------------------
# LeNet5
# ---------------------------------------------------------------------------------------------


@check(points=2)
def lenet5_layout(LeNet5):
    """LeNet5: an nn.Module with the classic layout, 61,706 parameters for 1x32x32 input and 10 classes"""
    model = _build(LeNet5)
    _check_layout(model)
    shape = tuple(probe(model, "output_shape", (2, 1, 32, 32), forbid=FORBID))
    expect_equal(shape, (2, 10), "the output shape of LeNet5() for a batch of shape (2, 1, 32, 32)", why="one score per class for each image")


@check(points=2)
def lenet5_forward(LeNet5):
    """LeNet5: the same outputs as the NumPy LeNet-5 with the same weights"""
    model = _build(LeNet5)
    _check_layout(model)
    _check_forward(model, 10, 1, 0, _random_input(np.random.default_rng(10), 4))


@check(points=2, hidden=True)
def lenet5_random(LeNet5, seed: int = 0):
    """LeNet5: other numbers of classes and input channels, seeded weights and inputs, and gradients"""
    rng = np.random.default_rng(seed)
    for num_classes, in_channels in ((int(rng.integers(2, 20)), 3), (10, 1)):
        model = _build(LeNet5, num_classes=num_classes, in_channels=in_channels)
        _check_layout(model, num_classes, in_channels)
        x = _random_input(rng, int(rng.integers(1, 6)), in_channels)
        net, params = _check_forward(model, num_classes, in_channels, int(rng.integers(1000)), x)
    # Gradients by autograd against the NumPy network's hand-written backward pass.
    dout = rng.standard_normal((x.shape[0], 10))
    net.train()
    net.forward(x)
    net.backward(dout)
    value = probe(model, "forward_backward", x, dout, params, forbid=FORBID)
    _, grads = value
    if len(grads) != len(params):
        fail(
            f"only {len(grads)} of LeNet5's {len(params)} parameters received a gradient: something in forward cuts the graph "
            "(.detach(), .data, .numpy(), torch.no_grad()) or a layer is not used"
        )
    for (name, got), (ref_name, want) in zip(grads.items(), net.grads.items()):
        scale = float(np.abs(want).max())
        expect_close(got, want, f"the gradient of LeNet5's {name}", rtol=1e-3, atol=1e-4 * scale + 1e-7, why=f"the shape of {name}")


# ---------------------------------------------------------------------------------------------
# load_numpy_weights
# ---------------------------------------------------------------------------------------------


def _student_model_or_fail(LeNet5, num_classes=10, in_channels=1):
    model = _build(LeNet5, num_classes=num_classes, in_channels=in_channels)
    shapes = [tuple(int(v) for v in s) for s in probe(model, "parameter_shapes", forbid=FORBID).values()]
    if _layout_problem(shapes, num_classes, in_channels):
        fail("load_numpy_weights is checked on your LeNet5, whose parameters are not right yet: make LeNet5 pass its checks first")
    return model, shapes


def _check_load(LeNet5, load_numpy_weights, num_classes, in_channels, seed, x, *, find_uncopied: bool):
    model, shapes = _student_model_or_fail(LeNet5, num_classes, in_channels)
    net = _reference(num_classes, in_channels, seed)
    params = net.params
    expected = net.eval().forward(x)
    result = call(load_numpy_weights, model, params, forbid=FORBID)
    if result is None or not probe(result, "is_module"):
        fail(f"load_numpy_weights returned {describe(result)}; return the model you were given, with the weights copied in")
    after = [tuple(int(v) for v in s) for s in probe(result, "parameter_shapes", forbid=FORBID).values()]
    if after != shapes:
        changed = [(i, a, b) for i, (a, b) in enumerate(zip(shapes, after)) if a != b]
        detail = ""
        if changed:
            i, a, b = changed[0]
            detail = f": parameter {i} went from {a} to {b}"
            if len(a) == 2 and b == a[::-1]:
                detail += ". nn.Linear stores its weight as (out_features, in_features), exactly as the NumPy params do: copy them without transposing"
        fail(f"load_numpy_weights changed the shapes of the model's parameters{detail}")
    out = as_array(probe(result, "forward", x, forbid=FORBID), "the model's output after load_numpy_weights")
    own = as_array(probe(model, "forward", x, forbid=FORBID), "the model's output after load_numpy_weights")
    scale = float(np.abs(expected).max())
    close = out.shape == expected.shape and np.allclose(out, expected, rtol=1e-4, atol=1e-5 * scale)
    if close and not np.allclose(own, expected, rtol=1e-4, atol=1e-5 * scale):
        fail("load_numpy_weights returned a model with the weights, but the model it was given still has its old ones: copy into the parameters of `model` (in place) and return it")
    if close:
        return
    if find_uncopied:
        # Change one array at a time: if the output does not move, that array was never copied.
        for name in params:
            changed = dict(params)
            changed[name] = params[name] + 0.5
            result = call(load_numpy_weights, model, changed, forbid=FORBID)
            moved = as_array(probe(result, "forward", x, forbid=FORBID), "the model's output after load_numpy_weights")
            if np.allclose(moved, out, rtol=1e-6, atol=1e-7 * scale):
                fail(f"load_numpy_weights does not copy params[{name!r}] into the model: changing it does not change the output. Copy every array, weights and biases, into the matching parameter (in order)")
    expect_close(out, expected, "the output of your LeNet5 after load_numpy_weights", rtol=1e-4, atol=1e-5 * scale, inputs=f"a batch of shape {x.shape}")


@check(points=2)
def load_numpy_weights_examples(LeNet5, load_numpy_weights):
    """load_numpy_weights: your LeNet5 with the NumPy network's weights gives the NumPy network's outputs"""
    _check_load(LeNet5, load_numpy_weights, 10, 1, 0, _random_input(np.random.default_rng(20), 3), find_uncopied=True)


@check(points=1, hidden=True)
def load_numpy_weights_random(LeNet5, load_numpy_weights, seed: int = 0):
    """load_numpy_weights: seeded weights, classes and input channels"""
    rng = np.random.default_rng(seed)
    in_channels = int(rng.choice([1, 3]))
    x = _random_input(rng, 2, in_channels)
    _check_load(LeNet5, load_numpy_weights, int(rng.integers(2, 15)), in_channels, int(rng.integers(1000)), x, find_uncopied=False)
