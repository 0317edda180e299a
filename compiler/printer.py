"""Readable listing of IR functions in .ad syntax (used by `adc graph` and `adc adjoint`).

Every statement prints on one line, with the source line it came from as a trailing comment,
so the listing of a forward function or of an adjoint can be read like hand-written code.
"""
from __future__ import annotations

from . import ir
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
    if op.prim == "push":
        text = f"push({args[1]})"
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


def format_function(fn: ir.Function) -> str:
    params = ", ".join(f"{p.name}: {t}" for p, t in zip(fn.params, fn.param_types))
    results = [str(t) for t in fn.result_types]
    ret = f"({', '.join(results)})" if fn.returns_tuple or len(results) != 1 else results[0]
    lines = [f"def {fn.name}({params}) -> {ret}:"]
    lines.extend(format_block(fn.body) or ["    pass"])
    return "\n".join(lines)
