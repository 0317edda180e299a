"""Hand-written reference implementations for benchmarking adc.

Independent of adc (no adc imports).  For each of four workloads there is

* ``<name>_forward``        -- plain Numba forward (scalar loops),
* ``<name>_grad``           -- hand-written Numba reverse-mode gradient (analytic adjoint,
                               trajectory stored only where the adjoint needs it),
* ``<name>_forward_numpy``  -- plain NumPy forward, for cross-checking.

Workloads:

(a) Lotka-Volterra, explicit Euler:
        lv_forward(x0, y0, p, h, steps) -> x_N + y_N
        lv_grad(x0, y0, p, h, steps)    -> (dx0, dy0, dp)
(b) Rosenbrock, scalar loop over n:
        rosenbrock_forward(x) -> f,   rosenbrock_grad(x) -> dx
(c) Newton iteration for r**3 = a[k] (data-dependent while loop):
        newton_forward(a) -> sum_k r_k
        newton_grad(a)          -> da, reverse mode THROUGH the Newton steps (tape of iterates)
        newton_grad_implicit(a) -> da, implicit-function formula dr/da = 1/(3 r^2)
(d) Small MLP loss, loops over samples:
        mlp_forward(X, y, W1, b1, w2, b2) -> loss
        mlp_grad(X, y, W1, b1, w2, b2)    -> (dW1, db1, dw2, db2)

All arrays are float64.  Every Numba function is ``@numba.njit(cache=True, fastmath=False)``.
"""

import numba
import numpy as np

__all__ = [
    "NEWTON_TOL", "NEWTON_MAXITER",
    "lv_forward", "lv_grad", "lv_forward_numpy",
    "rosenbrock_forward", "rosenbrock_grad", "rosenbrock_forward_numpy",
    "newton_forward", "newton_grad", "newton_grad_implicit", "newton_forward_numpy",
    "mlp_forward", "mlp_grad", "mlp_forward_numpy",
]

_jit = numba.njit(cache=True, fastmath=False)


# --------------------------------------------------------------------------------------
# (a) Lotka-Volterra, explicit Euler
#     x' = alpha*x - beta*x*y,  y' = delta*x*y - gamma*y,   p = [alpha, beta, delta, gamma]
# --------------------------------------------------------------------------------------

@_jit
def lv_forward(x0, y0, p, h, steps):
    """Final prey + final predator after `steps` explicit Euler steps of size h."""
    alpha = p[0]
    beta = p[1]
    delta = p[2]
    gamma = p[3]
    x = x0
    y = y0
    for _ in range(steps):
        xy = x * y
        xn = x + h * (alpha * x - beta * xy)
        yn = y + h * (delta * xy - gamma * y)
        x = xn
        y = yn
    return x + y


@_jit
def lv_grad(x0, y0, p, h, steps):
    """Reverse-mode gradient of lv_forward w.r.t. (x0, y0, p): returns (dx0, dy0, dp).

    Forward sweep stores the state trajectory (x_k, y_k), k < steps (the Jacobian of each
    step needs the state at its start); the reverse sweep runs the adjoint recurrence
        xb_k = xb*(1 + h*(alpha - beta*y)) + yb*h*delta*y
        yb_k = -xb*h*beta*x + yb*(1 + h*(delta*x - gamma))
    and accumulates the parameter adjoints.
    """
    alpha = p[0]
    beta = p[1]
    delta = p[2]
    gamma = p[3]
    xs = np.empty(steps)
    ys = np.empty(steps)
    x = x0
    y = y0
    for k in range(steps):
        xs[k] = x
        ys[k] = y
        xy = x * y
        xn = x + h * (alpha * x - beta * xy)
        yn = y + h * (delta * xy - gamma * y)
        x = xn
        y = yn

    # d(x_N + y_N)
    xb = 1.0
    yb = 1.0
    da = 0.0
    db = 0.0
    dd = 0.0
    dg = 0.0
    for k in range(steps - 1, -1, -1):
        x = xs[k]
        y = ys[k]
        hxb = h * xb
        hyb = h * yb
        xy = x * y
        da += hxb * x
        db -= hxb * xy
        dd += hyb * xy
        dg -= hyb * y
        xb_new = xb + hxb * (alpha - beta * y) + hyb * delta * y
        yb_new = yb - hxb * beta * x + hyb * (delta * x - gamma)
        xb = xb_new
        yb = yb_new

    dp = np.empty(4)
    dp[0] = da
    dp[1] = db
    dp[2] = dd
    dp[3] = dg
    return xb, yb, dp


def lv_forward_numpy(x0, y0, p, h, steps):
    """NumPy reference: the state as a length-2 array, one vector update per step."""
    p = np.asarray(p, dtype=np.float64)
    alpha, beta, delta, gamma = p
    s = np.array([x0, y0], dtype=np.float64)
    for _ in range(int(steps)):
        xy = s[0] * s[1]
        s = s + h * np.array([alpha * s[0] - beta * xy, delta * xy - gamma * s[1]])
    return float(s.sum())


# --------------------------------------------------------------------------------------
# (b) Rosenbrock: f(x) = sum_{i<n-1} 100*(x[i+1]-x[i]^2)^2 + (1-x[i])^2
# --------------------------------------------------------------------------------------

@_jit
def rosenbrock_forward(x):
    n = x.shape[0]
    f = 0.0
    for i in range(n - 1):
        t = x[i + 1] - x[i] * x[i]
        u = 1.0 - x[i]
        f += 100.0 * t * t + u * u
    return f


@_jit
def rosenbrock_grad(x):
    """Reverse-mode gradient (no tape needed: each term only reads x)."""
    n = x.shape[0]
    g = np.zeros(n)
    for i in range(n - 1):
        xi = x[i]
        t = x[i + 1] - xi * xi
        u = 1.0 - xi
        tb = 200.0 * t          # d/dt of 100 t^2
        g[i + 1] += tb
        g[i] += -2.0 * xi * tb - 2.0 * u
    return g


def rosenbrock_forward_numpy(x):
    x = np.asarray(x, dtype=np.float64)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


# --------------------------------------------------------------------------------------
# (c) Newton iteration for r^3 = a[k], started at r = a[k], stopped when
#     |r^3 - a| < NEWTON_TOL or after NEWTON_MAXITER steps.  Result: sum_k r_k.
#     Update:  r <- r - (r^3 - a) / (3 r^2)
# --------------------------------------------------------------------------------------

NEWTON_TOL = 1e-12
NEWTON_MAXITER = 100


@_jit
def newton_forward(a):
    tol = NEWTON_TOL
    maxiter = NEWTON_MAXITER
    s = 0.0
    for k in range(a.shape[0]):
        ak = a[k]
        r = ak
        it = 0
        while abs(r * r * r - ak) >= tol and it < maxiter:
            r = r - (r * r * r - ak) / (3.0 * r * r)
            it += 1
        s += r
    return s


@_jit
def newton_grad(a):
    """Reverse mode THROUGH the Newton iterations (what an AD tool does).

    For each element the iterates r_0 = a, r_1, ..., r_m are taped (a buffer of
    NEWTON_MAXITER + 1 slots, reused across elements).  With q_j = (r_j^3 - a) / (3 r_j^2)
    and r_{j+1} = r_j - q_j, the reverse sweep applies
        dr_{j+1}/dr_j = 1 - dq/dr = 2 q_j / r_j      (= 2/3 - 2a / (3 r_j^3)),
        dr_{j+1}/da   = 1 / (3 r_j^2),
    and finally dr_0/da = 1.  The loop condition is piecewise constant: no derivative.
    """
    tol = NEWTON_TOL
    maxiter = NEWTON_MAXITER
    n = a.shape[0]
    g = np.empty(n)
    tape = np.empty(maxiter + 1)
    for k in range(n):
        ak = a[k]
        r = ak
        m = 0
        tape[0] = r
        while abs(r * r * r - ak) >= tol and m < maxiter:
            r = r - (r * r * r - ak) / (3.0 * r * r)
            m += 1
            tape[m] = r
        # reverse sweep, seed d(sum)/dr_m = 1
        rb = 1.0
        ab = 0.0
        for j in range(m - 1, -1, -1):
            rj = tape[j]
            d = 3.0 * rj * rj                      # denominator 3 r^2
            q = (rj * rj * rj - ak) / d            # Newton correction
            # r' = r - q;  dq/dr = 1 - 2 q / r;  dq/da = -1/d
            ab += rb / d
            rb = rb * (2.0 * q / rj)               # 1 - dq/dr
        g[k] = ab + rb                             # r_0 = a
    return g


@_jit
def newton_grad_implicit(a):
    """Implicit-function gradient at the computed root: dr/da = 1 / (3 r^2)."""
    tol = NEWTON_TOL
    maxiter = NEWTON_MAXITER
    n = a.shape[0]
    g = np.empty(n)
    for k in range(n):
        ak = a[k]
        r = ak
        it = 0
        while abs(r * r * r - ak) >= tol and it < maxiter:
            r = r - (r * r * r - ak) / (3.0 * r * r)
            it += 1
        g[k] = 1.0 / (3.0 * r * r)
    return g


def newton_forward_numpy(a):
    """Vectorised Newton: every element is updated until its own stopping test holds, so
    each element sees exactly the iterates of the scalar loop."""
    a = np.asarray(a, dtype=np.float64)
    r = a.copy()
    its = np.zeros(a.shape, dtype=np.int64)
    while True:
        active = (np.abs(r * r * r - a) >= NEWTON_TOL) & (its < NEWTON_MAXITER)
        if not active.any():
            break
        ra = r[active]
        r[active] = ra - (ra * ra * ra - a[active]) / (3.0 * ra * ra)
        its[active] += 1
    return float(np.sum(r))


# --------------------------------------------------------------------------------------
# (d) MLP loss: h = tanh(X[i] @ W1 + b1), pred = h @ w2 + b2, loss = mean((pred - y)^2)
# --------------------------------------------------------------------------------------

@_jit
def mlp_forward(X, y, W1, b1, w2, b2):
    n, d = X.shape
    hdim = W1.shape[1]
    z = np.empty(hdim)
    loss = 0.0
    for i in range(n):
        for j in range(hdim):
            z[j] = b1[j]
        for k in range(d):
            xik = X[i, k]
            for j in range(hdim):
                z[j] += xik * W1[k, j]
        pred = b2
        for j in range(hdim):
            pred += np.tanh(z[j]) * w2[j]
        e = pred - y[i]
        loss += e * e
    return loss / n


@_jit
def mlp_grad(X, y, W1, b1, w2, b2):
    """Reverse-mode gradient w.r.t. (W1, b1, w2, b2), one sample at a time.

    Samples are independent, so the forward and reverse sweeps of each sample are fused:
    only that sample's hidden activations are kept (no tape over samples).
    """
    n, d = X.shape
    hdim = W1.shape[1]
    dW1 = np.zeros((d, hdim))
    db1 = np.zeros(hdim)
    dw2 = np.zeros(hdim)
    db2 = 0.0
    h = np.empty(hdim)
    inv_n = 1.0 / n
    for i in range(n):
        # forward for sample i
        for j in range(hdim):
            h[j] = b1[j]
        for k in range(d):
            xik = X[i, k]
            for j in range(hdim):
                h[j] += xik * W1[k, j]
        pred = b2
        for j in range(hdim):
            h[j] = np.tanh(h[j])
            pred += h[j] * w2[j]
        # reverse for sample i
        pb = 2.0 * (pred - y[i]) * inv_n
        db2 += pb
        for j in range(hdim):
            dw2[j] += pb * h[j]
            zb = pb * w2[j] * (1.0 - h[j] * h[j])
            db1[j] += zb
            h[j] = zb                                 # reuse buffer for dz
        for k in range(d):
            xik = X[i, k]
            for j in range(hdim):
                dW1[k, j] += xik * h[j]
    return dW1, db1, dw2, db2


def mlp_forward_numpy(X, y, W1, b1, w2, b2):
    H = np.tanh(X @ W1 + b1)
    pred = H @ w2 + b2
    return float(np.mean((pred - y) ** 2))
