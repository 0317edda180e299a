"""The compiler's stages chained: source text -> checked module -> optimised IR -> Python.

The runtime calls these; each stage is also usable alone (``adc graph`` prints ``forward_ir``).
"""
from __future__ import annotations

from . import ir
from .check import CheckedModule, check
from .lower import lower_function
from .parse import parse
from .passes import insert_copies, simplify


def front_end(text: str, filename: str = "<string>") -> CheckedModule:
    """Parse and check a module; raises ``AdError`` for bad source."""
    return check(parse(text, filename))


def forward_ir(cm: CheckedModule, name: str, optimize: bool = True) -> ir.Function:
    """The IR of function ``name``: lowered, calls inlined, copies for value semantics, simplified."""
    fn = lower_function(cm, name)
    insert_copies(fn)
    return simplify(fn) if optimize else fn
