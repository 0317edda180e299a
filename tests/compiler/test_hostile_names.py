"""User identifiers and strings can never inject code into the generated Python.

Names that collide with the generated module's own globals (numpy, numba, helpers), Python
builtins and keywords-as-prefixes are renamed; assert messages and file names are emitted with
repr. Each program here would misbehave if a name or string reached the generated code as is.
"""
from __future__ import annotations

import numpy as np
import pytest

import adc

HOSTILE = '''\
def np(x: float) -> float:
    return x

def f(x: float[n], print: float, list: float) -> float:
    _np = x * 2.0
    _nb = sum(_np)
    abs_ = _nb
    IndexError = print + 1.0
    eval = IndexError * 2.0
    __import__ = 1.0
    exec_ = np(eval)
    _sigmoid = 3.0
    return abs_ + exec_ + _sigmoid + list
'''


def _run(src, *args, jit=False, filename="h.ad"):
    m = adc.loads(src, filename, jit=jit)
    return m, m.f(*args)


def test_dunder_names_are_rejected():
    with pytest.raises(adc.AdError, match="reserved"):
        adc.loads(HOSTILE, "h.ad")


@pytest.mark.parametrize("jit", [False, True], ids=["nojit", "jit"])
def test_names_that_shadow_generated_globals_are_renamed(jit):
    src = HOSTILE.replace("    __import__ = 1.0\n", "")
    m, value = _run(src, np.array([1.0, 2.0]), 0.5, 10.0, jit=jit)
    assert value == pytest.approx(6.0 + 3.0 + 3.0 + 10.0)
    g = adc.grad(m.f, wrt=("x", "print"))(np.array([1.0, 2.0]), 0.5, 10.0)
    np.testing.assert_allclose(g[0], [2.0, 2.0])
    assert g[1] == pytest.approx(2.0)
    source = m.f.compiled.source
    assert "def f(x, print_1, range_1)" in source or "print_1" in source


def test_strings_are_quoted_in_generated_code():
    evil = '"); import os; os.system("echo pwned'
    src = f"def f(x: float) -> float:\n    assert x > 0, '{evil}'\n    return x\n"
    m = adc.loads(src, 'evil"\n.ad', jit=False)
    assert m.f(1.0) == 1.0
    with pytest.raises(AssertionError) as err:
        m.f(-1.0)
    assert evil in str(err.value)
    compile(m.f.compiled.source, "generated", "exec")


def test_file_names_with_quotes_and_newlines_are_safe():
    m = adc.loads("def f(x: float[n]) -> float:\n    return x[5]\n", "a'b\"\nc.ad", jit=False)
    with pytest.raises(IndexError, match="line 2"):
        m.f(np.ones(2))
