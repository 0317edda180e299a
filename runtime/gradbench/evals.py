"""The GradBench evals adc implements: which .ad program and function serves each GradBench
function, how a JSON input becomes positional arguments, and how results become JSON output.

Each eval's program is ``evals/<name>.ad`` (shipped as package data). A GradBench function is
either the forward pass of a .ad function ("forward") or its gradient w.r.t. ``wrt`` ("grad",
compiled by ``adc.grad``). Input conversion runs outside the timed region; so does output
conversion. Functions an eval defines but adc cannot serve are listed in ``unsupported`` with
the reason, which the server sends back as the error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

EVALS_DIR = Path(__file__).resolve().parent / "evals"


class InputError(ValueError):
    """An evaluate input that does not have the eval's shape (missing field, wrong size, ...)."""


@dataclass(frozen=True)
class Function:
    """One GradBench function: ``mode`` is "forward" (run ``entry``) or "grad"
    (``adc.grad(entry, wrt)``)."""

    entry: str
    mode: str
    convert_input: Callable[[dict], tuple]
    convert_output: Callable[[Any], Any]
    wrt: str | tuple[str, ...] | None = None   # a name: one gradient; a tuple: a tuple of them


@dataclass(frozen=True)
class Eval:
    name: str
    functions: dict[str, Function]
    unsupported: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return EVALS_DIR / f"{self.name}.ad"


# ---- input helpers ---------------------------------------------------------------------------

def _field(inp: dict, name: str):
    if not isinstance(inp, dict):
        raise InputError(f"input must be a JSON object, got {type(inp).__name__}")
    if name not in inp:
        raise InputError(f"input has no field '{name}'")
    return inp[name]


def _floats(inp: dict, name: str, rank: int) -> np.ndarray:
    value = _field(inp, name)
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"input field '{name}' must be a {rank}-D array of numbers ({exc})") from None
    if arr.ndim != rank:
        raise InputError(f"input field '{name}' must be a {rank}-D array of numbers, got shape {arr.shape}")
    return arr


def _int(inp: dict, name: str, minimum: int = 0) -> int:
    value = _field(inp, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise InputError(f"input field '{name}' must be an integer, got {value!r}")
    if int(value) < minimum:
        raise InputError(f"input field '{name}' must be at least {minimum}, got {value!r}")
    return int(value)


def _float(inp: dict, name: str) -> float:
    value = _field(inp, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"input field '{name}' must be a number, got {value!r}")
    return float(value)


def _scalar(value) -> float:
    return float(value)


def _vector(value) -> list:
    return np.asarray(value, dtype=np.float64).tolist()


def _flat(*values) -> list:
    return np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in values]).tolist()


# ---- lse ------------------------------------------------------------------------------------

def _lse_input(inp: dict) -> tuple:
    x = _floats(inp, "x", 1)
    if x.size == 0:
        raise InputError("input field 'x' must not be empty")
    return (x,)


# ---- llsq -----------------------------------------------------------------------------------

def _llsq_input(inp: dict) -> tuple:
    return (_floats(inp, "x", 1), _int(inp, "n", 2))


# ---- ode ------------------------------------------------------------------------------------

def _ode_input(inp: dict) -> tuple:
    x = _floats(inp, "x", 1)
    if x.size == 0:
        raise InputError("input field 'x' must not be empty")
    return (x, _int(inp, "s", 1))


# ---- det ------------------------------------------------------------------------------------

def _det_input(inp: dict) -> tuple:
    a = _floats(inp, "A", 1)
    ell = _int(inp, "ell", 1)
    if a.size != ell * ell:
        raise InputError(f"input field 'A' must have ell * ell = {ell * ell} entries, got {a.size}")
    return (a.reshape(ell, ell),)


# ---- gmm ------------------------------------------------------------------------------------

def multigammaln(a: float, p: int) -> float:
    """log Gamma_p(a), the multivariate log-gamma function (Python's math.lgamma; .ad has none)."""
    return 0.25 * p * (p - 1) * math.log(math.pi) + sum(math.lgamma(a + 0.5 * (1 - j)) for j in range(1, p + 1))


def _gmm_input(inp: dict) -> tuple:
    d, k, n = _int(inp, "d", 1), _int(inp, "k", 1), _int(inp, "n", 1)
    m = _int(inp, "m", 0)
    gamma = _float(inp, "gamma")
    alpha = _floats(inp, "alpha", 1)
    mu, q, x = _floats(inp, "mu", 2), _floats(inp, "q", 2), _floats(inp, "x", 2)
    lvalue = _field(inp, "l")
    # with d = 1 every row of l is empty; numpy then cannot see the second axis
    l = np.zeros((k, 0)) if d == 1 and np.size(lvalue) == 0 else _floats(inp, "l", 2)
    expected = {"alpha": (alpha, (k,)), "mu": (mu, (k, d)), "q": (q, (k, d)),
                "l": (l, (k, d * (d - 1) // 2)), "x": (x, (n, d))}
    for name, (arr, shape) in expected.items():
        if arr.shape != shape:
            raise InputError(f"input field '{name}' must have shape {shape} (d = {d}, k = {k}, n = {n}), "
                             f"got {arr.shape}")
    if gamma <= 0:
        raise InputError(f"input field 'gamma' must be positive, got {gamma}")
    log_gamma_d = multigammaln(0.5 * (d + m + 1), d)
    return (alpha, mu, q, l, x, m, gamma, log_gamma_d)


def _gmm_jacobian_output(grads) -> dict:
    alpha, mu, q, l = grads
    return {"alpha": _vector(alpha), "mu": _vector(mu), "q": _vector(q), "l": _vector(l)}


# ---- lstm -----------------------------------------------------------------------------------

def _lstm_input(inp: dict) -> tuple:
    main = _floats(inp, "main_params", 2)
    extra = _floats(inp, "extra_params", 2)
    state = _floats(inp, "state", 2)
    sequence = _floats(inp, "sequence", 2)
    b = extra.shape[1]
    layers2 = main.shape[0]
    if layers2 == 0 or layers2 % 2:
        raise InputError(f"input field 'main_params' must have 2 rows per layer, got {layers2} rows")
    checks = {"main_params": (main, (layers2, 4 * b)), "extra_params": (extra, (3, b)),
              "state": (state, (layers2, b))}
    for name, (arr, shape) in checks.items():
        if arr.shape != shape:
            raise InputError(f"input field '{name}' must have shape {shape}, got {arr.shape}")
    if sequence.ndim != 2 or sequence.shape[1] != b or sequence.shape[0] < 2:
        raise InputError(f"input field 'sequence' must have shape (c, {b}) with c >= 2, got {sequence.shape}")
    return (main, extra, state, sequence)


# ---- kmeans ---------------------------------------------------------------------------------

def _kmeans_input(inp: dict) -> tuple:
    points = _floats(inp, "points", 2)
    centroids = _floats(inp, "centroids", 2)
    if centroids.shape[0] == 0 or points.shape[1] != centroids.shape[1]:
        raise InputError(f"'points' {points.shape} and 'centroids' {centroids.shape} must be non-empty "
                         "and have the same number of columns")
    return (points, centroids)


EVALS: dict[str, Eval] = {
    "lse": Eval("lse", {
        "primal": Function("lse", "forward", _lse_input, _scalar),
        "gradient": Function("lse", "grad", _lse_input, _vector, "x"),
    }),
    "llsq": Eval("llsq", {
        "primal": Function("llsq", "forward", _llsq_input, _scalar),
        "gradient": Function("llsq", "grad", _llsq_input, _vector, "x"),
    }),
    "ode": Eval("ode", {
        "primal": Function("primal", "forward", _ode_input, _vector),
        "gradient": Function("last", "grad", _ode_input, _vector, "x"),
    }),
    "det": Eval("det", {
        "primal": Function("det", "forward", _det_input, _scalar),
        "gradient": Function("det", "grad", _det_input, _flat, "A"),
    }),
    "gmm": Eval("gmm", {
        "objective": Function("log_posterior", "forward", _gmm_input, _scalar),
        "jacobian": Function("log_posterior", "grad", _gmm_input, _gmm_jacobian_output,
                             ("alpha", "mu", "q", "l")),
    }),
    "lstm": Eval("lstm", {
        "objective": Function("objective", "forward", _lstm_input, _scalar),
        "jacobian": Function("objective", "grad", _lstm_input, lambda g: _flat(*g),
                             ("main_params", "extra_params")),
    }),
    "kmeans": Eval("kmeans", {
        "cost": Function("cost", "forward", _kmeans_input, _scalar),
    }, unsupported={
        "dir": "kmeans 'dir' is J / diag(H), with H the Hessian of the cost: a second derivative. "
               "adc computes first-order reverse-mode derivatives only (no forward mode, no "
               "derivative of a generated adjoint), so it cannot serve 'dir' yet.",
    }),
}
