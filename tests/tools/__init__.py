"""Tests of the development tools and service stand-ins."""
