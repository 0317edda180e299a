"""Compile an IR function to a callable: emit Python, load it through the cache, time it."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Callable

from ..compiler import ir
from ..compiler.emit_python import EmitOptions, emit_module, lent_tapes
from .cache import load_module
from .tapes import LentTapes


@dataclass
class Compiled:
    """A compiled entry point, the module text Numba compiled, and how long loading took."""

    call: Callable
    source: str
    seconds: float
    cached: bool


def compile_ir(fn: ir.Function, header: str, boundscheck: bool = True, jit: bool = True) -> Compiled:
    source, entry, helpers = emit_module(fn, EmitOptions(boundscheck=boundscheck, source_name=fn.filename), header)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="numba")
        module, cached = load_module(source, jit, helpers)
    call = getattr(module, entry)
    tapes = lent_tapes(fn)
    if tapes:
        call = LentTapes(call, [t.type.dtype for t in tapes])
    return Compiled(call, source, time.perf_counter() - start, cached)
