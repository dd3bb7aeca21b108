"""Diagnostic checks shared by the notebooks and the autograder.

``cnnlib.checks.core`` holds the machinery (``@check``, ``call``, ``expect_close``, ``Mistake``);
``cnnlib.checks.nb01`` ... ``nb15`` hold each notebook's checks. Import a notebook's module in its
test cells: ``from cnnlib.checks import nb01``.
"""

from .core import (  # noqa: F401
    CheckFailed,
    CheckResult,
    NotWrittenYet,
    Construct,
    Missing,
    Mistake,
    as_array,
    as_int,
    call,
    call_expecting_error,
    check,
    collecting,
    describe,
    expect_close,
    expect_equal,
    expect_shape,
    fail,
    is_hidden,
    probe,
)
from .forbid import NO_CONV_LIBRARIES, NUMPY_ONLY, Forbid  # noqa: F401
