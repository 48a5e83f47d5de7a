"""Sample upstream data and services for the embedded default, tests and benchmarks."""
