"""On-disk cache of generated modules, so Numba's own cache (which needs a real file) works.

Each generated module is written once to ``<cache dir>/adc_<key>.py``, where the key hashes the
module text with the adc and Numba versions, and the helper modules it imports beside it, as
``adc_helper<name>_<hash of their text>.py``; Numba keeps the compiled machine code of both in
``__pycache__``. The cache directory is ``$ADC_CACHE_DIR`` or the user's cache directory.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType

import numba

from .. import __version__


def cache_dir() -> Path:
    env = os.environ.get("ADC_CACHE_DIR")
    if env:
        path = Path(env)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
        path = Path(base) / "adc"
    path.mkdir(parents=True, exist_ok=True)
    return path


def module_key(source: str) -> str:
    h = hashlib.sha256()
    for part in (source, __version__, numba.__version__, sys.version):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:20]


def module_path(source: str) -> tuple[str, Path]:
    name = f"adc_{module_key(source)}"
    return name, cache_dir() / f"{name}.py"


def write_atomic(path: Path, data: bytes) -> None:
    """Write a cache file so that a concurrent reader (another process loading the same
    program) sees either the whole file or none."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def is_compiled(name: str, path: Path) -> bool:
    """Whether Numba has machine code on disk for this module (a warm start)."""
    pycache = path.parent / "__pycache__"
    return pycache.is_dir() and any(pycache.glob(f"{name}.*.nbi"))


def load_module(source: str, jit: bool = True, helpers: dict[str, str] | None = None) -> tuple[ModuleType, bool]:
    """Import the generated module (writing it first if new); return it and whether it was cached.

    Importing compiles the entry function (its signature is explicit), or loads it from Numba's
    cache when that exists. ``helpers`` are the modules it imports, by name, each after the ones
    it imports (``emit_module`` gives them in that order): they are written to the same
    directory and imported first, each once per process. With ``jit=False`` the same files run
    as plain Python (Numba's DISABLE_JIT switch, as with ``NUMBA_DISABLE_JIT=1``): the debug
    mode, and fast for tests.
    """
    name, path = module_path(source)
    with _import_lock:
        for helper, text in (helpers or {}).items():
            _imported(helper, cache_dir() / f"{helper}.py", text, jit, helpers)
        warm = (name if jit else name + "_nojit") in sys.modules or is_compiled(name, path)
        return _imported(name, path, source, jit, helpers), warm


# Loading a module in plain-Python mode points its helpers' names at their plain-Python copies
# while it runs, which no other thread may see.
_import_lock = threading.RLock()


def _imported(name: str, path: Path, source: str, jit: bool, helpers: dict[str, str] | None) -> ModuleType:
    """The module ``name`` of this process in this mode, imported from ``path`` unless it already
    was; ``path`` is written first if it does not hold ``source`` (also for a module imported
    from another cache directory: each directory holds every module its modules import). A
    plain-Python copy is kept under ``<name>_nojit`` and imports the plain-Python copies of the
    helpers."""
    if not path.exists() or path.read_text(encoding="utf-8") != source:
        write_atomic(path, source.encode())
    key = name if jit else name + "_nojit"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    saved = numba.config.DISABLE_JIT
    numba.config.DISABLE_JIT = saved or not jit
    hidden = {h: sys.modules.get(h) for h in (helpers or {})} if not jit else {}
    try:
        for h in hidden:
            if h + "_nojit" in sys.modules:
                sys.modules[h] = sys.modules[h + "_nojit"]
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[key]
        raise
    finally:
        numba.config.DISABLE_JIT = saved
        for h, previous in hidden.items():
            if previous is None:
                sys.modules.pop(h, None)
            else:
                sys.modules[h] = previous
    return module
