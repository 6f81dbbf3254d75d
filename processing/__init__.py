"""The document-processing core: bytes in, a structured result out.

Nothing in this package imports Azure. Importing it is cheap: the parsing
libraries load on first use. The entry point is
:func:`processing.extraction.pipeline.run_pipeline`.
"""
