"""Notebook 04's counting questions, with numbers drawn per student.

A convolution layer (its parameters, which the input size, stride and padding do not change, and its
multiply-accumulates, which they do), a fully connected layer on a flattened volume, and a stack of
small kernels against the one large kernel with the same receptive field. Kernels are at least
3 × 3 and inputs have several channels, so that a kernel counted as one-dimensional or a missing
input depth gives another number.
"""

from __future__ import annotations

from .questions import Question, QuestionSet, a, number_word


def _draw_layer(rng):
    k = int(rng.choice([3, 5, 7]))
    return dict(
        n=int(rng.integers(16, 129)),
        channels=int(rng.choice([3, 8, 16, 32, 64])),
        filters=int(rng.choice([8, 16, 24, 32, 48, 64, 96, 128])),
        k=k,
        stride=int(rng.choice([1, 2])),
        padding=int(rng.integers(0, k // 2 + 1)),
    )


def _layer_text(q):
    return (
        f"a convolution layer has {q.filters} filters of {q.k} × {q.k}, stride {q.stride} and padding {q.padding}, and its "
        f"input is {a(q.n)} {q.n} × {q.n} × {q.channels} volume (height × width × channels). Give `answer_layer_params`, its number of "
        "parameters (with the biases), and `answer_layer_macs`, the multiply-accumulates of one forward pass on one input "
        "(biases not counted)."
    )


def _draw_fc(rng):
    return dict(n=int(rng.choice([4, 5, 6, 7, 8, 10, 12, 14, 16])), channels=int(rng.choice([16, 32, 64, 128, 256])),
                units=int(rng.choice([10, 16, 32, 64, 100, 128, 256, 512])))


def _fc_text(q):
    return (
        f"a fully connected layer takes {a(q.n)} {q.n} × {q.n} × {q.channels} volume, flattened, and has {q.units} output units. "
        "How many parameters does it have (with the biases)?"
    )


def _draw_stack(rng):
    layers, k = [(2, 3), (3, 3), (4, 3), (2, 5), (3, 5)][int(rng.integers(0, 5))]
    return dict(layers=layers, k=k, channels=int(rng.choice([16, 24, 32, 48, 64, 96, 128, 192, 256])))


def _stack_text(q):
    big = q.layers * (q.k - 1) + 1
    return (
        f"with {q.channels} channels in and out, and no biases: how many weights do {number_word(q.layers)} stacked "
        f"{q.k} × {q.k} convolutions have, and how many does the one {big} × {big} convolution with the same receptive "
        "field have? Give the pair (the stack, the single layer)."
    )


QUESTIONS = QuestionSet(
    "04",
    [
        Question("answer_layer", dict(n=64, channels=3, filters=16, k=3, stride=2, padding=1), _draw_layer, _layer_text,
                 answers=("answer_layer_params", "answer_layer_macs")),
        Question("answer_fc_params", dict(n=8, channels=64, units=10), _draw_fc, _fc_text),
        Question("answer_stack_params", dict(layers=3, k=3, channels=32), _draw_stack, _stack_text),
    ],
)
