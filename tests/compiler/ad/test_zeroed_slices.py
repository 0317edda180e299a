"""An adjoint whose slice a slice write zeroed, added elsewhere only outside that slice
(``passes/zeroed_slices.py``): gradients against central differences for every kind of bounds
(negative, clamped, empty, reversed), in and out of loops, compiled and not, and for the
programs where the zeros must stay (the adjoint is read twice)."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from gradcheck import check_grad

RNG = np.random.default_rng(5)

SOURCE = """
def shifted(x: float[n], y: float[n]) -> float:
    z = x * 1.0
    z[1:n] = x[1:n] * y[0:n - 1]
    return sum(z * z)

def from_the_end(x: float[n]) -> float:
    z = x * 1.0
    z[-3:] = x[0:3] * x[1:4]
    return sum(z * z * x)

def clamped(x: float[n], k: int) -> float:
    z = x * 1.0
    z[k:n + 5] = x[0:n - k] * 2.0
    return sum(z * z * x)

def empty_and_reversed(x: float[n], lo: int, hi: int) -> float:
    z = x * 1.0
    z[lo:hi] = x[lo:hi] * 3.0
    return sum(z * z * x)

def read_twice(x: float[n], y: float[n]) -> float:
    z = x + y
    z[1:3] = x[2:4] * y[0:2]
    return sum(z * z)

def stages(x: float[n], s: int) -> float:
    y = x * 0.5
    for step in range(s):
        z = x * 1.0
        z[1:n] = x[1:n] * y[0:n - 1]
        y = y + 0.25 * z
    return sum(y * y)
"""

CASES = [("shifted", {}), ("from_the_end", {}), ("clamped", {"k": 2}), ("clamped", {"k": 0}),
         ("empty_and_reversed", {"lo": 4, "hi": 2}), ("empty_and_reversed", {"lo": -4, "hi": -1}),
         ("empty_and_reversed", {"lo": 3, "hi": 3}), ("read_twice", {}), ("stages", {"s": 3})]


@pytest.fixture(scope="module")
def plain():
    return adc.loads(SOURCE, "zeroed.ad", jit=False)


@pytest.fixture(scope="module")
def jitted():
    return adc.loads(SOURCE, "zeroed.ad", jit=True)


def _args(f, extra):
    args = dict(x=RNG.uniform(-1.0, 1.0, 6), **extra)
    if "y" in dict(f.params):
        args["y"] = RNG.uniform(-1.0, 1.0, 6)
    return args


@pytest.mark.parametrize("name, extra", CASES)
def test_gradient_matches_finite_differences(plain, name, extra):
    f = getattr(plain, name)
    check_grad(f, _args(f, extra), wrt=[p for p in ("x", "y") if p in dict(f.params)])


@pytest.mark.parametrize("name, extra", [c for c in CASES if c[0] in ("from_the_end", "empty_and_reversed", "stages")])
def test_gradient_compiled(plain, jitted, name, extra):
    f = getattr(jitted, name)
    check_grad(f, _args(f, extra), wrt="x", reference=getattr(plain, name))


def test_listing(plain):
    """``shifted`` adds ``z_bar`` into ``x_bar`` outside the written slice, with no zeroing;
    ``read_twice``, whose ``z_bar`` goes to ``x`` and to ``y``, keeps it."""
    assert "x_bar += z_bar outside [1:n]" in adc.adjoint_source(plain.shifted, lang="ad")
    assert "= 0.0" not in adc.adjoint_source(plain.shifted, lang="ad")
    twice = adc.adjoint_source(plain.read_twice, lang="ad")
    assert "outside" not in twice and "z_bar[1:3] = 0.0" in twice
