"""The ``adc`` command line: check, compile, graph, run and adjoint of .ad files.

    adc check FILE.ad                      # parse and type-check; errors as file:line:col
    adc compile FILE.ad                    # compile everything (fills the cache), report timings
    adc graph FILE.ad FUNC [--format dot]  # the explicit graph/IR of a function
    adc run FILE.ad FUNC ARGS.json [--grad x,y] [--no-jit]
    adc adjoint FILE.ad FUNC [--wrt x,y] [--emit ad|python]

Exit status: 0 on success; 1 for an error in the program or its arguments (a compile error,
an unknown function, arguments that do not fit, a failed ``assert``); 2 for a usage error or a
file that cannot be read; 3 for an internal error of adc (set ``ADC_TRACEBACK=1`` to see it).
Errors in the user's input are printed as messages, never as tracebacks.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

import numpy as np

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class CliError(Exception):
    """An error to report as one message (no traceback) with an exit status."""

    def __init__(self, message: str, status: int = EXIT_ERROR):
        super().__init__(message)
        self.status = status


def _adc():
    import adc  # imported lazily so `adc --help` stays fast
    return adc


# ---- loading -------------------------------------------------------------------------------

def _load(path: str, **kw):
    """Load and check a module; a file that cannot be read is a usage error (status 2)."""
    adc = _adc()
    p = Path(path)
    if not p.exists():
        raise CliError(f"no such file: {path}", EXIT_USAGE)
    if p.is_dir():
        raise CliError(f"{path} is a directory, not a .ad file", EXIT_USAGE)
    try:
        return adc.load(p, **kw)
    except FileNotFoundError as exc:        # adc.load's message for unreadable files
        raise CliError(str(exc), EXIT_USAGE) from None
    except UnicodeDecodeError as exc:
        raise CliError(f"cannot read {path}: not UTF-8 text ({exc.reason} at byte {exc.start})",
                       EXIT_USAGE) from None


def _function(module, name: str, path: str):
    if name not in module.functions:
        names = ", ".join(module.functions) or "none"
        raise CliError(f"{path} has no function '{name}' (functions: {names})")
    return module.functions[name]


def _names(text: str | None, fn=None, option: str = "--grad") -> tuple[str, ...] | None:
    """``"x,y"`` -> ``("x", "y")``; ``None`` (option not given or given empty) -> ``None``."""
    if text is None:
        return None
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        return None
    if fn is not None:
        unknown = [n for n in names if n not in fn.param_names]
        if unknown:
            raise CliError(f"{option}: {fn.name}() has no parameter "
                           f"{', '.join(repr(n) for n in unknown)} "
                           f"(parameters: {', '.join(fn.param_names) or 'none'})")
    return names


# ---- output --------------------------------------------------------------------------------

def format_value(value) -> str:
    """A result as text: floats with repr precision, arrays in full (no '...', every digit)."""
    if isinstance(value, np.ndarray):
        return np.array2string(value, separator=", ", threshold=sys.maxsize, floatmode="unique",
                               max_line_width=100)
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(value)


def _print_labelled(label: str, value) -> None:
    text = format_value(value)
    if "\n" in text:
        print(f"{label}:")
        for line in text.splitlines():
            print("  " + line)
    else:
        print(f"{label}: {text}")


def print_result(result, prefix: str = "result") -> None:
    if isinstance(result, tuple):
        for k, v in enumerate(result):
            _print_labelled(f"{prefix}[{k}]", v)
    else:
        _print_labelled(prefix, result)


# ---- subcommands ---------------------------------------------------------------------------

def cmd_check(args) -> int:
    m = _load(args.file)
    names = list(m.functions)
    word = "function" if len(names) == 1 else "functions"
    listing = f": {', '.join(names)}" if names else ""
    print(f"{args.file}: ok ({len(names)} {word}{listing})")
    return EXIT_OK


def _table(rows: list[tuple[str, str, str]], title: str) -> None:
    headers = ("function", "seconds", "status")
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
        print(title)
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
        print("  ".join("-" * w for w in widths))
        for r in rows:
            print("  ".join((c.rjust(w) if i == 1 else c.ljust(w)) for i, (c, w) in
                            enumerate(zip(r, widths))).rstrip())
        return
    print(title)
    table = Table()
    table.add_column(headers[0])
    table.add_column(headers[1], justify="right")
    table.add_column(headers[2])
    for r in rows:
        table.add_row(*r)
    Console(file=sys.stdout, highlight=False, soft_wrap=False, width=max(80, 20 + max(
        (len(r[0]) for r in rows), default=0))).print(table)


def _compile_targets(m, adc, no_grad: bool):
    """(label, compile thunk) for every forward pass and, for functions with a scalar float
    result, their gradient w.r.t. all float parameters (what ``adc.grad(f)`` compiles)."""
    for name, fn in m.functions.items():
        yield name, fn.compile
        scalar = not fn.info.node.returns_tuple and str(fn.result_type) == "float"
        if not no_grad and scalar and any(t.dtype == "float" for _, t in fn.params):
            yield f"{name} (grad)", lambda fn=fn: adc.grad(fn).compiled


def cmd_compile(args) -> int:
    m = _load(args.file, boundscheck=not args.no_boundscheck)
    rows: list[tuple[str, str, str]] = []
    failed = []
    total = 0.0
    adc = _adc()
    for label, target in _compile_targets(m, adc, args.no_grad):
        try:
            c = target()
        except adc.AdError:
            raise
        except Exception as exc:    # a failure inside Numba: report it, go on with the others
            rows.append((label, "-", "failed"))
            failed.append((label, exc))
            continue
        total += c.seconds
        rows.append((label, f"{c.seconds:.3f}", "cached" if c.cached else "compiled"))
    n_cached = sum(r[2] == "cached" for r in rows)
    n_cold = sum(r[2] == "compiled" for r in rows)
    title = f"{args.file}: {len(rows)} function{'s' if len(rows) != 1 else ''}"
    if rows:
        _table(rows, title)
    else:
        print(f"{title} (nothing to compile)")
    print(f"{n_cold} compiled, {n_cached} cached" + (f", {len(failed)} failed" if failed else "")
          + f"; {total:.3f} s")
    for name, exc in failed:
        print(f"adc: error: compiling {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_OK


def cmd_graph(args) -> int:
    m = _load(args.file, jit=False)
    fn = _function(m, args.func, args.file)
    if args.format == "dot":
        from ..compiler.dot import to_dot
        sys.stdout.write(to_dot(fn.ir))
    else:
        print(fn.ir)
    return EXIT_OK


def _read_args(path: str, fn) -> tuple[tuple, dict]:
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise CliError(f"no such file: {path}", EXIT_USAGE) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}", EXIT_USAGE) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if isinstance(data, dict):
        return (), data
    if isinstance(data, list):
        return tuple(data), {}
    raise CliError(f"{path}: expected a JSON object mapping parameter names of {fn.name}() "
                   f"({', '.join(fn.param_names)}) to values, or a JSON list of the arguments in order; "
                   f"got {type(data).__name__}")


def cmd_run(args) -> int:
    adc = _adc()
    m = _load(args.file, jit=args.jit)
    fn = _function(m, args.func, args.file)
    pos, kw = _read_args(args.args, fn)
    try:
        if args.grad is None:
            print_result(fn(*pos, **kw))
            return EXIT_OK
        wrt = _names(args.grad, fn)
        opts = {} if wrt is None else {"wrt": wrt}
        value, grads = adc.value_and_grad(fn, **opts)(*pos, **kw)
    except adc.ArgumentError as exc:
        raise CliError(str(exc)) from None
    except AssertionError as exc:
        raise CliError(f"assertion failed: {exc}") from None
    except (ArithmeticError, IndexError, MemoryError, ValueError) as exc:
        raise CliError(f"{fn.name}() failed at run time: {type(exc).__name__}: {exc}") from None
    except (adc.AdError, TypeError) as exc:
        if args.grad is None:
            raise
        raise CliError(str(exc)) from None
    print_result(value)
    names = wrt if wrt is not None else tuple(
        n for n, t in fn.params if t.dtype == "float")
    if isinstance(grads, (tuple, list)) and len(grads) == len(names):
        for n, g in zip(names, grads):
            _print_labelled(f"grad {n}", g)
    elif len(names) == 1:
        _print_labelled(f"grad {names[0]}", grads)
    else:
        _print_labelled("grad", grads)
    return EXIT_OK


def cmd_adjoint(args) -> int:
    adc = _adc()
    m = _load(args.file, jit=False)
    fn = _function(m, args.func, args.file)
    wrt = _names(args.wrt, fn, "--wrt")
    opts = {"lang": args.emit}
    if wrt is not None:
        opts["wrt"] = wrt
    try:
        text = adc.adjoint_source(fn, **opts)
    except adc.AdError:
        raise
    except (TypeError, ValueError) as exc:
        raise CliError(str(exc)) from None
    print(text.rstrip("\n"))
    return EXIT_OK


# ---- parser and entry point ----------------------------------------------------------------

def _version() -> str:
    from .. import __version__
    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adc", description="adc: compile .ad programs, with reverse-mode derivatives you can read.",
        epilog="Exit status: 0 ok, 1 error in the program or its arguments, 2 usage error or "
               "unreadable file, 3 internal error (ADC_TRACEBACK=1 shows it).")
    parser.add_argument("--version", action="version", version=f"adc {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("check", help="parse and type-check a .ad file",
                       description="Parse and type-check FILE; errors are reported as file:line:col.")
    p.add_argument("file", metavar="FILE.ad")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("compile", help="compile every function (fills the cache), report timings",
                       description="Compile every function in FILE with Numba (its forward pass and, when "
                                   "it returns a scalar float, its gradient w.r.t. all float parameters), "
                                   "filling the on-disk cache ($ADC_CACHE_DIR), and report for each the "
                                   "time taken and whether it was served from the cache.")
    p.add_argument("file", metavar="FILE.ad")
    p.add_argument("--no-boundscheck", action="store_true",
                   help="leave index checks out of the generated code")
    p.add_argument("--no-grad", action="store_true", help="compile forward passes only")
    p.set_defaults(run=cmd_compile)

    p = sub.add_parser("graph", help="print a function's IR (explicit graph), as text or Graphviz DOT",
                       description="Print the optimised IR of FUNC: a readable listing (text) or a "
                                   "Graphviz DOT graph with def-use edges (dot; render with `dot -Tsvg`).")
    p.add_argument("file", metavar="FILE.ad")
    p.add_argument("func", metavar="FUNC")
    p.add_argument("--format", choices=("text", "dot"), default="text", help="output format (default: text)")
    p.set_defaults(run=cmd_graph)

    p = sub.add_parser("run", help="call a function on arguments from a JSON file",
                       description="Call FUNC with the arguments in ARGS.json: an object mapping parameter "
                                   "names to numbers or nested lists, or a list of the arguments in order.")
    p.add_argument("file", metavar="FILE.ad")
    p.add_argument("func", metavar="FUNC")
    p.add_argument("args", metavar="ARGS.json")
    p.add_argument("--grad", metavar="X,Y", nargs="?", const="",
                   help="also print the gradient w.r.t. these parameters (comma-separated; "
                        "without a value: every float parameter)")
    p.add_argument("--jit", action=argparse.BooleanOptionalAction, default=True,
                   help="compile with Numba (default); --no-jit runs the generated code as plain Python")
    p.set_defaults(run=cmd_run)

    p = sub.add_parser("adjoint", help="print the readable adjoint (reverse-mode code) of a function",
                       description="Print the adjoint of FUNC in .ad syntax, or the Python that Numba compiles.")
    p.add_argument("file", metavar="FILE.ad")
    p.add_argument("func", metavar="FUNC")
    p.add_argument("--wrt", metavar="X,Y", help="parameters to differentiate (default: every float parameter)")
    p.add_argument("--emit", choices=("ad", "python"), default="ad", help="output language (default: ad)")
    p.set_defaults(run=cmd_adjoint)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:          # --help, --version, usage errors (status 2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    try:
        return args.run(args)
    except CliError as exc:
        print(f"adc: error: {exc}", file=sys.stderr)
        return exc.status
    except BrokenPipeError:            # `adc graph ... | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        adc = _adc()
        if isinstance(exc, adc.AdError):
            print(str(exc), file=sys.stderr)
            return EXIT_ERROR
        if isinstance(exc, adc.ArgumentError):
            print(f"adc: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        if os.environ.get("ADC_TRACEBACK"):
            traceback.print_exc()
        else:
            print(f"adc: internal error: {type(exc).__name__}: {exc}\n"
                  f"(this is a bug in adc; run with ADC_TRACEBACK=1 for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
