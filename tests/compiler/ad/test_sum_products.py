"""Column sums of matrix products in adjoints (``ad/sum_products.py``).

The adjoint of ``mu`` in ``(x - mu) @ transpose(Q)`` is the column sum of ``y_bar @ Q``; when
nothing else reads that product, the pass sums first (``sum(y_bar, axis=0) @ Q``). The gradient
must not change: checked against finite differences with and without the rewrite (``x`` in
``wrt`` gives the product a second reader), compiled and as plain Python.
"""
import numpy as np
import pytest

import adc
from gradcheck import check_grad

SOURCE = """\
def mixture_like(x: float[n, m], mu: float[k, m], Q: float[m, m]) -> float:
    s = 0.0
    for j in range(k):
        y = (x - mu[j]) @ transpose(Q)
        s = s + sum(y * y) * (j + 1.0)
    return s
"""

RNG = np.random.default_rng(7)
ARGS = dict(x=RNG.normal(size=(6, 3)), mu=RNG.normal(size=(2, 3)), Q=RNG.normal(size=(3, 3)))


@pytest.fixture(scope="module")
def plain():
    return adc.loads(SOURCE, "mixture_like.ad", jit=False)


def test_the_product_only_summed_is_summed_first(plain):
    listing = adc.adjoint_source(plain.mixture_like, wrt=("mu", "Q"))
    assert "sum(y_bar, axis=0) @ transpose(transpose(Q))" in listing
    assert "y_bar @ transpose(transpose(Q))" not in listing


def test_a_product_read_twice_is_kept(plain):
    listing = adc.adjoint_source(plain.mixture_like, wrt=("x", "mu"))
    assert "y_bar @ transpose(transpose(Q))" in listing


@pytest.mark.parametrize("wrt", [("mu", "Q"), ("x", "mu", "Q")], ids=["rewritten", "kept"])
@pytest.mark.parametrize("jit", [False, True], ids=["nojit", "jit"])
def test_gradient_matches_finite_differences(plain, wrt, jit):
    f = adc.loads(SOURCE, "mixture_like.ad", jit=jit).mixture_like if jit else plain.mixture_like
    check_grad(f, ARGS, wrt=wrt, reference=plain.mixture_like)
