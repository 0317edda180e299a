"""Buffer donation (``compiler/donation.py``): an elementwise loop writes into an input array
that dies there, and only then. Values against numpy, in plain Python and compiled."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc.compiler.emit_python import emit_module

SOURCE = """
def dies(x: float[n], a: float) -> float:
    t = exp(x - a)
    s = sum(t)
    u = t / s
    return sum(u * x)

def read_later(x: float[n]) -> float:
    t = exp(x)
    u = t * 2.0
    return sum(u) + sum(t)

def viewed(x: float[n]) -> float:
    t = exp(x)
    head = t[0:2]
    u = t * 2.0
    return sum(u) + sum(head)

def fused_reader_later(x: float[n]) -> float:
    t = exp(x)
    p = t * 3.0
    u = t * 2.0
    q = p + 1.0
    return sum(u) + sum(q)

def in_a_loop(x: float[n], k: int) -> float:
    total = 0.0
    for i in range(k):
        t = x * float(i)
        u = t + 1.0
        total += sum(u * u)
    return total

def filled_then_copied(x: float[n], k: int) -> float:
    p = x + 0.0
    for j in range(k):
        c = zeros(n)
        for i in range(n):
            c[i] = p[i] * x[i] + float(j)
        p = c + 0.0
    return sum(p * x)

def written_after_copy(x: float[n]) -> float:
    c = zeros(n)
    for i in range(n):
        c[i] = x[i] * 2.0
    p = c + 0.0
    c[0] = 5.0
    return sum(p) + sum(c)
"""


def _numpy(name, x):
    if name == "dies":
        t = np.exp(x - 0.3)
        return np.sum(t / t.sum() * x)
    if name == "read_later":
        return np.sum(np.exp(x) * 2) + np.sum(np.exp(x))
    if name == "viewed":
        return np.sum(np.exp(x) * 2) + np.sum(np.exp(x)[:2])
    if name == "fused_reader_later":
        return np.sum(np.exp(x) * 2) + np.sum(np.exp(x) * 3 + 1)
    if name == "filled_then_copied":
        p = x.copy()
        for j in range(3):
            p = p * x + j
        return np.sum(p * x)
    if name == "written_after_copy":
        c = x * 2.0
        return np.sum(c) + np.sum(np.concatenate([[5.0], c[1:]]))
    return sum(np.sum((x * i + 1) ** 2) for i in range(3))


@pytest.fixture(scope="module", params=[False, True], ids=["nojit", "jit"])
def module(request):
    return adc.loads(SOURCE, "donation.ad", jit=request.param)


NAMES = ["dies", "read_later", "viewed", "fused_reader_later", "in_a_loop", "filled_then_copied",
         "written_after_copy"]


@pytest.mark.parametrize("name", NAMES)
def test_values(module, name):
    x = np.random.default_rng(0).standard_normal(7)
    args = {"dies": (x, 0.3), "in_a_loop": (x, 3), "filled_then_copied": (x, 3)}.get(name, (x,))
    assert getattr(module, name)(*args) == pytest.approx(_numpy(name, x), rel=1e-13)


def _allocations(module, name) -> int:
    return emit_module(getattr(module, name).ir)[0].count(" = _empty((")


def test_only_dying_arrays_donate():
    m = adc.loads(SOURCE, "donation.ad", jit=False)
    assert _allocations(m, "dies") == 1               # u takes t's buffer
    assert _allocations(m, "in_a_loop") == 1          # u takes t's, which takes a slot made before the loop
    for kept in ("read_later", "viewed", "fused_reader_later"):
        assert _allocations(m, kept) == 2, kept


def test_an_array_filled_in_place_donates_unless_written_later():
    m = adc.loads(SOURCE, "donation.ad", jit=False)
    source = emit_module(m.filled_then_copied.ir)[0]
    assert "        p = c  #" in source                      # each level's p takes c's buffer
    assert _allocations(m, "filled_then_copied") == 2     # the entry copy and p * x, not p
    assert _allocations(m, "written_after_copy") == 1     # c[0] = 5.0 after the copy: p has its own


def test_gradient_through_a_donated_buffer():
    m = adc.loads(SOURCE, "donation.ad", jit=False)
    x = np.random.default_rng(1).standard_normal(5)
    eps = 1e-6
    fd = [(m.dies(x + eps * e, 0.3) - m.dies(x - eps * e, 0.3)) / (2 * eps) for e in np.eye(5)]
    np.testing.assert_allclose(adc.grad(m.dies, wrt="x")(x, 0.3), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("jit", [False, True], ids=["nojit", "jit"])
def test_gradient_through_a_buffer_filled_in_place(jit):
    """p is taped by reference every level, and each level's p is the previous level's c."""
    m = adc.loads(SOURCE, "donation.ad", jit=jit)
    x = np.random.default_rng(2).uniform(0.5, 1.5, 6)
    eps = 1e-6
    f = lambda y: m.filled_then_copied(y, 4)  # noqa: E731
    fd = [(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(6)]
    np.testing.assert_allclose(adc.grad(m.filled_then_copied, wrt="x")(x, 4), fd, rtol=1e-6, atol=1e-9)
