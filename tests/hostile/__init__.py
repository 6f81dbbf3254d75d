"""Hostile documents run through the isolated pipeline."""
