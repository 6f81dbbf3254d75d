"""Authentication: bearer tokens validated in the app, app roles, the owner.

``settings`` reads ``AUTH_*`` once; ``tokens`` validates a JWT against the
issuer's keys and turns its claims into a :class:`kernel.identity.Caller`.
:func:`kernel.identity.caller_of` is the one entry point the triggers use.
"""
