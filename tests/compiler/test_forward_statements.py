"""Forward values of every statement form of language.md against plain Python/numpy.

Each program is a small ``.ad`` function (with the helpers it calls) and a line-by-line Python
reimplementation, run on a few seeded random inputs. All programs are generated into ONE ``.ad``
module, loaded once with the Numba JIT and once as plain Python (``jit=False``). At the end,
randomly generated control-flow programs are run as .ad and as Python, and must agree.
"""
from __future__ import annotations

import contextlib
import random
import textwrap
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import adc
from adc.compiler.errors import AdError
from adc.compiler.pipeline import front_end
from same_result import assert_same_result

SEEDS = range(5)


@dataclass
class Prog:
    name: str               # the entry function's name
    source: str             # .ad text: the entry function and any helpers it calls
    gen: Callable           # rng -> tuple of arguments
    ref: Callable           # *args -> expected result


def _vec(rng, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, int(rng.integers(1, 7)))


def _mat(rng):
    return rng.normal(size=(int(rng.integers(1, 5)), int(rng.integers(1, 5))))


def _pick(rng, n):
    return int(rng.integers(0, n))


# ---- reference implementations of the helpers the programs call -------------------------------

def _stats(x):
    m = x.sum() / len(x)
    return m, float(np.sum((x - m) ** 2) / len(x))


def _first_above(x, c):
    for i in range(len(x)):
        if x[i] > c:
            return i
    return -1


def _affine(x, s):
    return x * s + 1.0


def _clip(v):
    if v > 1.0:
        return 1.0
    if v < -1.0:
        return -1.0
    return v


PROGS: list[Prog] = [
    # ---- assignment -----------------------------------------------------------------------
    Prog("assign", """
def assign(x: float[n], s: float, k: int) -> (float[n], float, float):
    y = x * 2.0
    z = y + s
    w = z
    a = 1.0
    a = k
    c = k
    c = c * 3
    return w, a, float(c) + a
""", lambda rng: (_vec(rng), float(rng.normal()), int(rng.integers(-5, 6))),
        lambda x, s, k: (x * 2.0 + s, float(k), float(3 * k) + k)),
    Prog("swap_names", """
def swap_names(s: float, t: float) -> (float, float):
    a = s
    b = t
    tmp = a
    a = b
    b = tmp
    a = a - b
    return a, b
""", lambda rng: (float(rng.normal()), float(rng.normal())), lambda s, t: (t - s, s)),
    # ---- augmented assignment: scalars, whole arrays, elements, rows, slices ---------------
    Prog("aug_scalar", """
def aug_scalar(s: float, t: float, k: int) -> (float, int):
    a = s
    a += t
    a -= 0.5
    a *= t
    a /= 4
    a += k
    c = k
    c += 2
    c -= k * k
    c *= 3
    return a, c
""", lambda rng: (float(rng.normal()), float(rng.normal()), int(rng.integers(-5, 6))),
        lambda s, t, k: (((s + t) - 0.5) * t / 4 + k, (k + 2 - k * k) * 3)),
    Prog("aug_array", """
def aug_array(x: float[n], y: float[n], A: float[n, m], r: float[m]) -> (float[n], float[n, m]):
    v = x
    v += y
    v -= 1.5
    v *= y
    v /= 2
    B = A
    B += r
    B *= A
    B -= 1
    B /= r
    return v, B
""", lambda rng: (lambda n, m: (rng.normal(size=n), rng.normal(size=n), rng.normal(size=(n, m)),
                                rng.uniform(0.5, 2, m)))(int(rng.integers(1, 5)), int(rng.integers(1, 5))),
        lambda x, y, A, r: ((x + y - 1.5) * y / 2, ((A + r) * A - 1) / r)),
    Prog("aug_elements", """
def aug_elements(x: float[n], A: float[n, m], ki: int[n], i: int, j: int, s: float) -> (float[n], float[n, m], int[n]):
    v = x
    v[i] += s
    v[i] -= 1.0
    v[i] *= 3
    v[i] /= 2
    v[-1] += 10.0
    B = A
    B[i, j] += s
    B[i, j] -= 2
    B[i, j] *= s
    B[i, j] /= 4.0
    c = ki
    c[i] += 3
    c[i] -= 1
    c[i] *= 2
    return v, B, c
""", lambda rng: (lambda n, m: (rng.normal(size=n), rng.normal(size=(n, m)), rng.integers(-5, 6, n),
                                _pick(rng, n), _pick(rng, m), float(rng.normal())))(
            int(rng.integers(1, 5)), int(rng.integers(1, 5))),
        lambda x, A, ki, i, j, s: _aug_elements(x, A, ki, i, j, s)),
    Prog("aug_rows", """
def aug_rows(A: float[n, m], r: float[m], i: int, s: float) -> float[n, m]:
    B = A
    B[i] += r
    B[i] -= s
    B[i] *= r
    B[i] /= 2
    B[0] += 1
    return B
""", lambda rng: (lambda n, m: (rng.normal(size=(n, m)), rng.normal(size=m), _pick(rng, n),
                                float(rng.normal())))(int(rng.integers(1, 5)), int(rng.integers(1, 5))),
        lambda A, r, i, s: _aug_rows(A, r, i, s)),
    Prog("aug_slices", """
def aug_slices(x: float[n], y: float[n], lo: int, hi: int, s: float) -> float[n]:
    v = x
    v[lo:hi] += y[lo:hi]
    v[lo:hi] -= s
    v[lo:hi] *= 2
    v[lo:] /= 4.0
    v[:hi] += 1
    return v
""", lambda rng: _slice_args(rng), lambda x, y, lo, hi, s: _aug_slices(x, y, lo, hi, s)),
    # ---- element, row and slice writes -----------------------------------------------------
    Prog("writes", """
def writes(x: float[n], A: float[n, m], r: float[m], ki: int[n], i: int, j: int, k: int, s: float) -> (float[n], float[n, m], int[n]):
    v = x
    v[i] = s
    v[-1] = k
    B = A
    B[i, j] = s * 2
    B[0] = r
    B[-1] = 7.0
    B[i] = B[0] * 2
    c = ki
    c[i] = k
    v[0:1] = [s]
    return v, B, c
""", lambda rng: (lambda n, m: (rng.normal(size=n), rng.normal(size=(n, m)), rng.normal(size=m),
                                rng.integers(-5, 6, n), _pick(rng, n), _pick(rng, m), int(rng.integers(-5, 6)),
                                float(rng.normal())))(int(rng.integers(1, 5)), int(rng.integers(1, 5))),
        lambda x, A, r, ki, i, j, k, s: _writes(x, A, r, ki, i, j, k, s)),
    Prog("slice_writes", """
def slice_writes(x: float[n], y: float[n], lo: int, hi: int, s: float) -> float[n]:
    v = x
    v[lo:hi] = y[lo:hi] * 2
    v[:lo] = s
    v[hi:] = 0
    return v
""", lambda rng: _slice_args(rng), lambda x, y, lo, hi, s: _slice_writes(x, y, lo, hi, s)),
    Prog("overlapping_slice_writes", """
def overlapping_slice_writes(x: float[n]) -> float[n]:
    z = x * 1.0
    z[1:n] = z[0:n - 1] * 2.0
    z[0:n - 1] += z[1:n] * 1.0
    return z
""", lambda rng: (rng.normal(size=int(rng.integers(1, 7))),), lambda x: _overlapping_slice_writes(x)),
    Prog("rank3_writes", """
def rank3_writes(T: float[a, b, c], r: float[c], i: int, j: int, s: float) -> (float[a, b, c], float[c], float):
    U = T
    U[i, j] = r
    U[i, 0, 0] = s
    U[0] = U[0] * 2
    return U, U[i, j], U[i, j, 0]
""", lambda rng: (lambda a, b, c: (rng.normal(size=(a, b, c)), rng.normal(size=c), _pick(rng, a), _pick(rng, b),
                                   float(rng.normal())))(*(int(v) for v in rng.integers(1, 4, 3))),
        lambda T, r, i, j, s: _rank3(T, r, i, j, s)),
    # ---- tuple unpacking from a called function --------------------------------------------
    Prog("unpack", """
def stats(x: float[n]) -> (float, float):
    m = sum(x) / n
    return m, sum((x - m) ** 2) / n

def unpack(x: float[n], y: float[n]) -> (float, float, float):
    m, v = stats(x)
    m2, v2 = stats(y * 2)
    return m, v, m2 + v2
""", lambda rng: (lambda n: (rng.normal(size=n), rng.normal(size=n)))(int(rng.integers(1, 6))),
        lambda x, y: (*_stats(x), sum(_stats(y * 2)))),
    # ---- for loops over range with 1, 2 and 3 arguments ------------------------------------
    Prog("for_ranges", """
def for_ranges(x: float[n], a: int, b: int, st: int) -> (float, float, float, float, int):
    s1 = 0.0
    for i in range(n):
        s1 += x[i] * (i + 1)
    s2 = 0.0
    for i in range(a, b):
        s2 += i
    s3 = 0.0
    for i in range(a, b, st):
        s3 += i * 0.5
    s4 = 0.0
    for i in range(n - 1, -1, -1):
        s4 = s4 * 2 + x[i]
    count = 0
    for i in range(b, a, -st):
        count += 1
    return s1, s2, s3, s4, count
""", lambda rng: (_vec(rng), int(rng.integers(-5, 6)), int(rng.integers(-5, 9)), int(rng.integers(1, 4))),
        lambda x, a, b, st: _for_ranges(x, a, b, st)),
    Prog("nested_for", """
def nested_for(A: float[n, m]) -> (float[m, n], float):
    B = zeros(m, n)
    tri = 0.0
    for i in range(n):
        for j in range(m):
            B[j, i] = A[i, j]
            for k in range(i, j):
                tri += A[i, j] * k
    return B, tri
""", lambda rng: (_mat(rng),), lambda A: _nested_for(A)),
    # ---- while, break, continue ------------------------------------------------------------
    Prog("while_loop", """
def while_loop(s: float, k: int) -> (float, int, int):
    v = abs(s) + 0.1
    count = 0
    while v < 100.0:
        v = v * 3
        count += 1
    c = k
    steps = 0
    while c != 1 and steps < 1000:
        if c % 2 == 0:
            c = c // 2
        else:
            c = 3 * c + 1
        steps += 1
    return v, count, steps
""", lambda rng: (float(rng.normal()), int(rng.integers(1, 60))), lambda s, k: _while_loop(s, k)),
    Prog("break_continue", """
def break_continue(x: float[n], c: float) -> (float, int, float, float):
    total = 0.0
    last = -1
    for i in range(n):
        if x[i] > c:
            last = i
            break
        total += x[i]
    pos = 0.0
    for i in range(n):
        if x[i] < 0:
            continue
        pos += x[i]
    w = 0.0
    k = 0
    while True:
        k += 1
        if k > n:
            break
        if k % 2 == 0:
            continue
        w += x[k - 1]
    back = 0.0
    for i in range(n - 1, -1, -2):
        if x[i] < -1.5:
            break
        if x[i] > 1.5:
            continue
        back += x[i]
    return total, last, pos + w, back
""", lambda rng: (_vec(rng), float(rng.uniform(-1, 2))), lambda x, c: _break_continue(x, c)),
    Prog("nested_break", """
def nested_break(A: float[n, m], c: float) -> (float, int, int):
    total = 0.0
    rows = 0
    inner = 0
    for i in range(n):
        for j in range(m):
            if A[i, j] > c:
                break
            if A[i, j] < -c:
                continue
            total += A[i, j]
            inner += 1
        rows += 1
    return total, rows, inner
""", lambda rng: (_mat(rng), float(rng.uniform(0, 1.5))), lambda A, c: _nested_break(A, c)),
    Prog("while_break_nested", """
def while_break_nested(x: float[n]) -> (int, float):
    hits = 0
    acc = 0.0
    i = 0
    while i < n:
        j = 0
        while j < n:
            j += 1
            if j > i:
                break
            if x[j - 1] < 0:
                continue
            acc += x[j - 1]
        i += 1
        if acc > 5:
            break
        hits += 1
    return hits, acc
""", lambda rng: (_vec(rng, -1, 3),), lambda x: _while_break_nested(x)),
    # ---- if / elif / else ------------------------------------------------------------------
    Prog("if_chain", """
def if_chain(s: float, k: int) -> (float, int):
    if s < -1:
        r = -1.0
    elif s < 0:
        r = s * 2
    elif s < 1:
        r = s ** 2
    else:
        r = 1.0
    tag = 0
    if k > 0:
        tag = 1
    if k > 2:
        tag += 10
    elif k == 0:
        tag = 5
    if not (k > 0):
        if k < -2:
            tag -= 100
        else:
            tag -= 1
    return r, tag
""", lambda rng: (float(rng.uniform(-2, 2)), int(rng.integers(-4, 5))), lambda s, k: _if_chain(s, k)),
    # ---- early return: top level, in a loop, in nested loops, in a called function ---------
    Prog("early_top", """
def early_top(s: float) -> float:
    if s > 1:
        return 1.0
    if s < -1:
        return -1.0
    return s
""", lambda rng: (float(rng.uniform(-2, 2)),), lambda s: _clip(s)),
    Prog("early_loop", """
def early_loop(x: float[n], c: float) -> int:
    for i in range(n):
        if x[i] > c:
            return i
    return -1
""", lambda rng: (_vec(rng), float(rng.uniform(0, 2))), lambda x, c: _first_above(x, c)),
    Prog("early_nested", """
def early_nested(A: float[n, m], c: float) -> (int, int, float):
    total = 0.0
    for i in range(n):
        j = 0
        while j < m:
            total += A[i, j]
            if A[i, j] > c:
                return i, j, total
            j += 1
    return -1, -1, total
""", lambda rng: (_mat(rng), float(rng.uniform(0, 2))), lambda A, c: _early_nested(A, c)),
    Prog("early_callee", """
def first_above(x: float[n], c: float) -> int:
    for i in range(n):
        if x[i] > c:
            return i
    return -1

def clip1(v: float) -> float:
    if v > 1.0:
        return 1.0
    if v < -1.0:
        return -1.0
    return v

def early_callee(x: float[n], c: float) -> (int, int, float):
    a = first_above(x, c)
    b = first_above(x * -1, c)
    total = 0.0
    for i in range(n):
        total += clip1(x[i] * 2)
        if i == 2:
            return a, b, total
    return a, b, total
""", lambda rng: (_vec(rng), float(rng.uniform(0, 2))),
        lambda x, c: (_first_above(x, c), _first_above(-x, c), sum(_clip(v * 2) for v in x[:3]))),
    Prog("early_in_with", """
def early_in_with(x: float[n], s: float) -> float:
    with no_grad:
        if s > 0:
            return sum(x) * s
    return s
""", lambda rng: (_vec(rng), float(rng.normal())), lambda x, s: float(np.sum(x) * s) if s > 0 else s),
    Prog("early_both_branches", """
def sign_and_rest(x: float[n], c: float) -> (int, float):
    for i in range(n):
        if x[i] > c:
            return i, sum(x[i:])
    return -1, 0.0

def early_both_branches(x: float[n], c: float) -> (float, int, float):
    found = 0
    rest = 0.0
    for i in range(3):
        k, r = sign_and_rest(x, c + i * 0.5)
        if k < 0:
            break
        found += k
        rest += r
    if rest > 1.0:
        return rest, found, 1.0
    else:
        return rest, found, -1.0
""", lambda rng: (_vec(rng), float(rng.uniform(-1, 2))), lambda x, c: _early_both(x, c)),
    Prog("exit_in_with", """
def exit_in_with(x: float[n], c: float) -> (float, int):
    total = 0.0
    k = 0
    for i in range(n):
        with no_grad:
            if x[i] > c:
                break
            if x[i] < -c:
                continue
        total += x[i]
        k += 1
    return total, k
""", lambda rng: (_vec(rng), float(rng.uniform(0, 2))), lambda x, c: _exit_in_with(x, c)),
    Prog("range_once", """
def range_once(k: int) -> (int, float):
    m = k
    total = 0.0
    for i in range(m):
        m -= 1
        total += m
    hi = k
    count = 0
    for i in range(0, hi, 1):
        hi = 0
        count += 1
        if count > 100:
            break
    return count, total
""", lambda rng: (int(rng.integers(-2, 7)),),
        lambda k: (max(k, 0), float(sum(k - 1 - i for i in range(max(k, 0)))))),
    # ---- with no_grad ----------------------------------------------------------------------
    Prog("no_grad_block", """
def no_grad_block(x: float[n], s: float) -> (float, float[n]):
    y = x * s
    with no_grad:
        scale = norm(y)
        z = y / scale
    return scale, z + y
""", lambda rng: (_vec(rng, 0.1, 2), float(rng.uniform(0.5, 2))),
        lambda x, s: (np.linalg.norm(x * s), x * s / np.linalg.norm(x * s) + x * s)),
    # ---- assert ----------------------------------------------------------------------------
    Prog("assert_ok", """
def assert_ok(x: float[n], s: float) -> float:
    assert n > 0, "x must not be empty"
    assert abs(s) >= 0.0 and n == len(x), "impossible"
    return sum(x) + s
""", lambda rng: (_vec(rng), float(rng.normal())), lambda x, s: float(np.sum(x)) + s),
    # ---- calls: twice, nested, in a loop ---------------------------------------------------
    Prog("calls", """
def affine(x: float[n], s: float) -> float[n]:
    return x * s + 1.0

def dot_affine(x: float[n], y: float[n], s: float) -> float:
    return dot(affine(x, s), affine(y, s))

def calls(x: float[n], y: float[n], s: float) -> (float[n], float, float[n], float):
    a = affine(x, s) + affine(y, 2.0)
    b = dot_affine(x, y, s)
    c = affine(affine(x, s), s)
    d = 0.0
    for i in range(3):
        d += sum(affine(x, float(i)))
    return a, b, c, d
""", lambda rng: (lambda n: (rng.normal(size=n), rng.normal(size=n), float(rng.normal())))(int(rng.integers(1, 6))),
        lambda x, y, s: (_affine(x, s) + _affine(y, 2.0), float(np.dot(_affine(x, s), _affine(y, s))),
                         _affine(_affine(x, s), s), float(sum(np.sum(_affine(x, float(i))) for i in range(3))))),
    # ---- shape variables as ints, module constants -----------------------------------------
    Prog("shapes_consts", """
const H = 0.001
const N = 3
const C = H * 2 + N
const FLAG = True

def shapes_consts(A: float[n, m], x: float[m], v: float[3]) -> (float, int, float[n], float, float):
    avg = sum(A) / (n * m)
    cells = n * m + N
    z = zeros(n) + m
    if FLAG:
        z = z * 2
    w = 0.0
    for i in range(N):
        w += v[i] * C
    return avg, cells, z, w + H, float(len(x) - m)
""", lambda rng: (lambda n, m: (rng.normal(size=(n, m)), rng.normal(size=m), rng.normal(size=3)))(
            int(rng.integers(1, 5)), int(rng.integers(1, 5))),
        lambda A, x, v: (float(np.mean(A)), A.size + 3, np.full(A.shape[0], 2.0 * A.shape[1]),
                         float(sum(v[i] * (0.001 * 2 + 3) for i in range(3))) + 0.001, 0.0)),
]


# ---- references that do not fit in a lambda ---------------------------------------------------

def _slice_args(rng):
    n = int(rng.integers(1, 7))
    lo = int(rng.integers(0, n + 1))
    hi = int(rng.integers(lo, n + 1))
    return rng.normal(size=n), rng.normal(size=n), lo, hi, float(rng.normal())


def _aug_elements(x, A, ki, i, j, s):
    v, B, c = x.copy(), A.copy(), ki.copy()
    v[i] += s
    v[i] -= 1.0
    v[i] *= 3
    v[i] /= 2
    v[-1] += 10.0
    B[i, j] += s
    B[i, j] -= 2
    B[i, j] *= s
    B[i, j] /= 4.0
    c[i] += 3
    c[i] -= 1
    c[i] *= 2
    return v, B, c


def _aug_rows(A, r, i, s):
    B = A.copy()
    B[i] += r
    B[i] -= s
    B[i] *= r
    B[i] /= 2
    B[0] += 1
    return B


def _aug_slices(x, y, lo, hi, s):
    v = x.copy()
    v[lo:hi] += y[lo:hi]
    v[lo:hi] -= s
    v[lo:hi] *= 2
    v[lo:] /= 4.0
    v[:hi] += 1
    return v


def _writes(x, A, r, ki, i, j, k, s):
    v, B, c = x.copy(), A.copy(), ki.copy()
    v[i] = s
    v[-1] = k
    B[i, j] = s * 2
    B[0] = r
    B[-1] = 7.0
    B[i] = B[0] * 2
    c[i] = k
    v[0:1] = [s]
    return v, B, c


def _overlapping_slice_writes(x):
    z = x.copy()
    z[1:] = z[:-1] * 2.0
    z[:-1] += z[1:] * 1.0
    return z


def _slice_writes(x, y, lo, hi, s):
    v = x.copy()
    v[lo:hi] = y[lo:hi] * 2
    v[:lo] = s
    v[hi:] = 0
    return v


def _rank3(T, r, i, j, s):
    U = T.copy()
    U[i, j] = r
    U[i, 0, 0] = s
    U[0] = U[0] * 2
    return U, U[i, j].copy(), float(U[i, j, 0])


def _for_ranges(x, a, b, st):
    n = len(x)
    s1 = sum(x[i] * (i + 1) for i in range(n))
    s2 = float(sum(range(a, b)))
    s3 = sum(i * 0.5 for i in range(a, b, st))
    s4 = 0.0
    for i in range(n - 1, -1, -1):
        s4 = s4 * 2 + x[i]
    return float(s1), s2, float(s3), float(s4), len(range(b, a, -st))


def _nested_for(A):
    n, m = A.shape
    tri = 0.0
    for i in range(n):
        for j in range(m):
            for k in range(i, j):
                tri += A[i, j] * k
    return A.T.copy(), float(tri)


def _while_loop(s, k):
    v, count = abs(s) + 0.1, 0
    while v < 100.0:
        v, count = v * 3, count + 1
    c, steps = k, 0
    while c != 1 and steps < 1000:
        c = c // 2 if c % 2 == 0 else 3 * c + 1
        steps += 1
    return v, count, steps


def _break_continue(x, c):
    n = len(x)
    total, last = 0.0, -1
    for i in range(n):
        if x[i] > c:
            last = i
            break
        total += x[i]
    pos = sum(v for v in x if v >= 0)
    w, k = 0.0, 0
    while True:
        k += 1
        if k > n:
            break
        if k % 2 == 0:
            continue
        w += x[k - 1]
    back = 0.0
    for i in range(n - 1, -1, -2):
        if x[i] < -1.5:
            break
        if x[i] > 1.5:
            continue
        back += x[i]
    return float(total), last, float(pos + w), float(back)


def _nested_break(A, c):
    total, rows, inner = 0.0, 0, 0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            if A[i, j] > c:
                break
            if A[i, j] < -c:
                continue
            total += A[i, j]
            inner += 1
        rows += 1
    return float(total), rows, inner


def _while_break_nested(x):
    n = len(x)
    hits, acc, i = 0, 0.0, 0
    while i < n:
        j = 0
        while j < n:
            j += 1
            if j > i:
                break
            if x[j - 1] < 0:
                continue
            acc += x[j - 1]
        i += 1
        if acc > 5:
            break
        hits += 1
    return hits, float(acc)


def _if_chain(s, k):
    r = -1.0 if s < -1 else s * 2 if s < 0 else s ** 2 if s < 1 else 1.0
    tag = 0
    if k > 0:
        tag = 1
    if k > 2:
        tag += 10
    elif k == 0:
        tag = 5
    if not (k > 0):
        tag -= 100 if k < -2 else 1
    return r, tag


def _early_both(x, c):
    found, rest = 0, 0.0
    for i in range(3):
        hits = np.nonzero(x > c + i * 0.5)[0]
        if len(hits) == 0:
            break
        found += int(hits[0])
        rest += float(np.sum(x[hits[0]:]))
    return rest, found, 1.0 if rest > 1.0 else -1.0


def _exit_in_with(x, c):
    total, k = 0.0, 0
    for v in x:
        if v > c:
            break
        if v < -c:
            continue
        total += v
        k += 1
    return float(total), k


def _early_nested(A, c):
    total = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            total += A[i, j]
            if A[i, j] > c:
                return i, j, float(total)
    return -1, -1, float(total)


SOURCE = "\n".join(textwrap.dedent(p.source).strip() + "\n" for p in PROGS) + """
def assert_fails(x: float[n], s: float) -> float:
    assert s > 0, "s must be positive"
    return sum(x) * s

def checked_mean(x: float[n]) -> float:
    total = 0.0
    for i in range(n):
        assert x[i] >= 0.0, "negative entry"
        total += x[i]
    return total / n

def calls_checked(x: float[n]) -> float:
    return checked_mean(x * 2) + checked_mean(x)
"""


@pytest.fixture(scope="module", params=[True, False], ids=["jit", "nojit"])
def module(request):
    return adc.loads(SOURCE, "statements.ad", jit=request.param)


@pytest.mark.parametrize("prog", PROGS, ids=[p.name for p in PROGS])
def test_statement_forward_matches_python(module, prog):
    fn = getattr(module, prog.name)
    for seed in SEEDS:
        args = prog.gen(np.random.default_rng(seed))
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        want = prog.ref(*copies)
        got = fn(*args)
        assert_same_result(got, want, f"{prog.name} seed {seed}")


def _line_of(text: str) -> int:
    return next(k for k, line in enumerate(SOURCE.splitlines(), 1) if text in line)


def test_assert_passes_and_fails_with_message(module):
    assert module.assert_fails([1.0, 2.0], 2.0) == 6.0
    with pytest.raises(AssertionError, match="s must be positive") as info:
        module.assert_fails([1.0, 2.0], -1.0)
    assert f"line {_line_of('s must be positive')} of statements.ad" in str(info.value)


def test_assert_in_a_loop_of_a_called_function(module):
    assert module.calls_checked([1.0, 3.0]) == pytest.approx(6.0)
    with pytest.raises(AssertionError, match="negative entry") as info:
        module.calls_checked([1.0, -3.0])
    assert f"line {_line_of('negative entry')} of statements.ad" in str(info.value)


def test_module_has_every_program(module):
    assert set(module.functions) >= {p.name for p in PROGS}


# ---- generated control flow, against the same text run as Python --------------------------------
#
# Random scalar int programs in the common subset of .ad and Python (nested if/elif/else, for over
# 1/2/3-argument ranges with negative steps, while, break, continue, early return, with no_grad,
# calls of a helper with an early return in a loop). Python runs the same text. Values stay small
# (assignments are reduced mod 1009, increments are bounded), so int64 never overflows.

GEN_VARS = ("a", "b", "c")
GEN_HELPER = """def h(x: int, y: int) -> int:
    for k in range(3):
        if x > y + k:
            return (x - k) % 11
    return (y * 2) % 13
"""


class _ProgramGen:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.loop_vars: list[str] = []
        self.whiles = 0
        self.lines: list[str] = []

    def atom(self) -> str:
        pool = list(GEN_VARS) + ["p", "q"] + self.loop_vars
        return self.r.choice(pool) if self.r.random() < 0.8 else str(self.r.randint(-5, 9))

    def expr(self) -> str:
        a, b = self.atom(), self.atom()
        return self.r.choice([a, f"{a} + {b}", f"{a} - {b}", f"{a} * {self.r.randint(-3, 3)}", f"{a} % 7",
                              f"{a} // 3", f"h({a}, {b})", f"{a} if {self.cond()} else {b}"])

    def cond(self) -> str:
        a, b = self.atom(), self.atom()
        c = self.r.choice([f"{a} > {b}", f"{a} % 3 == 0", f"{a} <= {b}", f"{a} != {b}"])
        roll = self.r.random()
        if roll < 0.15:
            return f"{c} and {self.atom()} > 0"
        if roll < 0.3:
            return f"{c} or {self.atom()} < 0"
        return f"not ({c})" if roll < 0.4 else c

    def emit(self, ind: int, text: str) -> None:
        self.lines.append("    " * ind + text)

    def block(self, ind: int, depth: int, in_loop: bool, n: int | None = None) -> None:
        for _ in range(n or self.r.randint(1, 3)):
            self.stmt(ind, depth, in_loop)
        roll = self.r.random()          # an unguarded exit, only as the last statement of a block
        if in_loop and roll < 0.1:
            self.emit(ind, self.r.choice(["break", "continue"]))
        elif roll < 0.15:
            self.emit(ind, f"return {self.expr()}")

    def stmt(self, ind: int, depth: int, in_loop: bool) -> None:
        roll = self.r.random()
        v = self.r.choice(GEN_VARS)
        if roll < 0.3 or depth >= 3:
            if self.r.random() < 0.5:
                self.emit(ind, f"{v} = ({self.expr()}) % 1009")
            else:
                step = self.r.choice([str(self.r.randint(-3, 5)), self.atom() + " % 7",
                                      f"h({self.atom()}, {self.atom()})"])
                self.emit(ind, f"{v} {self.r.choice(['+=', '-='])} {step}")
        elif roll < 0.45:
            self.emit(ind, f"if {self.cond()}:")
            self.block(ind + 1, depth + 1, in_loop)
            for _ in range(self.r.randint(0, 2)):
                self.emit(ind, f"elif {self.cond()}:")
                self.block(ind + 1, depth + 1, in_loop)
            if self.r.random() < 0.5:
                self.emit(ind, "else:")
                self.block(ind + 1, depth + 1, in_loop)
        elif roll < 0.65:
            i = f"i{len(self.loop_vars)}"
            args = self.r.choice([f"{self.r.randint(0, 4)}", f"{self.atom()} % 5",
                                  f"{self.r.randint(-2, 2)}, {self.r.randint(-1, 5)}",
                                  f"{self.r.randint(3, 6)}, {self.r.randint(-2, 1)}, -{self.r.randint(1, 3)}",
                                  f"{self.atom()} % 4, 6, 2"])
            self.emit(ind, f"for {i} in range({args}):")
            self.loop_vars.append(i)
            self.block(ind + 1, depth + 1, True)
            self.loop_vars.pop()
        elif roll < 0.75:
            w = f"w{self.whiles}"
            self.whiles += 1
            self.emit(ind, f"{w} = 0")
            self.emit(ind, f"while {w} < {self.r.randint(0, 4)}:")
            self.emit(ind + 1, f"{w} += 1")
            self.block(ind + 1, depth + 1, True)
        elif roll < 0.82:
            self.emit(ind, "with no_grad:")
            self.block(ind + 1, depth + 1, in_loop)
        elif roll < 0.92 and in_loop:
            self.emit(ind, f"if {self.cond()}:")
            self.emit(ind + 1, self.r.choice(["break", "continue"]))
        else:
            self.emit(ind, f"if {self.cond()}:")
            self.emit(ind + 1, f"return {self.expr()}")


def _generated_program(name: str, seed: int) -> str:
    g = _ProgramGen(seed)
    g.emit(0, f"def {name}(p: int, q: int) -> int:")
    for line in ("a = p", "b = q", "c = 1"):
        g.emit(1, line)
    g.block(1, 0, False, n=4)
    if not g.lines[-1].startswith("    return"):
        g.emit(1, "return a + 2 * b + 3 * c")
    return "\n".join(g.lines) + "\n"


def _generated(count: int) -> list[tuple[str, str]]:
    """Programs the checker accepts; the only ones it may reject have a statement after an
    if/else whose every branch exits, which .ad reports as unreachable (Python allows it)."""
    out = []
    for seed in range(count):
        text = _generated_program(f"gen{seed}", seed)
        try:
            front_end(GEN_HELPER + text)
        except AdError as err:
            assert "unreachable statement" in err.message, (err, text)
            continue
        out.append((f"gen{seed}", text))
    return out


GENERATED = {True: _generated(8), False: _generated(150)}   # JIT: ~1 s of compiling per program


@pytest.fixture(scope="module", params=[True, False], ids=["jit", "nojit"])
def generated(request):
    progs = GENERATED[request.param]
    source = GEN_HELPER + "\n".join(text for _, text in progs)
    python: dict = {"no_grad": contextlib.nullcontext()}
    exec(source, python)
    return progs, adc.loads(source, "generated.ad", jit=request.param), python


def test_generated_control_flow_matches_python(generated):
    progs, module, python = generated
    assert len(progs) >= 0.8 * len(GENERATED[module.jit])
    for name, text in progs:
        for p in range(-6, 7, 3):
            for q in range(-7, 8, 2):
                assert getattr(module, name)(p, q) == python[name](p, q), f"{name}({p}, {q}) of\n{text}"
