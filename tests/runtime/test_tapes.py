"""A compiled adjoint's scalar tapes are lent by the caller and kept between calls
(``runtime/tapes.py``): a repeated call reuses the grown buffer, gives the same gradient as the
first, and a tape over the keep limit is dropped. Plain Python (``jit=False``) except where said."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import adc
from adc.runtime import tapes

SOURCE = """
def roots(a: float[n]) -> float:
    s = 0.0
    for k in range(n):
        ak = a[k]
        r = ak
        it = 0
        while abs(r * r * r - ak) >= 1e-12 and it < 100:
            r = r - (r * r * r - ak) / (3.0 * r * r)
            it += 1
        s += r
    return s
"""


def _exact(a):
    return 1.0 / (3.0 * np.cbrt(a) ** 2)


@pytest.fixture(scope="module")
def module():
    return adc.loads(SOURCE, "lent.ad", jit=False)


def _pushes(a) -> int:
    """Newton steps over all of ``a``: the pushes of ``r`` the forward sweep makes."""
    total = 0
    for ak in a:
        r, it = ak, 0
        while abs(r * r * r - ak) >= 1e-12 and it < 100:
            r, it = r - (r * r * r - ak) / (3.0 * r * r), it + 1
        total += it
    return total


def test_grown_tape_is_lent_to_the_next_call(module):
    g = adc.grad(module.roots, "a")
    a = np.random.default_rng(0).uniform(0.5, 2.0, 400)
    first = g(a)
    lender = g.compiled.call
    assert isinstance(lender, tapes.LentTapes) and len(lender.free) == 1
    floats = next(t for t in lender.free[0] if t.dtype == np.float64)
    assert floats.shape[0] >= _pushes(a) > tapes.FIRST_LENGTH
    again = g(a)
    np.testing.assert_array_equal(again, first)
    assert any(t is floats for t in lender.free[0])        # the same buffer, not a new one
    np.testing.assert_allclose(first, _exact(a), rtol=1e-8)


def test_large_tape_is_not_kept(module, monkeypatch):
    g = adc.grad(module.roots, "a")
    a = np.random.default_rng(1).uniform(0.5, 2.0, 400)
    monkeypatch.setattr(tapes, "KEEP_BYTES", 4096)
    np.testing.assert_allclose(g(a), _exact(a), rtol=1e-8)
    assert all(t.shape[0] == tapes.FIRST_LENGTH for t in g.compiled.call.free[-1])


def test_concurrent_calls_take_their_own_tapes():
    m = adc.loads(SOURCE, "lent.ad")                       # compiled: the calls release the GIL
    g = adc.grad(m.roots, "a")
    inputs = [np.random.default_rng(k).uniform(0.5, 2.0, 3000 + 500 * k) for k in range(4)]
    results = [None] * len(inputs)

    def work(k):
        for _ in range(5):
            results[k] = g(inputs[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, got in zip(inputs, results):
        np.testing.assert_allclose(got, _exact(a), rtol=1e-8)
