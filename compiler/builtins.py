"""Typing rules of the builtin functions of .ad, one entry per name.

Each rule takes the argument types (already checked) and returns the result type, or raises
``BuiltinTypeError`` with a message the checker reports at the call. How each builtin is
computed lives in the lowering (``lower.py``), which maps it onto IR primitives.
"""
from __future__ import annotations

from typing import Callable

from .types import BOOL, FLOAT, INT, Type


class BuiltinTypeError(Exception):
    """Raised by a typing rule; ``arg`` is the index of the offending argument, if one is."""

    def __init__(self, message: str, arg: int | None = None):
        super().__init__(message)
        self.arg = arg


ELEMENTWISE = ("sin", "cos", "tan", "asin", "acos", "atan", "exp", "log", "log1p", "expm1", "sqrt",
               "tanh", "sigmoid", "softplus", "relu", "sign", "floor")


def _numeric(t: Type, i: int, what: str = "a number or an array of numbers") -> None:
    if not t.is_numeric:
        raise BuiltinTypeError(f"argument {i + 1} must be {what}, got {t}", i)


def _float_array(t: Type, i: int, rank: int | None = None) -> None:
    if not t.is_numeric or t.rank == 0 or (rank is not None and t.rank != rank):
        want = f"a {rank}-D float array" if rank else "a float array"
        raise BuiltinTypeError(f"argument {i + 1} must be {want}, got {t}", i)


def _int(t: Type, i: int) -> None:
    if t != INT:
        raise BuiltinTypeError(f"argument {i + 1} must be an int, got {t}", i)


def broadcast_rank(a: Type, b: Type) -> int:
    return max(a.rank, b.rank)


def _elementwise(args):
    _numeric(args[0], 0)
    return Type("float", args[0].rank)


def _abs(args):
    _numeric(args[0], 0)
    return Type(args[0].dtype, args[0].rank)


def _binary_elementwise(args):
    _numeric(args[0], 0)
    _numeric(args[1], 1)
    dtype = "float" if "float" in (args[0].dtype, args[1].dtype) else "int"
    return Type(dtype, broadcast_rank(args[0], args[1]))


def _pow(args):
    _numeric(args[0], 0)
    _numeric(args[1], 1)
    return Type("float", broadcast_rank(args[0], args[1]))


def _max_min(args):
    if len(args) == 1:
        _float_array(args[0], 0)
        return Type(args[0].dtype, 0)
    for i, a in enumerate(args):
        if a.rank != 0:
            raise BuiltinTypeError(f"two values must be scalars (got {a}); "
                                   "use maximum/minimum for arrays", i)
        _numeric(a, i)
    return Type("float" if "float" in (args[0].dtype, args[1].dtype) else "int")


def _reduction(args):
    _float_array(args[0], 0)
    return FLOAT


def _sum(args):
    _float_array(args[0], 0)
    return Type("int" if args[0].dtype == "int" else "float")


def _dot(args):
    _float_array(args[0], 0, 1)
    _float_array(args[1], 1, 1)
    return FLOAT


def _constructor(args):
    for i, a in enumerate(args):
        _int(a, i)
    return Type("float", len(args))


def _full(args):
    for i, a in enumerate(args[:-1]):
        _int(a, i)
    if args[-1].rank != 0 or not args[-1].is_numeric:
        raise BuiltinTypeError(f"the fill value must be a number, got {args[-1]}", len(args) - 1)
    return Type("float", len(args) - 1)


def _eye(args):
    for i, a in enumerate(args):
        _int(a, i)
    return Type("float", 2)


def _arange(args):
    _int(args[0], 0)
    return Type("float", 1)


def _len(args):
    if args[0].rank == 0:
        raise BuiltinTypeError(f"needs an array, got {args[0]}", 0)
    return INT


def _to_float(args):
    if args[0].rank != 0 or not args[0].is_numeric:
        raise BuiltinTypeError(f"takes a scalar number, got {args[0]}", 0)
    return FLOAT


def _to_int(args):
    if args[0].rank != 0 or not args[0].is_numeric:
        raise BuiltinTypeError(f"takes a scalar number, got {args[0]}", 0)
    return INT


def _transpose(args):
    _float_array(args[0], 0, 2)
    return Type(args[0].dtype, 2)


def _reshape(args):
    if args[0].rank == 0:
        raise BuiltinTypeError(f"needs an array, got {args[0]}", 0)
    for i, a in enumerate(args[1:], 1):
        _int(a, i)
    return Type(args[0].dtype, len(args) - 1)


def _outer(args):
    _float_array(args[0], 0, 1)
    _float_array(args[1], 1, 1)
    return Type("float", 2)


def _identity(args):
    return args[0]


def _same_shape_loss(args):
    _numeric(args[0], 0)
    _numeric(args[1], 1)
    if args[0].rank != args[1].rank:
        raise BuiltinTypeError(f"both arguments must have the same rank, got {args[0]} and {args[1]}", 1)
    return FLOAT


def _softmax(args):
    _float_array(args[0], 0, 1)
    return Type("float", 1)


def _cross_entropy(args):
    _float_array(args[0], 0, 1)
    _int(args[1], 1)
    return FLOAT


# name -> (min args, max args, typing rule)
SIGNATURES: dict[str, tuple[int, int, Callable[[list[Type]], Type]]] = {
    **{name: (1, 1, _elementwise) for name in ELEMENTWISE},
    "abs": (1, 1, _abs),
    "maximum": (2, 2, _binary_elementwise),
    "minimum": (2, 2, _binary_elementwise),
    "pow": (2, 2, _pow),
    "max": (1, 2, _max_min),
    "min": (1, 2, _max_min),
    "sum": (1, 1, _sum),
    "prod": (1, 1, _reduction),
    "mean": (1, 1, _reduction),
    "norm": (1, 1, _reduction),
    "logsumexp": (1, 1, _reduction),
    "dot": (2, 2, _dot),
    "zeros": (1, 3, _constructor),
    "ones": (1, 3, _constructor),
    "full": (2, 4, _full),
    "eye": (1, 2, _eye),
    "arange": (1, 1, _arange),
    "len": (1, 1, _len),
    "float": (1, 1, _to_float),
    "int": (1, 1, _to_int),
    "transpose": (1, 1, _transpose),
    "reshape": (2, 4, _reshape),
    "outer": (2, 2, _outer),
    "stop_gradient": (1, 1, _identity),
    "detach": (1, 1, _identity),
    "bce_with_logits": (2, 2, _same_shape_loss),
    "mse": (2, 2, _same_shape_loss),
    "softmax": (1, 1, _softmax),
    "log_softmax": (1, 1, _softmax),
    "cross_entropy": (2, 2, _cross_entropy),
}

RESERVED = set(SIGNATURES) | {"range", "no_grad", "True", "False", "float", "int", "bool", "const"}

__all__ = ["SIGNATURES", "RESERVED", "ELEMENTWISE", "BuiltinTypeError", "BOOL", "FLOAT", "INT"]
