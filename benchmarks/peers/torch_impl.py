"""PyTorch eager (CPU, float64): vectorised primals, derivatives by ``torch.autograd.grad``.

Inputs become tensors once, outside the timed region (``prepare``). A derivative call makes the
``wrt`` inputs leaves that require grad (``detach().requires_grad_()``: no copy), runs the primal
and calls ``torch.autograd.grad``; results come back as tensors (compared as numpy, untimed).
The while programs are plain Python loops on tensors: eager autograd records whatever ran.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from benchmarks.peers import Entry, na
from benchmarks.peers.common import (NEWTON_MAXITER, NEWTON_TOL, SEED8_LIMIT, det_tables,
                                     gmm_lower_indices, llsq_basis)

NAME = "torch"
F64 = torch.float64


def versions() -> dict:
    return {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}


def set_threads(n: int) -> None:
    torch.set_num_threads(n)


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def _grad(f, wrt_index):
    """derivative(*args) = d f(*args) / d args[wrt_index...] by eager autograd."""
    idx = (wrt_index,) if isinstance(wrt_index, int) else tuple(wrt_index)

    def derivative(*args):
        args = list(args)
        leaves = []
        for i in idx:
            args[i] = args[i].detach().requires_grad_(True)
            leaves.append(args[i])
        out = f(*args)
        grads = torch.autograd.grad(out, leaves)
        return grads[0] if isinstance(wrt_index, int) else grads
    return derivative


def _vjp_ones(f):
    def derivative(a):
        a = a.detach().requires_grad_(True)
        out = f(a)
        (g,) = torch.autograd.grad(out, (a,), grad_outputs=torch.ones_like(out))
        return g
    return derivative


# ---- the workloads ----------------------------------------------------------------------------

def lse(x):
    a = x.max()
    return torch.log(torch.sum(torch.exp(x - a))) + a


def llsq(x, n):
    m = x.shape[0]
    t, s = (torch.from_numpy(v) for v in llsq_basis(n, m))
    V = torch.cat([torch.ones(n, 1, dtype=F64), torch.cumprod(t[:, None].expand(n, m - 1), dim=1)], dim=1)
    r = s - V @ x
    return (r @ r) / 2


def _rhs(x, y):
    return torch.cat([x[:1], x[1:] * y[:-1]])


def ode(x, s):
    h = 2.0 / s
    y = torch.zeros_like(x)
    for _ in range(s):
        k1 = _rhs(x, y)
        k2 = _rhs(x, y + h * k1 / 2)
        k3 = _rhs(x, y + h * k2 / 2)
        k4 = _rhs(x, y + h * k3)
        y = y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    return y


def ode_last(x, s):
    return ode(x, s)[-1]


def det(A, tables):
    partial = torch.ones(1, dtype=F64)
    for r, (parent, col, sign) in enumerate(tables):
        partial = partial[parent] * (sign * A[r, col])
    return partial.sum()


def _det_prepare(A):
    tables = tuple((torch.from_numpy(p), torch.from_numpy(c), torch.from_numpy(s))
                   for p, c, s in det_tables(A.shape[0]))
    return _t(A), tables


def gmm(alpha, mu, q, l, x, m, gamma, log_gamma_d, rows, cols):
    k, d = mu.shape
    n = x.shape[0]
    Q = torch.diag_embed(torch.exp(q))
    L = torch.zeros(k, d, d, dtype=F64)
    L[:, rows, cols] = l
    Q = Q + L
    xc = x[None, :, :] - mu[:, None, :]
    Qxc = xc @ Q.transpose(1, 2)
    sq = (Qxc * Qxc).sum(-1)
    sum_q = q.sum(1)
    main = alpha[:, None] + sum_q[:, None] - 0.5 * sq
    slse = torch.logsumexp(main, dim=0).sum()
    likelihood = -n * d * 0.5 * math.log(2 * math.pi) + slse - n * torch.logsumexp(alpha, dim=0)
    frobenius = (Q * Q).sum()
    c_prior = (d + m + 1) * d * (math.log(gamma) - 0.5 * math.log(2.0)) - log_gamma_d
    prior = k * c_prior - (0.5 * gamma * gamma * frobenius - m * sum_q.sum())
    return likelihood + prior


def _gmm_prepare(alpha, mu, q, l, x, m, gamma, log_gamma_d):
    rows, cols = (torch.from_numpy(v) for v in gmm_lower_indices(mu.shape[1]))
    return _t(alpha), _t(mu), _t(q), _t(l), _t(x), m, gamma, log_gamma_d, rows, cols


def lstm(main, extra, state, seq):
    b = extra.shape[1]
    layers = main.shape[0] // 2
    hidden = [state[2 * i] for i in range(layers)]
    cell = [state[2 * i + 1] for i in range(layers)]
    total = 0.0
    count = 0
    for t in range(seq.shape[0] - 1):
        x = seq[t] * extra[0]
        for i in range(layers):
            w, bias = main[2 * i], main[2 * i + 1]
            forget = torch.sigmoid(x * w[:b] + bias[:b])
            ingate = torch.sigmoid(hidden[i] * w[b:2 * b] + bias[b:2 * b])
            outgate = torch.sigmoid(x * w[2 * b:3 * b] + bias[2 * b:3 * b])
            change = torch.tanh(hidden[i] * w[3 * b:] + bias[3 * b:])
            cell[i] = cell[i] * forget + ingate * change
            hidden[i] = outgate * torch.tanh(cell[i])
            x = hidden[i]
        ypred = x * extra[1] + extra[2]
        lse_t = torch.log(torch.sum(torch.exp(ypred)) + 2)
        total = total + torch.sum(seq[t + 1] * (ypred - lse_t))
        count += b
    return -total / count


def kmeans(P, C):
    with torch.no_grad():   # |p|^2 - 2 p.c + |c|^2: one matrix product, (n, k)
        dist = (P * P).sum(1)[:, None] - 2.0 * (P @ C.T) + (C * C).sum(1)[None, :]
        best = torch.argmin(dist, dim=1)                            # first minimum, as kmeans.ad
    return ((P - C[best]) ** 2).sum()


def seed8(a):
    b = a * 2
    while torch.linalg.vector_norm(b) < SEED8_LIMIT:
        b = b * 2
    return b if torch.sum(b) > 0 else 100 * b


def newton(a):
    """Every element iterates until its own stopping test holds (torch.where keeps the others),
    so each element sees exactly the iterates of newton.ad's scalar loop."""
    r = a
    its = torch.zeros(a.shape, dtype=torch.int64)
    while True:
        active = (torch.abs(r * r * r - a) >= NEWTON_TOL) & (its < NEWTON_MAXITER)
        if not bool(active.any()):
            break
        r = torch.where(active, r - (r * r * r - a) / (3.0 * r * r), r)
        its = its + active.to(torch.int64)
    return r.sum()


def _all(*args):
    return tuple(_t(a) if isinstance(a, np.ndarray) else a for a in args)


def build(workload: str, args: tuple) -> Entry:
    if workload == "lse":
        return Entry(lse, _grad(lse, 0), prepare=_all)
    if workload == "llsq":
        return Entry(llsq, _grad(llsq, 0), prepare=_all)
    if workload == "ode":
        return Entry(ode, _grad(ode_last, 0), prepare=_all)
    if workload == "det":
        return Entry(det, _grad(det, 0), prepare=_det_prepare,
                     notes=["det index tables (input-independent) built outside the timed region"])
    if workload == "gmm":
        return Entry(gmm, _grad(gmm, (0, 1, 2, 3)), prepare=_gmm_prepare)
    if workload == "lstm":
        return Entry(lstm, _grad(lstm, (0, 1)), prepare=_all)
    if workload == "kmeans":
        return Entry(kmeans, _grad(kmeans, 1), prepare=_all)
    if workload == "seed8_while":
        return Entry(seed8, _vjp_ones(seed8), prepare=_all)
    if workload == "newton":
        return Entry(newton, _grad(newton, 0), prepare=_all)
    return na(f"no torch implementation of {workload}")
