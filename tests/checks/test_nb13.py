"""The checks of notebook 13 pass correct answers (two ways each) and name each recognised mistake."""

import numpy as np
import pytest
import torch
from torch import nn

from cnnlib.checks import nb13
from checkhelpers import assert_passes, run


def assert_fails(check, answer, *phrases, **kwargs):
    result = run(check, answer, **kwargs)
    assert not result.passed
    for phrase in phrases:
        assert phrase in result.message, result.message


# ---------------------------------------------------------------------------------------------
# replace_head
# ---------------------------------------------------------------------------------------------


def replace_head_walk(model, num_classes):
    """Walk named_modules for the last nn.Linear and set the new one on its parent."""
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    setattr(parent, attribute, nn.Linear(getattr(parent, attribute).in_features, num_classes))
    return model


def replace_head_recursive(model, num_classes):
    """Recurse into the children, last child first, and replace the first nn.Linear met."""

    def visit(module):
        for name, child in reversed(list(module.named_children())):
            if isinstance(child, nn.Linear):
                module._modules[name] = nn.Linear(child.in_features, num_classes)
                return True
            if visit(child):
                return True
        return False

    visit(model)
    return model


@pytest.mark.parametrize("answer", [replace_head_walk, replace_head_recursive])
def test_replace_head_passes(answer):
    assert_passes(nb13.replace_head_lenet, answer)
    assert_passes(nb13.replace_head_random, answer, seed=1)
    assert_passes(nb13.replace_head_random, answer, seed=2)


def head_none(model, num_classes):
    replace_head_walk(model, num_classes)


def head_appended(model, num_classes):
    return nn.Sequential(model, nn.Linear(list(model.modules())[-1].out_features, num_classes))


def head_first_linear(model, num_classes):
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][0]
    old = model.get_submodule(name)
    setattr(model, name, nn.Linear(old.in_features, num_classes))
    return model


def head_no_bias(model, num_classes):
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, attribute = name.rpartition(".")
    setattr(model.get_submodule(parent_name), attribute, nn.Linear(model.get_submodule(name).in_features, num_classes, bias=False))
    return model


def head_new_model(model, num_classes):
    from cnnlib.pytorch.models import LeNet5

    return LeNet5(num_classes=num_classes)


def head_unchanged(model, num_classes):
    return model


def head_library(model, num_classes):
    from cnnlib.pytorch import replace_head

    return replace_head(model, num_classes)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (head_none, "returned None"),
        (head_appended, "added a layer after the old head"),
        (head_first_linear, "not the head"),
        (head_no_bias, "no bias"),
        (head_new_model, "layers before the head have changed"),
        (head_unchanged, "did not change"),
        (head_library, "cnnlib.pytorch.transfer"),
    ],
)
def test_replace_head_mistakes(answer, phrase):
    assert_fails(nb13.replace_head_lenet, answer, phrase)


# ---------------------------------------------------------------------------------------------
# freeze_backbone
# ---------------------------------------------------------------------------------------------


def freeze_loop(model):
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    for p in model.parameters():
        p.requires_grad = False
    for p in last.parameters():
        p.requires_grad = True
    return model


def freeze_by_name(model):
    head = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(head + "."))
    return model


@pytest.mark.parametrize("answer", [freeze_loop, freeze_by_name])
def test_freeze_backbone_passes(answer):
    assert_passes(nb13.freeze_backbone_lenet, answer)
    for seed in (1, 2):
        result = run(nb13.freeze_backbone_random, answer, replace_head_walk, seed=seed)
        assert result.passed, result.message


def freeze_all(model):
    for p in model.parameters():
        p.requires_grad = False
    return model


def freeze_eval(model):
    return model.eval()


def freeze_weights_only(model):
    freeze_loop(model)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p.requires_grad = True
    return model


def freeze_convs_only(model):
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)) and m is not last:
            for p in m.parameters():
                p.requires_grad = False
    return model


def freeze_first_linear_trainable(model):
    first = [m for m in model.modules() if isinstance(m, nn.Linear)][0]
    freeze_all(model)
    for p in first.parameters():
        p.requires_grad = True
    return model


def freeze_and_replace(model):
    freeze_loop(model)
    return replace_head_walk(model, 2)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (freeze_all, "the head too"),
        (freeze_eval, "model.eval() freezes nothing"),
        (lambda m: None, "returned None"),
        (freeze_first_linear_trainable, "LAST nn.Linear"),
        (freeze_and_replace, "not add, remove or replace layers"),
    ],
)
def test_freeze_backbone_mistakes(answer, phrase):
    assert_fails(nb13.freeze_backbone_lenet, answer, phrase)


def test_freeze_backbone_biases_and_batch_norm():
    # LeNet-5 has no batch norm: leaving biases trainable is named as such.
    assert_fails(nb13.freeze_backbone_lenet, freeze_weights_only, "not the biases")
    # In a ResNet, freezing only the convolutions leaves the batch norms trainable.
    result = run(nb13.freeze_backbone_random, freeze_convs_only, replace_head_walk, seed=3)
    assert not result.passed and "batch-norm" in result.message, result.message


# ---------------------------------------------------------------------------------------------
# fine_tune (trains on the generated shapes data set: no download, about a minute)
# ---------------------------------------------------------------------------------------------


def fine_tune_full(model, X, y, num_classes):
    """Replace the head, then train every layer with a small learning rate."""
    replace_head_walk(model, num_classes)
    return nb13._train(model, X, y, steps=150, lr=1e-3, batch_size=32, seed=0)


def fine_tune_two_phase(model, X, y, num_classes):
    """Train the new head on the frozen backbone first, then everything with a small learning rate."""
    replace_head_walk(model, num_classes)
    freeze_loop(model)
    nb13._train(model, X, y, steps=100, lr=1e-2, batch_size=32, seed=0)
    for p in model.parameters():
        p.requires_grad_(True)
    return nb13._train(model, X, y, steps=150, lr=1e-3, batch_size=32, seed=1)


def fine_tune_from_scratch(model, X, y, num_classes):
    """Not fine-tuning: a new network trained on the few images."""
    from cnnlib.pytorch.models import LeNet5

    torch.manual_seed(0)
    return nb13._train(LeNet5(num_classes, 3), X, y, steps=150, lr=1e-3, batch_size=32, seed=0)


def fine_tune_untrained(model, X, y, num_classes):
    """A new head, and no training at all."""
    return replace_head_walk(model, num_classes)


def fine_tune_everything_frozen(model, X, y, num_classes):
    """The head frozen along with the backbone: the optimiser has nothing to change."""
    replace_head_walk(model, num_classes)
    freeze_all(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    for _ in range(50):
        loss = torch.nn.functional.cross_entropy(model(X[:32]), y[:32])
        optimizer.zero_grad()
        if loss.requires_grad:
            loss.backward()
        optimizer.step()
    return model


@pytest.mark.slow
@pytest.mark.parametrize("answer", [fine_tune_full, fine_tune_two_phase])
def test_fine_tune_passes(answer):
    assert_passes(nb13.fine_tune_beats_scratch, answer)
    assert_passes(nb13.fine_tune_random, answer, seed=3)


@pytest.mark.slow
@pytest.mark.parametrize(
    "answer, phrase",
    [
        (fine_tune_from_scratch, "trained from scratch on the same"),
        (fine_tune_untrained, "chance level"),
        (fine_tune_everything_frozen, "chance level"),
        (lambda model, X, y, k: model, "should be (2, 4)"),
    ],
    ids=["from-scratch", "untrained", "everything-frozen", "old-head"],
)
def test_fine_tune_mistakes(answer, phrase):
    assert_fails(nb13.fine_tune_beats_scratch, answer, phrase)


@pytest.mark.slow  # generates the 15,000 images of the shapes data set into an empty cache
def test_fine_tune_needs_no_download(monkeypatch, tmp_path):
    """The check's data is generated: with no network, no CNNLIB_DATA and an empty cache it is there."""
    from cnnlib.data import cache

    monkeypatch.setenv("CNNLIB_OFFLINE", "1")
    monkeypatch.delenv("CNNLIB_DATA", raising=False)
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path))
    monkeypatch.setattr(cache, "_fetch", lambda url, part: pytest.fail(f"the check tried to download {url}"))
    nb13._shapes_tasks.cache_clear()
    try:
        nb13.prepare()
        x, y, x_test, y_test = nb13.few_shot(per_class=5, seed=0)
    finally:
        nb13._shapes_tasks.cache_clear()  # later tests use the usual cache
    assert x.shape == (20, 3, 32, 32) and x.dtype == np.float32 and np.bincount(y).tolist() == [5, 5, 5, 5]
    assert len(x_test) == len(y_test) == 2000 and set(y_test) == {0, 1, 2, 3}
    assert any((tmp_path / "shapes").iterdir())  # prepare() generated the data set into the cache
