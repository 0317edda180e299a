"""Hand-written NumPy: vectorised primals, and reverse-mode derivatives written out by hand.

Derivatives are hand-written where that is reasonable (a few lines of adjoint per primal
statement): lse, llsq, ode, det, kmeans, seed 8's while program and Newton. gmm and lstm have
primals only: their hand-derived gradients (a Cholesky-factor Wishart prior through a mixture
logsumexp; backpropagation through time of a stacked LSTM) are exactly the code AD exists to
write, and nobody benchmarks a hand-written version of them.
"""
from __future__ import annotations

import numpy as np

from benchmarks import baselines
from benchmarks.peers import Entry, na
from benchmarks.peers.common import (NEWTON_MAXITER, NEWTON_TOL, SEED8_LIMIT, det_tables,
                                     gmm_lower_indices, llsq_basis)

NAME = "numpy"
HAND_NA = "n/a: no hand-written derivative (unreasonable to write by hand)"


def versions() -> dict:
    return {"numpy": np.__version__}


# ---- lse --------------------------------------------------------------------------------------

def lse(x):
    a = x.max()
    return float(np.log(np.sum(np.exp(x - a))) + a)


def lse_grad(x):
    e = np.exp(x - x.max())
    return e / e.sum()


# ---- llsq -------------------------------------------------------------------------------------

def _vandermonde(n, m):
    t, s = llsq_basis(n, m)
    V = np.empty((n, m))
    V[:, 0] = 1.0
    if m > 1:
        V[:, 1:] = np.cumprod(np.broadcast_to(t[:, None], (n, m - 1)), axis=1)
    return V, s


def llsq(x, n):
    V, s = _vandermonde(n, x.shape[0])
    r = s - V @ x
    return float(r @ r) / 2


def llsq_grad(x, n):
    V, s = _vandermonde(n, x.shape[0])
    return -(V.T @ (s - V @ x))


# ---- ode (RK4 on y0' = x0, yi' = xi y(i-1)) -------------------------------------------------------

def _rhs(x, y):
    z = x.copy()
    z[1:] = x[1:] * y[:-1]
    return z


def _rk4_stages(x, y, h):
    k1 = _rhs(x, y)
    y2 = y + h * k1 / 2
    k2 = _rhs(x, y2)
    y3 = y + h * k2 / 2
    k3 = _rhs(x, y3)
    y4 = y + h * k3
    k4 = _rhs(x, y4)
    return (k1, k2, k3, k4), (y2, y3, y4)


def ode(x, s):
    h = 2.0 / s
    y = np.zeros_like(x)
    for _ in range(s):
        (k1, k2, k3, k4), _ys = _rk4_stages(x, y, h)
        y = y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    return y


def ode_grad(x, s):
    """d y(2)[n-1] / dx: forward storing y at each step, reverse through the RK4 stages."""
    h = 2.0 / s
    y = np.zeros_like(x)
    ys = []
    for _ in range(s):
        ys.append(y)
        (k1, k2, k3, k4), _ = _rk4_stages(x, y, h)
        y = y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    xb = np.zeros_like(x)
    yb = np.zeros_like(x)
    yb[-1] = 1.0

    def rhs_adjoint(zb, yk):
        # z = x (element 0), z[1:] = x[1:] * yk[:-1]
        xb[0] += zb[0]
        xb[1:] += zb[1:] * yk[:-1]
        ykb = np.zeros_like(yk)
        ykb[:-1] = zb[1:] * x[1:]
        return ykb

    for y in reversed(ys):
        _, (y2, y3, y4) = _rk4_stages(x, y, h)
        c = h / 6 * yb
        k1b, k2b, k3b, k4b = c, 2 * c, 2 * c, c
        ynb = yb.copy()
        y4b = rhs_adjoint(k4b, y4)
        ynb += y4b
        k3b = k3b + h * y4b
        y3b = rhs_adjoint(k3b, y3)
        ynb += y3b
        k2b = k2b + h / 2 * y3b
        y2b = rhs_adjoint(k2b, y2)
        ynb += y2b
        k1b = k1b + h / 2 * y2b
        ynb += rhs_adjoint(k1b, y)
        yb = ynb
    return xb


# ---- det (expansion by minors, level by level over the tree) -----------------------------------

def det(A, tables):
    partial = np.ones(1)
    for r, (parent, col, sign) in enumerate(tables):
        partial = partial[parent] * (sign * A[r, col])
    return float(partial.sum())


def det_grad(A, tables):
    ell = A.shape[0]
    partials = []
    partial = np.ones(1)
    for r, (parent, col, sign) in enumerate(tables):
        partials.append(partial)
        partial = partial[parent] * (sign * A[r, col])
    cb = np.ones(partial.shape[0])
    Ab = np.zeros_like(A)
    for r in range(ell - 1, -1, -1):
        parent, col, sign = tables[r]
        p = partials[r]
        w = cb * sign
        Ab[r] = np.bincount(col, weights=w * p[parent], minlength=ell)
        cb = (w * A[r, col]).reshape(p.shape[0], -1).sum(axis=1)   # children of s are contiguous
    return Ab


# ---- gmm (primal only) ------------------------------------------------------------------------

def gmm(alpha, mu, q, l, x, m, gamma, log_gamma_d):
    k, d = mu.shape
    n = x.shape[0]
    rows, cols = gmm_lower_indices(d)
    Q = np.zeros((k, d, d))
    diag = np.arange(d)
    Q[:, diag, diag] = np.exp(q)
    Q[:, rows, cols] = l
    xc = x[None, :, :] - mu[:, None, :]                 # (k, n, d)
    Qxc = xc @ Q.transpose(0, 2, 1)
    sq = np.einsum("knd,knd->kn", Qxc, Qxc)
    sum_q = q.sum(axis=1)
    main = alpha[:, None] + sum_q[:, None] - 0.5 * sq
    mx = main.max(axis=0)
    slse = np.sum(np.log(np.exp(main - mx).sum(axis=0)) + mx)
    a_max = alpha.max()
    lse_alpha = np.log(np.sum(np.exp(alpha - a_max))) + a_max
    likelihood = -n * d * 0.5 * np.log(2 * np.pi) + slse - n * lse_alpha
    frobenius = np.sum(Q * Q)
    c_prior = (d + m + 1) * d * (np.log(gamma) - 0.5 * np.log(2.0)) - log_gamma_d
    prior = k * c_prior - (0.5 * gamma * gamma * frobenius - m * sum_q.sum())
    return float(likelihood + prior)


# ---- lstm (primal only) -----------------------------------------------------------------------

def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm(main, extra, state, seq):
    b = extra.shape[1]
    layers = main.shape[0] // 2
    s = state.copy()
    total = 0.0
    count = 0
    for t in range(seq.shape[0] - 1):
        x = seq[t] * extra[0]
        for i in range(layers):
            w, bias = main[2 * i], main[2 * i + 1]
            hidden, cell = s[2 * i], s[2 * i + 1]
            forget = _sigmoid(x * w[:b] + bias[:b])
            ingate = _sigmoid(hidden * w[b:2 * b] + bias[b:2 * b])
            outgate = _sigmoid(x * w[2 * b:3 * b] + bias[2 * b:3 * b])
            change = np.tanh(hidden * w[3 * b:] + bias[3 * b:])
            cell = cell * forget + ingate * change
            hidden = outgate * np.tanh(cell)
            s[2 * i] = hidden
            s[2 * i + 1] = cell
            x = hidden
        ypred = x * extra[1] + extra[2]
        lse_t = np.log(np.sum(np.exp(ypred)) + 2)
        total += np.sum(seq[t + 1] * (ypred - lse_t))
        count += b
    return float(-total / count)


# ---- kmeans (cost, and its gradient w.r.t. the centroids) --------------------------------------

def _nearest(P, C):
    """Index of the nearest centroid of each point: |p|^2 - 2 p.c + |c|^2 by one matrix product
    (how NumPy code does it); argmin takes the first of equal distances, as kmeans.ad does."""
    d2 = np.sum(P * P, axis=1)[:, None] - 2.0 * (P @ C.T) + np.sum(C * C, axis=1)[None, :]
    return np.argmin(d2, axis=1)


def kmeans(P, C):
    best = _nearest(P, C)
    return float(np.sum((P - C[best]) ** 2))


def kmeans_grad(P, C):
    best = _nearest(P, C)
    diff = P - C[best]
    k, d = C.shape
    return np.stack([np.bincount(best, weights=-2.0 * diff[:, e], minlength=k) for e in range(d)], axis=1)


# ---- seed example 8: data-dependent while and branch -------------------------------------------

def seed8(a):
    b = a * 2
    while np.sqrt(np.sum(b * b)) < SEED8_LIMIT:
        b = b * 2
    return b if np.sum(b) > 0 else 100 * b


def seed8_vjp(a):
    """VJP with a seed of ones: c = scale * a with scale = 2 * 2^(doublings) (* 100 when
    sum(b) <= 0), so every entry of the VJP is that scale."""
    b = a * 2
    scale = 2.0
    while np.sqrt(np.sum(b * b)) < SEED8_LIMIT:
        b = b * 2
        scale *= 2.0
    if not np.sum(b) > 0:
        scale *= 100.0
    return np.full(a.shape, scale)


# ---- Newton: cube roots, a data-dependent while loop per element -------------------------------

def newton(a):
    return baselines.newton_forward_numpy(a)


def newton_grad(a):
    """Reverse mode through the iterations: the vectorised loop updates each element until its
    own stopping test holds, taping (which elements were active, their iterate)."""
    r = a.copy()
    its = np.zeros(a.shape, dtype=np.int64)
    tape = []
    while True:
        active = np.flatnonzero((np.abs(r * r * r - a) >= NEWTON_TOL) & (its < NEWTON_MAXITER))
        if active.size == 0:
            break
        ra = r[active]
        tape.append((active, ra))
        r[active] = ra - (ra * ra * ra - a[active]) / (3.0 * ra * ra)
        its[active] += 1
    rb = np.ones_like(a)
    ab = np.zeros_like(a)
    for active, ra in reversed(tape):
        d = 3.0 * ra * ra
        q = (ra * ra * ra - a[active]) / d
        rba = rb[active]
        ab[active] += rba / d
        rb[active] = rba * (2.0 * q / ra)
    return ab + rb


def build(workload: str, args: tuple) -> Entry:
    if workload == "lse":
        return Entry(lse, lse_grad)
    if workload == "llsq":
        return Entry(llsq, llsq_grad)
    if workload == "ode":
        return Entry(ode, ode_grad)
    if workload == "det":
        return Entry(det, det_grad, prepare=lambda A: (A, det_tables(A.shape[0])),
                     notes=["det index tables (input-independent) built outside the timed region"])
    if workload == "gmm":
        return Entry(gmm, None, derivative_na=HAND_NA)
    if workload == "lstm":
        return Entry(lstm, None, derivative_na=HAND_NA)
    if workload == "kmeans":
        return Entry(kmeans, kmeans_grad)
    if workload == "seed8_while":
        return Entry(seed8, seed8_vjp)
    if workload == "newton":
        return Entry(newton, newton_grad)
    return na(f"no numpy implementation of {workload}")
