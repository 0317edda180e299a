"""adc as a GradBench tool: ``python -m adc.gradbench`` speaks the GradBench protocol.

One JSON message per line on stdin, exactly one JSON response per message on stdout, with the
message's ``id``:

- ``start`` -> ``{id, tool: "adc", config}``
- ``define {module}`` -> ``{id, success, error?, timings}``: loads the eval's .ad program and
  compiles every function it needs (forward passes and gradients), so no compile time lands in
  an evaluate timing. Compiled code is also cached on disk (``$ADC_CACHE_DIR``).
- ``evaluate {module, function, input}`` -> ``{id, success, output, timings}``: the input is
  converted to arrays first (untimed); then the compiled function runs until it has run at least
  ``input.min_runs`` times and for at least ``input.min_seconds`` seconds, each run timed with
  ``time.perf_counter_ns`` around the compiled call alone (one ``evaluate`` timing per run).
- any other kind (``analysis``, ...) -> ``{id}``.

A malformed line, an unknown module or function, a bad input or an error while running is
answered with ``success: false`` and an ``error``, and the tool keeps serving.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ... import __version__
from ...compiler.errors import AdError
from .. import args as argcheck
from ..grad import GradientError, grad
from ..module import Function as AdFunction
from ..module import Module, convert_results, load
from .evals import EVALS, Eval, Function, InputError


class ToolError(Exception):
    """A request the tool answers with success: false (the message says why)."""


@dataclass
class Runner:
    """One GradBench function, compiled: ``call`` is the raw compiled entry point, ``public`` the
    same computation through adc's public API (used once to check ``call``)."""

    spec: Function
    params: list
    call: Callable
    finish: Callable[[Any], Any]     # raw compiled result -> what the public API returns
    public: Callable
    checked: bool = False


def _runner(module: Module, spec: Function) -> Runner:
    f: AdFunction = module.functions[spec.entry]
    if spec.mode == "forward":
        compiled = f.compiled
        return Runner(spec, f.params, compiled.call, lambda raw: convert_results(raw, f.info), f)
    if spec.mode == "grad":
        d = grad(f, wrt=spec.wrt)
        compiled = d.compiled
        n = d.gradient.n_results
        types = dict(f.params)

        def finish(raw):
            grads = [argcheck.convert_result(g, types[name]) for g, name in zip(raw[n:], d.wrt)]
            return grads[0] if d.single else tuple(grads)
        return Runner(spec, f.params, compiled.call, finish, d)
    raise ValueError(f"unknown mode {spec.mode!r}")


@dataclass
class Defined:
    spec: Eval
    module: Module
    runners: dict[str, Runner]
    seconds: float


def _same(a, b) -> bool:
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


class Tool:
    def __init__(self, boundscheck: bool = True, jit: bool = True):
        self.boundscheck = boundscheck
        self.jit = jit
        self.defined: dict[str, Defined] = {}

    # ---- messages ----------------------------------------------------------------------------
    def handle_line(self, line: str) -> dict:
        try:
            message = json.loads(line)
        except json.JSONDecodeError as exc:
            return {"id": None, "success": False, "error": f"malformed message (not JSON): {exc}"}
        if not isinstance(message, dict):
            return {"id": None, "success": False,
                    "error": f"malformed message: expected a JSON object, got {type(message).__name__}"}
        mid = message.get("id")
        try:
            if "id" not in message:
                raise ToolError("malformed message: no 'id'")
            kind = message.get("kind")
            if kind == "start":
                return {"id": mid, "tool": "adc",
                        "config": {"adc": __version__, "jit": self.jit, "boundscheck": self.boundscheck}}
            if kind == "define":
                return {"id": mid, **self.define(_text(message, "module"))}
            if kind == "evaluate":
                return {"id": mid, **self.evaluate(_text(message, "module"), _text(message, "function"),
                                                   message.get("input", _MISSING))}
            if kind == "analysis":
                if message.get("valid") is False:
                    print(f"adc gradbench: evaluation {message.get('of')} was judged invalid: "
                          f"{message.get('error')}", file=sys.stderr)
                return {"id": mid}
            if not isinstance(kind, str):
                raise ToolError("malformed message: no 'kind'")
            return {"id": mid}
        except ToolError as exc:
            return {"id": mid, "success": False, "error": str(exc)}
        except Exception as exc:  # an adc or Numba failure: report it, keep serving
            return {"id": mid, "success": False, "error": _describe(exc)}

    # ---- define ------------------------------------------------------------------------------
    def _define(self, name: str) -> Defined:
        if name in self.defined:
            return self.defined[name]
        spec = EVALS.get(name)
        if spec is None:
            raise ToolError(f"unknown module '{name}'; adc implements: {', '.join(sorted(EVALS))}")
        start = time.perf_counter()
        module = load(spec.path, boundscheck=self.boundscheck, jit=self.jit)
        runners = {fname: _runner(module, fspec) for fname, fspec in spec.functions.items()}
        defined = Defined(spec, module, runners, time.perf_counter() - start)
        self.defined[name] = defined
        return defined

    def define(self, name: str) -> dict:
        try:
            defined = self._define(name)
        except AdError as exc:
            raise ToolError(f"compiling the .ad program of '{name}' failed:\n{exc}") from None
        return {"success": True, "timings": [{"name": "compile", "nanoseconds": int(defined.seconds * 1e9)}]}

    # ---- evaluate ----------------------------------------------------------------------------
    def evaluate(self, module: str, function: str, inp) -> dict:
        defined = self._define(module)
        runner = defined.runners.get(function)
        if runner is None:
            reason = defined.spec.unsupported.get(function)
            if reason:
                raise ToolError(reason)
            known = sorted(defined.runners) + sorted(defined.spec.unsupported)
            raise ToolError(f"module '{module}' has no function '{function}' (functions: {', '.join(known)})")
        if inp is _MISSING:
            raise ToolError("malformed evaluate message: no 'input'")
        try:
            args = runner.spec.convert_input(inp)
            values = argcheck.prepare(runner.spec.entry, runner.params, args, {})
            min_runs, min_seconds = _runs(inp)
        except (InputError, argcheck.ArgumentError) as exc:
            raise ToolError(f"bad input for {module}.{function}: {exc}") from None
        timings = []
        elapsed = 0
        limit = min_seconds * 1e9
        call = runner.call
        while len(timings) < min_runs or elapsed < limit:
            start = time.perf_counter_ns()
            raw = call(*values)
            end = time.perf_counter_ns()
            timings.append({"name": "evaluate", "nanoseconds": end - start})
            elapsed += end - start
        result = runner.finish(raw)
        if not runner.checked:
            # once per function: the raw compiled call agrees with adc's public API
            public = runner.public(*args)
            if not _same(result, public):
                raise ToolError(f"internal check failed: the compiled {module}.{function} disagrees "
                                "with adc's public API")
            runner.checked = True
        return {"success": True, "output": runner.spec.convert_output(result), "timings": timings}


_MISSING = object()


def _text(message: dict, key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str):
        raise ToolError(f"malformed {message.get('kind')} message: '{key}' must be a string, got {value!r}")
    return value


def _runs(inp) -> tuple[int, float]:
    min_runs = inp.get("min_runs", 1) if isinstance(inp, dict) else 1
    min_seconds = inp.get("min_seconds", 0) if isinstance(inp, dict) else 0
    if isinstance(min_runs, bool) or not isinstance(min_runs, (int, float)) or min_runs < 0:
        raise InputError(f"'min_runs' must be a non-negative number, got {min_runs!r}")
    if isinstance(min_seconds, bool) or not isinstance(min_seconds, (int, float)) or min_seconds < 0:
        raise InputError(f"'min_seconds' must be a non-negative number, got {min_seconds!r}")
    return max(1, int(min_runs)), float(min_seconds)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (AdError, GradientError, argcheck.ArgumentError, AssertionError, IndexError,
                        ZeroDivisionError, MemoryError, ValueError)):
        return f"{type(exc).__name__}: {exc}"
    return "".join(traceback.format_exception(exc))


def serve(stdin, stdout, tool: Tool) -> None:
    for line in stdin:
        if not line.strip():
            continue
        response = tool.handle_line(line)
        try:
            text = json.dumps(response, allow_nan=False)
        except ValueError:  # NaN or infinity in the output: never write invalid JSON
            text = json.dumps({"id": response.get("id"), "success": False,
                               "error": "the output contains NaN or infinity, which JSON cannot carry"})
        stdout.write(text + "\n")
        stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adc.gradbench",
                                     description="adc as a GradBench tool: reads protocol messages on "
                                                 "stdin, one JSON object per line, and answers on stdout.")
    parser.add_argument("--no-boundscheck", action="store_true",
                        help="compile without index checks in generated code")
    parser.add_argument("--no-jit", action="store_true",
                        help="run generated code as plain Python (debugging; very slow)")
    parser.add_argument("--multithreaded", action="store_true",
                        help="let BLAS use its default thread count (adc's own code is single-threaded)")
    args = parser.parse_args(argv)
    if not args.multithreaded:
        # Numba's matrix products call SciPy's OpenBLAS, loaded at the first compile: keep it to
        # one thread, as GradBench runs tools single-threaded unless told otherwise (an
        # oversubscribed BLAS thread pool is also many times slower on small machines).
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
    tool = Tool(boundscheck=not args.no_boundscheck, jit=not args.no_jit)
    out = sys.stdout
    sys.stdout = sys.stderr  # anything else that prints must not corrupt the protocol stream
    try:
        serve(sys.stdin, out, tool)
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        sys.stdout = out
    return 0
