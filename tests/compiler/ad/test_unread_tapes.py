"""A tape whose popped values nothing reads is dropped with its reverse loops
(``compiler/ad/unread_tapes.py``), and a tape that is read is kept; gradients match finite
differences either way. Plain Python: the passes work on the IR."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from gradcheck import check_grad

SOURCE = """
def nearest_cost(points: float[n], centers: float[k]) -> float:
    # a search without derivatives: its branch conditions were taped, then popped for nothing
    with no_grad:
        chosen = zeros(n)
        for i in range(n):
            best = 0
            best_dist = 0.0
            for j in range(k):
                dist = (points[i] - centers[j]) * (points[i] - centers[j])
                if j == 0:
                    best_dist = dist
                elif dist < best_dist:
                    best = j
                    best_dist = dist
            chosen[i] = float(best)
        pick = chosen + 0.0
    total = 0.0
    for i in range(n):
        diff = points[i] - centers[int(pick[i])]
        total += diff * diff
    return total

def branch_read(x: float[n], c: float) -> float:
    # a running value overwritten every step and read by its reverse: its tape stays
    s = c
    for i in range(n):
        if s > 0.0:
            s = s * x[i]
        else:
            s = s + x[i]
    return s
"""


@pytest.fixture(scope="module")
def module():
    return adc.loads(SOURCE, "tapes.ad", jit=False)


def test_search_without_derivatives_leaves_no_tape(module):
    listing = adc.adjoint_source(module.nearest_cost)
    assert "pop()" not in listing and "push(" not in listing and "tape()" not in listing
    assert listing.count("for ") == 3          # the search's two loops forwards, one reverse loop
    assert "1.0 *" not in listing              # the seed's 1.0 folded away


def test_search_gradient(module):
    rng = np.random.default_rng(0)
    args = {"points": rng.standard_normal(7), "centers": np.array([-1.0, 0.1, 1.2])}
    check_grad(module.nearest_cost, args)


def test_read_tape_is_kept(module):
    assert "pop()" in adc.adjoint_source(module.branch_read)
    rng = np.random.default_rng(1)
    check_grad(module.branch_read, {"x": rng.standard_normal(6), "c": 0.2})
