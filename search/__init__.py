"""Search: every processed document's text, chunked and indexed for full-text,
vector and hybrid queries, scoped to its owner.

The indexer consumes ``document.processing.completed`` and ``document.deleted``
(the event types of :mod:`kernel.events.catalog`); the query API serves
``/api/search`` and ``/api/search/vector``. Two engines sit behind one port
(:mod:`search.ports`): the embedded one (SQLite FTS5 and exact cosine k-NN under
``DATA_DIR``) and Azure AI Search (``SEARCH_ENDPOINT``).
"""
