"""The Azure adapters with STORAGE_PROVISIONED=true, against Azurite: they use
containers, tables and queues that already exist without ever trying to
create one (in Azure the app identity's roles, scoped to each resource, are
not meant to allow it), and report a missing one as a deployment fault."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from kernel.errors import DependencyError
from kernel.settings import StorageSettings
from kernel.storage.factory import Stores, create_stores
from tests.azurite import Azurite

pytestmark = pytest.mark.azurite


def _stores(azurite: Azurite, *, provisioned: bool) -> Stores:
    return create_stores(
        StorageSettings(connection_string=azurite.connection_string, provisioned=provisioned)
    )


@pytest.fixture
def provisioned(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stores]:
    stores = _stores(azurite, provisioned=True)

    def never(name: str) -> None:
        raise AssertionError(f"a provisioned store tried to create {name!r}")

    for store, method in (
        (stores.blobs, "_create_container"),
        (stores.tables, "_create_table"),
        (stores.queues, "_create_queue"),
    ):
        monkeypatch.setattr(store, method, never)
    yield stores
    stores.close()


def test_provisioned_stores_use_existing_resources_without_creating_them(
    azurite: Azurite, provisioned: Stores
) -> None:
    suffix = uuid.uuid4().hex[:10]
    container, table, queue = f"c{suffix}", f"t{suffix}", f"q{suffix}"
    infra = _stores(azurite, provisioned=False)  # plays storage.bicep
    infra.blobs.put(container, "seed", b"")
    infra.tables.upsert(table, {"PartitionKey": "p", "RowKey": "seed"})
    infra.queues.send(queue, "seed")
    infra.close()

    provisioned.blobs.put(container, "a.txt", b"hello")
    assert provisioned.blobs.get(container, "a.txt") == b"hello"
    provisioned.tables.insert(table, {"PartitionKey": "p", "RowKey": "r", "n": 1})
    assert provisioned.tables.get(table, "p", "r")["n"] == 1
    provisioned.queues.send(queue, "job")
    received = provisioned.queues.receive(queue, max_messages=2, visibility_timeout=5)
    assert sorted(m.content for m in received) == ["job", "seed"]


def test_a_missing_resource_is_a_deployment_fault_not_a_missing_item(
    provisioned: Stores,
) -> None:
    suffix = uuid.uuid4().hex[:10]
    with pytest.raises(DependencyError, match="does not exist"):
        provisioned.blobs.put(f"c{suffix}", "a.txt", b"hello")
    with pytest.raises(DependencyError, match="does not exist"):
        provisioned.tables.insert(f"t{suffix}", {"PartitionKey": "p", "RowKey": "r"})
    with pytest.raises(DependencyError, match="does not exist"):
        provisioned.queues.send(f"q{suffix}", "job")
