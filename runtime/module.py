"""Loaded .ad modules and their functions, callable from Python on numpy arrays."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from ..compiler import ir
from ..compiler.check import CheckedModule, FuncInfo
from ..compiler.pipeline import forward_ir, front_end
from . import args as argcheck
from .jit import Compiled, compile_ir
from .memo import recall


class Function:
    """One function of a loaded module: ``f(*args)`` runs the compiled forward pass."""

    def __init__(self, module: "Module", info: FuncInfo):
        self.module = module
        self.info = info
        self.name = info.name
        self.param_names = tuple(n for n, _ in info.params)
        self.params = list(info.params)
        self.result_type = info.result_type

    def __repr__(self) -> str:
        params = ", ".join(f"{n}: {t}" for n, t in self.params)
        return f"<adc function {self.name}({params}) from {self.module.filename}>"

    @cached_property
    def ir(self) -> ir.Function:
        m = self.module
        return recall(("forward", m.filename, m.source, self.name), lambda: forward_ir(m.checked, self.name))

    @cached_property
    def compiled(self) -> Compiled:
        return compile_ir(self.ir, f"adc forward of {self.name}", self.module.boundscheck, self.module.jit)

    def compile(self) -> Compiled:
        return self.compiled

    def __call__(self, *args, **kwargs):
        values = argcheck.prepare(self.name, self.params, args, kwargs)
        result = self.compiled.call(*values)
        return convert_results(result, self.info)

    def __reduce__(self):
        m = self.module
        return (_rebuild_function, (m.source, m.filename, m.boundscheck, m.jit, self.name))


def convert_results(result, info: FuncInfo):
    if info.node.returns_tuple:
        return tuple(argcheck.convert_result(v, t) for v, t in zip(result, info.returns))
    return argcheck.convert_result(result, info.returns[0])


class Module:
    """A checked .ad module; each function is an attribute (``m.f``) and in ``m.functions``."""

    def __init__(self, source: str, filename: str = "<string>", boundscheck: bool = True, jit: bool = True):
        self.source = source
        self.filename = filename
        self.boundscheck = boundscheck
        self.jit = jit
        self.checked: CheckedModule = recall(("checked", filename, source), lambda: front_end(source, filename))
        self.functions = {name: Function(self, info) for name, info in self.checked.funcs.items()}

    def __getattr__(self, name: str) -> Function:
        functions = self.__dict__.get("functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(f"module {self.__dict__.get('filename', '?')!r} has no function '{name}'"
                             f" (functions: {', '.join(functions) or 'none'})")

    def __reduce__(self):
        return (Module, (self.source, self.filename, self.boundscheck, self.jit))

    def __dir__(self):
        return list(super().__dir__()) + list(self.functions)

    def __repr__(self) -> str:
        return f"<adc module {self.filename} with {', '.join(self.functions)}>"


def _rebuild_function(source: str, filename: str, boundscheck: bool, jit: bool, name: str) -> Function:
    return Module(source, filename, boundscheck, jit).functions[name]


def load(path: str | Path, boundscheck: bool = True, jit: bool = True) -> Module:
    """Load and check a .ad file. ``boundscheck=False`` drops index checks in generated code;
    ``jit=False`` runs the generated code as plain Python (debugging, fast tests)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise FileNotFoundError(f"cannot read .ad file {str(path)!r}: {exc.strerror}") from None
    return Module(text, str(path), boundscheck, jit)


def loads(text: str, filename: str = "<string>", boundscheck: bool = True, jit: bool = True) -> Module:
    """Load and check .ad source given as text (``filename`` is used in messages)."""
    return Module(text, filename, boundscheck, jit)
