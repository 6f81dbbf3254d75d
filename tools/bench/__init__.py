"""Benchmarks: ``make bench`` runs ``python -m tools.bench`` over ``../shared/corpus``."""
