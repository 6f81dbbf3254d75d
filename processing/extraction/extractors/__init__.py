"""Format-specific extractors: bytes in, :class:`processing.extraction.result.Extraction` out.

Each extractor module imports its parsing library on first use, so importing
this package stays cheap.
"""
