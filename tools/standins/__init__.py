"""Loopback stand-ins for cloud services that cannot run on a development machine.

Each module serves the documented REST contract of the calls the app makes
(requests, responses, errors, throttling) on 127.0.0.1, so the app's adapters
are tested with the real SDK clients. They are test and trial aids, not fakes
of every feature: each module's docstring says what it implements. ``server``
holds the plumbing they share (threaded server, TLS, recorded requests, faults).
"""
