"""Mutation fuzzing of type detection and the PDF, DOCX and text extractors.

``python -m tools.fuzz --seconds N`` runs it (see :mod:`fuzz.__main__`); the
property checked on every input is in :mod:`fuzz.harness`.
"""
