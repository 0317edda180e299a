"""The ten worked examples of shared/seed-examples.md, through the files in examples/.

Each test reproduces one seed's numbers exactly as the seed text lists them (to float64
rounding), with the Numba JIT and as plain Python. The examples are loaded once per mode.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import adc

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

FILES = {k: f for k, f in enumerate(sorted(p.name for p in EXAMPLES.glob("seed*.ad")), 1)}


@pytest.fixture(scope="module", params=[True, False], ids=["jit", "nojit"])
def seed(request):
    """``seed(k)``: the module of seed example k, loaded once per JIT mode."""
    loaded = {}

    def get(k: int) -> adc.Module:
        if k not in loaded:
            loaded[k] = adc.load(EXAMPLES / FILES[k], jit=request.param)
        return loaded[k]
    return get


def close(got, expected):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float),
                               rtol=1e-12, atol=1e-15)


def test_there_are_ten_seed_files():
    assert sorted(FILES) == list(range(1, 11))


def test_seed01_gradient_of_2_dot_x_x(seed):
    m = seed(1)
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y, dx = adc.value_and_grad(m.f, wrt="x")(x)
    assert y == 28.0
    np.testing.assert_array_equal(dx, [0.0, 4.0, 8.0, 12.0])
    np.testing.assert_array_equal(adc.grad(m.f)(x), [0.0, 4.0, 8.0, 12.0])


def test_seed02_accumulation(seed):
    m = seed(2)
    x = np.arange(4.0)
    buf = np.zeros(4)
    adc.grad(m.f, wrt="x")(x, out=buf, accumulate=True)
    adc.grad(m.g, wrt="x")(x, out=buf, accumulate=True)
    np.testing.assert_array_equal(buf, [1.0, 5.0, 9.0, 13.0])
    buf[:] = 0.0
    adc.grad(m.g, wrt="x")(x, out=buf, accumulate=True)
    np.testing.assert_array_equal(buf, [1.0, 1.0, 1.0, 1.0])


def test_seed03_sum_and_mean(seed):
    m = seed(3)
    x = np.ones((2, 2))
    out, dx = adc.value_and_grad(m.f_mean, wrt="x")(x)
    assert out == 27.0
    np.testing.assert_array_equal(dx, np.full((2, 2), 4.5))
    out, dx = adc.value_and_grad(m.f_sum, wrt="x")(x)
    assert out == 108.0
    np.testing.assert_array_equal(dx, np.full((2, 2), 18.0))


def test_seed04_non_scalar_output_needs_a_seed(seed):
    m = seed(4)
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(adc.GradientError, match=r"float\[n, m\].*adc\.vjp"):
        adc.grad(m.f, wrt="x")(x)
    v = np.array([[1.0, 0.1], [0.01, 0.001]])
    close(adc.vjp(m.f, wrt="x")(x, seed=v), [[3.0, 0.3], [0.03, 0.003]])


def test_seed05_repeated_backward_accumulates(seed):
    m = seed(5)
    inp = np.eye(4, 5)
    v = np.ones((5, 4))
    vf = adc.vjp(m.f, wrt="inp")
    expected = np.full((4, 5), 2.0) + 2.0 * np.eye(4, 5)
    g = np.zeros((4, 5))
    vf(inp, seed=v, out=g, accumulate=True)
    np.testing.assert_array_equal(g, expected)
    vf(inp, seed=v, out=g, accumulate=True)
    np.testing.assert_array_equal(g, 2 * expected)
    g[:] = 0.0
    vf(inp, seed=v, out=g, accumulate=True)
    np.testing.assert_array_equal(g, expected)


def test_seed06_detach(seed):
    m = seed(6)
    x = np.array([0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(adc.grad(m.f_detach, wrt="x")(x), x * x)
    np.testing.assert_array_equal(adc.grad(m.f_plain, wrt="x")(x), 3 * x * x)
    x = np.array([-1.5, 0.25, 2.0])
    close(adc.grad(m.f_detach, wrt="x")(x), x * x)
    close(adc.grad(m.f_plain, wrt="x")(x), 3 * x * x)


def test_seed07_no_grad(seed):
    m = seed(7)
    y3, dx = adc.value_and_grad(m.f, wrt="x")(1.0)
    assert (y3, dx) == (2.0, 2.0)


@pytest.mark.parametrize("a", [1.5, -0.3, 0.0123, 7.0, -2000.0, 1e-5])
def test_seed08_control_flow_scalar(seed, a):
    m = seed(8)
    fa, da = adc.value_and_grad(m.f, wrt="a")(a)
    close(da, fa / a)
    fa, da = adc.value_and_grad(m.f_sq, wrt="a")(a)
    close(da, 2 * fa / a)


@pytest.mark.parametrize("a", [[0.5, -1.0, 2.0], [-0.4, 0.3, -1.2, -0.1], [3000.0, -1.0]])
def test_seed08_control_flow_vector(seed, a):
    m = seed(8)
    a = np.array(a)
    one = np.ones_like(a)
    close(adc.vjp(m.f_vec, wrt="a")(a, seed=one), m.f_vec(a) / a)
    close(adc.vjp(m.f_vec_sq, wrt="a")(a, seed=one), 2 * m.f_vec_sq(a) / a)


def test_seed08_readme_values(seed):
    """The forward values examples/README.md lists for the argument files."""
    m = seed(8)
    assert m.f(1.5) == 1536.0
    assert adc.grad(m.f)(1.5) == 1024.0
    np.testing.assert_array_equal(m.f_vec(np.array([0.5, -1.0, 2.0])), [256.0, -512.0, 1024.0])
    close(m.f_sq(-0.3), 1474.56)
    close(adc.grad(m.f_sq)(-0.3), -9830.4)


@pytest.mark.parametrize("rng_seed", [9, 10, 11])
def test_seed09_linear_layer_bce(seed, rng_seed):
    m = seed(9)
    rng = np.random.default_rng(rng_seed)
    x, y = np.ones(5), np.zeros(3)
    w, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    dw, db = adc.grad(m.loss, wrt=("w", "b"))(x, w, b, y)
    z = x @ w + b
    expected_db = 1.0 / (1.0 + np.exp(-z)) / 3.0
    close(db, expected_db)
    close(dw, np.tile(expected_db, (5, 1)))
    close(m.loss(x, w, b, y), np.mean(np.logaddexp(0.0, z) - z * y))


def test_seed10_chain_rule_by_hand(seed):
    m = seed(10)
    w, x, b, t = 2.0, 1.5, -1.0, 1.0
    L, (w_bar, b_bar) = adc.value_and_grad(m.loss, wrt=("w", "b"))(w, x, b, t)
    z = w * x + b
    y = 1.0 / (1.0 + np.exp(-z))
    y_bar = y - t
    z_bar = y_bar * y * (1 - y)
    close(L, 0.5 * (y - t) ** 2)
    close(w_bar, z_bar * x)
    close(b_bar, z_bar)


def test_seed10_readable_adjoint_reads_like_the_chain_rule():
    m = adc.load(EXAMPLES / FILES[10], jit=False)
    text = adc.adjoint_source(m.loss, wrt=("w", "b"))
    lines = [re.sub(r"\s*# line \d+$", "", line).strip() for line in text.splitlines()]
    for expected in ("y_bar = y - t", "z_bar = y_bar * y * (1.0 - y)", "w_bar = z_bar * x", "b_bar = z_bar",
                     "return w_bar, b_bar"):
        assert expected in lines, f"{expected!r} not in the adjoint:\n{text}"
    order = [next(k for k, line in enumerate(lines) if line.startswith(name + " = "))
             for name in ("y_bar", "z_bar", "b_bar")]
    assert order == sorted(order)


def test_seeds_script_runs_green():
    """examples/seeds.py (the same checks, for people) exits 0 and prints no mismatch."""
    run = subprocess.run([sys.executable, str(EXAMPLES / "seeds.py")], capture_output=True, text=True,
                         cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "MISMATCH" not in run.stdout
    assert "all seed examples reproduced" in run.stdout
