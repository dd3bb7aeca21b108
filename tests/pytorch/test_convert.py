"""Copying weights between NumPy dicts and PyTorch modules, both ways, with errors that say what differs."""

import numpy as np
import pytest
import torch

from cnnlib.pytorch.convert import describe_mismatch, load_numpy_weights, torch_to_numpy
from cnnlib.pytorch.models import LeNet5, get_model


def test_round_trip_through_numpy_copies_every_parameter():
    source, target = LeNet5(), LeNet5()
    params = torch_to_numpy(source)
    assert list(params) == [name for name, _ in source.named_parameters()]
    assert all(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in params.values())
    assert load_numpy_weights(target, params) is target
    for (name, a), b in zip(source.state_dict().items(), target.state_dict().values()):
        assert torch.equal(a, b), name
    x = torch.randn(3, 1, 32, 32)
    assert torch.equal(source(x), target(x))


def test_numpy_arrays_are_copies_not_views():
    model = LeNet5()
    params = torch_to_numpy(model)
    params["0.bias"][:] = 123.0
    assert not (model[0].bias == 123.0).any()


def test_float64_model_receives_float64_weights():
    model = LeNet5().double()
    params = {k: np.random.default_rng(0).standard_normal(v.shape) for k, v in torch_to_numpy(model).items()}
    load_numpy_weights(model, params)
    assert model[11].weight.dtype == torch.float64
    np.testing.assert_array_equal(model[11].weight.detach().numpy(), params["11.weight"])


def test_batch_norm_buffers_travel_when_asked():
    model = get_model("resnet20")
    with torch.no_grad():
        model.stem[1].running_mean.uniform_()
    params = torch_to_numpy(model, include_buffers=True)
    assert "stem.1.running_mean" in params and "stem.1.num_batches_tracked" not in params
    assert "stem.1.running_mean" not in torch_to_numpy(model)
    target = load_numpy_weights(get_model("resnet20"), params)
    assert torch.equal(target.stem[1].running_mean, model.stem[1].running_mean)
    load_numpy_weights(get_model("resnet20"), torch_to_numpy(model))  # buffers may be left out


def test_missing_unexpected_and_misshapen_keys_are_all_named():
    params = torch_to_numpy(LeNet5())
    del params["0.bias"]
    params["12.weight"] = np.zeros((3, 3))
    params["11.weight"] = np.zeros((5, 84))
    with pytest.raises(ValueError) as info:
        load_numpy_weights(LeNet5(), params)
    message = str(info.value)
    assert message.startswith("the NumPy weights do not fit LeNet5:")
    assert "missing keys ['0.bias']" in message
    assert "unexpected keys ['12.weight']" in message
    assert "11.weight: expected (10, 84), got (5, 84)" in message


def test_weights_of_another_architecture_are_refused_before_anything_is_copied():
    model = LeNet5()
    before = torch_to_numpy(model)
    with pytest.raises(ValueError, match="missing keys"):
        load_numpy_weights(model, torch_to_numpy(get_model("resnet20")))
    for name, array in torch_to_numpy(model).items():
        np.testing.assert_array_equal(array, before[name])


def test_describe_mismatch_is_none_when_everything_agrees():
    assert describe_mismatch({"a": (2, 3)}, {"a": (2, 3)}) is None
    assert describe_mismatch({"a": (2,), "b": (1,)}, {"a": (2,)}, ignore_missing={"b"}) is None
