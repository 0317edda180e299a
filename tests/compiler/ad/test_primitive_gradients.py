"""Every differentiable primitive and builtin: adc's gradient against central finite differences.

ONE table, one row per primitive/builtin/operator form. Each row is a tiny ``.ad`` function that
returns a scalar float, usually ``sum(w * f(x))`` (``u @ F(A) @ v`` for a matrix) with fixed
random weights so the adjoint flowing into the primitive is not uniform, and an input generator
that keeps away from kinks and domain edges. Every float parameter (weights included) is
differentiated.

All rows are generated into ONE ``.ad`` module (one function per row, ``g_<row>``), loaded once
per mode: with the Numba JIT and as plain Python (``jit=False``). The finite differences always
run the plain-Python forward pass (the same generated code), so the JIT mode compiles only the
gradients; its value from ``value_and_grad`` is checked against that forward pass too.

The second half checks the conventions at non-smooth points (PyTorch's), exact zeros through
``stop_gradient``/``sign``/``floor``, and that every primitive has a derivative rule.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import adc
from adc.compiler.ad.rules import missing_rules
from gradcheck import check_grad, float_params

N, M = 5, 3


@dataclass
class Row:
    name: str
    params: str                   # "x: float[n], w: float[n]"
    body: str                     # the function body; its last line returns a scalar float
    gen: Callable                 # rng -> dict of arguments
    exact: Callable | None = None # args -> expected gradient dict, where differences cannot tell

    def source(self) -> str:
        body = "\n".join("    " + line for line in self.body.strip().splitlines())
        return f"def g_{self.name}({self.params}) -> float:\n{body}\n"


def _u(lo, hi, *shape):
    return lambda rng: rng.uniform(lo, hi, shape) if shape else float(rng.uniform(lo, hi))


def _away(lo, hi, *shape):
    """Uniform magnitudes in [lo, hi] with random signs: away from a kink at 0."""
    return lambda rng: rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


def _args(**gens):
    return lambda rng: {k: g(rng) if callable(g) else g for k, g in gens.items()}


W = _u(-1, 1, N)                    # weights of a vector result
V = _u(-1, 1, M)                    # weights of a matrix result u @ A @ v: Numba compiles
                                    # elementwise operations on matrices slowly, products fast

UNARY = [  # name, input generator (away from kinks and domain edges)
    ("sin", _u(-3, 3, N)), ("cos", _u(-3, 3, N)), ("tan", _u(-1.2, 1.2, N)),
    ("asin", _u(-0.9, 0.9, N)), ("acos", _u(-0.9, 0.9, N)), ("atan", _u(-3, 3, N)),
    ("exp", _u(-2, 2, N)), ("log", _u(0.3, 3, N)), ("log1p", _u(-0.6, 3, N)),
    ("expm1", _u(-2, 2, N)), ("sqrt", _u(0.3, 3, N)), ("abs", _away(0.2, 2, N)),
    ("tanh", _u(-2, 2, N)), ("sigmoid", _u(-4, 4, N)), ("softplus", _u(-4, 4, N)),
    ("relu", _away(0.2, 2, N)),
    ("sign", _away(0.2, 2, N)), ("floor", lambda rng: rng.integers(-3, 3, N) + rng.uniform(0.2, 0.8, N)),
]

ROWS = [Row(f, "x: float[n], w: float[n]", f"return sum(w * {f}(x))", _args(x=gen, w=W)) for f, gen in UNARY]
ROWS += [
    Row("unary_scalar", "s: float",
        "a = sin(s) + cos(s) + tan(s) + asin(s) + acos(s) + atan(s) + exp(s) + log(s)\n"
        "b = log1p(s) + expm1(s) + sqrt(s) + abs(s) + tanh(s) + sigmoid(s) + softplus(s) + relu(s)\n"
        "return a * b + sign(s) + floor(s)", _args(s=_u(0.2, 0.8))),
    Row("unary_matrix", "A: float[n, m], u: float[n], v: float[m]", "return u @ (tanh(A) * abs(A)) @ v",
        _args(A=_away(0.2, 1.5, N, M), u=W, v=V)),
    Row("arith", "x: float[n], y: float[n], w: float[n]",
        "return sum(w * (x / y - y * x + -x + 2 / x - 1.5 * y + x - 3))",
        _args(x=_away(0.5, 2, N), y=_away(0.5, 2, N), w=W)),
    Row("arith_scalar", "s: float, t: float", "return s / t - s * t + -s + 2 / s - (t - 1) * 3",
        _args(s=_u(0.5, 2), t=_u(0.5, 2))),
    Row("int_promotion", "x: float[n], k: int, w: float[n]", "return sum(w * (k * x + x / k - 2 * x * k))",
        _args(x=_u(-2, 2, N), k=3, w=W)),
    Row("maximum", "x: float[n], y: float[n], w: float[n]", "return sum(w * maximum(x, y))",
        _args(x=_u(-2, 2, N), y=_u(-2, 2, N), w=W)),
    Row("minimum", "x: float[n], y: float[n], w: float[n]", "return sum(w * minimum(x, y))",
        _args(x=_u(-2, 2, N), y=_u(-2, 2, N), w=W)),
    Row("maximum_scalar_arg", "x: float[n], s: float, w: float[n]",
        "return sum(w * maximum(x, s)) + sum(w * minimum(s, x))", _args(x=_u(-2, 2, N), s=0.13, w=W)),
    Row("max_two_scalars", "s: float, t: float",
        "return max(s, t) * 3 + max(t * t, s) - min(s, t) * 2 + min(t, 1.0)",
        _args(s=0.3, t=-0.7)),
    Row("max_two_scalars_other", "s: float, t: float",
        "return max(s, t) * 3 + min(s, t) * 2", _args(s=-0.4, t=0.9)),
    Row("pow_both", "x: float[n], y: float[n], w: float[n]", "return sum(w * pow(x, y))",
        _args(x=_u(0.5, 2, N), y=_u(-2, 2, N), w=W)),
    Row("pow_operator", "x: float[n], p: float, w: float[n]",
        "return sum(w * x ** p) + sum(w * x ** 3) + sum(w * 2.0 ** x)",
        _args(x=_u(0.5, 2, N), p=_u(-1.5, 2.5), w=W)),
    Row("pow_scalar", "s: float, t: float", "return s ** t + pow(t, 2) + s ** 0.5 + pow(s, -1)",
        _args(s=_u(0.5, 2), t=_u(-2, 2))),
    Row("sum", "x: float[n], A: float[n, m]", "return sum(x * x) + sum(A) * 2",
        _args(x=_u(-2, 2, N), A=_u(-2, 2, N, M))),
    Row("prod", "x: float[n]", "return prod(x)", _args(x=_away(0.5, 1.5, N))),
    Row("mean", "x: float[n], A: float[n, m]",
        "return mean(x * x) + mean(A) * 3", _args(x=_u(-2, 2, N), A=_u(-2, 2, N, M))),
    Row("norm", "x: float[n]", "return norm(x)", _args(x=_u(-2, 2, N))),
    Row("max_array", "x: float[n], w: float[n]", "return max(w * x)", _args(x=_u(-2, 2, N), w=W)),
    Row("min_array", "x: float[n], w: float[n]", "return min(w * x)", _args(x=_u(-2, 2, N), w=W)),
    Row("logsumexp", "x: float[n], w: float[n]", "return logsumexp(w * x)", _args(x=_u(-2, 2, N), w=W)),
    Row("reductions_matrix", "A: float[n, m]", "return prod(A) + norm(A) + max(A) + min(A) + logsumexp(A)",
        _args(A=_away(0.6, 1.4, N, M))),
    Row("dot", "x: float[n], y: float[n]", "return dot(x, y) + dot(x, x)", _args(x=_u(-2, 2, N), y=_u(-2, 2, N))),
    Row("matmul_mm", "A: float[n, m], B: float[m, k], u: float[n], z: float[k]", "return u @ (A @ B) @ z",
        _args(A=_u(-1, 1, N, M), B=_u(-1, 1, M, 4), u=W, z=_u(-1, 1, 4))),
    Row("matmul_mv", "A: float[n, m], v: float[m], w: float[n]", "return sum(w * (A @ v))",
        _args(A=_u(-1, 1, N, M), v=_u(-1, 1, M), w=W)),
    Row("matmul_vm", "x: float[n], A: float[n, m], v: float[m]", "return sum(v * (x @ A))",
        _args(x=_u(-1, 1, N), A=_u(-1, 1, N, M), v=_u(-1, 1, M))),
    Row("matmul_vv", "x: float[n], y: float[n]",
        "return (x @ y) * (x @ x)", _args(x=_u(-1, 1, N), y=_u(-1, 1, N))),
    Row("transpose", "A: float[n, m], u: float[n], v: float[m]",
        "return v @ transpose(A) @ u + (v * v) @ A.T @ (u * u)",
        _args(A=_u(-1, 1, N, M), u=W, v=V)),
    Row("reshape", "A: float[n, m], x: float[k], u: float[n], v: float[m], w: float[k]",
        "return v @ reshape(A, m, n) @ u + sum(w * reshape(A, k) * reshape(A, k))",
        _args(A=_u(-1, 1, N, M), x=np.zeros(N * M), u=W, v=V, w=_u(-1, 1, N * M))),
    Row("reshape_vector", "x: float[k], u: float[n], v: float[m]", "return u @ reshape(x * x, n, m) @ v",
        _args(x=_u(-1, 1, N * M), u=W, v=V)),
    Row("outer", "x: float[n], v: float[m], u: float[n], r: float[m]",
        "return u @ outer(x, v) @ r + u @ outer(x * x, v * v) @ r",
        _args(x=_u(-1, 1, N), v=V, u=W, r=_u(-1, 1, M))),
    Row("outer_fused", "x: float[n], v: float[m], A: float[n, m]",
        "return sum(exp(outer(x, v) * 0.5)) + sum(outer(x, v) * A * (outer(x, v) * A))",
        _args(x=_u(-1, 1, N), v=V, A=_u(-1, 1, N, M))),
    Row("index", "x: float[n], i: int, j: int", "return x[i] * x[j] + sin(x[i]) + x[0]",
        _args(x=_u(-2, 2, N), i=1, j=3)),
    Row("index_repeated", "x: float[n], i: int", "return x[i] * x[i] * x[i]", _args(x=_u(-2, 2, N), i=2)),
    Row("index_2d", "A: float[n, m], i: int, j: int", "return A[i, j] * A[0, 1] + A[i, 0] ** 2",
        _args(A=_u(-2, 2, N, M), i=2, j=2)),
    Row("row", "A: float[n, m], i: int, v: float[m]", "return sum(v * A[i]) + sum(A[i] * A[0]) + dot(A[i + 1], v)",
        _args(A=_u(-2, 2, N, M), i=2, v=_u(-1, 1, M))),
    Row("slice", "x: float[n], w: float[n]", "return sum(w[1:4] * x[1:4]) + sum(x[:2] * x[3:]) + sum(sin(x[2:]))",
        _args(x=_u(-2, 2, N), w=W)),
    Row("slice_int_bounds", "x: float[n], lo: int, hi: int, w: float[n]", "return sum(w[lo:hi] * exp(x[lo:hi]))",
        _args(x=_u(-2, 2, N), lo=1, hi=4, w=W)),
    Row("negative_index", "x: float[n], A: float[n, m], v: float[m]",
        "return x[-1] * x[-2] + A[-1, -2] * A[1, -1] + sum(v * A[-2]) + sum(x[-3:-1] * x[:-3])",
        _args(x=_u(-2, 2, N), A=_u(-2, 2, N, M), v=_u(-1, 1, M))),
    Row("array_literal", "x: float[n], s: float, v: float[3]",
        "y = [x[0] * s, sin(x[1]), s, 2.0]\nreturn sum(v * y[:3]) + y[3] * s",
        _args(x=_u(-2, 2, N), s=_u(-2, 2), v=_u(-1, 1, 3))),
    Row("array_literal_same_var", "s: float, v: float[3]",
        "return sum(v * [s, s * s, s])", _args(s=_u(-2, 2), v=_u(-1, 1, 3))),
    Row("full", "s: float, w: float[n], v: float[m]",
        "return sum(w * full(n, s * s)) + w @ full(n, m, sin(s)) @ v",
        _args(s=_u(-2, 2), w=W, v=V)),
    Row("constructors", "x: float[n], w: float[n]",
        "return sum(w * (eye(n) @ x + ones(n) * x + arange(n) * x + zeros(n))) + sum(eye(n, n) @ (x * x))",
        _args(x=_u(-2, 2, N), w=W)),
    Row("float_int_conversions", "s: float, k: int, x: float[n]",
        "return float(s) * float(k) + s * len(x) + s * int(s * 10) + float(k) * sum(x) / len(x)",
        _args(s=0.73, k=3, x=_u(-1, 1, N))),
    Row("conditional_expr", "x: float[n], s: float, w: float[n]",
        "a = s * s if s > 0 else -s\nb = x * x if sum(x) > 100 else sin(x)\n"
        "return a * sum(w * b) + (s if s < 0 else 3 * s)",
        _args(x=_u(-2, 2, N), s=0.6, w=W)),
    Row("stop_gradient", "x: float[n], w: float[n]",
        "return sum(w * stop_gradient(x * x) * x) + sum(detach(sin(x)) * x)",
        _args(x=_u(-2, 2, N), w=W),
        exact=lambda x, w: {"x": w * x * x + np.sin(x), "w": x * x * x}),
    Row("bce_with_logits", "z: float[n], y: float[n]",
        "return bce_with_logits(z, y)", _args(z=_u(-3, 3, N), y=_u(0, 1, N))),
    Row("mse", "a: float[n], b: float[n]", "return mse(a, b)", _args(a=_u(-2, 2, N), b=_u(-2, 2, N))),
    Row("softmax", "z: float[n], w: float[n]", "return sum(w * softmax(z))", _args(z=_u(-3, 3, N), w=W)),
    Row("log_softmax", "z: float[n], w: float[n]", "return sum(w * log_softmax(z))", _args(z=_u(-3, 3, N), w=W)),
    Row("cross_entropy", "z: float[n], label: int", "return cross_entropy(z, label) + cross_entropy(z * z, 0)",
        _args(z=_u(-3, 3, N), label=2)),
    Row("broadcast_scalar", "A: float[n, m], s: float, u: float[n], v: float[m]",
        "return u @ (s * A - A / s + s) @ v",
        _args(A=_u(-2, 2, N, M), s=_u(0.5, 2), u=W, v=V)),
    Row("broadcast_row", "A: float[n, m], r: float[m], u: float[n], v: float[m]",
        "return u @ (r * A - A / r + r) @ v",
        _args(A=_u(-2, 2, N, M), r=_away(0.5, 2, M), u=W, v=V)),
    Row("broadcast_vector_scalar", "x: float[n], s: float, w: float[n]",
        "return sum(w * (x + s) * (s - x) / (s + 3)) + sum(w * pow(x, s)) + sum(w * pow(s, x))",
        _args(x=_u(0.5, 2, N), s=_u(0.5, 2), w=W)),
    Row("setindex", "x: float[n], s: float, i: int, w: float[n]",
        "y = x * 2.0\ny[i] = s * x[0]\ny[-1] = sin(s) * y[0]\nreturn sum(w * y)",
        _args(x=_u(-2, 2, N), s=_u(-2, 2), i=1, w=W)),
    Row("setindex_augmented", "x: float[n], s: float, w: float[n]",
        "y = x * x\ny[1] += s * x[2]\ny[2] *= s\ny[0] -= y[2]\ny[3] /= s\nreturn sum(w * y)",
        _args(x=_u(-2, 2, N), s=_u(0.5, 2), w=W)),
    Row("setindex_2d", "A: float[n, m], s: float, u: float[n], v: float[m]",
        "B = A\nB[1, 2] = s * A[0, 0]\nB[0, 0] += B[1, 2] * s\nB[-1, -1] = exp(B[0, 0])\nreturn u @ B @ v",
        _args(A=_u(-1, 1, N, M), s=_u(-1, 1), u=W, v=V)),
    Row("setrow", "A: float[n, m], r: float[m], u: float[n], v: float[m]",
        "B = A\nB[1] = r * 3\nB[2] += sin(r) * B[0]\nB[-1] = B[1] * r\nreturn u @ B @ v",
        _args(A=_u(-1, 1, N, M), r=_u(-1, 1, M), u=W, v=V)),
    Row("setslice", "x: float[n], v: float[2], w: float[n]",
        "y = sin(x)\ny[1:3] = v * y[3:]\ny[3:5] += v * v\ny[:2] *= x[3:]\nreturn sum(w * y)",
        _args(x=_u(-2, 2, N), v=_u(-1, 1, 2), w=W)),
    Row("setslice_scalar", "x: float[n], s: float, w: float[n]", "y = x * 1.0\ny[1:4] = s * s\nreturn sum(w * y)",
        _args(x=_u(-2, 2, N), s=_u(-2, 2), w=W)),
    Row("param_write", "x: float[n], s: float, w: float[n]", "x[0] = s * x[1]\nx[2] += s\nreturn sum(w * x * x)",
        _args(x=_u(-2, 2, N), s=_u(-2, 2), w=W)),
]

CONVENTIONS = """
def c_abs(x: float[n]) -> float:
    return sum(abs(x))

def c_abs_scalar(s: float) -> float:
    return abs(s)

def c_relu(x: float[n]) -> float:
    return sum(relu(x))

def c_relu_scalar(s: float) -> float:
    return relu(s)

def c_sign_floor(x: float[n], w: float[n]) -> float:
    return sum(w * sign(x)) + sum(w * floor(x)) + sign(x[0]) + floor(x[1] * 3)

def c_max_array(x: float[n], w: float[n]) -> float:
    return max(w * x)

def c_min_matrix(A: float[n, m]) -> float:
    return min(A)

def c_maximum(x: float[n], y: float[n]) -> float:
    return sum(maximum(x, y)) + 2 * sum(minimum(x, y))

def c_max_scalars(s: float, t: float) -> float:
    return max(s, t) + 2 * min(s, t)

def c_norm(x: float[n]) -> float:
    return norm(x)

def c_pow(s: float, t: float) -> float:
    return pow(s, t)

def c_pow_const(x: float[n]) -> float:
    return sum(x ** 0) + sum(x ** 2) + sum(pow(x, 3))

def c_sqrt(x: float[n]) -> float:
    return sum(sqrt(x))

def c_stop_gradient(x: float[n], s: float) -> float:
    y = stop_gradient(x * x) + detach(s * x)
    return sum(y * y) + stop_gradient(s)

def c_only_floor(x: float[n]) -> float:
    return sum(floor(x * 2)) + sum(sign(x))
"""

SOURCE = "\n".join(r.source() for r in ROWS) + CONVENTIONS


@pytest.fixture(scope="module")
def plain():
    return adc.loads(SOURCE, "primitives.ad", jit=False)


@pytest.fixture(scope="module", params=[True, False], ids=["jit", "nojit"])
def mod(request, plain):
    return adc.loads(SOURCE, "primitives.ad", jit=True) if request.param else plain


def test_table_names_are_unique():
    names = [r.name for r in ROWS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_gradient_matches_finite_differences(mod, plain, row):
    rng = np.random.default_rng(zlib.crc32(row.name.encode()))
    args = row.gen(rng)
    f = getattr(mod, "g_" + row.name)
    reference = getattr(plain, "g_" + row.name)
    if row.exact is None:
        check_grad(f, args, reference=reference)
        return
    value, got = adc.value_and_grad(f, wrt=float_params(f))(**args)
    assert value == pytest.approx(reference(**args), rel=1e-12, abs=1e-12)
    for name, g in zip(float_params(f), got):
        np.testing.assert_allclose(g, row.exact(**args)[name], rtol=1e-12, atol=1e-12, err_msg=name)


# ---- conventions at non-smooth points (PyTorch's) ------------------------------------------

def _grad(mod, name, *args, wrt=None):
    return adc.grad(getattr(mod, name), wrt=wrt)(*args)


def test_abs_and_relu_have_zero_derivative_at_zero(mod):
    x = np.array([-2.0, 0.0, 3.0, -0.0])
    np.testing.assert_array_equal(_grad(mod, "c_abs", x), [-1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(_grad(mod, "c_relu", x), [0.0, 0.0, 1.0, 0.0])
    assert _grad(mod, "c_abs_scalar", 0.0) == 0.0
    assert _grad(mod, "c_relu_scalar", 0.0) == 0.0
    assert _grad(mod, "c_abs_scalar", -1.5) == -1.0
    assert _grad(mod, "c_relu_scalar", 2.0) == 1.0


def test_sign_and_floor_have_zero_derivative(mod):
    x = np.array([0.5, -1.25, 2.0, 0.0])
    w = np.array([1.0, -2.0, 3.0, 4.0])
    dx, dw = _grad(mod, "c_sign_floor", x, w)
    np.testing.assert_array_equal(dx, np.zeros(4))
    np.testing.assert_array_equal(dw, np.sign(x) + np.floor(x))


def test_max_of_array_shares_ties_evenly(mod):
    x = np.array([1.0, 3.0, -2.0, 3.0, 3.0])
    w = np.ones(5)
    dx, dw = _grad(mod, "c_max_array", x, w)
    np.testing.assert_allclose(dx, [0.0, 1 / 3, 0.0, 1 / 3, 1 / 3], rtol=0, atol=1e-15)
    np.testing.assert_allclose(dw, [0.0, 1.0, 0.0, 1.0, 1.0], rtol=0, atol=1e-15)
    A = np.array([[0.5, -1.0], [-1.0, 2.0]])
    np.testing.assert_array_equal(_grad(mod, "c_min_matrix", A), [[0.0, 0.5], [0.5, 0.0]])


def test_maximum_and_minimum_split_ties(mod):
    x = np.array([1.0, 2.0, -1.0])
    y = np.array([1.0, 0.0, 0.5])
    dx, dy = _grad(mod, "c_maximum", x, y)
    # sum(maximum) + 2 sum(minimum): a tie gives 0.5 + 2 * 0.5 to each side, like PyTorch
    np.testing.assert_array_equal(dx, [1.5, 1.0, 2.0])
    np.testing.assert_array_equal(dy, [1.5, 2.0, 1.0])
    assert _grad(mod, "c_max_scalars", 0.25, 0.25) == (1.5, 1.5)
    assert _grad(mod, "c_max_scalars", 0.5, 0.25) == (1.0, 2.0)


def test_norm_has_zero_derivative_at_zero(mod):
    np.testing.assert_array_equal(_grad(mod, "c_norm", np.zeros(3)), np.zeros(3))
    np.testing.assert_allclose(_grad(mod, "c_norm", np.array([3.0, 0.0, -4.0])), [0.6, 0.0, -0.8])


@pytest.mark.parametrize("s, t, expected", [
    (0.0, 2.0, (0.0, 0.0)), (0.0, 0.0, (0.0, 0.0)), (0.0, 0.5, (np.inf, 0.0)), (0.0, -1.0, (-np.inf, -np.inf)),
    (2.0, 0.0, (0.0, np.log(2.0))), (3.0, 1.0, (1.0, 3.0 * np.log(3.0)))])
def test_pow_at_zero_follows_pytorch(mod, s, t, expected):
    """torch.pow's backward: d/dx is 0 where p == 0, d/dp is 0 where x == 0 and p >= 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        assert _grad(mod, "c_pow", s, t) == expected


def test_constant_powers_and_sqrt_at_zero(mod):
    np.testing.assert_array_equal(_grad(mod, "c_pow_const", np.array([0.0, 1.0])), [0.0, 5.0])
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(_grad(mod, "c_sqrt", np.array([0.0, 4.0])), [np.inf, 0.25])


def test_stop_gradient_gives_exact_zero(mod):
    x = np.array([0.3, -1.2, 2.0])
    dx, ds = _grad(mod, "c_stop_gradient", x, 0.7)
    assert not np.any(dx) and ds == 0.0
    np.testing.assert_array_equal(dx, np.zeros(3))


def test_gradient_through_only_floor_and_sign_is_zero(mod):
    np.testing.assert_array_equal(_grad(mod, "c_only_floor", np.array([0.3, -1.7, 2.2])), np.zeros(3))


def test_every_primitive_has_a_rule_or_a_zero_derivative():
    assert missing_rules() == set()
