"""The shared kernel: what every capability of the app uses, and nothing that is
one capability's own.

- :mod:`kernel.errors`: the error base and the shared branches of its tree.
- :mod:`kernel.settings`: reading settings once into frozen objects, and the
  platform's own settings (storage, events, public URL, log level).
- :mod:`kernel.platform`: the composition root of what capabilities share
  (one set of stores, one credential, one event publisher).
- :mod:`kernel.storage`: the blob, table and queue ports with their Azure and
  embedded adapters; :mod:`kernel.events`: CloudEvents in and out, the Event
  Grid publisher and its embedded twin; :mod:`kernel.leases`: claiming work
  under at-least-once delivery.
- :mod:`kernel.egress`: the outbound HTTP client with the SSRF address policy.
- :mod:`kernel.http`: problem responses and paging for the HTTP triggers;
  :mod:`kernel.triggers`: what every trigger does around its work.
- :mod:`kernel.clock`, :mod:`kernel.logcontext`, :mod:`kernel.tracecontext`,
  :mod:`kernel.telemetry`.

The kernel imports no capability (an import contract in ``pyproject.toml``);
only :mod:`kernel.triggers` imports ``azure.functions``, and the Azure SDKs load
on first use, so importing the kernel is cheap.
"""
