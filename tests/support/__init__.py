"""Shared test wiring: services on the embedded store, webhook receivers."""
