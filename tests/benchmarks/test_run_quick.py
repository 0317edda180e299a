"""``python benchmarks/run.py --quick`` as a test: every workload on adc and on every installed
peer, each primal and derivative checked against adc's (no timing assertions).

Runs in-process; adc's programs compile into the project cache (``ADC_CACHE_DIR`` from
tests/conftest.py), so a second run loads them. torch and jax are optional: absent, they are
left out of the run, and the test still needs the NumPy and Numba peers to agree with adc.
"""
from __future__ import annotations

import json

from benchmarks import run

HAND_NA = {"gmm", "lstm"}             # no hand-written derivative in the NumPy/Numba peers
JAX_REFUSES = {"seed8_while", "newton"}  # data-dependent while loops: no reverse mode in JAX


def test_run_quick(tmp_path, capsys):
    status = run.main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "run.json").read_text())
    assert status == 0, f"run.py --quick failed:\n{out}\n{report['failures']}"
    assert report["failures"] == []

    rows = {r["workload"]: r for r in report["workloads"]}
    assert list(rows) == run.WORKLOAD_NAMES
    peers = report["settings"]["peers"]
    assert {"numpy", "numba"} <= set(peers)              # the hand-written peers are always there
    for name, row in rows.items():
        impls = row["implementations"]
        assert impls["adc"]["primal"]["status"] == "ok" and impls["adc"]["derivative"]["status"] == "ok"
        for peer in peers:
            prim, der = impls[peer]["primal"], impls[peer]["derivative"]
            assert prim["status"] == "ok" and prim["check"] == "ok", (name, peer, prim)
            if peer in ("numpy", "numba") and name in HAND_NA:
                assert der["status"] == "n/a", (name, peer, der)
            elif peer == "jax" and name in JAX_REFUSES:
                assert der["status"] == "not supported" and "Reverse-mode" in der["error"], (name, der)
            else:
                assert der["status"] == "ok" and der["check"] == "ok", (name, peer, der)
        # a derivative checked against at least one hand-written peer, where one exists
        if name not in HAND_NA:
            assert any(impls[p]["derivative"].get("check") == "ok" for p in ("numpy", "numba"))
    assert "deriv vs adc" in out
