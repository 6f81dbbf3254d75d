"""The event types the app publishes and consumes: the contract between capabilities.

A capability that reacts to another's work subscribes to these types (in
``infra/event-subscriptions.json``) instead of importing the other's code.
"""

from __future__ import annotations

#: ``source`` of every CloudEvent the app publishes.
EVENT_SOURCE = "/docflow/documents"

DOCUMENT_UPLOADED = "document.uploaded"
DOCUMENT_COMPLETED = "document.processing.completed"
DOCUMENT_FAILED = "document.processing.failed"
#: A document and its result were deleted (published by the document workflow's
#: delete, issue 11); search removes the document's chunks.
DOCUMENT_DELETED = "document.deleted"
#: Published by the storage account's system topic for blobs dropped in the inbox.
BLOB_CREATED = "Microsoft.Storage.BlobCreated"

#: A document's outcome: exactly one of these per document.
COMPLETION_TYPES = frozenset({DOCUMENT_COMPLETED, DOCUMENT_FAILED})

#: Web ingestion: one per crawl, once it has stopped (completed or cancelled),
#: and one per batch, once every item is terminal.
CRAWL_COMPLETED = "crawl.completed"
BATCH_COMPLETED = "batch.completed"

#: What webhooks and Logic Apps are notified of.
NOTICE_TYPES = COMPLETION_TYPES | {CRAWL_COMPLETED, BATCH_COMPLETED}
