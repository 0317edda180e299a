"""Recurrences replayed in a forward-running reverse loop instead of taped.

A loop-carried scalar that a cheap recurrence updates (``mul *= ti`` in GradBench's llsq) is
recomputed in the loop's reverse, when that reverse runs forwards (its body only accumulates
adjoints), from the value it had on entry to the loop: a constant or recomputable assignment
just before the loop, else a copy saved once per run of the loop. Each program below is checked
against central finite differences, and its readable adjoint for whether the variable is still
taped: the replayable forms must not be, the unsafe ones (the reverse loop must run backwards,
the variable is written twice or in a branch, the factor changes in the loop) must be and stay
correct. A generator of random llsq-like loop nests mixes all of these.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import adc
from gradcheck import check_grad

ROOT = Path(__file__).resolve().parents[3]
RNG = np.random.default_rng(20240917)
X = RNG.uniform(-1.0, 1.0, 6)
C = RNG.uniform(0.5, 1.2, 6)


@dataclass
class Program:
    name: str
    source: str
    args: dict
    replayed: bool                # no push or pop of `mul` (or `p`, `w`, `r`) in the adjoint
    var: str = "mul"
    wrt: tuple = ("x",)


PROGRAMS = [
    # ---- replayed -----------------------------------------------------------------------------
    Program("entry_reads_recomputed_value", """
def entry_reads_recomputed_value(x: float[m], n: int) -> float:
    total = 0.0
    for i in range(n):
        ti = -1.0 + i * 2.0 / (n - 1)
        inner = ti * 0.5
        mul = ti
        for j in range(m):
            mul *= ti
            inner -= x[j] * mul
        total += inner * inner
    return total / 2
""", dict(x=X, n=5), True),
    Program("invariant_parameter_saved_entry", """
def invariant_parameter_saved_entry(x: float[m], r: float, k: int) -> float:
    total = 0.0
    p = 1.0
    for i in range(k):
        s = 0.0
        for j in range(m):
            s += x[j] * p
            p = p * r + 0.1
        total += s * s
    return total
""", dict(x=X, r=0.7, k=3), True, var="p"),
    Program("index_and_array_factor", """
def index_and_array_factor(x: float[m], c: float[m]) -> float:
    s = 0.0
    w = 1.0
    k = 0
    for j in range(m):
        s += x[k] * w
        w = w * c[j]
        k = (k + 3) % m
    return s
""", dict(x=X, c=C), True, var="w"),
    Program("read_before_and_after_the_loops", """
def read_before_and_after_the_loops(x: float[m], n: int) -> float:
    total = 0.0
    for i in range(n):
        t = 0.5 + 0.1 * i
        mul = 1.0
        acc = x[0] * mul
        for j in range(m):
            acc += x[j] * mul
            mul *= t
        acc += x[1] * mul
        for j in range(m):
            acc += x[j] * mul * 0.5
            mul *= 0.9
        total += acc * acc
    return total
""", dict(x=X, n=4), True),
    Program("read_in_a_branch", """
def read_in_a_branch(x: float[m], n: int) -> float:
    total = 0.0
    for i in range(n):
        t = 0.6 + 0.1 * i
        mul = 1.0
        s = 0.0
        for j in range(m):
            if mul > 0.3:
                s += x[j] * mul
            mul *= t
        total += s * s
    return total
""", dict(x=X, n=4), True),
    Program("parameter_updated", """
def parameter_updated(x: float[m], r: float) -> float:
    s = 0.0
    for j in range(m):
        s += x[j] * r
        r = r * 0.8
    return s
""", dict(x=X, r=0.9), True, var="r"),
    Program("bounds_follow_the_outer_index", """
def bounds_follow_the_outer_index(x: float[m], n: int) -> float:
    total = 0.0
    for i in range(n):
        mul = 1.0
        t = 0.9 - 0.05 * i
        s = 0.0
        for j in range(i % m + 1):
            s += x[j] * mul
            mul *= t
        total += s * s
    return total
""", dict(x=X, n=9), True),
    # ---- not safe to replay: taped, and still correct ------------------------------------------
    Program("reverse_must_run_backwards", """
def reverse_must_run_backwards(x: float[m], n: int) -> float:
    total = 0.0
    for i in range(n):
        t = 0.3 + 0.2 * i
        s = 0.0
        mul = 1.0
        for j in range(m):
            s = s * 0.5 + x[j] * mul
            mul *= t
        total += s * s
    return total
""", dict(x=X, n=4), False),
    Program("parameter_with_a_derivative", """
def parameter_with_a_derivative(x: float[m], r: float) -> float:
    s = 0.0
    for j in range(m):
        s += x[j] * r
        r = r * 0.8
    return s
""", dict(x=X, r=0.9), False, var="r", wrt=("x", "r")),
    Program("overwritten_mid_body", """
def overwritten_mid_body(x: float[m], n: int) -> float:
    total = 0.0
    for i in range(n):
        t = 0.5 + 0.1 * i
        mul = 1.0
        s = 0.0
        for j in range(m):
            mul *= t
            s += x[j] * mul
            mul = mul - 0.25 * t
        total += s * s
    return total
""", dict(x=X, n=4), False),
    Program("factor_changes_in_the_loop", """
def factor_changes_in_the_loop(x: float[m], n: int) -> float:
    total = 0.0
    for i in range(n):
        t = 0.5 + 0.1 * i
        mul = 1.0
        s = 0.0
        for j in range(m):
            s += x[j] * mul
            mul *= t
            t = t + 0.1
        total += s * s
    return total
""", dict(x=X, n=4), False),
    Program("updated_in_a_branch", """
def updated_in_a_branch(x: float[m], n: int) -> float:
    total = 0.0
    for i in range(n):
        t = 0.5 + 0.1 * i
        mul = 1.0
        s = 0.0
        for j in range(m):
            s += x[j] * mul
            if j % 2 == 0:
                mul *= t
        total += s * s
    return total
""", dict(x=X, n=4), False),
]

BY_NAME = {p.name: p for p in PROGRAMS}
SOURCE = "\n".join(p.source.strip() + "\n" for p in PROGRAMS)
JIT = ("entry_reads_recomputed_value", "read_before_and_after_the_loops", "bounds_follow_the_outer_index")


@pytest.fixture(scope="module")
def plain():
    return adc.loads(SOURCE, "recurrences.ad", jit=False)


def _innermost_loops(listing: str) -> list[list[str]]:
    """The statements of each loop of a listing that holds no other loop."""
    lines = [line.split("#")[0].rstrip() for line in listing.splitlines()]
    depth = [len(line) - len(line.lstrip()) for line in lines]
    loops = []
    for k, line in enumerate(lines):
        if line.lstrip().startswith(("for ", "while ")):
            end = next((e for e in range(k + 1, len(lines)) if depth[e] <= depth[k]), len(lines))
            body = [lines[e].strip() for e in range(k + 1, end)]
            if not any(st.startswith(("for ", "while ")) for st in body):
                loops.append(body)
    return loops


def _taped(listing: str, var: str) -> bool:
    """Whether the innermost loop that updates ``var`` from its own value pushes it at every
    iteration."""
    update = re.compile(rf"{var} = .*\b{var}\b")
    return any(f"push({var})" in body for body in _innermost_loops(listing)
               if any(update.match(st) for st in body))


@pytest.mark.parametrize("name", BY_NAME)
def test_gradient_matches_finite_differences(plain, name):
    p = BY_NAME[name]
    check_grad(getattr(plain, name), p.args, wrt=p.wrt)


@pytest.mark.parametrize("name", BY_NAME)
def test_replayed_exactly_where_safe(plain, name):
    p = BY_NAME[name]
    listing = adc.adjoint_source(getattr(plain, name), wrt=p.wrt)
    assert _taped(listing, p.var) != p.replayed, listing


@pytest.mark.parametrize("name", JIT)
def test_compiled_gradient_agrees(plain, name):
    p = BY_NAME[name]
    compiled = adc.loads(p.source, f"{name}.ad", jit=True)
    got = adc.grad(getattr(compiled, name), wrt=p.wrt)(**p.args)
    want = adc.grad(getattr(plain, name), wrt=p.wrt)(**p.args)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_entry_value_saved_once_per_outer_iteration(plain):
    """With no assignment just before the loop, `p`'s entry value is copied and taped once per
    outer iteration (not per inner one); `mul = 1.0` and `w = 1.0` need nothing on the tape."""
    listing = adc.adjoint_source(plain.invariant_parameter_saved_entry, wrt="x")
    assert "push(p_0)" in listing and "p_0 = pop()" in listing
    assert "tape()" not in adc.adjoint_source(plain.index_and_array_factor, wrt="x")


# ---- GradBench's llsq --------------------------------------------------------------------------

def _inner_reverse_loop(listing: str) -> list[str]:
    """The lines of the reverse sweep's inner loop (the second `for j` of the listing)."""
    lines = [line.split("#")[0].rstrip() for line in listing.splitlines()]
    starts = [k for k, line in enumerate(lines) if line.strip().startswith("for j in range(")]
    assert len(starts) == 2, listing
    k = starts[1]
    indent = len(lines[k]) - len(lines[k].lstrip())
    body = []
    for line in lines[k + 1:]:
        if len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line.strip())
    return [lines[k].strip()] + body


def test_llsq_inner_reverse_loop_replays_mul():
    m = adc.load(ROOT / "runtime" / "gradbench" / "evals" / "llsq.ad", jit=False)
    listing = adc.adjoint_source(m.llsq, wrt="x")
    assert not _taped(listing, "mul"), listing
    loop = _inner_reverse_loop(listing)
    assert re.fullmatch(r"for j in range\(0, \w+, 1\):", loop[0]), loop     # runs forwards
    assert not any("pop()" in line or "push(" in line for line in loop), loop
    assert loop[1:] == ["x_bar[j] += -inner_bar * mul_1", "mul_1 = mul_1 * ti_1"], loop
    assert re.search(r"^\s*mul_1 = 1\.0\s", listing, re.M), listing           # the entry value
    assert re.search(r"^\s*ti_1 = -1\.0 \+ i \* 2\.0 / \(n - 1\)", listing, re.M), listing
    x = RNG.uniform(-1.0, 1.0, 5)
    check_grad(m.llsq, dict(x=x, n=7), wrt="x")


# ---- random llsq-like loop nests ---------------------------------------------------------------

def nest_program(seed: int) -> str:
    """A random loop nest: an optional outer loop with `t` recomputable from its index and some
    of `mul`, `kk` and `s` reset; an inner loop mixing running sums of `x` times `mul`, an
    accumulator whose adjoint is loop-carried, recurrences on `mul` and `kk`, branches, a
    changing factor, element writes and a small while loop."""
    rnd = random.Random(seed)
    pick = rnd.choice
    factor = ["mul", "mul * t", "mul * c[j]", "0.5 * mul + x[kk]", "mul * mul"]
    inner: list[str] = []
    updates = 0
    for _ in range(rnd.randint(2, 5)):
        r = rnd.randint(0, 13)
        if r <= 3:
            inner.append(f"s += x[{pick(['j', 'kk', 'm - 1 - j'])}] * ({pick(factor)})")
        elif r == 4:
            inner.append(f"s = s * 0.5 + x[j] * ({pick(factor)})")
        elif r <= 7:
            inner.append(pick(["mul *= t", "mul = mul * t + 0.1", "mul = mul * c[j]",
                               "mul = 0.5 * mul + 0.1 * float(j)", "mul = (mul + c[kk]) / 2.0",
                               "mul = -mul * 0.9"]))
            updates += 1
        elif r == 8:
            inner.append("kk = (kk + 3) % m")
        elif r == 9:
            inner.append(f"if {pick(['mul > 0.3', 'j % 2 == 0', 'kk > 1'])}:")
            inner.append(f"    {pick(['s += x[j] * mul', 'mul *= t', 's += x[kk] * t'])}")
        elif r == 10:
            inner.append("t = t + 0.05")
        elif r == 11:
            inner.append(f"y[j] = x[j] * {pick(['mul', 't', 's'])}")
        elif r == 12:
            inner += ["cnt = 0", "while cnt < 2:", f"    s += x[j] * {pick(['mul', 't'])} * 0.1",
                      "    cnt += 1"]
        else:
            inner += [f"u = {pick(['mul', 'mul * 2.0', 't * x[j]'])}", "s += u * x[kk]"]
    if not updates:
        inner.append("mul *= t")
    outer = rnd.random() < 0.8
    lines = ["def f(x: float[m], c: float[m], n: int) -> float:", "    total = 0.0", "    mul = 0.8",
             "    kk = 0", "    t = 0.5", "    y = x * 0.0"]
    ind = "    "
    if outer:
        lines.append(f"    for i in range({pick(['n', '1, n', 'n - 1, -1, -1'])}):")
        ind = "        "
        lines.append(ind + pick(["t = 0.5 + 0.1 * i", "t = 0.6 + 0.02 * i * i", "t = 0.7"]))
        for st in rnd.sample(["mul = 1.0", "mul = t", "kk = i % m", "s = 0.0", "s = x[0] * mul",
                              "mul = mul * 0.5"], rnd.randint(1, 4)):
            lines.append(ind + st)
    lines.append(ind + "s = x[1] * 0.5")
    bounds = ["m", "m", "i % m + 1" if outer else "m", "0, m, 2", "m - 1, -1, -1"]
    lines.append(ind + f"for j in range({pick(bounds)}):")
    lines += [ind + "    " + st for st in inner]
    if rnd.random() < 0.4:
        lines.append(ind + f"s += x[0] * {pick(['mul', 't', 'float(kk)'])}")
    lines.append(ind + f"total += {pick(['s * s', 'sin(s)', 's * mul', 's + sum(y * x)'])}")
    lines.append("    return total")
    return "\n".join(lines) + "\n"


NEST_SEEDS = range(80)


def test_random_loop_nests():
    replayed = 0
    for seed in NEST_SEEDS:
        src = nest_program(seed)
        m = adc.loads(src, f"nest{seed}.ad", jit=False)
        rng = np.random.default_rng(seed)
        args = dict(x=rng.uniform(-1.0, 1.0, 5), c=rng.uniform(0.5, 1.2, 5), n=4)
        try:
            check_grad(m.f, args, wrt="x")
        except AssertionError as e:
            raise AssertionError(f"seed {seed}:\n{src}\n{adc.adjoint_source(m.f, wrt='x')}") from e
        listing = adc.adjoint_source(m.f, wrt="x")
        replayed += bool(re.search(r"^\s*mul_\d+ = .*\bmul_\d+\b", listing, re.M))
    assert replayed >= len(NEST_SEEDS) // 5, f"only {replayed} nests replay `mul`"
