"""The differentiation API: adc.grad, adc.value_and_grad, adc.vjp and adc.adjoint_source.

wrt selection and its errors, non-scalar results, seeds for tuple and array results, out= and
accumulate=, results that never alias or modify the caller's arrays, and the printed adjoints.
Everything runs as plain Python (``jit=False``) except one group that repeats the
buffer and caller-array checks compiled.
"""
from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

import adc
from adc import ArgumentError, GradientError

SOURCE = textwrap.dedent('''
    def two(x: float[n], w: float[n]) -> float:
        return sum(w * sin(x)) + dot(w, w)

    def mixed(k: int, x: float[n], s: float, flag: bool, idx: int[m]) -> float:
        t = s
        for j in range(m):
            t = t * x[idx[j]] + k
        if flag:
            t = t * 2
        return t

    def one(x: float[n], k: int) -> float:
        return sum(x * x) * k

    def scalar(s: float) -> float:
        return s * s * s

    def ints_only(k: int, idx: int[n]) -> float:
        return float(k + idx[0])

    def vector(x: float[n], s: float) -> float[n]:
        return x * s

    def matrix(A: float[n, m]) -> float[m, n]:
        return transpose(A) * 3

    def pair(x: float[n], s: float) -> (float, float[n]):
        return sum(x * x) * s, sin(x) * s

    def returns_int(x: float[n]) -> int:
        return n

    def writes_param(x: float[n], A: float[n, m], s: float) -> float:
        x[0] = s * x[1]
        A[1] = A[0] * s
        A[0, 0] += x[0]
        x *= s
        return sum(x * x) + sum(A * A)

    def constant(x: float[n], A: float[n, m], s: float) -> float:
        k = int(s * 10)
        return float(k + len(x)) + 2.0

    def loop_pair(x: float[n], s: float) -> (float[n], float):
        y = x
        t = s
        for i in range(3):
            y = y * t
            t = t + sum(y)
        return y, t

    def loop_writes(x: float[n], s: float) -> float:
        for i in range(1, n):
            x[i] = sin(x[i - 1]) * s + x[i]
        return sum(x)
''')

X = np.array([0.3, -1.2, 2.0])
W = np.array([0.5, 0.25, -1.0])


@pytest.fixture(scope="module")
def m():
    return adc.loads(SOURCE, "api.ad", jit=False)


# ---- wrt ----------------------------------------------------------------------------------------

def test_wrt_defaults_to_every_float_parameter_in_order(m):
    dx, dw = adc.grad(m.two)(X, W)
    np.testing.assert_allclose(dx, W * np.cos(X))
    np.testing.assert_allclose(dw, np.sin(X) + 2 * W)
    assert adc.grad(m.mixed).wrt == ("x", "s")
    grads = adc.grad(m.mixed)(2, X, 0.5, True, np.array([0, 2]))
    assert isinstance(grads, tuple) and len(grads) == 2


def test_a_single_float_parameter_gives_a_bare_gradient(m):
    dx = adc.grad(m.one)(X, 3)
    np.testing.assert_allclose(dx, 6 * X)
    assert isinstance(adc.grad(m.scalar)(2.0), float)
    assert adc.grad(m.scalar)(2.0) == 12.0


def test_wrt_string_and_tuple(m):
    np.testing.assert_allclose(adc.grad(m.two, wrt="w")(X, W), np.sin(X) + 2 * W)
    (dw,) = adc.grad(m.two, wrt=("w",))(X, W)
    np.testing.assert_allclose(dw, np.sin(X) + 2 * W)


def test_wrt_tuple_order_is_the_order_of_the_results(m):
    dw, dx = adc.grad(m.two, wrt=("w", "x"))(X, W)
    np.testing.assert_allclose(dx, W * np.cos(X))
    np.testing.assert_allclose(dw, np.sin(X) + 2 * W)
    ds, dx = adc.grad(m.mixed, wrt=["s", "x"])(1, X, 0.5, False, np.array([1]))
    assert ds == pytest.approx(X[1])
    np.testing.assert_allclose(dx, [0.0, 0.5, 0.0])


@pytest.mark.parametrize("wrt, kind", [("k", "int"), ("flag", "bool"), ("idx", "int[m]"), (("x", "k"), "int")])
def test_wrt_naming_a_non_float_parameter_lists_the_valid_names(m, wrt, kind):
    with pytest.raises(GradientError) as err:
        adc.grad(m.mixed, wrt=wrt)
    msg = str(err.value)
    assert kind in msg and "x, s" in msg


@pytest.mark.parametrize("wrt", ["y", ("x", "nope")])
def test_wrt_naming_an_unknown_parameter_lists_the_valid_names(m, wrt):
    with pytest.raises(GradientError, match=r"no parameter '(y|nope)'.*x, s"):
        adc.grad(m.mixed, wrt=wrt)


def test_wrt_empty_or_repeated_is_an_error(m):
    with pytest.raises(GradientError, match="empty.*x, w"):
        adc.grad(m.two, wrt=())
    with pytest.raises(GradientError, match="twice"):
        adc.grad(m.two, wrt=("x", "x"))


def test_a_function_without_float_parameters_has_no_gradient(m):
    with pytest.raises(GradientError, match="no float parameters"):
        adc.grad(m.ints_only)


def test_grad_needs_an_adc_function():
    with pytest.raises(TypeError, match="m.f"):
        adc.grad(lambda x: x)


# ---- results that are not a scalar float ---------------------------------------------------------

@pytest.mark.parametrize("name, shown", [("vector", "float[n]"), ("matrix", "float[m, n]"),
                                         ("pair", "(float, float[n])"), ("returns_int", "int")])
def test_grad_of_a_non_scalar_result_names_the_type_and_points_to_vjp(m, name, shown):
    for api in (adc.grad, adc.value_and_grad):
        with pytest.raises(GradientError) as err:
            api(getattr(m, name))
        msg = str(err.value)
        assert shown in msg and "adc.vjp" in msg and "seed" in msg


def test_vjp_of_an_array_result(m):
    v = np.array([1.0, 10.0, 100.0])
    dx, ds = adc.vjp(m.vector)(X, 2.0, seed=v)
    np.testing.assert_allclose(dx, 2.0 * v)
    assert ds == pytest.approx(v @ X)
    A = np.arange(6.0).reshape(2, 3)
    V = np.arange(6.0).reshape(3, 2) + 1
    np.testing.assert_allclose(adc.vjp(m.matrix)(A, seed=V), 3 * V.T)


def test_vjp_of_a_tuple_result_takes_a_tuple_seed(m):
    v = np.array([1.0, -2.0, 0.5])
    dx, ds = adc.vjp(m.pair)(X, 1.5, seed=(2.0, v))
    np.testing.assert_allclose(dx, 2.0 * 2 * X * 1.5 + v * np.cos(X) * 1.5)
    assert ds == pytest.approx(2.0 * np.sum(X * X) + v @ np.sin(X))
    dx2, _ = adc.vjp(m.pair)(X, 1.5, seed=[2.0, list(v)])
    np.testing.assert_allclose(dx2, dx)
    dx0, ds0 = adc.vjp(m.pair)(X, 1.5, seed=(0.0, np.zeros(3)))
    assert not np.any(dx0) and ds0 == 0.0


def test_vjp_of_a_tuple_result_computed_in_a_loop(m):
    x, s = np.array([0.1, 0.2, 0.3]), 0.5
    v = np.array([1.0, -0.5, 2.0])

    def seeded(x, s):
        y, t = m.loop_pair(x, s)
        return v @ y + 3.0 * t
    dx, ds = adc.vjp(m.loop_pair)(x, s, seed=(v, 3.0))
    h = 1e-6
    fd_x = [(seeded(x + h * e, s) - seeded(x - h * e, s)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(dx, fd_x, rtol=1e-6)
    assert ds == pytest.approx((seeded(x, s + h) - seeded(x, s - h)) / (2 * h), rel=1e-6)


def test_parameters_the_result_does_not_depend_on_get_zero_gradients(m):
    dx, dA, ds = adc.grad(m.constant)(X, np.ones((3, 2)), 0.55)
    assert dx.shape == (3,) and dA.shape == (3, 2)
    assert not np.any(dx) and not np.any(dA) and ds == 0.0


def test_vjp_of_a_scalar_result_equals_grad_times_seed(m):
    dx, dw = adc.vjp(m.two)(X, W, seed=2.5)
    gx, gw = adc.grad(m.two)(X, W)
    np.testing.assert_allclose(dx, 2.5 * gx)
    np.testing.assert_allclose(dw, 2.5 * gw)


def test_vjp_seed_errors_are_clear(m):
    f = adc.vjp(m.vector, wrt="x")
    with pytest.raises(GradientError, match=r"needs seed=.*float\[n\]"):
        f(X, 2.0)
    with pytest.raises(ArgumentError, match=r"'seed' expects float\[n\], got shape \(4,\): n = 3 from 'x'"):
        f(X, 2.0, seed=np.ones(4))
    with pytest.raises(ArgumentError, match=r"'seed' expects float\[n\].*got shape \(3, 1\)"):
        f(X, 2.0, seed=np.ones((3, 1)))
    with pytest.raises(ArgumentError, match=r"'seed\[1\]' expects float\[n\], got shape \(2,\)"):
        adc.vjp(m.pair)(X, 1.0, seed=(1.0, np.ones(2)))
    with pytest.raises(ArgumentError, match=r"'seed\[0\]' expects a float scalar"):
        adc.vjp(m.pair)(X, 1.0, seed=(np.ones(3), np.ones(3)))
    with pytest.raises(ArgumentError, match=r"'seed' expects float\[m, n\], got shape \(2, 3\): m = 3 from 'A'"):
        adc.vjp(m.matrix)(np.ones((2, 3)), seed=np.ones((2, 3)))
    for bad in (np.ones(3), (1.0,), (1.0, np.ones(3), 2.0)):
        with pytest.raises(GradientError, match=r"returns 2 values \(float, float\[n\]\); seed= must be a tuple"):
            adc.vjp(m.pair)(X, 1.0, seed=bad)
    with pytest.raises(GradientError, match="seed= is for adc.vjp"):
        adc.grad(m.two)(X, W, seed=1.0)


def test_arguments_are_checked_like_the_forward_call(m):
    with pytest.raises(ArgumentError, match="'w'.*n = 3 from 'x'"):
        adc.grad(m.two)(X, np.ones(4))
    with pytest.raises(ArgumentError, match="takes 2 argument"):
        adc.grad(m.two)(X, W, W)
    np.testing.assert_allclose(adc.grad(m.two, wrt="x")(w=W, x=X), W * np.cos(X))
    np.testing.assert_allclose(adc.grad(m.one)([1, 2], 1), [2.0, 4.0])   # ints are accepted for floats


# ---- value_and_grad, out=, accumulate= -------------------------------------------------------------

def test_value_and_grad_returns_the_value_and_the_gradient(m):
    value, (dx, dw) = adc.value_and_grad(m.two)(X, W)
    assert isinstance(value, float) and value == pytest.approx(m.two(X, W))
    np.testing.assert_allclose(dx, adc.grad(m.two)(X, W)[0])
    value, ds = adc.value_and_grad(m.scalar)(2.0)
    assert (value, ds) == (8.0, 12.0)


def test_out_writes_and_accumulate_adds(m):
    df = adc.grad(m.two, wrt="x")
    g = np.full(3, 7.0)
    result = df(X, W, out=g)
    assert result is g
    np.testing.assert_allclose(g, W * np.cos(X))
    df(X, W, out=g, accumulate=True)
    np.testing.assert_allclose(g, 2 * W * np.cos(X))
    gx, gw = np.zeros(3), np.ones(3)
    rx, rw = adc.grad(m.two)(X, W, out=(gx, gw), accumulate=True)
    assert rx is gx and rw is gw
    np.testing.assert_allclose(gw, 1 + np.sin(X) + 2 * W)
    value, gx2 = adc.value_and_grad(m.two, wrt="x")(X, W, out=np.zeros(3))
    assert value == pytest.approx(m.two(X, W))
    np.testing.assert_allclose(gx2, W * np.cos(X))


def test_out_errors(m):
    df = adc.grad(m.two, wrt="x")
    with pytest.raises(GradientError, match="needs out="):
        df(X, W, accumulate=True)
    with pytest.raises(GradientError, match=r"shape \(4,\).*shape \(3,\)"):
        df(X, W, out=np.zeros(4))
    with pytest.raises(GradientError, match="numpy array"):
        df(X, W, out=[0.0, 0.0, 0.0])
    with pytest.raises(GradientError, match="tuple of 2 arrays"):
        adc.grad(m.two)(X, W, out=np.zeros(3))


def test_seed_example_2_accumulation(m):
    seed2 = adc.loads("def f(x: float[n]) -> float:\n    return 2 * dot(x, x)\n"
                      "def g(x: float[n]) -> float:\n    return sum(x)\n", "seed2.ad", jit=False)
    x = np.arange(4.0)
    buf = np.zeros(4)
    adc.grad(seed2.f)(x, out=buf, accumulate=True)
    adc.grad(seed2.g)(x, out=buf, accumulate=True)
    np.testing.assert_array_equal(buf, [1, 5, 9, 13])
    buf[:] = 0
    adc.grad(seed2.g)(x, out=buf, accumulate=True)
    np.testing.assert_array_equal(buf, [1, 1, 1, 1])


def test_gradients_are_fresh_arrays(m):
    """Two calls never share a result buffer, and a result never aliases an argument."""
    x, w = X.copy(), W.copy()
    dx1, dw1 = adc.grad(m.two)(x, w)
    dx2, dw2 = adc.grad(m.two)(x, w)
    for a in (dx1, dw1):
        for b in (dx2, dw2, x, w):
            assert not np.shares_memory(a, b)


# ---- the caller's arrays ------------------------------------------------------------------------

def _caller_arrays_unchanged(mod):
    x = np.array([0.5, -0.7, 1.1])
    A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    x0, A0 = x.copy(), A.copy()
    value, (dx, dA, ds) = adc.value_and_grad(mod.writes_param)(x, A, 1.5)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(A, A0)
    assert value == pytest.approx(mod.writes_param(x0, A0, 1.5))
    # d/dA: A[1] is overwritten with A[0] * s, so A[1] itself has no influence
    assert not np.any(dA[1])
    dx2 = adc.grad(mod.loop_writes, wrt="x")(x, 0.5)
    np.testing.assert_array_equal(x, x0)
    assert dx2.shape == (3,)
    v = np.ones(3)
    adc.vjp(mod.vector)(x, 2.0, seed=v)
    np.testing.assert_array_equal(v, np.ones(3))


def test_the_gradient_does_not_modify_the_callers_arrays(m):
    _caller_arrays_unchanged(m)


# ---- adjoint_source -----------------------------------------------------------------------------

def test_adjoint_source_python_is_valid_python(m):
    for f, wrt in ((m.two, None), (m.two, "w"), (m.mixed, ("s",)), (m.pair, None), (m.loop_writes, "x")):
        text = adc.adjoint_source(f, wrt=wrt, lang="python")
        compile(text, f"<adjoint of {f.name}>", "exec")
        assert "numba" in text and "def " in text


def test_adjoint_source_ad_reads_as_ad(m):
    text = adc.adjoint_source(m.two, wrt="x")
    assert "x_bar" in text
    assert re.search(r"^def two\w*\(x: float\[n\], w: float\[n\]\)", text, re.M)
    assert "return" in text
    assert "x_bar" in adc.adjoint_source(m.vector, wrt="x")       # a VJP for a non-scalar result
    assert "seed" in adc.adjoint_source(m.vector, wrt="x")
    assert "s_bar" in adc.adjoint_source(m.scalar, lang="ad")


def test_adjoint_source_rejects_an_unknown_language(m):
    with pytest.raises(ValueError, match="'ad' or 'python'"):
        adc.adjoint_source(m.two, lang="c")


def test_adjoint_source_checks_wrt(m):
    with pytest.raises(GradientError, match="x, s"):
        adc.adjoint_source(m.mixed, wrt="k")


# ---- the same with the JIT (one compiled group) ---------------------------------------------------

@pytest.fixture(scope="module")
def mj():
    return adc.loads(SOURCE, "api.ad", jit=True)


def test_jit_out_accumulate_and_caller_arrays(mj, m):
    df = adc.grad(mj.two, wrt="x")
    g = np.zeros(3)
    df(X, W, out=g, accumulate=True)
    df(X, W, out=g, accumulate=True)
    np.testing.assert_allclose(g, 2 * W * np.cos(X))
    _caller_arrays_unchanged(mj)
    dx, ds = adc.vjp(mj.pair)(X, 1.5, seed=(2.0, W))
    ex, es = adc.vjp(m.pair)(X, 1.5, seed=(2.0, W))
    np.testing.assert_allclose(dx, ex)
    assert ds == pytest.approx(es)
