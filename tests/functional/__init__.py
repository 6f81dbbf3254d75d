"""Tests of real parts together: storage contract, decorated functions, dev host."""
