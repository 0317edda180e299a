"""The differentiation API: ``grad``, ``value_and_grad``, ``vjp`` and ``adjoint_source``.

Each returns (or prints) the compiled adjoint of a module function for a set of ``wrt``
parameters. The adjoint is generated once per (function, wrt, mode) and cached on the function;
its IR is also remembered on disk (``memo.py``), so another process does not differentiate again,
and the compiled code is cached on disk like every generated module.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from ..compiler import ir
from ..compiler.ad.reverse import Gradient, reverse
from ..compiler.emit_python import EmitOptions, emit_module
from ..compiler.printer import format_readable
from ..compiler.types import Type
from . import args as argcheck
from .jit import Compiled, compile_ir
from .memo import recall
from .module import Function, convert_results


class GradientError(ValueError):
    """A gradient request that cannot be served (wrong wrt, non-scalar result for grad, ...)."""


def _wrt_names(f: Function, wrt) -> tuple[str, ...]:
    floats = [n for n, t in f.params if t.dtype == "float"]
    if wrt is None:
        if not floats:
            raise GradientError(f"{f.name}() has no float parameters to differentiate")
        return tuple(floats)
    names = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    if not names:
        raise GradientError(f"wrt is empty; choose from the float parameters of {f.name}(): {', '.join(floats)}")
    types = dict(f.params)
    for n in names:
        if n not in types:
            raise GradientError(f"{f.name}() has no parameter '{n}'; "
                                f"differentiable parameters: {', '.join(floats) or 'none'}")
        if types[n].dtype != "float":
            raise GradientError(f"cannot differentiate with respect to '{n}' of type {types[n]}: only float "
                                f"parameters have derivatives (choose from {', '.join(floats) or 'none'})")
    if len(set(names)) != len(names):
        raise GradientError(f"wrt names a parameter twice: {', '.join(names)}")
    return names


def _describe(seed) -> str:
    if isinstance(seed, (tuple, list)):
        return f"a {type(seed).__name__} of {len(seed)}"
    return f"an array of shape {np.shape(seed)}" if np.ndim(seed) else "a scalar"


def _result_types(f: Function) -> list[Type]:
    return list(f.info.returns)


class Derivative:
    """A compiled derivative of ``f``: ``mode`` is "grad", "value_and_grad" or "vjp"."""

    def __init__(self, f: Function, wrt, mode: str):
        if not isinstance(f, Function):
            raise TypeError(f"expected a function of a loaded .ad module (m.f), got {type(f).__name__}")
        self.f = f
        self.mode = mode
        self.wrt = _wrt_names(f, wrt)
        self.single = isinstance(wrt, str) or (wrt is None and len(self.wrt) == 1)
        results = _result_types(f)
        if mode != "vjp" and (f.info.node.returns_tuple or results[0] != Type("float")):
            shown = "(" + ", ".join(map(str, results)) + ")" if f.info.node.returns_tuple else str(results[0])
            raise GradientError(
                f"adc.{mode} needs a function returning a scalar float, but {f.name}() returns {shown}; "
                f"use adc.vjp({f.name}, wrt=...)(..., seed=s) with a seed shaped like the result")
        self.__name__ = f"{mode}_{f.name}"

    def __repr__(self) -> str:
        return f"<adc {self.mode} of {self.f.name} w.r.t. {', '.join(self.wrt)}>"

    @cached_property
    def gradient(self) -> Gradient:
        f, m = self.f, self.f.module
        return recall(("reverse", m.filename, m.source, f.name, self.mode, *self.wrt),
                      lambda: reverse(f.ir, list(self.wrt), vjp=self.mode == "vjp", with_value=self.mode != "grad"))

    @property
    def ir(self) -> ir.Function:
        return self.gradient.fn

    @cached_property
    def compiled(self) -> Compiled:
        m = self.f.module
        return compile_ir(self.ir, f"adc {self.mode} of {self.f.name} w.r.t. {', '.join(self.wrt)}",
                          m.boundscheck, m.jit)

    def _seeds(self, seed, values) -> list:
        """The checked seeds. They are checked together with the (already checked) arguments, so
        a seed's shape variables must agree with the sizes the parameters bound: a seed of the
        wrong shape is reported before the compiled code could fail on it mid-computation."""
        results = _result_types(self.f)
        if seed is None:
            raise GradientError(f"adc.vjp of {self.f.name}() needs seed=..., shaped like its result "
                                f"({', '.join(map(str, results))})")
        as_tuple = isinstance(seed, (tuple, list))
        seeds = list(seed) if self.f.info.node.returns_tuple and as_tuple else [seed]
        if len(seeds) != len(results) or (self.f.info.node.returns_tuple and not as_tuple):
            raise GradientError(f"{self.f.name}() returns {len(results)} values "
                                f"({', '.join(map(str, results))}); seed= must be a tuple of "
                                f"{len(results)} seeds, one shaped like each, got {_describe(seed)}")
        names = [f"seed[{k}]" if len(results) > 1 else "seed" for k in range(len(results))]
        checked = argcheck.prepare(f"vjp of {self.f.name}", self.f.params + list(zip(names, results)),
                                   tuple(values) + tuple(seeds), {})
        return checked[len(values):]

    def __call__(self, *args, out=None, accumulate: bool = False, seed=None, **kwargs):
        values = argcheck.prepare(self.f.name, self.f.params, args, kwargs)
        if self.mode == "vjp":
            values += self._seeds(seed, values)
        elif seed is not None:
            raise GradientError(f"seed= is for adc.vjp; adc.{self.mode} seeds the scalar result with 1")
        raw = self.compiled.call(*values)
        n = self.gradient.n_results
        primal, grads = raw[:n], list(raw[n:])
        if self.mode == "vjp":
            self._check_seed_shapes(primal, values[len(self.f.params):])
        types = dict(self.f.params)
        grads = [argcheck.convert_result(g, types[name]) for g, name in zip(grads, self.wrt)]
        if out is not None:
            grads = self._write_out(grads, out, accumulate)
        elif accumulate:
            raise GradientError("accumulate=True needs out= (the buffer to add the gradient into)")
        result = grads[0] if self.single else tuple(grads)
        if self.mode == "value_and_grad":
            value = primal[0] if n == 1 else tuple(primal)
            return convert_results(value, self.f.info), result
        return result

    def _check_seed_shapes(self, primal, seeds) -> None:
        for k, (p, s) in enumerate(zip(primal, seeds)):
            if np.shape(p) != np.shape(s):
                label = "seed" if len(seeds) == 1 else f"seed[{k}]"
                raise GradientError(f"{label} has shape {np.shape(s)}, but {self.f.name}() returned shape {np.shape(p)}")

    def _write_out(self, grads, out, accumulate):
        outs = [out] if self.single else list(out) if isinstance(out, (tuple, list)) else None
        if outs is None or len(outs) != len(grads):
            raise GradientError(f"out= must be {'an array' if self.single else f'a tuple of {len(grads)} arrays'}")
        for name, g, buf in zip(self.wrt, grads, outs):
            if not isinstance(buf, np.ndarray):
                raise GradientError(f"out= for '{name}' must be a numpy array, got {type(buf).__name__}")
            if buf.dtype.kind != "f":
                raise GradientError(f"out= for '{name}' must be a float array, got dtype {buf.dtype}")
            if buf.shape != np.shape(g):
                raise GradientError(f"out= for '{name}' has shape {buf.shape}, the gradient has shape {np.shape(g)}")
            if accumulate:
                buf += g
            else:
                buf[...] = g
        return outs


def _derivative(f: Function, wrt, mode: str) -> Derivative:
    cache = f.__dict__.setdefault("_derivatives", {})
    key = (mode, wrt if isinstance(wrt, (str, type(None))) else tuple(wrt))
    if key not in cache:
        cache[key] = Derivative(f, wrt, mode)
    return cache[key]


def grad(f: Function, wrt=None) -> Derivative:
    """The compiled gradient of a scalar-valued ``f`` w.r.t. ``wrt`` (a name or a tuple of names;
    default: every float parameter). Call it with ``f``'s arguments; add ``out=``/``accumulate=``."""
    return _derivative(f, wrt, "grad")


def value_and_grad(f: Function, wrt=None) -> Derivative:
    """Like ``grad``, but returns ``(f(...), gradient)`` from one compiled call."""
    return _derivative(f, wrt, "value_and_grad")


def vjp(f: Function, wrt=None) -> Derivative:
    """The vector-Jacobian product of ``f`` (any result type): call with ``seed=`` shaped like the
    result (a tuple of seeds for a tuple result); PyTorch's ``y.backward(seed)``."""
    return _derivative(f, wrt, "vjp")


def adjoint_source(f: Function, wrt=None, lang: str = "ad") -> str:
    """The generated adjoint: ``lang="ad"`` a readable listing in .ad syntax, ``lang="python"``
    the exact module Numba compiles."""
    if lang not in ("ad", "python"):
        raise ValueError(f"lang must be 'ad' or 'python', got {lang!r}")
    scalar = not f.info.node.returns_tuple and f.info.returns[0] == Type("float")
    d = _derivative(f, wrt, "grad" if scalar else "vjp")
    if lang == "ad":
        return format_readable(d.ir)
    m = f.module
    header = f"adc {d.mode} of {f.name} w.r.t. {', '.join(d.wrt)}"
    return emit_module(d.ir, EmitOptions(m.boundscheck, d.ir.filename), header)[0]
