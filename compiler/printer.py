"""Readable listing of IR functions in .ad syntax (used by `adc graph` and `adc adjoint`).

Every statement prints on one line, with the source line it came from as a trailing comment,
so the listing of a forward function or of an adjoint can be read like hand-written code.
"""
from __future__ import annotations

from . import ir
from .passes.analysis import consumer, use_counts
from .primitives import PRIMS

COMMENT_COL = 48


def operand(o: ir.Operand) -> str:
    if isinstance(o, ir.Const):
        if isinstance(o.value, bool):
            return "True" if o.value else "False"
        if isinstance(o.value, float):
            return repr(o.value)
        return str(o.value)
    return o.name


def format_op(op: ir.Op) -> str:
    prim = PRIMS[op.prim]
    args = [operand(a) for a in op.args]
    text = prim.fmt.format(*args, args=", ".join(args), rest=", ".join(args[1:]),
                           rest2=", ".join(args[2:]))
    if op.target is not None:
        text = f"{op.target.name} = {text}"
    if op.nograd:
        text += "    # no_grad"
    return text


def _with_line(text: str, line: int, indent: str) -> str:
    body = indent + text
    if line:
        body = body.ljust(COMMENT_COL) + f"  # line {line}"
    return body


def format_block(stmts: list[ir.Stmt], indent: str = "    ") -> list[str]:
    out: list[str] = []
    inner = indent + "    "
    for st in stmts:
        if isinstance(st, ir.Op):
            out.append(_with_line(format_op(st), st.line, indent))
        elif isinstance(st, ir.For):
            head = f"for {st.var.name} in range({operand(st.lo)}, {operand(st.hi)}, {operand(st.step)}):"
            out.append(_with_line(head, st.line, indent))
            out.extend(format_block(st.body, inner) or [inner + "pass"])
        elif isinstance(st, ir.While):
            if st.cond_body:
                out.append(_with_line("while True:", st.line, indent))
                out.extend(format_block(st.cond_body, inner))
                out.append(f"{inner}if not {operand(st.cond)}: break")
                out.extend(format_block(st.body, inner))
            else:
                out.append(_with_line(f"while {operand(st.cond)}:", st.line, indent))
                out.extend(format_block(st.body, inner) or [inner + "pass"])
        elif isinstance(st, ir.If):
            out.append(_with_line(f"if {operand(st.cond)}:", st.line, indent))
            out.extend(format_block(st.then, inner) or [inner + "pass"])
            if st.orelse:
                out.append(f"{indent}else:")
                out.extend(format_block(st.orelse, inner))
        elif isinstance(st, ir.Assert):
            out.append(_with_line(f"assert {operand(st.cond)}, {st.message!r}", st.line, indent))
        elif isinstance(st, ir.Return):
            out.append(_with_line("return " + ", ".join(operand(v) for v in st.values), st.line, indent))
    return out


def _header(fn: ir.Function) -> str:
    params = ", ".join(f"{p.name}: {t}" for p, t in zip(fn.params, fn.param_types))
    results = [str(t) for t in fn.result_types]
    ret = f"({', '.join(results)})" if fn.returns_tuple or len(results) != 1 else results[0]
    return f"def {fn.name}({params}) -> {ret}:"


def format_function(fn: ir.Function) -> str:
    """The IR of ``fn``, one operation per line (``adc graph``)."""
    return "\n".join([_header(fn)] + (format_block(fn.body) or ["    pass"]))


# ---- the readable listing: single-use temporaries folded back into expressions --------------
_PREC = {"or": 1, "and": 2, "not": 3, "lt": 4, "le": 4, "gt": 4, "ge": 4, "eq": 4, "ne": 4,
         "add": 5, "sub": 5, "mul": 6, "div": 6, "floordiv": 6, "mod": 6, "matmul": 6, "neg": 7,
         "pow": 8}
_ATOM = 9


class _Readable:
    """Prints an IR function with each temporary that is used once, in the same block and before
    anything it reads changes, written inline at its use (``z_bar = y_bar * (y * (1.0 - y))``)."""

    def __init__(self, fn: ir.Function):
        self.fn = fn
        self.uses = use_counts(fn.body)
        self.leaves: dict[ir.Var, set[ir.Var]] = {}   # what an inlined expression really reads

    def _inlinable(self, st: ir.Stmt, block: list[ir.Stmt], k: int) -> bool:
        if not isinstance(st, ir.Op) or st.nograd:
            return False
        reads = set().union(*(self.leaves.get(a, {a}) for a in st.args if isinstance(a, ir.Var)))
        if consumer(block, k, self.uses, reads) is None:
            return False
        self.leaves[st.target] = reads
        return True

    def expr(self, o: ir.Operand, env: dict) -> tuple[str, int, str]:
        """(text, precedence, primitive) of an operand, inlining a pending expression."""
        if isinstance(o, ir.Var) and o in env:
            return env.pop(o)
        return operand(o), _ATOM, ""

    def render(self, op: ir.Op, env: dict) -> tuple[str, int, str]:
        parts = [self.expr(a, env) for a in op.args]
        prec = _PREC.get(op.prim, _ATOM)

        def wrap(part, need, right=False):
            text, q, prim = part
            associative = prim == op.prim and prim in ("add", "mul")    # shown as a + b + c
            return f"({text})" if q < need or (right and q == need and not associative) else text

        if op.prim in _PREC and len(parts) == 2:
            sym = PRIMS[op.prim].fmt.replace("{0}", "").replace("{1}", "").strip()
            left_need = prec + 1 if op.prim == "pow" else prec
            return f"{wrap(parts[0], left_need)} {sym} {wrap(parts[1], prec, right=True)}", prec, op.prim
        if op.prim in ("neg", "not"):
            sym = "-" if op.prim == "neg" else "not "
            return f"{sym}{wrap(parts[0], prec + (op.prim == 'neg'))}", prec, op.prim
        if op.prim == "id":
            return parts[0]
        texts = [t for t, _, _ in parts]
        text = PRIMS[op.prim].fmt.format(*texts, args=", ".join(texts), rest=", ".join(texts[1:]),
                                         rest2=", ".join(texts[2:]))
        return text, _ATOM, op.prim

    def block(self, stmts: list[ir.Stmt], indent: str) -> list[str]:
        out: list[str] = []
        env: dict = {}
        for k, st in enumerate(stmts):
            if self._inlinable(st, stmts, k):
                env[st.target] = self.render(st, env)
                continue
            if isinstance(st, ir.Op):
                if PRIMS[st.prim].mutates:          # array writes, tape pushes
                    text = self._mutation(st, env)
                else:
                    text = f"{st.target.name} = {self.render(st, env)[0]}"
                out.append(_with_line(text, st.line, indent))
            elif isinstance(st, ir.Return):
                values = ", ".join(self.expr(v, env)[0] for v in st.values)
                out.append(_with_line(f"return {values}", st.line, indent))
            elif isinstance(st, ir.Assert):
                out.append(_with_line(f"assert {self.expr(st.cond, env)[0]}, {st.message!r}", st.line, indent))
            else:
                out.extend(self.region(st, indent, env))
        return out

    def _mutation(self, op: ir.Op, env: dict) -> str:
        texts = [self.expr(a, env)[0] for a in op.args]
        return PRIMS[op.prim].fmt.format(*texts, args=", ".join(texts), rest=", ".join(texts[1:]),
                                         rest2=", ".join(texts[2:]))

    def region(self, st: ir.Stmt, indent: str, env: dict) -> list[str]:
        inner = indent + "    "
        if isinstance(st, ir.For):
            bounds = ", ".join(self.expr(x, env)[0] for x in (st.lo, st.hi, st.step))
            return ([_with_line(f"for {st.var.name} in range({bounds}):", st.line, indent)]
                    + (self.block(st.body, inner) or [inner + "pass"]))
        if isinstance(st, ir.While):
            if st.cond_body:
                return ([_with_line("while True:", st.line, indent)] + self.block(st.cond_body, inner)
                        + [f"{inner}if not {operand(st.cond)}: break"] + self.block(st.body, inner))
            return ([_with_line(f"while {self.expr(st.cond, env)[0]}:", st.line, indent)]
                    + (self.block(st.body, inner) or [inner + "pass"]))
        lines = [_with_line(f"if {self.expr(st.cond, env)[0]}:", st.line, indent)]
        lines += self.block(st.then, inner) or [inner + "pass"]
        if st.orelse:
            lines += [f"{indent}else:"] + self.block(st.orelse, inner)
        return lines


def format_readable(fn: ir.Function) -> str:
    """The listing for people: like ``format_function``, with single-use temporaries inlined."""
    return "\n".join([_header(fn)] + (_Readable(fn).block(fn.body, "    ") or ["    pass"]))
