"""Shared test setup: a project-local compile cache and the JIT on/off switch.

Generated modules and Numba's machine code go to ``.adc_cache/`` in the checkout (git-ignored),
so a second run of the suite loads compiled code from disk instead of compiling again.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("ADC_CACHE_DIR", str(ROOT / ".adc_cache"))
EXAMPLES = ROOT / "examples"


@pytest.fixture(params=[True, False], ids=["jit", "nojit"])
def jit(request) -> bool:
    """Run a test with the Numba JIT and again with the same generated code as plain Python."""
    return request.param
