"""The app indexes as the Python worker sees it, and the OpenAPI spec matches it."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
HEAVY_MODULES = ("pypdf", "pypdfium2", "docx", "yake", "phonenumbers", "lxml")
SDK_PREFIXES = (
    "azure.storage",
    "azure.data",
    "azure.eventgrid",
    "azure.identity",
    "azure.monitor",
    "azure.search",
    "openai",
    "numpy",
)


@functools.cache
def _functions() -> dict[str, list[dict[str, Any]]]:
    """Indexed once, as the worker does (a second get_functions() call refuses)."""
    import function_app
    from tools.devhost.functions import app_functions

    return {
        fn.get_function_name(): [b.get_dict_repr() for b in fn.get_bindings()]
        for fn in app_functions(function_app.app)
    }


def test_every_expected_function_is_indexed_with_its_trigger() -> None:
    triggers = {name: bindings[0]["type"] for name, bindings in _functions().items()}
    expected = {
        "upload_document": "httpTrigger",
        "list_documents": "httpTrigger",
        "get_document": "httpTrigger",
        "get_document_result": "httpTrigger",
        "health": "httpTrigger",
        "health_ready": "httpTrigger",
        "get_openapi": "httpTrigger",
        "process_document": "eventGridTrigger",
        "reconcile_documents": "timerTrigger",
        "search_documents": "httpTrigger",
        "search_vectors": "httpTrigger",
        "get_search_status": "httpTrigger",
        "start_reindex": "httpTrigger",
        "get_reindex": "httpTrigger",
        "index_document": "eventGridTrigger",
        "reindex_documents": "queueTrigger",
        "sweep_deliveries": "timerTrigger",
        "scrape_page": "httpTrigger",
        "start_crawl": "httpTrigger",
        "get_crawl": "httpTrigger",
        "cancel_crawl": "httpTrigger",
        "create_batch": "httpTrigger",
        "get_batch": "httpTrigger",
        "fetch_frontier": "queueTrigger",
        "track_batch_documents": "eventGridTrigger",
        "get_console": "httpTrigger",
        "get_console_asset": "httpTrigger",
    }
    assert expected.items() <= triggers.items()


def test_only_health_readiness_the_spec_and_the_console_are_anonymous() -> None:
    anonymous = {
        name
        for name, bindings in _functions().items()
        if bindings[0]["type"] == "httpTrigger"
        and str(getattr(bindings[0]["authLevel"], "value", bindings[0]["authLevel"])) == "anonymous"
    }
    assert anonymous == {
        "health",
        "health_ready",
        "get_openapi",
        "get_console",
        "get_console_asset",
    }


def _spec_operations() -> set[tuple[str, str]]:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


def _app_operations() -> set[tuple[str, str]]:
    operations = set()
    for bindings in _functions().values():
        trigger = bindings[0]
        if trigger["type"] != "httpTrigger":
            continue
        route = "/" + re.sub(r"\{(\w+)(:[^}]*)?\??\}", r"{\1}", trigger["route"])
        for method in trigger["methods"]:
            operations.add((str(getattr(method, "value", method)).upper(), route))
    return operations


def test_every_http_function_is_in_the_openapi_spec_and_vice_versa() -> None:
    assert _app_operations() == _spec_operations()


def test_importing_the_app_loads_no_parser_and_no_storage_sdk() -> None:
    code = "import sys, function_app; print('\\n'.join(sorted(m for m in sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY_MODULES or m.startswith(SDK_PREFIXES)]
    assert heavy == []


#: Capability modules that are adapters of an Azure SDK (pyproject's import contract
#: lists the same): they may import it, but only inside functions or TYPE_CHECKING.
SDK_ADAPTERS = {
    "processing/enrichment/azure_language.py",
    "processing/enrichment/openai_summary.py",
    "processing/enrichment/language_summary.py",
    "search/azure_search.py",
    "search/openai_embeddings.py",
}


def test_only_trigger_modules_import_azure() -> None:
    """Every module of the capabilities but their triggers and the enrichment adapters
    stays free of Azure imports (ports and adapters); the adapters, like the kernel's
    Azure adapters, import the SDKs inside functions only (checked above, by what
    importing the app loads, and here: never at module level)."""
    modules = [
        path
        for package in ("processing", "notifications", "search", "webingest")
        for path in (ROOT / package).rglob("*.py")
        if path.name != "triggers.py"
    ]
    assert len(modules) > 40  # the glob found the packages
    offenders = [
        str(path.relative_to(ROOT))
        for path in modules
        if str(path.relative_to(ROOT)) not in SDK_ADAPTERS
        and re.search(r"^\s*(from|import)\s+azure\b", path.read_text(), re.MULTILINE)
    ]
    assert offenders == []
    eager = [
        adapter
        for adapter in sorted(SDK_ADAPTERS)
        if re.search(r"^(from|import)\s+(azure|openai)\b", (ROOT / adapter).read_text(), re.M)
    ]
    assert eager == []


def test_the_delivery_queue_binding_names_the_webhook_queue_setting() -> None:
    from notifications.settings import WEBHOOK_QUEUE

    [trigger] = _functions()["deliver_webhook"]
    assert trigger["queueName"] == f"%{WEBHOOK_QUEUE}%"


def test_the_reindex_queue_binding_names_the_reindex_queue_setting() -> None:
    from search.settings import SEARCH_REINDEX_QUEUE

    [trigger] = _functions()["reindex_documents"]
    assert trigger["queueName"] == f"%{SEARCH_REINDEX_QUEUE}%"


def test_the_frontier_queue_binding_names_the_webingest_queue_setting() -> None:
    from webingest.settings import WEBINGEST_QUEUE

    [trigger] = _functions()["fetch_frontier"]
    assert trigger["queueName"] == f"%{WEBINGEST_QUEUE}%"
