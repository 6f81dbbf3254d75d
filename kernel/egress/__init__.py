"""Egress: every request the app makes to a URL someone else chose.

:mod:`~kernel.egress.addresses` is the SSRF policy (parse, resolve once,
vet every address); :mod:`~kernel.egress.client` sends to the vetted address
only, with one deadline and a bounded answer; :mod:`~kernel.egress.redaction`
keeps URL secrets out of logs and stored records.
"""
