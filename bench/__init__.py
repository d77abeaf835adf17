"""Benchmark harness: `make bench` seeds a scratch clinic and times key pages."""
