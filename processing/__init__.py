"""Document processing: uploads and dropped blobs in, results and completion events out.

- :mod:`processing.extraction`: the pure extraction core (detection,
  extractors, analysis, the pipeline, the result model, limits, isolated
  parsing, the CLI). It imports nothing of the app and no Azure SDK.
- The workflow: :mod:`~processing.uploads` (accept and announce),
  :mod:`~processing.processor` (process each document exactly once),
  :mod:`~processing.reconciler` (nudge what stopped short),
  :mod:`~processing.records` and :mod:`~processing.repository` (status records),
  :mod:`~processing.events` (what it publishes and consumes).
- :mod:`~processing.triggers`: the blueprint with the triggers, thin;
  :mod:`~processing.settings`, :mod:`~processing.runtime` (its composition).
"""
