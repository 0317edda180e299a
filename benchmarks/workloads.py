"""Inputs for the benchmark workloads.

``make_inputs(name, size, seed)`` returns a dict whose keys are the parameter names of the
workload's functions in ``benchmarks.baselines`` (in parameter order), so both
``f(**inputs)`` and ``f(*inputs.values())`` work.
"""

import numpy as np

WORKLOADS = ("lotka_volterra", "rosenbrock", "newton", "mlp")
SIZES = ("full", "quick")

# problem sizes: (full, quick)
_LV_STEPS = {"full": 2000, "quick": 200}
_ROSENBROCK_N = {"full": 100_000, "quick": 1_000}
_NEWTON_N = {"full": 1_000, "quick": 100}
_MLP_SAMPLES = {"full": 1_000, "quick": 100}
MLP_IN = 8
MLP_HIDDEN = 16

LV_P_NOMINAL = (1.1, 0.4, 0.1, 0.4)     # alpha, beta, delta, gamma


def make_inputs(name, size="full", seed=0):
    """Return a dict of numpy inputs (float64 arrays, Python scalars) for workload `name`.

    name: one of WORKLOADS; size: "full" (benchmark sizes) or "quick" (smoke-test sizes);
    seed: seeds numpy's default_rng, so the inputs are reproducible.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    rng = np.random.default_rng(seed)

    if name == "lotka_volterra":
        # nominal parameters perturbed by at most +-5%; with h = 0.01 and T = steps*h the
        # Euler orbit stays bounded around the equilibrium (gamma/delta, alpha/beta) = (4, 2.75)
        p = np.array(LV_P_NOMINAL) * (1.0 + 0.05 * rng.uniform(-1.0, 1.0, 4))
        return {"x0": 10.0, "y0": 5.0, "p": p, "h": 0.01, "steps": _LV_STEPS[size]}

    if name == "rosenbrock":
        n = _ROSENBROCK_N[size]
        return {"x": rng.uniform(-2.0, 2.0, n)}

    if name == "newton":
        n = _NEWTON_N[size]
        return {"a": rng.uniform(0.5, 2.0, n)}

    if name == "mlp":
        n = _MLP_SAMPLES[size]
        X = rng.standard_normal((n, MLP_IN))
        W1 = 0.3 * rng.standard_normal((MLP_IN, MLP_HIDDEN))
        b1 = 0.3 * rng.standard_normal(MLP_HIDDEN)
        w2 = 0.3 * rng.standard_normal(MLP_HIDDEN)
        b2 = float(0.3 * rng.standard_normal())
        # targets: a fixed smooth function of X plus noise, so the loss is O(1)
        y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)
        return {"X": X, "y": y, "W1": W1, "b1": b1, "w2": w2, "b2": b2}

    raise ValueError(f"unknown workload {name!r}; expected one of {WORKLOADS}")
