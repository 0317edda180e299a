"""Copies the reverse sweep makes of adjoints, dropped where the source cannot change while the
copy is read (``passes/adjoint_copies.py``): gradients against central differences, including
the programs where the copy must stay, and the listing of the case it is for."""
from __future__ import annotations

import numpy as np
import pytest

import adc
from gradcheck import check_grad

RNG = np.random.default_rng(11)

SOURCE = """
def shifted(x: float[n], y: float[n]) -> float:
    z = x * 1.0
    z[1:n] = x[1:n] * y[0:n - 1]
    return sum(z * z)

def shifted_sum(x: float[n], y: float[n]) -> float:
    z = x + y
    z[1:n] = x[1:n] * y[0:n - 1]
    return sum(z * z)

def shift_reads_itself(x: float[n]) -> float:
    z = x * 2.0
    z[1:3] = z[2:4] * x[0:2]
    return sum(z * z)

def overlapping_writes(x: float[n]) -> float:
    z = x * 1.0
    z[0:3] = x[1:4] * x[2:5]
    z[2:5] = z[0:3] * 3.0
    return sum(z * x)

def stages(x: float[n], s: int) -> float:
    y = x * 0.5
    for step in range(s):
        z = x * 1.0
        z[1:n] = x[1:n] * y[0:n - 1]
        y = y + 0.25 * z
        w = y * 1.0
        w[0:2] = y[1:3] * z[0:2]
        y = y + 0.125 * w
    return sum(y * y)

def rk2(x: float[n], s: int) -> float:
    # two stages sharing one adjoint (k1_bar = 2 k2_bar), each read through a slice write
    y = x * 0.5
    for step in range(s):
        k1 = x * 1.0
        k1[1:n] = x[1:n] * y[0:n - 1]
        t = y + 0.5 * k1
        k2 = x * 1.0
        k2[1:n] = x[1:n] * t[0:n - 1]
        y = y + 0.25 * (2 * k1 + k2)
    return sum(y * y)

def state_rows(x: float[n], s: int) -> float:
    # a state matrix whose rows are read, then written back, every step (an LSTM's h and c)
    state = zeros(2, n)
    state[0] = x * 1.0
    total = 0.0
    for step in range(s):
        h = state[0] * 1.0
        c = state[1] * 1.0
        c = c * 0.5 + h * x
        h = c * h
        state[0] = h
        state[1] = c
        total += sum(h)
    return total
"""

CASES = ["shifted", "shifted_sum", "shift_reads_itself", "overlapping_writes", "stages", "rk2", "state_rows"]


@pytest.fixture(scope="module")
def plain():
    return adc.loads(SOURCE, "copies.ad", jit=False)


@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_finite_differences(plain, name):
    f = getattr(plain, name)
    args = dict(x=RNG.uniform(-1.0, 1.0, 6))
    if "y" in dict(f.params):
        args["y"] = RNG.uniform(-1.0, 1.0, 6)
    if "s" in dict(f.params):
        args["s"] = 3
    check_grad(f, args)


def test_stages_gradient_compiled():
    jitted = adc.loads(SOURCE, "copies.ad", jit=True)
    plain = adc.loads(SOURCE, "copies.ad", jit=False)
    check_grad(jitted.stages, dict(x=RNG.uniform(-1.0, 1.0, 7), s=4), wrt="x", reference=plain.stages)


def test_rk2_gradient_compiled():
    jitted = adc.loads(SOURCE, "copies.ad", jit=True)
    plain = adc.loads(SOURCE, "copies.ad", jit=False)
    check_grad(jitted.rk2, dict(x=RNG.uniform(-1.0, 1.0, 7), s=4), wrt="x", reference=plain.rk2)


def test_stage_adjoint_read_through_a_view_is_not_copied(plain):
    """``k2_bar`` is ``k1_bar``'s buffer until ``k1_bar`` is rebound; the slice of it that
    ``x[1:n] * t[0:n-1]`` gets is a view, and once the zeroing of that slice became an addition
    outside it nothing writes the buffer while the view is read: no copy. ``k1_bar``'s binding
    and its later accumulation are one sum (``passes/fresh_sums.py``)."""
    listing = adc.adjoint_source(plain.rk2, lang="ad")
    assert "copy(" not in listing.split("for step in range(t_")[-1]
    lines = [ln.split("#")[0].strip() for ln in listing.splitlines()]
    assert not any(ln.startswith("k1_bar +=") for ln in lines)
    assert any(ln.startswith("k1_bar = ") and "+" in ln for ln in lines)


def test_slice_adjoint_is_read_in_place(plain):
    """The slice of ``z_bar`` that ``x[1:n] * y[0:n-1]`` gets is read where it is, and zeroed
    after its two readers instead of before them (the zeros stay: ``z_bar`` goes to ``x`` and
    ``y`` after)."""
    listing = adc.adjoint_source(plain.shifted_sum, lang="ad")
    assert "copy(z_bar" not in listing
    lines = [ln.split("#")[0].strip() for ln in listing.splitlines()]
    zero = lines.index("z_bar[1:n] = 0.0")
    readers = [k for k, ln in enumerate(lines) if "+= d_" in ln]
    assert len(readers) == 2 and max(readers) < zero


def test_row_adjoint_is_read_in_place(plain):
    """The adjoint of a row written back and then only added elsewhere (``state[0] = h``) is
    read where it is and zeroed after its reader; the one that becomes an adjoint updated in
    place (``c_bar``, from ``state[1] = c``) is still copied first."""
    listing = adc.adjoint_source(plain.state_rows, lang="ad")
    lines = [ln.split("#")[0].strip() for ln in listing.splitlines()]
    zero = lines.index("state_bar[0] = 0.0")
    assert lines[zero - 1] == "h_bar += state_bar[0]"
    assert "copy(state_bar[0])" not in listing and "copy(state_bar[1])" in listing


ALIAS_WRITTEN = """
def g(b: float, a: float[n]) -> (float[n], float):
    if b < -0.5:
        return a, abs(a[0])
    t = 1.5 * sum(a)
    return a, t

def f(x: float[n], w: float) -> float:
    y1 = x * x
    z0, t1 = g(w, y1 + y1)
    return t1 + dot(z0, x)
"""


@pytest.mark.parametrize("w", [0.3, -0.7])
def test_copy_whose_alias_is_updated_in_place_stays(w):
    """``a_bar = copy(x)`` (the adjoint of ``dot(z0, x)`` reaching ``g``'s argument) is added to
    in place through an alias in a branch: dropping the copy would write the caller's ``x``.
    Found by the random programs (2000 examples)."""
    m = adc.loads(ALIAS_WRITTEN, "alias.ad", jit=False)
    x = RNG.uniform(-1.0, 1.0, 5)
    before = x.copy()
    check_grad(m.f, dict(x=x, w=w), wrt="x")
    adc.grad(m.f, wrt="x")(x, w)
    np.testing.assert_array_equal(x, before)


ALIAS_AFTER_BRANCH = """
def g(b: float, a: float[n]) -> (float[n], float):
    u = a[0] + a
    t = sum(sin(b) - a)
    if b < -0.5:
        return u, abs(a[0])
    u[0:2] = sin(a[0])
    return a, t

def f(x: float[n], w: float) -> float:
    z0, t1 = g(sqrt(1.0 + x[0] * x[0]) - w, cos(x) - 1.0)
    return tanh(t1) + dot(z0, x)
"""


@pytest.mark.parametrize("w", [0.3, 3.0])
def test_copy_whose_alias_outlives_its_last_reader_stays(w):
    """``z0_bar = copy(x)`` is read once, by ``g_result0_bar = z0_bar``; an alias of that is
    updated in place after the branch, past the copy's last reader. Everything sharing the
    copy's memory counts, not only its readers (random programs, 2000 examples)."""
    m = adc.loads(ALIAS_AFTER_BRANCH, "alias2.ad", jit=False)
    x = RNG.uniform(-1.0, 1.0, 4)
    before = x.copy()
    check_grad(m.f, dict(x=x, w=w), wrt="x")
    adc.grad(m.f, wrt="x")(x, w)
    np.testing.assert_array_equal(x, before)


FUSED_OPERAND_WRITTEN = """def g(a: float[n], b: float) -> (float, float[n]):
    t = a[0]
    u = sin(a)
    if sum(a[1:]) > -0.5:
        return (sin(b)) ** 2, a
    u[0:2] = sin(a[0])
    if exp(tanh(sin(b))) > sum(a):
        return sqrt(1.0 + sin(b) * sin(b)), u
    return t, u * cos(a[1])

def f(x: float[n], w: float, k: int) -> float:
    s0 = x[-1]
    s1 = x[-2]
    y0 = x
    y1 = x * x
    t0 = 0.0
    z1 = zeros(n)
    y1 = (z1 + (z1 / (1.0 + x * x)))
    z1[-1] = dot(sigmoid(y0), sigmoid(y0))
    if (w <= 1.0) and (k == 0):
        for i in range(k):
            y1[1:n] = x[0:n - 1] * sin(tanh(w))
            s1 += pow(1.0 + sigmoid(x[0]), x[(i * 2 + 1) % n])
        s1 = 0.5 * s1 + x[0]
    t0, z1 = g((z1 / (1.0 + x * x)), sin(w))
    s0 = y1[0]
    s1 = y1[n - 1]
    return x[1] + s0 + s1 + t0 + sum(y0) + sum(y1) + sum(z1)
"""


def test_moved_binding_whose_fused_operand_is_written_through_an_alias_stays():
    """``d_16 = -(d_14 * t_32)`` may not move down to ``d_16 += ...`` (``passes/fresh_sums.py``):
    ``d_14 * t_32`` would be computed there, after ``z1_bar[-1] = 0.0`` wrote into ``d_14``
    through its alias ``z1_bar`` (random programs, 2000 examples)."""
    m = adc.loads(FUSED_OPERAND_WRITTEN, "fused.ad", jit=False)
    check_grad(m.f, dict(x=RNG.uniform(-1.0, 1.0, 4), w=-0.56, k=2), wrt="x")
