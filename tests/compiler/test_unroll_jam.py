"""Unroll-and-jam (``compiler/passes/unroll_jam.py``): which loops are jammed, and that jammed
loops give exactly the results of the loops as written, for every trip count (whole groups of
four and the rest), in plain Python and compiled."""
from __future__ import annotations

import copy
import random
from unittest import mock

import numpy as np
import pytest

import adc
from adc.compiler import emit_python, ir
from adc.compiler.ad import reverse as reverse_module
from adc.compiler.passes.analysis import substitute
from adc.compiler.passes.unroll_jam import unroll_and_jam
from adc.runtime.cache import load_module
from search_programs import SEARCH_PROGRAMS

SOURCE = SEARCH_PROGRAMS + """
def stepped(a: float[m, d], lo: int, hi: int) -> float:
    out = 0.0
    for j in range(hi, lo, -2):
        s = 0.5
        w = float(d)
        for e in range(1, d):
            s = s * 0.75 + a[j, e] / w
        out = out * 0.5 + s
    return out

def carried(a: float[m, d]) -> float:
    total = 0.0
    for j in range(m):
        for e in range(d):
            total += a[j, e] * a[j, e]
    return total

def read_after(a: float[m, d]) -> float:
    s = 0.0
    for j in range(m):
        s = 0.0
        for e in range(d):
            s += a[j, e]
    return s

def reads_what_after_writes(a: float[m, d]) -> float:
    best = 0.0
    for j in range(m):
        s = best
        for e in range(d):
            s += a[j, e]
        best = s * 0.5
    return best

def writes_array(a: float[m, d]) -> float:
    sums = zeros(m)
    for j in range(m):
        s = 0.0
        for e in range(d):
            s += a[j, e]
        sums[j] = s
    return sum(sums)

def no_recurrence(a: float[m, d]) -> float:
    out = 0.0
    for j in range(m):
        c = 0
        for e in range(d):
            c = c + 1
        out += float(c) * a[j, 0]
    return out

def reused_names(a: float[m, d]) -> float:
    out = 0.0
    for j in range(m):
        s = 0.0
        for e in range(d):
            s += a[j, e] * a[j, e]
        out = out * 0.5 + s
    for j in range(m):
        s = a[j, 0]
        out += s
    return out

def read_after_in_outer_loop(a: float[m, d]) -> float:
    out = 0.0
    for i in range(2):
        s = 0.0
        for j in range(m):
            s = 0.0
            for e in range(d):
                s += a[j, e]
            out = out * 0.5 + s
        out += s
    return out

def past_the_end(a: float[m, d]) -> float:
    out = 0.0
    for j in range(m):
        s = 0.0
        for e in range(d):
            s += a[j + 1, e]
        out = out * 0.5 + s
    return out

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

def added_at_one_element(x: float[m], t: float[n], k: int) -> float:
    total = 0.0
    for i in range(n):
        r = t[i]
        for j in range(m):
            r = r * t[i] + x[k] * x[j]
        total += r * r
    return total
"""


def _nearest(points, centroids):
    total = 0.0
    for p in points.tolist():
        best, best_dist = 0, 0.0
        for j, c in enumerate(centroids.tolist()):
            dist = 0.0
            for x, y in zip(p, c):
                dist += (x - y) * (x - y)
            if j == 0 or dist < best_dist:
                best, best_dist = (best if j == 0 else j), dist
        total += 1000.0 * best + best_dist
    return total


def _stepped(a, lo, hi):
    out, d = 0.0, a.shape[1]
    for j in range(hi, lo, -2):
        s = 0.5
        for e in range(1, d):
            s = s * 0.75 + a[j, e] / float(d)
        out = out * 0.5 + s
    return out


@pytest.fixture(scope="module", params=[False, True], ids=["nojit", "jit"])
def module(request):
    return adc.loads(SOURCE, jit=request.param)


def _jammed(f) -> bool:
    return unroll_and_jam(f.ir) is not f.ir


def test_only_loops_that_qualify_are_jammed(module):
    for name in ("nearest", "kmeans", "stepped", "reused_names", "past_the_end"):
        assert _jammed(getattr(module, name)), name
    for name in ("carried", "read_after", "read_after_in_outer_loop", "reads_what_after_writes", "writes_array",
                 "no_recurrence"):
        f = getattr(module, name)
        assert not _jammed(f), name


def test_jamming_leaves_the_listing_alone(module):
    before = str(module.nearest.ir)
    unroll_and_jam(module.nearest.ir)
    assert str(module.nearest.ir) == before


@pytest.mark.parametrize("k", [0, 1, 3, 4, 5, 7, 8, 9])
def test_nearest_is_exactly_the_loops_as_written(module, k):
    rng = np.random.default_rng(k)
    points = rng.random((7, 3))
    centroids = rng.random((k, 3))
    if k > 2:
        centroids[k - 1] = centroids[1]          # a tie: the first of equal distances wins
    assert module.nearest(points, centroids) == _nearest(points, centroids)


@pytest.mark.parametrize("lo, hi", [(-1, 9), (0, 9), (2, 9), (3, 4), (5, 5), (6, 2)])
def test_negative_step_and_the_rest(module, lo, hi):
    a = np.random.default_rng(lo + 10 * hi).random((10, 5))
    assert module.stepped(a, lo, hi) == _stepped(a, lo, hi)


def test_names_used_again_by_a_later_loop(module):
    a = np.random.default_rng(5).random((11, 3))
    out = 0.0
    for j in range(11):
        s = 0.0
        for e in range(3):
            s += a[j, e] * a[j, e]
        out = out * 0.5 + s
    for j in range(11):
        out += a[j, 0]
    assert module.reused_names(a) == out


@pytest.mark.parametrize("k", [1, 6, 8])
def test_gradient_with_a_jammed_search(module, k):
    d = adc.grad(module.kmeans, "centroids")
    assert unroll_and_jam(d.ir) is not d.ir
    rng = np.random.default_rng(k)
    points, centroids = rng.random((30, 3)), rng.random((k, 3))
    distances = ((points[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    best = distances.argmin(axis=1)
    want = np.zeros_like(centroids)
    np.add.at(want, best, -2.0 * (points - centroids[best]))
    np.testing.assert_allclose(d(points, centroids), want, rtol=1e-12, atol=1e-12)


def test_an_index_past_the_end_still_raises(module):
    with pytest.raises(IndexError, match="'a' \\(axis 0\\) on line 126"):
        module.past_the_end(np.ones((9, 3)))


def _random_program(rng: random.Random) -> str:
    """A loop nest of the shape the pass jams (``P``, an inner loop of recurrences, ``S``) in the
    subset of ``.ad`` that is also Python, with counters that keep every index in range."""
    sums = [f"s{k}" for k in range(rng.randint(1, 3))]
    step = rng.choice([1, 1, 2, 3])
    head = "range(lo, hi)" if step == 1 else f"range(lo, hi, {step})"
    if rng.random() < 0.3:
        head = f"range(hi - 1, lo - 1, {-step})"
    lines = ["def f(a: float[m, d], p: float[d], lo: int, hi: int) -> float:",
             "    out = 0.0", "    best = 0", "    best_val = 1e300", f"    for j in {head}:"]
    if rng.random() < 0.5:
        lines.append("        w = float(d) * 0.25")
    else:
        lines.append(f"        w = float(j) * {rng.choice(['0.5', '-0.125'])}")
    for s in sums:
        lines.append(f"        {s} = {rng.choice(['0.0', 'a[j, 0]', 'w', 'p[0] * w'])}")
    lines.append(f"        for e in range({rng.choice(['0', '1'])}, d):")
    for s in sums:
        term = rng.choice(["a[j, e] - p[e]", "a[j + 1, e] * w", "a[j, e] * float(e)", "p[e] + w"])
        lines.append(f"            t_{s} = {term}")
        lines.append(rng.choice([f"            {s} += t_{s} * t_{s}", f"            {s} = {s} * 0.5 + t_{s}",
                                 f"            {s} = {s} - t_{s} * a[j, e]"]))
    first = sums[0]
    lines += [f"        r = {first} - {sums[-1]} * 0.5", "        out = out * 0.75 + r"]
    if rng.random() < 0.7:
        lines += [f"        if {first} < best_val:", "            best = j", f"            best_val = {first}"]
    lines.append("    return out + float(best)")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(40))
def test_random_loop_nests_are_exactly_the_loops_as_written(seed):
    rng = random.Random(seed)
    src = _random_program(rng)
    f = adc.loads(src, jit=False).f
    assert _jammed(f), src
    python: dict = {"d": 5}          # the shape variable the arrays below bind
    exec(compile("from __future__ import annotations\n" + src, "<random>", "exec"), python)
    data = np.random.default_rng(seed)
    for lo, hi in [(0, 0), (0, 1), (0, 4), (1, 8), (2, 13), (5, 3)]:
        a, p = data.normal(size=(14, 5)), data.normal(size=5)
        assert f(a, p, lo, hi) == python["f"](a, p, lo, hi), (src, lo, hi)


def _top_loops(fn: ir.Function) -> int:
    return sum(isinstance(st, ir.For) for st in fn.body)


def _run_emitted(fn: ir.Function, args, jam: bool = True, jit: bool = False):
    """The first result of ``fn`` emitted with or without unroll-and-jam, run with fresh tapes."""
    with mock.patch.object(emit_python, "unroll_and_jam", unroll_and_jam if jam else (lambda f: f)):
        source, entry, helpers = emit_python.emit_module(fn)
    module, _ = load_module(source, jit=jit, helpers=helpers)
    out = getattr(module, entry)(*args, *[np.empty(0) for _ in emit_python.lent_tapes(fn)])
    return out[0] if isinstance(out, tuple) else out


def _tapes_as_placed(f, wrt: str) -> ir.Function:
    """``f``'s gradient IR with the tapes where the reverse transform places them (each value
    pushed before its overwrite): loops of that form are not jammed."""
    with mock.patch.object(reverse_module, "tape_at_iteration_end", lambda *a: False):
        return reverse_module.reverse(f.ir, [wrt], vjp=False, with_value=False).fn


def test_gradient_sweeps_of_a_residual_loop_are_jammed(module):
    d = adc.grad(module.residuals, "x").ir
    assert _top_loops(d) == 2 and _top_loops(unroll_and_jam(d)) == 4   # each: jammed, the rest
    rng = np.random.default_rng(3)
    for n in (0, 1, 3, 4, 5, 9):
        x, t = rng.standard_normal(6), rng.uniform(-1.0, 1.0, n)
        want = _run_emitted(_tapes_as_placed(module.residuals, "x"), (x, t), jam=False)
        assert np.array_equal(adc.grad(module.residuals, "x")(x, t), want), n


def test_additions_into_one_element_are_not_jammed(module):
    d = adc.grad(module.added_at_one_element, "x").ir
    assert _top_loops(d) == 2 and _top_loops(unroll_and_jam(d)) == 3   # the forward sweep only
    rng = np.random.default_rng(4)
    x, t = rng.standard_normal(5), rng.uniform(-1.0, 1.0, 7)
    want = _run_emitted(d, (x, t, 2), jam=False)
    assert np.array_equal(adc.grad(module.added_at_one_element, "x")(x, t, 2), want)


def _random_gradient_program(rng: random.Random) -> str:
    """A loop nest whose gradient has the shape the pass jams: the forward sweep pushes the
    inner loop's result at the end of each iteration; the reverse sweep pops it first and adds
    into ``x_bar[e]`` at the inner counter (running forwards, replaying ``w``, or backwards)."""
    step = rng.choice([1, 1, 2, 3])
    head = "range(lo, hi)" if step == 1 else f"range(lo, hi, {step})"
    if rng.random() < 0.3:
        head = f"range(hi - 1, lo - 1, {-step})"
    lines = ["def f(x: float[d], a: float[m, d], lo: int, hi: int) -> float:", "    total = 0.0",
             f"    for i in {head}:",
             f"        c = {rng.choice(['a[i, 0] * 0.5', 'float(i) * 0.25', 'a[i, 1]'])}",
             f"        r = {rng.choice(['0.0', 'c', 'x[0] * c', 'sign(c)'])}",
             "        w = 1.0",
             f"        for e in range({rng.choice(['0', '1'])}, d):"]
    lines += rng.choice([["            r = r - x[e] * w", "            w = w * c"],
                         ["            r += x[e] * a[i, e]"],
                         ["            r = r * 0.5 + x[e] * c"],
                         ["            r += x[e] * x[e] * c"],
                         ["            r -= x[e] * w", "            w *= a[i, e]"]])
    lines.append(f"        total += {rng.choice(['r * r', 'r * c', 'sin(r) * 2.0'])}")
    lines.append("    return total")
    return "\n".join(lines) + "\n"


def test_random_gradients_are_exactly_the_loops_as_written():
    jammed = 0
    for seed in range(40):
        src = _random_gradient_program(random.Random(seed))
        f = adc.loads(src, jit=False).f
        d = adc.grad(f, "x").ir
        jammed += _top_loops(unroll_and_jam(d)) - _top_loops(d)
        placed = _tapes_as_placed(f, "x")
        data = np.random.default_rng(seed)
        for lo, hi in [(0, 0), (0, 1), (0, 4), (1, 8), (2, 13), (5, 3)]:
            x, a = data.normal(size=5), data.normal(size=(14, 5))
            got = _run_emitted(d, (x, a, lo, hi))
            assert np.array_equal(got, _run_emitted(d, (x, a, lo, hi), jam=False)), (src, lo, hi)
            assert np.array_equal(got, _run_emitted(placed, (x, a, lo, hi), jam=False)), (src, lo, hi)
    # 57 sweeps with these seeds; not jammable: a reverse sweep that also adds into x_bar[0]
    # after its inner loop, or whose inner loop carries no float recurrence
    assert jammed >= 50


ADDS_INTO_ITS_INPUT = """
def f(x: float[m], n: int) -> float:
    a = x * 1.0
    y = a[0:m]
    total = 0.0
    for i in range(n):
        c = float(i) * 0.5
        r = 0.0
        for e in range(m):
            r = r * c + y[e]
            a[e] = r
        total += r
    return total + sum(a)
"""


@pytest.mark.parametrize("aliased", [False, True])
def test_additions_into_memory_the_loop_reads_are_not_jammed(aliased):
    """``a[e] = r`` made an addition ``a[e] += r`` (as the reverse sweep writes them): jammed
    while ``y`` is a copy of ``a``, not when it is a view of it (a later iteration reads
    elements an earlier one added into)."""
    fn = copy.deepcopy(adc.loads(ADDS_INTO_ITS_INPUT, jit=False).f.ir)
    for st in ir.walk(fn.body):
        if isinstance(st, ir.Op) and st.prim == "setindex":
            st.prim = "addindex"
        if isinstance(st, ir.Op) and st.prim == "copy" and aliased:
            substitute(fn.body, {st.target: st.args[0]})
    assert (_top_loops(unroll_and_jam(fn)) > _top_loops(fn)) is not aliased
    x = np.random.default_rng(7).standard_normal(5)
    for n in (0, 3, 4, 9):
        assert np.array_equal(_run_emitted(fn, (x, n)), _run_emitted(fn, (x, n), jam=False)), n
