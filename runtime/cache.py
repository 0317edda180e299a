"""On-disk cache of generated modules, so Numba's own cache (which needs a real file) works.

Each generated module is written once to ``<cache dir>/adc_<key>.py``, where the key hashes the
module text with the adc and Numba versions; Numba keeps its compiled machine code next to it in
``__pycache__``. The cache directory is ``$ADC_CACHE_DIR`` or the user's cache directory.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
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


def load_module(source: str, jit: bool = True) -> tuple[ModuleType, bool]:
    """Import the generated module (writing it first if new); return it and whether it was cached.

    Importing compiles the entry function (its signature is explicit), or loads it from Numba's
    cache when that exists. With ``jit=False`` the same file runs as plain Python (Numba's
    DISABLE_JIT switch, as with ``NUMBA_DISABLE_JIT=1``): the debug mode, and fast for tests.
    """
    name, path = module_path(source)
    if not jit:
        name += "_nojit"
    if name in sys.modules:
        return sys.modules[name], True
    if not path.exists() or path.read_text(encoding="utf-8") != source:
        write_atomic(path, source.encode())
    warm = is_compiled(name, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    saved = numba.config.DISABLE_JIT
    numba.config.DISABLE_JIT = saved or not jit
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    finally:
        numba.config.DISABLE_JIT = saved
    return module, warm
