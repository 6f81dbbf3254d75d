"""Tests of the development tools: service stand-ins."""
