"""Events: CloudEvents in and out of the app.

:mod:`~kernel.events.catalog` names every event type the capabilities
exchange (the integration contract between them); :mod:`~kernel.events.cloudevents`
holds the typed outbound event and the decoder of what an Event Grid trigger
receives; :mod:`~kernel.events.ports` is the publisher port, implemented by
:mod:`~kernel.events.eventgrid` (Azure Event Grid) and its embedded twin
:mod:`~kernel.events.embedded`, both under one contract suite.
"""
