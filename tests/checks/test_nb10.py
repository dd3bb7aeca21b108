"""The checks of notebook 10 pass two correct LeNet-5s and weight loaders, and name each mistake."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlib.checks import nb10
from checkhelpers import assert_passes, run


def assert_fails(check, *args, expect, **kwargs):
    result = run(check, *args, **kwargs)
    assert not result.passed
    assert expect in result.message, result.message
    return result


# ---------------------------------------------------------------------------------------------
# Correct answers: a Sequential-based model and one with named layers and a functional forward
# ---------------------------------------------------------------------------------------------


class SequentialLeNet5(nn.Module):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class FunctionalLeNet5(nn.Module):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.shape[0], -1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def load_in_order(model, params):
    with torch.no_grad():
        for p, a in zip(model.parameters(), params.values()):
            p.copy_(torch.as_tensor(a))
    return model


def load_by_state_dict(model, params):
    names = [n for n, _ in model.named_parameters()]
    model.load_state_dict({n: torch.from_numpy(np.asarray(a)).float() for n, a in zip(names, params.values())})
    return model


@pytest.mark.parametrize("model", [SequentialLeNet5, FunctionalLeNet5])
def test_correct_models_pass(model):
    assert_passes(nb10.lenet5_layout, model)
    assert_passes(nb10.lenet5_forward, model)
    for seed in (0, 1):
        assert_passes(nb10.lenet5_random, model, seed=seed)


@pytest.mark.parametrize("model,load", [(SequentialLeNet5, load_in_order), (FunctionalLeNet5, load_by_state_dict), (SequentialLeNet5, load_by_state_dict)])
def test_correct_loaders_pass(model, load):
    assert_passes(nb10.load_numpy_weights_examples, model, load)
    for seed in (0, 1):
        assert_passes(nb10.load_numpy_weights_random, model, load, seed=seed)


# ---------------------------------------------------------------------------------------------
# Wrong layouts
# ---------------------------------------------------------------------------------------------


def make_layout(*, bias=True, k1=5, pad1=0, fc=(120, 84), fc1_in=400, swap_fc1=False, batch_norm=False, no_bias_fc=False):
    class Wrong(nn.Module):
        def __init__(self, num_classes=10, in_channels=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, 6, k1, padding=pad1, bias=bias)
            self.bn = nn.BatchNorm2d(6) if batch_norm else nn.Identity()
            self.conv2 = nn.Conv2d(6, 16, 5, bias=bias)
            self.fc1 = nn.Linear(fc[0], fc1_in, bias=bias and not no_bias_fc) if swap_fc1 else nn.Linear(fc1_in, fc[0], bias=bias and not no_bias_fc)
            self.fc2 = nn.Linear(fc[0], fc[1], bias=bias)
            self.fc3 = nn.Linear(fc[1], num_classes, bias=bias)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn(self.conv1(x))), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    return Wrong


class MissingLayer(nn.Module):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc3 = nn.Linear(120, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.max_pool2d(F.relu(self.conv1(x)), 2))), 2).flatten(1)
        return self.fc3(F.relu(self.fc1(x)))


LAYOUT_MISTAKES = [
    (make_layout(bias=False), "your layers have no bias"),
    (make_layout(no_bias_fc=True), "only 4 of the 5 layers have a bias"),
    (make_layout(k1=3), "the first convolution has 3x3 kernels"),
    (make_layout(pad1=2, fc1_in=576), "padding the first convolution"),
    (make_layout(fc1_in=256), "the size for 28x28 input"),
    (make_layout(fc=(100, 84)), "the first fully connected layer has a weight of shape (100, 400); it should be (120, 400)"),
    (make_layout(fc=(120, 64)), "the second fully connected layer has a weight of shape (64, 120)"),
    (make_layout(swap_fc1=True), "nn.Linear(in_features, out_features) takes the number of inputs first"),
    (make_layout(batch_norm=True), "beyond the 5 biases"),
    (MissingLayer, "LeNet-5 has 2 convolutions (6 and 16 filters of 5x5) and 3 fully connected layers"),
]


@pytest.mark.parametrize("model,expect", LAYOUT_MISTAKES)
def test_layout_mistakes_are_named(model, expect):
    assert_fails(nb10.lenet5_layout, model, expect=expect)


def test_wrong_number_of_classes_fails_the_hidden_check():
    class IgnoresNumClasses(SequentialLeNet5):
        def __init__(self, num_classes=10, in_channels=1):
            super().__init__(10, in_channels)

    result = assert_fails(nb10.lenet5_random, IgnoresNumClasses, expect="the last fully connected layer", seed=0)
    assert result.hidden


def test_not_a_module_and_library_model_are_refused():
    class NotAModule:
        def __init__(self, num_classes=10, in_channels=1):
            pass

    assert_fails(nb10.lenet5_layout, NotAModule, expect="derived from torch.nn.Module")

    from cnnlib.pytorch.models import LeNet5 as LibraryLeNet5

    class Borrowed(LibraryLeNet5):
        pass

    assert_fails(nb10.lenet5_layout, Borrowed, expect="a library implementation")


# ---------------------------------------------------------------------------------------------
# Wrong forward passes
# ---------------------------------------------------------------------------------------------


def make_forward(*, act=F.relu, pool=F.max_pool2d, fc_relu=True, conv_relu=True, final=None, nhwc=False):
    class Wrong(FunctionalLeNet5):
        def forward(self, x):
            a = act if conv_relu else (lambda t: t)
            x = pool(a(self.conv1(x)), 2)
            x = pool(a(self.conv2(x)), 2)
            x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1) if nhwc else x.flatten(1)
            h = act if fc_relu else (lambda t: t)
            x = self.fc3(h(self.fc2(h(self.fc1(x)))))
            return final(x) if final else x

    return Wrong


FORWARD_MISTAKES = [
    (make_forward(nhwc=True), "flattening the feature maps in (H, W, C) order"),
    (make_forward(final=lambda x: torch.softmax(x, 1)), "your output is a softmax of the scores"),
    (make_forward(final=lambda x: torch.log_softmax(x, 1)), "your output is a log-softmax"),
    (make_forward(final=torch.relu), "you apply a ReLU after the last layer"),
    (make_forward(act=torch.tanh), "your network uses tanh"),
    (make_forward(act=torch.sigmoid), "your network uses a sigmoid"),
    (make_forward(pool=F.avg_pool2d), "your network uses average pooling"),
    (make_forward(fc_relu=False), "no ReLU between the fully connected layers"),
    (make_forward(conv_relu=False), "no ReLU after the convolutions"),
]


@pytest.mark.parametrize("model,expect", FORWARD_MISTAKES)
def test_forward_mistakes_are_named(model, expect):
    assert_fails(nb10.lenet5_forward, model, expect=expect)


def test_a_cut_graph_fails_the_gradient_check():
    class Detached(FunctionalLeNet5):
        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2).detach()
            x = F.max_pool2d(F.relu(self.conv2(x)), 2).flatten(1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    assert_passes(nb10.lenet5_forward, Detached)
    assert_fails(nb10.lenet5_random, Detached, expect="received a gradient", seed=0)


# ---------------------------------------------------------------------------------------------
# Wrong loaders
# ---------------------------------------------------------------------------------------------


def load_transposed(model, params):
    for p, a in zip(model.parameters(), params.values()):
        p.data = torch.from_numpy(np.asarray(a).T.copy()).float() if np.ndim(a) == 2 else torch.from_numpy(np.asarray(a)).float()
    return model


def load_weights_only(model, params):
    with torch.no_grad():
        for p, (name, a) in zip(model.parameters(), params.items()):
            if name.endswith("weight"):
                p.copy_(torch.as_tensor(a))
    return model


def load_no_return(model, params):
    load_in_order(model, params)


def load_into_new_model(model, params):
    return load_in_order(type(model)(), params)


def load_sorted_names(model, params):
    with torch.no_grad():
        for p, name in zip(model.parameters(), sorted(params)):
            p.copy_(torch.as_tensor(params[name]))
    return model


def load_library(model, params):
    from cnnlib.pytorch.convert import load_numpy_weights

    return load_numpy_weights(model, params)


LOAD_MISTAKES = [
    (load_transposed, "copy them without transposing"),
    (load_weights_only, "does not copy params['0.bias']"),
    (load_no_return, "returned None"),
    (load_into_new_model, "the model it was given still has its old ones"),
    (load_sorted_names, "load_sorted_names raised RuntimeError"),
    (load_library, "a library implementation"),
]


@pytest.mark.parametrize("load,expect", LOAD_MISTAKES)
def test_load_mistakes_are_named(load, expect):
    assert_fails(nb10.load_numpy_weights_examples, SequentialLeNet5, load, expect=expect)


def test_load_needs_a_correct_model_first():
    assert_fails(nb10.load_numpy_weights_examples, make_layout(k1=3), load_in_order, expect="make LeNet5 pass its checks first")


def test_layout_problem_is_silent_for_the_right_shapes():
    assert nb10._layout_problem(nb10._expected_shapes(7, 3), 7, 3) is None
    assert nb10._count(nb10._expected_shapes()) == 61706
