"""Plays Blob Storage's Event Grid integration for the inbox container: lists
it through the app's BlobStore and announces each new blob version (name,
ETag) once, as ``Microsoft.Storage.BlobCreated`` in the Event Grid schema."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from kernel.errors import NotFoundError
from kernel.storage.ports import BlobInfo, BlobStore
from tools.devhost.state import BlobMark, StateStore

log = logging.getLogger(__name__)

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
#: A fixed, obviously-local Azure subscription id for the storage topic.
LOCAL_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
LOCAL_RESOURCE_GROUP = "devhost"

Announce = Callable[[Mapping[str, Any], BlobMark], None]


def blob_created_event(
    info: BlobInfo, *, account: str, blob_endpoint: str, sequencer: int
) -> dict[str, Any]:
    """A BlobCreated event exactly as Azure Storage publishes it (Event Grid schema)."""
    now = datetime.now(UTC)
    return {
        "topic": (
            f"/subscriptions/{LOCAL_SUBSCRIPTION_ID}/resourceGroups/{LOCAL_RESOURCE_GROUP}"
            f"/providers/Microsoft.Storage/storageAccounts/{account}"
        ),
        "subject": f"/blobServices/default/containers/{info.container}/blobs/{info.name}",
        "eventType": BLOB_CREATED,
        # Azure writes 7 fractional digits (.NET ticks).
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z",
        "id": str(uuid.uuid4()),
        "data": {
            "api": "PutBlob",
            "clientRequestId": str(uuid.uuid4()),
            "requestId": str(uuid.uuid4()),
            "eTag": info.etag,
            "contentType": info.content_type or "application/octet-stream",
            "contentLength": info.size,
            "blobType": "BlockBlob",
            "url": f"{blob_endpoint.rstrip('/')}/{info.container}/{quote(info.name)}",
            "sequencer": f"{sequencer:032X}",
            "storageDiagnostics": {"batchId": str(uuid.uuid4())},
        },
        "dataVersion": "",
        "metadataVersion": "1",
    }


class BlobWatcher:
    """Polls ``container``; a blob is announced once two consecutive listings
    agree on its ETag and size, so a file still being written waits."""

    def __init__(
        self,
        *,
        blobs: BlobStore,
        state: StateStore,
        container: str,
        poll_seconds: float,
        account: str,
        blob_endpoint: str,
        announce: Announce,
    ) -> None:
        self._blobs = blobs
        self._state = state
        self._container = container
        self._poll_seconds = poll_seconds
        self._account = account
        self._blob_endpoint = blob_endpoint
        self._announce = announce
        self._previous: dict[str, tuple[str, int]] = {}
        self._sequencer = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="devhost-blobwatch", daemon=True)
        #: Completed listings, so tests can wait for polls instead of sleeping.
        self._passes = 0
        self._passed = threading.Condition()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("listing container %s failed", self._container)
            with self._passed:
                self._passes += 1
                self._passed.notify_all()
            self._stopping.wait(self._poll_seconds)

    @property
    def polls(self) -> int:
        """How many listings have completed since the watcher started."""
        with self._passed:
            return self._passes

    def wait_for_polls(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` more listings have completed; False on timeout."""
        with self._passed:
            target = self._passes + count
            return self._passed.wait_for(lambda: self._passes >= target, timeout)

    def poll_once(self) -> int:
        """One listing; returns how many blobs it announced."""
        try:
            listing = list(self._blobs.list(self._container))
        except NotFoundError:
            listing = []
        seen = self._state.seen_blobs(self._container)
        current = {info.name: (info.etag, info.size) for info in listing}
        announced = 0
        for info in listing:
            if self._stopping.is_set():
                break
            signature = current[info.name]
            if seen.get(info.name) == info.etag:
                continue
            if self._previous.get(info.name) != signature:
                continue  # first sight or still changing: look again next poll
            self._sequencer = max(self._sequencer + 1, int(datetime.now(UTC).timestamp() * 1e6))
            event = blob_created_event(
                info,
                account=self._account,
                blob_endpoint=self._blob_endpoint,
                sequencer=self._sequencer,
            )
            self._announce(event, BlobMark(self._container, info.name, info.etag))
            announced += 1
        gone = [name for name in seen if name not in current]
        if gone:
            self._state.forget_blobs(self._container, gone)
        self._previous = current
        return announced
