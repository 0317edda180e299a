"""Adjoints of variables that only inner loops define before reading them (an LSTM layer's
state, in the loop over characters) stay exact zeros across the outer reverse iterations: no
``zeros_like`` resets them inside the loops (``reverse.py``, ``_defined_first_in_inner_loops``)."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from gradcheck import check_grad

SOURCE = """
def layers(x: float[n], w: float[m, n], c: int) -> float:
    s = zeros(m, n)
    total = 0.0
    for t in range(c):
        h = x * 0.5
        for i in range(m):
            a = s[i] * 1.0
            a = tanh(a * w[i] + h)
            s[i] = a
            h = a
        total += sum(h * h)
    return total

def cells(x: float[n], w: float[m, n], c: int) -> float:
    s = zeros(2 * m, n)
    total = 0.0
    for t in range(c):
        h = x * 0.5
        for i in range(m):
            hidden = s[2 * i]
            cell = s[2 * i + 1]
            cell = cell * 0.5 + tanh(hidden * w[i] + h)
            hidden = tanh(cell) * hidden
            s[2 * i] = hidden
            s[2 * i + 1] = cell
            h = hidden
        total += sum(h * h)
    return total

def read_after_inner(x: float[n], w: float[m, n], c: int) -> float:
    total = 0.0
    a = x * 1.0
    for t in range(c):
        for i in range(m):
            a = tanh(x * w[i])
        total += sum(a * x)
    return total
"""


@pytest.fixture(scope="module")
def plain():
    return adc.loads(SOURCE, "nested.ad", jit=False)


@pytest.mark.parametrize("name", ["layers", "cells", "read_after_inner"])
@pytest.mark.parametrize("c", [0, 1, 3])
def test_gradient_matches_finite_differences(plain, name, c):
    rng = np.random.default_rng(5)
    check_grad(getattr(plain, name), dict(x=rng.uniform(-1, 1, 4), w=rng.uniform(-1, 1, (3, 4)), c=c))


def test_no_resets_inside_the_loops(plain):
    listing = adc.adjoint_source(plain.layers, lang="ad")
    reverse = listing[listing.index(", -1, -1):"):]      # from the first reversed loop on
    assert "zeros_like" not in reverse


def test_state_popped_only_to_be_popped_again_is_not_taped(plain):
    """The old ``hidden`` a cell overwrites is popped back in the reverse sweep, and the cell
    before it pops ``hidden`` again before reading it: that first push is dead (liveness over the
    finished adjoint, ``ad/dead_restores.py``), as is the save of ``h`` around the inner loop."""
    listing = adc.adjoint_source(plain.cells, lang="ad")
    assert listing.count("push(hidden)") == 1
    assert listing.count("push(h)") == 1
