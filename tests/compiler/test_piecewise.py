"""Arrays built in two pieces, computed inside their one reader's loop (``compiler/piecewise.py``):
values against numpy in plain Python and compiled, where the split happens and where it must not,
and a gradient whose reverse sweep recomputes such an array."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from adc.compiler.emit_python import emit_module

SOURCE = """
def stage(x: float[n], y: float[n], h: float) -> float[n]:
    z = x * 1.0
    z[1:n] = x[1:n] * y[0:n - 1]
    return y + h * z / 2

def negative_bounds(x: float[n]) -> float[n]:
    z = exp(x)
    z[-3:-1] = x[0:2] * 2.0
    return z * x

def scalar_piece(x: float[n], s: float) -> float[n]:
    z = x * 3.0
    z[2:4] = s
    return z - x

def two_readers(x: float[n], y: float[n]) -> float[n]:
    z = x * 2.0
    z[1:3] = y[0:2]
    return (z + 1.0) * z

def changed_between(x: float[n]) -> float[n]:
    y = x * 1.0
    z = y * 2.0
    z[0:2] = y[1:3]
    y[2] = 5.0
    return z + y

def wrong_size(x: float[n]) -> float[n]:
    z = x * 1.0
    z[1:3] = x[0:3]
    return z * 2.0

def steps(x: float[n], s: int) -> float:
    y = zeros(n) + 0.1
    for i in range(s):
        z = x * 1.0
        z[1:n] = x[1:n] * y[0:n - 1]
        w = y + 0.5 * z
        u = x * 1.0
        u[1:n] = x[1:n] * w[0:n - 1]
        y = y + 0.25 * (z + u)
    return sum(y * y)
"""


def _numpy(name, x, y):
    if name == "stage":
        z = x.copy()
        z[1:] = x[1:] * y[:-1]
        return y + 0.3 * z / 2
    if name == "negative_bounds":
        z = np.exp(x)
        z[-3:-1] = x[0:2] * 2.0
        return z * x
    if name == "scalar_piece":
        z = x * 3.0
        z[2:4] = 0.7
        return z - x
    if name == "two_readers":
        z = x * 2.0
        z[1:3] = y[0:2]
        return (z + 1.0) * z
    w = x.copy()
    z = w * 2.0
    z[0:2] = w[1:3]
    w[2] = 5.0
    return z + w


ARGS = {"stage": lambda x, y: (x, y, 0.3), "negative_bounds": lambda x, y: (x,),
        "scalar_piece": lambda x, y: (x, 0.7), "two_readers": lambda x, y: (x, y),
        "changed_between": lambda x, y: (x,)}


@pytest.fixture(scope="module", params=[False, True], ids=["nojit", "jit"])
def module(request):
    return adc.loads(SOURCE, "piecewise.ad", jit=request.param)


@pytest.mark.parametrize("name", list(ARGS))
def test_values(module, name):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(9), rng.standard_normal(9)
    np.testing.assert_allclose(getattr(module, name)(*ARGS[name](x, y)), _numpy(name, x, y), rtol=1e-14)


def _splits(fn_ir) -> int:
    return emit_module(fn_ir)[0].count("for _i0 in range(_hi - _lo):")


def test_split_only_for_one_reader_with_unchanged_inputs():
    m = adc.loads(SOURCE, "piecewise.ad", jit=False)
    for split in ("stage", "negative_bounds", "scalar_piece", "wrong_size"):
        assert _splits(getattr(m, split).ir) == 1, split
    for stored in ("two_readers", "changed_between"):
        assert _splits(getattr(m, stored).ir) == 0, stored


def test_wrong_piece_size_raises(module):
    with pytest.raises(ValueError, match="shapes do not match"):
        module.wrong_size(np.ones(6))


def test_gradient_recomputes_the_pieces_in_their_reader():
    m = adc.loads(SOURCE, "piecewise.ad", jit=False)
    grad = adc.grad(m.steps, wrt="x")
    assert _splits(grad.ir) == 1          # z, recomputed by the reverse sweep to give w again
    x = np.random.default_rng(4).uniform(0.5, 1.5, 6)
    eps = 1e-6
    fd = [(m.steps(x + eps * e, 4) - m.steps(x - eps * e, 4)) / (2 * eps) for e in np.eye(6)]
    np.testing.assert_allclose(grad(x, 4), fd, rtol=1e-6, atol=1e-9)
