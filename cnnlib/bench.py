"""Benchmark: the NumPy reference conv2d (fast and naive) against PyTorch's CPU conv2d.

    python -m cnnlib.bench [--repeats 7] [--threads N]

For each layer shape, on the same float32 tensors, it times one forward plus backward pass of

- ``cnnlib.reference.conv2d_forward`` / ``conv2d_backward`` (im2col + BLAS, the fast default),
- ``torch.nn.functional.conv2d`` and autograd's backward, on the CPU,
- ``conv2d_forward_naive`` / ``conv2d_backward_naive`` (Python loops), on a smaller input, scaled
  up by the ratio of floating-point operations,

and the machine's float32 matrix-multiply rate (``np.matmul`` of two square matrices), the ceiling
for an im2col convolution. It prints the median time of the repeats (and the fastest, which is less
disturbed by other work on the machine), the ratios fast/PyTorch and naive/fast, and the fast
version's GFLOP/s as a fraction of the matmul ceiling. NumPy's BLAS and PyTorch use the same number
of threads, printed at the top.

Figures, not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import NamedTuple

import numpy as np

from cnnlib.reference import conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive


class Layer(NamedTuple):
    """One convolution layer to time: input ``(N, C, H, W)``, ``F`` filters of ``K x K``."""

    name: str
    N: int
    C: int
    H: int
    F: int
    K: int
    padding: int
    naive_N: int  # the naive loops run on (naive_N, C, naive_H, naive_H)
    naive_H: int


LAYERS = [
    Layer("N=64, 16->32, 32x32, 3x3, pad 1", 64, 16, 32, 32, 3, 1, naive_N=1, naive_H=32),
    Layer("LeNet-5 conv2: N=64, 6->16, 14x14, 5x5", 64, 6, 14, 16, 5, 0, naive_N=2, naive_H=14),
    Layer("ResNet stage: N=32, 64->64, 56x56, 3x3, pad 1", 32, 64, 56, 64, 3, 1, naive_N=1, naive_H=16),
]


def conv_flops(N: int, C: int, H: int, F: int, K: int, padding: int) -> float:
    """Floating-point operations of one forward pass (2 per multiply-accumulate); backward costs twice that."""
    out = H + 2 * padding - K + 1
    return 2.0 * N * F * C * K * K * out * out


def timings(fn, repeats: int) -> list[float]:
    """Seconds per call of ``fn`` over ``repeats`` calls, after one warm-up call."""
    fn()
    result = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        result.append(time.perf_counter() - start)
    return result


def interleaved(fns: dict, repeats: int) -> dict[str, list[float]]:
    """Like :func:`timings` for several functions, alternating between them so that they share any
    slow-down from other work on the machine."""
    for fn in fns.values():
        fn()
    result = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            result[name].append(time.perf_counter() - start)
    return result


def matmul_gflops(repeats: int, n: int = 2048) -> tuple[float, float]:
    """The float32 matmul rate ``(median, best)`` in GFLOP/s, from ``n x n`` times ``n x n``."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    times = timings(lambda: a @ b, repeats)
    flops = 2.0 * n**3
    return flops / np.median(times) / 1e9, flops / min(times) / 1e9


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses (threadpoolctl's report, else the CPU count)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return counts[0] if counts else os.cpu_count() or 1


def bench_layer(layer: Layer, repeats: int, ceiling: float) -> None:
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    x = rng.standard_normal((layer.N, layer.C, layer.H, layer.H), dtype=np.float32)
    w = rng.standard_normal((layer.F, layer.C, layer.K, layer.K), dtype=np.float32) * 0.1
    b = rng.standard_normal(layer.F, dtype=np.float32)
    out, _ = conv2d_forward(x, w, b, padding=layer.padding)
    dout = rng.standard_normal(out.shape, dtype=np.float32)

    def fast():
        _, cache = conv2d_forward(x, w, b, padding=layer.padding)
        conv2d_backward(dout, cache)

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    dout_t = torch.tensor(dout)

    def pytorch():
        for t in (xt, wt, bt):
            t.grad = None
        F.conv2d(xt, wt, bt, padding=layer.padding).backward(dout_t)

    times = interleaved({"fast": fast, "pytorch": pytorch}, repeats)

    x_small = x[: layer.naive_N, :, : layer.naive_H, : layer.naive_H]
    dout_small_shape = conv2d_forward(x_small, w, b, padding=layer.padding)[0].shape
    dout_small = rng.standard_normal(dout_small_shape, dtype=np.float32)

    def naive():
        _, cache = conv2d_forward_naive(x_small, w, b, padding=layer.padding)
        conv2d_backward_naive(dout_small, cache)

    scale = conv_flops(layer.N, layer.C, layer.H, layer.F, layer.K, layer.padding) / conv_flops(
        layer.naive_N, layer.C, layer.naive_H, layer.F, layer.K, layer.padding
    )
    naive_times = [t * scale for t in timings(naive, max(1, repeats // 3))]

    flops = 3 * conv_flops(layer.N, layer.C, layer.H, layer.F, layer.K, layer.padding)  # forward + backward
    fast_med, fast_min = np.median(times["fast"]), min(times["fast"])
    torch_med, torch_min = np.median(times["pytorch"]), min(times["pytorch"])
    naive_med = np.median(naive_times)
    print(f"\n{layer.name}  (forward + backward, {flops / 1e9:.2f} GFLOP)")
    print(f"  fast (im2col + BLAS)   {fast_med * 1e3:9.1f} ms   (best {fast_min * 1e3:.1f} ms)")
    print(f"  PyTorch CPU            {torch_med * 1e3:9.1f} ms   (best {torch_min * 1e3:.1f} ms)")
    print(
        f"  naive loops            {naive_med * 1e3:9.1f} ms   "
        f"(run on {layer.naive_N}x{layer.C}x{layer.naive_H}x{layer.naive_H}, scaled by FLOPs x{scale:.0f})"
    )
    print(f"  fast / PyTorch         {fast_med / torch_med:9.2f} x   (best/best {fast_min / torch_min:.2f} x; target <= 2)")
    print(f"  naive / fast           {naive_med / fast_med:9.0f} x   (target >= 100)")
    gflops = flops / fast_med / 1e9
    print(f"  fast GFLOP/s           {gflops:9.1f}     = {gflops / ceiling:.0%} of the matmul ceiling")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Time the reference conv2d against PyTorch's CPU conv2d.")
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per measurement (median reported)")
    parser.add_argument("--threads", type=int, default=None, help="threads for NumPy's BLAS and PyTorch (default: NumPy's)")
    args = parser.parse_args(argv)

    import torch

    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads, user_api="blas")
    threads = blas_threads()
    torch.set_num_threads(threads)
    print(f"cnnlib.bench: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; numpy {np.__version__}, torch {torch.__version__}")
    print(f"threads: NumPy BLAS {blas_threads()}, PyTorch {torch.get_num_threads()}; float32; {args.repeats} repeats")
    median, best = matmul_gflops(args.repeats)
    print(f"float32 matmul (2048x2048 @ 2048x2048): {median:.1f} GFLOP/s median, {best:.1f} best")
    for layer in LAYERS:
        bench_layer(layer, args.repeats, median)


if __name__ == "__main__":
    main()
