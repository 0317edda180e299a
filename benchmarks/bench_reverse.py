"""adc's reverse mode against hand-written Numba gradients and against adc's own forward pass.

    python benchmarks/bench_reverse.py            # full sizes, prints the table
    python benchmarks/bench_reverse.py --quick    # tiny sizes: a correctness smoke run
    python benchmarks/bench_reverse.py --markdown # the table as Markdown (for benchmarks/README.md)

Every workload is run on the same inputs in one process: adc's forward pass (primal), adc's
gradient, and the hand-written Numba gradient in ``benchmarks/baselines.py``. The gradients are
checked against each other before anything is timed. Times are the best of several repeats of
a call through the public API (argument checks included); ratios are within this run.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import adc  # noqa: E402
from benchmarks import baselines as hand  # noqa: E402
from benchmarks.workloads import make_inputs  # noqa: E402

# workload name, .ad file, function, wrt, hand-written forward, hand-written gradient
CASES = [
    ("lotka_volterra", "lotka_volterra.ad", "lv", ("x0", "y0", "p"), hand.lv_forward, hand.lv_grad),
    ("rosenbrock", "rosenbrock.ad", "rosenbrock", ("x",), hand.rosenbrock_forward, hand.rosenbrock_grad),
    ("newton", "newton.ad", "newton", ("a",), hand.newton_forward, hand.newton_grad),
    ("mlp", "mlp.ad", "mlp", ("W1", "b1", "w2", "b2"), hand.mlp_forward, hand.mlp_grad),
]
TARGET_GRAD_PRIMAL = 3.0
TARGET_ADC_HAND = 1.3


def best_time(fn, args, repeats: int, budget: float = 1.0) -> float:
    """Best wall time of ``fn(*args)`` over ``repeats`` calls (fewer if the budget runs out)."""
    fn(*args)
    best, spent = float("inf"), 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args)
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
        if spent > budget:
            break
    return best


def as_tuple(g):
    return g if isinstance(g, tuple) else (g,)


def run(size: str, repeats: int) -> list[dict]:
    rows = []
    for name, path, func, wrt, hand_f, hand_g in CASES:
        module = adc.load(HERE / "programs" / path)
        f = module.functions[func]
        grad = adc.grad(f, wrt=wrt)
        args = list(make_inputs(name, size).values())
        ours, theirs = as_tuple(grad(*args)), as_tuple(hand_g(*args))
        for w, a, b in zip(wrt, ours, theirs):
            if not np.allclose(a, b, rtol=1e-8, atol=1e-10):
                raise SystemExit(f"{name}: adc's gradient w.r.t. {w} differs from the hand-written one")
        if not np.isclose(f(*args), hand_f(*args), rtol=1e-10):
            raise SystemExit(f"{name}: adc's forward value differs from the hand-written one")
        primal = best_time(f, args, repeats)
        g = best_time(grad, args, repeats)
        h = best_time(hand_g, args, repeats)
        rows.append({"workload": name, "primal_s": primal, "grad_s": g, "hand_grad_s": h,
                     "grad_over_primal": g / primal, "adc_over_hand": g / h})
    return rows


def table(rows: list[dict], markdown: bool) -> str:
    head = ["workload", "primal", "grad", "hand grad", "grad/primal", "adc/hand"]
    body = [[r["workload"], f"{r['primal_s'] * 1e6:.1f} us", f"{r['grad_s'] * 1e6:.1f} us",
             f"{r['hand_grad_s'] * 1e6:.1f} us", f"{r['grad_over_primal']:.2f}", f"{r['adc_over_hand']:.2f}"]
            for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    return "\n".join("  ".join(x.rjust(w) for x, w in zip(row, widths)) for row in [head, *body])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, few repeats (a smoke test)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ns = ap.parse_args(argv)
    rows = run("quick" if ns.quick else "full", 3 if ns.quick else 50)
    print(table(rows, ns.markdown))
    if not ns.quick:
        missed = [r["workload"] for r in rows
                  if r["grad_over_primal"] > TARGET_GRAD_PRIMAL or r["adc_over_hand"] > TARGET_ADC_HAND]
        print(f"\ntargets: grad/primal <= {TARGET_GRAD_PRIMAL}, adc/hand <= {TARGET_ADC_HAND}; "
              f"missed on: {', '.join(missed) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
