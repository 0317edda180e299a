"""Golden listings of the readable adjoint (``adc.adjoint_source(f, lang="ad")``).

Each ``golden/NAME.ad`` holds one program; its first function's adjoint must equal
``golden/NAME.adjoint.txt``. The listings are what users read to trust the derivative, so a
change to them is a change to review: regenerate with ``ADC_UPDATE_GOLDEN=1 pytest`` and read
the diff.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import adc

GOLDEN = Path(__file__).parent / "golden"
PROGRAMS = sorted(GOLDEN.glob("*.ad"))


def test_there_are_enough_golden_listings():
    assert len(PROGRAMS) >= 5


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_adjoint_listing_matches_golden(program: Path):
    module = adc.load(program, jit=False)
    first = next(iter(module.functions.values()))
    listing = adc.adjoint_source(first) + "\n"
    expected = program.with_suffix(".adjoint.txt")
    if os.environ.get("ADC_UPDATE_GOLDEN"):
        expected.write_text(listing)
    assert listing == expected.read_text()


def test_chain_rule_reads_like_the_hand_derivation():
    """Seed example 10: y_bar = y - t, z_bar = y_bar * y * (1 - y), w_bar = z_bar * x, b_bar = z_bar."""
    text = (GOLDEN / "chain_rule.adjoint.txt").read_text()
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    assert "t_4 = y - t" in lines and "y_bar = t_4" in lines
    assert "z_bar = y_bar * y * (1.0 - y)" in lines
    assert "w_bar = z_bar * x" in lines and "b_bar = z_bar" in lines
