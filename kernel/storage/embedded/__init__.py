"""The embedded store: blobs as plain files, tables and queues in SQLite.

For local development and tests without Azure. Everything lives under one
folder (``DATA_DIR``, ``.data`` by default)::

    blobs/{container}/{name}   each blob as an ordinary file ("/" makes subfolders)
    store.sqlite3              table rows, queue messages, and blob properties
    tmp/                       blob writes in progress

Blobs are ordinary files so that a file copied into ``blobs/inbox/`` by hand
is a blob like any other; the properties Azure keeps beside a blob (ETag,
content type, metadata) go to a side index in SQLite, which is trusted only
while the file's identity (inode, size, mtime) is the one it recorded.

The SQLite file is shared by every thread and process that opens the folder
(the local host, the CLI, tests): WAL mode, a busy timeout, and writes in
``BEGIN IMMEDIATE`` transactions, which also serialise blob writes so a file
and its index row always change together.
"""

from __future__ import annotations

from kernel.storage.embedded.blobs import EmbeddedBlobStore
from kernel.storage.embedded.queues import EmbeddedQueueStore
from kernel.storage.embedded.tables import EmbeddedTableStore

__all__ = ["EmbeddedBlobStore", "EmbeddedQueueStore", "EmbeddedTableStore"]
