"""Argument checks before a compiled call: count, dtype, rank, literal dims and shape variables.

Every error names the parameter and says what was expected and what was given. Accepted values
are normalised to what the compiled code was specialised for (float64/int64, C-contiguous), so
Numba never compiles a second specialisation.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..compiler.types import Type


class ArgumentError(TypeError):
    """A call's arguments do not match the function's parameters."""


_INT64_MIN, _INT64_MAX = -2 ** 63, 2 ** 63 - 1


def _shape_text(t: Type) -> str:
    return str(t) if t.dims else f"{t.dtype} array of rank {t.rank}"


def _scalar(fname: str, name: str, t: Type, value):
    if type(value) is float and t.dtype == "float":      # the common cases, kept cheap
        return value
    if type(value) is int and t.dtype == "int" and _INT64_MIN <= value <= _INT64_MAX:
        return value
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise ArgumentError(f"{fname}(): parameter '{name}' expects a {t} scalar, "
                                f"got an array of shape {value.shape}")
        value = value.item()
    if t.dtype == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise ArgumentError(f"{fname}(): parameter '{name}' expects bool, got {type(value).__name__}")
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{fname}(): parameter '{name}' expects {t.dtype}, got bool")
    if t.dtype == "int":
        if isinstance(value, numbers.Integral):
            if not _INT64_MIN <= int(value) <= _INT64_MAX:
                raise ArgumentError(f"{fname}(): parameter '{name}' expects int (64-bit), got {value!r}, "
                                    "which is out of range")
            return int(value)
        raise ArgumentError(f"{fname}(): parameter '{name}' expects int, got {type(value).__name__} {value!r}")
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:
            raise ArgumentError(f"{fname}(): parameter '{name}' expects float, got {value!r}, "
                                "which is too large for a float") from None
    raise ArgumentError(f"{fname}(): parameter '{name}' expects float, got {type(value).__name__}")


_DTYPES = {"float": np.dtype(np.float64), "int": np.dtype(np.int64)}


def _array(fname: str, name: str, t: Type, value, shapes: dict[str, tuple[str, int, int]]):
    ready = (type(value) is np.ndarray and value.dtype == _DTYPES[t.dtype] and value.flags.c_contiguous
             and value.flags.writeable)
    try:
        arr = value if ready else np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ArgumentError(f"{fname}(): parameter '{name}' expects {_shape_text(t)}, "
                            f"got a value numpy cannot turn into an array ({exc})") from None
    kinds = "iuf" if t.dtype == "float" else "iu"
    if arr.dtype.kind not in kinds:
        raise ArgumentError(f"{fname}(): parameter '{name}' expects {t.dtype} values, got dtype {arr.dtype}")
    if arr.ndim != t.rank:
        raise ArgumentError(f"{fname}(): parameter '{name}' expects {_shape_text(t)} ({t.rank}-D), "
                            f"got shape {arr.shape}")
    for axis, (dim, size) in enumerate(zip(t.dims or (), arr.shape)):
        if isinstance(dim, int) and dim != size:
            raise ArgumentError(f"{fname}(): parameter '{name}' expects {t}, got shape {arr.shape} "
                                f"(axis {axis} must be {dim})")
        if isinstance(dim, str):
            if dim in shapes and shapes[dim][2] != size:
                other, other_axis, bound = shapes[dim]
                raise ArgumentError(f"{fname}(): parameter '{name}' expects {t}, got shape {arr.shape}: "
                                    f"{dim} = {bound} from '{other}' (axis {other_axis}) but {size} here")
            shapes.setdefault(dim, (name, axis, size))
    if ready:
        return arr
    out = np.ascontiguousarray(arr, dtype=_DTYPES[t.dtype])
    # Compiled code is specialised for writable arrays; a read-only one would not match it.
    return out if out.flags.writeable else out.copy()


def prepare(fname: str, params: list[tuple[str, Type]], args: tuple, kwargs: dict) -> list:
    """Check and normalise call arguments (positional or by name) for ``params``."""
    if not kwargs and len(args) == len(params):
        shapes: dict[str, tuple[str, int, int]] = {}
        return [_scalar(fname, name, t, v) if t.rank == 0 else _array(fname, name, t, v, shapes)
                for (name, t), v in zip(params, args)]
    names = [n for n, _ in params]
    if len(args) > len(params):
        raise ArgumentError(f"{fname}() takes {len(params)} argument(s) ({', '.join(names)}), got {len(args)}")
    values = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            raise ArgumentError(f"{fname}() has no parameter '{key}'; parameters: {', '.join(names)}")
        if key in values:
            raise ArgumentError(f"{fname}() got parameter '{key}' twice")
        values[key] = value
    missing = [n for n in names if n not in values]
    if missing:
        raise ArgumentError(f"{fname}() missing argument(s): {', '.join(missing)} "
                            f"(takes {', '.join(names)})")
    shapes: dict[str, tuple[str, int, int]] = {}
    out = []
    for name, t in params:
        v = values[name]
        out.append(_scalar(fname, name, t, v) if t.rank == 0 else _array(fname, name, t, v, shapes))
    return out


def convert_result(value, t: Type):
    """Compiled results to what Python users expect: floats, ints, bools and numpy arrays."""
    if t.rank:
        return value
    return {"float": float, "int": int, "bool": bool}[t.dtype](value)
