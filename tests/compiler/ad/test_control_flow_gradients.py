"""Every control-flow form through reverse mode: gradients against central finite differences.

One ``.ad`` module holds a small program per form (for with every kind of step, while with a
data-dependent trip count, nested loops, if/elif/else, break, continue, early return in every
position, element/row/slice writes that overwrite values the reverse sweep needs, arrays rebound
in loops, tuple-returning calls, value semantics, no_grad, int and shape-variable parameters).
Each program runs on a few inputs chosen away from branch switches and trip-count changes, so
the function is smooth where the differences probe it.

Every case runs as plain Python (``jit=False``); the programs marked ``jit`` (about a third,
one of each kind) also run compiled. The finite differences always use the plain-Python
forward pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

import adc
from gradcheck import check_grad, float_params

RNG = np.random.default_rng(20240611)


def vec(*values):
    return np.array(values, dtype=float)


def rand(*shape, lo=-1.0, hi=1.0):
    return RNG.uniform(lo, hi, shape)


@dataclass
class Program:
    name: str
    source: str
    cases: list[dict]
    jit: bool = False
    wrt: tuple | None = None
    marks: list = field(default_factory=list)


PROGRAMS = [
    # ---- for loops: every kind of step ------------------------------------------------------
    Program("for_basic", """
def for_basic(x: float[n], a: float) -> float:
    s = a
    for i in range(n):
        s = s * sin(x[i]) + a * x[i]
    return s
""", [dict(x=rand(5), a=0.7), dict(x=rand(1), a=-1.3)], jit=True),
    Program("for_negative_step", """
def for_negative_step(x: float[n], a: float) -> float:
    s = a
    for i in range(n - 1, -1, -1):
        s = s * x[i] + cos(s)
    return s
""", [dict(x=rand(6), a=0.4)]),
    Program("for_step_two", """
def for_step_two(x: float[n], a: float) -> float:
    s = a
    for i in range(1, n, 2):
        s += x[i] * x[i - 1] * s
    for j in range(n - 1, 0, -2):
        s = s * tanh(x[j] + s)
    return s
""", [dict(x=rand(7), a=0.9), dict(x=rand(6), a=-0.5)], jit=True),
    Program("for_runtime_step", """
def for_runtime_step(x: float[n], lo: int, hi: int, step: int) -> float:
    s = 1.0
    for i in range(lo, hi, step):
        s = s * (1 + x[i]) + x[i] * x[i]
    return s
""", [dict(x=rand(8), lo=0, hi=8, step=3), dict(x=rand(8), lo=7, hi=-1, step=-2),
      dict(x=rand(8), lo=5, hi=1, step=-1), dict(x=rand(8), lo=3, hi=3, step=1),
      dict(x=rand(8), lo=6, hi=2, step=1)]),
    Program("for_shape_vars", """
def for_shape_vars(A: float[n, m], x: float[m]) -> float:
    s = 0.0
    for i in range(n):
        for j in range(m):
            s += A[i, j] * x[j] * float(i + j) / m
    return s * n
""", [dict(A=rand(3, 4), x=rand(4))]),
    Program("for_inner_bounds_from_outer_index", """
def for_inner_bounds_from_outer_index(x: float[n]) -> float:
    s = 0.0
    for i in range(n):
        for j in range(i):
            s += x[j] * x[i]
    return s
""", [dict(x=rand(5))]),

    # ---- while ------------------------------------------------------------------------------
    Program("while_data_dependent", """
def while_data_dependent(a: float, x: float) -> float:
    s = x
    while s < 10:
        s = s * a + x
    return s
""", [dict(a=1.7, x=0.3), dict(a=1.05, x=0.5), dict(a=2.5, x=12.0)], jit=True),
    Program("while_newton", """
def while_newton(a: float) -> float:
    x = a
    it = 0
    while abs(x * x - a) > 1e-12 and it < 100:
        x = x - (x * x - a) / (2 * x)
        it += 1
    return x * a
""", [dict(a=2.0), dict(a=0.3)]),
    Program("while_in_for", """
def while_in_for(x: float[n], c: float) -> float:
    total = 0.0
    for i in range(n):
        s = x[i]
        while s < c:
            s = s * 1.5 + 0.25
        total += s * x[i]
    return total
""", [dict(x=vec(0.3, 1.1, 2.7, 0.05, 4.2), c=3.9)], jit=True),
    Program("while_break_continue", """
def while_break_continue(x: float[n], a: float) -> float:
    s = a
    i = 0
    while i < n:
        i += 1
        if x[i - 1] < 0:
            continue
        s = s * x[i - 1] + a
        if s > 5:
            break
    return s
""", [dict(x=vec(0.5, -0.3, 1.2, 2.0, 3.0), a=0.8), dict(x=vec(3.0, 4.0, -1.0, 2.0), a=2.5)]),

    # ---- branches ---------------------------------------------------------------------------
    Program("if_elif_else", """
def if_elif_else(x: float[n], a: float) -> float:
    s = 0.0
    for i in range(n):
        if x[i] > 0.5:
            s += a * x[i]
        elif x[i] < -0.5:
            s -= sin(x[i]) * s
        else:
            s = s * a + x[i] * x[i]
    if s > 0:
        t = s * s
    else:
        t = exp(s)
    return t
""", [dict(x=vec(0.9, -0.8, 0.1, -0.2, 0.7, -0.9), a=1.3), dict(x=vec(-0.9, 0.2), a=-0.4)], jit=True),
    Program("if_array_branches", """
def if_array_branches(x: float[n], a: float) -> float:
    y = x * a
    if sum(y) > 0:
        y = y * y
    else:
        y = sin(y)
    z = y if a > 1 else y * 3
    return sum(z * x)
""", [dict(x=rand(4, lo=0.1, hi=1), a=1.4), dict(x=rand(4, lo=0.1, hi=1), a=-0.6)]),

    # ---- break and continue -----------------------------------------------------------------
    Program("break_for", """
def break_for(x: float[n], a: float) -> float:
    s = a
    for i in range(n):
        if s > 3:
            break
        s = s * (1 + x[i]) + x[i]
    return s * a
""", [dict(x=vec(0.5, 0.8, 1.2, 0.9, 0.4), a=1.1), dict(x=vec(0.1, 0.2), a=0.3)]),
    Program("break_nested", """
def break_nested(A: float[n, m], a: float) -> float:
    total = 0.0
    for i in range(n):
        s = a
        for j in range(m):
            if A[i, j] < 0:
                break
            s = s * A[i, j] + 1
        total += s * s
        if total > 40:
            break
    return total
""", [dict(A=np.array([[0.5, 0.9, -0.1, 0.4], [1.2, 0.3, 0.8, 0.2], [-0.5, 1.0, 1.0, 1.0]]), a=0.7),
      dict(A=np.array([[2.0, 2.0, 2.0], [3.0, 3.0, 3.0], [1.0, 1.0, 1.0]]), a=1.5)], jit=True),
    Program("continue_nested", """
def continue_nested(A: float[n, m]) -> float:
    s = 1.0
    for i in range(n):
        for j in range(m):
            if A[i, j] < 0:
                continue
            s = s * (1 + A[i, j] * 0.5)
        if i == 1:
            continue
        s = sqrt(s)
    return s
""", [dict(A=np.array([[0.5, -0.9, 0.1], [1.2, 0.3, -0.8], [0.5, 1.0, 0.7]]))]),

    # ---- early return -----------------------------------------------------------------------
    Program("return_top_level", """
def return_top_level(a: float, b: float) -> float:
    if a > b:
        return a * a - b
    c = a * b
    if c > 1:
        return sin(c)
    return c + b * b
""", [dict(a=2.0, b=1.0), dict(a=1.5, b=2.0), dict(a=0.2, b=0.6)]),
    Program("return_in_loop", """
def return_in_loop(x: float[n], a: float) -> float:
    s = a
    for i in range(n):
        s = s * x[i] + a
        if s > 2:
            return s * a
    return -s
""", [dict(x=vec(0.5, 1.5, 2.5, 0.1), a=0.9), dict(x=vec(0.1, 0.2, 0.3), a=0.5)], jit=True),
    Program("return_in_while", """
def return_in_while(a: float) -> float:
    s = a
    k = 0
    while True:
        s = s * 1.3 + a
        k += 1
        if s > 20:
            return s * k
    return s
""", [dict(a=0.7), dict(a=3.1)]),
    Program("return_in_nested_loops", """
def return_in_nested_loops(A: float[n, m], a: float) -> float:
    s = a
    for i in range(n):
        for j in range(m):
            s = s * A[i, j] + a
            if s > 3:
                return s * s
        s = s * 0.5
    return s
""", [dict(A=np.array([[0.5, 0.9, 1.1], [1.2, 2.3, 0.8]]), a=0.7),
      dict(A=np.array([[0.5, 0.2], [0.4, 0.3]]), a=0.4)]),
    Program("return_in_callee", """
def first_big(x: float[n], c: float) -> float:
    for i in range(n):
        if x[i] * c > 1:
            return x[i] * c
    return c

def return_in_callee(x: float[n], c: float) -> float:
    a = first_big(x, c)
    b = first_big(x * x, a)
    total = 0.0
    for k in range(2):
        total += first_big(x, c + k) * b
    return a * b + total
""", [dict(x=vec(0.2, 0.9, 1.7, 0.5), c=0.8), dict(x=vec(0.1, 0.2), c=0.3)], jit=True),

    # ---- writes, overwrites, rebinding ------------------------------------------------------
    Program("element_writes", """
def element_writes(x: float[n], a: float) -> float:
    y = zeros(n)
    for i in range(n):
        y[i] = x[i] * a
    for i in range(1, n):
        y[i] += y[i - 1] * x[i]
    return sum(y * y)
""", [dict(x=rand(5), a=1.3)]),
    Program("overwrite_in_place", """
def overwrite_in_place(x: float[n], a: float) -> float:
    y = x * a
    for k in range(3):
        for i in range(n):
            y[i] = sin(y[i]) * y[i] + a
    return sum(y * x)
""", [dict(x=rand(4), a=0.8)], jit=True),
    Program("overwrite_neighbours", """
def overwrite_neighbours(x: float[n]) -> float:
    y = x
    for k in range(2):
        for i in range(1, n):
            y[i] = y[i] * y[i - 1] + y[(i + 1) % n]
    return sum(y)
""", [dict(x=rand(5, lo=0.2, hi=0.9))]),
    # the reverse sweep recomputes the index j under a fresh name; restoring y[j] must use it
    Program("index_computed_in_loop", """
def index_computed_in_loop(x: float[n], c: float) -> float:
    y = x
    for i in range(n):
        j = i
        y[j] = y[j] * c
    return sum(y)
""", [dict(x=vec(0.3, -0.5, 0.8, 0.1), c=0.8)]),
    Program("write_in_callee_in_loop", """
def bump(v: float[n], i: int, c: float) -> float[n]:
    v[i] = v[i] * c + v[(i + 1) % n]
    return v

def write_in_callee_in_loop(x: float[n], c: float) -> float:
    y = x
    for i in range(n):
        y = bump(y, i, c)
    return sum(y * y)
""", [dict(x=vec(0.3, -0.5, 0.8, 0.1), c=0.8)]),
    Program("overwrite_scalar", """
def overwrite_scalar(a: float, b: float) -> float:
    s = a
    for k in range(4):
        s = s * s * b + sin(s)
        b = b * s
    return s + b
""", [dict(a=0.3, b=0.6)]),
    Program("row_and_slice_writes", """
def row_and_slice_writes(A: float[n, m], x: float[m]) -> float:
    B = A
    for i in range(n):
        B[i] = B[i] * x + B[(i + n - 1) % n]
    y = x
    for k in range(2):
        y[1:3] = y[0:2] * y[1:3]
        y[0:2] += x[1:3]
    return sum(B @ y)
""", [dict(A=rand(3, 4), x=rand(4))], jit=True),
    Program("rebind_matrix_power", """
def rebind_matrix_power(A: float[n, n], v: float[n], k: int) -> float:
    M = eye(n)
    for i in range(k):
        M = M @ A
    u = v
    for i in range(k):
        u = tanh(A @ u)
    return sum(M @ v) + dot(u, v)
""", [dict(A=rand(3, 3), v=rand(3), k=4), dict(A=rand(2, 2), v=rand(2), k=0)]),
    # x = x * a / 2.0: a fused elementwise loop whose target is also its input
    Program("rebind_elementwise_chain", """
def rebind_elementwise_chain(x: float[n], a: float) -> float:
    y = x
    for i in range(3):
        y = y * a + x
        y = sin(y) * y - a
    x = x * a / 2.0
    return sum(y * x)
""", [dict(x=rand(4), a=0.9)]),
    Program("tuple_calls", """
def step(x: float, y: float, h: float) -> (float, float):
    return x + h * y, y - h * sin(x)

def tuple_calls(x0: float, y0: float, h: float, k: int) -> float:
    x, y = step(x0, y0, h)
    for i in range(k):
        x, y = step(x, y, h)
        a, b = step(y, x, h * 0.5)
        x = x + 0.1 * a * b
    return x * y
""", [dict(x0=0.5, y0=-0.3, h=0.1, k=5)], jit=True),

    # ---- value semantics, no_grad, zero gradients, int parameters ---------------------------
    Program("value_semantics", """
def scale_first(v: float[n], c: float) -> float[n]:
    v[0] = v[0] * c
    return v

def value_semantics(a: float[n], c: float) -> float:
    b = a
    b[0] = c * a[1]
    d = scale_first(a, c)
    e = scale_first(d, c)
    return sum(a * b) + sum(d * e) + a[0]
""", [dict(a=rand(3), c=1.7)]),
    Program("no_grad_block", """
def no_grad_block(x: float[n], a: float) -> float:
    total = 0.0
    for i in range(3):
        with no_grad:
            scale = norm(x) * a
            k = scale * 2
        x = x * a / scale
        total += sum(x) * k
    return total
""", [dict(x=rand(4, lo=0.2, hi=1), a=1.3)], jit=True),
    Program("only_floor_and_comparisons", """
def only_floor_and_comparisons(x: float[n], a: float) -> float:
    s = 0.0
    for i in range(n):
        if x[i] > a:
            s += 1.0
        s += floor(x[i] * 3) + sign(a)
    return s
""", [dict(x=vec(0.31, 0.77, -0.42), a=0.5)]),
    # ---- adjoints sharing buffers: each case once gave a wrong gradient --------------------
    Program("running_sum_reads_itself", """
def running_sum_reads_itself(x: float[n]) -> float:
    u = x
    u += (u + x)
    v = x * 2.0
    v = v + sin(v) * x
    return sum(u) + sum(v)
""", [dict(x=rand(4))], jit=True),
    Program("adjoint_moves_through_levels", """
def adjoint_moves_through_levels(x: float[n], s: int) -> float:
    p = x * 1.0
    for i in range(s):
        c = p * 0.0
        for j in range(n):
            c[j] = p[j] * x[j] + c[j]
        p = c + 0.0
    return sum(p * p)
""", [dict(x=rand(4), s=3)]),
    Program("shared_adjoint_passed_on", """
def shared_adjoint_passed_on(x: float[n], w: float[n]) -> float:
    s = x * 1.5
    a = x * w
    t = s * s
    e = a + w
    s = s + e
    return sum(s) + sum(t)
""", [dict(x=vec(0.7, 0.2, -0.4), w=vec(0.3, -1.1, 0.5))], jit=True),
    Program("shared_adjoint_through_a_view", """
def shared_adjoint_through_a_view(A: float[n, n]) -> float:
    s = A * 1.5
    B = sin(A)
    t = B * s
    C = transpose(B)
    s = s + C
    return sum(s * A) + sum(t)
""", [dict(A=rand(3, 3))]),
    Program("slice_restore_index_replayed", """
def slice_restore_index_replayed(x: float[n], w: float) -> float:
    y1 = x * w
    for i in range(1, n):
        y1[0:i + 1] = 0.3 * w
        y1 = x * 2.0
    return sum(y1 * x)
""", [dict(x=vec(0.3, -0.7, 1.1), w=0.4)]),
    # array arithmetic of values the body does not write (d, w * a) is recomputed by the reverse
    # sweep instead of taped; e reads v, which the body rewrites before e's last use: taped
    Program("array_temps_replayed", """
def array_temps_replayed(x: float[n], w: float[n], a: float) -> float:
    v = x * a
    s = 0.0
    for i in range(3):
        d = x - w * a
        e = d * v
        v = sin(v) + d
        s = s + sum(e * e) + sum(d * d * v)
    return s
""", [dict(x=rand(4), w=rand(4), a=0.6)], jit=True),
    # y reads z, which the body writes in place: taped, not replayed
    Program("array_temp_of_a_written_array", """
def array_temp_of_a_written_array(x: float[n], a: float) -> float:
    z = x * 1.5
    s = 0.0
    for i in range(3):
        y = z * a
        z[0] = z[0] * 0.5 + a
        s = s + sum(y * y)
    return s
""", [dict(x=rand(3), a=0.8)]),
    Program("int_params", """
def int_params(x: float[n], k: int, s: float, idx: int[m]) -> float:
    t = s
    for j in range(m):
        t = t * x[idx[j]] + k
    return t * k + s
""", [dict(x=rand(5), k=3, s=0.7, idx=np.array([4, 0, 2, 2]))]),
]

# no_grad: inside the block nothing carries a derivative, so scale and k are constants; the
# differences see through no_grad, hence the exact reference below instead.
NO_GRAD_EXACT = "no_grad_block"

PROGRAMS_BY_NAME = {p.name: p for p in PROGRAMS}
SOURCE = "\n".join(p.source.strip() + "\n" for p in PROGRAMS)
CASES = [pytest.param(p.name, k, id=f"{p.name}-{k}", marks=p.marks) for p in PROGRAMS for k in range(len(p.cases))]
JIT_CASES = [pytest.param(p.name, 0, id=p.name, marks=p.marks) for p in PROGRAMS if p.jit]


@pytest.fixture(scope="module")
def plain():
    return adc.loads(SOURCE, "control_flow.ad", jit=False)


@pytest.fixture(scope="module")
def jitted():
    return adc.loads(SOURCE, "control_flow.ad", jit=True)


def no_grad_reference(x, a):
    """Gradient of no_grad_block with the no_grad values (scale, k) held constant."""
    xs, scales, ks = [], [], []
    for _ in range(3):
        scale = np.linalg.norm(x) * a
        xs.append(x)
        scales.append(scale)
        ks.append(scale * 2)
        x = x * a / scale
    x_bar, a_bar = np.zeros_like(x), 0.0       # total = sum_i k_i sum(x_i+1), x_i+1 = x_i a / scale_i
    for i in reversed(range(3)):
        x_bar = x_bar + ks[i]
        a_bar += np.sum(x_bar * xs[i]) / scales[i]
        x_bar = x_bar * a / scales[i]
    return x_bar, a_bar


def _check(mod, plain, name, k):
    p = PROGRAMS_BY_NAME[name]
    args = p.cases[k]
    f, reference = getattr(mod, name), getattr(plain, name)
    if name == NO_GRAD_EXACT:
        value, (dx, da) = adc.value_and_grad(f)(**args)
        assert value == pytest.approx(reference(**args), rel=1e-12)
        ex, ea = no_grad_reference(args["x"], args["a"])
        np.testing.assert_allclose(dx, ex, rtol=1e-10)
        assert da == pytest.approx(ea, rel=1e-10)
        return
    check_grad(f, args, wrt=p.wrt, reference=reference)


@pytest.mark.parametrize("name, k", CASES)
def test_gradient_matches_finite_differences(plain, name, k):
    _check(plain, plain, name, k)


@pytest.mark.parametrize("name, k", JIT_CASES)
def test_gradient_matches_finite_differences_jit(jitted, plain, name, k):
    _check(jitted, plain, name, k)


def test_gradient_through_only_floor_and_comparisons_is_exactly_zero(plain):
    dx, da = adc.grad(plain.only_floor_and_comparisons)(vec(0.31, 0.77, -0.42), 0.5)
    np.testing.assert_array_equal(dx, np.zeros(3))
    assert da == 0.0


def test_int_parameters_are_not_in_the_default_wrt(plain):
    assert float_params(plain.int_params) == ("x", "s")
    args = PROGRAMS_BY_NAME["int_params"].cases[0]
    dx, ds = adc.grad(plain.int_params)(**args)
    assert dx.shape == (5,) and isinstance(ds, float)


def _copy(v):
    return v.copy() if isinstance(v, np.ndarray) else v


def test_gradient_leaves_the_arguments_alone(plain):
    """value_semantics and overwrite programs write into their parameters' values internally."""
    for name in ("value_semantics", "overwrite_neighbours", "row_and_slice_writes", "overwrite_in_place"):
        args = {k: _copy(v) for k, v in PROGRAMS_BY_NAME[name].cases[0].items()}
        before = {k: _copy(v) for k, v in args.items()}
        adc.value_and_grad(getattr(plain, name))(**args)
        getattr(plain, name)(**args)
        for key, value in before.items():
            np.testing.assert_array_equal(args[key], value, err_msg=f"{name} changed its argument {key}")
