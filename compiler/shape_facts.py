"""What the emitter knows about array shapes and checked indices at a point of the generated code.

Every shape or index check in a generated function is a ``raise`` site, and each one costs Numba
and LLVM a block that releases every live array: about 30 ms of compile time per check in
lstm's gradient. A check is left out when an earlier one on every path already guarantees it:

- equal extents: ``x.shape[0]`` and ``y.shape[0]`` are known equal once a passed shape check
  compared them, when one array was made with the other's extents (``_np.empty``, ``zeros_like``,
  a copy, an alias, a row), or when an ``assert`` compared two ``dim`` values;
- checked indices: an index checked earlier against an extent is in range of every array
  known to have that extent.

- slice lengths: ``x[1:n]`` and ``z[0:n-1]`` have equal lengths when ``x`` and ``z`` have equal
  extents ``n`` (``slice_length``), as the right-hand side of a stencil (ode's) needs.

Facts are terms (``"x.shape[0]"``, the name of an int variable that holds an extent, an int
variable plus a constant ``"n-1"``, a slice's length ``"len[n-1]"``) in equivalence classes, and index checks as (array, axis, index text). Reassigning a variable drops
every fact that names it; a loop or branch starts from the facts before it minus those naming a
variable it assigns, and the facts it learns are dropped after it (it may not run).
"""
from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_OFFSET = re.compile(r"([A-Za-z_][A-Za-z_0-9]*(?:\.shape\[\d+\])?)([+-]\d+)")   # "n-1": the int n minus 1


def _names(term: str) -> set[str]:
    """The variables a term (``"x.shape[0]"``, ``"n"``, ``"3"``, ``"n-1"``, a slice's length
    ``"len[x.shape[0]-1]"``) or an index text reads."""
    if term.startswith("len["):
        term = term[4:]
    return set(_NAME.findall(term.split(".shape[")[0]))


class ShapeFacts:
    def __init__(self) -> None:
        self.classes: list[set[str]] = []
        self.indices: set[tuple[str, int, str]] = set()
        self.equalities: dict[str, tuple[str, str]] = {}   # bool variable -> the terms it compares

    def copy(self) -> "ShapeFacts":
        new = ShapeFacts()
        new.classes = [set(c) for c in self.classes]
        new.indices = set(self.indices)
        new.equalities = dict(self.equalities)
        return new

    def _find(self, term: str) -> set[str] | None:
        return next((c for c in self.classes if term in c), None)

    def equal(self, a: str, b: str) -> bool:
        if a == b:
            return True
        c = self._find(a)
        return c is not None and b in c

    def members(self, term: str) -> set[str]:
        """``term`` and every term known equal to it."""
        return (self._find(term) or set()) | {term}

    def add_equal(self, a: str, b: str) -> None:
        if self.equal(a, b):
            return
        ca, cb = self._find(a), self._find(b)
        merged = (ca or {a}) | (cb or {b})
        self.classes = [c for c in self.classes if c is not ca and c is not cb] + [merged]

    def offset_of(self, term: str, extent: str) -> int | None:
        """``k`` if ``term`` is known to equal ``extent + k`` (``n - 1`` with ``n`` the extent), else None."""
        for member in self.members(term):
            if self.equal(member, extent):
                return 0
            m = _OFFSET.fullmatch(member)
            if m and self.equal(m.group(1), extent):
                return int(m.group(2))
        return None

    def slice_length(self, array: str, lo: str, hi: str) -> str | None:
        """A term for the length of ``array[lo:hi]`` (rank 1) that another slice's length shares
        exactly when they are equal, or None: for a literal ``lo = c >= 0`` and ``hi`` known to
        be the extent ``n`` plus ``k <= 0``, the length is ``max(0, n + k - c)`` whatever ``n``
        is, as long as ``c >= -k - 2`` (for a smaller ``n`` a negative ``hi`` counts from the
        end: ``a[0:n - 3]`` of a 2-element array has one element)."""
        extent = f"{array}.shape[0]"
        k = self.offset_of(hi, extent)
        if not re.fullmatch(r"\d+", lo) or k is None or k > 0 or int(lo) < -k - 2:
            return None
        return f"len[{min(self.members(extent))}{k - int(lo):+d}]"

    def checked(self, array: str, axis: int, index: str) -> bool:
        """Whether ``index`` is known in range on ``axis`` of ``array``: it was checked against
        this extent or one known equal to it."""
        extent = f"{array}.shape[{axis}]"
        return any(i == index and self.equal(extent, f"{a}.shape[{ax}]") for a, ax, i in self.indices)

    def add_checked(self, array: str, axis: int, index: str) -> None:
        self.indices.add((array, axis, index))

    def record_eq(self, flag: str, a: str, b: str) -> None:
        self.equalities[flag] = (a, b)

    def holds(self, flag: str) -> bool:
        """Whether ``flag`` compares two terms already known equal (an assert of it cannot fail)."""
        return flag in self.equalities and self.equal(*self.equalities[flag])

    def asserted(self, flag: str) -> None:
        """``flag`` was just asserted true: the extents it compared are equal."""
        if flag in self.equalities:
            self.add_equal(*self.equalities[flag])

    def forget(self, names: set[str]) -> None:
        """Variables ``names`` get new values: drop every fact that mentions one of them."""
        if not names:
            return
        self.classes = [k for k in ({t for t in c if not _names(t) & names} for c in self.classes) if len(k) > 1]
        self.indices = {k for k in self.indices if not ({k[0]} | _names(k[2])) & names}
        self.equalities = {f: ab for f, ab in self.equalities.items()
                           if f not in names and not (_names(ab[0]) | _names(ab[1])) & names}
