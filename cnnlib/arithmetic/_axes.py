"""Apply a one-axis size rule to an int or to a pair of ints ``(height, width)``.

Every size function in :mod:`cnnlib.arithmetic` takes ints or pairs, as PyTorch does. The rule is
written once for one axis; :func:`per_axis` validates the arguments, runs the rule on each axis and
returns an int when every argument was an int, else a pair.
"""

from __future__ import annotations

from collections.abc import Callable

from cnnlib._validate import as_pair

AXIS_NAMES = ("height", "width")


def is_pair(value) -> bool:
    """Whether ``value`` was given as a pair (a tuple or list) rather than a single int."""
    return isinstance(value, (tuple, list))


def per_axis(rule: Callable[..., int], **arguments: tuple[object, int]) -> int | tuple[int, int]:
    """Run ``rule`` on each axis.

    Parameters
    ----------
    rule : callable
        ``rule(**{name: int})`` for one axis; raises ``ValueError`` for an impossible configuration.
    **arguments : (value, minimum)
        Each argument's value (an int or a pair of ints) and its smallest allowed value.

    Returns
    -------
    int or (int, int)
        An int when every value is an int, else ``(height, width)``.
    """
    pairs = {name: as_pair(value, name, minimum=minimum) for name, (value, minimum) in arguments.items()}
    if not any(is_pair(value) for value, _ in arguments.values()):
        return rule(**{name: pair[0] for name, pair in pairs.items()})
    sizes = []
    for axis, axis_name in enumerate(AXIS_NAMES):
        try:
            sizes.append(rule(**{name: pair[axis] for name, pair in pairs.items()}))
        except ValueError as error:
            raise ValueError(f"along the {axis_name} axis: {error}") from None
    return sizes[0], sizes[1]
