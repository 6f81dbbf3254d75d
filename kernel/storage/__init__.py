"""Storage: the blob, table and queue ports and their two implementations.

:mod:`~kernel.storage.ports` declares what the app needs; :mod:`~kernel.storage.azure`
talks to Azure Storage or Azurite, one module per service; :mod:`~kernel.storage.embedded`
keeps everything under a local folder (files and SQLite) for ``make run`` and tests;
:func:`~kernel.storage.factory.create_stores` picks one from the settings. Both
pass the same contract tests (``tests/functional/test_storage_contract.py``) and
apply Azure's naming and size rules (:mod:`~kernel.storage.validation`), so code
that works on one works on the other. The Azure SDKs are imported on first use only.
"""
