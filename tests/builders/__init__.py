"""Generators of test documents (PDF, DOCX, hostile files)."""
