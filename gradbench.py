"""``python -m adc.gradbench``: adc as a GradBench tool (see adc/runtime/gradbench/server.py)."""
from .runtime.gradbench.server import main

if __name__ == "__main__":
    raise SystemExit(main())
