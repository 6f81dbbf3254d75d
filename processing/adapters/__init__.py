"""Implementations of the storage ports in :mod:`processing.ports`.

:mod:`~processing.adapters.embedded` keeps everything under a local folder
(files and SQLite) for development and tests without Azure;
:mod:`~processing.adapters.azure_storage` talks to Azure Storage or Azurite;
:func:`~processing.adapters.factory.create_stores` picks one from the
settings. Both pass the same contract tests, and both apply Azure's naming
and size rules (:mod:`~processing.adapters.validation`), so code that works
on one works on the other. The Azure SDKs are imported on first use only.
"""
