"""adc: compile .ad programs to Numba, with reverse-mode derivatives you can read.

    import adc
    m = adc.load("examples/seed01_dot.ad")
    m.f([0.0, 1.0, 2.0, 3.0])

This file is the package's root, which is also the repository's root: its imports are absolute
so that tools which import the file on its own (pytest collecting the repository) still work.
"""
__version__ = "0.1.0"

from adc.compiler.errors import AdError  # noqa: E402
from adc.runtime.args import ArgumentError  # noqa: E402
from adc.runtime.grad import GradientError, adjoint_source, grad, value_and_grad, vjp  # noqa: E402
from adc.runtime.module import Function, Module, load, loads  # noqa: E402

__all__ = ["load", "loads", "Module", "Function", "grad", "value_and_grad", "vjp", "adjoint_source",
           "AdError", "ArgumentError", "GradientError", "__version__"]
