"""adc: compile .ad programs to Numba, with reverse-mode derivatives you can read.

    import adc
    m = adc.load("examples/seed01_dot.ad")
    m.f([0.0, 1.0, 2.0, 3.0])
"""
__version__ = "0.1.0"

from .compiler.errors import AdError  # noqa: E402
from .runtime.args import ArgumentError  # noqa: E402
from .runtime.module import Function, Module, load, loads  # noqa: E402

__all__ = ["load", "loads", "Module", "Function", "AdError", "ArgumentError", "__version__"]
from .runtime.grad import GradientError, adjoint_source, grad, value_and_grad, vjp  # noqa: E402

__all__ += ["grad", "value_and_grad", "vjp", "adjoint_source", "GradientError"]
