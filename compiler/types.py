"""Types of .ad values: a dtype (float, int, bool) and a rank, with the declared dims kept for
messages and argument checks (dims never take part in type equality)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Type:
    dtype: str
    rank: int = 0
    dims: tuple | None = field(default=None, compare=False, hash=False)

    @property
    def is_float(self) -> bool:
        return self.dtype == "float"

    @property
    def is_numeric(self) -> bool:
        return self.dtype in ("float", "int")

    def with_dtype(self, dtype: str) -> "Type":
        return Type(dtype, self.rank, self.dims)

    def __str__(self) -> str:
        if self.rank == 0:
            return self.dtype
        dims = self.dims if self.dims and len(self.dims) == self.rank else (":",) * self.rank
        return f"{self.dtype}[{', '.join(str(d) for d in dims)}]"


FLOAT = Type("float")
INT = Type("int")
BOOL = Type("bool")


def promote(a: Type, b: Type) -> str | None:
    """The dtype of arithmetic between ``a`` and ``b`` (int promotes to float), or None."""
    if not (a.is_numeric and b.is_numeric):
        return None
    return "float" if "float" in (a.dtype, b.dtype) else "int"


def assignable(target: Type, value: Type) -> bool:
    """Whether a value of type ``value`` may be stored where ``target`` is expected."""
    if target.rank != value.rank:
        return False
    return target.dtype == value.dtype or (target.dtype == "float" and value.dtype == "int")
