"""The main example: differentiate Newton's method through its data-dependent while loop.

    python examples/quickstart.py

Loads examples/newton_sqrt.ad, computes sqrt(a) by iterating until converged, takes the
derivative through every iteration (compiled with Numba), checks it against 1 / (2 sqrt(a)),
and prints the adjoint code adc generated.
"""
from pathlib import Path

import numpy as np

import adc

m = adc.load(Path(__file__).with_name("newton_sqrt.ad"))
for a in (0.25, 2.0, 10.0):
    value, da = adc.value_and_grad(m.newton_sqrt, wrt="a")(a, 1e-12)
    print(f"sqrt({a}) = {value:.15f}   d/da = {da:.15f}   exact 1/(2 sqrt a) = {0.5 / np.sqrt(a):.15f}")
    assert abs(da - 0.5 / np.sqrt(a)) < 1e-9

print("\nThe adjoint adc generated (adc adjoint examples/newton_sqrt.ad newton_sqrt --wrt a):\n")
print(adc.adjoint_source(m.newton_sqrt, wrt="a"))
