"""The checks of notebook 08 pass correct answers written two ways and name each common mistake
they claim to recognise (the training check trains LeNet-5 on scikit-learn's digits: a few seconds)."""

from __future__ import annotations

import numpy as np
import pytest
from checkhelpers import assert_passes, run

from cnnlib.checks import nb08
from cnnlib.reference import (
    conv2d_backward,
    conv2d_forward,
    lenet5,
    maxpool2d_backward,
    maxpool2d_forward,
    relu_backward,
    relu_forward,
)


def assert_fails(check, *args, expect: str, **kwargs):
    result = run(check, *args, **kwargs)
    assert not result.passed
    assert expect in result.message, result.message
    return result


# ---------------------------------------------------------------------------------------------
# softmax_cross_entropy
# ---------------------------------------------------------------------------------------------


def softmax_ce_vectorised(logits, y):
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return -log_p[np.arange(N), y].mean(), dlogits / N


def softmax_ce_loops(logits, y):
    N, K = logits.shape
    loss, dlogits = 0.0, np.zeros((N, K))
    for n in range(N):
        row = logits[n] - max(logits[n])
        total = sum(np.exp(v) for v in row)
        loss += np.log(total) - row[y[n]]
        for k in range(K):
            dlogits[n, k] = (np.exp(row[k]) / total - (k == y[n])) / N
    return loss / N, dlogits


@pytest.mark.parametrize("impl", [softmax_ce_vectorised, softmax_ce_loops])
def test_softmax_ce_correct(impl):
    assert_passes(nb08.softmax_cross_entropy_examples, impl)
    assert_passes(nb08.softmax_cross_entropy_stable, impl)
    assert_passes(nb08.softmax_cross_entropy_random, impl, seed=3)


def softmax_unstable(logits, y):
    N = logits.shape[0]
    with np.errstate(all="ignore"):
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(N), y]).mean()
    d = p.copy()
    d[np.arange(N), y] -= 1
    return loss, d / N


@pytest.mark.parametrize(
    "impl, expect",
    [
        (lambda l, y: (softmax_ce_vectorised(l, y)[0] * len(y), softmax_ce_vectorised(l, y)[1]), "summed over the batch"),
        (lambda l, y: (-softmax_ce_vectorised(l, y)[0], softmax_ce_vectorised(l, y)[1]), "wrong sign"),
        (lambda l, y: (softmax_ce_vectorised(l, y)[0], softmax_ce_vectorised(l, y)[1] * len(y)), "not divided by the batch size"),
        (lambda l, y: (softmax_ce_vectorised(l, y)[0], -softmax_ce_vectorised(l, y)[1]), "dlogits has the wrong sign"),
        (lambda l, y: (softmax_ce_vectorised(l, y)[0], softmax_ce_vectorised(l, y)[1] + np.eye(l.shape[1])[y] / len(y)), "subtract 1 at each example's correct class"),
    ],
)
def test_softmax_ce_mistakes(impl, expect):
    assert_fails(nb08.softmax_cross_entropy_examples, impl, expect=expect)


def test_softmax_unstable():
    assert_passes(nb08.softmax_cross_entropy_examples, softmax_unstable)  # fine on small logits
    assert_fails(nb08.softmax_cross_entropy_stable, softmax_unstable, expect="exp overflows")
    assert_fails(nb08.softmax_cross_entropy_random, softmax_unstable, seed=3, expect="exp overflows")


# ---------------------------------------------------------------------------------------------
# Linear layer
# ---------------------------------------------------------------------------------------------


def linear_forward_matmul(x, w, b):
    return x @ w.T + b


def linear_forward_loops(x, w, b):
    out = np.zeros((x.shape[0], w.shape[0]))
    for n in range(x.shape[0]):
        for o in range(w.shape[0]):
            out[n, o] = sum(x[n, i] * w[o, i] for i in range(w.shape[1])) + b[o]
    return out


@pytest.mark.parametrize("impl", [linear_forward_matmul, linear_forward_loops])
def test_linear_forward_correct(impl):
    assert_passes(nb08.linear_forward_examples, impl)
    assert_passes(nb08.linear_forward_random, impl, seed=4)


@pytest.mark.parametrize(
    "impl, expect",
    [
        (lambda x, w, b: x @ w.T, "bias is missing"),
        (lambda x, w, b: x @ w + b, "(in_features, out_features)"),
    ],
)
def test_linear_forward_mistakes(impl, expect):
    assert_fails(nb08.linear_forward_examples, impl, expect=expect)
    assert_fails(nb08.linear_forward_random, impl, seed=4, expect=expect)


def linear_backward_matmul(dout, x, w):
    return dout @ w, dout.T @ x, dout.sum(axis=0)


def linear_backward_einsum(dout, x, w):
    return np.einsum("no,oi->ni", dout, w), np.einsum("no,ni->oi", dout, x), np.einsum("no->o", dout)


@pytest.mark.parametrize("impl", [linear_backward_matmul, linear_backward_einsum])
def test_linear_backward_correct(impl):
    assert_passes(nb08.linear_backward_examples, impl)
    assert_passes(nb08.linear_backward_random, impl, seed=5)


@pytest.mark.parametrize(
    "impl, expect",
    [
        (lambda d, x, w: (d @ w, x.T @ d, d.sum(0)), "dw has the (in_features, out_features) layout"),
        (lambda d, x, w: (d @ w, d.T @ x / len(x), d.sum(0)), "dw is averaged over the batch"),
        (lambda d, x, w: (d @ w, d.T @ x, d.mean(0)), "db is averaged over the batch"),
    ],
)
def test_linear_backward_mistakes(impl, expect):
    assert_fails(nb08.linear_backward_examples, impl, expect=expect)


def test_linear_backward_transposed_dx_on_square_weights():
    def wrong(d, x, w):
        return d @ w.T, d.T @ x, d.sum(0)

    assert_fails(nb08.linear_backward_random, wrong, seed=5, expect="dx")


# ---------------------------------------------------------------------------------------------
# sgd_momentum_step
# ---------------------------------------------------------------------------------------------


def sgd_dicts(params, grads, velocity, lr, momentum=0.9):
    velocity = {k: momentum * velocity.get(k, 0.0) + grads[k] for k in params}
    return {k: params[k] - lr * velocity[k] for k in params}, velocity


def sgd_loop(params, grads, velocity, lr, momentum=0.9):
    new_params, new_velocity = {}, {}
    for name in params:
        v = velocity[name].copy() if name in velocity else np.zeros_like(params[name])
        v *= momentum
        v += grads[name]
        new_velocity[name] = v
        new_params[name] = params[name] - lr * v
    return new_params, new_velocity


@pytest.mark.parametrize("impl", [sgd_dicts, sgd_loop])
def test_sgd_correct(impl):
    assert_passes(nb08.sgd_momentum_first_step, impl)
    assert_passes(nb08.sgd_momentum_later_step, impl)
    assert_passes(nb08.sgd_momentum_random, impl, seed=6)


def _sgd_with(update):
    def step(params, grads, velocity, lr, momentum=0.9):
        new_p, new_v = {}, {}
        for k in params:
            new_p[k], new_v[k] = update(params[k], grads[k], velocity.get(k, np.zeros_like(params[k])), lr, momentum)
        return new_p, new_v

    return step


@pytest.mark.parametrize(
    "update, expect, first_step_too",
    [
        (lambda p, g, v, lr, mu: (p + lr * (mu * v + g), mu * v + g), "UP the gradient", True),
        (lambda p, g, v, lr, mu: (p - lr * v, mu * v + g), "OLD velocity", True),
        (lambda p, g, v, lr, mu: (p - lr * g, g), "momentum is ignored", False),
        (lambda p, g, v, lr, mu: (p + (mu * v - lr * g), mu * v - lr * g), "CS231n's convention", True),
        (lambda p, g, v, lr, mu: (p - (mu * v + lr * g), mu * v + lr * g), "folded the learning rate", True),
        (lambda p, g, v, lr, mu: (p - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g), "dampened", True),
    ],
)
def test_sgd_mistakes(update, expect, first_step_too):
    step = _sgd_with(update)
    assert_fails(nb08.sgd_momentum_later_step, step, expect=expect)
    assert_fails(nb08.sgd_momentum_random, step, seed=6, expect=expect)
    if first_step_too:
        assert_fails(nb08.sgd_momentum_first_step, step, expect=expect)


def test_sgd_in_place():
    def in_place(params, grads, velocity, lr, momentum=0.9):
        for k in params:
            params[k] -= lr * grads[k]
        return params, dict(grads)

    assert_fails(nb08.sgd_momentum_later_step, in_place, expect="changed its input")


def test_sgd_not_dicts():
    assert_fails(nb08.sgd_momentum_first_step, lambda p, g, v, lr, momentum=0.9: (list(p.values()), v), expect="should be a dict")


# ---------------------------------------------------------------------------------------------
# normalize
# ---------------------------------------------------------------------------------------------


def normalize_keepdims(train, test):
    mean = train.mean(axis=(0, 2, 3), keepdims=True)
    std = train.std(axis=(0, 2, 3), keepdims=True)
    return (train - mean) / std, (test - mean) / std


def normalize_loops(train, test):
    train_n, test_n = train.astype(float), test.astype(float)
    for c in range(train.shape[1]):
        m, s = train_n[:, c].mean(), train_n[:, c].std()
        train_n[:, c] = (train_n[:, c] - m) / s
        test_n[:, c] = (test_n[:, c] - m) / s
    return train_n, test_n


@pytest.mark.parametrize("impl", [normalize_keepdims, normalize_loops])
def test_normalize_correct(impl):
    assert_passes(nb08.normalize_examples, impl)
    assert_passes(nb08.normalize_random, impl, seed=7)


@pytest.mark.parametrize(
    "impl, expect",
    [
        (lambda tr, te: (normalize_keepdims(tr, te)[0], normalize_keepdims(te, te)[0]), "its OWN statistics"),
        (lambda tr, te: ((tr - tr.mean()) / tr.std(), (te - tr.mean()) / tr.std()), "one mean and one std over all channels"),
        (lambda tr, te: ((tr - tr.mean(axis=0)) / tr.std(axis=0), (te - tr.mean(axis=0)) / tr.std(axis=0)), "per pixel"),
        (lambda tr, te: (normalize_keepdims(tr, te)[0], te.astype(float)), "not normalised at all"),
        (
            lambda tr, te: (
                (tr - tr.mean(axis=(0, 2, 3), keepdims=True)) / tr.std(axis=(0, 2, 3), keepdims=True, ddof=1),
                (te - tr.mean(axis=(0, 2, 3), keepdims=True)) / tr.std(axis=(0, 2, 3), keepdims=True, ddof=1),
            ),
            "ddof=1",
        ),
    ],
)
def test_normalize_mistakes(impl, expect):
    assert_fails(nb08.normalize_examples, impl, expect=expect)


def test_normalize_hidden_own_statistics():
    wrong = lambda tr, te: (normalize_keepdims(tr, te)[0], normalize_keepdims(te, te)[0])  # noqa: E731
    assert_fails(nb08.normalize_random, wrong, seed=7, expect="OWN statistics")


# ---------------------------------------------------------------------------------------------
# lenet5_loss: written out layer by layer, and as a loop over a layer list
# ---------------------------------------------------------------------------------------------


def lenet5_explicit(params, X, y=None, *, relu_fc_backward=True):
    p = params
    caches, out = [], X
    for name in ("0", "3"):
        out, c1 = conv2d_forward(out, p[f"{name}.weight"], p[f"{name}.bias"])
        out, c2 = relu_forward(out)
        out, c3 = maxpool2d_forward(out, 2)
        caches.append((c1, c2, c3))
    shape = out.shape
    h0 = out.reshape(len(X), -1)
    a1 = h0 @ p["7.weight"].T + p["7.bias"]
    h1 = np.maximum(a1, 0)
    a2 = h1 @ p["9.weight"].T + p["9.bias"]
    h2 = np.maximum(a2, 0)
    logits = h2 @ p["11.weight"].T + p["11.bias"]
    if y is None:
        return logits
    loss, d = softmax_ce_vectorised(logits, y)
    g = {"11.weight": d.T @ h2, "11.bias": d.sum(0)}
    d = d @ p["11.weight"]
    if relu_fc_backward:
        d = d * (a2 > 0)
    g["9.weight"], g["9.bias"] = d.T @ h1, d.sum(0)
    d = (d @ p["9.weight"]) * (a1 > 0)
    g["7.weight"], g["7.bias"] = d.T @ h0, d.sum(0)
    d = (d @ p["7.weight"]).reshape(shape)
    for name, (c1, c2, c3) in zip(("3", "0"), caches[::-1]):
        d = relu_backward(maxpool2d_backward(d, c3), c2)
        d, g[f"{name}.weight"], g[f"{name}.bias"] = conv2d_backward(d, c1)
    return loss, g


def lenet5_layer_list(params, X, y=None):
    layers = ["conv 0", "relu", "pool", "conv 3", "relu", "pool", "flatten", "fc 7", "relu", "fc 9", "relu", "fc 11"]
    caches, out = [], X
    for layer in layers:
        kind, _, name = layer.partition(" ")
        if kind == "conv":
            out, cache = conv2d_forward(out, params[f"{name}.weight"], params[f"{name}.bias"])
        elif kind == "relu":
            out, cache = relu_forward(out)
        elif kind == "pool":
            out, cache = maxpool2d_forward(out, 2)
        elif kind == "flatten":
            out, cache = out.reshape(len(out), -1), out.shape
        else:
            out, cache = linear_forward_matmul(out, params[f"{name}.weight"], params[f"{name}.bias"]), out
        caches.append(cache)
    if y is None:
        return out
    loss, d = softmax_ce_loops(out, y)
    grads = {}
    for layer, cache in zip(layers[::-1], caches[::-1]):
        kind, _, name = layer.partition(" ")
        if kind == "conv":
            d, grads[f"{name}.weight"], grads[f"{name}.bias"] = conv2d_backward(d, cache)
        elif kind == "relu":
            d = relu_backward(d, cache)
        elif kind == "pool":
            d = maxpool2d_backward(d, cache)
        elif kind == "flatten":
            d = d.reshape(cache)
        else:
            d, grads[f"{name}.weight"], grads[f"{name}.bias"] = linear_backward_matmul(d, cache, params[f"{name}.weight"])
    return loss, grads


@pytest.mark.parametrize("impl", [lenet5_explicit, lenet5_layer_list])
def test_lenet5_correct(impl):
    assert_passes(nb08.lenet5_logits, impl)
    assert_passes(nb08.lenet5_loss_and_grads, impl)
    assert_passes(nb08.lenet5_random, impl, seed=8)


def test_lenet5_names_the_broken_layer():
    wrong = lambda params, X, y=None: lenet5_explicit(params, X, y, relu_fc_backward=False)  # noqa: E731
    assert_passes(nb08.lenet5_logits, wrong)
    result = assert_fails(nb08.lenet5_loss_and_grads, wrong, expect="grads['9.weight'] (the second linear layer) is wrong")
    assert "the gradients down to the last linear layer are right" in result.message


def test_lenet5_summed_loss():
    def summed(params, X, y=None):
        out = lenet5_explicit(params, X, y)
        return out if y is None else (out[0] * len(X), out[1])

    assert_fails(nb08.lenet5_loss_and_grads, summed, expect="summed over the batch")


def test_lenet5_may_not_use_the_library_model():
    def delegating(params, X, y=None):
        model = lenet5()
        model.params = params
        return model.forward(X)

    assert_fails(nb08.lenet5_logits, delegating, expect="library implementation")


# ---------------------------------------------------------------------------------------------
# train_classifier
# ---------------------------------------------------------------------------------------------


def make_trainer(loss_fn=lenet5_explicit, step=sgd_dicts, *, shuffle=True, dtype=np.float32):
    def train_classifier(X, y, num_epochs=3, batch_size=64, lr=0.02, momentum=0.9, seed=0, X_val=None, y_val=None, progress=True):
        rng = np.random.default_rng(seed)
        params = lenet5(seed=seed, dtype=dtype).params
        velocity, history = {}, {"loss": [], "val_acc": []}
        for _ in range(num_epochs):
            order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
            for start in range(0, len(X), batch_size):
                batch = order[start : start + batch_size]
                loss, grads = loss_fn(params, X[batch], y[batch])
                params, velocity = step(params, grads, velocity, lr, momentum)
                history["loss"].append(float(loss))
        return params, history

    return train_classifier


@pytest.mark.parametrize("trainer", [make_trainer(), make_trainer(lenet5_layer_list, sgd_loop, dtype=np.float64)], ids=["explicit-f32", "layers-f64"])
def test_train_classifier_correct(trainer):
    assert_passes(nb08.train_classifier_digits, trainer)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_train_classifier_wrong_sign():
    ascent = _sgd_with(lambda p, g, v, lr, mu: (p + lr * (mu * v + g), mu * v + g))
    result = run(nb08.train_classifier_digits, make_trainer(step=ascent))
    assert not result.passed
    assert "NaN" in result.message or "should reach 90%" in result.message, result.message


def test_train_classifier_history_length():
    def one_loss_per_epoch(X, y, num_epochs=3, **kwargs):
        params, history = make_trainer()(X, y, num_epochs=num_epochs, **kwargs)
        return params, {"loss": history["loss"][:: len(history["loss"]) // num_epochs]}

    assert_fails(nb08.train_classifier_digits, one_loss_per_epoch, expect="one per mini-batch")


def test_train_classifier_forbids_library_loss():
    from cnnlib.reference import softmax_cross_entropy

    def library_loss(params, X, y=None):
        logits = lenet5_explicit(params, X)
        loss, _ = softmax_cross_entropy(logits, y)
        return lenet5_explicit(params, X, y)

    assert_fails(nb08.train_classifier_digits, make_trainer(library_loss), expect="library implementation")
