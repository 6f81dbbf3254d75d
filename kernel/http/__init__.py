"""HTTP helpers for the triggers, free of the HTTP framework.

:mod:`~kernel.http.problems` turns errors into RFC 9457 problem details
through a registry of exception types and statuses;
:mod:`~kernel.http.paging` reads ``?limit=&after=`` and builds the next link;
:mod:`~kernel.http.bodies` decodes JSON request bodies. :mod:`kernel.triggers`
translates between these plain values and ``azure.functions``.
"""
