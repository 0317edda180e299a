"""Input-independent helpers the peers share (index tables, constants). numpy only."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from benchmarks.baselines import NEWTON_MAXITER, NEWTON_TOL  # noqa: F401  (re-exported)

SEED8_LIMIT = 1000.0   # seed example 8: double b while norm(b) < 1000


@lru_cache(maxsize=8)
def det_tables(ell: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
    """The expansion-by-minors tree of runtime/gradbench/evals/det.ad, level by level.

    Level r has ``width * m`` nodes (m = ell - r); node u = s * m + t is the t-th child of node s
    of the level above. For each level: ``parent[u]`` (= s), ``col[u]`` (the column row r takes at
    u) and ``sign[u]`` (= (-1)^t, a float). det(A) = sum over the last level of the products of
    sign * A[r, col] along the path: the same tree, node order and products as det.ad.
    """
    levels = []
    rem = np.arange(ell, dtype=np.int64).reshape(1, ell)     # unused columns per node (width, m)
    width = 1
    for r in range(ell):
        m = ell - r
        parent = np.repeat(np.arange(width, dtype=np.int64), m)
        col = rem.reshape(-1).copy()
        sign = np.tile(1.0 - 2.0 * (np.arange(m) % 2), width)
        levels.append((parent, col, sign))
        if m > 1:
            child = np.empty((width, m, m - 1), dtype=np.int64)
            for t in range(m):
                child[:, t, :] = np.delete(rem, t, axis=1)
            rem = child.reshape(width * m, m - 1)
        width *= m
    return tuple(levels)


@lru_cache(maxsize=8)
def gmm_lower_indices(d: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the strictly lower triangle in the order gmm.ad fills it from l: column
    by column, top to bottom (GradBench's icf order)."""
    rows, cols = [], []
    for c in range(d):
        for r in range(c + 1, d):
            rows.append(r)
            cols.append(c)
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


def llsq_basis(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """llsq's t_i = -1 + 2 i / (n - 1) (computed as in llsq.ad) and s_i = sign(t_i)."""
    t = -1.0 + np.arange(n) * 2.0 / (n - 1)
    return t, np.sign(t)
