"""Front end: .ad text -> AST, with Lark (LALR + Indenter) and readable syntax errors.

``parse(text, filename)`` is the one entry point. Lark's exceptions never escape: every syntax
problem becomes an ``AdError`` at ``file:line:col`` with what was expected and, where a common
slip explains it, a hint.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken, VisitError
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

    def process(self, stream):
        """Also track the open brackets and an unmatched closing one, for clearer errors."""
        self.open_brackets: list[Token] = []
        self.unmatched: Token | None = None
        return super().process(self._track_brackets(stream))

    def _track_brackets(self, stream):
        for tok in stream:
            if tok.type in self.OPEN_PAREN_types:
                self.open_brackets.append(tok)
            elif tok.type in self.CLOSE_PAREN_types:
                if self.open_brackets:
                    self.open_brackets.pop()
                else:
                    self.unmatched = tok
            yield tok

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
    "AUGOP": "'+=', '-=', '*=', '/='", "$END": "end of file",
}
_EXPR_START = {"a name", "an integer", "a number", "'('", "'['", "'-'", "'+'", "'True'", "'False'", "'not'"}
_OPERATORS = {"'+'", "'-'", "'*'", "'/'", "'//'", "'%'", "'@'", "'**'", "'<'", "'<='", "'>'", "'>='",
              "'=='", "'!='", "'and'", "'or'", "'if'", "'.'", "'('", "'['"}
_STATEMENTS = {"'assert'", "'break'", "'continue'", "'for'", "'if'", "'pass'", "'return'", "'while'",
               "'with'", "a name"}
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
_BLOCK_HEADS = ("if", "elif", "else", "while", "for", "def", "with")
_KEYWORDS = {"and", "assert", "break", "const", "continue", "def", "elif", "else", "for", "if", "in", "not",
             "or", "pass", "return", "while", "with", "True", "False"}


def _describe(terminal: str) -> str:
    if terminal in _TOKEN_NAMES:
        return _TOKEN_NAMES[terminal]
    for t in _parser().terminals:
        if t.name == terminal and t.pattern.type == "str":
            return repr(t.pattern.value)
    return terminal


def _expected(accepts: set[str]) -> str:
    """'expected ...' for the terminals the parser would accept, with big groups named."""
    names = {_describe(t) for t in accepts}
    if {"a name", "an integer", "a number"} <= names:
        names = names - _EXPR_START | {"an expression"}
    elif {"'*'", "'/'"} <= names:
        names = names - _OPERATORS | {"an operator"}
    if {"'return'", "'for'"} <= names:
        names = names - _STATEMENTS | {"a statement"}
    ordered = sorted(names, key=lambda n: (n.startswith("'"), n))
    if len(ordered) > 8:
        ordered = ordered[:8] + ["..."]
    if not ordered:
        return ""
    listed = ordered[0] if len(ordered) == 1 else ", ".join(ordered[:-1]) + " or " + ordered[-1]
    return "; expected " + listed


def _number_error(line_text: str, span: Span) -> AdError | None:
    """An error for a malformed number (``1.2.3``, ``1e``, ``2x``) that the token at ``span`` is stuck to."""
    for m in re.finditer(r"(?<![\w.])\.?[0-9][\w.]*", line_text):
        if m.start() < span.col - 1 < m.end():
            number = m.group()
            product = re.fullmatch(r"([0-9]+)([A-DF-Za-df-z_]\w*)", number)
            hint = f"to multiply, write '{product[1]} * {product[2]}'" if product else \
                "numbers look like 3, 2.5, 1e-3 or .5"
            return AdError("syntax error", f"invalid number '{number}'",
                           Span(span.line, m.start() + 1, m.end() + 1), hint)
    return None


def _head(line_text: str) -> str:
    """The first word of a line (its keyword, for statements that have one)."""
    return re.match(r"\s*(\w*)", line_text).group(1)


def _call_paren(opened: list[Token], line_text: str) -> bool:
    """Whether the innermost open bracket is the '(' of a call on this line."""
    if not opened or opened[-1] != "(":
        return False
    before = line_text[: opened[-1].column - 1].rstrip()
    return bool(before) and (before[-1].isalnum() or before[-1] == "_")


def _hint(tok: Token, accepts: set[str], line_text: str, opened: list[Token]) -> str | None:
    """A likely cause of the unexpected token ``tok``, from the common slips."""
    head = _head(line_text)
    value, col = str(tok), tok.column
    arrow = line_text.find("->")
    after_head = line_text.strip()[len(head):].lstrip()
    if head in _KEYWORDS and value in ("=", "+=", "-=", "*=", "/=") and after_head.startswith(value):
        return f"'{head}' is a keyword and cannot be used as a name"
    if value == "=" and "EQUAL" not in accepts:
        if line_text[col - 2: col] == "==":
            return "to assign, use a single '='"
        if _call_paren(opened, line_text):
            return "keyword arguments are not supported; pass arguments by position"
        return "to compare, use '=='"
    if value == "if" and line_text.strip().startswith("else if"):
        return "write 'elif' instead of 'else if'"
    if line_text[col - 2: col] == "<>":
        return "to test for inequality, use '!='"
    if value in _COMPARISONS and "AND" in accepts:
        return "chained comparisons are not supported; write 'a < b and b < c'"
    if value in ("+", "-") and line_text[col - 1: col + 1] == value * 2:
        return f"there is no '{value * 2}'; write '{line_text[: col - 1].strip()} {value}= 1'"
    if tok.type == "STRING":
        return "strings are only allowed as assert messages"
    if head == "def":
        if value == "(" and "LSQB" in accepts:
            return "array types use brackets, e.g. 'float[n]'"
        if value == "," and 0 <= arrow < col:
            return "a tuple return type needs parentheses, e.g. '-> (float, float)'"
        if value in (")", ",") and "COLON" in accepts:
            return "each parameter needs a type, e.g. 'x: float'"
        if value == ":" and arrow < 0:
            return "declare the return type, e.g. 'def f(x: float) -> float:'"
    if opened and value == ":" and accepts & {"RPAR", "RSQB"}:
        return f"the '{opened[-1]}' at column {opened[-1].column} is not closed"
    if head == "for" and "IN" in accepts:
        return "write 'for i in range(n):'"
    if head in _BLOCK_HEADS and "COLON" in accepts:
        return f"'{head}' lines end with ':'"
    if tok.type == "_INDENT":
        return "this line is indented more than the line before it"
    if tok.type == "_NL" and "ELSE" in accepts:
        return "a conditional expression needs an 'else': 'a if c else b'"
    if col == 1 and "DEF" in accepts:
        return "only 'const' and 'def' may appear at the top level, e.g. 'const X = 1.0'"
    if value == "," and "EQUAL" in accepts:
        return "only plain names can be unpacked into, e.g. 'a, b = g(x)'"
    if value == "(" and "EQUAL" in accepts:
        return "a call on its own does nothing; assign its result, e.g. 'y = f(x)'"
    if tok.type in ("NAME", "INT", "FLOAT") and {"PLUS", "STAR"} <= accepts:
        return f"is a ',' or an operator missing before '{value}'?"
    return None


def _char_error(exc: UnexpectedCharacters, source: str) -> AdError:
    """The error for a character that starts no token."""
    ch = source[exc.pos_in_stream] if exc.pos_in_stream < len(source) else ""
    rest = source[exc.pos_in_stream + 1:].split("\n", 1)[0]
    span = Span(exc.line, exc.column)
    if ch in "\"'" and ch not in rest:
        return AdError("syntax error", "unterminated string", span,
                       f"close the string with {ch} on the same line")
    hints = {"^": "use '**' for powers", ";": "write one statement per line",
             **dict.fromkeys("&|!", "use 'and', 'or', 'not'"),
             **dict.fromkeys("\"'", "strings are only allowed as assert messages")}
    return AdError("syntax error", f"unexpected character {ch!r}", span, hints.get(ch))


def _where(tok: Token, lines: list[str]) -> tuple[str, Span, str]:
    """The line, span and description of an unexpected token (layout tokens point at the code)."""
    if tok.type == "_NL":
        text = lines[tok.line - 1]
        return text, Span(tok.line, len(text[: tok.column - 1].rstrip()) + 1), "end of line"
    if tok.type in ("_INDENT", "_DEDENT"):
        what = "indent" if tok.type == "_INDENT" else "dedent"
        return lines[tok.end_line - 1], Span(tok.end_line, len(str(tok)) + 1), what
    return lines[tok.line - 1], Span(tok.line, tok.column, tok.end_column), repr(str(tok))


def _token_error(exc: UnexpectedToken, lines: list[str]) -> AdError:
    """The error for a token the grammar does not allow where it stands."""
    tok = exc.token
    accepts = set(exc.accepts or exc.expected or ())
    postlex = _parser().options.postlex
    opened = postlex.open_brackets
    line = tok.end_line if tok.type in ("_INDENT", "_DEDENT") else tok.line
    at_eof = tok.type == "$END" or line is None or line > len(lines)
    if opened and (at_eof or line > opened[-1].line and not lines[line - 1][: tok.column - 1].strip()):
        o = opened[-1]
        return AdError("syntax error", f"'{o}' is never closed", Span(o.line, o.column, o.column + 1),
                       f"add the matching '{')' if o == '(' else ']'}'")
    empty_block = "the block after a line ending in ':' must be indented (and not empty)"
    if at_eof:
        span = Span(max(len(lines), 1), len(lines[-1]) + 1 if lines else 1)
        return AdError("syntax error", f"unexpected end of file{_expected(accepts)}", span,
                       empty_block if accepts == {"_INDENT"} else None)
    line_text, span, what = _where(tok, lines)
    indent = len(line_text) - len(line_text.lstrip())
    head = _head(line_text)
    at_head = Span(span.line, indent + 1, indent + 1 + len(head))
    if tok is postlex.unmatched:
        return AdError("syntax error", f"unmatched '{tok}'", span,
                       f"there is no '{'(' if tok == ')' else '['}' for it to close")
    bad_number = _number_error(line_text, span) if tok.type not in ("_NL", "_INDENT", "_DEDENT") else None
    if bad_number:
        return bad_number
    if head in ("def", "const") and indent and tok.type != "_INDENT":
        return AdError("syntax error", f"'{head}' is only allowed at the top level of a file", at_head,
                       "functions and constants cannot be defined inside a function")
    if head in ("else", "elif") and "EQUAL" in accepts:
        return AdError("syntax error", f"'{head}' without a matching 'if'", at_head,
                       f"'{head}' must line up with an 'if' block right above it")
    if accepts == {"_INDENT"}:
        return AdError("syntax error", f"unexpected {what}; expected an indented block", span, empty_block)
    return AdError("syntax error", f"unexpected {what}{_expected(accepts)}", span,
                   _hint(tok, accepts, line_text, opened))


def parse(text: str, filename: str = "<string>") -> A.Module:
    """Parse .ad source into an AST; raise ``AdError`` (never a Lark exception) on bad input."""
    try:
        return _parse(text, filename)
    except AdError as err:
        raise err.located(filename, text) from None


def _check_indentation(text: str) -> None:
    """Errors the Indenter misses: tabs in indentation, and an indented first line."""
    first = True
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        lead = line[: len(line) - len(stripped)]
        if "\t" in lead:
            raise AdError("syntax error", "indentation contains a tab", Span(lineno, lead.index("\t") + 1),
                          "indent with spaces only (4 per level); tabs and spaces do not mix")
        if first and lead:
            raise AdError("syntax error", "unexpected indent", Span(lineno, len(lead) + 1),
                          "the first line of a file must start in column 1")
        first = False


def _parse(text: str, filename: str) -> A.Module:
    _check_indentation(text)
    source = text if text.endswith("\n") else text + "\n"
    lines = source.splitlines()
    try:
        tree = _parser().parse(source)
    except UnexpectedCharacters as exc:
        raise _char_error(exc, source) from None
    except UnexpectedToken as exc:
        raise _token_error(exc, lines) from None
    except UnexpectedEOF as exc:
        raise AdError("syntax error", f"unexpected end of file{_expected(set(exc.expected or ()))}",
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
