"""Detect a graded function that delegates to a library's implementation of the same operation.

An exercise such as "write ``cross_correlate2d``" earns nothing when the answer calls
``scipy.signal.correlate2d``, ``np.convolve``, ``torch.conv2d`` or ``cnnlib.reference``. A
:class:`Forbid` names what an exercise may not call; :func:`watch` runs a call under a profiler
(``sys.setprofile``) that records every call into a forbidden module or function.

Two places use it: the checks, when a notebook runs them in the student's own kernel, and the
autograder's sandbox worker, which keeps the profiler on for the whole life of the process that
runs the student's code (and refuses any later ``sys.setprofile``).
"""

from __future__ import annotations

import importlib
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["Forbid", "Violation", "watch", "NUMPY_ONLY", "NO_CONV_LIBRARIES"]


@dataclass(frozen=True)
class Forbid:
    """What a graded function may not call.

    Parameters
    ----------
    modules : tuple of str
        Module prefixes: any call into a function defined in one of them (Python or C) is a
        violation, e.g. ``"torch"``, ``"scipy.signal"``, ``"cnnlib.reference"``.
    functions : tuple of str
        Single functions, ``"numpy.convolve"``; a C function is named by its real module,
        ``"numpy._core._multiarray_umath.correlate"``.
    reason : str
        One sentence for the student: why this is not allowed and what to do instead.
    """

    modules: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    reason: str = ""

    def __or__(self, other: "Forbid") -> "Forbid":
        return Forbid(
            modules=tuple(dict.fromkeys(self.modules + other.modules)),
            functions=tuple(dict.fromkeys(self.functions + other.functions)),
            reason=other.reason or self.reason,  # the rule added on is the more specific one
        )

    def to_json(self) -> dict:
        return {"modules": list(self.modules), "functions": list(self.functions), "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict) -> "Forbid":
        return cls(tuple(data.get("modules", ())), tuple(data.get("functions", ())), data.get("reason", ""))


@dataclass
class Violation:
    """A forbidden call that happened: ``name`` is what was called, as ``module.qualname``."""

    name: str
    forbid: Forbid = field(repr=False)

    def message(self, function_name: str) -> str:
        text = f"{function_name} calls {self.name}, a library implementation of the operation this exercise asks you to write"
        if self.forbid.reason:
            text += f": {self.forbid.reason}"
        return text + "."


def _resolve(dotted: str):
    """``"numpy.convolve"`` -> the object, or None when it does not exist here."""
    module_name, _, attr = dotted.rpartition(".")
    while module_name:
        try:
            obj = importlib.import_module(module_name)
        except ImportError:
            attr = module_name.rpartition(".")[2] + "." + attr
            module_name = module_name.rpartition(".")[0]
            continue
        for part in attr.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj
    return None


class _Matcher:
    """Decides quickly whether a profiler event is a call into something forbidden."""

    def __init__(self, forbid: Forbid):
        self.forbid = forbid
        self.prefixes = tuple(forbid.modules)
        self.codes = {}  # code object -> display name (Python functions)
        self.builtins = {}  # id(C function) -> display name
        for dotted in forbid.functions:
            obj = _resolve(dotted)
            if obj is None:
                continue
            impl = getattr(obj, "_implementation", None) or getattr(obj, "__wrapped__", None) or obj
            code = getattr(impl, "__code__", None)
            if code is not None:
                self.codes[code] = dotted
            else:
                self.builtins[id(obj)] = dotted

    def _in_modules(self, module: str | None) -> bool:
        if not module or not self.prefixes:
            return False
        return any(module == p or module.startswith(p + ".") for p in self.prefixes)

    def match(self, frame, event, arg) -> str | None:
        if event == "call":
            code = frame.f_code
            if code in self.codes:
                return self.codes[code]
            module = frame.f_globals.get("__name__")
            if self._in_modules(module):
                return f"{module}.{code.co_qualname}"
        elif event == "c_call":
            if id(arg) in self.builtins:
                return self.builtins[id(arg)]
            module = getattr(arg, "__module__", None)
            owner = getattr(getattr(arg, "__self__", None), "__name__", None)
            for mod in (module, owner):
                if isinstance(mod, str) and self._in_modules(mod):
                    return f"{mod}.{getattr(arg, '__qualname__', getattr(arg, '__name__', '?'))}"
        return None


class Watcher:
    """A profiler that records forbidden calls while ``active`` holds a matcher.

    The autograder's worker installs one for the life of the process (``install``) and switches
    the matcher per graded call; a notebook uses :func:`watch` around one call.
    """

    def __init__(self):
        self.matcher: _Matcher | None = None
        self.violations: list[Violation] = []
        self._previous = None

    def __call__(self, frame, event, arg):
        matcher = self.matcher
        if matcher is not None and event in ("call", "c_call") and not self.violations:
            name = matcher.match(frame, event, arg)
            if name is not None:
                self.violations.append(Violation(name, matcher.forbid))
        previous = self._previous
        if previous is not None:
            previous(frame, event, arg)

    def install(self):
        self._previous = sys.getprofile()
        sys.setprofile(self)

    def uninstall(self):
        sys.setprofile(self._previous)
        self._previous = None

    @contextmanager
    def active(self, forbid: Forbid | None):
        """Record forbidden calls made inside the block; yields the list of violations."""
        self.matcher = _Matcher(forbid) if forbid else None
        self.violations = []
        try:
            yield self.violations
        finally:
            self.matcher = None


@contextmanager
def watch(forbid: Forbid | None):
    """Run a block under the profiler; yields the (growing) list of :class:`Violation`."""
    if not forbid:
        yield []
        return
    watcher = Watcher()
    watcher.install()
    try:
        with watcher.active(forbid) as violations:
            yield violations
    finally:
        watcher.uninstall()


#: The finished models: the course's own (cnnlib.pytorch) and the model zoos. Switched off where an
#: exercise asks for a block or a network built from torch.nn layers (notebooks 11-13).
MODEL_LIBRARIES = ("cnnlib.pytorch", "torchvision", "timm")

#: For the NumPy exercises (notebooks 01-09): no deep-learning or signal-processing library,
#: and not the course's own reference implementation.
NUMPY_ONLY = Forbid(
    modules=(
        "torch",
        "scipy.signal",
        "scipy.ndimage",
        "skimage",
        "sklearn",
        "cnnlib.reference",
        "cnnlib.pytorch",
        "cnnlib.arithmetic",
    ),
    reason="write it with NumPy (loops, slicing or matrix products)",
)

#: For the convolution exercises: additionally none of NumPy's own convolutions.
NO_CONV_LIBRARIES = NUMPY_ONLY | Forbid(
    functions=(
        "numpy.convolve",
        "numpy.correlate",
        "numpy._core._multiarray_umath.correlate",
        "numpy._core._multiarray_umath.correlate2",
    ),
    reason="write the sums yourself (loops, slicing or a matrix product); np.convolve, np.correlate and scipy do the exercise for you",
)
