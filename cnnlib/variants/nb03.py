"""Notebook 03's exam questions, with numbers drawn per student.

Each generator keeps what the question is about: the stride-3 question always has a remainder
(so the floor matters), the pooling question always has a last, partial window (so ceil_mode
changes the size), every kernel fits its padded input, and the number of filters never equals the
input depth or the output size (so a volume with the wrong depth, or in the wrong order, is
recognised). The defaults are the numbers the notebook has always asked about.
"""

from __future__ import annotations

from .questions import Question, QuestionSet, a, number_word


def _side(n, k, s=1, p=0, d=1):
    """A convolution's output size, only to keep the generators away from degenerate numbers."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _draw_volume(rng):
    while True:
        k = int(rng.choice([3, 5, 7]))
        p = int(rng.integers(0, k // 2 + 1))
        s = int(rng.choice([1, 1, 2]))
        n = int(rng.integers(12, 65))
        channels = int(rng.choice([1, 3, 4, 8, 16]))
        filters = int(rng.integers(4, 65))
        side = _side(n, k, s, p)
        if filters not in (channels, side) and side != channels:
            return dict(n=n, channels=channels, filters=filters, k=k, stride=s, padding=p)


def _volume_text(q):
    filters = f"{number_word(q.filters)} {q.k} × {q.k} filters" if q.filters <= 12 else f"{q.filters} filters of {q.k} × {q.k}"
    return (
        f"the input volume is {q.n} × {q.n} × {q.channels}; the layer has {filters} with stride {q.stride} and "
        f"padding {q.padding}. What is the output volume?"
    )


def _draw_no_padding(rng):
    k = int(rng.choice([3, 5, 7, 9, 11]))
    return dict(n=int(rng.integers(max(2 * k, 12), 65)), k=k)


def _no_padding_text(q):
    return f"one {q.k} × {q.k} filter slides over {a(q.n)} {q.n} × {q.n} image with stride 1 and no padding. What is the output size?"


def _draw_stride3(rng):
    while True:
        k = int(rng.integers(2, 6))
        n = int(rng.integers(k + 4, 41))
        if (n - k) % 3:  # the stride does not fit evenly: the floor is the point of the question
            return dict(n=n, k=k)


def _stride3_text(q):
    return (
        f"a {q.k} × {q.k} filter on {a(q.n)} {q.n} × {q.n} input with stride 3 and no padding, with PyTorch's rule for "
        "a stride that does not fit evenly. What is the output size?"
    )


ALEXNET = dict(n=227, channels=3, filters=96, k=11, stride=4)


def _draw_alexnet(rng):
    while True:
        k = int(rng.choice([7, 9, 11]))
        s = int(rng.choice([2, 3, 4]))
        q = dict(n=int(rng.integers(96, 257)), channels=3, filters=int(rng.choice([32, 48, 64, 96, 128])), k=k, stride=s)
        if q != ALEXNET and _side(q["n"], k, s) != q["filters"]:
            return q


def _alexnet_text(q):
    layer = f"{a(q.n)} {q.n} × {q.n} × {q.channels} input, {q.filters} filters of {q.k} × {q.k}, stride {q.stride}, no padding"
    if dict(q) == ALEXNET:
        return f"AlexNet's first layer: {layer}. What is the output volume?"
    return f"a first layer with a large kernel and stride, like AlexNet's: {layer}. What is the output volume?"


RESNET_STEM = dict(n=224, k=7, padding=3, pool_k=3, pool_padding=1)


def _draw_resnet_stem(rng):
    k, p = [(7, 3), (5, 2), (3, 1)][int(rng.integers(0, 3))]
    pool_k, pool_p = [(3, 1), (2, 0)][int(rng.integers(0, 2))]
    return dict(n=int(rng.integers(64, 321)), k=k, padding=p, pool_k=pool_k, pool_padding=pool_p)


def _resnet_stem_text(q):
    layers = (
        f"a {q.k} × {q.k} convolution, stride 2, padding {q.padding}, on {a(q.n)} {q.n} × {q.n} image, followed by a "
        f"{q.pool_k} × {q.pool_k} max pool with stride 2 and padding {q.pool_padding}"
    )
    ask = "Give the pair (size after the convolution, size after the pooling)."
    if dict(q) == RESNET_STEM:
        return f"ResNet starts with {layers}. {ask}"
    return f"a network starts, like ResNet, with {layers}. {ask}"


def _draw_pool_ceil(rng):
    while True:
        k, s = [(2, 2), (3, 2), (3, 3)][int(rng.integers(0, 3))]
        n = int(rng.integers(15, 112))
        if (n - k) % s:  # a last, partial window: ceil_mode changes the size
            return dict(n=n, k=k, stride=s)


def _pool_ceil_text(q):
    return (
        f"a {q.k} × {q.k} max pool with stride {q.stride} on {a(q.n)} {q.n} × {q.n} map. Give the pair (size with "
        "`ceil_mode=False`, size with `ceil_mode=True`)."
    )


def _draw_upsample(rng):
    k, s, p = [(4, 2, 1), (3, 2, 1), (2, 2, 0), (4, 4, 0), (3, 3, 0), (5, 2, 2)][int(rng.integers(0, 6))]
    return dict(n=int(rng.integers(4, 49)), k=k, stride=s, padding=p)


def _upsample_text(q):
    return (
        f"a transposed convolution with a {q.k} × {q.k} kernel, stride {q.stride} and padding {q.padding} on "
        f"{a(q.n)} {q.n} × {q.n} map. What is the output size?"
    )


def _draw_dilated(rng):
    return dict(n=int(rng.integers(24, 129)), k=int(rng.choice([3, 5])), dilation=int(rng.integers(2, 5)))


def _dilated_text(q):
    return (
        f"a {q.k} × {q.k} kernel with dilation {q.dilation} on {a(q.n)} {q.n} × {q.n} map. Give the pair (the padding "
        "that keeps the size at stride 1, the output size at stride 2 with that padding)."
    )


QUESTIONS = QuestionSet(
    "03",
    [
        Question("answer_volume", dict(n=32, channels=3, filters=10, k=5, stride=1, padding=2), _draw_volume, _volume_text),
        Question("answer_no_padding", dict(n=32, k=5), _draw_no_padding, _no_padding_text),
        Question("answer_stride3", dict(n=7, k=3), _draw_stride3, _stride3_text),
        Question("answer_alexnet", ALEXNET, _draw_alexnet, _alexnet_text),
        Question("answer_resnet_stem", RESNET_STEM, _draw_resnet_stem, _resnet_stem_text),
        Question("answer_pool_ceil", dict(n=55, k=2, stride=2), _draw_pool_ceil, _pool_ceil_text),
        Question("answer_upsample", dict(n=16, k=4, stride=2, padding=1), _draw_upsample, _upsample_text),
        Question("answer_dilated", dict(n=64, k=3, dilation=2), _draw_dilated, _dilated_text),
    ],
)
