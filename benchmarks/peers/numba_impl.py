"""Hand-written Numba: scalar loops, and reverse-mode derivatives written out by hand.

The same coverage as the NumPy peer (derivatives of lse, llsq, ode, det, kmeans, seed 8's while
program and Newton; gmm and lstm primals only). Newton reuses ``benchmarks/baselines.py``.
Every function is ``@njit(cache=True)``, single-threaded, no fastmath: what adc emits too.
"""
from __future__ import annotations

import numba
import numpy as np

from benchmarks import baselines
from benchmarks.peers import Entry, na
from benchmarks.peers.common import SEED8_LIMIT

NAME = "numba"
HAND_NA = "n/a: no hand-written derivative (unreasonable to write by hand)"

_jit = numba.njit(cache=True, fastmath=False)


def versions() -> dict:
    return {"numba": numba.__version__}


# ---- lse --------------------------------------------------------------------------------------

@_jit
def lse(x):
    a = x[0]
    for i in range(1, x.shape[0]):
        if x[i] > a:
            a = x[i]
    s = 0.0
    for i in range(x.shape[0]):
        s += np.exp(x[i] - a)
    return np.log(s) + a


@_jit
def lse_grad(x):
    a = x[0]
    for i in range(1, x.shape[0]):
        if x[i] > a:
            a = x[i]
    g = np.empty_like(x)
    s = 0.0
    for i in range(x.shape[0]):
        g[i] = np.exp(x[i] - a)
        s += g[i]
    inv = 1.0 / s
    for i in range(x.shape[0]):
        g[i] *= inv
    return g


# ---- llsq -------------------------------------------------------------------------------------

@_jit
def _llsq_residual(x, ti):
    """sign(t_i) - sum_j x_j t_i^j, shared by the value and the gradient."""
    inner = np.sign(ti)
    mul = 1.0
    for j in range(x.shape[0]):
        inner -= x[j] * mul
        mul *= ti
    return inner


@_jit
def llsq(x, n):
    total = 0.0
    for i in range(n):
        inner = _llsq_residual(x, -1.0 + i * 2.0 / (n - 1))
        total += inner * inner
    return total / 2


@_jit
def llsq_grad(x, n):
    m = x.shape[0]
    g = np.zeros(m)
    for i in range(n):
        ti = -1.0 + i * 2.0 / (n - 1)
        inner = _llsq_residual(x, ti)
        mul = 1.0
        for j in range(m):          # d/dx_j of inner^2 / 2 = -inner * t_i^j
            g[j] -= inner * mul
            mul *= ti
    return g


# ---- ode --------------------------------------------------------------------------------------

@_jit
def _rhs(x, y, z):
    z[0] = x[0]
    for i in range(1, x.shape[0]):
        z[i] = x[i] * y[i - 1]


@_jit
def _stages(x, y, h, k1, k2, k3, k4, y2, y3, y4):
    n = x.shape[0]
    _rhs(x, y, k1)
    for i in range(n):
        y2[i] = y[i] + h * k1[i] / 2
    _rhs(x, y2, k2)
    for i in range(n):
        y3[i] = y[i] + h * k2[i] / 2
    _rhs(x, y3, k3)
    for i in range(n):
        y4[i] = y[i] + h * k3[i]
    _rhs(x, y4, k4)


@_jit
def ode(x, s):
    n = x.shape[0]
    h = 2.0 / s
    y = np.zeros(n)
    k1, k2, k3, k4 = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    y2, y3, y4 = np.empty(n), np.empty(n), np.empty(n)
    for _ in range(s):
        _stages(x, y, h, k1, k2, k3, k4, y2, y3, y4)
        for i in range(n):
            y[i] = y[i] + h * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) / 6
    return y


@_jit
def _rhs_adjoint(x, yk, zb, xb, ykb):
    """z[0] = x[0], z[i] = x[i] y[i-1]: accumulate into xb, ADD into ykb."""
    xb[0] += zb[0]
    for i in range(1, x.shape[0]):
        xb[i] += zb[i] * yk[i - 1]
        ykb[i - 1] += zb[i] * x[i]


@_jit
def ode_grad(x, s):
    n = x.shape[0]
    h = 2.0 / s
    ys = np.empty((s, n))
    y = np.zeros(n)
    k1, k2, k3, k4 = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    y2, y3, y4 = np.empty(n), np.empty(n), np.empty(n)
    for step in range(s):
        ys[step] = y
        _stages(x, y, h, k1, k2, k3, k4, y2, y3, y4)
        for i in range(n):
            y[i] = y[i] + h * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) / 6
    xb = np.zeros(n)
    yb = np.zeros(n)
    yb[n - 1] = 1.0
    kb = np.empty(n)
    ynb = np.empty(n)
    t = np.empty(n)
    for step in range(s - 1, -1, -1):
        yk = ys[step]
        _stages(x, yk, h, k1, k2, k3, k4, y2, y3, y4)
        ynb[:] = yb
        # k4
        for i in range(n):
            kb[i] = h / 6 * yb[i]
        t[:] = 0.0
        _rhs_adjoint(x, y4, kb, xb, t)           # t = y4 bar
        for i in range(n):
            ynb[i] += t[i]
            kb[i] = 2 * (h / 6 * yb[i]) + h * t[i]   # k3 bar
        t[:] = 0.0
        _rhs_adjoint(x, y3, kb, xb, t)           # t = y3 bar
        for i in range(n):
            ynb[i] += t[i]
            kb[i] = 2 * (h / 6 * yb[i]) + h / 2 * t[i]   # k2 bar
        t[:] = 0.0
        _rhs_adjoint(x, y2, kb, xb, t)           # t = y2 bar
        for i in range(n):
            ynb[i] += t[i]
            kb[i] = h / 6 * yb[i] + h / 2 * t[i]       # k1 bar
        _rhs_adjoint(x, yk, kb, xb, ynb)
        yb[:] = ynb
    return xb


# ---- det --------------------------------------------------------------------------------------

@_jit
def _det_tree(A):
    """Forward over the expansion-by-minors tree (as det.ad): every level's partial products
    and the column lists (rem) of every level."""
    ell = A.shape[0]
    partials = []
    rems = []
    partial = np.ones(1)
    rem = np.arange(ell)
    width = 1
    for r in range(ell):
        m = ell - r
        child = np.empty(width * m)
        for s in range(width):
            for t in range(m):
                u = s * m + t
                child[u] = partial[s] * ((1 - 2 * (t % 2)) * A[r, rem[u]])
        partials.append(partial)
        rems.append(rem)
        if m > 1:
            crem = np.empty(width * m * (m - 1), dtype=np.int64)
            for s in range(width):
                for t in range(m):
                    base = (s * m + t) * (m - 1)
                    for k in range(t):
                        crem[base + k] = rem[s * m + k]
                    for k in range(t, m - 1):
                        crem[base + k] = rem[s * m + k + 1]
            rem = crem
        partial = child
        width *= m
    partials.append(partial)
    return partials, rems


@_jit
def det(A):
    partial = _det_tree(A)[0][-1]
    s = 0.0
    for i in range(partial.shape[0]):
        s += partial[i]
    return s


@_jit
def det_grad(A):
    ell = A.shape[0]
    partials, rems = _det_tree(A)
    Ab = np.zeros((ell, ell))
    cb = np.ones(partials[ell].shape[0])
    for r in range(ell - 1, -1, -1):
        p = partials[r]
        rem = rems[r]
        width = p.shape[0]
        m = ell - r
        pb = np.zeros(width)
        for s in range(width):
            for t in range(m):
                u = s * m + t
                w = cb[u] * (1 - 2 * (t % 2))
                c = rem[u]
                Ab[r, c] += w * p[s]
                pb[s] += w * A[r, c]
        cb = pb
    return Ab


# ---- gmm (primal only) ------------------------------------------------------------------------

@_jit
def gmm(alpha, mu, q, l, x, m, gamma, log_gamma_d):
    k, d = mu.shape
    n = x.shape[0]
    main = np.empty((k, n))
    Q = np.zeros((d, d))
    xc = np.empty(d)
    frobenius = 0.0
    sum_q = 0.0
    for j in range(k):
        Q[:, :] = 0.0
        idx = 0
        qj = 0.0
        for c in range(d):
            Q[c, c] = np.exp(q[j, c])
            qj += q[j, c]
            for r in range(c + 1, d):
                Q[r, c] = l[j, idx]
                idx += 1
        for r in range(d):
            for c in range(d):
                frobenius += Q[r, c] * Q[r, c]
        sum_q += qj
        for i in range(n):
            for e in range(d):
                xc[e] = x[i, e] - mu[j, e]
            sq = 0.0
            for r in range(d):
                v = 0.0
                for c in range(r + 1):          # Q is lower triangular
                    v += Q[r, c] * xc[c]
                sq += v * v
            main[j, i] = alpha[j] + qj - 0.5 * sq
    slse = 0.0
    for i in range(n):
        mx = main[0, i]
        for j in range(1, k):
            if main[j, i] > mx:
                mx = main[j, i]
        se = 0.0
        for j in range(k):
            se += np.exp(main[j, i] - mx)
        slse += np.log(se) + mx
    a_max = alpha.max()
    sa = 0.0
    for j in range(k):
        sa += np.exp(alpha[j] - a_max)
    lse_alpha = np.log(sa) + a_max
    likelihood = -n * d * 0.5 * np.log(2 * np.pi) + slse - n * lse_alpha
    c_prior = (d + m + 1) * d * (np.log(gamma) - 0.5 * np.log(2.0)) - log_gamma_d
    prior = k * c_prior - (0.5 * gamma * gamma * frobenius - m * sum_q)
    return likelihood + prior


# ---- lstm (primal only) -----------------------------------------------------------------------

@_jit
def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@_jit
def lstm(main, extra, state, seq):
    b = extra.shape[1]
    layers = main.shape[0] // 2
    s = state.copy()
    x = np.empty(b)
    total = 0.0
    count = 0
    for t in range(seq.shape[0] - 1):
        for e in range(b):
            x[e] = seq[t, e] * extra[0, e]
        for i in range(layers):
            for e in range(b):
                hidden = s[2 * i, e]
                cell = s[2 * i + 1, e]
                forget = _sigmoid(x[e] * main[2 * i, e] + main[2 * i + 1, e])
                ingate = _sigmoid(hidden * main[2 * i, b + e] + main[2 * i + 1, b + e])
                outgate = _sigmoid(x[e] * main[2 * i, 2 * b + e] + main[2 * i + 1, 2 * b + e])
                change = np.tanh(hidden * main[2 * i, 3 * b + e] + main[2 * i + 1, 3 * b + e])
                cell = cell * forget + ingate * change
                hidden = outgate * np.tanh(cell)
                s[2 * i, e] = hidden
                s[2 * i + 1, e] = cell
                x[e] = hidden
        se = 0.0
        for e in range(b):
            se += np.exp(x[e] * extra[1, e] + extra[2, e])
        lse_t = np.log(se + 2)
        for e in range(b):
            total += seq[t + 1, e] * (x[e] * extra[1, e] + extra[2, e] - lse_t)
        count += b
    return -total / count


# ---- kmeans -----------------------------------------------------------------------------------

@_jit
def _nearest(P, C):
    n, d = P.shape
    best = np.zeros(n, dtype=np.int64)
    for i in range(n):
        best_dist = 0.0
        for j in range(C.shape[0]):
            dist = 0.0
            for e in range(d):
                delta = P[i, e] - C[j, e]
                dist += delta * delta
            if j == 0 or dist < best_dist:
                best[i] = j
                best_dist = dist
    return best


@_jit
def kmeans(P, C):
    best = _nearest(P, C)
    total = 0.0
    for i in range(P.shape[0]):
        for e in range(P.shape[1]):
            diff = P[i, e] - C[best[i], e]
            total += diff * diff
    return total


@_jit
def kmeans_grad(P, C):
    best = _nearest(P, C)
    G = np.zeros(C.shape)
    for i in range(P.shape[0]):
        for e in range(P.shape[1]):
            G[best[i], e] -= 2.0 * (P[i, e] - C[best[i], e])
    return G


# ---- seed example 8 ---------------------------------------------------------------------------

@_jit
def _norm(b):
    s = 0.0
    for i in range(b.shape[0]):
        s += b[i] * b[i]
    return np.sqrt(s)


@_jit
def seed8(a):
    b = a * 2
    while _norm(b) < SEED8_LIMIT:
        for i in range(b.shape[0]):
            b[i] *= 2
    if b.sum() > 0:
        return b
    return 100 * b


@_jit
def seed8_vjp(a):
    b = a * 2
    scale = 2.0
    while _norm(b) < SEED8_LIMIT:
        for i in range(b.shape[0]):
            b[i] *= 2
        scale *= 2.0
    if not b.sum() > 0:
        scale *= 100.0
    return np.full(a.shape[0], scale)


def build(workload: str, args: tuple) -> Entry:
    if workload == "lse":
        return Entry(lse, lse_grad)
    if workload == "llsq":
        return Entry(llsq, llsq_grad)
    if workload == "ode":
        return Entry(ode, ode_grad)
    if workload == "det":
        return Entry(det, det_grad)
    if workload == "gmm":
        return Entry(gmm, None, derivative_na=HAND_NA)
    if workload == "lstm":
        return Entry(lstm, None, derivative_na=HAND_NA)
    if workload == "kmeans":
        return Entry(kmeans, kmeans_grad)
    if workload == "seed8_while":
        return Entry(seed8, seed8_vjp)
    if workload == "newton":
        return Entry(baselines.newton_forward, baselines.newton_grad)
    return na(f"no numba implementation of {workload}")
