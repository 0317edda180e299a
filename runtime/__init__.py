"""adc's runtime: Numba compilation and its on-disk caches, argument checks, the API and the CLI."""
