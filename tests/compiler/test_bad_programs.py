"""The corpus of malformed and ill-typed programs: each must fail with a located, readable AdError.

Every file in ``bad_programs/`` is wrong in one way and opens with

    # expect: LINE:COL: fragment of the message
    # hint: fragment of the hint              (optional)

Line numbers count these comment lines. Only the front end runs (no Numba), so this is fast.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from adc.compiler.errors import AdError
from adc.compiler.pipeline import front_end

BAD = Path(__file__).resolve().parent / "bad_programs"
FILES = sorted(BAD.glob("*.ad"))
EXPECT = re.compile(r"# expect: (\d+):(\d+): (.+)")
HINT = re.compile(r"# hint: (.+)")


def _expectation(text: str) -> tuple[int, int, str, str | None]:
    lines = text.splitlines()
    m = EXPECT.fullmatch(lines[0])
    assert m, "the first line must be '# expect: LINE:COL: fragment'"
    h = HINT.fullmatch(lines[1]) if len(lines) > 1 else None
    return int(m[1]), int(m[2]), m[3].strip(), h[1].strip() if h else None


def test_corpus_is_large_enough():
    assert len(FILES) >= 60


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_bad_program(path: Path):
    text = path.read_text()
    line, col, fragment, hint = _expectation(text)
    filename = path.name
    with pytest.raises(AdError) as info:
        front_end(text, filename)
    err = info.value
    assert (err.line, err.col) == (line, col), str(err)
    assert fragment in err.message, str(err)
    if hint is not None:
        assert err.hint is not None and hint in err.hint, str(err)
    rendered = str(err)
    assert rendered.startswith(f"{filename}:{line}:{col}:"), rendered
    source_line = text.splitlines()[line - 1]
    out = rendered.splitlines()
    assert f"    {source_line}" in out, rendered
    caret = out[out.index(f"    {source_line}") + 1]
    assert caret.startswith("    ") and caret[4:].index("^") == col - 1, rendered
