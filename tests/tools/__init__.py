"""Tests of the development tools: the local host, the fuzzer and the service stand-ins."""
