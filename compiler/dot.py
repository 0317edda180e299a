"""Graphviz DOT export of a function's IR, the "explicit graph" (``adc graph FILE FUNC --format dot``).

* one node per statement: each ``Op`` (a box labelled with its listing line, as
  ``printer.format_op`` prints it, and ``line N``), each ``Assert`` and the ``Return``;
* parameters (``invhouse``) and constants (small ``ellipse``, one per use so that a constant
  sits next to the statement that reads it, inside the same cluster) as distinct shapes;
* each ``For`` / ``While`` / ``If`` is a ``subgraph cluster_k`` labelled with its header
  (``for i in range(0, n, 1)``, ``while cond``, ``if c``; an ``else`` branch is a nested cluster).
  The header is also a node (a hexagon for loops, a diamond for ``if``): it reads the loop bounds
  or the condition, and a ``for`` header defines the loop variable;
* def-use edges, labelled with the variable name, from every definition that can reach a read
  (reaching definitions over the structured regions: after an ``if`` both branches' definitions
  reach, and a loop body's definitions reach back to its top), so the graph shows exactly which
  statements feed which.

Every label is a quoted DOT string with backslashes, quotes and line breaks escaped, so no
identifier, constant or assert message can break the output. A pure function of the IR.
"""
from __future__ import annotations

from . import ir
from .printer import format_op, operand

State = dict[str, frozenset[str]]   # variable name -> ids of the nodes whose definition reaches


def quote(text: str) -> str:
    """``text`` as a double-quoted DOT string that renders literally (one line per line)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\l")          # left-justified line break
        elif ch == "\r":
            continue
        elif ch < " " or ch == "\x7f":
            out.append(f"\\\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _label(*lines: str) -> str:
    """A multi-line label; each part is escaped, then joined with centred line breaks."""
    return "\\n".join(quote(line)[1:-1] for line in lines)


def _with_line(text: str, line: int) -> str:
    return _label(text, f"line {line}") if line else _label(text)


def _order(nid: str) -> tuple[str, int]:
    return nid[0], int(nid[1:])


def _join(a: State, b: State) -> State:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, frozenset()) | v
    return out


class _Graph:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.edges: dict[tuple[str, str, str], None] = {}   # ordered set of (src, dst, var)
        self.n_consts = self.n_clusters = 0
        self.ids: dict[int, str] = {}    # id(stmt) -> node id, so repeated passes reuse nodes
        self.emitting = True             # False on the fixpoint passes over a loop body

    # ---- nodes -------------------------------------------------------------------------------
    def node(self, indent: str, key: object, prefix: str, attrs: str) -> str:
        """The node of statement ``key``; declared on the first (emitting) pass only."""
        nid = self.ids.get(id(key))
        if nid is None:
            nid = f"{prefix}{len(self.ids)}"
            self.ids[id(key)] = nid
            self.lines.append(f"{indent}{nid} [{attrs}];")
        return nid

    def reads(self, indent: str, nid: str, values: list[ir.Operand], state: State) -> None:
        """Edges into ``nid`` for each operand: from reaching definitions, or from a constant."""
        for v in values:
            if isinstance(v, ir.Var):
                for src in sorted(state.get(v.name, ()), key=_order):
                    self.edges.setdefault((src, nid, v.name), None)
            elif self.emitting:
                cid = f"c{self.n_consts}"
                self.n_consts += 1
                self.lines.append(f"{indent}{cid} [shape=ellipse, style=filled, fillcolor=\"#f2f2f2\", "
                                  f"fontsize=9, label={quote(operand(v))}];")
                self.edges.setdefault((cid, nid, ""), None)

    # ---- regions -----------------------------------------------------------------------------
    def cluster_open(self, indent: str, label: str) -> str:
        k = self.n_clusters
        self.n_clusters += 1
        self.lines.append(f"{indent}subgraph cluster_{k} {{")
        self.lines.append(f"{indent}  label={quote(label)};")
        return indent + "  "

    def cluster_close(self, indent: str) -> None:
        self.lines.append(indent + "}")

    def block(self, stmts: list[ir.Stmt], state: State, indent: str) -> State:
        for st in stmts:
            state = self.stmt(st, state, indent)
        return state

    def loop(self, run, state: State) -> State:
        """Run a loop's region(s) to a fixpoint of the reaching definitions at its top.

        ``run(state_at_top) -> state_at_exit_check`` emits nodes on the first pass only; later
        passes just add the edges that come round the back edge.
        """
        top = state
        saved = self.emitting
        while True:
            out = run(top)
            self.emitting = False
            new_top = _join(top, out)
            if new_top == top:
                break
            top = new_top
        self.emitting = saved
        return out

    def stmt(self, st: ir.Stmt, state: State, indent: str) -> State:
        if isinstance(st, ir.Op):
            nid = self.node(indent, st, "n", f"shape=box, label=\"{_with_line(format_op(st), st.line)}\"")
            self.reads(indent, nid, list(st.args), state)
            for v in ir.defined(st):
                state = {**state, v.name: frozenset([nid])}
            return state
        if isinstance(st, ir.Assert):
            text = f"assert {operand(st.cond)}, {st.message!r}"
            nid = self.node(indent, st, "n", f"shape=octagon, label=\"{_with_line(text, st.line)}\"")
            self.reads(indent, nid, [st.cond], state)
            return state
        if isinstance(st, ir.Return):
            text = "return " + ", ".join(operand(v) for v in st.values)
            nid = self.node(indent, st, "n", f"shape=house, style=filled, fillcolor=\"#fde9c9\", "
                                             f"label=\"{_with_line(text, st.line)}\"")
            self.reads(indent, nid, list(st.values), state)
            return state
        if isinstance(st, ir.For):
            head = f"for {st.var.name} in range({operand(st.lo)}, {operand(st.hi)}, {operand(st.step)})"
            inner = self.cluster_open(indent, head) if self.emitting else indent + "  "
            hid = self.node(inner, st, "h", f"shape=hexagon, label=\"{_with_line(head, st.line)}\"")
            self.reads(inner, hid, [st.lo, st.hi, st.step], state)
            state = {**state, st.var.name: frozenset([hid])}

            def run(top: State) -> State:
                return self.block(st.body, top, inner)
            after = _join(state, self.loop(run, state))   # zero trips: the definitions before
            if self.emitting:
                self.cluster_close(indent)
            return after
        if isinstance(st, ir.While):
            head = f"while {operand(st.cond)}"
            inner = self.cluster_open(indent, head) if self.emitting else indent + "  "
            exit_state: list[State] = [state]

            def run(top: State) -> State:
                """Condition, then body; the loop exits after the condition is computed."""
                s = self.block(st.cond_body, top, inner)
                hid = self.node(inner, st, "h", f"shape=hexagon, label=\"{_with_line(head, st.line)}\"")
                self.reads(inner, hid, [st.cond], s)
                exit_state[0] = s
                return self.block(st.body, s, inner)
            self.loop(run, state)
            if self.emitting:
                self.cluster_close(indent)
            return exit_state[0]
        if isinstance(st, ir.If):
            head = f"if {operand(st.cond)}"
            inner = self.cluster_open(indent, head) if self.emitting else indent + "  "
            hid = self.node(inner, st, "h", f"shape=diamond, label=\"{_with_line(head, st.line)}\"")
            self.reads(inner, hid, [st.cond], state)
            then_state = self.block(st.then, state, inner)
            else_state = state
            if st.orelse:
                inner2 = self.cluster_open(inner, "else") if self.emitting else inner + "  "
                else_state = self.block(st.orelse, state, inner2)
                if self.emitting:
                    self.cluster_close(inner)
            if self.emitting:
                self.cluster_close(indent)
            return _join(then_state, else_state)
        return state


def to_dot(fn: ir.Function) -> str:
    """The DOT text of ``fn``'s explicit graph (see the module docstring)."""
    g = _Graph()
    params = ", ".join(f"{p.name}: {t}" for p, t in zip(fn.params, fn.param_types))
    results = [str(t) for t in fn.result_types]
    ret = f"({', '.join(results)})" if fn.returns_tuple or len(results) != 1 else results[0]
    out = [f"digraph {quote(fn.name)} {{",
           f"  graph [label={quote(f'def {fn.name}({params}) -> {ret}')}, labelloc=t, "
           f"fontname=\"monospace\", rankdir=TB];",
           "  node [fontname=\"monospace\", fontsize=10];",
           "  edge [fontname=\"monospace\", fontsize=9];"]
    state: State = {}
    for k, (p, t) in enumerate(zip(fn.params, fn.param_types)):
        pid = f"p{k}"
        out.append(f"  {pid} [shape=invhouse, style=filled, fillcolor=\"#dbe8fb\", "
                   f"label={quote(f'{p.name}: {t}')}];")
        state[p.name] = frozenset([pid])
    g.block(fn.body, state, "  ")
    out.extend(g.lines)
    for src, dst, var in g.edges:
        attrs = f" [label={quote(var)}]" if var else " [style=dashed, arrowsize=0.6]"
        out.append(f"  {src} -> {dst}{attrs};")
    out.append("}")
    return "\n".join(out) + "\n"
