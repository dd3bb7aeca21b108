"""Nearest neighbours: which images are close to a query, in pixels or in a network's features."""

from __future__ import annotations

import numpy as np

from cnnlib._validate import as_int

__all__ = ["nearest_neighbours"]


def nearest_neighbours(queries, pool, k: int, *, exclude=None) -> np.ndarray:
    """Indices of the ``k`` rows of ``pool`` closest to each query (Euclidean distance), nearest first.

    Parameters
    ----------
    queries : array of shape (Q, ...)
        Query vectors (images are flattened: pass pixels or features alike).
    pool : array of shape (P, ...)
        The vectors to search, with the same number of values per row.
    k : int
        Neighbours per query, ``1 <= k <= P``.
    exclude : array of int of shape (Q,), optional
        For each query, one pool index to leave out (the query itself when it is in the pool).

    Returns
    -------
    ndarray of int of shape (Q, k)
    """
    queries = np.asarray(queries, dtype=np.float64).reshape(len(queries), -1)
    pool = np.asarray(pool, dtype=np.float64).reshape(len(pool), -1)
    if queries.shape[1] != pool.shape[1]:
        raise ValueError(f"queries and pool must have the same number of values per row, got {queries.shape[1]} and {pool.shape[1]}")
    k = as_int(k, "k", minimum=1)
    if k > len(pool) - (exclude is not None):
        raise ValueError(f"k must be at most the number of pool rows that can be returned ({len(pool) - (exclude is not None)}), got {k}")
    # |q - p|^2 = |q|^2 - 2 q.p + |p|^2, for all pairs at once: (Q, P)
    distances = (queries**2).sum(1)[:, None] - 2 * queries @ pool.T + (pool**2).sum(1)[None, :]
    if exclude is not None:
        exclude = np.asarray(exclude)
        if exclude.shape != (len(queries),):
            raise ValueError(f"exclude must hold one pool index per query, shape ({len(queries)},), got {exclude.shape}")
        distances[np.arange(len(queries)), exclude] = np.inf
    return np.argsort(distances, axis=1, kind="stable")[:, :k]
