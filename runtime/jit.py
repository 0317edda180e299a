"""Compile an IR function to a callable: emit Python, load it through the cache, time it."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Callable

from ..compiler import ir
from ..compiler.emit_python import EmitOptions, emit_module
from .cache import load_module


@dataclass
class Compiled:
    """A compiled entry point, the module text Numba compiled, and how long loading took."""

    call: Callable
    source: str
    seconds: float
    cached: bool


def compile_ir(fn: ir.Function, header: str, boundscheck: bool = True, jit: bool = True) -> Compiled:
    source, entry = emit_module(fn, EmitOptions(boundscheck=boundscheck, source_name=fn.filename), header)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="numba")
        module, cached = load_module(source, jit)
    return Compiled(getattr(module, entry), source, time.perf_counter() - start, cached)
