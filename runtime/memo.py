"""On-disk memo of the compiler's pure results, so a cached load does not run the compiler.

Loading a program that was used before, in a new process, would otherwise build the Lark parser,
parse, check, lower and differentiate again (about 0.15 s) only to emit the same Python that
Numba already has machine code for. ``recall`` stores each such result (the checked module, the
IR of each entry point) as a pickle in ``<cache dir>/ir/``, named by a hash of what it was
computed from and of the compiler itself: every file of ``compiler/`` and ``grammar/``, and the
adc, Lark and Python versions. Editing the program, moving it (its file name is in every message)
or editing the compiler therefore makes new entries instead of reading stale ones.

Only results are stored, never failures: a program with an error has no entry, so it always goes
through the front end and is reported exactly as before. Emitting the Python is not memoised:
the emitter also reads the environment (whether SciPy is installed, the tape limit) and takes
a few milliseconds.
"""
from __future__ import annotations

import contextlib
import hashlib
import pickle
import sys
from functools import lru_cache
from pathlib import Path
from typing import Callable, TypeVar

import lark

from .. import __version__
from .cache import cache_dir, write_atomic

T = TypeVar("T")
_PACKAGE = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def compiler_fingerprint() -> bytes:
    """A hash of everything the compiler's results depend on besides its input."""
    h = hashlib.sha256()
    for version in (__version__, lark.__version__, sys.version):
        _add(h, version)
    files = sorted((_PACKAGE / "compiler").rglob("*.py")) + sorted((_PACKAGE / "grammar").glob("*.lark"))
    for path in files:
        _add(h, path.relative_to(_PACKAGE).as_posix())
        _add(h, path.read_bytes())
    return h.digest()


def _add(h, part: str | bytes) -> None:
    """Length-prefixed, so that no two different sequences of parts hash alike."""
    data = part.encode() if isinstance(part, str) else part
    h.update(b"%d:" % len(data))
    h.update(data)


def entry_path(parts: tuple[str, ...]) -> Path:
    h = hashlib.sha256(compiler_fingerprint())
    for part in parts:
        _add(h, part)
    return cache_dir() / "ir" / f"{h.hexdigest()[:24]}.pickle"


def recall(parts: tuple[str, ...], compute: Callable[[], T]) -> T:
    """The result ``compute()`` stored under ``parts`` (everything it depends on, as strings),
    computing and storing it first when there is none. An exception from ``compute`` stores
    nothing and propagates. A cache directory that cannot be written costs time, not the result:
    checking a program must not need one."""
    try:
        return pickle.loads(entry_path(parts).read_bytes())
    except (OSError, EOFError, pickle.UnpicklingError):     # no entry yet, a damaged one, no cache dir
        pass
    value = compute()
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    with contextlib.suppress(OSError):
        path = entry_path(parts)
        path.parent.mkdir(exist_ok=True)
        write_atomic(path, data)
    return value
