"""The wire format between the trusted grader and the sandboxed worker: plain data only.

Everything that crosses from the student's process to the grader is decoded into built-in types
and plain ``numpy.ndarray`` (numeric or bool dtypes, read with ``allow_pickle=False``), so no
object the student made (an array subclass that lies, an object whose ``__eq__`` is always true)
ever reaches the code that decides points. Objects that are not data (functions, classes,
``nn.Module`` instances) stay in the worker and travel as numbered handles.

A message is a frame: an 8-byte header (JSON length, blob count) followed by the JSON text and
the blobs, each with its own 8-byte length. Arrays go as ``.npy`` blobs.
"""

from __future__ import annotations

import io
import json
import math
import socket
import struct

import numpy as np

from cnnlib.checks.core import Construct, Missing

__all__ = ["Handle", "encode", "decode", "send", "recv", "FrameTooLarge"]

MAX_FRAME_BYTES = 512 * 1024 * 1024  # a worker cannot make the grader allocate more than this
MAX_DEPTH = 32
_HEADER = struct.Struct("!II")
_LENGTH = struct.Struct("!Q")


class FrameTooLarge(Exception):
    """A peer sent more data than a frame may carry."""


class Handle:
    """Reference to an object that lives in the worker (decoded on the grader side)."""

    def __init__(self, handle_id: int, type_name: str, is_callable: bool, name: str | None = None):
        self.handle_id = handle_id
        self.type_name = type_name
        self.is_callable = is_callable
        self.name = name


def _plain_array(value) -> np.ndarray:
    array = np.array(value, copy=True, subok=False)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"array of dtype {array.dtype}")
    return array


def encode(value, blobs: list, *, make_handle=None, depth: int = 0):
    """Turn ``value`` into JSON-able data, appending arrays to ``blobs``.

    ``make_handle(obj) -> dict`` is called for objects that are not data (worker side); when it is
    None such objects are an error (grader side sends only data, handles and Construct).
    """
    if depth > MAX_DEPTH:
        raise ValueError("value is nested too deeply")
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, Handle):
        return {"__handle__": value.handle_id}
    if isinstance(value, Construct):
        return {
            "__construct__": value.target,
            "args": encode(list(value.args), blobs, make_handle=make_handle, depth=depth + 1),
            "kwargs": encode(dict(value.kwargs), blobs, make_handle=make_handle, depth=depth + 1),
        }
    if isinstance(value, Missing):
        return {"__missing__": value.__name__}
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        try:
            array = _plain_array(value)
        except TypeError:
            if make_handle is None:
                raise
            return make_handle(value)
        blobs.append(array)
        return {"__array__": len(blobs) - 1, "scalar": isinstance(value, np.generic)}
    torch = _torch_if_loaded()
    if torch is not None and isinstance(value, torch.Tensor):
        array = value.detach().cpu()
        if array.dtype == torch.bfloat16:
            array = array.float()
        blobs.append(_plain_array(array.numpy()))
        return {"__tensor__": len(blobs) - 1, "requires_grad": bool(value.requires_grad)}
    # Subclasses of the built-in types are reduced to the base type: their methods never run here.
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int.__index__(value) if kind is not int else value
    if isinstance(value, float):
        return encode(float.__float__(value), blobs, depth=depth + 1)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, tuple) and hasattr(type(value), "_fields") and make_handle is not None:
        return make_handle(value)  # a NamedTuple (a layer's cache): its attribute names matter
    if isinstance(value, (list, tuple)):
        items = [encode(v, blobs, make_handle=make_handle, depth=depth + 1) for v in list.__iter__(list(value))]
        return {"__tuple__": items} if isinstance(value, tuple) else {"__list__": items}
    if isinstance(value, dict):
        pairs = []
        for key, item in dict.items(value):
            if type(key) not in (str, int):
                if make_handle is None:
                    raise TypeError(f"dict key of type {type(key).__name__}")
                return make_handle(value)
            pairs.append([key, encode(item, blobs, make_handle=make_handle, depth=depth + 1)])
        return {"__dict__": pairs}
    if make_handle is None:
        raise TypeError(f"cannot send a {kind.__name__} to the worker")
    return make_handle(value)


def _torch_if_loaded():
    import sys

    return sys.modules.get("torch")


def decode(data, blobs: list, *, resolve_handle=None):
    """Inverse of :func:`encode`. ``resolve_handle(id)`` maps handle ids (worker side)."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        raise ValueError("bare list in frame")
    if not isinstance(data, dict) or len(data) == 0:
        raise ValueError("malformed frame")
    if "__float__" in data:
        return float(data["__float__"])
    if "__array__" in data:
        array = blobs[data["__array__"]]
        return array[()] if data.get("scalar") else array
    if "__tensor__" in data:
        import torch

        tensor = torch.from_numpy(blobs[data["__tensor__"]].copy())
        return tensor
    if "__tuple__" in data:
        return tuple(decode(v, blobs, resolve_handle=resolve_handle) for v in data["__tuple__"])
    if "__list__" in data:
        return [decode(v, blobs, resolve_handle=resolve_handle) for v in data["__list__"]]
    if "__dict__" in data:
        return {k: decode(v, blobs, resolve_handle=resolve_handle) for k, v in data["__dict__"]}
    if "__handle__" in data:
        if resolve_handle is None:
            return Handle(int(data["__handle__"]), str(data.get("type", "object")), bool(data.get("callable")), data.get("name"))
        return resolve_handle(int(data["__handle__"]))
    if "__construct__" in data:
        args = decode(data["args"], blobs, resolve_handle=resolve_handle)
        kwargs = decode(data["kwargs"], blobs, resolve_handle=resolve_handle)
        return Construct(str(data["__construct__"]), *args, **kwargs)
    if "__missing__" in data:
        return Missing(str(data["__missing__"]))
    raise ValueError(f"unknown tag in frame: {sorted(data)[:3]}")


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _read_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            raise EOFError("peer closed the connection")
        chunks.extend(chunk)
    return bytes(chunks)


def send(sock: socket.socket, message: dict, blobs: list = ()) -> None:
    """Send one frame: ``message`` (JSON-able, from :func:`encode`) plus its array blobs."""
    text = json.dumps(message, allow_nan=False).encode()
    payloads = [_npy_bytes(b) for b in blobs]
    parts = [_HEADER.pack(len(text), len(payloads)), text]
    for payload in payloads:
        parts.append(_LENGTH.pack(len(payload)))
        parts.append(payload)
    sock.sendall(b"".join(parts))


def recv(sock: socket.socket) -> tuple[dict, list]:
    """Receive one frame; arrays are loaded with ``allow_pickle=False`` and checked for dtype."""
    text_len, n_blobs = _HEADER.unpack(_read_exact(sock, _HEADER.size))
    if text_len > MAX_FRAME_BYTES or n_blobs > 1_000_000:
        raise FrameTooLarge(f"frame of {text_len} bytes and {n_blobs} arrays")
    message = json.loads(_read_exact(sock, text_len))
    blobs, total = [], text_len
    for _ in range(n_blobs):
        (size,) = _LENGTH.unpack(_read_exact(sock, _LENGTH.size))
        total += size
        if total > MAX_FRAME_BYTES:
            raise FrameTooLarge(f"frame larger than {MAX_FRAME_BYTES} bytes")
        array = np.load(io.BytesIO(_read_exact(sock, size)), allow_pickle=False)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise ValueError(f"array of dtype {array.dtype} in frame")
        blobs.append(array)
    return message, blobs
