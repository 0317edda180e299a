"""The ``adc`` command line (runtime/cli.py), run in-process through ``main([...])``.

One test runs the installed ``adc`` console script in a subprocess to prove the entry point.
Only the ``compile`` test uses the Numba JIT; ``run`` tests use ``--no-jit``.
"""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import adc
from adc.runtime.cli import format_value, main

PROG = """\
# a small module for the CLI tests
const SCALE = 0.5

def score(x: float[n], w: float[n, m], k: int) -> float:
    s = 0.0
    for i in range(k):
        s += sum(tanh(x @ w)) * SCALE
    return s

def pair(x: float[n]) -> (float, float[n]):
    return sum(x * x), 2.0 * x

def guarded(x: float) -> float:
    assert x > 0.0, "x must be positive"
    return sqrt(x)
"""


@pytest.fixture
def prog(tmp_path: Path) -> Path:
    path = tmp_path / "prog.ad"
    path.write_text(PROG)
    return path


def write_json(tmp_path: Path, data, name: str = "args.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def result_lines(out: str) -> dict[str, str]:
    """``label: value`` lines of `adc run` (a multi-line value is indented below its label)."""
    values: dict[str, str] = {}
    label = None
    for line in out.splitlines():
        m = re.match(r"^(\S.*?):(?: (.*))?$", line)
        if m:
            label = m.group(1)
            values[label] = m.group(2) or ""
        else:
            values[label] += " " + line.strip()
    return values


def parse_array(text: str) -> np.ndarray:
    return np.array(ast.literal_eval(text), dtype=float)


# ---- --help and --version ------------------------------------------------------------------

@pytest.mark.parametrize("cmd", [[], ["check"], ["compile"], ["graph"], ["run"], ["adjoint"]])
def test_help(capsys, cmd):
    code, out, err = run(capsys, *cmd, "--help")
    assert code == 0
    assert out.startswith("usage: adc") and not err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"adc {adc.__version__}"


def test_usage_errors_exit_2(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "usage:" in err
    code, _, err = run(capsys, "frobnicate", "x.ad")
    assert code == 2 and "invalid choice" in err
    code, _, err = run(capsys, "graph", "x.ad", "f", "--format", "png")
    assert code == 2 and "invalid choice" in err


# ---- check ---------------------------------------------------------------------------------

def test_check_ok(capsys, prog):
    code, out, err = run(capsys, "check", prog)
    assert code == 0 and not err
    assert out.strip() == f"{prog}: ok (3 functions: score, pair, guarded)"


def test_check_one_function_singular(capsys, tmp_path):
    path = tmp_path / "one.ad"
    path.write_text("def f(x: float) -> float:\n    return x\n")
    code, out, _ = run(capsys, "check", path)
    assert code == 0 and out.strip() == f"{path}: ok (1 function: f)"


def test_check_error_has_location_and_caret(capsys, tmp_path):
    path = tmp_path / "bad.ad"
    path.write_text("def f(x: float) -> float:\n    y = x * 2.0\n    return y + zz\n")
    code, out, err = run(capsys, "check", path)
    assert code == 1 and not out
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0].startswith(f"{path}:3:16: ")
    assert "zz" in lines[0]
    assert lines[1].strip() == "return y + zz"
    caret = lines[2]
    assert caret.strip() and set(caret.strip()) == {"^"}
    assert lines[1].index("zz") == caret.index("^")        # the caret points at the name


def test_check_syntax_error(capsys, tmp_path):
    path = tmp_path / "syntax.ad"
    path.write_text("def f(x: float) -> float\n    return x\n")
    code, _, err = run(capsys, "check", path)
    assert code == 1
    assert re.match(rf"{re.escape(str(path))}:1:\d+: syntax error", err)
    assert "^" in err and "Traceback" not in err


def test_missing_file_exit_2(capsys, tmp_path):
    for cmd in (["check"], ["compile"], ["graph"], ["run"], ["adjoint"]):
        missing = tmp_path / "nope.ad"
        extra = {"graph": ["f"], "run": ["f", "args.json"], "adjoint": ["f"]}.get(cmd[0], [])
        code, out, err = run(capsys, *cmd, missing, *extra)
        assert code == 2, cmd
        assert not out and err.count("\n") == 1 and str(missing) in err
        assert "Traceback" not in err


def test_directory_is_not_a_file(capsys, tmp_path):
    code, _, err = run(capsys, "check", tmp_path)
    assert code == 2 and err.count("\n") == 1


# ---- compile (the one JIT-heavy test) ------------------------------------------------------

TWO = """\
def alpha(x: float[n]) -> float:
    return sum(x * x)

def beta(x: float[n], c: float) -> float:
    return sum(x) * c
"""


def _statuses(out: str, names) -> dict[str, str]:
    found = {}
    for line in out.splitlines():
        words = re.findall(r"[A-Za-z_]\w*", line)
        for name in names:
            if name in words:
                assert name not in found, f"{name} on two lines:\n{out}"
                found[name] = next(w for w in ("cached", "compiled", "failed") if w in words)
    return found


def _forget_generated(cache: Path) -> None:
    """Drop the generated modules of ``cache`` from this process, as a new process starts:
    the next compile finds only what is on disk (Numba's cache)."""
    for name, mod in list(sys.modules.items()):
        path = getattr(mod, "__file__", None)
        if name.startswith("adc_") and path and Path(path).parent == cache:
            del sys.modules[name]


def test_compile_cold_then_cached_then_only_edited_function(capsys, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("ADC_CACHE_DIR", str(cache))
    src = tmp_path / "two.ad"
    src.write_text(TWO)
    names = ("alpha", "beta")

    code, out, err = run(capsys, "compile", src, "--no-grad")
    assert code == 0, err
    assert _statuses(out, names) == {"alpha": "compiled", "beta": "compiled"}, out
    assert "2 compiled, 0 cached" in out

    _forget_generated(cache)
    for mod in ("rich", "rich.console", "rich.table"):   # and the plain-text table without rich
        monkeypatch.setitem(sys.modules, mod, None)
    code, out, err = run(capsys, "compile", src, "--no-grad")
    assert code == 0, err
    assert _statuses(out, names) == {"alpha": "cached", "beta": "cached"}, out
    assert "0 compiled, 2 cached" in out
    assert "┃" not in out                                  # plain text, not a rich table
    assert re.search(r"^alpha\s+\d+\.\d{3}\s+cached$", out, re.M), out

    _forget_generated(cache)
    src.write_text(TWO.replace("sum(x) * c", "sum(x) * c + 1.0"))
    code, out, err = run(capsys, "compile", src, "--no-grad")
    assert code == 0, err
    assert _statuses(out, names) == {"alpha": "cached", "beta": "compiled"}, out


def test_compile_also_compiles_gradients_of_scalar_functions(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ADC_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "one.ad"
    src.write_text("def alpha(x: float[n]) -> float:\n    return sum(x * x)\n\n"
                   "def pair(x: float[n]) -> (float, float):\n    return sum(x), 1.0\n")
    code, out, err = run(capsys, "compile", src)
    assert code == 0, err
    assert re.search(r"alpha \(grad\)\s+\d+\.\d{3}\s+compiled", out) or "alpha (grad)" in out, out
    assert "pair (grad)" not in out                        # a tuple result has no default gradient
    assert "3 compiled, 0 cached" in out


# ---- graph ---------------------------------------------------------------------------------

def test_graph_text_is_the_ir_listing(capsys, prog):
    code, out, err = run(capsys, "graph", prog, "score")
    assert code == 0 and not err
    assert out.rstrip("\n") == str(adc.load(prog, jit=False).score.ir)
    assert out.startswith("def score(x: float[n], w: float[n, m], k: int) -> float:")
    assert re.search(r"^    for i in range\(0, \w+, 1\):", out, re.M)


def test_graph_dot(capsys, prog):
    code, out, err = run(capsys, "graph", prog, "score", "--format", "dot")
    assert code == 0 and not err
    assert out.startswith("digraph")
    # braces balance outside quoted strings, and never go negative
    depth = 0
    for ch in re.sub(r'"(?:[^"\\]|\\.)*"', '""', out):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    body = re.sub(r'"(?:[^"\\]|\\.)*"', '""', out)
    declared = set(re.findall(r"^\s*(\w+) \[", body, re.M)) - {"graph", "node", "edge"}
    edges = re.findall(r"^\s*(\w+) -> (\w+)", body, re.M)
    assert edges
    for a, b in edges:
        assert a in declared and b in declared, (a, b)
    assert re.search(r'subgraph cluster_\d+ \{\s*label="for i in range\(0, \w+, 1\)"', out)


def test_graph_unknown_function(capsys, prog):
    code, out, err = run(capsys, "graph", prog, "nosuch")
    assert code == 1 and not out
    assert "nosuch" in err and "score, pair, guarded" in err


# ---- run -----------------------------------------------------------------------------------

def _score_args():
    rng = np.random.default_rng(0)
    return rng.normal(size=3), rng.normal(size=(3, 4)), 3


def test_run_with_json_object(capsys, prog, tmp_path):
    x, w, k = _score_args()
    args = write_json(tmp_path, {"x": x.tolist(), "w": w.tolist(), "k": k})
    code, out, err = run(capsys, "run", prog, "score", args, "--no-jit")
    assert code == 0, err
    value = float(result_lines(out)["result"])
    assert value == pytest.approx(k * 0.5 * np.tanh(x @ w).sum(), rel=1e-14)


def test_run_with_json_list_and_tuple_result(capsys, prog, tmp_path):
    x = [1.0, 2.0, 3.5]
    args = write_json(tmp_path, [x])
    code, out, err = run(capsys, "run", prog, "pair", args, "--no-jit")
    assert code == 0, err
    res = result_lines(out)
    assert float(res["result[0]"]) == 1 + 4 + 3.5 ** 2
    np.testing.assert_array_equal(parse_array(res["result[1]"]), 2 * np.array(x))


def test_format_value_full_precision():
    x = np.array([[0.1, 1 / 3, 1e-300], [2.0, -0.0, 123456789.123456789]])
    text = format_value(x)
    assert "..." not in text
    np.testing.assert_array_equal(parse_array(text), x)
    big = np.arange(5000.0) / 7
    np.testing.assert_array_equal(parse_array(format_value(big)), big)
    assert format_value(1 / 3) == repr(1 / 3) and format_value(2) == "2" and format_value(True) == "True"


@pytest.mark.parametrize("data, needle", [
    ({"x": [1.0, 2.0], "w": [[1.0, 2.0]], "k": 1}, "'w'"),         # shape var n: 2 vs 1
    ({"x": [1.0, 2.0], "k": 1}, "w"),                              # missing
    ({"x": [1.0, 2.0], "w": [[1.0], [2.0]], "k": 1.5}, "'k'"),    # float for an int
    ({"x": [1.0, 2.0], "w": [[1.0], [2.0]], "k": 1, "q": 0}, "'q'"),
])
def test_run_bad_args(capsys, prog, tmp_path, data, needle):
    code, out, err = run(capsys, "run", prog, "score", write_json(tmp_path, data), "--no-jit")
    assert code == 1 and not out
    assert needle in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_run_bad_json_and_wrong_shape(capsys, prog, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"x": [1, 2,]}')
    code, _, err = run(capsys, "run", prog, "score", bad, "--no-jit")
    assert code == 1 and f"{bad}:1:" in err and "JSON" in err
    code, _, err = run(capsys, "run", prog, "score", write_json(tmp_path, 3.0), "--no-jit")
    assert code == 1 and "x, w, k" in err
    code, _, err = run(capsys, "run", prog, "score", tmp_path / "missing.json", "--no-jit")
    assert code == 2 and "missing.json" in err


def test_run_failed_assert(capsys, prog, tmp_path):
    code, out, err = run(capsys, "run", prog, "guarded", write_json(tmp_path, {"x": -1.0}), "--no-jit")
    assert code == 1 and "x must be positive" in err and "Traceback" not in err
    code, out, err = run(capsys, "run", prog, "guarded", write_json(tmp_path, {"x": 2.25}), "--no-jit")
    assert code == 0 and result_lines(out)["result"] == "1.5"


def test_run_unknown_grad_parameter(capsys, prog, tmp_path):
    args = write_json(tmp_path, {"x": [1.0, 2.0]})
    code, _, err = run(capsys, "run", prog, "pair", args, "--no-jit", "--grad", "x,zz")
    assert code == 1 and "'zz'" in err and "parameters: x" in err


def test_grad_and_adjoint_plumbing_with_stand_ins(capsys, prog, tmp_path, monkeypatch):
    """What the CLI passes to adc.value_and_grad / adc.adjoint_source and how it prints the
    answers, with stand-ins for the API."""
    calls = []

    def value_and_grad(fn, wrt=None):
        calls.append((fn.name, wrt))

        def g(*args, **kw):
            value = fn(*args, **kw)
            grads = {"x": np.array([1.0, 0.1]), "w": np.array([[0.25], [1 / 3]])}
            if wrt is None:
                return value, (grads["x"], grads["w"])
            if len(wrt) == 1 and calls[-1][0] == "score" and wrt == ("w",):
                return value, grads["w"]          # a bare array for one name is accepted too
            return value, tuple(grads[n] for n in wrt)
        return g

    monkeypatch.setattr(adc, "value_and_grad", value_and_grad, raising=False)
    monkeypatch.setattr(adc, "grad", lambda fn, wrt=None: None, raising=False)
    args = write_json(tmp_path, {"x": [1.0, 2.0], "w": [[1.0], [2.0]], "k": 2})
    code, out, err = run(capsys, "run", prog, "score", args, "--no-jit", "--grad", "x, w")
    assert code == 0, err
    assert calls[-1] == ("score", ("x", "w"))
    res = result_lines(out)
    assert list(res) == ["result", "grad x", "grad w"]
    np.testing.assert_array_equal(parse_array(res["grad w"]), [[0.25], [1 / 3]])
    code, out, err = run(capsys, "run", prog, "score", args, "--no-jit", "--grad", "w")
    assert code == 0 and calls[-1] == ("score", ("w",)) and list(result_lines(out)) == ["result", "grad w"]
    code, out, err = run(capsys, "run", prog, "score", args, "--no-jit", "--grad")   # every float param
    assert code == 0 and calls[-1] == ("score", None) and list(result_lines(out)) == ["result", "grad x", "grad w"]

    def refuse(fn, wrt=None):
        raise TypeError("adc.grad: score returns float[n]; use adc.vjp with a seed of shape (n,)")
    monkeypatch.setattr(adc, "value_and_grad", refuse)
    code, out, err = run(capsys, "run", prog, "score", args, "--no-jit", "--grad", "x")
    assert code == 1 and "adc.vjp" in err and "Traceback" not in err

    seen = []
    monkeypatch.setattr(adc, "adjoint_source",
                        lambda fn, wrt=None, lang="ad": seen.append((fn.name, wrt, lang)) or "def adj():\n    pass\n",
                        raising=False)
    code, out, err = run(capsys, "adjoint", prog, "score", "--wrt", "x,w", "--emit", "python")
    assert code == 0 and out == "def adj():\n    pass\n" and seen[-1] == ("score", ("x", "w"), "python")
    code, out, err = run(capsys, "adjoint", prog, "score")
    assert code == 0 and seen[-1] == ("score", None, "ad")
    code, out, err = run(capsys, "adjoint", prog, "score", "--wrt", "nope")
    assert code == 1 and "'nope'" in err


@pytest.mark.skipif(not hasattr(adc, "grad"), reason="adc.grad not implemented yet")
def test_run_with_grad(capsys, prog, tmp_path):
    x, w, k = _score_args()
    args = write_json(tmp_path, {"x": x.tolist(), "w": w.tolist(), "k": k})
    code, out, err = run(capsys, "run", prog, "score", args, "--no-jit", "--grad", "x,w")
    assert code == 0, err
    res = result_lines(out)
    t = np.tanh(x @ w)
    assert float(res["result"]) == pytest.approx(k * 0.5 * t.sum(), rel=1e-14)
    dz = k * 0.5 * (1 - t ** 2)
    np.testing.assert_allclose(parse_array(res["grad x"]), w @ dz, rtol=1e-12)
    np.testing.assert_allclose(parse_array(res["grad w"]), np.outer(x, dz), rtol=1e-12)


@pytest.mark.skipif(not hasattr(adc, "adjoint_source"), reason="adc.adjoint_source not implemented yet")
@pytest.mark.parametrize("emit", ["ad", "python"])
def test_adjoint(capsys, prog, emit):
    code, out, err = run(capsys, "adjoint", prog, "score", "--wrt", "x", "--emit", emit)
    assert code == 0, err
    assert out.strip()
    m = adc.load(prog, jit=False)
    assert out.rstrip("\n") == adc.adjoint_source(m.score, wrt=("x",), lang=emit).rstrip("\n")


# ---- the installed console script ----------------------------------------------------------

def _console_script() -> str:
    exe = Path(sys.executable).parent / ("adc.exe" if sys.platform == "win32" else "adc")
    if exe.exists():
        return str(exe)
    import shutil
    found = shutil.which("adc")
    if not found:
        pytest.skip("the adc console script is not installed (pip install -e .)")
    return found


def test_console_script_entry_point(prog, tmp_path):
    script = _console_script()
    res = subprocess.run([script, "check", str(prog)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"{prog}: ok (3 functions: score, pair, guarded)"
    bad = tmp_path / "bad.ad"
    bad.write_text("def f(x: float) -> float:\n    return x +\n")
    res = subprocess.run([script, "check", str(bad)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and res.stderr.startswith(f"{bad}:2:") and "Traceback" not in res.stderr
