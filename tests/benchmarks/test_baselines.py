"""Checks of the hand-written benchmark baselines (benchmarks/baselines.py).

* each Numba forward against the NumPy forward;
* each hand-written Numba gradient against central finite differences of the NumPy forward;
* the Newton through-the-iterations gradient against the implicit-function gradient;
* workloads.make_inputs returns inputs of the documented shapes.

Small sizes (steps=50, n=50, 20 samples) keep this fast, Numba compilation included.
"""

import os
import sys

import numpy as np
import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from benchmarks import baselines as B  # noqa: E402
from benchmarks import workloads as W  # noqa: E402

FD_RTOL = 1e-6


def central_fd(f, x, eps=1e-6):
    """Central finite differences of scalar f at array x (relative step)."""
    x = np.array(x, dtype=np.float64)
    g = np.empty_like(x)
    flat = x.reshape(-1)
    gflat = g.reshape(-1)
    for i in range(flat.size):
        h = eps * max(1.0, abs(flat[i]))
        old = flat[i]
        flat[i] = old + h
        fp = f(x)
        flat[i] = old - h
        fm = f(x)
        flat[i] = old
        gflat[i] = (fp - fm) / (2.0 * h)
    return g


def assert_grad_close(g, fd, rtol=FD_RTOL):
    g = np.asarray(g, dtype=np.float64)
    fd = np.asarray(fd, dtype=np.float64)
    atol = rtol * max(1.0, float(np.max(np.abs(fd))))
    np.testing.assert_allclose(g, fd, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- (a) Lotka-Volterra

def _lv_inputs(seed=1):
    rng = np.random.default_rng(seed)
    p = np.array([1.1, 0.4, 0.1, 0.4]) * (1.0 + 0.1 * rng.uniform(-1, 1, 4))
    x0 = 10.0 + rng.uniform(-1, 1)
    y0 = 5.0 + rng.uniform(-1, 1)
    return x0, y0, p, 0.01, 50


def test_lv_forward_matches_numpy():
    x0, y0, p, h, steps = _lv_inputs()
    assert B.lv_forward(x0, y0, p, h, steps) == pytest.approx(
        B.lv_forward_numpy(x0, y0, p, h, steps), rel=1e-13)


def test_lv_grad_matches_fd():
    x0, y0, p, h, steps = _lv_inputs()
    dx0, dy0, dp = B.lv_grad(x0, y0, p, h, steps)
    fd_p = central_fd(lambda q: B.lv_forward_numpy(x0, y0, q, h, steps), p)
    fd_s = central_fd(lambda s: B.lv_forward_numpy(s[0], s[1], p, h, steps),
                      np.array([x0, y0]))
    assert_grad_close(dp, fd_p)
    assert_grad_close([dx0, dy0], fd_s)


def test_lv_zero_steps():
    dx0, dy0, dp = B.lv_grad(2.0, 3.0, np.array([1.1, 0.4, 0.1, 0.4]), 0.01, 0)
    assert (dx0, dy0) == (1.0, 1.0)
    assert np.all(dp == 0.0)
    assert B.lv_forward(2.0, 3.0, np.array([1.1, 0.4, 0.1, 0.4]), 0.01, 0) == 5.0


# ---------------------------------------------------------------- (b) Rosenbrock

def test_rosenbrock_forward_matches_numpy():
    x = np.random.default_rng(2).uniform(-2, 2, 50)
    assert B.rosenbrock_forward(x) == pytest.approx(B.rosenbrock_forward_numpy(x), rel=1e-12)


def test_rosenbrock_grad_matches_fd():
    x = np.random.default_rng(3).uniform(-1.5, 1.5, 50)
    assert_grad_close(B.rosenbrock_grad(x), central_fd(B.rosenbrock_forward_numpy, x))


def test_rosenbrock_minimum():
    x = np.ones(50)
    assert B.rosenbrock_forward(x) == 0.0
    assert np.all(B.rosenbrock_grad(x) == 0.0)


# ---------------------------------------------------------------- (c) Newton

def test_newton_forward_matches_numpy_and_cube_root():
    a = np.random.default_rng(4).uniform(0.5, 2.0, 50)
    assert B.newton_forward(a) == pytest.approx(B.newton_forward_numpy(a), rel=1e-14)
    assert B.newton_forward(a) == pytest.approx(np.sum(np.cbrt(a)), rel=1e-12)


def test_newton_grad_matches_fd():
    a = np.random.default_rng(5).uniform(0.5, 2.0, 50)
    assert_grad_close(B.newton_grad(a), central_fd(B.newton_forward_numpy, a, eps=1e-5))


def test_newton_grad_through_iterations_matches_implicit():
    a = np.random.default_rng(6).uniform(0.5, 2.0, 200)
    g = B.newton_grad(a)
    gi = B.newton_grad_implicit(a)
    np.testing.assert_allclose(g, gi, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(gi, 1.0 / (3.0 * np.cbrt(a) ** 2), rtol=1e-11)


def test_newton_grad_at_exact_root():
    # a = 1: r_0 = 1 is already a root, no iterations, so dr/da = dr_0/da = 1 (not 1/3):
    # differentiating through zero iterations gives the identity, as an AD tool would.
    a = np.array([1.0, 8.0])
    g = B.newton_grad(a)
    assert g[0] == 1.0
    assert g[1] == pytest.approx(1.0 / 12.0, rel=1e-9)


# ---------------------------------------------------------------- (d) MLP

def _mlp_inputs(seed=7, n=20):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 8))
    y = rng.standard_normal(n)
    W1 = 0.3 * rng.standard_normal((8, 16))
    b1 = 0.3 * rng.standard_normal(16)
    w2 = 0.3 * rng.standard_normal(16)
    b2 = float(0.3 * rng.standard_normal())
    return X, y, W1, b1, w2, b2


def test_mlp_forward_matches_numpy():
    args = _mlp_inputs()
    assert B.mlp_forward(*args) == pytest.approx(B.mlp_forward_numpy(*args), rel=1e-12)


def test_mlp_grad_matches_fd():
    X, y, W1, b1, w2, b2 = _mlp_inputs()
    dW1, db1, dw2, db2 = B.mlp_grad(X, y, W1, b1, w2, b2)
    f = B.mlp_forward_numpy
    assert_grad_close(dW1, central_fd(lambda v: f(X, y, v, b1, w2, b2), W1))
    assert_grad_close(db1, central_fd(lambda v: f(X, y, W1, v, w2, b2), b1))
    assert_grad_close(dw2, central_fd(lambda v: f(X, y, W1, b1, v, b2), w2))
    assert_grad_close([db2], central_fd(lambda v: f(X, y, W1, b1, w2, v[0]), np.array([b2])))


# ---------------------------------------------------------------- workloads

_FORWARDS = {
    "lotka_volterra": (B.lv_forward, B.lv_forward_numpy),
    "rosenbrock": (B.rosenbrock_forward, B.rosenbrock_forward_numpy),
    "newton": (B.newton_forward, B.newton_forward_numpy),
    "mlp": (B.mlp_forward, B.mlp_forward_numpy),
}


@pytest.mark.parametrize("name", W.WORKLOADS)
def test_make_inputs_quick_runs(name):
    inp = W.make_inputs(name, "quick", seed=0)
    again = W.make_inputs(name, "quick", seed=0)
    for k in inp:
        np.testing.assert_array_equal(inp[k], again[k])
    nb, ref = _FORWARDS[name]
    v = nb(**inp)
    assert np.isfinite(v)
    assert v == pytest.approx(ref(**inp), rel=1e-11)


def test_make_inputs_full_shapes():
    lv = W.make_inputs("lotka_volterra")
    assert (lv["x0"], lv["y0"], lv["h"], lv["steps"]) == (10.0, 5.0, 0.01, 2000)
    np.testing.assert_allclose(lv["p"], [1.1, 0.4, 0.1, 0.4], rtol=0.051)
    assert W.make_inputs("rosenbrock")["x"].shape == (100_000,)
    a = W.make_inputs("newton")["a"]
    assert a.shape == (1000,) and a.min() >= 0.5 and a.max() <= 2.0
    m = W.make_inputs("mlp")
    assert m["X"].shape == (1000, 8) and m["y"].shape == (1000,)
    assert m["W1"].shape == (8, 16) and m["b1"].shape == (16,) and m["w2"].shape == (16,)
    assert isinstance(m["b2"], float)
    with pytest.raises(ValueError):
        W.make_inputs("nope")
    with pytest.raises(ValueError):
        W.make_inputs("mlp", size="huge")
