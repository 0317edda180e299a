"""The peers adc is benchmarked against, one module per family (``benchmarks/run.py`` runs them).

Every peer module defines ``NAME`` (the column label), ``versions()`` (what it ran on) and
``build(workload, args) -> Entry``: ``args`` are the positional arguments adc's program takes for
that workload (numpy arrays and Python numbers, exactly what adc is called with); the entry's
``prepare`` turns them into the peer's own input form once, outside the timed region, and
``primal(*prepared)`` / ``derivative(*prepared)`` return what adc's forward function and its
gradient (or, for a function with an array result, its vector-Jacobian product with a seed of
ones) return: a scalar, an array, or a tuple of arrays in ``wrt`` order.

A peer that has no implementation of a function says why: ``*_na`` for a hand-written derivative
that would be unreasonable to write (shown as "n/a"), ``derivative_unsupported`` for a tool that
refuses (shown as "not supported", the JSON keeps the tool's own error text).

Modules are imported lazily by ``load``: torch and jax are optional (the ``bench`` extra), and a
peer whose import fails is left out of the run with the reason.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

PEERS = ("torch", "jax", "numpy", "numba")
MODULES = {"torch": "torch_impl", "jax": "jax_impl", "numpy": "numpy_impl", "numba": "numba_impl"}


@dataclass
class Entry:
    """One peer's implementation of one workload."""

    primal: Callable | None = None
    derivative: Callable | None = None
    prepare: Callable[..., tuple] = lambda *args: args
    primal_na: str | None = None             # why there is no primal ("n/a")
    derivative_na: str | None = None         # why there is no derivative ("n/a")
    derivative_unsupported: str | None = None  # the tool refused: its error text ("not supported")
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def na(reason: str) -> Entry:
    """An entry with neither function (the peer does not do this workload at all)."""
    return Entry(primal_na=reason, derivative_na=reason)


def load(name: str):
    """Import the peer module ``name``; returns ``(module, None)`` or ``(None, reason)``."""
    try:
        return importlib.import_module(f"benchmarks.peers.{MODULES[name]}"), None
    except Exception as exc:  # noqa: BLE001 - torch / jax not installed (or broken): the peer is absent
        return None, f"{type(exc).__name__}: {exc}"
