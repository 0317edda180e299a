"""JAX on CPU, float64 (``jax_enable_x64``): ``jax.jit`` of the primal and of ``jax.grad``.

Inputs are put on the device once, outside the timed region; every call waits for its result
(``block_until_ready``). The first call (untimed) traces and compiles. Loops with a static
trip count are ``lax.fori_loop``/``lax.scan`` (reverse-differentiable); the data-dependent
while programs (seed 8, Newton) are ``lax.while_loop``, which jit runs but reverse mode refuses:
for those the derivative is "not supported" and the JSON keeps JAX's own error text.
"""
from __future__ import annotations

import math
from functools import partial

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from benchmarks.peers import Entry, na  # noqa: E402
from benchmarks.peers.common import (NEWTON_MAXITER, NEWTON_TOL, SEED8_LIMIT, det_tables,  # noqa: E402
                                     gmm_lower_indices, llsq_basis)

NAME = "jax"


def versions() -> dict:
    import jaxlib
    return {"jax": jax.__version__, "jaxlib": jaxlib.__version__, "jax_backend": jax.default_backend()}


def _ready(fn):
    def call(*args):
        return jax.block_until_ready(fn(*args))
    call.__wrapped__ = fn
    return call


def _dev(*args):
    return tuple(jax.device_put(jnp.asarray(a, dtype=jnp.float64)) if isinstance(a, np.ndarray) else a
                 for a in args)


# ---- the workloads (pure functions; static sizes are closed over) -------------------------------

def lse(x):
    a = jnp.max(x)
    return jnp.log(jnp.sum(jnp.exp(x - a))) + a


def _llsq(x, n):
    m = x.shape[0]
    t, s = llsq_basis(n, m)
    t, s = jnp.asarray(t), jnp.asarray(s)
    V = jnp.concatenate([jnp.ones((n, 1)), jnp.cumprod(jnp.broadcast_to(t[:, None], (n, m - 1)), axis=1)], axis=1)
    r = s - V @ x
    return (r @ r) / 2


def _rhs(x, y):
    return jnp.concatenate([x[:1], x[1:] * y[:-1]])


def _ode(x, s):
    h = 2.0 / s

    def step(_, y):
        k1 = _rhs(x, y)
        k2 = _rhs(x, y + h * k1 / 2)
        k3 = _rhs(x, y + h * k2 / 2)
        k4 = _rhs(x, y + h * k3)
        return y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    return lax.fori_loop(0, s, step, jnp.zeros_like(x))     # static bounds: a scan, differentiable


def det(A, tables):
    partial_ = jnp.ones(1)
    for r, (parent, col, sign) in enumerate(tables):
        partial_ = partial_[parent] * (sign * A[r, col])
    return jnp.sum(partial_)


def _det_prepare(A):
    tables = tuple(tuple(jax.device_put(v) for v in level) for level in det_tables(A.shape[0]))
    return _dev(A)[0], tables


def _gmm(alpha, mu, q, l, x, m, gamma, log_gamma_d, rows, cols):
    k, d = mu.shape
    n = x.shape[0]
    idx = jnp.arange(d)
    Q = jnp.zeros((k, d, d)).at[:, idx, idx].set(jnp.exp(q)).at[:, rows, cols].set(l)
    xc = x[None, :, :] - mu[:, None, :]
    Qxc = xc @ jnp.swapaxes(Q, 1, 2)
    sq = jnp.sum(Qxc * Qxc, axis=-1)
    sum_q = jnp.sum(q, axis=1)
    main = alpha[:, None] + sum_q[:, None] - 0.5 * sq
    slse = jnp.sum(jax.scipy.special.logsumexp(main, axis=0))
    likelihood = -n * d * 0.5 * math.log(2 * math.pi) + slse - n * jax.scipy.special.logsumexp(alpha)
    frobenius = jnp.sum(Q * Q)
    c_prior = (d + m + 1) * d * (jnp.log(gamma) - 0.5 * math.log(2.0)) - log_gamma_d
    prior = k * c_prior - (0.5 * gamma * gamma * frobenius - m * jnp.sum(sum_q))
    return likelihood + prior


def _lstm(main, extra, state, seq):
    b = extra.shape[1]
    layers = main.shape[0] // 2

    def step(carry, xs):
        s, total = carry
        cur, nxt = xs
        x = cur * extra[0]
        new = []
        for i in range(layers):
            w, bias = main[2 * i], main[2 * i + 1]
            hidden, cell = s[2 * i], s[2 * i + 1]
            forget = jax.nn.sigmoid(x * w[:b] + bias[:b])
            ingate = jax.nn.sigmoid(hidden * w[b:2 * b] + bias[b:2 * b])
            outgate = jax.nn.sigmoid(x * w[2 * b:3 * b] + bias[2 * b:3 * b])
            change = jnp.tanh(hidden * w[3 * b:] + bias[3 * b:])
            cell = cell * forget + ingate * change
            hidden = outgate * jnp.tanh(cell)
            new += [hidden, cell]
            x = hidden
        ypred = x * extra[1] + extra[2]
        lse_t = jnp.log(jnp.sum(jnp.exp(ypred)) + 2)
        return (jnp.stack(new), total + jnp.sum(nxt * (ypred - lse_t))), None

    (_, total), _ = lax.scan(step, (state, jnp.zeros(())), (seq[:-1], seq[1:]))
    return -total / ((seq.shape[0] - 1) * b)


def kmeans(P, C):
    Cs = lax.stop_gradient(C)   # |p|^2 - 2 p.c + |c|^2: one matrix product, (n, k)
    dist = jnp.sum(P * P, axis=1)[:, None] - 2.0 * (P @ Cs.T) + jnp.sum(Cs * Cs, axis=1)[None, :]
    best = lax.stop_gradient(jnp.argmin(dist, axis=1))               # first minimum, as kmeans.ad
    return jnp.sum((P - C[best]) ** 2)


def seed8(a):
    b = lax.while_loop(lambda b: jnp.linalg.norm(b) < SEED8_LIMIT, lambda b: b * 2, a * 2)
    return jnp.where(jnp.sum(b) > 0, b, 100 * b)


def newton(a):
    def cond(state):
        r, its = state
        return jnp.any((jnp.abs(r * r * r - a) >= NEWTON_TOL) & (its < NEWTON_MAXITER))

    def body(state):
        r, its = state
        active = (jnp.abs(r * r * r - a) >= NEWTON_TOL) & (its < NEWTON_MAXITER)
        return jnp.where(active, r - (r * r * r - a) / (3.0 * r * r), r), its + active

    r, _ = lax.while_loop(cond, body, (a, jnp.zeros(a.shape, dtype=jnp.int64)))
    return jnp.sum(r)


# ---- entries ----------------------------------------------------------------------------------

def _refusal(f, *args) -> str | None:
    """JAX's error when asked for the reverse-mode derivative of ``f`` (None if it works)."""
    try:
        jax.grad(lambda *a: jnp.sum(f(*a)))(*args)
    except Exception as exc:  # noqa: BLE001 - the refusal is the result
        return f"{type(exc).__name__}: {exc}"
    return None


def _entry(primal, derivative, prepare=_dev, **kw) -> Entry:
    return Entry(_ready(jax.jit(primal)), _ready(jax.jit(derivative)), prepare=prepare, **kw)


def build(workload: str, args: tuple) -> Entry:
    if workload == "lse":
        return _entry(lse, jax.grad(lse))
    if workload == "llsq":
        n = args[1]
        f = partial(_llsq, n=n)
        return _entry(f, jax.grad(f), prepare=lambda x, n: _dev(x))
    if workload == "ode":
        s = args[1]
        f = partial(_ode, s=s)
        return _entry(f, jax.grad(lambda x: f(x)[-1]), prepare=lambda x, s: _dev(x))
    if workload == "det":
        return _entry(det, jax.grad(det), prepare=_det_prepare,
                      notes=["det index tables (input-independent) built outside the timed region"])
    if workload == "gmm":
        m, gamma, log_gamma_d = args[5], args[6], args[7]
        rows, cols = gmm_lower_indices(args[1].shape[1])
        f = partial(_gmm, m=m, gamma=gamma, log_gamma_d=log_gamma_d, rows=rows, cols=cols)
        return _entry(f, jax.grad(f, argnums=(0, 1, 2, 3)), prepare=lambda *a: _dev(*a[:5]))
    if workload == "lstm":
        return _entry(_lstm, jax.grad(_lstm, argnums=(0, 1)))
    if workload == "kmeans":
        return _entry(kmeans, jax.grad(kmeans, argnums=1))
    if workload in ("seed8_while", "newton"):
        f = seed8 if workload == "seed8_while" else newton
        refusal = _refusal(f, *_dev(*args))
        if refusal is None:
            return _entry(f, lambda a: jax.vjp(f, a)[1](jnp.ones_like(f(a)))[0])
        return Entry(_ready(jax.jit(f)), None, prepare=_dev, derivative_unsupported=refusal)
    return na(f"no jax implementation of {workload}")
