"""Central finite differences for the gradient tests of this directory.

``numeric_grad(f, args, wrt)`` differentiates a scalar-valued adc function (any JIT mode) by
central differences in float64: step ``eps * max(1, |x_i|)`` per element, so the truncation error
(~eps^2) and the rounding error (~1e-16 / eps) both stay near 1e-10 for inputs of order one.
``check_grad`` compares an adc gradient (and value) against it.
"""
from __future__ import annotations

import numpy as np

import adc

EPS = 1e-6
RTOL = 1e-6
ATOL = 1e-8


def float_params(f) -> tuple[str, ...]:
    return tuple(n for n, t in f.params if t.dtype == "float")


def numeric_grad(f, args: dict, wrt, eps: float = EPS) -> dict:
    """d f(**args) / d args[name] for each name in ``wrt``, by central differences."""
    out = {}
    for name in wrt:
        base = np.array(args[name], dtype=float)
        g = np.zeros_like(base)
        for k in np.ndindex(base.shape):
            h = eps * max(1.0, abs(base[k]))
            hi, lo = base.copy(), base.copy()
            hi[k] += h
            lo[k] -= h
            f_hi = f(**{**args, name: hi if base.ndim else float(hi)})
            f_lo = f(**{**args, name: lo if base.ndim else float(lo)})
            g[k] = (f_hi - f_lo) / (2 * h)
        out[name] = g if base.ndim else float(g)
    return out


def check_grad(f, args: dict, wrt=None, reference=None, rtol: float = RTOL, atol: float = ATOL):
    """Assert that adc's gradient of ``f`` matches central differences; return adc's
    ``(value, {name: gradient})`` from one ``value_and_grad`` call (one compiled adjoint).

    ``reference`` evaluates the differences and the expected value (default ``f``); pass the
    jit=False twin of a JIT function to avoid compiling its forward pass just for them.
    """
    reference = reference or f
    wrt = float_params(f) if wrt is None else ((wrt,) if isinstance(wrt, str) else tuple(wrt))
    value, got = adc.value_and_grad(f, wrt=wrt)(**args)
    expected = reference(**args)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12, err_msg=f"{f.name} value")
    fd = numeric_grad(reference, args, wrt)
    for name, g in zip(wrt, got):
        scale = max(1.0, float(np.max(np.abs(fd[name]), initial=0.0)))
        np.testing.assert_allclose(g, fd[name], rtol=rtol, atol=atol * scale, err_msg=f"d{f.name}/d{name}")
    return value, dict(zip(wrt, got))
