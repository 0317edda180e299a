"""Forward values of every builtin, operator and expression form of language.md against numpy.

ONE table, one row per builtin/operator. Each row is a tiny ``.ad`` function (parameters, return
type, body), an input generator on a seeded numpy RNG (domain-appropriate: positive for log/sqrt,
[-1, 1] for asin/acos, ...) and a numpy reference with PyTorch's definitions (softplus =
log(1 + exp(x)), bce_with_logits = mean of the stable formula, ...). Where a builtin has a scalar,
a vector, a matrix or an int form, one row covers them together by returning a tuple.

All rows are generated into ONE ``.ad`` module (one function per row, named ``f_<row>``), loaded
once per mode: with the Numba JIT and as plain Python (``jit=False``, the same generated code as
``NUMBA_DISABLE_JIT=1``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import adc
from same_result import assert_same_result

SEEDS = range(4)


@dataclass
class Row:
    name: str
    params: str                    # "x: float[n], s: float"
    returns: str                   # "float[n]" or "(float, float[n])"
    body: str                      # lines of the function body, ';'-free, '\n'-separated
    gen: Callable                  # rng -> tuple of arguments
    ref: Callable                  # *args -> expected result (tuple when ``returns`` is)

    def source(self) -> str:
        body = "\n".join("    " + line for line in self.body.strip().splitlines())
        return f"def f_{self.name}({self.params}) -> {self.returns}:\n{body}\n"


def _dims(rng):
    return int(rng.integers(1, 5)), int(rng.integers(1, 5))


def _uniform(lo, hi):
    def gen(rng):
        n, m = _dims(rng)
        return (rng.uniform(lo, hi, n), rng.uniform(lo, hi, (n, m)), float(rng.uniform(lo, hi)))
    return gen


def _unary(name, ref, lo=-3.0, hi=3.0, ad_name=None):
    """sin(x) on a vector, a matrix and a scalar."""
    f = ad_name or name
    return Row(name, "x: float[n], A: float[n, m], s: float", "(float[n], float[n, m], float)",
               f"return {f}(x), {f}(A), {f}(s)", _uniform(lo, hi), lambda x, A, s: (ref(x), ref(A), ref(s)))


def _mixed(rng):
    """Vectors x, y of length n, a matrix A and B of shape (n, m), a row r of length m,
    float scalars s, t and nonzero int scalars k, j."""
    n, m = _dims(rng)
    j = int(rng.integers(1, 4)) * int(rng.choice([-1, 1]))
    k = int(rng.integers(1, 8)) * int(rng.choice([-1, 1]))
    return (rng.normal(size=n), rng.normal(size=n), rng.normal(size=(n, m)), rng.normal(size=(n, m)),
            rng.normal(size=m), float(rng.normal()), float(rng.normal()), k, j)


MIXED = ("x: float[n], y: float[n], A: float[n, m], B: float[n, m], r: float[m], s: float, t: float, "
         "k: int, j: int")


def _arith(name, op, ref):
    """One arithmetic operator in every broadcasting form: vector-vector, vector-scalar,
    scalar-vector, matrix-matrix, matrix-row, row-matrix, matrix-scalar, int-int, int-float,
    vector-int and scalar-scalar."""
    forms = ["x {} y", "x {} s", "s {} x", "A {} B", "A {} r", "r {} A", "A {} s", "k {} j", "k {} s",
             "x {} k", "s {} t"]
    body = "return " + ", ".join(f.format(op) for f in forms)
    rtype = "(float[n], float[n], float[n], float[n, m], float[n, m], float[n, m], float[n, m], " \
            f"{'float' if op == '/' else 'int'}, float, float[n], float)"

    def reference(x, y, A, B, r, s, t, k, j):
        return (ref(x, y), ref(x, s), ref(s, x), ref(A, B), ref(A, r), ref(r, A), ref(A, s), ref(k, j),
                ref(k, s), ref(x, k), ref(s, t))
    return Row(name, MIXED, rtype, body, _mixed, reference)


def _compare(name, op, ref):
    body = f"return s {op} t, k {op} j, s {op} k, k {op} k, s {op} s"
    return Row(name, MIXED, "(bool, bool, bool, bool, bool)", body, _mixed,
               lambda x, y, A, B, r, s, t, k, j: (ref(s, t), ref(k, j), ref(s, k), ref(k, k), ref(s, s)))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0.0, x)


def _logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def _softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def _vec_mat(rng):
    n, m = _dims(rng)
    return rng.normal(size=n), rng.normal(size=(n, m)), rng.integers(-5, 6, size=n)


def _vec_int(rng):
    n, _ = _dims(rng)
    return rng.normal(size=n), rng.normal(size=n), rng.integers(-5, 6, size=n)


def _sizes(rng):
    n, m = _dims(rng)
    return n, m, float(rng.normal())


def _matmul_args(rng):
    n, m = _dims(rng)
    k = int(rng.integers(1, 5))
    return (rng.normal(size=(n, m)), rng.normal(size=(m, k)), rng.normal(size=m), rng.normal(size=n),
            rng.integers(-5, 6, size=(n, m)), rng.integers(-5, 6, size=m))


def _long_product_args(rng):
    # a small result summing over a long axis: BLAS's path (by multiply-adds), with transposed
    # (Fortran-ordered) operands
    n, m = _dims(rng)
    return rng.normal(size=(3000, n)), rng.normal(size=(3000, m))


def _long_vector_args(rng):
    # matrix-vector products with over 4096 elements: BLAS's gemv, on C- and Fortran-ordered matrices
    n, _ = _dims(rng)
    return rng.normal(size=(3000, n)), rng.normal(size=3000), rng.normal(size=n)


def _index_args(rng):
    n, m = _dims(rng)
    i, j2 = int(rng.integers(0, n)), int(rng.integers(0, m))
    lo = int(rng.integers(0, n + 1))
    hi = int(rng.integers(lo, n + 1))
    return rng.normal(size=n), rng.normal(size=(n, m)), i, j2, lo, hi


def _labels(rng):
    n, _ = _dims(rng)
    return rng.normal(size=n), int(rng.integers(0, n))


def _bce_args(rng):
    n, m = _dims(rng)
    return (rng.normal(scale=3.0, size=n), rng.uniform(0, 1, n), rng.normal(scale=3.0, size=(n, m)),
            rng.uniform(0, 1, (n, m)), float(rng.normal(scale=3.0)), float(rng.uniform()))


def _bce(z, y):
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


ROWS: list[Row] = [
    # ---- elementwise (vector, matrix and scalar forms) --------------------------------------
    _unary("sin", np.sin),
    _unary("cos", np.cos),
    _unary("tan", np.tan, -1.4, 1.4),
    _unary("asin", np.arcsin, -1.0, 1.0),
    _unary("acos", np.arccos, -1.0, 1.0),
    _unary("atan", np.arctan, -5.0, 5.0),
    _unary("exp", np.exp),
    _unary("log", np.log, 0.01, 5.0),
    _unary("log1p", np.log1p, -0.99, 5.0),
    _unary("expm1", np.expm1),
    _unary("sqrt", np.sqrt, 0.0, 5.0),
    _unary("tanh", np.tanh),
    _unary("sigmoid", _sigmoid, -20.0, 20.0),
    _unary("softplus", _softplus, -30.0, 30.0),
    _unary("relu", lambda v: np.maximum(v, 0.0)),
    _unary("sign", np.sign),
    _unary("floor", np.floor),
    Row("abs", "x: float[n], A: float[n, m], s: float, k: int", "(float[n], float[n, m], float, int)",
        "return abs(x), abs(A), abs(s), abs(k)",
        lambda rng: (*_uniform(-3, 3)(rng), int(rng.integers(-9, 10))),
        lambda x, A, s, k: (np.abs(x), np.abs(A), abs(s), abs(k))),
    Row("elementwise_int", "ki: int[n], K: int[a, b], k: int",
        "(float[n], float, float[n], float, float[n], float[n], float[a, b], float[a, b], float)",
        "return exp(ki), sqrt(abs(k)), sigmoid(ki), relu(k), sign(ki), floor(ki), sign(K), relu(K), sign(k)",
        lambda rng: (rng.integers(-3, 4, size=int(rng.integers(1, 5))), rng.integers(-3, 4, size=(2, 3)),
                     int(rng.integers(-9, 10))),
        lambda ki, K, k: (np.exp(ki), np.sqrt(abs(k)), _sigmoid(ki), float(max(k, 0)), np.sign(ki).astype(float),
                          ki.astype(float), np.sign(K).astype(float), np.maximum(K, 0).astype(float),
                          float(np.sign(k)))),
    # ---- two-argument elementwise -----------------------------------------------------------
    Row("maximum", MIXED, "(float[n], float[n], float[n, m], float, int, float)",
        "return maximum(x, y), maximum(x, s), maximum(A, r), maximum(s, t), maximum(k, j), maximum(k, s)",
        _mixed, lambda x, y, A, B, r, s, t, k, j: (np.maximum(x, y), np.maximum(x, s), np.maximum(A, r),
                                                   max(s, t), max(k, j), float(max(k, s)))),
    Row("minimum", MIXED, "(float[n], float[n], float[n, m], float, int, float)",
        "return minimum(x, y), minimum(x, s), minimum(A, r), minimum(s, t), minimum(k, j), minimum(k, s)",
        _mixed, lambda x, y, A, B, r, s, t, k, j: (np.minimum(x, y), np.minimum(x, s), np.minimum(A, r),
                                                   min(s, t), min(k, j), float(min(k, s)))),
    Row("pow", "x: float[n], y: float[n], s: float, t: float, k: int, ki: int[n]",
        "(float[n], float[n], float, float, float, float, float[n], float[n], float[n])",
        "return pow(x, y), pow(x, s), pow(s, t), pow(s, k), pow(k, -2), pow(2, k), pow(ki, 2), pow(ki, k), "
        "pow(x, ki)",
        lambda rng: (rng.uniform(0.1, 3, 3), rng.normal(size=3), float(rng.uniform(0.1, 3)),
                     float(rng.normal()), int(rng.integers(1, 4)) * int(rng.choice([-1, 1])), rng.integers(1, 4, 3)),
        lambda x, y, s, t, k, ki: (x ** y, x ** s, s ** t, s ** k, k ** -2.0, 2.0 ** k, ki ** 2.0,
                                   ki.astype(float) ** k, x ** ki)),
    Row("max2", MIXED, "(float, int, float)", "return max(s, t), max(k, j), max(k, s)", _mixed,
        lambda x, y, A, B, r, s, t, k, j: (max(s, t), max(k, j), float(max(k, s)))),
    Row("min2", MIXED, "(float, int, float)", "return min(s, t), min(k, j), min(k, s)", _mixed,
        lambda x, y, A, B, r, s, t, k, j: (min(s, t), min(k, j), float(min(k, s)))),
    # ---- reductions (float vector, float matrix, int vector) --------------------------------
    Row("sum", "x: float[n], A: float[n, m], ki: int[n]", "(float, float, int)",
        "return sum(x), sum(A), sum(ki)", _vec_mat, lambda x, A, ki: (np.sum(x), np.sum(A), int(np.sum(ki)))),
    Row("mean", "x: float[n], A: float[n, m], ki: int[n]", "(float, float, float)",
        "return mean(x), mean(A), mean(ki)", _vec_mat,
        lambda x, A, ki: (np.mean(x), np.mean(A), np.mean(ki))),
    Row("prod", "x: float[n], A: float[n, m], ki: int[n]", "(float, float, float)",
        "return prod(x), prod(A), prod(ki)", _vec_mat,
        lambda x, A, ki: (np.prod(x), np.prod(A), float(np.prod(ki)))),
    Row("norm", "x: float[n], A: float[n, m], ki: int[n]", "(float, float, float)",
        "return norm(x), norm(A), norm(ki)", _vec_mat,
        lambda x, A, ki: (np.linalg.norm(x), np.linalg.norm(A), np.linalg.norm(ki))),
    Row("max1", "x: float[n], A: float[n, m], ki: int[n]", "(float, float, int)",
        "return max(x), max(A), max(ki)", _vec_mat, lambda x, A, ki: (np.max(x), np.max(A), int(np.max(ki)))),
    Row("min1", "x: float[n], A: float[n, m], ki: int[n]", "(float, float, int)",
        "return min(x), min(A), min(ki)", _vec_mat, lambda x, A, ki: (np.min(x), np.min(A), int(np.min(ki)))),
    Row("logsumexp", "x: float[n], A: float[n, m], ki: int[n]", "(float, float, float)",
        "return logsumexp(x), logsumexp(A), logsumexp(ki)", _vec_mat,
        lambda x, A, ki: (_logsumexp(x), _logsumexp(A), _logsumexp(ki.astype(float)))),
    Row("dot", "x: float[n], y: float[n], ki: int[n]", "(float, float, float)",
        "return dot(x, y), dot(ki, x), dot(ki, ki)",
        _vec_int,
        lambda x, y, ki: (np.dot(x, y), float(np.dot(ki, x)), float(np.dot(ki, ki)))),
    # ---- constructors -----------------------------------------------------------------------
    Row("zeros", "n: int, m: int, v: float", "(float[a], float[a, b], float[a, b, c])",
        "return zeros(n), zeros(n, m), zeros(m, n, 2)", _sizes,
        lambda n, m, v: (np.zeros(n), np.zeros((n, m)), np.zeros((m, n, 2)))),
    Row("ones", "n: int, m: int, v: float", "(float[a], float[a, b], float[a, b, c])",
        "return ones(n), ones(n, m), ones(m, n, 2)", _sizes,
        lambda n, m, v: (np.ones(n), np.ones((n, m)), np.ones((m, n, 2)))),
    Row("full", "n: int, m: int, v: float", "(float[a], float[a, b], float[a], float[a, b, c])",
        "return full(n, v), full(n, m, v), full(m, 3), full(2, n, m, v)", _sizes,
        lambda n, m, v: (np.full(n, v), np.full((n, m), v), np.full(m, 3.0), np.full((2, n, m), v))),
    Row("eye", "n: int, m: int, v: float", "(float[a, a], float[a, b])",
        "return eye(n), eye(n, m)", _sizes, lambda n, m, v: (np.eye(n), np.eye(n, m))),
    Row("arange", "n: int, m: int, v: float", "float[a]", "return arange(n)", _sizes,
        lambda n, m, v: np.arange(n, dtype=float)),
    Row("len", "x: float[n], A: float[n, m], ki: int[n]", "(int, int, int)",
        "return len(x), len(A), len(A[0])", _vec_mat, lambda x, A, ki: (len(x), A.shape[0], A.shape[1])),
    Row("float", MIXED, "(float, float, float)", "return float(k), float(s), float(k) / 2", _mixed,
        lambda x, y, A, B, r, s, t, k, j: (float(k), s, k / 2)),
    Row("int", "s: float, k: int", "(int, int, int)", "return int(s), int(k), int(s * 10.0) // 3",
        lambda rng: (float(rng.uniform(-5, 5)), int(rng.integers(-9, 10))),
        lambda s, k: (int(s), k, int(s * 10.0) // 3)),
    # ---- shape ------------------------------------------------------------------------------
    Row("transpose", "A: float[n, m]", "float[m, n]", "return transpose(A)",
        lambda rng: (rng.normal(size=_dims(rng)),), lambda A: A.T),
    Row("dot_T", "A: float[n, m], x: float[n]", "(float[m, n], float[m], float[m, m])",
        "return A.T, A.T @ x, A.T @ A",
        lambda rng: (lambda n, m: (rng.normal(size=(n, m)), rng.normal(size=n)))(*_dims(rng)),
        lambda A, x: (A.T, A.T @ x, A.T @ A)),
    Row("reshape", "x: float[n], A: float[n, m]", "(float[a, b], float[c], float[a, b])",
        "return reshape(x, 1, n), reshape(A, n * m), reshape(A.T, m, n)",
        lambda rng: (lambda n, m: (rng.normal(size=n), rng.normal(size=(n, m))))(*_dims(rng)),
        lambda x, A: (x.reshape(1, -1), A.reshape(-1), A.T.reshape(A.shape[1], A.shape[0]))),
    Row("outer", "x: float[n], y: float[m], ki: int[m]", "(float[n, m], float[n, m], float[m, m])",
        "return outer(x, y), outer(x, ki), outer(ki, ki)",
        lambda rng: (lambda n, m: (rng.normal(size=n), rng.normal(size=m), rng.integers(-5, 6, m)))(*_dims(rng)),
        lambda x, y, ki: (np.outer(x, y), np.outer(x, ki), np.outer(ki, ki).astype(float))),
    # computed inside the consumer's loop: alone (its operands give the loop's sizes) or with a matrix
    Row("outer_fused", "x: float[n], y: float[m], A: float[n, m]", "(float[n, m], float[n, m])",
        "return exp(outer(x, y) * 0.5), outer(x, y) * A",
        lambda rng: (lambda n, m: (rng.normal(size=n), rng.normal(size=m), rng.normal(size=(n, m))))(*_dims(rng)),
        lambda x, y, A: (np.exp(np.outer(x, y) * 0.5), np.outer(x, y) * A)),
    Row("stop_gradient", "x: float[n], s: float", "(float[n], float)", "return stop_gradient(x) * 2, stop_gradient(s)",
        lambda rng: (rng.normal(size=3), float(rng.normal())), lambda x, s: (2 * x, s)),
    Row("detach", "x: float[n], s: float", "(float[n], float)", "return detach(x) + 1, detach(s * s)",
        lambda rng: (rng.normal(size=3), float(rng.normal())), lambda x, s: (x + 1, s * s)),
    # ---- losses -----------------------------------------------------------------------------
    Row("bce_with_logits", "z: float[n], y: float[n], Z: float[n, m], Y: float[n, m], s: float, t: float",
        "(float, float, float)", "return bce_with_logits(z, y), bce_with_logits(Z, Y), bce_with_logits(s, t)",
        _bce_args, lambda z, y, Z, Y, s, t: (_bce(z, y), _bce(Z, Y), _bce(s, t))),
    Row("mse", MIXED, "(float, float, float)", "return mse(x, y), mse(A, B), mse(s, t)", _mixed,
        lambda x, y, A, B, r, s, t, k, j: (np.mean((x - y) ** 2), np.mean((A - B) ** 2), (s - t) ** 2)),
    Row("softmax", "z: float[n], k: int", "float[n]", "return softmax(z)", _labels, lambda z, k: _softmax(z)),
    Row("log_softmax", "z: float[n], k: int", "float[n]", "return log_softmax(z)", _labels,
        lambda z, k: z - _logsumexp(z)),
    Row("cross_entropy", "z: float[n], k: int", "float", "return cross_entropy(z, k)", _labels,
        lambda z, k: -np.log(_softmax(z)[k])),
    # ---- operators --------------------------------------------------------------------------
    _arith("add", "+", lambda a, b: a + b),
    _arith("sub", "-", lambda a, b: a - b),
    _arith("mul", "*", lambda a, b: a * b),
    _arith("div", "/", lambda a, b: a / b),
    Row("pow_op", "x: float[n], y: float[n], A: float[n, m], s: float, k: int, ki: int[n]",
        "(float[n], float[n], float[n], float[n], float[n, m], float, float, float, float, float[n], float[n], "
        "float[n], float[n])",
        "return x ** 2, x ** 3, x ** s, x ** y, A ** 2, s ** 2, k ** 2, s ** k, 2 ** s, x ** 1, ki ** 2, "
        "ki ** 3, ki ** k",
        lambda rng: (rng.uniform(0.1, 3, 4), rng.normal(size=4), rng.uniform(0.1, 3, (4, 2)),
                     float(rng.uniform(0.1, 3)), int(rng.integers(0, 5)), rng.integers(-3, 4, 4)),
        lambda x, y, A, s, k, ki: (x ** 2, x ** 3, x ** s, x ** y, A ** 2, s ** 2, float(k ** 2), s ** k, 2 ** s, x,
                                   ki ** 2.0, ki ** 3.0, ki ** float(k))),
    Row("mod", MIXED, "(int, int, int)", "return k % j, k % 3, -7 % j", _mixed,
        lambda x, y, A, B, r, s, t, k, j: (k % j, k % 3, -7 % j)),
    Row("floordiv", MIXED, "(int, int, int)", "return k // j, k // 3, -7 // j", _mixed,
        lambda x, y, A, B, r, s, t, k, j: (k // j, k // 3, -7 // j)),
    Row("neg", MIXED, "(float[n], float[n, m], float, int, float)", "return -x, -A, -s, -k, -(s + t)", _mixed,
        lambda x, y, A, B, r, s, t, k, j: (-x, -A, -s, -k, -(s + t))),
    Row("matmul", "A: float[n, m], B: float[m, k], x: float[m], y: float[n], K: int[n, m], ki: int[m]",
        "(float[n, k], float[n], float[m], float, float[n], float[n], float[n])",
        "return A @ B, A @ x, y @ A, x @ x, K @ x, A @ ki, K @ ki", _matmul_args,
        lambda A, B, x, y, K, ki: (A @ B, A @ x, y @ A, x @ x, K @ x, A @ ki, (K @ ki).astype(float))),
    Row("matmul_long", "A: float[p, n], B: float[p, m]", "(float[n, m], float[m, n])",
        "return transpose(A) @ B, transpose(B) @ A", _long_product_args, lambda A, B: (A.T @ B, B.T @ A)),
    Row("matvec_long", "A: float[p, n], x: float[p], y: float[n]", "(float[n], float[p], float[n], float[p])",
        "return transpose(A) @ x, A @ y, x @ A, y @ transpose(A)", _long_vector_args,
        lambda A, x, y: (A.T @ x, A @ y, x @ A, y @ A.T)),
    _compare("lt", "<", lambda a, b: a < b),
    _compare("le", "<=", lambda a, b: a <= b),
    _compare("gt", ">", lambda a, b: a > b),
    _compare("ge", ">=", lambda a, b: a >= b),
    _compare("eq", "==", lambda a, b: a == b),
    _compare("ne", "!=", lambda a, b: a != b),
    Row("and", "x: float[n], k: int, s: float", "(bool, bool)",
        "return s > 0 and k > 0, k < len(x) and x[k] > 0",   # short-circuit: x[k] only when in range
        lambda rng: (rng.normal(size=3), int(rng.integers(-1, 6)), float(rng.normal())),
        lambda x, k, s: (s > 0 and k > 0, bool(k < len(x) and x[k] > 0))),
    Row("or", "x: float[n], k: int, s: float", "(bool, bool)",
        "return s > 0 or k > 0, k >= len(x) or x[k] > 0",
        lambda rng: (rng.normal(size=3), int(rng.integers(0, 6)), float(rng.normal())),
        lambda x, k, s: (s > 0 or k > 0, k >= len(x) or bool(x[k] > 0))),
    Row("not", "k: int, s: float", "(bool, bool)", "return not s > 0, not (s > 0 and k > 0)",
        lambda rng: (int(rng.integers(-2, 3)), float(rng.normal())),
        lambda k, s: (not s > 0, not (s > 0 and k > 0))),
    Row("ifexp", MIXED, "(float, float[n], int, float, float)",
        "return s if s > t else t, x if k > 0 else y, k if k > j else j, 1 if s > 0 else 2.5, "
        "(s if k > 0 else t) if j > 0 else -1.0",
        _mixed, lambda x, y, A, B, r, s, t, k, j: (s if s > t else t, x if k > 0 else y, max(k, j),
                                                   1.0 if s > 0 else 2.5, (s if k > 0 else t) if j > 0 else -1.0)),
    # ---- indexing and literals --------------------------------------------------------------
    Row("index", "x: float[n], A: float[n, m], i: int, j: int, lo: int, hi: int", "(float, float, float[m])",
        "return x[i], A[i, j], A[i]", _index_args, lambda x, A, i, j, lo, hi: (x[i], A[i, j], A[i])),
    Row("slice", "x: float[n], A: float[n, m], i: int, j: int, lo: int, hi: int",
        "(float[a], float[b], float[c], float[d], float[e])",
        "return x[lo:hi], x[:hi], x[lo:], A[i][j:], x[-2:]", _index_args,
        lambda x, A, i, j, lo, hi: (x[lo:hi], x[:hi], x[lo:], A[i][j:], x[-2:])),
    Row("negative_index", "x: float[n], A: float[n, m], i: int, j: int, lo: int, hi: int",
        "(float, float, float[m], float, float)",
        "return x[-1], A[-1, -1], A[-1], x[-1 - i], A[i - len(x), j - len(A[0])]", _index_args,
        lambda x, A, i, j, lo, hi: (x[-1], A[-1, -1], A[-1], x[-1 - i], A[i - len(x), j - A.shape[1]])),
    Row("array_literal", MIXED, "(float[a], int[b], float[c], float)",
        "return [s, t, 1.0], [k, j, 3], [k, s, 2], sum([s, -t] * 2)", _mixed,
        lambda x, y, A, B, r, s, t, k, j: (np.array([s, t, 1.0]), np.array([k, j, 3]), np.array([k, s, 2.0]),
                                           2 * (s - t))),
]

SOURCE = "\n".join(row.source() for row in ROWS)


@pytest.fixture(scope="module", params=[True, False], ids=["jit", "nojit"])
def module(request):
    return adc.loads(SOURCE, "builtins_table.ad", jit=request.param)


def test_rows_have_unique_names():
    names = [row.name for row in ROWS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_builtin_forward_matches_numpy(module, row):
    fn = getattr(module, f"f_{row.name}")
    for seed in SEEDS:
        args = row.gen(np.random.default_rng(seed))
        want = row.ref(*args)
        got = fn(*args)
        assert_same_result(got, want, f"{row.name} seed {seed}")
