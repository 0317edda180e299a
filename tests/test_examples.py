"""Every example works from the command line: check, graph, compile, and run with its arguments."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from adc.runtime.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROGRAMS = sorted(EXAMPLES.glob("*.ad"))
ARGS = sorted((EXAMPLES / "args").glob("*.json"))


def test_every_example_has_argument_files():
    stems = {a.name.split(".")[0] for a in ARGS}
    assert {p.stem for p in PROGRAMS} <= stems


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_check_graph_and_compile(program, capsys):
    assert main(["check", str(program)]) == 0
    assert "ok" in capsys.readouterr().out
    functions = {a.name.split(".")[1] for a in ARGS if a.name.split(".")[0] == program.stem}
    for func in sorted(functions):
        assert main(["graph", str(program), func]) == 0
        assert main(["graph", str(program), func, "--format", "dot"]) == 0
    capsys.readouterr()
    assert main(["compile", str(program), "--no-grad"]) == 0
    assert "failed" not in capsys.readouterr().out


@pytest.mark.parametrize("args", ARGS, ids=[a.stem for a in ARGS])
def test_run_with_the_shipped_arguments(args, capsys):
    stem, func = args.name.split(".")[:2]
    code = main(["run", str(EXAMPLES / f"{stem}.ad"), func, str(args), "--no-jit"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("result")
    values = json.loads(args.read_text())
    assert values, "argument files are not empty"
