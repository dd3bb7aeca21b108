"""A checks module for the tests only: its check needs CIFAR-10, as a future notebook's check that
trains on a real data set might. No course notebook needs one today (notebook 13's checks use the
generated shapes data set), so the tests install this one as ``cnnlib.checks.nb99`` to keep the
grader's handling of a missing data set tested.
"""

from __future__ import annotations

from cnnlib.checks import check
from cnnlib.checks.core import CheckSetupError
from cnnlib.data import CorruptFileError, DatasetNotFoundError

NAME = "cnnlib.checks.nb99"
FORBIDDEN_IMPORTS = ()


def prepare() -> None:
    """As a checks module that needs a data set does it: load it once, or say what is missing."""
    from cnnlib.data import load_cifar10

    try:
        load_cifar10("test")
    except (DatasetNotFoundError, CorruptFileError) as exc:
        raise CheckSetupError(f"the checks of notebook 99 train on CIFAR-10: {exc}") from exc


@check(points=1)
def answer_on_cifar10(answer):
    """answer: a check that loads CIFAR-10 itself"""
    from cnnlib.data import load_cifar10

    load_cifar10("test")
