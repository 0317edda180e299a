"""adc as a GradBench tool (https://github.com/gradbench/gradbench): ``python -m adc.gradbench``.

``evals.py`` maps each GradBench eval to its .ad program in ``evals/``; ``server.py`` speaks the
protocol.
"""
