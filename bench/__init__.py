"""Benchmarks: ``make bench`` runs ``python -m bench`` over ``../shared/corpus``."""
