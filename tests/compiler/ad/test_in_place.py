"""A part's adjoint accumulated straight into its whole's (``compiler/ad/in_place.py``): the
rewrite happens where it is safe (the listing shows the view, no ``zeros_like``), is left alone
where the whole's adjoint is read in between, and every gradient matches finite differences.
Plain Python (``jit=False``): the rewrite is in the IR, the JIT adds nothing to check here."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from gradcheck import check_grad

SOURCE = """
def gates(p: float[l, m], xs: float[t, h]) -> float:
    # an LSTM-like loop: each step reads rows of p and slices of those rows
    total = 0.0
    for s in range(t):
        x = xs[s]
        for i in range(l):
            w = p[i]
            total += sum(tanh(x * w[0:h]) * w[h:2 * h])
    return total

def embed(emb: float[v, h], tokens: int[t], x: float[h]) -> float:
    # the same row twice per step, and repeated tokens: two views add into one row
    total = 0.0
    for s in range(t):
        a = emb[tokens[s]]
        b = emb[tokens[(s + 1) % t]]
        total += sum(a * x * b)
    return total

def read_between(p: float[l, m], q: float[h], j: int) -> float:
    # the reverse of the row write takes p_bar[j] while w's adjoint is half accumulated
    total = 0.0
    for i in range(l):
        w = p[i]
        total += sum(w[0:h] * q)
        p[j] = p[j] * 0.5
        total += sum(w[h:2 * h] * q * p[j, 0])
    return total
"""


@pytest.fixture(scope="module")
def module():
    return adc.loads(SOURCE, "in_place.ad", jit=False)


def test_row_adjoints_become_views_of_the_whole(module):
    listing = adc.adjoint_source(module.gates, wrt=("p",))
    assert "w_bar = p_bar[i" in listing
    assert "zeros_like(w" not in listing and "p_bar[i] += w_bar" not in listing


def test_gates_gradient(module):
    rng = np.random.default_rng(0)
    check_grad(module.gates, {"p": rng.standard_normal((3, 8)), "xs": rng.standard_normal((5, 4))})


def test_embedding_gradient_with_repeated_rows(module):
    rng = np.random.default_rng(1)
    args = {"emb": rng.standard_normal((4, 3)), "tokens": np.array([2, 0, 2, 2, 1]),
            "x": rng.standard_normal(3)}
    check_grad(module.embed, args, wrt=("emb", "x"))


def test_left_alone_when_the_whole_is_read_in_between(module):
    assert "w_bar = zeros_like(w)" in adc.adjoint_source(module.read_between, wrt=("p",))
    rng = np.random.default_rng(2)
    args = {"p": rng.standard_normal((3, 4)), "q": rng.standard_normal(2), "j": 1}
    check_grad(module.read_between, args, wrt=("p", "q"))
