"""The wire format: only plain data reaches the grader; what is not data stays a handle."""

from typing import NamedTuple

import numpy as np
import pytest

from autograder import codec


class Cache(NamedTuple):
    x_hat: np.ndarray
    eps: float


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return True


class LyingInt(int):
    def __eq__(self, other):
        return True


def roundtrip(value, handles=None):
    blobs = []
    table = handles if handles is not None else {}

    def make_handle(obj):
        table[len(table) + 1] = obj
        return {"__handle__": len(table), "type": type(obj).__name__, "callable": callable(obj)}

    data = codec.encode(value, blobs, make_handle=make_handle)
    return codec.decode(data, [np.array(b, copy=True) for b in blobs])


def test_plain_data_round_trips():
    value = {"a": [1, 2.5, None, True, "s"], "b": (np.arange(3.0), np.float32(2.0)), 3: float("nan")}
    out = roundtrip(value)
    assert out["a"] == [1, 2.5, None, True, "s"]
    assert isinstance(out["b"], tuple) and np.array_equal(out["b"][0], np.arange(3.0))
    assert out["b"][1].dtype == np.float32 and np.isnan(out[3])


def test_lying_values_become_plain():
    out = roundtrip((np.zeros(3).view(LyingArray), LyingInt(5)))
    assert type(out[0]) is np.ndarray and not (out[0] == np.ones(3)).any()
    assert type(out[1]) is int and out[1] == 5 and out[1] != 6


def test_namedtuple_and_objects_stay_in_the_worker_as_handles():
    handles = {}
    cache = Cache(np.ones(2), 1e-5)
    out = roundtrip((np.zeros(1), cache, object()), handles)
    assert isinstance(out[1], codec.Handle) and handles[out[1].handle_id] is cache
    assert isinstance(out[2], codec.Handle)


def test_object_arrays_are_refused_by_the_grader_side():
    with pytest.raises(TypeError):
        codec.encode(np.array([object()], dtype=object), [])
