"""The small Numba functions generated modules call: numeric kernels Numba lacks or compiles
slowly, the matrix products as loops, tape growth.

Each is defined in a module of its own (``helper_modules``), named by a hash of its text, which
a generated module imports: a helper is then compiled once per process, and once per cache
directory thanks to Numba's cache, not once per generated module (the forward function and its
derivative each compiled ``_matmul``, ``_matvec``, ``_exp``...: 1.3 s of gmm's cold compile).
They are source text because generated modules must stand alone: the cache directory holds every
module a generated one imports, and each also runs as plain Python with ``NUMBA_DISABLE_JIT=1``. ``_exp`` is here because Numba's ``exp`` is a call into libm that
LLVM cannot vectorise; this one is plain arithmetic, so an elementwise loop over it compiles to
SIMD instructions (5x faster on 1M elements).
"""
from __future__ import annotations

import functools
import hashlib
import math


def _taylor_exp(r: str, degree: int) -> str:
    """exp's Taylor polynomial in ``r`` as Horner's rule, its coefficients 1/k! written out."""
    text = repr(1 / math.factorial(degree))
    for k in range(degree - 1, -1, -1):
        text = f"{1 / math.factorial(k)!r} + {r} * ({text})"
    return text

def _extremum(name: str, beats: str, reduction: str) -> str:
    """max or min of a 1-D array in four interleaved lanes (independent compare chains the CPU
    overlaps; a single chain runs at one element per compare latency) and, like numpy, nan if
    any element is nan."""
    lanes = "\n".join(f"        v{j} = x[k + {j}]\n        m{j} = v{j} if v{j} {beats} m{j} else m{j}"
                       for j in range(4))
    return f'''def {name}(x):
    n = x.shape[0]
    if n == 0:
        raise ValueError("zero-size array to reduction operation {reduction} which has no identity")
    whole = n - n % 4
    m0 = m1 = m2 = m3 = x[0]
    nan = False
    for k in range(0, whole, 4):
{lanes}
        nan |= (v0 != v0) | (v1 != v1) | (v2 != v2) | (v3 != v3)
    m0 = m1 if m1 {beats} m0 else m0
    m2 = m3 if m3 {beats} m2 else m2
    m = m2 if m2 {beats} m0 else m0
    for k in range(whole, n):
        m = x[k] if x[k] {beats} m else m
        nan |= x[k] != x[k]
    return _np.nan if nan else m'''


HELPERS = {
    # exp(x) = 2**k * exp(r), k = round(x / ln 2), r = x - k ln 2 in [-ln2/2, ln2/2] (ln 2 split in
    # two so k ln 2 is exact), exp(r) by its Taylor polynomial to degree 13 (truncation below
    # 1e-17), 2**k built from its bits in two halves so subnormal results and overflow to inf come
    # out of the same arithmetic. Within 1 ulp of libm's exp; x is clamped so k stays in range,
    # and nan passes through. Rounding to an integer adds and subtracts 1.5 * 2**52 (ties to even),
    # whose low bits then hold k.
    "_exp": f'''def _exp(x):
    xc = min(max(x, -746.0), 710.0)
    kd = xc * {1 / math.log(2)!r} + 6755399441055744.0
    k = _np.float64(kd).view(_np.int64) - 4843621399236968448
    kd = kd - 6755399441055744.0
    r = (xc - kd * 0.6931471803691238) - kd * 1.9082149292705877e-10
    p = {_taylor_exp('r', 13)}
    h = k >> 1
    y = p * _np.int64((h + 1023) << 52).view(_np.float64) * _np.int64((k - h + 1023) << 52).view(_np.float64)
    return y if x == x else x''',
    "_sigmoid": '''def _sigmoid(x):
    return 1.0 / (1.0 + _exp(-x))''',
    "_softplus": '''def _softplus(x):
    return max(x, 0.0) + _np.log1p(_exp(-abs(x)))''',
    "_logsumexp": '''def _logsumexp(x):
    flat = x.ravel()
    m = _amax(flat)
    if not _np.isfinite(m):
        return m
    s = 0.0
    for v in flat:
        s += _exp(v - m)
    return m + _np.log(s)''',
    # Eight interleaved partial sums, combined pairwise: independent chains the CPU overlaps (a
    # single running sum waits 4 cycles per element), a fixed order whatever the vector width, and
    # less rounding error than one running sum.
    "_sum": '''def _sum(x):
    n = x.shape[0]
    whole = n - n % 8
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for k in range(0, whole, 8):
        s0 += x[k]
        s1 += x[k + 1]
        s2 += x[k + 2]
        s3 += x[k + 3]
        s4 += x[k + 4]
        s5 += x[k + 5]
        s6 += x[k + 6]
        s7 += x[k + 7]
    s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    for k in range(whole, n):
        s += x[k]
    return s''',
    "_norm": '''def _norm(x):
    s = 0.0
    for v in x.flat:
        s += v * v
    return _np.sqrt(s)''',
    "_in_range": '''def _in_range(i, stop, step):
    return i < stop if step > 0 else i > stop''',
    "_trip_count": '''def _trip_count(lo, hi, step):
    if step > 0:
        return max(0, (hi - lo + step - 1) // step)
    return max(0, (lo - hi - step - 1) // (-step))''',
    "_prod_others": '''def _prod_others(x):
    flat = x.ravel()
    out = _empty(flat.size)
    acc = 1.0
    for k in range(flat.size):
        out[k] = acc
        acc *= flat[k]
    acc = 1.0
    for k in range(flat.size - 1, -1, -1):
        out[k] *= acc
        acc *= flat[k]
    return out.reshape(x.shape)''',
    "_amax": _extremum("_amax", ">", "maximum"),
    "_amin": _extremum("_amin", "<", "minimum"),
    # The rows of a matrix added into one row (a broadcast row's adjoint), in row order like
    # numpy's: the inner loop runs along the row, independent per column, so it vectorises
    # (Numba's np.sum(x, axis=0) took 2.5x as long on 1000 x 64), and Numba does not compile
    # np.sum's axis-bounds error formatting (about 1.5 s of gmm's cold compile).
    "_sum_rows": '''def _sum_rows(x):
    out = _zeros(x.shape[1])
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[j] += x[i, j]
    return out''',
    "_count_eq": '''def _count_eq(x, m):
    count = 0
    for v in x:
        count += v == m
    return float(count)''',
    # Matrix products are loops, calling BLAS (np.dot) only for large products and only when
    # Numba can reach it (it needs SciPy, not a dependency of adc): a BLAS call costs more than
    # the arithmetic on the small operands of per-sample loops (an MLP layer, an LSTM cell).
    # "Large" counts multiply-adds, not output elements: a small result can sum over a long axis
    # (the 64 x 64 `transpose(xc) @ Qxc_bar` of gmm's gradient sums 1000 terms each, 2.5x
    # faster in BLAS); loops and BLAS cost about the same near 2,000 multiply-adds (measured,
    # Numba with OpenBLAS, single-threaded).
    "_dot": '''def _dot(a, b):
    if a.shape[0] != b.shape[0]:
        raise ValueError("dot: vectors of different lengths")
    s = 0.0
    for k in range(a.shape[0]):
        s += a[k] * b[k]
    return s''',
    "_vecmat": '''def _vecmat(v, m):
    if v.shape[0] != m.shape[0]:
        raise ValueError("@: shapes do not match")
    if _BLAS and m.size > 4096:
        out = _empty(m.shape[1])
        _gevm(v, m, out)
        return out
    out = _zeros(m.shape[1])
    for i in range(m.shape[0]):
        vi = v[i]
        for j in range(m.shape[1]):
            out[j] += vi * m[i, j]
    return out''',
    "_matvec": '''def _matvec(m, v):
    if v.shape[0] != m.shape[1]:
        raise ValueError("@: shapes do not match")
    out = _empty(m.shape[0])
    if _BLAS and m.size > 4096:
        _gemv(m, v, out)
        return out
    for i in range(m.shape[0]):
        s = 0.0
        for j in range(m.shape[1]):
            s += m[i, j] * v[j]
        out[i] = s
    return out''',
    "_matmul": '''def _matmul(a, b):
    if a.shape[1] != b.shape[0]:
        raise ValueError("@: shapes do not match")
    if _BLAS and a.shape[0] * a.shape[1] * b.shape[1] > 2048:
        out = _empty((a.shape[0], b.shape[1]))
        _gemm(a, b, out)
        return out
    out = _zeros((a.shape[0], b.shape[1]))
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            aik = a[i, k]
            for j in range(b.shape[1]):
                out[i, j] += aik * b[k, j]
    return out''',
    "_outer": '''def _outer(u, v):
    out = _empty((u.shape[0], v.shape[0]))
    for i in range(u.shape[0]):
        for j in range(v.shape[0]):
            out[i, j] = u[i] * v[j]
    return out''',
    # A loop, not ``bigger[:n] = tape``: Numba's slice assignment compiles its shape-mismatch
    # error formatting (string and repr code), about a second of a cold compile.
    "_grow": '''def _grow(tape, needed):
    bigger = _np.empty(max(needed, 2 * tape.shape[0]), dtype=tape.dtype)
    for k in range(tape.shape[0]):
        bigger[k] = tape[k]
    return bigger''',
}

# Helpers always called with int64 arguments get that signature: without one, Numba compiles a new
# specialisation for every combination of literal arguments (``_trip_count(0, n, 1)`` and
# ``_trip_count(t, n, 1)`` are two compilations), and gmm's gradient had twelve of them. ``_exp``
# lets LLVM fuse its polynomial's multiply-adds (FMA; more accurate, and half the instructions).
HELPER_OPTIONS = {"_in_range": "(_nb.int64, _nb.int64, _nb.int64), ",
                  "_trip_count": "(_nb.int64, _nb.int64, _nb.int64), ",
                  "_exp": "(_nb.float64,), fastmath={'contract'}, "}

# The helpers each helper calls, emitted with it.
HELPER_NEEDS = {"_sigmoid": ("_exp",), "_softplus": ("_exp",), "_logsumexp": ("_exp", "_amax"),
                "_prod_others": ("_empty",), "_sum_rows": ("_zeros",), "_vecmat": ("_zeros", "_empty", "_gevm"),
                "_matvec": ("_empty", "_gemv"), "_matmul": ("_zeros", "_empty", "_gemm"), "_outer": ("_empty",)}

# float64 arrays are allocated by Numba intrinsics (``_empty(shape)``, ``_zeros``, ``_ones``; a
# shape is an int or a tuple of ints) rather than by ``np.empty`` and ``np.zeros``. Numba
# implements those as overloads, compiling a chain of small functions (np.zeros calls np.empty,
# which calls an allocator intrinsic, then a fill) through its whole pipeline for every distinct
# argument signature (an int or a tuple, each rank, dtype given or not), once per process: 0.3 s
# of det's and 1.3 s of gmm's cold compile. An intrinsic is typed by a Python function and
# lowered straight to the same allocation code, with no compilation of its own. As plain Python
# (Numba's JIT disabled) they are numpy's functions.
ALLOCATORS = ("_empty", "_zeros", "_ones")
ALLOCATOR_DEFINITIONS = """if _nb.config.DISABLE_JIT:
    _empty, _zeros, _ones = _np.empty, _np.zeros, _np.ones
else:
    import sys as _sys
    from llvmlite import ir as _llir
    from numba.core import cgutils as _cgutils
    from numba.np.arrayobj import _empty_nd_impl, _parse_shape


    def _huge_pages(builder, ary):
        # ask Linux for transparent huge pages on an array of 4 MiB or more: its first touch then
        # faults 2 MiB at a time instead of 4 KiB (det's levels and ode's tape: half their time
        # where freed memory went back to the kernel), as glibc.malloc.hugetlb=1 would for all
        nbytes = builder.mul(ary.nitems, ary.itemsize)
        big = builder.icmp_unsigned(">=", nbytes, nbytes.type(1 << 22))
        with builder.if_then(big, likely=False):
            intp = nbytes.type
            start = builder.ptrtoint(ary.data, intp)
            first = builder.and_(builder.add(start, intp(4095)), intp(~4095))
            length = builder.and_(builder.sub(builder.add(start, nbytes), first), intp(~4095))
            int32, pointer = _llir.IntType(32), _llir.IntType(8).as_pointer()
            madvise = _cgutils.get_or_insert_function(
                builder.module, _llir.FunctionType(int32, [pointer, intp, int32]), "madvise")
            builder.call(madvise, [builder.inttoptr(first, pointer), length, int32(14)])   # 14: MADV_HUGEPAGE


    def _allocator(fill):
        # an intrinsic returning a new C-contiguous float64 array of a shape, filled with fill
        # unless it is None
        @_nb.extending.intrinsic
        def alloc(typingctx, shape):
            dims = shape.types if isinstance(shape, _nb.types.BaseTuple) else (shape,)
            if not dims or not all(isinstance(t, _nb.types.Integer) for t in dims):
                return None
            arrty = _nb.types.Array(_nb.types.float64, len(dims), 'C')

            def codegen(context, builder, sig, args):
                # _parse_shape raises numpy's ValueError for a negative extent
                ary = _empty_nd_impl(context, builder, arrty, _parse_shape(context, builder, shape, args[0]))
                if _sys.platform.startswith("linux"):
                    _huge_pages(builder, ary)
                if fill == 0.0:
                    _cgutils.memset(builder, ary.data, builder.mul(ary.nitems, ary.itemsize), 0)
                elif fill is not None:
                    value = context.get_constant(_nb.types.float64, fill)
                    with _cgutils.for_range(builder, ary.nitems) as loop:
                        builder.store(value, builder.gep(ary.data, [loop.index]))
                return ary._getvalue()
            return arrty(shape), codegen
        return alloc


    _empty, _zeros, _ones = _allocator(None), _allocator(0.0), _allocator(1.0)"""


# The matrix products call BLAS through Numba's own entry points (the ones its np.dot calls) from
# intrinsics: Numba implements np.dot as an overload that compiles a chain of small functions
# (np.dot(a, b) calls np.dot(a, b, out), np.zeros, np.empty) through its whole pipeline for every
# combination of operand layouts, about 0.3 s each, once per process: 1.5-2.5 s of gmm's cold
# compile, where its gradient multiplies C by F and F by C matrices. As plain Python they are
# numpy's np.dot.
BLAS_KERNELS = ("_gemm", "_gemv", "_gevm")
BLAS_DEFINITIONS = '''if _nb.config.DISABLE_JIT:
    def _gemm(a, b, out):
        _np.dot(a, b, out=out)


    def _gemv(m, v, out):
        _np.dot(m, v, out=out)


    def _gevm(v, m, out):
        _np.dot(v, m, out=out)
else:
    from numba.core import cgutils as _cgutils
    from numba.np import linalg as _linalg
    from numba.np.arrayobj import make_array as _make_array


    def _blas(call):
        # an intrinsic writing a product of its first two arrays into its third (C-contiguous
        # float64): call(context, builder, types, shapes, data) with each argument contiguous
        @_nb.extending.intrinsic
        def product(typingctx, x, y, out):
            def codegen(context, builder, sig, args):
                _linalg.ensure_blas()
                with _linalg.make_contiguous(context, builder, sig, args) as (sig, args):
                    arrays = [_make_array(t)(context, builder, v) for t, v in zip(sig.args, args)]
                    shapes = [_cgutils.unpack_tuple(builder, a.shape) for a in arrays]
                    for n in shapes[0] + shapes[1]:
                        _linalg.check_c_int(context, builder, n)
                    call(context, builder, sig.args, shapes, [a.data for a in arrays])
                return context.get_dummy_value()
            return _nb.types.none(x, y, out), codegen
        return product


    _gemm = _blas(lambda context, builder, t, s, d: _linalg.call_xxgemm(
        context, builder, t[0], s[0], d[0], t[1], s[1], d[1], t[2], s[2], d[2]))
    _gemv = _blas(lambda context, builder, t, s, d: _linalg.call_xxgemv(
        context, builder, t[0].layout == 'C', t[0], s[0], d[0], d[1], d[2]))
    _gevm = _blas(lambda context, builder, t, s, d: _linalg.call_xxgemv(
        context, builder, t[1].layout == 'F', t[1], s[1], d[1], d[0], d[2]))'''


# Numba's nopython pipeline without two passes that find nothing to do in generated code but
# walk all of it: inlining closures (and list comprehensions into arrays) and the after-typing
# rewrites (fusing numpy array expressions: the emitter writes loops). With no cfunc wrapper
# (a C-callable copy of each function, which nothing here takes), about 8% of lstm's and 12%
# of gmm's gradient compile.
PIPELINE_DEFINITION = """from numba.core.codegen import CPUCodegen as _CPUCodegen, JITCodeLibrary as _JITCodeLibrary
from numba.core.compiler import CompilerBase as _CompilerBase, DefaultPassBuilder as _DefaultPassBuilder
from numba.core.compiler_machinery import LoweringPass as _LoweringPass, register_pass as _register_pass
from numba.core.typed_passes import NopythonRewrites as _NopythonRewrites
from numba.core.typed_passes import NopythonTypeInference as _NopythonTypeInference
from numba.core.untyped_passes import InlineClosureLikes as _InlineClosureLikes


class _Codegen:
    # Numba's code generator, asking for other pass managers
    def __init__(self, codegen, **settings):
        self._codegen = codegen
        self._settings = settings

    def __getattr__(self, name):
        return getattr(self._codegen, name)

    def _function_pass_manager(self, **kwargs):
        return self._codegen._function_pass_manager(**{**self._settings.get("function", {}), **kwargs})

    def _module_pass_manager(self, **kwargs):
        return self._codegen._module_pass_manager(**{**self._settings.get("module", {}), **kwargs})


class _Library(_JITCodeLibrary):
    _function = {"opt": 1}
    _module = {}

    def _optimize_functions(self, ll_module):
        codegen, self._codegen = self._codegen, _Codegen(self._codegen, function=self._function)
        try:
            super()._optimize_functions(ll_module)
        finally:
            self._codegen = codegen

    def _optimize_final_module(self):
        codegen, self._codegen = self._codegen, _Codegen(self._codegen, module=self._module)
        try:
            super()._optimize_final_module()
        finally:
            self._codegen = codegen


_HOOKS = (all(hasattr(_CPUCodegen, a) for a in ("_pass_builder", "_function_pass_manager", "_module_pass_manager"))
          and all(hasattr(_JITCodeLibrary, a) for a in ("_optimize_functions", "_optimize_final_module")))


@_register_pass(mutates_CFG=False, analysis_only=False)
class _LibraryPass(_LoweringPass):
    _name = "adc_library"
    library = _Library

    def __init__(self):
        _LoweringPass.__init__(self)

    def run_pass(self, state):
        if state.library is None and _HOOKS:
            state.library = self.library(state.targetctx.codegen(), state.func_id.func_qualname)
            state.library.enable_object_caching()
        return True


class _Pipeline(_CompilerBase):
    library_pass = _LibraryPass

    def define_pipelines(self):
        pm = _DefaultPassBuilder.define_nopython_pipeline(self.state)
        pm.passes = [p for p in pm.passes if p[0] not in (_InlineClosureLikes, _NopythonRewrites)]
        pm.add_pass_after(self.library_pass, _NopythonTypeInference)
        pm.finalize()
        return [pm]"""

# The options every function of a generated module is compiled with (after its signature).
NJIT_OPTIONS = "pipeline_class=_Pipeline, no_cfunc_wrapper=True, cache=True, nogil=True, error_model='numpy'"

# _Pipeline compiles into a code library of its own (Numba builds one in NativeLowering unless one
# is there already) that runs each function's own optimisation passes, before it is linked with
# its callees, at LLVM's -O1 instead of -O3: the -O3 module passes after linking do the rest, and
# run times stayed the same on every benchmark, while lstm's gradient spent 0.5 s less in LLVM.
# _VectorPipeline's library also runs LLVM's SLP vectoriser in that final optimisation
# (independent scalar operations on adjacent memory become vector operations), for a function
# whose jammed loops read transposed copies (compiler/passes/lane_layout.py). Numba leaves SLP
# off, and its switch (NUMBA_SLP_VECTORIZE) is process-wide: it would change the user's own Numba
# code too. The full module passes are the ones asked for without an explicit setting (the cheap
# ones before reference-count pruning ask for slp_vectorize=False). Numba before LLVM's new pass
# manager (no CPUCodegen._pass_builder) built its pass managers once per process: there, or
# where these internals have moved, functions are compiled as Numba compiles them (the same
# results).
VECTOR_PIPELINE_DEFINITION = """class _SLPLibrary(_Library):
    _module = {"slp_vectorize": True}


@_register_pass(mutates_CFG=False, analysis_only=False)
class _SLPLibraryPass(_LibraryPass):
    _name = "adc_slp_library"
    library = _SLPLibrary


class _VectorPipeline(_Pipeline):
    library_pass = _SLPLibraryPass"""

VECTOR_NJIT_OPTIONS = NJIT_OPTIONS.replace("_Pipeline", "_VectorPipeline")


def definitions(names: set[str], blas: bool, vector: bool = False) -> list[str]:
    """The lines of a generated module that define the compilation pipeline (and with ``vector``
    the SLP-vectorising one) and the allocators among ``names``, and import the other helpers
    among them from their modules (``blas``: as for ``helper_modules``)."""
    out = ["", PIPELINE_DEFINITION, ""]
    if vector:
        out.extend(["", VECTOR_PIPELINE_DEFINITION, ""])
    if names & set(ALLOCATORS):
        out.extend(["", ALLOCATOR_DEFINITIONS, ""])
    if names & set(BLAS_KERNELS):
        out.extend(["", BLAS_DEFINITIONS, ""])
    inline = set(ALLOCATORS) | set(BLAS_KERNELS)
    imports = [f"from {module_name(name, blas)} import {name}" for name in sorted(names - inline)]
    if imports:
        out.extend(["", *imports, ""])
    return out


def helper_modules(names: set[str], blas: bool) -> dict[str, str]:
    """The text of each module that defines one of the helpers ``names`` or a helper those call,
    by module name, every module after the ones it imports. ``blas``: whether the matrix
    products may call BLAS (``np.dot``), which is part of their modules' text."""
    out: dict[str, str] = {}

    def add(name: str) -> None:
        for need in HELPER_NEEDS.get(name, ()):
            add(need)
        if name not in ALLOCATORS and name not in BLAS_KERNELS:
            out[module_name(name, blas)] = module_text(name, blas)
    for name in sorted(names):
        add(name)
    return out


@functools.cache
def module_name(helper: str, blas: bool) -> str:
    """The name of the module that defines ``helper``: a hash of its text, so a changed helper
    (or another BLAS setting) is another module, never one that Numba's cache holds stale."""
    return f"adc_helper{helper}_{hashlib.sha256(module_text(helper, blas).encode()).hexdigest()[:16]}"


@functools.cache
def module_text(helper: str, blas: bool) -> str:
    """The module that defines ``helper`` (and imports the helpers it calls)."""
    lines = [f"# adc helper {helper}. Do not edit.", "import numba as _nb", "import numpy as _np", ""]
    if "_BLAS" in HELPERS[helper]:
        lines.extend([f"_BLAS = {blas}", ""])
    lines.extend(definitions(set(HELPER_NEEDS.get(helper, ())), blas))
    lines.extend(["", f"@_nb.njit({HELPER_OPTIONS.get(helper, '')}{NJIT_OPTIONS})", HELPERS[helper], ""])
    return "\n".join(lines)
