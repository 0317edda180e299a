"""The Graphviz export of the IR (compiler/dot.py): clusters per region, def-use edges along
reaching definitions, distinct parameter/constant nodes, and labels that are always escaped.

The DOT text is read back with a small tokenizer/parser below (quoted strings with escapes,
nested subgraphs), so every test also checks that the output is well-formed DOT. When the
Graphviz ``dot`` program is installed, one test also renders the output with it.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

import pytest

from adc.compiler import ir
from adc.compiler.dot import quote, to_dot
from adc.compiler.pipeline import forward_ir, front_end
from adc.compiler.printer import format_op, operand
from adc.compiler.types import FLOAT, Type

# ---- a minimal DOT reader ------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<arrow>->)|(?P<punct>[{}\[\];=,])'
                    r'|(?P<id>[A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?))', re.S)


def _unescape(s: str) -> str:
    """A quoted DOT label as Graphviz renders it (\\n, \\l, \\r are line breaks)."""
    out, i = [], 1
    while i < len(s) - 1:
        ch = s[i]
        if ch == "\\":
            nxt = s[i + 1]
            out.append("\n" if nxt in "nlr" else nxt)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def tokenize(text: str) -> list[tuple[str, str]]:
    pos, toks = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m and m.end() > pos, f"bad DOT at {pos}: {text[pos:pos + 40]!r}"
        kind = m.lastgroup
        toks.append((kind, m.group(kind)))
        pos = m.end()
    return toks


@dataclass
class Cluster:
    name: str
    attrs: dict = field(default_factory=dict)
    nodes: list = field(default_factory=list)
    children: list = field(default_factory=list)

    def all_nodes(self) -> list[str]:
        return self.nodes + [n for c in self.children for n in c.all_nodes()]


@dataclass
class Dot:
    name: str
    nodes: dict            # id -> attrs (labels unescaped)
    edges: list            # (src, dst, attrs)
    root: Cluster

    def clusters(self) -> list[Cluster]:
        out, todo = [], list(self.root.children)
        while todo:
            c = todo.pop(0)
            out.append(c)
            todo[:0] = c.children
        return out

    def label(self, nid: str) -> str:
        return self.nodes[nid].get("label", nid)

    def find(self, label: str) -> str:
        """The one node whose label (without its 'line N' part) is ``label``."""
        hits = [n for n in self.nodes if re.sub(r"\nline \d+$", "", self.label(n)) == label]
        assert len(hits) == 1, f"{label!r}: {hits} among {[self.label(n) for n in self.nodes]}"
        return hits[0]

    def edge_set(self) -> set[tuple[str, str, str]]:
        return {(s, d, a.get("label", "")) for s, d, a in self.edges}


def parse_dot(text: str) -> Dot:
    toks = tokenize(text)
    i = 0

    def take(kind=None, value=None):
        nonlocal i
        k, v = toks[i]
        assert kind is None or k == kind, (k, v, kind, i)
        assert value is None or v == value, (k, v, value, i)
        i += 1
        return v

    def attr_list() -> dict:
        attrs = {}
        if i < len(toks) and toks[i][1] == "[":
            take(value="[")
            while toks[i][1] != "]":
                key = take("id")
                take(value="=")
                k, v = toks[i]
                take()
                attrs[key] = _unescape(v) if k == "str" else v
                if toks[i][1] in ",;":
                    take()
            take(value="]")
        return attrs

    nodes: dict = {}
    edges: list = []

    def body(cluster: Cluster) -> None:
        nonlocal i
        take(value="{")
        while toks[i][1] != "}":
            k, v = toks[i]
            if v == "subgraph":
                take()
                child = Cluster(take("id"))
                cluster.children.append(child)
                body(child)
            elif v in ("graph", "node", "edge"):
                take()
                attrs = attr_list()
                if v == "graph":
                    cluster.attrs.update(attrs)
            else:
                assert k in ("id", "str"), (k, v)
                name = take()
                if toks[i][1] == "=":
                    take()
                    kk, val = toks[i]
                    take()
                    cluster.attrs[name] = _unescape(val) if kk == "str" else val
                elif toks[i][0] == "arrow":
                    take("arrow")
                    dst = take("id")
                    edges.append((name, dst, attr_list()))
                else:
                    assert name not in nodes, f"node {name} declared twice"
                    nodes[name] = attr_list()
                    cluster.nodes.append(name)
            if i < len(toks) and toks[i][1] == ";":
                take()
        take(value="}")

    take("id", "digraph")
    k, name = toks[i]
    take()
    root = Cluster("root")
    body(root)
    assert i == len(toks), "text after the graph"
    for s, d, _ in edges:
        assert s in nodes and d in nodes, f"edge {s} -> {d} between undeclared nodes"
    return Dot(_unescape(name) if k == "str" else name, nodes, edges, root)


# ---- the function under test ---------------------------------------------------------------

SRC = """\
def f(x: float[n], k: int) -> float:
    s = 0.0
    for i in range(n):
        if x[i] > 0.0:
            s += x[i]
        else:
            s -= 1.0
    j = 0
    while j < k:
        s = s * 2.0
        j += 1
    assert s > -100.0, 'say "hi" \\ bye\\n {x}'
    return s
"""


@pytest.fixture(scope="module")
def fn() -> ir.Function:
    return forward_ir(front_end(SRC, "dot_test.ad"), "f")


@pytest.fixture(scope="module")
def dot(fn) -> Dot:
    return parse_dot(to_dot(fn))


def _node_of(dot: Dot, st: ir.Stmt) -> str:
    if isinstance(st, ir.Op):
        return dot.find(format_op(st))
    if isinstance(st, ir.Return):
        return dot.find("return " + ", ".join(operand(v) for v in st.values))
    if isinstance(st, ir.For):
        return dot.find(f"for {st.var.name} in range({operand(st.lo)}, {operand(st.hi)}, {operand(st.step)})")
    if isinstance(st, ir.While):
        return dot.find(f"while {operand(st.cond)}")
    raise AssertionError(st)


def _one(stmts, kind):
    hits = [s for s in stmts if isinstance(s, kind)]
    assert len(hits) == 1, hits
    return hits[0]


def _readers(stmts, name: str) -> list[ir.Op]:
    return [s for s in ir.walk(stmts) if isinstance(s, ir.Op)
            and any(isinstance(a, ir.Var) and a.name == name for a in s.args)]


def test_well_formed_with_one_node_per_op_and_every_param(fn, dot):
    assert dot.name == "f"
    ops = [s for s in ir.walk(fn.body) if isinstance(s, ir.Op)]
    boxes = [n for n, a in dot.nodes.items() if a.get("shape") == "box"]
    assert len(boxes) == len(ops)
    for op in ops:                                  # label = listing line + "line N"
        assert dot.label(_node_of(dot, op)) == f"{format_op(op)}\nline {op.line}"
    params = {n: a for n, a in dot.nodes.items() if a.get("shape") == "invhouse"}
    assert sorted(a["label"] for a in params.values()) == ["k: int", "x: float[n]"]
    consts = {n: a for n, a in dot.nodes.items() if a.get("shape") == "ellipse"}
    assert consts and "0.0" in {a["label"] for a in consts.values()}
    shapes = {a.get("shape") for a in dot.nodes.values()}
    assert len({"box", "invhouse", "ellipse"} & shapes) == 3


def test_regions_are_nested_clusters_with_headers(fn, dot):
    clusters = dot.clusters()
    assert all(c.name.startswith("cluster_") for c in clusters)
    assert len({c.name for c in clusters}) == len(clusters)
    by_label = {c.attrs["label"]: c for c in clusters}
    loop = _one(fn.body, ir.For)
    branch = _one(loop.body, ir.If)
    wloop = _one(fn.body, ir.While)
    for_label = f"for i in range(0, {operand(loop.hi)}, 1)"
    assert set(by_label) == {for_label, f"if {operand(branch.cond)}", "else", f"while {operand(wloop.cond)}"}
    for_c, if_c, else_c = by_label[for_label], by_label[f"if {operand(branch.cond)}"], by_label["else"]
    assert if_c in for_c.children and else_c in if_c.children
    # then-branch ops are in the if cluster, else-branch ops only in the else cluster
    then_ids = {_node_of(dot, s) for s in branch.then}
    else_ids = {_node_of(dot, s) for s in branch.orelse}
    assert then_ids <= set(if_c.nodes) and else_ids <= set(else_c.nodes)
    assert not else_ids & set(if_c.nodes)
    # the while cluster holds its condition ops, its header and its body
    w_ids = {_node_of(dot, s) for s in ir.walk(wloop.cond_body + wloop.body) if isinstance(s, ir.Op)}
    assert w_ids | {_node_of(dot, wloop)} <= set(by_label[f"while {operand(wloop.cond)}"].all_nodes())
    # top-level statements are outside every cluster
    ret = _one(fn.body, ir.Return)
    assert _node_of(dot, ret) in dot.root.nodes


def test_def_use_edges(fn, dot):
    edges = dot.edge_set()
    params = {a["label"].split(":")[0]: n for n, a in dot.nodes.items() if a.get("shape") == "invhouse"}
    loop = _one(fn.body, ir.For)
    wloop = _one(fn.body, ir.While)
    ret = _one(fn.body, ir.Return)
    # the for header defines i for the element read in the body
    head = _node_of(dot, loop)
    (read_i,) = _readers(loop.body, "i")
    assert (head, _node_of(dot, read_i), "i") in edges
    # the parameter x feeds that read too, and k feeds the while condition
    assert (params["x"], _node_of(dot, read_i), "x") in edges
    (read_k,) = _readers(wloop.cond_body, "k")
    assert (params["k"], _node_of(dot, read_k), "k") in edges
    # j: both `j = 0` and the body's `j = j + 1` (round the back edge) reach the condition
    j_defs = [s for s in ir.walk(fn.body) if isinstance(s, ir.Op) and s.target is not None
              and s.target.name == "j"]
    assert len(j_defs) == 2
    (read_j,) = _readers(wloop.cond_body, "j")
    for d in j_defs:
        assert (_node_of(dot, d), _node_of(dot, read_j), "j") in edges
    # s: every definition (before the loops, both branches of the if, the while body) can
    # reach the return (each loop may run zero times)
    s_defs = [s for s in ir.walk(fn.body) if isinstance(s, ir.Op) and "s" in [v.name for v in ir.defined(s)]]
    assert len(s_defs) >= 4
    r = _node_of(dot, ret)
    assert {(_node_of(dot, d), r, "s") for d in s_defs} <= edges
    assert {src for src, dst, lab in edges if dst == r and lab == "s"} == {_node_of(dot, d) for d in s_defs}
    # and no edge for a name from a statement that does not define it
    defs_by_node = {_node_of(dot, s): {v.name for v in ir.defined(s)}
                    for s in ir.walk(fn.body) if isinstance(s, ir.Op)}
    defs_by_node[head] = {"i"}
    for src, dst, lab in edges:
        if src in params.values():
            assert lab == dot.label(src).split(":")[0]
        elif dot.nodes[src].get("shape") == "ellipse":
            assert lab == ""
        else:
            assert lab in defs_by_node[src], (dot.label(src), lab)


def test_assert_message_with_quotes_and_backslashes_stays_escaped(fn, dot):
    text = to_dot(fn)
    a = _one(fn.body, ir.Assert)
    assert a.message == 'say "hi" \\ bye\\n {x}'
    (nid,) = [n for n in dot.nodes if dot.label(n).startswith("assert ")]
    assert dot.label(nid) == f"assert {operand(a.cond)}, {a.message!r}\nline {a.line}"
    # no raw quote or newline escapes the label: each line of the output is one statement
    for line in text.splitlines():
        assert line.strip() == "" or line.rstrip().endswith((";", "{", "}")), line


@pytest.mark.parametrize("text", ['plain', 'a"b', 'back\\slash', 'ends with \\', '"', '\\"',
                                  'two\nlines', 'tab\there', '{braces} <angle> |bar|', 'ünï cødé'])
def test_quote_round_trips(text):
    q = quote(text)
    assert q.startswith('"') and q.endswith('"')
    assert re.fullmatch(r'"(?:[^"\\\n]|\\.)*"', q), q       # one well-formed DOT string
    expected = text.replace("\t", "\\x09")
    assert _unescape(q) == expected


def test_hostile_names_in_hand_built_ir():
    """The IR may hold names the .ad grammar cannot (e.g. from later passes): still escaped."""
    weird = ir.Var('we"ird\\na\nme', FLOAT, "param")
    out = ir.Var('out"', FLOAT, "user")
    arr = ir.Var("a\\", Type("float", 1, ("n",)), "param")
    fn = ir.Function(
        name='g"\\', params=[weird, arr], param_types=[FLOAT, Type("float", 1, ("n",))],
        body=[ir.Op(1, out, "mul", [weird, ir.Const(2.5, FLOAT)]),
              ir.Op(2, None, "setindex", [arr, out, ir.Const(0, Type("int"))]),
              ir.Assert(3, ir.Const(True, Type("bool")), '"}; evil -> x [label="'),
              ir.Return(4, [out])],
        result_types=[FLOAT], returns_tuple=False)
    text = to_dot(fn)
    dot = parse_dot(text)
    assert dot.name == 'g"\\'
    labels = {dot.label(n) for n in dot.nodes}
    assert 'we"ird\\na\nme: float' in labels
    assert f"{format_op(fn.body[0])}\nline 1" in labels
    assert f"assert True, {fn.body[2].message!r}\nline 3" in labels
    edges = dot.edge_set()
    mul = dot.find(format_op(fn.body[0]))
    setidx = dot.find(format_op(fn.body[1]))
    ret = dot.find('return out"')
    assert (mul, setidx, 'out"') in edges and (mul, ret, 'out"') in edges
    assert len(dot.clusters()) == 0


def test_empty_and_straight_line_functions():
    cm = front_end("def one() -> float:\n    return 1.0\n\ndef ident(x: float[n]) -> float[n]:\n    return x\n")
    dot = parse_dot(to_dot(forward_ir(cm, "one")))
    assert dot.clusters() == [] and not [n for n, a in dot.nodes.items() if a.get("shape") == "invhouse"]
    fn = forward_ir(cm, "ident")
    dot = parse_dot(to_dot(fn))
    (p,) = [n for n, a in dot.nodes.items() if a.get("shape") == "invhouse"]
    ret = _node_of(dot, _one(fn.body, ir.Return))
    # a chain of def-use edges leads from the parameter to the return (through any copy)
    edges = dot.edge_set()
    assert (p, _node_of(dot, fn.body[0]), "x") in edges
    seen, todo = {p}, [p]
    while todo:
        src = todo.pop()
        for s, d, _ in edges:
            if s == src and d not in seen:
                seen.add(d)
                todo.append(d)
    assert ret in seen
    assert len(edges) == sum(len(ir.operands(st)) for st in fn.body)   # one edge per read here


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
def test_graphviz_renders_it(fn):
    res = subprocess.run(["dot", "-Tsvg"], input=to_dot(fn), capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "<svg" in res.stdout and "warning" not in res.stderr.lower()
