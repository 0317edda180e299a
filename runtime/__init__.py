"""adc's runtime: Numba compilation and its on-disk cache, argument checks, the API and the CLI."""
