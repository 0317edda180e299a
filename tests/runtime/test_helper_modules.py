"""Helpers live in modules of their own (compiler/helpers.py, runtime/cache.py): a forward function
and its derivative call the same compiled helper, plain-Python and JIT loads of one program in
one process each get their own copies, and a generated module still runs on its own from the
cache directory."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import adc
from adc.compiler.helpers import helper_modules, module_name, module_text

PROGRAM = """\
def f(a: float[n, m], b: float[m, k], v: float[k]) -> float:
    return sum(exp((a @ b) @ v))
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ADC_CACHE_DIR", str(tmp_path))
    return tmp_path


def _args():
    rng = np.random.default_rng(3)
    return rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)


def _reference(a, b, v):
    return float(np.sum(np.exp(a @ b @ v)))


def test_forward_and_gradient_call_one_compiled_helper(cache):
    m = adc.loads(PROGRAM, "shared.ad")
    a, b, v = _args()
    assert m.f(a, b, v) == pytest.approx(_reference(a, b, v), rel=1e-12)
    forward = m.f.compiled.call.py_func.__globals__
    compiled_before = dict(forward["_matmul"].overloads)
    g = adc.grad(m.f, wrt="a")
    da = g(a, b, v)
    gradient = g.compiled.call.py_func.__globals__
    assert gradient["_matmul"] is forward["_matmul"] and gradient["_exp"] is forward["_exp"]
    for sig, cres in compiled_before.items():       # the forward's compilation was reused as it is
        assert forward["_matmul"].overloads[sig] is cres
    h = 1e-6
    bump = np.zeros_like(a)
    bump[1, 2] = h
    fd = (_reference(a + bump, b, v) - _reference(a - bump, b, v)) / (2 * h)
    assert da[1, 2] == pytest.approx(fd, rel=1e-6)


def test_plain_python_and_jit_loads_keep_their_own_helpers(cache):
    a, b, v = _args()
    jitted = adc.loads(PROGRAM, "modes.ad", jit=True)
    plain = adc.loads(PROGRAM, "modes.ad", jit=False)
    assert plain.f(a, b, v) == jitted.f(a, b, v)
    names = [n for n in cache.glob("adc_helper_exp_*.py")]
    assert len(names) == 1
    jit_exp = sys.modules[names[0].stem]._exp
    plain_exp = sys.modules[names[0].stem + "_nojit"]._exp
    assert hasattr(jit_exp, "overloads") and not hasattr(plain_exp, "overloads")
    assert plain_exp(1.5) == jit_exp(1.5)
    again = adc.loads(PROGRAM.replace("sum(", "1.0 * sum("), "modes.ad", jit=False)
    assert again.f(a, b, v) == pytest.approx(plain.f(a, b, v), rel=1e-15)
    assert sys.modules[names[0].stem]._exp is jit_exp


def test_a_generated_module_runs_on_its_own_from_the_cache_directory(cache):
    m = adc.loads(PROGRAM, "alone.ad", jit=False)
    a, b, v = _args()
    want = m.f(a, b, v)
    main = [p.stem for p in cache.glob("adc_*.py") if not p.stem.startswith("adc_helper")]
    assert len(main) == 1
    script = ("import sys, numpy as np; sys.path.insert(0, sys.argv[1]); import " + main[0] + " as g; "
              "rng = np.random.default_rng(3); a, b, v = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), "
              "rng.normal(size=5); print(repr(float(g.f(a, b, v))))")
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run([sys.executable, "-c", script, str(cache)], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert float(out) == want


def test_helper_modules_come_after_the_ones_they_import_and_are_named_by_their_text():
    modules = list(helper_modules({"_sigmoid", "_matmul", "_zeros"}, blas=True))
    assert modules == [module_name("_matmul", True), module_name("_exp", True), module_name("_sigmoid", True)]
    assert f"from {module_name('_exp', True)} import _exp" in module_text("_sigmoid", True)
    assert module_name("_matmul", True) != module_name("_matmul", False)
    assert module_name("_exp", True) == module_name("_exp", False)
