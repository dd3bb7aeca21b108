"""The machinery every diagnostic check uses: the ``@check`` decorator, calling student code,
comparing outputs and naming the mistake.

A *check* is one unit of credit: a function decorated with ``@check(points=...)`` that receives the
student's objects (functions, classes, values) and either returns (passed) or raises
:class:`CheckFailed` with a message that says what is wrong. A notebook's test cell calls a few
checks::

    \"\"\"cross_correlate1d: output length and values on small examples.\"\"\"
    from cnnlib.checks import nb01
    nb01.cross_correlate1d_examples(cross_correlate1d)

The same check code runs in two places:

* in the student's kernel (the notebook, plain ``nbgrader autograde``): the student's objects are
  the real ones, a passed check prints one line and a failed one raises ``AssertionError`` with
  its message;
* in the autograder's trusted process: the student's objects are *remote* proxies whose calls run
  in a sandboxed worker and come back as plain data; a collecting reporter records each check's
  result and points instead of raising, so that a cell earns the points of the checks it passes.

Check code never touches the student's objects directly: it goes through :func:`call` (call a
student function), :func:`call_expecting_error` and :func:`probe` (ask a question of a student's
object where it lives, e.g. a module's parameter count). Those three work the same on local and
remote objects.
"""

from __future__ import annotations

import contextvars
import functools
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from cnnlib.data.errors import CorruptFileError, DatasetNotFoundError

from .forbid import Forbid, watch

__all__ = [
    "CheckFailed",
    "CheckResult",
    "CheckSetupError",
    "Construct",
    "Missing",
    "Mistake",
    "NotebookReporter",
    "CollectingReporter",
    "as_array",
    "as_int",
    "call",
    "call_expecting_error",
    "check",
    "collecting",
    "describe",
    "expect_close",
    "expect_equal",
    "expect_shape",
    "fail",
    "fmt_array",
    "is_hidden",
    "pair",
    "probe",
]


# --------------------------------------------------------------------------------------------
# Results and reporters
# --------------------------------------------------------------------------------------------


class CheckFailed(AssertionError):
    """A check's verdict that the student's answer is wrong; the message says what is wrong."""


class NotWrittenYet(CheckFailed):
    """The student's function still raises ``NotImplementedError`` (an unanswered exercise)."""


class CheckSetupError(RuntimeError):
    """The check itself cannot run on this machine (a data set it needs is missing or damaged).

    Not a verdict on the answer: it is raised out of the check instead of being recorded as a
    failure, so that a grader stops and says what to install rather than giving 0 points.
    """


@dataclass
class CheckResult:
    """The outcome of one check call."""

    name: str  # the check function's name, e.g. "cross_correlate1d_examples"
    title: str  # first line of its docstring
    points: float
    passed: bool
    message: str = ""  # empty when passed
    hidden: bool = False
    not_written: bool = False  # failed because the exercise is not answered yet

    @property
    def earned(self) -> float:
        return self.points if self.passed else 0.0


class NotebookReporter:
    """In a notebook: print a line for a pass, raise ``AssertionError`` for a failure."""

    def record(self, result: CheckResult) -> None:
        __tracebackhide__ = True  # noqa: F841 - IPython leaves this frame out of tracebacks
        if result.passed:
            pts = "point" if result.points == 1 else "points"
            print(f"\u2714 {result.title} [{result.points:g} {pts}]")
        elif result.not_written:  # an unanswered exercise reads as such, not as a wrong answer
            raise NotImplementedError(f"{result.title}\n{result.message}")
        else:
            raise CheckFailed(f"{result.title}\n{result.message}")


class CollectingReporter:
    """In the autograder: keep every result, never raise."""

    def __init__(self):
        self.results: list[CheckResult] = []

    def record(self, result: CheckResult) -> None:
        self.results.append(result)


_reporter: contextvars.ContextVar = contextvars.ContextVar("cnnlib_check_reporter", default=None)
_hidden: contextvars.ContextVar = contextvars.ContextVar("cnnlib_check_hidden", default=False)


class collecting:
    """``with collecting() as reporter:`` run checks and keep their results in ``reporter.results``."""

    def __enter__(self) -> CollectingReporter:
        self.reporter = CollectingReporter()
        self._token = _reporter.set(self.reporter)
        return self.reporter

    def __exit__(self, *exc):
        _reporter.reset(self._token)
        return False


def is_hidden() -> bool:
    """True inside a hidden check: messages must not show its inputs or expected values."""
    return _hidden.get()


def check(points: float, *, hidden: bool = False):
    """Make a function a check worth ``points``.

    The decorated function takes the student's objects (and any options such as ``seed``),
    returns on success and raises :class:`CheckFailed` on failure. Its docstring's first line is
    the title a student sees. ``hidden=True`` marks a check that belongs in a
    ``### BEGIN HIDDEN TESTS`` section: its messages say what is wrong without showing its inputs.
    """

    def decorate(fn: Callable) -> Callable:
        title = (fn.__doc__ or fn.__name__).strip().splitlines()[0]

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            __tracebackhide__ = True  # noqa: F841 - students see their test cell, not this frame
            token = _hidden.set(hidden)
            try:
                fn(*args, **kwargs)
                result = CheckResult(fn.__name__, title, points, True, "", hidden)
            except CheckFailed as exc:
                result = CheckResult(fn.__name__, title, points, False, str(exc), hidden, isinstance(exc, NotWrittenYet))
            except (DatasetNotFoundError, CorruptFileError) as exc:  # the machine's problem, not the answer's
                raise CheckSetupError(f"the check {fn.__name__} needs a data set that this machine does not have in usable form: {exc}") from exc
            except Exception as exc:  # the check could not make sense of the answer
                detail = "" if hidden else f" ({type(exc).__name__}: {exc})"
                result = CheckResult(
                    fn.__name__,
                    title,
                    points,
                    False,
                    f"the check could not use your answer{detail}; make sure it returns what the exercise asks for",
                    hidden,
                )
            finally:
                _hidden.reset(token)
            (_reporter.get() or NotebookReporter()).record(result)
            # returns None, so that a test cell ending with a check displays only the check's line

        wrapper.is_check = True
        wrapper.points = points
        wrapper.hidden = hidden
        wrapper.title = title
        return wrapper

    return decorate


def fail(message: str, detail: str | None = None) -> None:
    """Raise :class:`CheckFailed`; ``detail`` (values, inputs) is dropped in hidden checks."""
    if detail and not is_hidden():
        message = f"{message}\n{detail}"
    raise CheckFailed(message)


# --------------------------------------------------------------------------------------------
# Calling student code: local or remote
# --------------------------------------------------------------------------------------------


class Missing:
    """Stands for a name the student's notebook does not define (the autograder passes it)."""

    def __init__(self, name: str, reason: str = ""):
        self.__name__ = name
        self.reason = reason

    def __repr__(self):
        return f"<{self.__name__}: not defined>"


@dataclass(frozen=True)
class Construct:
    """An argument built where the student's code runs: ``Construct("module:attr", *args)``.

    Used to hand a student function something that is not plain data (a scalar function for
    ``numerical_gradient``, a pretrained model for ``replace_head``): the object is made by calling
    the importable ``module:attr`` with ``args``/``kwargs`` (which must be plain data).
    """

    target: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def __init__(self, target: str, *args, **kwargs):
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "kwargs", kwargs)

    def build(self):
        import importlib

        module_name, _, attr = self.target.partition(":")
        obj = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj(*self.args, **self.kwargs)


class StudentError(Exception):
    """Student code raised (or the process running it died); carries a readable description."""

    def __init__(self, type_name: str, message: str, mro: tuple[str, ...] = (), where: str = ""):
        super().__init__(message)
        self.type_name = type_name
        self.message = message
        self.mro = mro or (type_name,)
        self.where = where  # the student's own line(s) from the traceback

    def describe(self) -> str:
        text = f"{self.type_name}: {self.message}" if self.message else self.type_name
        if self.where:
            text += f"\n{self.where}"
        return text


def _is_remote(obj) -> bool:
    return hasattr(type(obj), "_remote_call")


def _student_frames(tb) -> str:
    """The last traceback lines that belong to the student's code (cells), not to libraries."""
    frames = [f for f in traceback.extract_tb(tb) if f.filename.startswith("<") or "ipykernel" in f.filename]
    frames = frames[-2:]
    return "".join(f"  line {f.lineno}: {(f.line or '').strip()}\n" for f in frames).rstrip()


def _copy_args(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_args(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy_args(v) for k, v in value.items()}
    try:
        import torch

        if isinstance(value, torch.Tensor):
            return value.detach().clone()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return value


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    try:
        import torch

        if isinstance(a, torch.Tensor):
            return isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    except ImportError:  # pragma: no cover
        pass
    return True


def _mutated_arguments(before, after) -> list[int]:
    return [i for i, (a, b) in enumerate(zip(before, after)) if not _same(a, b)]


def run_student(fn, args: tuple, kwargs: dict, forbid: Forbid | None):
    """Call ``fn`` here, under the forbidden-call watcher; returns ``(value, report)``.

    ``report`` says what went wrong beside the value: ``{"error": StudentError | None,
    "violation": str | None, "mutated": [argument positions]}``. The autograder's worker uses
    this too, so local and remote calls report alike.
    """
    args = tuple(a.build() if isinstance(a, Construct) else a for a in args)
    kwargs = {k: v.build() if isinstance(v, Construct) else v for k, v in kwargs.items()}
    before = _copy_args(args)
    report = {"error": None, "violation": None, "mutated": []}
    value = None
    with watch(forbid) as violations:
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:  # the student's exception, described for the check
            report["error"] = StudentError(
                type(exc).__name__,
                str(exc),
                tuple(c.__name__ for c in type(exc).__mro__),
                _student_frames(exc.__traceback__),
            )
    if violations:
        report["violation"] = violations[0].message(getattr(fn, "__name__", "your function"))
    report["mutated"] = _mutated_arguments(before, args)
    return value, report


def _name_of(fn) -> str:
    return getattr(fn, "__name__", None) or "your function"


def _invoke(fn, args, kwargs, forbid, time_limit=None):
    if isinstance(fn, Missing):
        reason = f" ({fn.reason})" if fn.reason else ""
        raise CheckFailed(
            f"{fn.__name__} is not defined{reason}: run the cell where you write it, and keep its name as the exercise gives it"
        )
    if _is_remote(fn):
        return fn._remote_call(args, kwargs, forbid, time_limit)
    if not callable(fn):
        raise CheckFailed(f"{_name_of(fn)} should be a function, but it is a {type(fn).__name__}")
    return run_student(fn, args, kwargs, forbid)


def _raise_for_report(name: str, report: dict, *, allow_error: bool = False) -> None:
    if report.get("violation"):
        raise CheckFailed(report["violation"])
    error = report.get("error")
    if error is not None and not allow_error:
        if error.type_name == "NotImplementedError":
            raise NotWrittenYet(f"{name} is not written yet: it still raises NotImplementedError")
        if error.type_name in ("TimeoutError_", "ProcessDied_"):
            raise CheckFailed(f"{name}: {error.message}")
        raise CheckFailed(f"{name} raised {error.describe()}")
    if report.get("mutated"):
        positions = ", ".join(str(i + 1) for i in report["mutated"])
        raise CheckFailed(
            f"{name} changed its input (argument {positions}) in place; work on a copy and leave the caller's arrays as they were"
        )


def call(fn, *args, forbid: Forbid | None = None, time_limit: float | None = None, **kwargs):
    """Call a student function and return its result; any problem becomes :class:`CheckFailed`.

    ``forbid`` names library implementations the function may not use. The arguments are copied
    first and compared afterwards, so an answer that modifies its input is caught. ``time_limit``
    (seconds) applies when the autograder runs the call in its sandbox (default 30 s there).
    """
    value, report = _invoke(fn, args, kwargs, forbid, time_limit)
    _raise_for_report(_name_of(fn), report)
    return value


def call_expecting_error(
    fn, *args, error: type = ValueError, forbid: Forbid | None = None, time_limit: float | None = None, **kwargs
) -> str:
    """Call a student function that should raise ``error``; return the exception's message."""
    name = _name_of(fn)
    value, report = _invoke(fn, args, kwargs, forbid, time_limit)
    _raise_for_report(name, report, allow_error=True)
    exc = report.get("error")
    if exc is None:
        fail(f"{name} should raise {error.__name__} here, but it returned {describe(value)}")
    if exc.type_name == "NotImplementedError":
        raise NotWrittenYet(f"{name} is not written yet: it still raises NotImplementedError")
    if error.__name__ not in exc.mro:
        raise CheckFailed(f"{name} should raise {error.__name__} here, but it raised {exc.describe()}")
    return exc.message


def probe(obj, name: str, *args, forbid: Forbid | None = None, time_limit: float | None = None):
    """Ask ``cnnlib.checks.probes.<name>(obj, *args)`` where ``obj`` lives; returns plain data."""
    from . import probes

    if isinstance(obj, Missing):
        _invoke(obj, (), {}, None)
    if _is_remote(obj):
        value, report = obj._remote_probe(name, args, forbid, time_limit)
    else:
        value, report = run_student(getattr(probes, name), (obj,) + tuple(args), {}, forbid)
        report["mutated"] = []  # a probe may load weights into the module on purpose
    _raise_for_report(getattr(obj, "__name__", None) or type(obj).__name__, report)
    return value


# --------------------------------------------------------------------------------------------
# Reading and comparing answers
# --------------------------------------------------------------------------------------------


def fmt_array(a) -> str:
    """An array as a short literal for messages: ``[1., 0., -1.]``."""
    return np.array2string(np.asarray(a), precision=3, separator=", ")


def pair(value) -> tuple:
    """An int or a pair as a pair: ``3 -> (3, 3)``."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def describe(value, limit: int = 6) -> str:
    """A short, readable description of any value, for messages."""
    if isinstance(value, np.ndarray):
        if value.size <= limit:
            return f"array {np.array2string(value, precision=4, separator=', ')} (shape {value.shape}, {value.dtype})"
        return f"an array of shape {value.shape} ({value.dtype})"
    if value is None:
        return "None"
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
        return repr(value.item() if hasattr(value, "item") else value)
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def as_array(value, name: str, *, ndim: int | None = None, dtype=np.float64) -> np.ndarray:
    """The student's output as a plain NumPy array, or a failure that says what came back."""
    try:
        import torch

        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    if not isinstance(value, np.ndarray):
        if isinstance(value, (int, float, np.number)) and ndim in (None, 0):
            value = np.asarray(value)
        elif isinstance(value, (list, tuple)):
            fail(f"{name} returned a {type(value).__name__}; return a NumPy array (np.array(...) turns a list into one)")
        else:
            fail(f"{name} returned {describe(value)}; it should return a NumPy array")
    array = np.array(value, copy=True, subok=False)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        fail(f"{name} returned an array of dtype {array.dtype}; it should hold numbers")
    if ndim is not None and array.ndim != ndim:
        fail(f"{name} returned an array with {array.ndim} dimensions (shape {array.shape}); it should have {ndim}")
    return array.astype(dtype, copy=False) if dtype is not None else array


def as_int(value, name: str) -> int:
    """The student's answer as a Python int (accepts NumPy integers and integral floats)."""
    if isinstance(value, bool) or value is None:
        fail(f"{name} is {describe(value)}; it should be a whole number")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    fail(f"{name} is {describe(value)}; it should be a whole number (an int)")


def expect_shape(out: np.ndarray, expected: tuple, name: str, why: str = "") -> None:
    """Fail unless ``out.shape == expected``; ``why`` explains where the expected shape comes from."""
    expected = tuple(int(e) for e in expected)
    if tuple(out.shape) != expected:
        msg = f"{name} has shape {tuple(out.shape)}; it should be {expected}"
        if why and not is_hidden():
            msg += f" ({why})"
        raise CheckFailed(msg)


def expect_equal(value, expected, name: str, why: str = "") -> None:
    """Fail unless ``value == expected`` for plain numbers, tuples and strings."""
    if value != expected:
        msg = f"{name} is {value!r}; it should be {expected!r}"
        if why and not is_hidden():
            msg += f" ({why})"
        raise CheckFailed(msg)


@dataclass
class Mistake:
    """A common wrong answer: what it outputs on the check's input and what to tell the student."""

    output: Any  # ndarray (or number) that this mistake produces on the same input
    explanation: str


def _matches(out: np.ndarray, candidate, rtol: float, atol: float) -> bool:
    candidate = np.asarray(candidate, dtype=np.float64)
    return candidate.shape == out.shape and bool(np.allclose(out, candidate, rtol=rtol, atol=atol))


def expect_close(
    out,
    expected,
    name: str,
    *,
    mistakes: list[Mistake] | tuple[Mistake, ...] = (),
    rtol: float = 1e-6,
    atol: float = 1e-8,
    why: str = "",
    inputs: str = "",
) -> None:
    """Fail unless ``out`` matches ``expected`` in shape and values; name a recognised mistake.

    ``mistakes`` lists the outputs of common wrong answers on the same input: when the student's
    output equals one of them, the message is that mistake's explanation. Otherwise the message
    gives the shapes, or the first differing position with both values (visible checks only).
    ``inputs`` describes the inputs for visible messages ("x = [1, 2, 3], w = [1, 0]").
    """
    out = as_array(out, name)
    expected = np.asarray(expected, dtype=np.float64)
    for mistake in mistakes:
        if mistake.output is not None and _matches(out, mistake.output, rtol, atol) and not _matches(
            out, expected, rtol, atol
        ):
            detail = f"On {inputs}: you returned {describe(out)}." if inputs else None
            fail(f"{name}: {mistake.explanation}", detail)
    if out.shape != expected.shape:
        msg = f"{name} has shape {out.shape}; it should be {expected.shape}"
        if why and not is_hidden():
            msg += f" ({why})"
        detail = f"On {inputs}." if inputs else None
        fail(msg, detail)
    if not np.all(np.isfinite(out)):
        fail(f"{name} contains NaN or infinity", f"On {inputs}." if inputs else None)
    close = np.isclose(out, expected, rtol=rtol, atol=atol)
    if not close.all():
        bad = tuple(int(i) for i in np.argwhere(~close)[0])
        err = float(np.max(np.abs(out - expected)))
        msg = f"{name} has the right shape {out.shape} but wrong values at {int((~close).sum())} of {out.size} positions"
        detail = f"First at index {bad}: you have {out[bad]:.6g}, expected {expected[bad]:.6g} (largest error {err:.3g})."
        if inputs:
            detail = f"On {inputs}: " + detail
        fail(msg, detail)
