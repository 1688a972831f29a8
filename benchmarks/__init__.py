"""Reproducible benchmarks, each running our code beside its anchor in one run."""
