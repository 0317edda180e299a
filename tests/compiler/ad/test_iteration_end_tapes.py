"""A value taped at the end of each iteration and popped at the start of each reverse iteration
(``compiler/ad/iteration_end_tapes.py``) instead of around its overwrite: where it moves, and
that gradients are bit for bit those of the tapes as the transform places them, and match
finite differences. Plain Python: the pass works on the IR."""
from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

import adc
from adc.compiler.ad import reverse as reverse_module
from adc.compiler.emit_python import emit_module, lent_tapes
from adc.runtime.cache import load_module
from gradcheck import check_grad

SOURCE = """
def residuals(x: float[m], t: float[n]) -> float:
    total = 0.0
    for i in range(n):
        inner = sign(t[i])
        mul = 1.0
        for j in range(m):
            inner -= x[j] * mul
            mul *= t[i]
        total += inner * inner
    return total / 2

def returned(x: float[m], t: float[n]) -> float:
    # the last `inner` is read after the loop: its pop must stay where it gives the value
    # before the overwrite
    total = 0.0
    inner = 0.0
    for i in range(n):
        inner = sign(t[i])
        for j in range(m):
            inner = inner * t[i] - x[j]
        total += sin(inner)
    return total + inner * inner

def twice(x: float[m], t: float[n]) -> float:
    # `r` is overwritten twice per iteration and read by the reverse in between
    total = 0.0
    for i in range(n):
        r = t[i] * x[0]
        total += r * r
        r = sin(r) + x[1]
        total += r * t[i]
    return total
"""


@pytest.fixture(scope="module")
def module():
    return adc.loads(SOURCE, "iteration_end.ad", jit=False)


def _loops(fn):
    return [st for st in fn.body if type(st).__name__ == "For"]


def _as_placed(f, wrt):
    """The gradient IR with the tapes where the transform places them (the pass off)."""
    with mock.patch.object(reverse_module, "tape_at_iteration_end", lambda *a: False):
        return reverse_module.reverse(f.ir, [wrt], vjp=False, with_value=False).fn


def _run(fn, *args):
    source, entry, helpers = emit_module(fn)
    module, _ = load_module(source, jit=False, helpers=helpers)
    return getattr(module, entry)(*args, *[np.empty(0) for _ in lent_tapes(fn)])[0]


def test_residual_is_taped_at_the_end_of_its_iteration(module):
    fwd, rev = _loops(adc.grad(module.residuals, "x").ir)
    assert fwd.body[-1].prim in ("push", "push_reserved") and fwd.body[-1].args[1].name == "inner"
    assert rev.body[0].prim == "pop" and rev.body[0].target.name == "inner"
    assert not any(getattr(st, "prim", None) in ("push", "push_reserved") for st in fwd.body[:-1])


@pytest.mark.parametrize("name", ["residuals", "returned", "twice"])
def test_gradient_is_bit_for_bit_the_same(module, name):
    f = getattr(module, name)
    rng = np.random.default_rng(len(name))
    for n in (0, 1, 5):
        x, t = rng.standard_normal(3), rng.uniform(-1.0, 1.0, n)
        got = adc.grad(f, "x")(x, t)
        assert np.array_equal(got, _run(_as_placed(f, "x"), x, t)), (name, n)
        check_grad(f, {"x": x, "t": t}, ["x"])


def _pop_at(body) -> int:
    return next(k for k, st in enumerate(body) if getattr(st, "prim", None) == "pop")


def test_value_read_after_the_loop_keeps_its_restore(module):
    fwd, rev = _loops(adc.grad(module.returned, "x").ir)
    assert getattr(fwd.body[-1], "prim", None) not in ("push", "push_reserved")
    assert _pop_at(rev.body) > 0


def test_value_read_after_its_pop_keeps_its_restore(module):
    fwd, rev = _loops(adc.grad(module.twice, "x").ir)
    assert _pop_at(rev.body) > 0
