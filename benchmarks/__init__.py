"""Benchmarks for adc: hand-written reference implementations and workload inputs."""
