"""Benchmarks of the local cloud and the service; each writes a JSON report to bench/results/."""
