"""Front end: .ad text -> AST, with Lark (LALR + Indenter) and readable syntax errors.

``parse(text, filename)`` is the one entry point. Lark's exceptions never escape: every syntax
problem becomes an ``AdError`` at ``file:line:col`` with what was expected and, where a common
slip explains it, a hint.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.indenter import Indenter

from . import astnodes as A
from .errors import AdError, Span


class AdIndenter(Indenter):
    """Turns leading whitespace into _INDENT/_DEDENT; newlines inside (...) and [...] are ignored."""

    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def handle_NL(self, token):
        if self.paren_level > 0:
            return
        yield token
        indent_str = token.rsplit("\n", 1)[1]
        indent = len(indent_str)
        if indent > self.indent_level[-1]:
            self.indent_level.append(indent)
            yield Token.new_borrow_pos(self.INDENT_type, indent_str, token)
        else:
            while indent < self.indent_level[-1]:
                self.indent_level.pop()
                yield Token.new_borrow_pos(self.DEDENT_type, indent_str, token)
            if indent != self.indent_level[-1]:
                line = token.end_line
                raise AdError("syntax error",
                              f"unindent to column {indent + 1} does not match any outer block",
                              Span(line, indent + 1),
                              f"indent this line to column {self.indent_level[-1] + 1}")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (resources.files("adc") / "grammar" / "ad.lark").read_text()
    return Lark(grammar, start="module", parser="lalr", postlex=AdIndenter(),
                propagate_positions=True, maybe_placeholders=True)


def _span(meta_or_token) -> Span:
    if isinstance(meta_or_token, Token):
        return Span(meta_or_token.line, meta_or_token.column, meta_or_token.end_column)
    end = meta_or_token.end_column if meta_or_token.end_line == meta_or_token.line else None
    return Span(meta_or_token.line, meta_or_token.column, end)


@v_args(meta=True)
class _ToAst(Transformer):
    """Parse tree -> AST dataclasses (one method per grammar rule or alias)."""

    def module(self, meta, items):
        consts = [i for i in items if isinstance(i, A.ConstDef)]
        funcs = [i for i in items if isinstance(i, A.FuncDef)]
        return A.Module(Span(1, 1), consts, funcs)

    def const_def(self, meta, c):
        return A.ConstDef(_span(c[0]), str(c[0]), c[1])

    def func_def(self, meta, c):
        name, *rest = c
        ret, body = rest[-2], rest[-1]
        params = [p for p in rest[:-2] if p is not None]
        types, is_tuple = ret
        return A.FuncDef(_span(name), str(name), params, types, is_tuple, body)

    def param(self, meta, c):
        return A.Param(_span(c[0]), str(c[0]), c[1])

    def type(self, meta, c):
        base, *dims = c
        dims = [d for d in dims if d is not None]
        return A.TypeExpr(_span(meta), str(base), dims)

    def dim_name(self, meta, c):
        return str(c[0])

    def dim_int(self, meta, c):
        return int(c[0])

    def ret_type(self, meta, c):
        return [c[0]], False

    def tuple_type(self, meta, c):
        return [t for t in c if t is not None], True

    def suite(self, meta, c):
        return list(c)

    def assign(self, meta, c):
        return A.Assign(_span(meta), c[0], c[1])

    def aug_assign(self, meta, c):
        target, op, value = c
        return A.AugAssign(Span(op.line, op.column, op.end_column), target, str(op)[0], value)

    def tuple_assign(self, meta, c):
        names = c[:-1]
        return A.TupleAssign(_span(meta), [str(n) for n in names], [_span(n) for n in names], c[-1])

    def target(self, meta, c):
        return A.Target(_span(c[0]), str(c[0]))

    def index_target(self, meta, c):
        return A.Target(_span(c[0]), str(c[0]), c[1])

    def return_stmt(self, meta, c):
        return A.Return(_span(meta), [e for e in c if e is not None])

    def break_stmt(self, meta, c):
        return A.Break(_span(meta))

    def continue_stmt(self, meta, c):
        return A.Continue(_span(meta))

    def pass_stmt(self, meta, c):
        return A.Pass(_span(meta))

    def assert_stmt(self, meta, c):
        cond, msg = c
        text = str(msg)[1:-1] if msg is not None else "assertion failed"
        return A.Assert(_span(meta), cond, text)

    def if_stmt(self, meta, c):
        cond, body, *rest = c
        branches = [(cond, body)]
        orelse: list = []
        for item in rest:
            if item is None:
                continue
            if item[0] == "elif":
                branches.append((item[1], item[2]))
            else:
                orelse = item[1]
        return A.If(_span(meta), branches, orelse)

    def elif_clause(self, meta, c):
        return ("elif", c[0], c[1])

    def else_clause(self, meta, c):
        return ("else", c[0])

    def for_stmt(self, meta, c):
        return A.For(_span(c[0]), str(c[0]), c[1], c[2])

    def while_stmt(self, meta, c):
        return A.While(_span(meta), c[0], c[1])

    def with_stmt(self, meta, c):
        return A.With(_span(c[0]), str(c[0]), c[1])

    def cond_expr(self, meta, c):
        return A.IfExp(_span(meta), c[1], c[0], c[2])

    def or_op(self, meta, c):
        return A.BoolOp(_span(meta), "or", c[0], c[1])

    def and_op(self, meta, c):
        return A.BoolOp(_span(meta), "and", c[0], c[1])

    def not_op(self, meta, c):
        return A.UnaryOp(_span(meta), "not", c[0])

    def _cmp(op):
        return lambda self, meta, c: A.Compare(_span(meta), op, c[0], c[1])

    lt, le, gt, ge, eq, ne = _cmp("<"), _cmp("<="), _cmp(">"), _cmp(">="), _cmp("=="), _cmp("!=")

    def _bin(op):
        return lambda self, meta, c: A.BinOp(_span(meta), op, c[0], c[1])

    add, sub, mul, div = _bin("+"), _bin("-"), _bin("*"), _bin("/")
    floordiv, mod, matmul, pow_op = _bin("//"), _bin("%"), _bin("@"), _bin("**")

    def neg(self, meta, c):
        return A.UnaryOp(_span(meta), "-", c[0])

    def pos(self, meta, c):
        return c[0]

    def call(self, meta, c):
        func, *args = c
        if not isinstance(func, A.Name):
            raise AdError("syntax error", "only named functions can be called", func.span)
        return A.Call(_span(meta), func.id, [a for a in args if a is not None], func.span)

    def subscript(self, meta, c):
        return A.Index(_span(meta), c[0], c[1])

    def subscripts(self, meta, c):
        return list(c)

    def slice(self, meta, c):
        return A.Slice(_span(meta), c[0], c[1])

    def attribute(self, meta, c):
        return A.Attr(Span(c[1].line, c[1].column, c[1].end_column), c[0], str(c[1]))

    def name(self, meta, c):
        return A.Name(_span(c[0]), str(c[0]))

    def int_lit(self, meta, c):
        return A.Num(_span(c[0]), int(c[0]), True)

    def float_lit(self, meta, c):
        return A.Num(_span(c[0]), float(c[0]), False)

    def true_lit(self, meta, c):
        return A.Bool(_span(meta), True)

    def false_lit(self, meta, c):
        return A.Bool(_span(meta), False)

    def array_lit(self, meta, c):
        return A.ArrayLit(_span(meta), [e for e in c if e is not None])

    del _cmp, _bin


_TOKEN_NAMES = {
    "NAME": "a name", "INT": "an integer", "FLOAT": "a number", "STRING": "a string",
    "_NL": "end of line", "_INDENT": "an indented block", "_DEDENT": "the end of the block",
    "AUGOP": "'+=', '-=', '*=' or '/='", "$END": "end of file",
}


def _describe(terminal: str) -> str:
    if terminal in _TOKEN_NAMES:
        return _TOKEN_NAMES[terminal]
    for t in _parser().terminals:
        if t.name == terminal and t.pattern.type == "str":
            return repr(t.pattern.value)
    return terminal


def _expected(exc: UnexpectedInput) -> str:
    names = sorted({_describe(t) for t in (getattr(exc, "expected", None) or getattr(exc, "allowed", None) or [])})
    if not names:
        return ""
    if len(names) > 8:
        names = names[:8] + ["..."]
    return "expected " + ", ".join(names)


def _hint(exc: UnexpectedInput, line_text: str) -> str | None:
    head = line_text.strip().split(" ", 1)[0]
    tok = getattr(exc, "token", None)
    value = str(tok) if tok is not None else ""
    expected = set(getattr(exc, "expected", None) or [])
    if value == "=" and head in ("if", "elif", "while", "assert", "return"):
        return "to compare, use '=='"
    if value == "if" and line_text.strip().startswith("else if"):
        return "write 'elif' instead of 'else if'"
    if head == "def" and "COLON" in expected and "->" not in line_text:
        return "parameters need a type (x: float) and the function a return type (-> float)"
    if head == "def" and ":" in line_text and "->" not in line_text:
        return "declare the return type, e.g. 'def f(x: float) -> float:'"
    if head in ("if", "elif", "else", "while", "for", "def", "with") and "COLON" in expected:
        return f"'{head}' lines end with ':'"
    if isinstance(exc, UnexpectedToken) and tok is not None and tok.type == "_INDENT":
        return "this line is indented more than the line before it"
    if value in ("&&", "||", "!"):
        return "use 'and', 'or', 'not'"
    return None


def parse(text: str, filename: str = "<string>") -> A.Module:
    """Parse .ad source into an AST; raise ``AdError`` (never a Lark exception) on bad input."""
    try:
        return _parse(text, filename)
    except AdError as err:
        raise err.located(filename, text) from None


def _parse(text: str, filename: str) -> A.Module:
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" \t")
        lead = line[: len(line) - len(stripped)]
        if "\t" in lead and stripped and not stripped.startswith("#"):
            raise AdError("syntax error", "indentation contains a tab", Span(lineno, lead.index("\t") + 1),
                          "indent with spaces only (4 per level); tabs and spaces do not mix")
    source = text if text.endswith("\n") else text + "\n"
    lines = source.splitlines()
    try:
        tree = _parser().parse(source)
    except UnexpectedCharacters as exc:
        ch = source[exc.pos_in_stream] if exc.pos_in_stream < len(source) else ""
        hint = "use 'and', 'or', 'not'" if ch in "&|!" else None
        if ch in "\"'":
            hint = "strings are only allowed as assert messages"
        raise AdError("syntax error", f"unexpected character {ch!r}", Span(exc.line, exc.column), hint) from None
    except UnexpectedToken as exc:
        tok = exc.token
        line_text = lines[tok.line - 1] if tok.line and 0 < tok.line <= len(lines) else ""
        if tok.type == "$END":
            raise AdError("syntax error", f"unexpected end of file; {_expected(exc)}",
                          Span(len(lines), max(1, len(lines[-1]) + 1) if lines else 1)) from None
        what = {"_NL": "end of line", "_INDENT": "indent", "_DEDENT": "dedent"}.get(tok.type, repr(str(tok)))
        line, col = tok.line, tok.column
        if tok.type == "_NL":
            line, col = tok.line, len(lines[tok.line - 1]) + 1 if tok.line <= len(lines) else 1
            line_text = lines[line - 1] if line <= len(lines) else ""
        elif tok.type in ("_INDENT", "_DEDENT"):
            line, col = tok.end_line, len(str(tok)) + 1
            line_text = lines[line - 1] if line <= len(lines) else ""
        if line > len(lines):
            raise AdError("syntax error", f"unexpected end of file; {_expected(exc)}",
                          Span(len(lines), len(lines[-1]) + 1 if lines else 1)) from None
        end = tok.end_column if tok.type not in ("_NL", "_INDENT", "_DEDENT") else None
        raise AdError("syntax error", f"unexpected {what}; {_expected(exc)}", Span(line, col, end),
                      _hint(exc, line_text)) from None
    except UnexpectedEOF as exc:
        raise AdError("syntax error", f"unexpected end of file; {_expected(exc)}",
                      Span(len(lines), 1)) from None
    try:
        module = _ToAst().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, AdError):
            raise exc.orig_exc from None
        raise
    module.filename = filename
    module.source = text
    return module
