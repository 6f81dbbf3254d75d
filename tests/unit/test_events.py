"""Inbound events decode from both Event Grid schemas, as the Python worker delivers them."""

from __future__ import annotations

import json

import pytest
from azure.functions import meta
from azure.functions.eventgrid import EventGridEventInConverter

from kernel.errors import InvalidEventError
from kernel.events.catalog import BLOB_CREATED
from kernel.events.cloudevents import InboundEvent
from processing.events import BlobCreated, DocumentUploaded, completion_event_id


def decode(body: dict[str, object]) -> InboundEvent:
    datum = meta.Datum(type="json", value=json.dumps(body))
    return InboundEvent.from_trigger(EventGridEventInConverter.decode(datum, trigger_metadata={}))


def test_cloudevents_schema_with_traceparent_extension() -> None:
    event = decode(
        {
            "specversion": "1.0",
            "id": "e1",
            "source": "/docflow/documents",
            "type": "document.uploaded",
            "subject": "documents/abc",
            "time": "2026-03-14T12:00:00Z",
            "data": {"document_id": "abc"},
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        }
    )
    assert event.type == "document.uploaded"
    assert event.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert DocumentUploaded.from_event(event).document_id == "abc"


def test_event_grid_schema_blob_created() -> None:
    event = decode(
        {
            "id": "b1",
            "topic": (
                "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a"
            ),
            "subject": "/blobServices/default/containers/inbox/blobs/folder/my%20file.pdf",
            "eventType": BLOB_CREATED,
            "eventTime": "2026-03-14T12:00:00Z",
            "data": {"api": "PutBlockList", "eTag": "0x8DC", "contentLength": 1234},
            "dataVersion": "",
            "metadataVersion": "1",
        }
    )
    blob = BlobCreated.from_event(event)
    assert (blob.container, blob.name, blob.etag) == ("inbox", "folder/my file.pdf", "0x8DC")
    assert blob.is_complete_write
    assert blob.content_length == 1234


@pytest.mark.parametrize(
    "subject", ["/blobServices/default/containers/inbox", "nonsense", "/containers//blobs/x"]
)
def test_blob_created_with_a_malformed_subject_is_invalid(subject: str) -> None:
    event = InboundEvent(id="x", type=BLOB_CREATED, subject=subject, data={"eTag": "e"})
    with pytest.raises(InvalidEventError):
        BlobCreated.from_event(event)


def test_uploaded_without_document_id_is_invalid() -> None:
    with pytest.raises(InvalidEventError):
        DocumentUploaded.from_event(InboundEvent(id="x", type="t", subject="s", data={}))


def test_completion_event_ids_are_deterministic_per_outcome() -> None:
    assert completion_event_id("d1", "completed") == completion_event_id("d1", "completed")
    assert completion_event_id("d1", "completed") != completion_event_id("d1", "failed")
    assert completion_event_id("d1", "completed") != completion_event_id("d2", "completed")
