"""Lane layout (``compiler/passes/lane_layout.py``): which jammed loops read a transposed copy,
that they give exactly the results of the loops as written (random loop nests, in plain Python
and compiled), that index errors still name the array and axis as written, and that SLP
vectorisation is on for those generated functions only."""
from __future__ import annotations

import random
import re

import numba
import numpy as np
import pytest

import adc
from adc.compiler.emit_python import emit_module
from adc.compiler import ir
from adc.compiler.passes.lane_layout import LANE_JAM, transpose_lanes
from adc.compiler.passes.unroll_jam import JAM, unroll_and_jam
from adc.runtime.cache import load_module
from search_programs import SEARCH_PROGRAMS

SOURCE = SEARCH_PROGRAMS + """
def no_outer_loop(a: float[m, d], p: float[d]) -> float:
    out = 0.0
    for j in range(m):
        s = 0.0
        for e in range(d):
            s += (a[j, e] - p[e]) * (a[j, e] - p[e])
        out = out * 0.5 + s
    return out

def written_in_the_outer_loop(a: float[m, d], p: float[d]) -> float:
    b = a * 1.0
    out = 0.0
    for i in range(3):
        b[i, 0] = out
        for j in range(m):
            s = 0.0
            for e in range(d):
                s += (b[j, e] - p[e]) * (b[j, e] - p[e])
            out = out * 0.5 + s
    return out

def strided_lanes(a: float[m, d], p: float[d]) -> float:
    out = 0.0
    for i in range(3):
        for j in range(0, m, 2):
            s = 0.0
            for e in range(d):
                s += (a[j, e] - p[e]) * (a[j, e] - p[e])
            out = out * 0.5 + s
    return out

def three_lanes(a: float[m, d], p: float[d]) -> float:
    out = 0.0
    for i in range(3):
        for j in range(0, m - 2, 3):
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            for e in range(d):
                s0 += a[j, e] * p[e]
                s1 += a[j + 1, e] * p[e]
                s2 += a[j + 2, e] * p[e]
            out = out * 0.5 + s0 + s1 + s2
    return out

def row_past_the_end(a: float[m, d]) -> float:
    out = 0.0
    for i in range(2):
        for j in range(m):
            s = 0.0
            for e in range(d):
                s += a[j + 1, e]
            out = out * 0.5 + s
    return out

def column_past_the_end(a: float[m, d]) -> float:
    out = 0.0
    for i in range(2):
        for j in range(m):
            s = 0.0
            for e in range(d):
                s += a[j, e + 1]
            out = out * 0.5 + s
    return out
"""


def _laid_out(f) -> bool:
    jammed = unroll_and_jam(f.ir)
    return transpose_lanes(jammed) is not jammed


@pytest.fixture(scope="module", params=[False, True], ids=["nojit", "jit"])
def module(request):
    return adc.loads(SOURCE, jit=request.param)


def test_only_lanes_of_a_matrix_kept_across_an_outer_loop_read_a_copy(module):
    assert _laid_out(module.nearest)
    for name in ("no_outer_loop", "written_in_the_outer_loop", "strided_lanes", "three_lanes"):
        assert not _laid_out(getattr(module, name)), name


def test_the_copy_is_made_once_before_the_outer_loop(module):
    source = module.nearest.compiled.source
    body = source[source.index("\ndef "):]
    copy_at = body.index("centroids_T = ")
    assert body.count("centroids_T = ") == 1 and copy_at < body.index("for i in range")
    assert "centroids_T[e, j_3]" in body


def test_loops_whose_lanes_are_laid_out_run_eight_lanes(module):
    steps = {st.step.value for st in ir.walk(unroll_and_jam(module.nearest.ir).body) if isinstance(st, ir.For)}
    assert steps == {1, LANE_JAM}
    source = module.nearest.compiled.source
    assert "centroids_T[e, j_7]" in source and "j_8" not in source
    jammed = unroll_and_jam(module.no_outer_loop.ir)
    assert [st.step.value for st in jammed.body if isinstance(st, ir.For)] == [JAM, 1]


@pytest.mark.parametrize("k", [1, 6, 8])
def test_a_gradient_with_a_search_reads_a_copy_too(module, k):
    grad = adc.grad(module.kmeans, "centroids")
    assert "centroids_T = " in grad.compiled.source
    rng = np.random.default_rng(k)
    points, centroids = rng.random((30, 3)), rng.random((k, 3))
    best = ((points[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    want = np.zeros_like(centroids)
    np.add.at(want, best, -2.0 * (points - centroids[best]))
    np.testing.assert_allclose(grad(points, centroids), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k", [0, 1, 3, 4, 5, 8, 9, 17])
def test_nearest_is_exactly_the_loops_as_written(module, k):
    rng = np.random.default_rng(k)
    points, centroids = rng.random((7, 3)), rng.random((k, 3))
    want = 0.0
    for p in points.tolist():
        best, best_dist = 0, 0.0
        for j, c in enumerate(centroids.tolist()):
            dist = 0.0
            for x, y in zip(p, c):
                dist += (x - y) * (x - y)
            if j == 0 or dist < best_dist:
                best, best_dist = (best if j == 0 else j), dist
        want += 1000.0 * best + best_dist
    assert module.nearest(points, centroids) == want


@pytest.mark.parametrize("name, axis, line", [("row_past_the_end", 0, 96), ("column_past_the_end", 1, 106)])
def test_an_index_out_of_range_names_the_array_and_axis_as_written(module, name, axis, line):
    f = getattr(module, name)
    assert _laid_out(f)
    with pytest.raises(IndexError, match=f"index out of range for 'a' \\(axis {axis}\\) on line {line} "):
        f(np.ones((9, 3)))


def test_slp_is_on_for_functions_with_transposed_copies_only():
    """The per-library switch: the generated function's lanes become vector operations; a
    user's Numba function with the same lanes, compiled afterwards, stays scalar."""
    fn = adc.loads(SOURCE, jit=False).nearest.ir
    source, entry, helpers = emit_module(fn)
    assert "pipeline_class=_VectorPipeline" in source
    module, _ = load_module(source.replace("cache=True", "cache=False"), jit=True, helpers=helpers)
    generated = getattr(module, entry)
    assert re.search(r"fsub <\d+ x double>", generated.inspect_llvm(generated.signatures[0]))

    @numba.njit("float64(float64[::1], float64[:, ::1])")
    def user(x, t):
        s0 = s1 = s2 = s3 = 0.0
        for e in range(t.shape[0]):
            d0, d1, d2, d3 = x[e] - t[e, 0], x[e] - t[e, 1], x[e] - t[e, 2], x[e] - t[e, 3]
            s0 += d0 * d0
            s1 += d1 * d1
            s2 += d2 * d2
            s3 += d3 * d3
        return s0 + s1 + s2 + s3

    assert not re.search(r"fsub <\d+ x double>", user.inspect_llvm(user.signatures[0]))
    jammed_source = emit_module(adc.loads(SOURCE, jit=False).no_outer_loop.ir).source
    assert "_VectorPipeline" not in jammed_source


def _random_program(rng: random.Random) -> tuple[str, bool]:
    """A jammable loop nest (``P``, an inner loop of recurrences, ``S``) inside one or two outer
    loops, in the subset of ``.ad`` that is also Python, reading rows ``j - 1``, ``j``, ``j + 1``
    of a matrix that the outer loops leave alone (``a``), rebind (``c``) or write (``b``); and
    whether its lanes should read a transposed copy (None: either)."""
    matrix = rng.choice(["a", "a", "b", "c"])
    middle = rng.random() < 0.6
    step = rng.choice([1, 1, -1, 2])
    head = "range(lo, hi)" if step == 1 else f"range(lo, hi, {step})" if step > 1 else "range(hi - 1, lo - 1, -1)"
    sums = [f"s{k}" for k in range(rng.randint(1, 3))]
    lines = ["def f(a: float[m, d], p: float[d], lo: int, hi: int, reps: int) -> float:",
             "    out = 0.0", "    b = a * 1.0", "    c = a * 1.0", "    for r in range(reps):"]
    if matrix == "b":
        lines.append("        b[r % m, r % d] = out * 0.125")
    if matrix == "c":
        lines.append("        c = a * float(r + 1)")
    ind = "        "
    if middle:
        lines.append(f"{ind}for i in range(2):")
        ind += "    "
    lines += [f"{ind}best = 0", f"{ind}best_val = 1e300", f"{ind}for j in {head}:"]
    ind += "    "
    lines.append(f"{ind}w = {rng.choice(['float(d) * 0.25', 'float(j) * 0.5', 'p[0] - float(r)'])}")
    for s in sums:
        lines.append(f"{ind}{s} = {rng.choice(['0.0', f'{matrix}[j, 0]', 'w'])}")
    column = rng.choice(["e", "e", "e - 1", "d - 1 - e"])
    lines.append(f"{ind}for e in range({'1' if column == 'e - 1' else rng.choice(['0', '1'])}, d):")
    for s in sums:
        row = rng.choice(["j", "j", "j + 1", "j - 1"])
        term = rng.choice([f"{matrix}[{row}, {column}] - p[e]", f"{matrix}[{row}, {column}] * w",
                           f"{matrix}[{row}, {column}] * float(e)", "p[e] + w"])
        lines.append(f"{ind}    t_{s} = {term}")
        lines.append(rng.choice([f"{ind}    {s} += t_{s} * t_{s}", f"{ind}    {s} = {s} * 0.5 + t_{s}",
                                 f"{ind}    {s} = {s} - t_{s} * {matrix}[j, e]"]))
    lines += [f"{ind}out = out * 0.75 + ({' - 0.5 * '.join(sums)})",
              f"{ind}if {sums[0]} < best_val:", f"{ind}    best = j", f"{ind}    best_val = {sums[0]}",
              f"{ind[:-4]}out += float(best)", "    return out"]
    source = "\n".join(lines) + "\n"
    inner = source[source.index("for e in"):]
    if step == 2 and len(set(re.findall(rf"{matrix}\[(j[^,]*),", inner))) > 1:
        return source, None        # rows j - 1 and j of every other j: adjacent or not, as it may be
    return source, f"{matrix}[" in inner and abs(step) == 1 and (matrix == "a" or middle)


def _check_random_program(seed: int, jit: bool) -> None:
    src, expected = _random_program(random.Random(seed))
    f = adc.loads(src, jit=jit).f
    assert expected is None or _laid_out(f) == expected, src
    python: dict = {"m": 14, "d": 5}          # the shape variables the arrays below bind
    exec(compile("from __future__ import annotations\n" + src, "<random>", "exec"), python)
    data = np.random.default_rng(seed)
    for lo, hi, reps in [(0, 0, 2), (0, 1, 1), (0, 4, 2), (-1, 8, 3), (1, 13, 2), (2, 11, 0), (5, 3, 2)]:
        a, p = data.normal(size=(14, 5)), data.normal(size=5)
        assert f(a, p, lo, hi, reps) == python["f"](a, p, lo, hi, reps), (src, lo, hi, reps)


@pytest.mark.parametrize("seed", range(60))
def test_random_loop_nests_are_exactly_the_loops_as_written(seed):
    _check_random_program(seed, jit=False)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 6])
def test_random_loop_nests_compiled_are_exactly_the_loops_as_written(seed):
    _check_random_program(seed, jit=True)
