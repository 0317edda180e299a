"""Buffers reused across loop iterations (``compiler/buffer_reuse.py`` and the emitter's slots):
arrays that die within an iteration take a buffer allocated once before the loop, and only
they. Values against numpy, in plain Python and compiled; the gradient through taped steps
against finite differences."""
from __future__ import annotations

import re

import numpy as np
import pytest

import adc
from adc.compiler.emit_python import emit_module

SOURCE = """
def rk_steps(x: float[n], s: int) -> float[n]:
    y = zeros(n)
    for step in range(s):
        k1 = x * y + 1.0
        t = y + k1 / 2
        k2 = x * t + 1.0
        t2 = y + k2 / 2
        k3 = x * t2 + 1.0
        y = y + (k1 + 2 * k2 + k3) / 40
    return y

def last(x: float[n], s: int) -> float:
    y = rk_steps(x, s)
    return y[n - 1]

def zeroed(x: float[n], k: int) -> float:
    total = 0.0
    for i in range(k):
        acc = zeros(n)
        for j in range(n):
            acc[j] = acc[j] + x[j] * float(i)
        total += sum(acc * acc)
    return total

def carried(x: float[n], k: int) -> float[n]:
    y = x * 1.0
    keep = x * 0.0
    for i in range(k):
        t = y * 2.0
        keep = t
        y = t + 1.0
    return keep + y

def view_after(x: float[n], k: int) -> float:
    head = x[0:2]
    for i in range(k):
        t = x * float(i)
        head = t[0:2]
    return sum(head)

def growing(x: float[n], k: int) -> float:
    total = 0.0
    for i in range(1, k):
        t = x[0:i] * 2.0
        total += sum(t * t)
    return total
"""


def _numpy(name, x, k):
    if name == "rk_steps":
        y = np.zeros_like(x)
        for _ in range(k):
            k1 = x * y + 1.0
            k2 = x * (y + k1 / 2) + 1.0
            k3 = x * (y + k2 / 2) + 1.0
            y = y + (k1 + 2 * k2 + k3) / 40
        return y
    if name == "zeroed":
        return sum(np.sum((x * i) ** 2) for i in range(k))
    if name == "carried":
        y, keep = x.copy(), x * 0.0
        for _ in range(k):
            keep = y * 2.0
            y = keep + 1.0
        return keep + y
    if name == "view_after":
        return np.sum((x * (k - 1))[:2]) if k else np.sum(x[:2])
    return sum(np.sum((x[:i] * 2.0) ** 2) for i in range(1, k))


@pytest.fixture(scope="module", params=[False, True], ids=["nojit", "jit"])
def module(request):
    return adc.loads(SOURCE, "reuse.ad", jit=request.param)


@pytest.mark.parametrize("name", ["rk_steps", "zeroed", "carried", "view_after", "growing"])
@pytest.mark.parametrize("k", [0, 1, 4])
def test_values(module, name, k):
    x = np.random.default_rng(k).standard_normal(6)
    np.testing.assert_allclose(getattr(module, name)(x, k), _numpy(name, x, k), rtol=1e-13, atol=1e-13)


def _loop_body(source: str) -> list[str]:
    """The lines of the first loop of the emitted entry function."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("for "))
    indent = len(lines[start]) - len(lines[start].lstrip())
    body = []
    for line in lines[start + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
    return body


def test_dying_arrays_take_slots_made_before_the_loop():
    m = adc.loads(SOURCE, "reuse.ad", jit=False)
    source = emit_module(m.rk_steps.ir)[0]
    body = _loop_body(source)
    assert [line for line in body if "_empty(" in line] == [
        line for line in body if re.match(r"\s*y_new = _empty", line)]     # only the carried y
    slots = re.findall(r"^\s*(slot\w*) = _empty", source, re.M)
    assert len(slots) == 4      # k1, k2, k3 live to the update; t's slot serves t2 after it dies
    taken = {int(line): slot for slot, line in re.findall(r"^\s*\w+ = (slot\w*)  # line (\d+)$", source, re.M)}
    assert taken[6] == taken[8]                                           # t dies before t2 is made
    assert len({taken[line] for line in (5, 6, 7, 9)}) == 4               # k1, t, k2, k3


def test_a_zeroed_slot_is_zeroed_every_iteration():
    m = adc.loads(SOURCE, "reuse.ad", jit=False)
    body = _loop_body(emit_module(m.zeroed.ir)[0])
    assert any(re.match(r"\s*slot\w*\[_i0\] = 0\.0", line) for line in body)
    assert not any("_zeros(" in line for line in body)


@pytest.mark.parametrize("name", ["carried", "view_after", "growing"])
def test_arrays_that_outlive_the_iteration_or_change_shape_allocate(name):
    m = adc.loads(SOURCE, "reuse.ad", jit=False)
    assert "slot" not in emit_module(getattr(m, name).ir)[0]


def test_gradient_through_taped_steps(module):
    x = np.random.default_rng(3).uniform(0.1, 0.5, 5)
    eps = 1e-6
    fd = [(module.last(x + eps * e, 4) - module.last(x - eps * e, 4)) / (2 * eps) for e in np.eye(5)]
    np.testing.assert_allclose(adc.grad(module.last, wrt="x")(x, 4), fd, rtol=1e-6, atol=1e-9)
    assert "slot" in adc.grad(module.last, wrt="x").compiled.source


FILLED = """
def sliced(x: float[n], y: float[n], lo: int, hi: int) -> float:
    total = 0.0
    for k in range(2):
        t = y * x
        u = t[lo:hi] * 2.0
        total += sum(u * u)
    return total
"""


def test_a_zeroed_adjoint_filled_by_a_slice_is_zeroed_outside_it_only():
    """The adjoint of reading t[lo:hi] is zeros with the slice's adjoint added into it: emitted
    as zeros outside the slice and a write inside, for any bounds (negative, empty, past the
    end), with the gradient numpy's."""
    m = adc.loads(FILLED, "filled.ad")
    grad = adc.grad(m.sliced, wrt="x")
    assert re.search(r"for _i0 in range\(0, _lo\):[^\n]*\n\s+t_\w*bar\[_i0\] = 0\.0", grad.compiled.source)
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=6), rng.normal(size=6)
    for lo, hi in [(1, 5), (0, 6), (-4, -1), (3, 3), (4, 2), (-9, 9)]:
        t = y * x
        inside = np.zeros(6)
        inside[lo:hi] = 8.0 * t[lo:hi]
        np.testing.assert_allclose(grad(x, y, lo, hi), 2 * inside * y, rtol=1e-13, err_msg=f"{lo}:{hi}")
