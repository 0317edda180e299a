"""Value semantics, argument checks, index errors and result types of compiled .ad functions.

* Arrays are values: after ``b = a``, ``b[0] = 1.0`` never changes ``a``; no call changes its
  caller's arrays; results never share memory with the arguments or with each other.
* Arguments are checked before running; each error names the parameter, expected and given.
* An index out of range raises IndexError naming the array and the .ad line, JIT or not.
* The generated code runs under ``NUMBA_DISABLE_JIT=1`` (in a subprocess, as users would set it).

One module holds every program; it is loaded once with the JIT and once without.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import adc
from adc.compiler import ir

SOURCE = textwrap.dedent('''
    def alias_write(a: float[n]) -> (float[n], float[n]):
        b = a
        b[0] = 1.0
        return a, b

    def param_write(x: float[n], A: float[n, m]) -> float:
        x[0] = 5.0
        A[0, 0] += 1.0
        A[0] = x[0]
        x += 1.0
        return sum(x) + sum(A)

    def bump(v: float[n]) -> float[n]:
        v[0] += 1.0
        return v

    def callee_writes(x: float[n]) -> (float[n], float[n], float[n], float[n]):
        y = x * 1.0
        z = bump(y)
        w = bump(x)
        return x, y, z, w

    def row_then_write(A: float[n, m], i: int) -> (float[m], float[n, m], float[m]):
        r = A[i]
        A[i] = 7.0
        q = A[0]
        q[0] = -1.0
        return r, A, q

    def row_store(A: float[n, m], r: float[m]) -> (float[n, m], float[m]):
        B = A
        B[0] = r
        r[0] = 99.0
        return B, r

    def slice_views(x: float[n]) -> (float[k], float[n], float[k], float[n]):
        s = x[1:3]
        x[1] = 9.0
        y = x
        t = y[0:2]
        t[0] = -9.0
        return s, x, t, y

    def transpose_view(A: float[n, m]) -> (float[n, m], float[m, n]):
        B = A.T
        B[0, 0] = 5.0
        return A, B

    def reshape_view(A: float[n, m]) -> (float[n, m], float[k]):
        v = reshape(A, n * m)
        v[0] = 5.0
        return A, v

    def loop_alias(x: float[n], s: float) -> (float[n], float[n]):
        old = x
        if s > 0:
            b = x
        else:
            b = zeros(n)
        for i in range(n):
            b[i] += 1.0
        return old, b

    def moved_alias(x: float[n], s: int) -> (float[n], float[n]):
        k = x * 0.0
        acc = x * 0.0
        for i in range(s):
            z = x * 1.0
            z[0] = float(i)
            k = z
            acc = acc + k
        return k, acc

    def wrap_alias(x: float[n], s: int) -> float[n]:
        z = x * 1.0
        k = x * 0.0
        acc = x * 0.0
        for i in range(s):
            z[0] = float(i)
            acc = acc + k
            k = z
        return acc

    def exit_alias(x: float[n], s: int) -> float[n]:
        z = x * 1.0
        k = x * 0.0
        for i in range(s):
            z = x * float(i)
            k = z
        z[1] = -1.0
        return k

    def row_swap(A: float[n, m], i: int, j: int) -> float[n, m]:
        B = A
        tmp = B[i]
        B[i] = B[j]
        B[j] = tmp
        return B

    def results(x: float[n], A: float[n, m]) -> (float[n], float[n], float[m, n], float[m], float[n]):
        y = x
        return x, y, A.T, A[0], stop_gradient(x)

    def same_twice(x: float[n]) -> (float[n], float[n]):
        z = x * 2.0
        return z, z

    def sig(x: float[n], A: float[n, m], k: int, s: float, b: bool, v: float[3], ki: int[n]) -> float:
        return sum(x) + sum(A) + k + s + sum(v) + sum(ki) + (1.0 if b else 0.0)

    def read_x(x: float[n], i: int) -> float:
        y = x * 2.0
        return y[i]

    def read_A(A: float[n, m], i: int, j: int) -> float:
        total = 0.0
        for r in range(n):
            total += A[i, j]
        return total

    def read_row(A: float[n, m], i: int) -> float[m]:
        return A[i]

    def write_x(x: float[n], i: int) -> float[n]:
        y = x
        y[i] = 1.0
        return y

    def inner_read(z: float[n], i: int) -> float:
        return z[i]

    def outer_call(x: float[n], i: int) -> float:
        return inner_read(x, i) * 2.0

    def ratio(s: float, t: float, k: int, x: float[n]) -> (float, float, float[n]):
        return s / t, k / int(t), x / t

    def kinds(x: float[n], k: int) -> (float, int, bool, float[n], int[n], float[n, n]):
        return sum(x), k * 2, k > 0, x * 2.0, [k, k + 1], outer(x, x)
''')


@pytest.fixture(scope="module", params=[True, False], ids=["jit", "nojit"])
def module(request):
    return adc.loads(SOURCE, "semantics.ad", jit=request.param)


def _line_of(text: str) -> int:
    return next(k for k, line in enumerate(SOURCE.splitlines(), 1) if text in line)


def _call_unchanged(fn, *args):
    """Call ``fn`` and check it left every array argument exactly as it was."""
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    result = fn(*args)
    for a, b in zip(args, before):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f"{fn.name} changed its caller's array")
    return result


# ---- value semantics -----------------------------------------------------------------------

def test_assigned_array_is_a_copy(module):
    a = np.arange(3.0) + 10
    got_a, got_b = _call_unchanged(module.alias_write, a)
    np.testing.assert_array_equal(got_a, [10.0, 11.0, 12.0])
    np.testing.assert_array_equal(got_b, [1.0, 11.0, 12.0])


def test_writes_into_parameters_stay_local(module):
    x, A = np.arange(3.0), np.ones((3, 2))
    got = _call_unchanged(module.param_write, x, A)
    assert got == pytest.approx(sum([6.0, 2.0, 3.0]) + sum([5.0, 5.0, 1.0, 1.0, 1.0, 1.0]))


def test_callee_never_changes_callers_arrays(module):
    x = np.array([1.0, 2.0])
    got_x, y, z, w = _call_unchanged(module.callee_writes, x)
    np.testing.assert_array_equal(got_x, [1.0, 2.0])
    np.testing.assert_array_equal(y, [1.0, 2.0])
    np.testing.assert_array_equal(z, [2.0, 2.0])
    np.testing.assert_array_equal(w, [2.0, 2.0])


def test_row_read_then_matrix_write(module):
    A = np.arange(6.0).reshape(3, 2)
    r, B, q = _call_unchanged(module.row_then_write, A, 1)
    np.testing.assert_array_equal(r, [2.0, 3.0])
    np.testing.assert_array_equal(B, [[0.0, 1.0], [7.0, 7.0], [4.0, 5.0]])
    np.testing.assert_array_equal(q, [-1.0, 1.0])


def test_row_store_then_source_write(module):
    A, r = np.zeros((2, 3)), np.array([1.0, 2.0, 3.0])
    B, r2 = _call_unchanged(module.row_store, A, r)
    np.testing.assert_array_equal(B, [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(r2, [99.0, 2.0, 3.0])


def test_slices_are_values(module):
    x = np.arange(5.0)
    s, x2, t, y = _call_unchanged(module.slice_views, x)
    np.testing.assert_array_equal(s, [1.0, 2.0])
    np.testing.assert_array_equal(x2, [0.0, 9.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(t, [-9.0, 9.0])
    np.testing.assert_array_equal(y, [0.0, 9.0, 2.0, 3.0, 4.0])


def test_transpose_and_reshape_are_values(module):
    A = np.arange(6.0).reshape(2, 3)
    A2, B = _call_unchanged(module.transpose_view, A)
    np.testing.assert_array_equal(A2, A)
    np.testing.assert_array_equal(B, [[5.0, 3.0], [1.0, 4.0], [2.0, 5.0]])
    A3, v = _call_unchanged(module.reshape_view, A)
    np.testing.assert_array_equal(A3, A)
    np.testing.assert_array_equal(v, [5.0, 1.0, 2.0, 3.0, 4.0, 5.0])


@pytest.mark.parametrize("s", [1.0, -1.0])
def test_alias_on_one_branch_then_loop_writes(module, s):
    x = np.array([1.0, 2.0, 3.0])
    old, b = _call_unchanged(module.loop_alias, x, s)
    np.testing.assert_array_equal(old, x)
    np.testing.assert_array_equal(b, x + 1 if s > 0 else np.ones(3))


def test_alias_of_an_array_rebound_before_any_write_is_moved_not_copied(module):
    x = np.array([5.0, 6.0, 7.0])
    k, acc = _call_unchanged(module.moved_alias, x, 3)
    np.testing.assert_array_equal(k, [2.0, 6.0, 7.0])
    np.testing.assert_array_equal(acc, [3.0, 18.0, 21.0])
    k_line = _line_of("k = z")
    assert not [st for st in ir.walk(module.moved_alias.ir.body)
                if isinstance(st, ir.Op) and st.line == k_line and st.prim == "copy"]


def test_alias_is_copied_when_the_next_iteration_or_later_code_writes_the_source(module):
    x = np.array([5.0, 6.0])
    np.testing.assert_array_equal(_call_unchanged(module.wrap_alias, x, 3), [1.0, 12.0])
    np.testing.assert_array_equal(_call_unchanged(module.exit_alias, x, 3), [10.0, 12.0])


def test_row_swap(module):
    A = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(_call_unchanged(module.row_swap, A, 0, 2), A[[2, 1, 0]])


def test_results_share_no_memory_with_arguments_or_each_other(module):
    x, A = np.arange(3.0), np.arange(6.0).reshape(3, 2)
    out = _call_unchanged(module.results, x, A)
    np.testing.assert_array_equal(out[2], A.T)
    for a, b in itertools.combinations([*out, x, A], 2):
        assert not np.shares_memory(a, b)
    z1, z2 = module.same_twice(x)
    assert not np.shares_memory(z1, z2)
    z1[0] = 100.0
    np.testing.assert_array_equal(z2, 2 * x)


# ---- argument checks -----------------------------------------------------------------------

X, A, V, KI = np.ones(3), np.ones((3, 2)), np.ones(3), np.arange(3)
GOOD = (X, A, 1, 1.0, True, V, KI)


def _with(pos: int, value):
    args = list(GOOD)
    args[pos] = value
    return tuple(args)


ARG_ERRORS = [
    # (id, args, kwargs, fragments the message must contain)
    ("too_few", GOOD[:5], {}, ["sig()", "missing", "v", "ki"]),
    ("too_many", GOOD + (5,), {}, ["sig()", "takes 7", "got 8"]),
    ("rank", _with(0, np.ones((3, 1))), {}, ["'x'", "float[n]", "(3, 1)"]),
    ("rank_scalar_for_array", _with(1, 2.0), {}, ["'A'", "float[n, m]", "()"]),
    ("array_for_scalar", _with(3, np.ones(2)), {}, ["'s'", "float", "(2,)"]),
    ("complex_array", _with(0, X.astype(complex)), {}, ["'x'", "float", "complex128"]),
    ("complex_scalar", _with(3, 1 + 2j), {}, ["'s'", "float", "complex"]),
    ("float_for_int", _with(2, 1.5), {}, ["'k'", "int", "float", "1.5"]),
    ("float_array_for_int_array", _with(6, np.ones(3)), {}, ["'ki'", "int", "float64"]),
    ("string", _with(3, "a"), {}, ["'s'", "float", "str"]),
    ("bool_for_float", _with(3, True), {}, ["'s'", "float", "bool"]),
    ("bool_for_int", _with(2, False), {}, ["'k'", "int", "bool"]),
    ("int_for_bool", _with(4, 1), {}, ["'b'", "bool", "int"]),
    ("bool_array", _with(5, np.ones(3, dtype=bool)), {}, ["'v'", "float", "bool"]),
    ("shape_variable", _with(1, np.ones((4, 2))), {}, ["'A'", "float[n, m]", "(4, 2)", "n = 3", "'x'", "4"]),
    ("shape_variable_int", _with(6, np.arange(2)), {}, ["'ki'", "int[n]", "(2,)", "n = 3"]),
    ("literal_dim", _with(5, np.ones(4)), {}, ["'v'", "float[3]", "(4,)", "must be 3"]),
    ("ragged", _with(0, [[1.0, 2.0], [3.0]]), {}, ["'x'", "float[n]"]),
    ("int_out_of_range", _with(2, 2 ** 70), {}, ["'k'", "int", str(2 ** 70)]),
    ("unknown_keyword", GOOD, {"q": 1}, ["sig()", "'q'", "x, A, k, s, b, v, ki"]),
    ("keyword_twice", GOOD, {"x": X}, ["sig()", "'x'", "twice"]),
    ("keyword_missing", GOOD[:2], {"k": 1}, ["missing", "s, b, v, ki"]),
]


@pytest.mark.parametrize("args, kwargs, fragments", [row[1:] for row in ARG_ERRORS],
                         ids=[row[0] for row in ARG_ERRORS])
def test_argument_errors_name_parameter_expected_and_given(module, args, kwargs, fragments):
    with pytest.raises(adc.ArgumentError) as info:
        module.sig(*args, **kwargs)
    assert isinstance(info.value, TypeError)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


def test_keyword_arguments_and_python_values_are_accepted(module):
    want = 3 + 6 + 1 + 1.0 + 3 + 3 + 1.0
    assert module.sig(*GOOD) == want
    assert module.sig(x=X, A=A, k=1, s=1.0, b=True, v=V, ki=KI) == want
    assert module.sig(X, A, 1, 1.0, ki=KI, v=V, b=True) == want
    lists = ([1, 1, 1], [[1, 1], [1, 1], [1, 1]], np.int32(1), 1, np.bool_(True), (1.0, 1.0, 1.0), [0, 1, 2])
    assert module.sig(*lists) == want
    as_0d = (np.ones(3, dtype=np.float32), A.T.copy().T, np.array(1), np.array(1.0), np.array(True), V, KI)
    assert module.sig(*as_0d) == want
    readonly = X.copy()
    readonly.flags.writeable = False
    assert module.sig(readonly, np.broadcast_to(1.0, (3, 2)), 1, 1.0, True, V, KI) == want


def test_result_types(module):
    x = np.array([1.0, 2.0])
    s, k2, pos, arr, ints, mat = module.kinds(x, 3)
    assert type(s) is float and s == 3.0
    assert type(k2) is int and k2 == 6
    assert type(pos) is bool and pos is True
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float64 and arr.shape == (2,)
    assert isinstance(ints, np.ndarray) and ints.dtype == np.int64 and list(ints) == [3, 4]
    assert isinstance(mat, np.ndarray) and mat.shape == (2, 2)
    assert module.kinds(x, -1)[2] is False
    assert type(module.read_x(x, 0)) is float


def test_division_by_zero_follows_numpy(module):
    with np.errstate(divide="ignore", invalid="ignore"):
        q, qi, qx = module.ratio(1.0, 0.0, -2, np.array([1.0, 0.0]))
        assert q == np.inf and qi == -np.inf
        np.testing.assert_array_equal(qx, [np.inf, np.nan])
        assert np.isnan(module.ratio(0.0, 0.0, 1, np.ones(1))[0])


# ---- index errors ----------------------------------------------------------------------------

INDEX_ERRORS = [
    # (function, args, how the message names the array, the source text on the failing line)
    ("read_x", (np.ones(3), 3), "'y'", "return y[i]"),
    ("read_x", (np.ones(3), -4), "'y'", "return y[i]"),
    ("read_A", (np.ones((3, 2)), 0, 2), "'A' (axis 1)", "total += A[i, j]"),
    ("read_A", (np.ones((3, 2)), 3, 0), "'A' (axis 0)", "total += A[i, j]"),
    ("read_row", (np.ones((3, 2)), -4), "'A'", "return A[i]"),
    ("write_x", (np.ones(3), 5), "'y'", "y[i] = 1.0"),
    ("outer_call", (np.ones(3), 7), "z'", "return z[i]"),      # the callee's array, on its line
]


@pytest.mark.parametrize("name, args, shown, line_text", INDEX_ERRORS,
                         ids=[f"{r[0]}-{r[1][1:]}" for r in INDEX_ERRORS])
def test_index_out_of_range_names_array_and_line(module, name, args, shown, line_text):
    with pytest.raises(IndexError) as info:
        getattr(module, name)(*args)
    message = str(info.value)
    assert shown in message
    assert f"line {_line_of(line_text)} of semantics.ad" in message


def test_negative_indices_in_range_do_not_raise(module):
    x = np.array([1.0, 2.0, 3.0])
    assert module.read_x(x, -3) == 2.0
    np.testing.assert_array_equal(module.write_x(x, -1), [1.0, 2.0, 1.0])


# ---- NUMBA_DISABLE_JIT=1 ---------------------------------------------------------------------

def test_generated_code_runs_with_numba_disable_jit(tmp_path):
    script = textwrap.dedent('''
        import numpy as np
        import numba
        import adc
        assert numba.config.DISABLE_JIT
        m = adc.loads("""
        def f(x: float[n], k: int) -> (float, float[n]):
            y = x
            y[0] = 10.0
            total = 0.0
            for i in range(n):
                if i == k:
                    continue
                total += sigmoid(y[i]) * i
            return total, y
        """, "nojit.ad")
        x = np.array([1.0, 2.0, 3.0])
        total, y = m.f(x, 1)
        want = 1 / (1 + np.exp(-3.0)) * 2
        assert abs(total - want) < 1e-12, (total, want)
        assert list(x) == [1.0, 2.0, 3.0] and list(y) == [10.0, 2.0, 3.0]
        assert not hasattr(m.f.compiled.call, "signatures"), "compiled by Numba"
        try:
            m.f(x, 1.5)
        except adc.ArgumentError as exc:
            assert "'k'" in str(exc)
        print("ok")
    ''')
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", ADC_CACHE_DIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
