"""A while loop whose tape outgrows the memory limit raises MemoryError naming the loop."""
import pytest

import adc

GROW = """\
def f(a: float) -> float:
    x = a
    k = 0
    while k < 100000:
        x = sin(x) + a
        k += 1
    return x
"""


@pytest.mark.parametrize("jit", [False, True], ids=["nojit", "jit"])
def test_tape_overflow_is_a_memory_error_naming_the_loop(monkeypatch, jit):
    monkeypatch.setenv("ADC_TAPE_LIMIT_BYTES", "65536")      # 8192 float64 values
    m = adc.loads(GROW, "grow.ad", jit=jit)
    with pytest.raises(MemoryError, match=r"tape of the loop at line 4 of grow\.ad .*65,536 bytes"):
        adc.grad(m.f)(0.5)


def test_within_the_limit_the_gradient_is_right(monkeypatch):
    monkeypatch.setenv("ADC_TAPE_LIMIT_BYTES", "65536")
    m = adc.loads(GROW.replace("100000", "1000"), "grow.ad", jit=False)
    eps = 1e-6
    fd = (m.f(0.5 + eps) - m.f(0.5 - eps)) / (2 * eps)
    assert adc.grad(m.f)(0.5) == pytest.approx(fd, rel=1e-6)
