"""Benchmarks of the running platform (`make bench`): figures, not pass/fail tests."""
