"""The test suite: unit, functional and end-to-end tests."""
