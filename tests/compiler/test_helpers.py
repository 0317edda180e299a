"""The numeric kernels generated modules define (``compiler/helpers.py``) against numpy and exact
references, at the edges a kernel of its own can get wrong: exp's special values, overflow and
subnormal range; sums of every tail length; max/min with nan, infinities and ties; max's
derivative when several elements share the maximum. Each runs with the JIT and as plain Python.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import adc
from adc.compiler.helpers import HELPERS

SOURCE = """
def vexp(x: float[n]) -> float[n]:
    return exp(x)

def sexp(s: float) -> float:
    return exp(s)

def total(x: float[n]) -> float:
    return sum(x)

def total2(a: float[n, m]) -> float:
    return sum(a)

def top(x: float[n]) -> (float, float):
    return max(x), min(x)

def top2(a: float[n, m]) -> float:
    return max(a)

def peak(x: float[n]) -> float:
    return 3.0 * max(x)

def shifted(a: float[n, m], r: float[m]) -> float:
    return sum((a + r) * a)

def made(n: int, m: int) -> float[n]:
    z = zeros(n, m)
    return z @ ones(m) + ones(n) * 2.0
"""

SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 709.78, 709.79, 710.0, 800.0,
                    -708.39, -708.4, -745.13, -745.14, -746.0, -800.0, 1e-300, -1e-300, 5e-324])


@pytest.fixture(scope="module", params=[True, False], ids=["jit", "nojit"])
def module(request):
    return adc.loads(SOURCE, "kernels.ad", jit=request.param)


def _ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got - want) / np.spacing(np.abs(want))


def test_exp_within_one_ulp_of_numpy(module):
    rng = np.random.default_rng(7)
    size = 200_000 if module.jit else 4_000
    x = np.concatenate([rng.uniform(-745, 709.7, size), rng.standard_normal(size),
                        rng.uniform(-1e-6, 1e-6, size // 10)])
    got, want = module.vexp(x), np.exp(x)
    normal = want > np.finfo(float).tiny
    assert _ulps(got[normal], want[normal]).max() <= 1.0
    # Subnormal results: at most one unit of the smallest subnormal off.
    assert np.abs(got[~normal] - want[~normal]).max(initial=0.0) <= 5e-324


def test_exp_special_values_match_numpy(module):
    with np.errstate(over="ignore"):
        want = np.exp(SPECIAL)
    got = module.vexp(SPECIAL)
    np.testing.assert_array_max_ulp(got, want, maxulp=1)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert [module.sexp(float(s)) for s in SPECIAL[:7]] == pytest.approx(list(want[:7]), nan_ok=True)


def test_scalar_and_elementwise_exp_agree_bitwise(module):
    x = np.random.default_rng(3).uniform(-30, 30, 300)
    assert np.array_equal(module.vexp(x), [module.sexp(float(v)) for v in x])


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 15, 16, 17, 1001])
def test_sum_every_tail_length(module, n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) * np.exp(rng.uniform(-20, 20, n))
    got = module.total(x)
    assert abs(got - math.fsum(x)) <= 8 * np.finfo(float).eps * np.abs(x).sum()
    # The order is fixed by the helper, not by the vector width or the JIT: plain Python agrees.
    space = {"_np": np}
    exec(HELPERS["_sum"], space)
    assert got == space["_sum"](x)


@pytest.mark.parametrize("n, m", [(3, 4), (1, 1), (0, 2), (2, 0)])
def test_allocators_fill_like_numpy(module, n, m):
    want = np.zeros((n, m)) @ np.ones(m) + 2.0
    assert np.array_equal(module.made(n, m), want)


def test_allocators_reject_a_negative_extent(module):
    with pytest.raises(ValueError, match="negative dimensions"):
        module.made(-1, 2)


def test_sum_is_more_accurate_than_a_running_sum(module):
    x = np.full(100_003, 0.1)
    running = 0.0
    for v in x:
        running += v
    exact = math.fsum(x)
    assert abs(module.total(x) - exact) < abs(running - exact)


def test_sum_of_a_matrix_and_of_a_transposed_view(module):
    a = np.random.default_rng(1).standard_normal((13, 5))
    assert module.total2(a) == pytest.approx(math.fsum(a.ravel()), rel=1e-14)
    assert module.total2(np.ascontiguousarray(a.T)) == pytest.approx(math.fsum(a.ravel()), rel=1e-14)


@pytest.mark.parametrize("where", [0, 1, 3, 4, 5, 8, 10])
def test_max_and_min_are_nan_when_any_element_is(module, where):
    x = np.arange(11.0)
    x[where] = np.nan
    assert all(math.isnan(v) for v in module.top(x))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 9, 64, 1001])
def test_max_and_min_match_numpy(module, n):
    x = np.random.default_rng(n).standard_normal(n)
    x[n // 2] = np.inf
    x[-1] = -np.inf
    assert module.top(x) == (np.max(x), np.min(x))
    a = x[: n - n % 3].reshape(-1, 3) if n >= 3 else x.reshape(1, -1)
    assert module.top2(a) == np.max(a)


def test_max_of_an_empty_array_is_a_clear_error(module):
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        module.top(np.zeros(0))


def test_max_derivative_splits_between_ties(module):
    x = np.array([1.0, 5.0, -2.0, 5.0, 5.0, 0.5])
    g = adc.grad(module.peak)(x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0, 1.0, 1.0, 0.0])
    x = np.array([2.0, np.nan, 1.0])
    assert np.isnan(adc.grad(module.peak)(x)).all()


def test_broadcast_row_adjoint_sums_the_rows(module):
    a = np.random.default_rng(4).standard_normal((37, 5))
    got = adc.grad(module.shifted, wrt="r")(a, np.zeros(5))
    running = np.zeros(5)
    for row in a:                      # the helper's order: row after row
        running += row
    np.testing.assert_array_equal(got, running)
