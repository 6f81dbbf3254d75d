"""End-to-end tests through the local host."""
