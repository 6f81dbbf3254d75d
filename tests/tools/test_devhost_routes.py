"""Route templates as the Functions host matches them, and Event Grid
subscription filters as the dev host applies infra/event-subscriptions.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.devhost.config import ConfigError, HostJson, HostOptions, load_local_settings
from tools.devhost.eventroutes import (
    DEFAULT_EVENT_SUBSCRIPTIONS_FILE,
    STORAGE,
    TOPIC,
    EventSubscriptionError,
    load_event_subscriptions,
)
from tools.devhost.routes import (
    MethodNotAllowed,
    RouteError,
    RouteMatch,
    RouteTable,
    parse_template,
)


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("documents", "/documents", {}),
        ("documents", "/Documents/", {}),
        ("documents/{id}", "/documents/abc", {"id": "abc"}),
        ("documents/{id}", "/documents/a%2Fb", {"id": "a/b"}),
        ("documents/{id}", "/documents", None),
        ("documents/{id?}", "/documents", {}),
        ("documents/{id=latest}", "/documents", {"id": "latest"}),
        ("documents/{id:int}", "/documents/12", {"id": "12"}),
        ("documents/{id:int}", "/documents/1x", None),
        ("documents/{id:int}", "/documents/99999999999", None),
        ("documents/{id:long}", "/documents/99999999999", {"id": "99999999999"}),
        ("documents/{id:alpha}", "/documents/abc", {"id": "abc"}),
        ("documents/{id:alpha}", "/documents/ab1", None),
        ("documents/{id:bool}", "/documents/True", {"id": "True"}),
        ("documents/{id:int:min(10)}", "/documents/9", None),
        ("documents/{id:int:range(1,5)}", "/documents/5", {"id": "5"}),
        ("documents/{id:maxlength(3)}", "/documents/abcd", None),
        ("documents/{id:regex(^d-\\d+$)}", "/documents/d-12", {"id": "d-12"}),
        ("documents/{id:regex(^d-\\d+$)}", "/documents/x-12", None),
        ("documents/{id:nosuchconstraint}", "/documents/x", {"id": "x"}),
        ("files/{name}.{ext}", "/files/report.pdf", {"name": "report", "ext": "pdf"}),
        ("files/{*path}", "/files/a/b/c", {"path": "a/b/c"}),
        ("files/{*path}", "/files", {}),
    ],
)
def test_templates_match_paths(template: str, path: str, expected: dict[str, str] | None) -> None:
    assert parse_template(template).match(path) == expected


@pytest.mark.parametrize(
    "template", ["a//b", "a/{id}/{id}", "{*rest}/more", "a/{bad-name}", "a/{open"]
)
def test_malformed_templates_are_refused(template: str) -> None:
    with pytest.raises(RouteError):
        parse_template(template)


def test_more_specific_routes_win_whatever_the_registration_order() -> None:
    table: RouteTable[str] = RouteTable()
    table.add("documents/{*rest}", None, "catch-all")
    table.add("documents/{id}", ["GET"], "param")
    table.add("documents/{id:guid}", ["GET"], "guid")
    table.add("documents/latest", ["GET"], "literal")
    guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"

    def target(path: str) -> str:
        found = table.resolve("GET", path)
        assert isinstance(found, RouteMatch)
        return found.target

    assert target("/documents/latest") == "literal"
    assert target(f"/documents/{guid}") == "guid"
    assert target("/documents/other") == "param"
    assert target("/documents/a/b") == "catch-all"


def test_a_path_without_a_route_for_its_method_is_method_not_allowed() -> None:
    table: RouteTable[str] = RouteTable()
    table.add("documents", ["POST"], "upload")
    table.add("documents", ["GET"], "list")
    assert table.resolve("DELETE", "/documents") == MethodNotAllowed(frozenset({"GET", "POST"}))
    assert table.resolve("GET", "/elsewhere") is None


def test_the_repository_subscription_map_loads_with_its_retry_policy() -> None:
    subscriptions = load_event_subscriptions(DEFAULT_EVENT_SUBSCRIPTIONS_FILE)
    assert subscriptions.max_delivery_attempts == 10
    assert subscriptions.event_ttl_minutes == 1440
    assert {s.function for s in subscriptions.subscriptions} == {
        "process_document",
        "notify_completion",
        "index_document",
        "track_batch_documents",
    }


def blob_created(container: str, api: str = "PutBlob") -> dict[str, Any]:
    return {
        "eventType": "Microsoft.Storage.BlobCreated",
        "subject": f"/blobServices/default/containers/{container}/blobs/a.pdf",
        "data": {"api": api},
    }


def test_storage_filters_match_subject_prefix_type_and_data_api_case_insensitively() -> None:
    subscriptions = load_event_subscriptions(DEFAULT_EVENT_SUBSCRIPTIONS_FILE)
    names = [s.name for s in subscriptions.route(blob_created("inbox"), STORAGE)]
    assert names == ["inbox-to-processor"]
    assert subscriptions.route(blob_created("inbox", api="putblocklist"), STORAGE)
    assert not subscriptions.route(blob_created("inbox", api="CreateFile"), STORAGE)
    assert not subscriptions.route(blob_created("uploads"), STORAGE)
    assert not subscriptions.route(blob_created("inbox"), TOPIC)
    no_api = {**blob_created("inbox"), "data": {}}
    assert not subscriptions.route(no_api, STORAGE)


def test_the_inbox_container_setting_rewrites_the_storage_subject_filter() -> None:
    subscriptions = load_event_subscriptions(
        DEFAULT_EVENT_SUBSCRIPTIONS_FILE, inbox_container="dropbox"
    )
    assert subscriptions.route(blob_created("dropbox"), STORAGE)
    assert not subscriptions.route(blob_created("inbox"), STORAGE)


def test_unknown_filter_operators_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "subs.json"
    path.write_text(
        json.dumps(
            {
                "subscriptions": [
                    {
                        "name": "s",
                        "source": "topic",
                        "function": "f",
                        "advancedFilters": [{"operatorType": "StringLike", "key": "x"}],
                    }
                ]
            }
        )
    )
    with pytest.raises(EventSubscriptionError, match="StringLike"):
        load_event_subscriptions(path)


def test_local_settings_fill_the_environment_without_overriding_it(tmp_path: Path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(
        json.dumps({"Values": {"A": "file", "B": "file"}, "Host": {"LocalHttpPort": 7072}})
    )
    environ = {"B": "env"}
    host_section = load_local_settings(path, environ)
    assert environ == {"A": "file", "B": "env"}
    assert host_section == {"LocalHttpPort": 7072}
    assert load_local_settings(tmp_path / "absent.json", environ) == {}


def test_host_options_and_host_json_read_their_settings(tmp_path: Path) -> None:
    options = HostOptions.from_env(
        {
            "DEVHOST_RETRY_BASE_SECONDS": "0.1",
            "DEVHOST_MAX_DELIVERY_ATTEMPTS": "3",
            "DEVHOST_DISABLE_TIMERS": "1",
            "INBOX_CONTAINER": "dropbox",
        }
    )
    assert (options.retry_base_seconds, options.max_delivery_attempts) == (0.1, 3)
    assert (options.timers_enabled, options.inbox_container) == (False, "dropbox")
    assert HostOptions.from_env({}).max_delivery_attempts is None
    with pytest.raises(ConfigError):
        HostOptions.from_env({"DEVHOST_WORKERS": "many"})
    (tmp_path / "host.json").write_text(
        json.dumps({"extensions": {"http": {"routePrefix": ""}, "queues": {"maxDequeueCount": 2}}})
    )
    assert HostJson.load(tmp_path / "host.json") == HostJson(route_prefix="", max_dequeue_count=2)
    assert HostJson.load(tmp_path / "absent.json") == HostJson()
