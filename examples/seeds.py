"""Reproduce the worked examples of seed-examples.md with adc's Python API.

Usage:  python examples/seeds.py [--adjoint]

Prints, for each seed, the numbers the seed text lists, compares them with the expected values
and ends with a summary; the exit status is 1 if any number differs. With --adjoint it also
prints the readable adjoint of seed 10 (which should read like the chain rule by hand).
"""
import os
import sys

import numpy as np

import adc

HERE = os.path.dirname(os.path.abspath(__file__))
FAILURES = []


def load(name):
    return adc.load(os.path.join(HERE, name))


def check(label, got, expected, tol=1e-9):
    """Report `got` against `expected`; both may be numbers or arrays."""
    got_a = np.asarray(got, dtype=float)
    exp_a = np.asarray(expected, dtype=float)
    ok = got_a.shape == exp_a.shape and np.allclose(got_a, exp_a, rtol=tol, atol=tol)
    if not ok:
        FAILURES.append(label)
        print(f"    MISMATCH {label}: got {got_a!r}, expected {exp_a!r}")
    return ok


def seed1():
    m = load("seed01_dot.ad")
    x = np.arange(4.0)
    y, dx = adc.value_and_grad(m.f, wrt="x")(x)
    print(f"seed 1: y = {float(y)}, dy/dx = {dx}")
    check("seed 1 y", y, 28.0)
    check("seed 1 dy/dx", dx, [0, 4, 8, 12])


def seed2():
    m = load("seed02_accumulate.ad")
    x = np.arange(4.0)
    df = adc.grad(m.f, wrt="x")
    dg = adc.grad(m.g, wrt="x")
    buf = np.zeros(4)
    df(x, out=buf, accumulate=True)
    dg(x, out=buf, accumulate=True)
    accumulated = buf.copy()
    buf[:] = 0.0                         # zero the buffer, then accumulate grad of sum(x) only
    dg(x, out=buf, accumulate=True)
    print(f"seed 2: accumulated = {accumulated}, after zeroing = {buf}")
    check("seed 2 accumulated", accumulated, [1, 5, 9, 13])
    check("seed 2 after zeroing", buf, [1, 1, 1, 1])


def seed3():
    m = load("seed03_sum_mean.ad")
    x = np.ones((2, 2))
    out, dx = adc.value_and_grad(m.f_mean, wrt="x")(x)
    out_s, dx_s = adc.value_and_grad(m.f_sum, wrt="x")(x)
    print(f"seed 3: out = mean(z) = {float(out)}, d out/dx = {dx.tolist()}; "
          f"with sum: {float(out_s)}, d out/dx = {dx_s.tolist()}")
    check("seed 3 mean", out, 27.0)
    check("seed 3 d mean/dx", dx, np.full((2, 2), 4.5))
    check("seed 3 sum", out_s, 108.0)
    check("seed 3 d sum/dx", dx_s, np.full((2, 2), 18.0))


def seed4():
    m = load("seed04_vjp_seed.ad")
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    try:
        adc.grad(m.f, wrt="x")(x)
    except Exception as e:               # the error names the result type and points to adc.vjp
        msg = str(e)
        print(f"seed 4: adc.grad on a float[2, 2] result raises {type(e).__name__}: {msg}")
        if "vjp" not in msg:
            FAILURES.append("seed 4 error message does not mention adc.vjp")
            print("    MISMATCH seed 4: the error message should say to use adc.vjp")
    else:
        FAILURES.append("seed 4 grad of non-scalar did not raise")
        print("    MISMATCH seed 4: adc.grad of a non-scalar result did not raise")
    v = np.array([[1.0, 0.1], [0.01, 0.001]])
    dx = adc.vjp(m.f, wrt="x")(x, seed=v)
    print(f"seed 4: vjp with seed {v.tolist()} = {dx.tolist()}")
    check("seed 4 vjp", dx, [[3, 0.3], [0.03, 0.003]])


def seed5():
    m = load("seed05_repeat_backward.ad")
    inp = np.eye(4, 5)
    v = np.ones((5, 4))
    vf = adc.vjp(m.f, wrt="inp")
    grad = np.zeros((4, 5))
    vf(inp, seed=v, out=grad, accumulate=True)
    first = grad.copy()
    vf(inp, seed=v, out=grad, accumulate=True)
    second = grad.copy()
    grad[:] = 0.0
    vf(inp, seed=v, out=grad, accumulate=True)
    print(f"seed 5: first vjp =\n{first}\n  accumulated second =\n{second}\n  after zeroing =\n{grad}")
    expected = np.full((4, 5), 2.0) + 2.0 * np.eye(4, 5)
    check("seed 5 first", first, expected)
    check("seed 5 second", second, 2 * expected)
    check("seed 5 after zeroing", grad, expected)


def seed6():
    m = load("seed06_detach.ad")
    x = np.arange(4.0)
    dx = adc.grad(m.f_detach, wrt="x")(x)
    dx_plain = adc.grad(m.f_plain, wrt="x")(x)
    print(f"seed 6: detached d sum(z)/dx = {dx} (u = x * x = {x * x}); "
          f"not detached: {dx_plain} (3 x * x)")
    check("seed 6 detached", dx, x * x)
    check("seed 6 not detached", dx_plain, 3 * x * x)


def seed7():
    m = load("seed07_no_grad.ad")
    y3, dx = adc.value_and_grad(m.f, wrt="x")(1.0)
    print(f"seed 7: y3 = {float(y3)}, dy3/dx = {float(dx)}")
    check("seed 7 y3", y3, 2.0)
    check("seed 7 dy3/dx", dx, 2.0)


def seed8():
    m = load("seed08_control_flow.ad")
    for a in (1.5, -0.3, 0.0123, 7.0):
        fa, da = adc.value_and_grad(m.f, wrt="a")(a)
        fa2, da2 = adc.value_and_grad(m.f_sq, wrt="a")(a)
        print(f"seed 8: a = {a}: f = {float(fa)}, df/da = {float(da)} (f/a = {float(fa) / a}); "
              f"b = a**2: f = {float(fa2)}, df/da = {float(da2)} (2f/a = {2 * float(fa2) / a})")
        check(f"seed 8 df/da at {a}", da, float(fa) / a)
        check(f"seed 8 (b = a**2) df/da at {a}", da2, 2 * float(fa2) / a)
    for a in (np.array([0.5, -1.0, 2.0]), np.array([-0.4, 0.3, -1.2, -0.1])):
        seed = np.ones_like(a)
        fa = m.f_vec(a)
        da = adc.vjp(m.f_vec, wrt="a")(a, seed=seed)
        fa2 = m.f_vec_sq(a)
        da2 = adc.vjp(m.f_vec_sq, wrt="a")(a, seed=seed)
        print(f"seed 8: vector a = {a}: vjp(ones) = {da}, f(a)/a = {fa / a}; "
              f"b = a**2: vjp(ones) = {da2}, 2 f(a)/a = {2 * fa2 / a}")
        check("seed 8 vector df/da", da, fa / a)
        check("seed 8 vector (b = a**2) df/da", da2, 2 * fa2 / a)


def seed9():
    m = load("seed09_linear_bce.ad")
    rng = np.random.default_rng(9)
    x = np.ones(5)
    y = np.zeros(3)
    w = rng.standard_normal((5, 3))
    b = rng.standard_normal(3)
    dw, db = adc.grad(m.loss, wrt=("w", "b"))(x, w, b, y)
    z = x @ w + b
    expected_db = 1.0 / (1.0 + np.exp(-z)) / 3.0
    print(f"seed 9: loss = {float(m.loss(x, w, b, y))}, dloss/db = {db}, "
          f"sigmoid(z)/3 = {expected_db}, rows of dloss/dw equal dloss/db: "
          f"{bool(np.allclose(dw, db[None, :]))}")
    check("seed 9 dloss/db", db, expected_db)
    check("seed 9 dloss/dw", dw, np.tile(expected_db, (5, 1)))


def seed10(show_adjoint):
    m = load("seed10_chain_rule.ad")
    w, x, b, t = 2.0, 1.5, -1.0, 1.0
    L = m.loss(w, x, b, t)
    w_bar, b_bar = adc.grad(m.loss, wrt=("w", "b"))(w, x, b, t)
    z = w * x + b
    y = 1.0 / (1.0 + np.exp(-z))
    y_bar = y - t
    z_bar = y_bar * y * (1 - y)
    print(f"seed 10: L = {float(L)}, w_bar = {float(w_bar)} (z_bar * x = {z_bar * x}), "
          f"b_bar = {float(b_bar)} (z_bar = {z_bar})")
    check("seed 10 L", L, 0.5 * (y - t) ** 2)
    check("seed 10 w_bar", w_bar, z_bar * x)
    check("seed 10 b_bar", b_bar, z_bar)
    if show_adjoint:
        print(adc.adjoint_source(m.loss, wrt=("w", "b")))


def main(argv):
    show_adjoint = "--adjoint" in argv
    seed1()
    seed2()
    seed3()
    seed4()
    seed5()
    seed6()
    seed7()
    seed8()
    seed9()
    seed10(show_adjoint)
    if FAILURES:
        print(f"{len(FAILURES)} mismatch(es): {', '.join(FAILURES)}")
        return 1
    print("all seed examples reproduced")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
