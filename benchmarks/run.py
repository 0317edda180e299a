"""adc against its peers: one command, every eval workload, every installed peer.

    python benchmarks/run.py                     # full sizes, compile times, table + JSON + PNG
    python benchmarks/run.py --quick             # tiny sizes, 2 repeats: a correctness run
    python benchmarks/run.py --only lse,det --peers numpy,jax --out /tmp/b

Workloads: the GradBench evals adc serves (lse, llsq, ode, det, gmm, lstm, kmeans; inputs made
here the way GradBench's eval drivers make them, converted to adc's arguments by
``adc.runtime.gradbench.evals``), seed example 8's data-dependent while program (vector form,
VJP with a seed of ones) and Newton's method for cube roots (``benchmarks/programs/newton.ad``).
Implementations: adc (through its public API: argument checks included), and each peer that
is installed (``benchmarks/peers/``): PyTorch eager, JAX jit (CPU, ``block_until_ready``),
hand-written NumPy, hand-written Numba.

Every implementation's primal and derivative are checked against adc's before timing (a
mismatch or an unexpected error is a failure: the exit status is 1). Times are the best of up
to ``--repeats`` calls within ``--budget`` seconds, after one untimed warm-up call (which is when
JAX traces and compiles). Compile times per adc program: cold (a fresh ``ADC_CACHE_DIR``, in a
new process, so nothing of Numba's is warm), cached (a second new process, same directory: the
whole first load, Numba's start-up in the process included) and cached with Numba started
(a third, which compiles a one-line function before the timing: what the program itself costs).

Output: the table on stdout, ``run.json`` (everything, machine info, JAX's error texts) and
``run.png`` (derivative times, log scale; when matplotlib is installed) in ``--out``
(default ``benchmarks/results``; with ``--quick``, a temporary directory).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


def _threads_from_argv(argv: list[str]) -> int:
    for k, a in enumerate(argv):
        if a == "--threads" and k + 1 < len(argv):
            return int(argv[k + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 1


if __name__ == "__main__":
    # BLAS reads its thread count when numpy loads it, so this happens before `import numpy`
    # (in-process callers of main() get whatever their numpy already has)
    _n = _threads_from_argv(sys.argv[1:])
    if _n > 0:
        for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(_var, str(_n))

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import adc  # noqa: E402
from adc.runtime.gradbench.evals import EVALS  # noqa: E402
from benchmarks import peers as peer_registry  # noqa: E402

RTOL = 1e-6          # elementwise relative tolerance of every check against adc ...
ATOL_SCALE = 1e-9    # ... plus this times the largest magnitude of adc's result (cancellation)


# ---- workloads --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Workload:
    name: str
    program: Path
    primal: str                  # function of `program` timed as the primal
    deriv: str                   # function whose derivative is timed
    wrt: str | tuple[str, ...]
    mode: str                    # "grad" or "vjp" (seed of ones, for an array result)
    sizes: dict                  # "full" / "quick" -> parameters of make_input
    make_input: Callable[..., tuple]   # (**size) -> adc's positional arguments
    describe: str                # what the derivative is


def _gradbench_args(eval_name: str, function: str, inp: dict) -> tuple:
    """A GradBench input object -> adc's positional arguments, by the eval's own conversion."""
    return EVALS[eval_name].functions[function].convert_input(inp)


def _lse_input(n):
    rng = np.random.RandomState(31337)                     # GradBench: np.random.seed(31337)
    return _gradbench_args("lse", "primal", {"x": rng.rand(n)})


def _llsq_input(n, m):
    rng = np.random.RandomState(31337)
    return _gradbench_args("llsq", "primal", {"x": rng.rand(m), "n": n})


def _ode_input(n, s):
    rng = np.random.RandomState(31337)
    return _gradbench_args("ode", "primal", {"x": rng.rand(n), "s": s})


def _det_input(ell):
    rng = np.random.RandomState(31337)
    return _gradbench_args("det", "primal", {"A": rng.rand(ell * ell), "ell": ell})


def _gmm_input(d, k, n, m=0, gamma=1.0):
    rng = np.random.default_rng(31337)                     # GradBench's gmm generate()
    inp = {"d": d, "k": k, "n": n, "m": m, "gamma": gamma,
           "x": rng.normal(size=(n, d)), "mu": rng.uniform(size=(k, d)), "q": rng.normal(size=(k, d)),
           "l": rng.normal(size=(k, d * (d - 1) // 2)), "alpha": rng.normal(size=k)}
    return _gradbench_args("gmm", "objective", inp)


def _lstm_input(l, c, b=14):
    """ADBench's LSTM instances (lstm_l{l}_c{c}.txt): 14 bits per character; parameters and
    state uniform in [-1, 1], the text as random one-hot rows (ADBench reads a text file)."""
    rng = np.random.default_rng(31337)
    seq = np.zeros((c, b))
    seq[np.arange(c), rng.integers(0, b, c)] = 1.0
    inp = {"main_params": rng.uniform(-1, 1, (2 * l, 4 * b)), "extra_params": rng.uniform(-1, 1, (3, b)),
           "state": rng.uniform(-1, 1, (2 * l, b)), "sequence": seq}
    return _gradbench_args("lstm", "objective", inp)


def _kmeans_input(k, n, d):
    rng = np.random.default_rng(31337)
    points = rng.random((n, d))
    return _gradbench_args("kmeans", "cost", {"points": points, "centroids": points[-k:]})  # as GradBench


def _seed8_input(n):
    rng = np.random.default_rng(8)
    return (1e-3 * rng.uniform(-1.0, 1.0, n),)


def _newton_input(n):
    rng = np.random.default_rng(0)
    return (rng.uniform(0.5, 2.0, n),)


EVAL_DIR = EVALS["lse"].path.parent
WORKLOADS: list[Workload] = [
    Workload("lse", EVAL_DIR / "lse.ad", "lse", "lse", "x", "grad",
             {"full": {"n": 1_280_000}, "quick": {"n": 100}}, _lse_input, "d lse / dx"),
    Workload("llsq", EVAL_DIR / "llsq.ad", "llsq", "llsq", "x", "grad",
             {"full": {"n": 16_392, "m": 128}, "quick": {"n": 16, "m": 8}}, _llsq_input, "d llsq / dx"),
    Workload("ode", EVAL_DIR / "ode.ad", "primal", "last", "x", "grad",
             {"full": {"n": 100_000, "s": 100}, "quick": {"n": 10, "s": 2}}, _ode_input, "d y(2)[n-1] / dx"),
    Workload("det", EVAL_DIR / "det.ad", "det", "det", "A", "grad",
             {"full": {"ell": 10}, "quick": {"ell": 4}}, _det_input, "d det / dA"),
    Workload("gmm", EVAL_DIR / "gmm.ad", "log_posterior", "log_posterior", ("alpha", "mu", "q", "l"), "grad",
             {"full": {"d": 64, "k": 100, "n": 1000}, "quick": {"d": 3, "k": 2, "n": 5}}, _gmm_input,
             "d objective / d(alpha, mu, q, l)"),
    Workload("lstm", EVAL_DIR / "lstm.ad", "objective", "objective", ("main_params", "extra_params"), "grad",
             {"full": {"l": 4, "c": 4096}, "quick": {"l": 2, "c": 5, "b": 4}}, _lstm_input,
             "d objective / d(main_params, extra_params)"),
    Workload("kmeans", EVAL_DIR / "kmeans.ad", "cost", "cost", "centroids", "grad",
             {"full": {"k": 100, "n": 100_000, "d": 16}, "quick": {"k": 3, "n": 20, "d": 2}}, _kmeans_input,
             "d cost / d centroids (GradBench's 'dir' needs a Hessian: adc does not serve it)"),
    Workload("seed8_while", ROOT / "examples" / "seed08_control_flow.ad", "f_vec", "f_vec", "a", "vjp",
             {"full": {"n": 100_000}, "quick": {"n": 5}}, _seed8_input,
             "VJP of f_vec with a seed of ones (data-dependent while + branch)"),
    Workload("newton", HERE / "programs" / "newton.ad", "newton", "newton", "a", "grad",
             {"full": {"n": 100_000}, "quick": {"n": 20}}, _newton_input,
             "d sum(cube roots) / da, through the Newton iterations"),
]
WORKLOAD_NAMES = [w.name for w in WORKLOADS]


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:      # adc installed somewhere else
        return str(path)


def size_label(params: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items())


# ---- adc as an implementation -------------------------------------------------------------------

def adc_entry(w: Workload, args: tuple) -> peer_registry.Entry:
    module = adc.load(w.program)
    f_primal = module.functions[w.primal]
    f_deriv = module.functions[w.deriv]
    if w.mode == "vjp":
        d = adc.vjp(f_deriv, wrt=w.wrt)
        seed = np.ones_like(np.asarray(f_deriv(*args), dtype=np.float64))

        def derivative(*a):
            return d(*a, seed=seed)
    else:
        derivative = d = adc.grad(f_deriv, wrt=w.wrt)
    # compiling (or loading from the cache) both, untimed
    return peer_registry.Entry(f_primal, derivative, extra={"compile": lambda: (f_primal.compiled, d.compiled)})


# ---- checks -------------------------------------------------------------------------------------

def to_numpy(value) -> Any:
    """A result of any implementation as float64 numpy (tuples stay tuples)."""
    if isinstance(value, (tuple, list)):
        return tuple(to_numpy(v) for v in value)
    if hasattr(value, "detach"):                     # torch
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def compare(got, ref) -> tuple[bool, float, str]:
    """(ok, max relative error, message) of ``got`` against adc's ``ref``."""
    got, ref = to_numpy(got), to_numpy(ref)
    gs = got if isinstance(got, tuple) else (got,)
    rs = ref if isinstance(ref, tuple) else (ref,)
    if len(gs) != len(rs):
        return False, float("inf"), f"{len(gs)} results, adc has {len(rs)}"
    worst = 0.0
    for k, (g, r) in enumerate(zip(gs, rs)):
        if g.shape != r.shape:
            return False, float("inf"), f"result {k} has shape {g.shape}, adc's has {r.shape}"
        scale = float(np.max(np.abs(r))) if r.size else 0.0
        err = float(np.max(np.abs(g - r))) / max(scale, 1e-300) if r.size else 0.0
        worst = max(worst, err)
        if not np.allclose(g, r, rtol=RTOL, atol=ATOL_SCALE * scale, equal_nan=False):
            return False, worst, f"result {k} differs from adc's (max error {err:.2e} of max |adc| {scale:.3g})"
    return True, worst, "ok"


# ---- timing -------------------------------------------------------------------------------------

def best_time(fn: Callable, args: tuple, repeats: int, budget: float) -> tuple[float, int]:
    """Best wall time of ``fn(*args)`` over up to ``repeats`` calls (fewer once ``budget`` seconds
    are spent); the caller has made the warm-up call. Returns (seconds, calls timed)."""
    best, spent, calls = float("inf"), 0.0, 0
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fn(*args)
        dt = time.perf_counter() - t0
        best, spent, calls = min(best, dt), spent + dt, calls + 1
        if spent > budget:
            break
    return best, calls


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 2000 else text[:2000] + " ..."


def run_function(fn: Callable, args: tuple, ref, repeats: int, budget: float) -> tuple[dict, Any]:
    """Warm up (and time that first call), check against adc's ``ref`` (unless None), then time.
    Returns (record, first result); the result is None when the call failed."""
    rec: dict[str, Any] = {}
    try:
        t0 = time.perf_counter()
        out = fn(*args)
        rec["first_call_s"] = time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - an implementation's failure is a result
        rec.update(status="error", error=_short(exc), traceback=traceback.format_exc(limit=6))
        return rec, None
    if ref is not None:
        ok, err, msg = compare(out, ref)
        rec.update(check="ok" if ok else "mismatch", max_rel_err=err)
        if not ok:
            rec.update(status="mismatch", error=msg)
    rec.setdefault("status", "ok")
    rec["seconds"], rec["calls"] = best_time(fn, args, repeats, budget)
    return rec, out


def run_workload(w: Workload, size: str, peers: dict, repeats: int, budget: float, log) -> dict:
    params = w.sizes[size]
    args = w.make_input(**params)
    row: dict[str, Any] = {"workload": w.name, "size": size_label(params), "program": _rel(w.program),
                           "primal_function": w.primal, "derivative": w.describe, "wrt": w.wrt,
                           "implementations": {}}
    impls = row["implementations"]

    log("  adc ...")
    try:
        t0 = time.perf_counter()
        entry = adc_entry(w, args)
        entry.extra["compile"]()
        compile_s = time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - a program that does not load is a failure, not a crash
        err = {"status": "error", "error": _short(exc), "traceback": traceback.format_exc(limit=6)}
        impls["adc"] = {"primal": err, "derivative": err}
        return row
    prim_rec, ref_primal = run_function(entry.primal, args, None, repeats, budget)
    der_rec, ref_deriv = run_function(entry.derivative, args, None, repeats, budget)
    impls["adc"] = {"primal": prim_rec, "derivative": der_rec, "load_compile_s": compile_s}

    for name, module in peers.items():
        log(f"  {name} ...")
        rec: dict[str, Any] = {}
        impls[name] = rec
        try:
            pe = module.build(w.name, args)
            t0 = time.perf_counter()
            pargs = pe.prepare(*args)
            rec["prepare_s"] = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001
            rec["primal"] = rec["derivative"] = {"status": "error", "error": _short(exc),
                                                 "traceback": traceback.format_exc(limit=6)}
            continue
        if pe.notes:
            rec["notes"] = pe.notes
        for kind, fn, na, ref in (("primal", pe.primal, pe.primal_na, ref_primal),
                                  ("derivative", pe.derivative, pe.derivative_na, ref_deriv)):
            if kind == "derivative" and pe.derivative_unsupported:
                rec[kind] = {"status": "not supported", "error": pe.derivative_unsupported}
            elif fn is None:
                rec[kind] = {"status": "n/a", "reason": na or "no implementation"}
            elif ref is None:
                rec[kind] = {"status": "error", "error": f"adc's {kind} failed: nothing to check against"}
            else:
                rec[kind] = run_function(fn, pargs, ref, repeats, budget)[0]
    return row


# ---- compile times (subprocesses) ---------------------------------------------------------------

PROBE = r"""
import json, sys, time
spec = json.loads(sys.argv[1])
if spec["core"]:
    sys.modules["scipy"] = None  # what `import scipy` finds in a core install: nothing
t0 = time.perf_counter()
import numpy as np
import adc
t_import = time.perf_counter() - t0
t_numba = None
if spec["start_numba"]:
    import numba
    t0 = time.perf_counter()
    numba.njit("float64(float64)")(lambda x: x + 1.0)
    t_numba = time.perf_counter() - t0
t0 = time.perf_counter()
m = adc.load(spec["program"])
t_load = time.perf_counter() - t0
t0 = time.perf_counter()
fwd = m.functions[spec["primal"]].compiled
t_fwd = time.perf_counter() - t0
f = m.functions[spec["deriv"]]
wrt = spec["wrt"] if isinstance(spec["wrt"], str) else tuple(spec["wrt"])
d = (adc.vjp if spec["mode"] == "vjp" else adc.grad)(f, wrt=wrt)
t0 = time.perf_counter()
der = d.compiled
t_der = time.perf_counter() - t0
print(json.dumps({"import_s": t_import, "numba_start_s": t_numba, "load_s": t_load, "forward_s": t_fwd,
                  "derivative_s": t_der, "total_s": t_load + t_fwd + t_der, "forward_cached": fwd.cached,
                  "derivative_cached": der.cached}))
"""

# (phase, whether the probe starts Numba before the timed part, whether it runs as a core install);
# the phases of each install share one cache directory
PHASES = (("cold", False, False), ("cached", False, False), ("cached_numba_started", True, False),
          ("core_cold", False, True), ("core_cached", False, True))


def compile_times(workloads: list[Workload], log) -> list[dict]:
    """Per program: adc.load + compiling (or loading) the forward and the derivative, each phase
    in a new process: with a fresh cache directory (cold), then with the same one (cached), then
    again with Numba started before the timing (by compiling a one-line function), which leaves
    only what loading this program costs. Numba's own start-up in a process (registering its
    implementations, importing SciPy for BLAS) is paid once by any program that uses it.
    The core phases repeat cold and cached as adc's core install sees them: without SciPy (which
    the bench extra brings in with JAX), so Numba's start-up does not import it and adc emits
    its own loops instead of BLAS calls; they get their own cache directory, as the emitted
    code differs."""
    rows = []
    for w in workloads:
        rec: dict[str, Any] = {"workload": w.name, "program": _rel(w.program)}
        with tempfile.TemporaryDirectory(prefix="adc-cold-") as full, \
                tempfile.TemporaryDirectory(prefix="adc-cold-core-") as core_cache:
            for phase, start_numba, core in PHASES:
                env = dict(os.environ, ADC_CACHE_DIR=core_cache if core else full)
                env.pop("NUMBA_DISABLE_JIT", None)
                spec = json.dumps({"program": str(w.program), "primal": w.primal, "deriv": w.deriv,
                                   "wrt": w.wrt, "mode": w.mode, "start_numba": start_numba,
                                   "core": core})
                log(f"  {w.name}: {phase} ...")
                proc = subprocess.run([sys.executable, "-c", PROBE, spec], env=env, cwd=str(ROOT),
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    rec[phase] = {"status": "error", "error": proc.stderr[-2000:]}
                else:
                    rec[phase] = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append(rec)
    return rows


# ---- machine info, table, chart -----------------------------------------------------------------

def machine_info(peer_versions: dict) -> dict:
    import numba
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "platform": platform.platform(), "cpu": cpu, "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "adc": adc.__version__, "numpy": np.__version__,
            "numba": numba.__version__}
    info.update(peer_versions)
    return info


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def _cell(rec: dict) -> str:
    st = rec.get("status")
    if st == "ok":
        return _fmt_s(rec.get("seconds"))
    return {"n/a": "n/a", "not supported": "not supported", "mismatch": "MISMATCH", "error": "ERROR"}.get(st, st or "-")


def table_rows(results: list[dict]) -> tuple[list[str], list[list[str]]]:
    head = ["workload", "size", "impl", "primal", "derivative", "deriv/primal", "primal vs adc",
            "deriv vs adc", "check"]
    body = []
    for row in results:
        impls = row["implementations"]
        adc_p = impls.get("adc", {}).get("primal", {}).get("seconds")
        adc_d = impls.get("adc", {}).get("derivative", {}).get("seconds")
        for name, rec in impls.items():
            p, d = rec.get("primal", {}), rec.get("derivative", {})
            ps, ds = p.get("seconds") if p.get("status") == "ok" else None, d.get("seconds") if d.get("status") == "ok" else None
            ratio = f"{ds / ps:.2f}" if ps and ds else "-"
            vp = f"{ps / adc_p:.2f}x" if ps and adc_p and name != "adc" else "-"
            vd = f"{ds / adc_d:.2f}x" if ds and adc_d and name != "adc" else "-"
            checks = [c for c in (p.get("check"), d.get("check")) if c]
            check = "ref" if name == "adc" else ("ok" if checks and all(c == "ok" for c in checks)
                                                else "FAIL" if any(c != "ok" for c in checks) or "error" in (p.get("status"), d.get("status"))
                                                else "-")
            body.append([row["workload"], row["size"], name, _cell(p), _cell(d), ratio, vp, vd, check])
    return head, body


def format_table(head, body, markdown: bool = False) -> str:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in [head, *body])


def compile_table(rows: list[dict], results: list[dict]) -> tuple[list[str], list[list[str]]]:
    """adc's compile times per program; for scale, JAX's first jit call of the same workload
    (trace + XLA compile + one run; in-process, so JAX itself is already warm)."""
    head = ["program", "cold: load + compile", "cached: new process", "cached: Numba started",
            "core install: cold / cached", "cold: forward / derivative", "jax first call: primal / derivative"]
    jax_first = {}
    for row in results:
        j = row["implementations"].get("jax", {})
        jax_first[row["workload"]] = " / ".join(
            _fmt_s(j.get(k, {}).get("first_call_s")) if "first_call_s" in j.get(k, {}) else j.get(k, {}).get("status", "-")
            for k in ("primal", "derivative"))
    body = []
    for r in rows:
        c = r.get("cold", {})
        total = {p: _fmt_s(r[p]["total_s"]) if "total_s" in r.get(p, {}) else "ERROR" for p, _, _ in PHASES}
        body.append([r["program"], total["cold"], total["cached"], total["cached_numba_started"],
                     f"{total['core_cold']} / {total['core_cached']}",
                     f"{_fmt_s(c.get('forward_s'))} / {_fmt_s(c.get('derivative_s'))}" if "total_s" in c else "-",
                     jax_first.get(r["workload"], "-")])
    return head, body


def numba_start_note(rows: list[dict]) -> str:
    """Numba's start-up, the difference between the two cached columns: measured in the third
    phase as the one-line compile that starts Numba (so a few milliseconds of compiling too)."""
    starts = [r["cached_numba_started"]["numba_start_s"] for r in rows
              if "numba_start_s" in r.get("cached_numba_started", {})]
    if not starts:
        return ""
    return (f"Numba's start-up in a new process, paid once by any program using Numba (measured as a "
            f"one-line compile): {_fmt_s(min(starts))} to {_fmt_s(max(starts))}.")


def chart(results: list[dict], path: Path) -> str | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        return f"no chart: {exc}"
    names = []
    for row in results:
        for n in row["implementations"]:
            if n not in names:
                names.append(n)
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(results)), 4.8))
    width = 0.8 / max(1, len(names))
    missing = []
    for k, n in enumerate(names):
        xs, ys = [], []
        for i, row in enumerate(results):
            d = row["implementations"].get(n, {}).get("derivative", {})
            x = i + (k - (len(names) - 1) / 2) * width
            if d.get("status") == "ok":
                xs.append(x)
                ys.append(d["seconds"])
            elif d.get("status"):
                missing.append((x, {"not supported": "not supported"}.get(d["status"], d["status"])))
        ax.bar(xs, ys, width, label=n)
    ax.set_yscale("log")
    bottom = ax.get_ylim()[0]
    for x, label in missing:
        ax.text(x, bottom * 1.15, label, rotation=90, ha="center", va="bottom", fontsize=6, color="0.3")
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([f"{r['workload']}\n{r['size']}" for r in results], fontsize=7)
    ax.set_ylabel("derivative time (s, best of repeats)")
    ax.set_title("adc vs peers: derivative time per workload (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


# ---- main ---------------------------------------------------------------------------------------

def failures_of(results: list[dict], compile_rows: list[dict]) -> list[str]:
    out = []
    for row in results:
        for name, rec in row["implementations"].items():
            for kind in ("primal", "derivative"):
                r = rec.get(kind, {})
                if r.get("status") in ("mismatch", "error"):
                    out.append(f"{row['workload']} {name} {kind}: {r['status']}: {r.get('error', '')[:300]}")
    for r in compile_rows:
        for phase, _, _ in PHASES:
            if r.get(phase, {}).get("status") == "error":
                out.append(f"compile {r['workload']} {phase}: {r[phase]['error'][-300:]}")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, 2 repeats, no compile times")
    ap.add_argument("--out", type=Path, help="output directory (default benchmarks/results; --quick: a temp dir)")
    ap.add_argument("--compile-times", action="store_true", help="measure compile times with --quick too")
    ap.add_argument("--no-compile-times", action="store_true", help="skip the compile-time subprocesses")
    ap.add_argument("--only", help="comma-separated workloads (default all): " + ",".join(WORKLOAD_NAMES))
    ap.add_argument("--peers", help="comma-separated peers (default every installed one): "
                    + ",".join(peer_registry.PEERS))
    ap.add_argument("--repeats", type=int, help="at most this many timed calls (default 20; --quick 2)")
    ap.add_argument("--budget", type=float, help="seconds of timed calls per function (default 1.0)")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for the peers' libraries (torch, XLA, BLAS); 0 = their defaults. "
                         "Default 1: adc's generated code (and the Numba peer) is single-threaded")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ns = ap.parse_args(argv)

    size = "quick" if ns.quick else "full"
    repeats = ns.repeats or (2 if ns.quick else 20)
    budget = ns.budget if ns.budget is not None else (0.2 if ns.quick else 1.0)
    workloads = WORKLOADS
    if ns.only:
        wanted = ns.only.split(",")
        unknown = [n for n in wanted if n not in WORKLOAD_NAMES]
        if unknown:
            ap.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOAD_NAMES)}")
        workloads = [w for w in WORKLOADS if w.name in wanted]
    wanted_peers = ns.peers.split(",") if ns.peers else list(peer_registry.PEERS)
    unknown = [p for p in wanted_peers if p not in peer_registry.PEERS]
    if unknown:
        ap.error(f"unknown peer(s) {', '.join(unknown)}; choose from {', '.join(peer_registry.PEERS)}")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if ns.threads > 0 and "jax" not in sys.modules:   # XLA reads its flags when jax starts
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" if ns.threads == 1 else ""
        if flags:
            os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
    peers, missing, versions = {}, {}, {}
    for p in wanted_peers:
        module, why = peer_registry.load(p)
        if module is None:
            missing[p] = why
            log(f"peer {p} not available ({why}): left out")
        else:
            peers[p] = module
            if ns.threads > 0 and hasattr(module, "set_threads"):
                module.set_threads(ns.threads)
            versions.update(module.versions())

    start = time.perf_counter()
    results = []
    for w in workloads:
        log(f"{w.name} ({size_label(w.sizes[size])})")
        results.append(run_workload(w, size, peers, repeats, budget, log))

    compile_rows: list[dict] = []
    if (ns.compile_times or not ns.quick) and not ns.no_compile_times:
        log("compile times (subprocesses, fresh cache directories)")
        compile_rows = compile_times(workloads, log)

    failures = failures_of(results, compile_rows)
    out_dir = ns.out or (Path(tempfile.mkdtemp(prefix="adc-bench-")) if ns.quick else HERE / "results")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine_info(versions),
              "settings": {"size": size, "repeats": repeats, "budget_s": budget, "rtol": RTOL,
                           "peer_threads": ns.threads or "library defaults",
                           "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                                  "XLA_FLAGS", "ADC_CACHE_DIR")},
                           "atol_scale": ATOL_SCALE, "peers": list(peers), "missing_peers": missing,
                           "timing": "best of the timed calls after one warm-up call; adc through its public "
                                     "API (argument checks included); peer inputs converted outside the timing"},
              "workloads": results, "compile_times": compile_rows, "failures": failures,
              "wall_s": time.perf_counter() - start}
    (out_dir / "run.json").write_text(json.dumps(report, indent=1, default=str))
    chart_note = chart(results, out_dir / "run.png")

    head, body = table_rows(results)
    print(format_table(head, body, ns.markdown))
    print("\n'deriv vs adc' and 'primal vs adc': the peer's time / adc's time (above 1: adc is faster).")
    notes = sorted({f"{row['workload']} {n}: {rec['derivative']['error'].splitlines()[0]}"
                    for row in results for n, rec in row["implementations"].items()
                    if rec.get("derivative", {}).get("status") == "not supported"})
    if notes:
        print("not supported:\n" + "\n".join(f"  {n}" for n in notes))
    nas: dict[str, list[str]] = {}
    for row in results:
        for n, rec in row["implementations"].items():
            if rec.get("derivative", {}).get("status") == "n/a":
                nas.setdefault(rec["derivative"]["reason"], []).append(f"{row['workload']} {n}")
    for reason, where in nas.items():
        print(f"{', '.join(where)}: {reason}")
    if compile_rows:
        print()
        print(format_table(*compile_table(compile_rows, results), ns.markdown))
        print(numba_start_note(compile_rows))
    if missing:
        print("\npeers not installed: " + ", ".join(f"{p} ({why})" for p, why in missing.items()))
    print(f"\nwrote {out_dir / 'run.json'}" + (f" and {out_dir / 'run.png'}" if chart_note is None else f" ({chart_note})"))
    if failures:
        print("\nFAILURES:\n" + "\n".join(f"  {f}" for f in failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
