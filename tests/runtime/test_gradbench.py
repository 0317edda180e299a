"""``python -m adc.gradbench``: adc as a GradBench tool, driven through the protocol.

One scripted exchange, in lockstep like a GradBench eval (each message waits for its
response): start, define every eval, evaluate every function of every eval on a small input
generated here, then a malformed line, an unknown module, an unknown function, a bad input, and
evaluations after those to show the tool keeps serving. Every output is checked against an
independent NumPy implementation of the eval written from its definition in this file
(analytic gradients where they are simple, central differences otherwise).

The tool compiles with Numba on the first define; the compiled code is cached under
``$ADC_CACHE_DIR`` (tests/conftest.py's default, inherited by the subprocess), so later runs
take seconds.
"""
from __future__ import annotations

import json
import math
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

TIMEOUT = 900  # seconds for one response; a cold Numba compile of gmm takes about a minute


# ---- independent NumPy implementations ---------------------------------------------------------

def np_lse(x):
    x = np.asarray(x)
    return float(np.log(np.sum(np.exp(x - x.max()))) + x.max())


def np_lse_grad(x):
    e = np.exp(np.asarray(x) - np.max(x))
    return e / e.sum()


def np_llsq(x, n):
    x = np.asarray(x)
    t = -1 + np.arange(n) * 2 / (n - 1)
    powers = t[:, None] ** np.arange(len(x))[None, :]
    r = np.sign(t) - powers @ x
    return 0.5 * float(r @ r)


def np_llsq_grad(x, n):
    x = np.asarray(x)
    t = -1 + np.arange(n) * 2 / (n - 1)
    powers = t[:, None] ** np.arange(len(x))[None, :]
    return -powers.T @ (np.sign(t) - powers @ x)


def np_ode(x, s):
    x = np.asarray(x, dtype=float)

    def f(y):
        return np.concatenate([x[:1], x[1:] * y[:-1]])

    h = 2.0 / s
    y = np.zeros_like(x)
    for _ in range(s):
        k1 = f(y)
        k2 = f(y + h / 2 * k1)
        k3 = f(y + h / 2 * k2)
        k4 = f(y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def np_det_grad(a):
    return np.linalg.det(a) * np.linalg.inv(a).T


def _lower(qk, lk, d):
    """Q(q_k, l_k): exp(q_k) on the diagonal, l_k filling the strictly lower part column by column."""
    Q = np.diag(np.exp(qk))
    rows, cols = np.tril_indices(d, -1)
    order = np.lexsort((rows, cols))          # column-major order of the strictly lower part
    Q[rows[order], cols[order]] = lk
    return Q


def np_gmm(inp, alpha=None, mu=None, q=None, l=None):
    """The log posterior straight from the definition: Gaussian densities with precision
    matrices Q^T Q, mixture weights softmax(alpha), a Wishart prior on each precision matrix."""
    d, k, m, gamma = inp["d"], inp["k"], inp["m"], inp["gamma"]
    x = np.array(inp["x"])
    alpha = np.array(inp["alpha"]) if alpha is None else alpha
    mu = np.array(inp["mu"]) if mu is None else mu
    q = np.array(inp["q"]) if q is None else q
    l = np.array(inp["l"]).reshape(k, -1) if l is None else l
    log_phi = alpha - np.log(np.sum(np.exp(alpha)))
    nw = d + m + 1
    log_gamma_d = 0.25 * d * (d - 1) * math.log(math.pi) + sum(math.lgamma(nw / 2 + (1 - j) / 2) for j in range(1, d + 1))
    terms = np.zeros((x.shape[0], k))
    prior = 0.0
    for j in range(k):
        Q = _lower(q[j], l[j], d)
        P = Q.T @ Q
        logdet_p = np.linalg.slogdet(P)[1]
        diff = x - mu[j]
        maha = np.einsum("ni,ij,nj->n", diff, P, diff)
        terms[:, j] = log_phi[j] - 0.5 * maha - 0.5 * (d * math.log(2 * math.pi) - logdet_p)
        # Wishart log density of P with V = I / gamma^2 and nw degrees of freedom
        prior += ((nw - d - 1) / 2 * logdet_p - gamma ** 2 * np.trace(P) / 2 - nw * d / 2 * math.log(2)
                  + nw * d * math.log(gamma) - log_gamma_d)
    top = terms.max(axis=1)
    likelihood = np.sum(top + np.log(np.sum(np.exp(terms - top[:, None]), axis=1)))
    return float(likelihood + prior)


def np_lstm(main, extra, state, seq):
    """ADBench's LSTM objective: diagonal weights, gates (forget, ingate, outgate, change)
    reading (input, hidden, input, hidden), normaliser log(2 + sum(exp(y)))."""
    main, extra, seq = np.asarray(main), np.asarray(extra), np.asarray(seq)
    s = np.array(state, dtype=float)
    b = extra.shape[1]

    def sig(z):
        return 1 / (1 + np.exp(-z))

    total, count = 0.0, 0
    for t in range(len(seq) - 1):
        x = seq[t] * extra[0]
        for i in range(main.shape[0] // 2):
            h, c = s[2 * i], s[2 * i + 1]
            g = np.concatenate([x, h, x, h]) * main[2 * i] + main[2 * i + 1]
            c = c * sig(g[:b]) + sig(g[b:2 * b]) * np.tanh(g[3 * b:])
            h = sig(g[2 * b:3 * b]) * np.tanh(c)
            s[2 * i], s[2 * i + 1] = h, c
            x = h
        y = x * extra[1] + extra[2]
        total += np.sum(seq[t + 1] * (y - np.log(2 + np.sum(np.exp(y)))))
        count += b
    return -total / count


def np_kmeans(points, centroids):
    p, c = np.asarray(points), np.asarray(centroids)
    return float(np.sum(np.min(np.sum((p[:, None, :] - c[None, :, :]) ** 2, axis=2), axis=1)))


def central_diff(f, x, h=1e-6):
    x = np.array(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def close(actual, expected, tol) -> bool:
    """GradBench's comparison: |a - e| / max(1, |a| + |e|) <= tol, elementwise."""
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    return a.shape == e.shape and bool(np.all(np.abs(a - e) / np.maximum(1, np.abs(a) + np.abs(e)) <= tol))


# ---- inputs, in GradBench's formats --------------------------------------------------------------

def make_inputs(rng):
    d, k, n = 3, 2, 6
    gmm = {"d": d, "k": k, "n": n, "x": rng.normal(size=(n, d)).tolist(), "m": 1, "gamma": 1.5,
           "alpha": rng.normal(size=k).tolist(), "mu": rng.uniform(size=(k, d)).tolist(),
           "q": rng.normal(size=(k, d)).tolist(), "l": rng.normal(size=(k, d * (d - 1) // 2)).tolist()}
    layers, b, c = 2, 3, 5
    lstm = {"main_params": rng.random((2 * layers, 4 * b)).tolist(), "extra_params": rng.random((3, b)).tolist(),
            "state": rng.random((2 * layers, b)).tolist(),
            "sequence": rng.integers(0, 2, size=(c, b)).astype(float).tolist()}
    points = rng.random((12, 2))
    return {
        "lse": {"x": rng.random(7).tolist()},
        "llsq": {"x": rng.random(4).tolist(), "n": 9},
        "ode": {"x": rng.random(5).tolist(), "s": 3},
        "det": {"A": rng.random(16).tolist(), "ell": 4},
        "gmm": gmm,
        "lstm": lstm,
        "kmeans": {"points": points.tolist(), "centroids": points[-3:].tolist()},
    }


def expected(module: str, function: str, inp):
    """The expected output (NumPy) and the tolerance it is compared with."""
    if module == "lse":
        return (np_lse(inp["x"]), 1e-12) if function == "primal" else (np_lse_grad(inp["x"]), 1e-12)
    if module == "llsq":
        if function == "primal":
            return np_llsq(inp["x"], inp["n"]), 1e-12
        return np_llsq_grad(inp["x"], inp["n"]), 1e-12
    if module == "ode":
        if function == "primal":
            return np_ode(inp["x"], inp["s"]), 1e-12
        return central_diff(lambda x: np_ode(x, inp["s"])[-1], inp["x"]), 1e-8
    if module == "det":
        a = np.array(inp["A"]).reshape(inp["ell"], inp["ell"])
        return (np.linalg.det(a), 1e-12) if function == "primal" else (np_det_grad(a).ravel(), 1e-12)
    if module == "gmm":
        if function == "objective":
            return np_gmm(inp), 1e-10
        k = inp["k"]
        parts = {name: np.array(inp[name], dtype=float).reshape(k, -1) if name != "alpha"
                 else np.array(inp[name], dtype=float) for name in ("alpha", "mu", "q", "l")}
        grads = {}
        for name, value in parts.items():
            grads[name] = central_diff(lambda v, name=name: np_gmm(inp, **{**parts, name: v}), value)
        return grads, 1e-7
    if module == "lstm":
        args = [np.array(inp[f]) for f in ("main_params", "extra_params", "state", "sequence")]
        if function == "objective":
            return np_lstm(*args), 1e-12
        g_main = central_diff(lambda v: np_lstm(v, *args[1:]), args[0])
        g_extra = central_diff(lambda v: np_lstm(args[0], v, *args[2:]), args[1])
        return np.concatenate([g_main.ravel(), g_extra.ravel()]), 1e-8
    if module == "kmeans":
        return np_kmeans(inp["points"], inp["centroids"]), 1e-12
    raise AssertionError(module)


FUNCTIONS = {"lse": ("primal", "gradient"), "llsq": ("primal", "gradient"), "ode": ("primal", "gradient"),
             "det": ("primal", "gradient"), "gmm": ("objective", "jacobian"),
             "lstm": ("objective", "jacobian"), "kmeans": ("cost",)}


# ---- the tool process --------------------------------------------------------------------------

class ToolProcess:
    """``python -m adc.gradbench`` in a subprocess, spoken to in lockstep."""

    def __init__(self, cwd: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "adc.gradbench"], cwd=cwd, env=dict(os.environ),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send_line(self, line: str) -> dict:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        try:
            reply = self.lines.get(timeout=TIMEOUT)
        except queue.Empty:
            pytest.fail(f"no response within {TIMEOUT} s to {line[:200]}")
        assert reply is not None, f"the tool exited; stderr:\n{self.proc.stderr.read()}"
        return json.loads(reply)  # every response line must be JSON

    def send(self, kind: str, **fields) -> tuple[int, dict]:
        mid = self.next_id
        self.next_id += 1
        response = self.send_line(json.dumps({"id": mid, "kind": kind, **fields}))
        assert response["id"] == mid, response
        return mid, response

    def close(self) -> int:
        self.proc.stdin.close()
        code = self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


def check_output(module: str, function: str, inp, response: dict) -> None:
    assert response["success"] is True, response.get("error")
    want, tol = expected(module, function, inp)
    got = response["output"]
    if isinstance(want, dict):
        assert set(got) == set(want), got.keys()
        for name in want:
            assert close(got[name], want[name], tol), (module, function, name, got[name], want[name])
    else:
        if np.ndim(want) == 0:
            assert isinstance(got, float), got
        else:
            assert isinstance(got, list) and all(isinstance(v, float) for v in np.ravel(got)), got
        assert close(got, want, tol), (module, function, got, want)


def test_gradbench_protocol_exchange(tmp_path):
    rng = np.random.default_rng(20240611)
    inputs = make_inputs(rng)
    tool = ToolProcess(cwd=tmp_path)  # another directory: the installed package is what runs
    try:
        _, r = tool.send("start", eval="all")
        assert r == {"id": 0, "tool": "adc", "config": r["config"]}

        for module in FUNCTIONS:
            _, r = tool.send("define", module=module)
            assert r["success"] is True, r.get("error")
            assert [t["name"] for t in r["timings"]] == ["compile"]

        for module, functions in FUNCTIONS.items():
            for function in functions:
                inp = inputs[module] | {"min_runs": 3, "min_seconds": 0}
                mid, r = tool.send("evaluate", module=module, function=function, input=inp,
                                   description="small")
                check_output(module, function, inputs[module], r)
                assert len(r["timings"]) >= 3
                assert all(t["name"] == "evaluate" and isinstance(t["nanoseconds"], int) and t["nanoseconds"] > 0
                           for t in r["timings"])
                # define compiled everything: no run of these tiny inputs includes a compile
                assert max(t["nanoseconds"] for t in r["timings"]) < 2e9
                _, a = tool.send("analysis", of=mid, valid=True)
                assert a == {"id": a["id"]}

        # min_seconds: runs repeat until the timed total reaches it
        _, r = tool.send("evaluate", module="lse", function="primal",
                         input=inputs["lse"] | {"min_runs": 1, "min_seconds": 0.05})
        assert r["success"] is True and sum(t["nanoseconds"] for t in r["timings"]) >= 0.05e9
        # no min_runs / min_seconds: one run
        _, r = tool.send("evaluate", module="det", function="primal", input=inputs["det"])
        assert r["success"] is True and len(r["timings"]) == 1

        # kmeans' dir needs a second derivative: answered, not served
        _, r = tool.send("evaluate", module="kmeans", function="dir", input=inputs["kmeans"])
        assert r["success"] is False and "second derivative" in r["error"]

        # a malformed line, then a JSON value that is not a message
        r = tool.send_line("this is not JSON {")
        assert r["id"] is None and r["success"] is False and "not JSON" in r["error"]
        r = tool.send_line("[1, 2, 3]")
        assert r["id"] is None and r["success"] is False
        _, r = tool.send("evaluate", module="lse")  # no function, no input
        assert r["success"] is False and "function" in r["error"]

        # an unknown module, for define and for evaluate
        _, r = tool.send("define", module="hello_world")
        assert r["success"] is False and "unknown module 'hello_world'" in r["error"]
        _, r = tool.send("evaluate", module="nosuch", function="primal", input={})
        assert r["success"] is False and "unknown module" in r["error"]

        # an unknown function of a known module
        _, r = tool.send("evaluate", module="lse", function="hessian", input=inputs["lse"])
        assert r["success"] is False and "no function 'hessian'" in r["error"]

        # inputs that do not fit the eval
        _, r = tool.send("evaluate", module="lse", function="primal", input={"y": [1.0]})
        assert r["success"] is False and "'x'" in r["error"]
        _, r = tool.send("evaluate", module="det", function="gradient", input={"A": [1.0, 2.0, 3.0], "ell": 2})
        assert r["success"] is False and "ell * ell" in r["error"]
        _, r = tool.send("evaluate", module="gmm", function="objective", input=inputs["gmm"] | {"k": 5})
        assert r["success"] is False and "shape" in r["error"]

        # an unknown kind is answered with its id alone
        _, r = tool.send("something_new")
        assert r == {"id": r["id"]}

        # still serving after all that
        _, r = tool.send("evaluate", module="gmm", function="jacobian", input=inputs["gmm"])
        check_output("gmm", "jacobian", inputs["gmm"], r)
    finally:
        code = tool.close()
    assert code == 0
