"""The on-disk memo of the compiler's results (runtime/memo.py): what makes a new entry, that a
cached load reproduces the same code without running the compiler, and that bad programs are
still reported by the front end."""
from __future__ import annotations

import pytest

import adc
from adc.compiler.errors import AdError
from adc.runtime import memo

PROGRAM = """\
def f(x: float[n]) -> float:
    s = 0.0
    for i in range(n):
        s += x[i] * x[i]
    return s
"""
BAD = {"type error": (PROGRAM.replace("s += x[i] * x[i]", "s += x[i] * y"),
                      "bad.ad:4:21: type error: unknown name 'y'"),
       "syntax error": (PROGRAM.replace("s = 0.0", "s = 0.0)"), "bad.ad:2:12: syntax error: unmatched ')'")}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ADC_CACHE_DIR", str(tmp_path))
    return tmp_path


def entries(cache) -> set[str]:
    return {p.name for p in (cache / "ir").glob("*.pickle")}


def test_a_cached_load_skips_the_compiler_and_emits_the_same_code(cache, monkeypatch):
    m = adc.loads(PROGRAM, "prog.ad", jit=False)
    first = (m.f.compiled.source, adc.grad(m.f).compiled.source)
    assert len(entries(cache)) == 3          # checked module, forward IR, gradient IR

    def fail(*args, **kwargs):
        raise AssertionError("the compiler ran on a cached load")
    monkeypatch.setattr("adc.runtime.module.front_end", fail)
    monkeypatch.setattr("adc.runtime.module.forward_ir", fail)
    monkeypatch.setattr("adc.runtime.grad.reverse", fail)
    again = adc.loads(PROGRAM, "prog.ad", jit=False)
    assert (again.f.compiled.source, adc.grad(again.f).compiled.source) == first
    assert again.f([1.0, 2.0]) == 5.0
    assert list(adc.grad(again.f)([1.0, 2.0])) == [2.0, 4.0]


@pytest.mark.parametrize("change", ["source", "filename", "compiler"])
def test_what_the_result_depends_on_makes_a_new_entry(cache, monkeypatch, change):
    adc.loads(PROGRAM, "prog.ad", jit=False)
    before = entries(cache)
    source, filename = PROGRAM, "prog.ad"
    if change == "source":
        source = PROGRAM.replace("s = 0.0", "s = 1.0")
    elif change == "filename":
        filename = "moved.ad"
    else:
        monkeypatch.setattr(memo, "compiler_fingerprint", lambda: b"another compiler")
    m = adc.loads(source, filename, jit=False)
    assert len(entries(cache) - before) == 1
    assert m.f.ir.filename == filename


def test_each_derivative_request_has_its_own_entry(cache):
    m = adc.loads(PROGRAM.replace("x: float[n]", "x: float[n], y: float[n]"), jit=False)
    adc.grad(m.f, wrt="x").gradient
    n = len(entries(cache))
    adc.grad(m.f, wrt="y").gradient
    adc.value_and_grad(m.f, wrt="x").gradient
    adc.grad(m.f, wrt=("x", "y")).gradient
    assert len(entries(cache)) == n + 3


@pytest.mark.parametrize("kind", BAD)
def test_a_bad_program_is_reported_by_the_front_end_every_time(cache, kind):
    source, message = BAD[kind]
    for _ in range(2):
        with pytest.raises(AdError) as err:
            adc.loads(source, "bad.ad")
        assert str(err.value).splitlines()[0] == message
    assert entries(cache) == set()


def test_a_damaged_entry_is_computed_again(cache):
    m = adc.loads(PROGRAM, "prog.ad", jit=False)
    for path in (cache / "ir").glob("*.pickle"):
        path.write_bytes(b"not a pickle")
    again = adc.loads(PROGRAM, "prog.ad", jit=False)
    assert again.f.compiled.source == m.f.compiled.source


def test_no_writable_cache_dir_only_costs_time(tmp_path, monkeypatch):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    monkeypatch.setenv("ADC_CACHE_DIR", str(not_a_dir))
    m = adc.loads(PROGRAM, "prog.ad", jit=False)
    assert adc.adjoint_source(m.f).startswith("def f_grad(")
    with pytest.raises(AdError):
        adc.loads(BAD["type error"][0], "bad.ad")


def test_derivative_text_does_not_depend_on_what_was_compiled_before(cache):
    """The derivative's module text is its cache key: emitting the forward function first (as a
    benchmark does) must not rename anything in it, or a later process compiles it again."""
    import numpy as np

    alone = adc.adjoint_source(adc.loads(PROGRAM, "a.ad", jit=False).f, lang="python")
    m = adc.loads(PROGRAM, "b.ad", jit=False)
    m.f(np.ones(3))
    after = adc.adjoint_source(m.f, lang="python")
    assert after.replace("b.ad", "a.ad") == alone
