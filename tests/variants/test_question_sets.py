"""Every notebook's varied questions: the default numbers are the course's, other numbers are
valid and not degenerate (checked with cnnlib.arithmetic), they vary between students, and the
checks know the answer of every question."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from cnnlib import arithmetic as arith
from cnnlib import variants
from cnnlib.variants import Params, Question, QuestionSet

NOTEBOOKS = ["03", "04", "05", "07"]
SECRET = "a1" * 32
SEEDS = [variants.variant_seed(variants.assignment_key(SECRET, "course"), f"student{i}") for i in range(300)]


def _checks(notebook):
    return importlib.import_module(f"cnnlib.checks.nb{notebook}")


def test_params_are_read_only_and_say_what_they_hold():
    p = Params({"n": np.int64(7), "x": np.arange(4).reshape(2, 2)})
    assert p.n == 7 and type(p.n) is int and p["x"] == ((0, 1), (2, 3))
    with pytest.raises(AttributeError, match="read-only"):
        p.n = 3
    with pytest.raises(AttributeError, match="no number called 'k'; it has n, x"):
        p.k  # noqa: B018
    assert dict(p) == {"n": 7, "x": ((0, 1), (2, 3))}


def test_a_questions_numbers_do_not_depend_on_the_others():
    q = Question("a", {"n": 1}, lambda rng: {"n": int(rng.integers(0, 10**9))}, lambda p: "")
    other = Question("b", {"n": 1}, lambda rng: {"n": int(rng.integers(0, 10**9))}, lambda p: "")
    alone, together = QuestionSet("98", [q]), QuestionSet("98", [other, q])
    for seed in SEEDS[:20]:
        variant = variants.Variant("s", seed)
        assert alone.params("a", variant) == together.params("a", variant)
    assert together.number("a") == 2


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_question_has_an_answer_and_varies(notebook):
    questions = variants.question_set(notebook)
    checks = _checks(notebook)
    assert checks.VARIANT_QUESTIONS is questions
    assert set(checks.VARIANT_ANSWERS) == set(questions.questions)
    for question in questions:
        assert question.params(None) == Params(question.default)
        assert question.params(SEEDS[0]) == question.params(SEEDS[0])  # a seed always gives the same numbers
        answers = {repr(checks.VARIANT_ANSWERS[question.name](question.params(seed))) for seed in SEEDS[:50]}
        assert len(answers) >= 10, f"{question.name}: 50 students share only {len(answers)} different answers"
        text = questions.markdown(question.name, variants.Variant("s", SEEDS[0]))
        assert text.startswith(f"{questions.number(question.name)}. `{question.name}`: ")


# -- notebook 03 ----------------------------------------------------------------------------------

NB03_TEXT = """\
1. `answer_volume`: the input volume is 32 × 32 × 3; the layer has ten 5 × 5 filters with stride 1 and padding 2. What is the output volume?
2. `answer_no_padding`: one 5 × 5 filter slides over a 32 × 32 image with stride 1 and no padding. What is the output size?
3. `answer_stride3`: a 3 × 3 filter on a 7 × 7 input with stride 3 and no padding, with PyTorch's rule for a stride that does not fit evenly. What is the output size?
4. `answer_alexnet`: AlexNet's first layer: a 227 × 227 × 3 input, 96 filters of 11 × 11, stride 4, no padding. What is the output volume?
5. `answer_resnet_stem`: ResNet starts with a 7 × 7 convolution, stride 2, padding 3, on a 224 × 224 image, followed by a 3 × 3 max pool with stride 2 and padding 1. Give the pair (size after the convolution, size after the pooling).
6. `answer_pool_ceil`: a 2 × 2 max pool with stride 2 on a 55 × 55 map. Give the pair (size with `ceil_mode=False`, size with `ceil_mode=True`).
7. `answer_upsample`: a transposed convolution with a 4 × 4 kernel, stride 2 and padding 1 on a 16 × 16 map. What is the output size?
8. `answer_dilated`: a 3 × 3 kernel with dilation 2 on a 64 × 64 map. Give the pair (the padding that keeps the size at stride 1, the output size at stride 2 with that padding)."""

#: The answers notebook 03 has always had (its check tests pin them too).
NB03_ANSWERS = {
    "answer_volume": (32, 32, 10),
    "answer_no_padding": 28,
    "answer_stride3": 2,
    "answer_alexnet": (55, 55, 96),
    "answer_resnet_stem": (112, 56),
    "answer_pool_ceil": (27, 28),
    "answer_upsample": 32,
    "answer_dilated": (2, 32),
}


def test_nb03_default_is_the_course_as_it_was():
    questions = variants.question_set("03").for_variant(variants.DEFAULT)
    assert questions.markdown() == NB03_TEXT + "\n\n*The default numbers.*"
    checks = _checks("03")
    assert {name: checks.VARIANT_ANSWERS[name](questions[name]) for name in NB03_ANSWERS} == NB03_ANSWERS


def test_nb03_numbers_keep_each_question_about_what_it_asks():
    questions = variants.question_set("03")
    for seed in SEEDS:
        variant = variants.Variant("s", seed)
        q = questions.params("answer_volume", variant)
        side = arith.conv_output_size(q.n, q.k, stride=q.stride, padding=q.padding)  # raises if the kernel does not fit
        assert q.filters not in (q.channels, side) and side >= 2
        q = questions.params("answer_no_padding", variant)
        assert arith.conv_output_size(q.n, q.k) >= q.k
        q = questions.params("answer_stride3", variant)
        assert (q.n - q.k) % 3 != 0 and arith.conv_output_size(q.n, q.k, stride=3) >= 2
        q = questions.params("answer_alexnet", variant)
        assert arith.conv_output_size(q.n, q.k, stride=q.stride) >= 10
        q = questions.params("answer_resnet_stem", variant)
        conv = arith.conv_output_size(q.n, q.k, stride=2, padding=q.padding)
        assert arith.pool_output_size(conv, q.pool_k, stride=2, padding=q.pool_padding) >= 2
        q = questions.params("answer_pool_ceil", variant)
        floor_size = arith.pool_output_size(q.n, q.k, stride=q.stride)
        assert arith.pool_output_size(q.n, q.k, stride=q.stride, ceil_mode=True) == floor_size + 1
        q = questions.params("answer_upsample", variant)
        assert arith.transposed_conv_output_size(q.n, q.k, stride=q.stride, padding=q.padding) > q.n
        q = questions.params("answer_dilated", variant)
        assert arith.same_padding(q.k, dilation=q.dilation) > (q.k - 1) // 2  # the dilation matters
        assert arith.conv_output_size(q.n, q.k, stride=2, padding=arith.same_padding(q.k, dilation=q.dilation), dilation=q.dilation) >= 2


# -- notebooks 04, 05 and 07 ----------------------------------------------------------------------


def test_nb04_numbers_make_real_layers():
    questions = variants.question_set("04")
    for seed in SEEDS:
        variant = variants.Variant("s", seed)
        q = questions.params("answer_layer", variant)
        assert q.k >= 3 and q.channels > 1  # a 1D kernel or a missing depth gives another count
        assert arith.conv_output_size(q.n, q.k, stride=q.stride, padding=q.padding) >= 2
        q = questions.params("answer_stack_params", variant)
        big = q.layers * (q.k - 1) + 1
        assert arith.receptive_field([(q.k, 1)] * q.layers) == arith.receptive_field([(big, 1)])  # the text's claim
        assert q.layers * q.k * q.k < big * big  # the stack is the cheaper one


def test_nb05_numbers_keep_each_question_about_what_it_asks():
    questions = variants.question_set("05")
    for seed in SEEDS:
        variant = variants.Variant("s", seed)
        layers = list(questions.params("answer_rf_strided", variant).layers)
        assert arith.receptive_field(layers) != 1 + sum(k - 1 for k, _ in layers)  # the strides matter
        q = questions.params("answer_rf_depth", variant)
        assert (q.target - 1) % (q.k - 1) != 0  # no stack fits exactly: the count rounds up


def test_nb07_examples_are_small_integers():
    questions = variants.question_set("07")
    for seed in SEEDS:
        q = questions.params("answer_hand_example", variants.Variant("s", seed))
        x, w, dout = (np.array(a) for a in (q.x, q.w, q.dout))
        assert x.shape == w.shape == dout.shape == (3, 3)
        assert x.min() >= 0 and x.max() <= 2 and w.min() >= -1 and w.max() <= 2
        assert np.count_nonzero(dout) == 3 and 3 <= np.count_nonzero(w) <= 5
