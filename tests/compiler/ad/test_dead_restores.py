"""A restore whose popped value is overwritten before any read is dropped with its push
(``compiler/ad/dead_restores.py``); a restore whose value is read stays. Gradients match finite
differences either way. Plain Python: the passes work on the IR."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from gradcheck import check_grad

SOURCE = """
def roots(a: float[n]) -> float:
    # `r = ak` overwrites the last element's root, which the reverse sweep never reads: the
    # inner loop's reverse pops its own copies of r first
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

def residuals(x: float[m], t: float[n]) -> float:
    # `inner` is saved around the inner loop, and restored after its reverse, where the pop of
    # the restore of `inner = sign(t[i])` overwrites it at once
    total = 0.0
    for i in range(n):
        inner = sign(t[i])
        mul = 1.0
        for j in range(m):
            inner -= x[j] * mul
            mul *= t[i]
        total += inner * inner
    return total / 2

def carried(a: float[n]) -> float:
    # `r` carries from one element to the next and the reverse reads it after the restore
    s = 0.0
    r = 1.0
    for k in range(n):
        s += r * a[k]
        r = a[k] * r
    return s
"""


@pytest.fixture(scope="module")
def module():
    return adc.loads(SOURCE, "restores.ad", jit=False)


def _pushes(listing: str, line: int) -> int:
    return sum(1 for ln in listing.splitlines() if "push(r)" in ln and ln.endswith(f"# line {line}"))


def test_restore_overwritten_before_read_is_dropped(module):
    listing = adc.adjoint_source(module.roots)
    assert _pushes(listing, 8) == 0                 # r = ak: no push, and no pop
    assert _pushes(listing, 11) == 1                # the Newton step's restore stays
    assert listing.count("r = pop()") == 1


def test_dropped_restore_keeps_the_gradient(module):
    a = np.random.default_rng(0).uniform(0.5, 2.0, 6)
    check_grad(module.roots, {"a": a})
    grad = adc.grad(module.roots, "a")(a)
    np.testing.assert_allclose(grad, 1.0 / (3.0 * np.cbrt(a) ** 2), rtol=1e-10)


def test_save_around_loop_overwritten_before_read_is_dropped(module):
    listing = adc.adjoint_source(module.residuals, "x")
    assert listing.count("push(inner)") == 1 and listing.count("inner = pop()") == 1
    rng = np.random.default_rng(2)
    check_grad(module.residuals, {"x": rng.standard_normal(4), "t": np.linspace(-1.0, 1.0, 7)}, ["x"])


def test_restore_read_after_pop_is_kept(module):
    assert "r = pop()" in adc.adjoint_source(module.carried)
    a = np.random.default_rng(1).standard_normal(5)
    check_grad(module.carried, {"a": a})
