"""Notebook 05's receptive-field questions, with numbers drawn per student.

A plain stack of stride-1 convolutions, a stack of convolutions and poolings with strides (where a
stride below a later layer always changes the field, and the strides never add up to their
product, so ignoring or adding the strides shows), and
the depth a stack needs to see a given window (never an exact fit, so rounding down shows).
"""

from __future__ import annotations

import numpy as np

from .questions import Question, QuestionSet, number_word


def _draw_stack(rng):
    return dict(layers=int(rng.integers(2, 9)), k=int(rng.choice([3, 5, 7])))


def _stack_text(q):
    return (
        f"{number_word(q.layers)} stacked {q.k} × {q.k} convolutions, all with stride 1. How many input pixels wide is the "
        "receptive field of one unit of the last layer?"
    )


def _draw_strided(rng):
    choices = [(3, 1), (5, 1), (2, 2), (3, 2), (3, 1)]
    while True:
        layers = [choices[int(i)] for i in rng.integers(0, len(choices), int(rng.integers(4, 7)))]
        strides = [s for _, s in layers]
        strided = [i for i, s in enumerate(strides) if s > 1]
        product = int(np.prod(strides))
        # strides below later layers (the jump matters), and a jump that adding the strides would miss
        if len(strided) >= 2 and strided[0] < len(layers) - 2 and product != sum(strides):
            return dict(layers=tuple(layers))


def _strided_text(q):
    return (
        f"the stack `{list(q.layers)}` of convolutions and poolings, each written (kernel size, stride), first layer "
        "first. Give the pair (the receptive field of one unit of the last layer, the jump: the distance in input pixels "
        "between two neighbouring units of the last layer)."
    )


def _draw_depth(rng):
    while True:
        k, target = int(rng.choice([3, 5])), int(rng.integers(10, 101))
        if (target - 1) % (k - 1):  # no stack fits exactly: the count rounds up
            return dict(k=k, target=target)


def _depth_text(q):
    return (
        f"how many stacked {q.k} × {q.k} convolutions with stride 1 does it take before one unit of the last layer sees "
        f"at least {q.target} × {q.target} input pixels?"
    )


QUESTIONS = QuestionSet(
    "05",
    [
        Question("answer_rf_stack", dict(layers=4, k=3), _draw_stack, _stack_text),
        Question("answer_rf_strided", dict(layers=((5, 1), (2, 2), (3, 1), (3, 2), (3, 1))), _draw_strided, _strided_text),
        Question("answer_rf_depth", dict(k=3, target=32), _draw_depth, _depth_text),
    ],
)
