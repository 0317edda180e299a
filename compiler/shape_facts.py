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

Facts are terms (``"x.shape[0]"``, the name of an int variable that holds an extent, a slice's
length ``"len[n-1]"``) in equivalence classes,
int variables' values as linear forms over terms, and index checks as (array, axis, index
text). Reassigning a variable drops
every fact that names it; a loop or branch starts from the facts before it minus those naming a
variable it assigns, and the facts it learns are dropped after it (it may not run).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
EXTENT = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)\.shape\[\d+\]")     # an array's extent: "x.shape[0]"


def literal(text: str) -> int | None:
    """The value of an int literal's text (``3``, ``-1``, or ``(-1)`` as the emitter writes it), else None."""
    bare = text[1:-1] if text.startswith("(") and text.endswith(")") else text
    return int(bare) if re.fullmatch(r"-?\d+", bare) else None


def _names(term: str) -> set[str]:
    """The variables a term (``"x.shape[0]"``, ``"n"``, ``"3"``, a slice's length
    ``"len[x.shape[0]-1]"``) or an index text reads."""
    if term.startswith("len["):
        term = term[4:]
    return set(_NAME.findall(term.split(".shape[")[0]))


class ShapeFacts:
    def __init__(self) -> None:
        self.classes: list[set[str]] = []
        self.indices: set[tuple[str, int, str]] = set()
        self.equalities: dict[str, tuple[str, str]] = {}   # bool variable -> the terms it compares
        self.linear: dict[str, Linear] = {}                # int variable -> its value, linear in terms

    def copy(self) -> "ShapeFacts":
        new = ShapeFacts()
        new.classes = [set(c) for c in self.classes]
        new.indices = set(self.indices)
        new.equalities = dict(self.equalities)
        new.linear = dict(self.linear)
        return new

    def set_linear(self, var: str, value: "Linear") -> None:
        """``var`` holds ``value`` (``t = 2 * b`` is ``{b: 2}``)."""
        self.linear[var] = value

    def form(self, text: str) -> "Linear":
        """The value of an int literal, variable or extent as a linear form over terms."""
        if literal(text) is not None:
            return Linear({}, literal(text))
        for member in sorted(self.members(text)):
            if member in self.linear:
                return self.linear[member]
        return Linear({text: 1}, 0)

    def nonnegative(self, value: "Linear") -> bool:
        """Whether ``value`` is >= 0 for sure: a sum of extents with coefficients >= 0 (after
        terms known equal are merged) and a constant >= 0."""
        merged = self._canonical(value)
        return merged.const >= 0 and all(c >= 0 and any(EXTENT.fullmatch(m) for m in self.members(t))
                                         for t, c in merged.terms.items())

    def _canonical(self, value: "Linear") -> "Linear":
        terms: dict[str, int] = {}
        for t, c in value.terms.items():
            rep = min(self.members(t))
            terms[rep] = terms.get(rep, 0) + c
        return Linear({t: c for t, c in terms.items() if c}, value.const)

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

    def slice_length(self, array: str, lo: str, hi: str) -> str | None:
        """A term for the length of ``array[lo:hi]`` (rank 1) that another slice's length shares
        exactly when they are equal, or None. Known in bounds (``0 <= lo <= hi <= n`` as linear
        forms over extents: lstm's gates ``w[b:2 * b]`` of a row of ``4 * b``), it is ``hi - lo``.
        For a literal ``lo = c >= 0`` and ``hi`` known to be the extent ``n`` plus ``k <= 0``,
        it is ``max(0, n + k - c)`` whatever ``n`` is, as long as ``c >= -k - 2`` (for a
        smaller ``n`` a negative ``hi`` counts from the end: ``a[0:n - 3]`` of a 2-element
        array has one element)."""
        extent = f"{array}.shape[0]"
        low, high, whole = self.form(lo), self.form(hi), self.form(extent)
        if self.nonnegative(low) and self.nonnegative(high - low) and self.nonnegative(whole - high):
            length = self._canonical(high - low)     # in bounds: hi - lo elements
            if length.const == 0 and list(length.terms.values()) == [1]:
                return next(iter(length.terms))
            return f"len[{length}]"
        offset, c = self._canonical(high - whole), literal(lo)      # hi = n + k, lo = c
        if c is None or c < 0 or offset.terms or offset.const > 0 or c < -offset.const - 2:
            return None
        return f"len[{min(self.members(extent))}{offset.const - c:+d}]"

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

    def forget_keeping_extents(self, names: set[str], kept: dict[str, int]) -> None:
        """``forget(names)``, except that the extents of the arrays ``kept`` (name -> rank),
        which get new values of the same extents, stay equal to what they were equal to."""
        saved = [(term, m) for v, rank in kept.items() for term in (f"{v}.shape[{k}]" for k in range(rank))
                 for m in self.members(term) if m != term and not _names(m) & names]
        self.forget(names)
        for term, m in saved:
            self.add_equal(term, m)

    def forget(self, names: set[str]) -> None:
        """Variables ``names`` get new values: drop every fact that mentions one of them."""
        if not names:
            return
        self.classes = [k for k in ({t for t in c if not _names(t) & names} for c in self.classes) if len(k) > 1]
        self.indices = {k for k in self.indices if not ({k[0]} | _names(k[2])) & names}
        self.equalities = {f: ab for f, ab in self.equalities.items()
                           if f not in names and not (_names(ab[0]) | _names(ab[1])) & names}
        self.linear = {v: value for v, value in self.linear.items()
                       if v not in names and not any(_names(t) & names for t in value.terms)}


@dataclass(frozen=True)
class Linear:
    """An int value as ``const + sum(coefficient * term)``, terms being extents or int variables."""

    terms: dict
    const: int

    def __sub__(self, other: "Linear") -> "Linear":
        terms = dict(self.terms)
        for t, c in other.terms.items():
            terms[t] = terms.get(t, 0) - c
        return Linear(terms, self.const - other.const)

    def __add__(self, other: "Linear") -> "Linear":
        return self - other.scaled(-1)

    def scaled(self, k: int) -> "Linear":
        return Linear({t: c * k for t, c in self.terms.items()}, self.const * k)

    def __str__(self) -> str:
        return " + ".join([f"{c}*{t}" for t, c in sorted(self.terms.items())] + [str(self.const)])
