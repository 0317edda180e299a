"""The emitter writes fewer definitions and checks, for Numba's compile time, without changing
what the code computes or which error it raises: only variables that may be read before their
assignment get an initial value; a shape or index check implied by an earlier one is left out;
hoisted checks with one message share one ``raise``; a loop with a unit step counts its trips without a call; a row sum of the adjoint is a loop. Each
runs with the JIT and as plain Python.
"""
from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

import adc
from adc.compiler.emit_python import EmitOptions, emit_module

SOURCE = textwrap.dedent('''
    def later(x: float[n]) -> float:
        s = 0.0
        last = 0.0
        for i in range(n):
            t = x[i] * 2.0
            s += t
            last = t
        return s + last

    def chain(x: float[n], y: float[m]) -> float[n]:
        a = exp(x)
        b = a * 2.0
        c = b + x
        d = c * y
        return d + a

    def bump(a: float[n], i: int) -> float[n]:
        b = a + 0.0
        b[i] = b[i] + 1.0
        return b

    def pick(a: float[n], i: int) -> float:
        return a[i] * a[i]

    def shifted(x: float[n], y: float[m]) -> float:
        s = 0.0
        for i in range(n - 1):
            s += x[i] * x[i + 1] + y[i + 1]
        return s

    def rows(a: float[n, m], v: float[m]) -> float:
        return sum((a + v) * (a + v))

    def windows(x: float[n], lo: int, hi: int) -> float:
        s = 0.0
        for i in range(lo, hi):
            s += x[i] + 2.0 * x[i + 1]
        for j in range(hi, lo, -1):
            s = s * 0.5 + x[j - 1]
        for k in range(0, hi):
            s += x[k]
        for k2 in range(hi, -1, -1):
            s += 0.25 * x[k2]
        for a in range(0, 2):
            for b in range(lo, hi):
                s += x[a] * x[b]
        return s

    def stencil(x: float[n], y: float[n]) -> float[n]:
        z = x * 1.0
        z[2:n] = x[2:n] * y[0:n - 2]
        return z

    def short(x: float[n], y: float[n]) -> float[n]:
        z = x * 1.0
        z[1:n] = x[1:n] * y[0:n - 3]
        return z

    def twice(x: float[n], y: float[m]) -> float:
        assert m == n, "same sizes"
        assert m == n, "again"
        return sum(x * y)

    def same_rows(a: float[k, d], b: float[k, d], c: float[k]) -> float:
        s = 0.0
        for j in range(k):
            s += c[j] * a[j, 0]
            for i in range(d):
                s += a[j, i] * b[j, i]
        return s

    def products(A: float[n, m], x: float[m], y: float[n]) -> float[n, n]:
        z = A @ x + y
        w = y @ A + x
        return outer(z, y) + A @ transpose(A) + outer(A @ w, z)

    def gates(w: float[b4], x: float[b], y: float[b]) -> float[b]:
        assert b4 == 4 * b, "four gates"
        b2 = 2 * b
        return w[0:b] * x + w[b:b2] * y + w[b2:3 * b] - w[3 * b:b4]

    def overlong(w: float[b4], y: float[b]) -> float[b]:
        assert b4 == 4 * b, "four gates"
        return w[b:2 * b + 1] * y

    def carried(x: float[n], y: float[n], k: int) -> float[n]:
        for i in range(k):
            t = x * 0.5
            x = t + y
        return x * y

    def shrink(x: float[n], y: float[n], k: int) -> float:
        s = 0.0
        for i in range(k):
            s += sum(x * y)
            x = x[0:len(x) - 1] * 1.0
        return s

    def branchy(x: float[n], y: float[n], k: int) -> float:
        s = 0.0
        for i in range(k):
            s += sum(x * y)
            t = x * 1.0
            if i == 0:
                t = y[0:1] * 1.0
            x = t * 2.0
        return s

    def taped(x: float[n], w: float[n], k: int) -> float:
        h = x * 1.0
        for i in range(k):
            h = tanh(h * w + x)
        return sum(h * h)

    def mixed(x: float[n], y: float[m], k: int) -> float:
        a = x * 1.0
        b = y * 1.0
        for i in range(k):
            a = tanh(a * 0.5 + x)
            b = tanh(b * 0.5 + y)
        return sum(a * a) + sum(b)

    def steps(x: float[n], lo: int, hi: int) -> float:
        s = 0.0
        for i in range(lo, hi):
            s += x[i] * x[i]
        for i in range(hi - 1, lo - 1, -1):
            s = s * 0.5 + x[i]
        return s

''')


@pytest.fixture(scope="module", params=[True, False], ids=["jit", "nojit"])
def module(request):
    return adc.loads(SOURCE, "checks.ad", jit=request.param)


def _python(module, name: str) -> str:
    f = module.functions[name]
    return emit_module(f.ir, EmitOptions(True, "checks.ad"))[0]


def _line(text: str) -> int:
    return next(k for k, line in enumerate(SOURCE.splitlines(), 1) if line.strip() == text)


def test_only_variables_read_before_assignment_are_predeclared(module):
    body = _python(module, "later").split("def later(")[1]
    head = body[:body.index("# line")]
    # t and last are assigned in the loop, but every read follows an assignment: no second
    # definition at entry (each was one for Numba's SSA reconstruction and type inference).
    assert not re.search(r"\b(t|last|s) = ", head)
    assert module.later(np.array([1.0, 2.0, 3.0])) == 18.0
    np.testing.assert_array_equal(adc.grad(module.later)(np.array([1.0, 2.0, 3.0])), [2.0, 2.0, 4.0])


def test_shape_checks_implied_by_earlier_ones_are_left_out(module):
    code = _python(module, "chain")
    # x's extent reaches a, b and c through their definitions: only y needs checking, once.
    assert code.count("raise ValueError") == 1
    x, y = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0])
    a = np.exp(x)
    np.testing.assert_allclose(module.chain(x, y), (a * 2.0 + x) * y + a, rtol=1e-15)
    with pytest.raises(ValueError, match=f"shapes do not match in the expression on line "
                                         f"{_line('d = c * y')} of checks.ad"):
        module.chain(x, np.ones(4))


def test_an_index_checked_once_is_not_checked_again(module):
    code = _python(module, "bump")
    assert code.count("raise IndexError") == 1
    np.testing.assert_array_equal(module.bump(np.zeros(3), 1), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(module.bump(np.zeros(3), -1), [0.0, 0.0, 1.0])
    with pytest.raises(IndexError, match=f"index out of range for 'b' on line {_line('b[i] = b[i] + 1.0')}"):
        module.bump(np.zeros(3), 3)


def test_an_index_checked_on_an_array_is_in_range_of_its_adjoint(module):
    # a_bar is made with a's extent, so the adjoint's a_bar[i] needs no check of its own.
    assert adc.adjoint_source(module.pick, lang="python").count("raise IndexError") == 1
    np.testing.assert_array_equal(adc.grad(module.pick, wrt="a")(np.array([1.0, 3.0]), 1), [0.0, 6.0])
    with pytest.raises(IndexError, match=f"for 'a' on line {_line('return a[i] * a[i]')}"):
        adc.grad(module.pick, wrt="a")(np.array([1.0, 3.0]), 2)


def test_hoisted_checks_share_a_raise_per_message(module):
    code = _python(module, "shifted")
    assert len(re.findall(r"raise IndexError\(\"index out of range for 'x'", code)) == 1
    assert len(re.findall(r"raise IndexError\(\"index out of range for 'y'", code)) == 1
    x, y = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    assert module.shifted(x, y) == 1 * 2 + 2 * 3 + 5 + 6
    with pytest.raises(IndexError, match=f"for 'y' on line {_line('s += x[i] * x[i + 1] + y[i + 1]')}"):
        module.shifted(x, y[:2])


def test_row_sum_of_a_broadcast_adjoint(module):
    a = np.random.default_rng(0).standard_normal((5, 3))
    v = np.array([0.5, -1.0, 2.0])
    da, dv = adc.grad(module.rows)(a, v)
    np.testing.assert_allclose(dv, np.sum(2 * (a + v), axis=0), rtol=1e-14)
    np.testing.assert_allclose(da, 2 * (a + v), rtol=1e-14)
    assert "_sum_rows(" in adc.adjoint_source(module.rows, lang="python")


def _steps(x, lo, hi):
    s = 0.0
    for i in range(lo, hi):
        s += x[i] * x[i]
    for i in range(hi - 1, lo - 1, -1):
        s = s * 0.5 + x[i]
    return s


def test_unit_step_loops_count_their_trips_without_a_call(module):
    for code in (_python(module, "steps"), adc.adjoint_source(module.steps, wrt="x", lang="python")):
        assert "_trip_count(" not in code and "_in_range(" not in code
    x = np.array([0.5, -1.0, 2.0, 3.0, -0.25])
    grad = adc.grad(module.steps, wrt="x")
    h = 1e-6
    for lo, hi in [(0, 5), (1, 4), (2, 3), (3, 3), (4, 2), (-3, -1), (-5, 5)]:
        assert module.steps(x, lo, hi) == _steps(x, lo, hi)
        g = grad(x, lo, hi)
        for k in range(5):
            e = np.zeros(5)
            e[k] = h
            assert g[k] == pytest.approx((_steps(x + e, lo, hi) - _steps(x - e, lo, hi)) / (2 * h), abs=1e-6)
    line = _line("s += x[i] * x[i]")
    with pytest.raises(IndexError, match=f"index out of range for 'x' on line {line} of checks.ad"):
        module.steps(x, 1, 6)
    # the gradient does not run the first loop forwards: the reversed second one reads x first
    with pytest.raises(IndexError, match=f"index out of range for 'x' on line {line + 2} of checks.ad"):
        grad(x, -6, 2)


def _windows(x, lo, hi):
    """``windows`` in Python, with the language's rule: an index i is in range iff -n <= i < n."""
    def at(i):
        if not -len(x) <= i < len(x):
            raise IndexError(i)
        return x[i]
    s = 0.0
    for i in range(lo, hi):
        s += at(i) + 2.0 * at(i + 1)
    for j in range(hi, lo, -1):
        s = s * 0.5 + at(j - 1)
    for k in range(0, hi):
        s += at(k)
    for k2 in range(hi, -1, -1):
        s += 0.25 * at(k2)
    for a in range(0, 2):
        for b in range(lo, hi):
            s += at(a) * at(b)
    return s


def test_range_checks_raise_exactly_when_an_index_is_out_of_range(module):
    """Checks of a loop's first and last index, with one side left out where a bound is known
    not negative, raise for the same loop bounds as checking every index would."""
    x = np.array([1.0, -2.0, 3.0, 0.5])
    for lo in range(-6, 7):
        for hi in range(-6, 7):
            try:
                expected = _windows(x, lo, hi)
            except IndexError:
                with pytest.raises(IndexError):
                    module.windows(x, lo, hi)
            else:
                assert module.windows(x, lo, hi) == pytest.approx(expected, rel=1e-14), (lo, hi)


def test_slices_of_equal_extents_need_no_shape_check(module):
    """x[2:n] and y[0:n-2] of equal extents have equal lengths for every n (a negative end
    counts from the end: for n = 1, y[0:-1] is empty, as x[2:1] is)."""
    assert "raise ValueError" not in _python(module, "stencil")
    for n in range(6):
        x, y = np.arange(1.0, n + 1), np.arange(10.0, 10 + n)
        z = x.copy()
        z[2:n] = x[2:n] * y[0:n - 2]
        np.testing.assert_array_equal(module.stencil(x, y), z)


def test_slices_of_other_lengths_still_raise(module):
    assert "raise ValueError" in _python(module, "short")
    with pytest.raises(ValueError, match="line"):
        module.short(np.ones(5), np.ones(5))
    np.testing.assert_array_equal(module.short(np.ones(1), np.ones(1)), [1.0])   # y[0:-2] and x[1:1]: empty


def test_an_assert_implied_by_an_earlier_one_is_left_out(module):
    assert _python(module, "twice").count("raise AssertionError") == 1
    with pytest.raises(AssertionError, match="same sizes"):
        module.twice(np.ones(3), np.ones(2))
    assert module.twice(np.ones(3), np.full(3, 2.0)) == 6.0


def test_a_counter_checked_before_its_loop_is_not_checked_again(module):
    """a, b and c are declared with k rows: j's range is checked once, against one of them,
    before the loop over j; neither that loop nor the one inside it checks j again."""
    source = _python(module, "same_rows")
    assert len(re.findall(r"j_last >= \w+\.shape\[0\]", source)) == 1
    assert not re.search(r"\bj (<|>=) ", source)
    rng = np.random.default_rng(4)
    a, b, c = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=3)
    assert module.same_rows(a, b, c) == pytest.approx(np.sum(c * a[:, 0]) + np.sum(a * b), rel=1e-13)
    with pytest.raises(IndexError, match="'a' .axis 1. on line"):
        module.same_rows(np.ones((3, 0)), np.ones((3, 0)), np.ones(3))


def test_products_results_have_known_extents(module):
    """A @ x has A's rows, y @ A its columns, outer(u, v) u's and v's lengths, transpose(A)
    A's extents swapped: the sums with them need no shape check."""
    assert "raise ValueError" not in _python(module, "products")
    rng = np.random.default_rng(5)
    A, x, y = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=3)
    z, w = A @ x + y, y @ A + x
    np.testing.assert_allclose(module.products(A, x, y), np.outer(z, y) + A @ A.T + np.outer(A @ w, z), rtol=1e-13)


def test_slices_known_in_bounds_have_their_bounds_difference_as_length(module):
    """w[b:2 * b] of a 4 b vector has b elements: 0 <= b <= 2 b <= 4 b for every extent b."""
    assert "raise ValueError" not in _python(module, "gates")
    rng = np.random.default_rng(7)
    for b in (0, 1, 3):
        w, x, y = rng.normal(size=4 * b), rng.normal(size=b), rng.normal(size=b)
        np.testing.assert_allclose(module.gates(w, x, y), w[:b] * x + w[b:2 * b] * y + w[2 * b:3 * b] - w[3 * b:],
                                   rtol=1e-13)
    assert "raise ValueError" in _python(module, "overlong")
    with pytest.raises(ValueError, match="line"):
        module.overlong(np.ones(8), np.ones(2))


def test_an_array_a_loop_reassigns_with_its_own_extents_keeps_them(module):
    """x = 0.5 x + y keeps x's extents, so neither the loop nor the product after it checks
    shapes; an array that shrinks, or takes its value from a branch, is checked every time."""
    assert "raise ValueError" not in _python(module, "carried")
    x, y = np.arange(1.0, 4.0), np.full(3, 0.25)
    want = x.copy()
    for _ in range(3):
        want = want * 0.5 + y
    np.testing.assert_allclose(module.carried(x, y, 3), want * y, rtol=1e-14)
    for name in ("shrink", "branchy"):
        assert "raise ValueError" in _python(module, name), name
        assert module.__getattr__(name)(x, y, 1) == pytest.approx(np.sum(x * y))
        with pytest.raises(ValueError, match="line"):
            module.__getattr__(name)(x, y, 2)


def test_gradient_through_slices_known_in_bounds(module):
    """w_bar gets each gate's adjoint through a slice whose bounds the facts place inside w, so
    they are used unclamped."""
    grad = adc.vjp(module.gates, wrt="w")
    rng = np.random.default_rng(8)
    b = 3
    w, x, y, seed = rng.normal(size=4 * b), rng.normal(size=b), rng.normal(size=b), rng.normal(size=b)
    np.testing.assert_allclose(grad(w, x, y, seed=seed), np.concatenate([seed * x, seed * y, seed, -seed]), rtol=1e-14)
    assert re.search(r"_lo = t_\w+  #", grad.compiled.source)


def _fd_grad(f, x, *rest, eps=1e-6):
    return np.array([(f(x + eps * e, *rest) - f(x - eps * e, *rest)) / (2 * eps) for e in np.eye(len(x))])


def test_arrays_popped_from_a_tape_have_the_extents_pushed(module):
    """Every array taped by taped's loop has x's extent, so its reverse sweep checks no shapes;
    mixed tapes arrays of two extents on one tape, which tells the pops nothing."""
    assert "raise ValueError" not in adc.grad(module.taped, wrt="w").compiled.source
    rng = np.random.default_rng(9)
    x, w, y = rng.normal(size=4), rng.normal(size=4), rng.normal(size=3)
    np.testing.assert_allclose(adc.grad(module.taped, wrt="w")(x, w, 3),
                               _fd_grad(lambda w_, x_, k: module.taped(x_, w_, k), w, x, 3), rtol=1e-6, atol=1e-9)
    gx, gy = adc.grad(module.mixed, wrt=("x", "y"))(x, y, 3)       # a and b on one tape
    np.testing.assert_allclose(gx, _fd_grad(module.mixed, x, y, 3), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gy, _fd_grad(lambda y_, x_, k: module.mixed(x_, y_, k), y, x, 3), rtol=1e-6, atol=1e-9)
