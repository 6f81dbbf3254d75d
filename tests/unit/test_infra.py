"""The Azure templates under infra/, checked offline.

Every ``.bicep`` file must parse with pycep-parser (the parser checkov uses) and
pass checkov with zero failed checks (skips live in ``.checkov.yaml``, each with
its reason). The app settings the templates create and the settings the code
reads must be the same set, give or take the listed exceptions. The Event Grid
subscription map (``infra/event-subscriptions.json``) must name functions the
app registers.

checkov runs from ``.venv-infra`` (its pins conflict with the project's
packages; see the Makefile) or from ``$CHECKOV``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
SUBSCRIPTIONS_JSON = INFRA / "event-subscriptions.json"
SAMPLE_SETTINGS = ROOT / "local.settings.sample.json"
CHECKOV_CONFIG = ROOT / ".checkov.yaml"

#: Read by the code or the local tools, never set in Azure, and why.
LOCAL_ONLY = {
    "AzureWebJobsStorage": "Azure uses the identity-based AzureWebJobsStorage__* settings; "
    "a connection string would need an account key, and keys are disabled",
    "DATA_STORAGE": "Azure uses the identity-based DATA_STORAGE__* settings, for the same reason",
    "DATA_DIR": "the embedded store used when no storage is configured",
    "EVENTGRID_TOPIC_KEY": "the Azure topic refuses keys (disableLocalAuth)",
    "FUNCTIONS_WORKER_RUNTIME": "Flex Consumption takes the runtime from functionAppConfig "
    "and rejects this setting",
    "WEBHOOK_ALLOWED_CIDRS": "the webhook SSRF exception must stay empty in Azure",
    "WEBINGEST_ALLOWED_CIDRS": "the fetch SSRF exception must stay empty in Azure",
}

#: Set by the platform itself; the templates must not set them.
PLATFORM_PROVIDED = {
    "WEBSITE_HOSTNAME": "App Service sets the app's host name",
    "WEBSITE_INSTANCE_ID": "App Service sets it on every instance (the app knows it runs in Azure)",
}

#: Set by the templates for the Functions host, the worker or an SDK rather
#: than for the app's code.
READ_BY_HOST_OR_SDK = {
    "AzureWebJobsStorage__credential": "Functions host: identity-based host storage",
    "DATA_STORAGE__credential": "Functions host: the webhook queue trigger's identity-based "
    "connection (the app builds its credential from DATA_STORAGE__clientId)",
    "AZURE_CLIENT_ID": "azure-identity: DefaultAzureCredential picks the user-assigned identity",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "the worker's exporter signs in with Entra ID",
}

#: Rejected by Flex Consumption as app settings.
FLEX_REJECTS = {"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION"}

#: Functions named in event-subscriptions.json whose code may not have landed
#: yet. A listed function is still checked whenever the app registers it; only
#: its absence is tolerated (reported as a skip, never as a pass).
PENDING_FUNCTIONS = {
    "notify_completion": "the completion notifier arrives with notifications/",
}

_RESOURCE_DECLARATION = re.compile(r"^\s*resource\s+(\w+)\s+'", re.MULTILINE)
_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@cache
def parse_bicep(path: Path) -> dict[str, Any]:
    """pycep's JSON for a file (cached: the tests only read it)."""
    from pycep import BicepParser

    return dict(BicepParser().parse(file_path=path))


def resource_config(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    """A resource's body; pycep nests it one level deeper under a condition."""
    config: Mapping[str, Any] = resource["config"]
    return config["config"] if "condition" in config else config


def bicep_id(path: Path) -> str:
    return str(path.relative_to(INFRA))


# --- pycep-parser ------------------------------------------------------------


def test_infra_has_the_entry_point_and_the_modules() -> None:
    """main.bicep, subscriptions.bicep and one module per concern exist."""
    names = {bicep_id(p) for p in BICEP_FILES}
    expected = {
        "main.bicep",
        "subscriptions.bicep",
        "modules/hosting.bicep",
        "modules/storage.bicep",
        "modules/host-storage.bicep",
        "modules/host-storage-roles.bicep",
        "modules/events.bicep",
        "modules/monitoring.bicep",
        "modules/alerts.bicep",
        "modules/workflow.bicep",
        "modules/roles.bicep",
        "modules/storage-roles.bicep",
        "modules/identity.bicep",
    }
    assert expected <= names


@pytest.mark.parametrize("path", BICEP_FILES, ids=bicep_id)
def test_bicep_file_parses_with_pycep(path: Path) -> None:
    """pycep-parser parses the file (checkov silently skips files it cannot parse)."""
    parsed = parse_bicep(path)
    assert parsed.get("resources") or parsed.get("modules"), "no resource or module found"


@pytest.mark.parametrize("path", BICEP_FILES, ids=bicep_id)
def test_pycep_sees_every_declared_resource(path: Path) -> None:
    """Every `resource` declared in the file reaches checkov: pycep-parser 0.5.1
    keeps only the last of several nested child resources, so the templates use
    `parent:` instead; this guards against a nested one slipping back in."""
    declared = set(_RESOURCE_DECLARATION.findall(path.read_text(encoding="utf-8")))
    seen = set(parse_bicep(path).get("resources", {}))
    assert declared == seen


# --- checkov -----------------------------------------------------------------


def checkov_command() -> list[str]:
    candidates = [os.environ.get("CHECKOV", ""), str(ROOT / ".venv-infra" / "bin" / "checkov")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return [candidate]
    found = shutil.which("checkov")
    if found:
        return [found]
    pytest.fail(
        "checkov is not installed: create .venv-infra (see the Makefile) or set CHECKOV",
        pytrace=False,
    )


def without_network() -> list[str]:
    """`unshare -rn` runs checkov with no network at all where user namespaces
    are allowed, which proves the run is offline; elsewhere the switches alone
    keep it offline."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "-rn", "true"], capture_output=True, check=False)
    return [unshare, "-rn"] if probe.returncode == 0 else []


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BC_", "PRISMA_", "CKV_")) and key != "LOG_LEVEL"
    }
    # No platform API key: checkov scans locally. These stop the guideline
    # mapping download and the PyPI version check.
    env.update({"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"})
    command = [
        *without_network(),
        *checkov_command(),
        "--config-file",
        str(CHECKOV_CONFIG),
        "--output",
        "json",
    ]
    completed = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    report = json.loads(completed.stdout)
    reports = report if isinstance(report, list) else [report]
    (bicep,) = [r for r in reports if r.get("check_type") == "bicep"]
    result: dict[str, Any] = bicep
    return result


def test_checkov_finds_no_failed_check(checkov_report: Mapping[str, Any]) -> None:
    """checkov passes the templates with zero failed checks."""
    failed = checkov_report["results"].get("failed_checks", [])
    summary = checkov_report["summary"]
    assert [(c["check_id"], c["resource"], c["file_path"]) for c in failed] == []
    assert summary["failed"] == 0
    assert summary["passed"] >= 20


def test_checkov_parses_every_bicep_file(checkov_report: Mapping[str, Any]) -> None:
    """No file is left out of the scan for a parse error."""
    assert checkov_report["summary"]["parsing_errors"] == 0
    assert checkov_report["summary"]["resource_count"] >= len(BICEP_FILES)


def test_every_skipped_check_states_its_reason() -> None:
    """Each check skipped in .checkov.yaml has a comment line right above it."""
    lines = CHECKOV_CONFIG.read_text(encoding="utf-8").splitlines()
    skips = [i for i, line in enumerate(lines) if re.match(r"\s*-\s*CKV\w*_\d+", line)]
    assert skips, "no skipped check found: update this test if none is needed"
    for index in skips:
        above = lines[index - 1].strip()
        assert above.startswith("#") and len(above) > 20, f"no reason above {lines[index]!r}"


# --- the settings contract ---------------------------------------------------


def code_settings() -> tuple[set[str], set[str]]:
    """The names the code reads (recorded while every settings object is built)
    and the ones it can do without (each settings module's OPTIONAL)."""
    from kernel import settings as platform_settings
    from kernel import telemetry
    from kernel.auth.settings import AuthSettings
    from kernel.env import Env
    from kernel.settings import PlatformSettings
    from notifications import settings as notification_settings
    from notifications.settings import NotificationSettings
    from processing import settings as processing_settings
    from processing.settings import ProcessingSettings
    from search import settings as search_settings
    from search.settings import SearchSettings
    from webingest import settings as webingest_settings
    from webingest.settings import WebIngestSettings

    env = Env({})
    PlatformSettings.from_env(env)
    ProcessingSettings.from_env(env)
    NotificationSettings.from_env(env)
    SearchSettings.from_env(env)
    WebIngestSettings.from_env(env)
    AuthSettings.from_env(env)
    telemetry.configure((), env)
    optional = (
        platform_settings.OPTIONAL
        | processing_settings.OPTIONAL
        | notification_settings.OPTIONAL
        | search_settings.OPTIONAL
        | webingest_settings.OPTIONAL
        | telemetry.OPTIONAL
    )
    return env.read, set(optional)


def function_app_site() -> dict[str, Any]:
    """The function app's body as hosting.bicep declares it."""
    hosting = parse_bicep(INFRA / "modules" / "hosting.bicep")
    (site,) = [
        r["config"]
        for r in hosting["resources"].values()
        if r["type"] == "Microsoft.Web/sites" and not r["existing"]
    ]
    result: dict[str, Any] = site
    return result


def app_settings() -> dict[str, Any]:
    """The function app's settings as hosting.bicep declares them."""
    site = function_app_site()
    entries = site["properties"]["siteConfig"]["appSettings"]
    settings = {str(entry["name"]): entry["value"] for entry in entries}
    assert len(settings) == len(entries), "a setting is declared twice"
    return settings


def test_infra_sets_every_setting_the_code_needs() -> None:
    """Every setting the code reads without a default is created in Azure."""
    names, optional = code_settings()
    required = names - optional - set(LOCAL_ONLY) - set(PLATFORM_PROVIDED)
    missing = required - set(app_settings())
    assert missing == set(), f"read by the code, not set by infra: {sorted(missing)}"


def test_infra_sets_no_setting_nobody_reads() -> None:
    """Every setting infra creates is read by the code, the host or an SDK."""
    names, _ = code_settings()
    unread = set(app_settings()) - names - set(READ_BY_HOST_OR_SDK)
    assert unread == set(), f"set by infra, read by nothing: {sorted(unread)}"


def test_infra_never_sets_local_platform_or_rejected_settings() -> None:
    """Keys, connection strings, the SSRF exception and the runtime settings
    Flex Consumption rejects stay out of Azure."""
    forbidden = set(LOCAL_ONLY) | set(PLATFORM_PROVIDED) | FLEX_REJECTS
    assert set(app_settings()) & forbidden == set()


def test_exception_lists_name_real_settings() -> None:
    """The exceptions above name settings the code actually has (no stale entries)."""
    names, _ = code_settings()
    # FUNCTIONS_WORKER_RUNTIME is read by the local Functions host (func start), not the app.
    assert set(LOCAL_ONLY) - names == {"FUNCTIONS_WORKER_RUNTIME"}
    assert set(PLATFORM_PROVIDED) - names == set()


def test_telemetry_is_left_to_the_worker_with_entra_id() -> None:
    """The worker exports telemetry (kernel/telemetry.py then stays out of
    the way) and authenticates as the app's identity."""
    settings = app_settings()
    assert settings["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "true"
    assert "APPLICATIONINSIGHTS_CONNECTION_STRING" in settings
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["DATA_STORAGE__credential"] == "managedidentity"


def _reference(value: Any) -> str:
    """`a.b.c` for a pycep property access (`appIdentity.properties.clientId`)."""
    if isinstance(value, str):
        return value
    operator = value["operator"]
    assert operator["type"] == "property_accessor", value
    operands = operator["operands"]
    return f"{_reference(operands['operand_1'])}.{_reference(operands['operand_2'])}"


def _interpolated(value: Any) -> list[str]:
    """The parameter names inside a pycep string interpolation."""
    text = json.dumps(value, default=str)
    return re.findall(r"\b(hostStorage\w+|dataStorage\w+)\b", text)


def test_each_storage_connection_uses_its_own_identity_and_account() -> None:
    """The host's storage is the host account as the host identity; the app's
    data (and the webhook queue trigger) the data account as the app
    identity; the app's SDKs and telemetry sign in as the app identity."""
    settings = app_settings()
    assert _reference(settings["AzureWebJobsStorage__clientId"]) == (
        "hostIdentity.properties.clientId"
    )
    assert _reference(settings["DATA_STORAGE__clientId"]) == "appIdentity.properties.clientId"
    assert _reference(settings["AZURE_CLIENT_ID"]) == "appIdentity.properties.clientId"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        "ClientId=${appIdentity.properties.clientId};Authorization=AAD"
    )
    for service in ("blob", "queue", "table"):
        assert settings[f"AzureWebJobsStorage__{service}ServiceUri"] == (
            f"hostStorage{service.title()}Endpoint"
        )
        assert settings[f"DATA_STORAGE__{service}ServiceUri"] == (
            f"dataStorage{service.title()}Endpoint"
        )
    assert settings["STORAGE_PROVISIONED"] == "true"


def test_the_deployment_package_is_in_the_host_account_read_as_the_host_identity() -> None:
    """Flex Consumption reads the package from the host account, as the host
    identity: the identity that reads documents cannot replace the code."""
    site = function_app_site()
    storage = site["properties"]["functionAppConfig"]["deployment"]["storage"]
    assert _interpolated(storage["value"]) == ["hostStorageBlobEndpoint"]
    assert _reference(storage["authentication"]["userAssignedIdentityResourceId"]) == (
        "hostIdentity.id"
    )


def storage_names() -> dict[str, str]:
    main = parse_bicep(INFRA / "main.bicep")
    names: dict[str, str] = main["variables"]["storageNames"]["value"]
    return names


def test_storage_names_match_the_local_sample() -> None:
    """A container, table or queue setting gets the same name in Azure as in
    local.settings.sample.json, so local runs and Azure agree."""
    sample = json.loads(SAMPLE_SETTINGS.read_text(encoding="utf-8"))["Values"]
    names = storage_names()
    checked = 0
    for setting, value in app_settings().items():
        if not setting.endswith(("_CONTAINER", "_TABLE", "_QUEUE")):
            continue
        reference = value["operator"]["operands"]
        assert reference["operand_1"] == "storageNames", setting
        assert names[reference["operand_2"]] == sample[setting], setting
        checked += 1
    assert checked >= 7


def test_storage_module_creates_every_named_resource() -> None:
    """Every shared container, table and queue name is created by storage.bicep
    (the app never creates one: STORAGE_PROVISIONED=true), and the poison
    queue of the webhook queue is among them."""
    text = (INFRA / "modules" / "storage.bicep").read_text(encoding="utf-8")
    missing = [key for key in storage_names() if f"names.{key}" not in text]
    assert missing == []
    names = storage_names()
    assert names["webhookPoisonQueue"] == names["webhookQueue"] + "-poison"


def test_the_host_account_holds_nothing_of_the_app() -> None:
    """host-storage.bicep creates the package container and no container,
    queue or table of the app's."""
    host = parse_bicep(INFRA / "modules" / "host-storage.bicep")["resources"]
    types = sorted(r["type"] for r in host.values())
    assert types == [
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Storage/storageAccounts/blobServices",
        "Microsoft.Storage/storageAccounts/blobServices/containers",
        "Microsoft.Storage/storageAccounts/managementPolicies",
    ]
    text = (INFRA / "modules" / "host-storage.bicep").read_text(encoding="utf-8")
    assert not [key for key in storage_names() if key in text]


def _account(path: Path) -> Mapping[str, Any]:
    resources = parse_bicep(path)["resources"]
    config: Mapping[str, Any] = resources["account"]["config"]
    return config


def test_both_accounts_have_the_same_security_properties() -> None:
    """The host account is locked down exactly as the data account: one
    `properties` block, word for word (keys off, no public blob access, TLS
    1.2, HTTPS only, OAuth by default, infrastructure encryption...)."""
    data = _account(INFRA / "modules" / "storage.bicep")
    host = _account(INFRA / "modules" / "host-storage.bicep")
    assert host["properties"] == data["properties"]
    assert host["kind"] == data["kind"] == "StorageV2"


def test_production_storage_defaults_to_gzrs() -> None:
    """Production (the default environment type) gets geo-zone-redundant storage."""
    params = parse_bicep(INFRA / "main.bicep")["parameters"]
    assert params["environmentType"]["default"] == "production"
    default = params["storageSku"]["default"]["operator"]
    assert default["type"] == "conditional"
    condition = default["operands"]["condition"]["operator"]
    assert condition["type"] == "equals"
    assert condition["operands"] == {"operand_1": "environmentType", "operand_2": "production"}
    assert default["operands"]["true_value"] == "Standard_GZRS"


@pytest.mark.parametrize("module", ["storage.bicep", "host-storage.bicep"])
def test_storage_refuses_keys_and_anonymous_access(module: str) -> None:
    """Identity-only storage with TLS 1.2 and no public blob access."""
    properties = _account(INFRA / "modules" / module)["properties"]
    assert properties["allowSharedKeyAccess"] is False
    assert properties["allowBlobPublicAccess"] is False
    assert properties["minimumTlsVersion"] == "TLS1_2"
    assert properties["supportsHttpsTrafficOnly"] is True


def test_production_host_storage_is_zone_redundant() -> None:
    """The host account survives a zone (production or zone-redundant
    instances), without paying for a geo copy nobody would read."""
    params = parse_bicep(INFRA / "main.bicep")["parameters"]
    default = params["hostStorageSku"]["default"]["operator"]
    assert default["type"] == "conditional"
    assert default["operands"]["true_value"] == "Standard_ZRS"
    assert default["operands"]["false_value"] == "Standard_LRS"
    condition = json.dumps(default["operands"]["condition"], default=str)
    assert "production" in condition and "zoneRedundant" in condition


def test_the_log_analytics_daily_cap_is_off_by_default() -> None:
    """-1: nobody can stop ingestion (and the log alerts) by flooding the logs."""
    params = parse_bicep(INFRA / "main.bicep")["parameters"]
    default = params["logDailyCapGb"]["default"]
    assert default == {"operator": {"type": "minus", "operands": {"integer_value": 1}}}


def test_dead_letter_writers_are_scoped_to_the_dead_letter_container() -> None:
    """Event Grid identities get blob write access to the dead-letter container only."""
    resources = parse_bicep(INFRA / "modules" / "storage-roles.bicep")["resources"]
    for name in ("topicDeadLetterWriter", "systemTopicDeadLetterWriter"):
        assert resource_config(resources[name])["scope"] == "deadLetterContainer", name


ROLE_NAMES = {
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a": "Storage Queue Data Message Sender",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "d5a91429-5739-47e2-a06b-3470a27159e7": "EventGrid Data Sender",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
}


def role_assignments(module: str) -> dict[str, tuple[str, str, str]]:
    """Each role assignment of a module: (principal parameter, role name, scope)."""
    parsed = parse_bicep(INFRA / "modules" / module)
    role_ids = parsed["variables"]["roleIds"]["value"]
    found = {}
    for name, resource in parsed["resources"].items():
        if resource["type"] != "Microsoft.Authorization/roleAssignments":
            continue
        config = resource_config(resource)
        properties = config["properties"]
        role_key = json.dumps(properties["roleDefinitionId"], default=str)
        (role,) = [key for key in role_ids if f'"roleIds", "operand_2": "{key}"' in role_key]
        found[name] = (properties["principalId"], ROLE_NAMES[role_ids[role]], config["scope"])
    return found


def test_the_app_identity_holds_scoped_data_roles_only() -> None:
    """The identity that reads documents holds roles on the containers,
    tables and queues it uses, each on its own scope, and none on the account."""
    app = {
        scope: role
        for principal, role, scope in role_assignments("storage-roles.bicep").values()
        if principal == "appPrincipalId"
    }
    assert app == {
        "uploadsContainer": "Storage Blob Data Contributor",
        "inboxContainer": "Storage Blob Data Reader",
        "resultsContainer": "Storage Blob Data Contributor",
        "documentsTable": "Storage Table Data Contributor",
        "webhookSubscriptionsTable": "Storage Table Data Contributor",
        "webhookDeliveriesTable": "Storage Table Data Contributor",
        "webhookQueue": "Storage Queue Data Contributor",
        "webhookPoisonQueue": "Storage Queue Data Message Sender",
        "searchStatusTable": "Storage Table Data Contributor",
        "searchReindexQueue": "Storage Queue Data Contributor",
        "searchReindexPoisonQueue": "Storage Queue Data Message Sender",
        "webingestTable": "Storage Table Data Contributor",
        "webingestQueue": "Storage Queue Data Contributor",
        "webingestPoisonQueue": "Storage Queue Data Message Sender",
    }


def test_the_app_identity_publishes_to_the_topic_only() -> None:
    """Outside storage the app identity holds EventGrid Data Sender on the
    custom topic and Monitoring Metrics Publisher on Application Insights,
    each scoped to that one resource (never the group or subscription)."""
    assert sorted(role_assignments("roles.bicep").values()) == [
        ("appPrincipalId", "EventGrid Data Sender", "topic"),
        ("appPrincipalId", "Monitoring Metrics Publisher", "appInsights"),
    ]


def test_the_language_role_is_on_the_app_identity_and_the_language_account() -> None:
    """Language Reader, scoped to the Language account, for the app identity
    (main.bicep passes the app identity, never the host identity)."""
    parsed = parse_bicep(INFRA / "modules" / "language.bicep")
    (assignment,) = [
        resource_config(resource)
        for resource in parsed["resources"].values()
        if resource["type"] == "Microsoft.Authorization/roleAssignments"
    ]
    assert assignment["scope"] == "language"
    assert assignment["properties"]["principalId"] == "appPrincipalId"
    assert "languageReaderRoleId" in json.dumps(
        assignment["properties"]["roleDefinitionId"], default=str
    )
    main = (INFRA / "main.bicep").read_text(encoding="utf-8")
    language_call = main.split("module language")[1].split("\nmodule ")[0]
    assert "appPrincipalId: appIdentity.outputs.principalId" in language_call


def test_the_host_identity_holds_roles_on_the_host_account_only() -> None:
    """Owner on blobs (Microsoft's documented minimum for identity-based
    AzureWebJobsStorage) and Table Data Contributor (diagnostic events), on
    the host account; no other module grants the host identity anything."""
    host = role_assignments("host-storage-roles.bicep")
    assert sorted(host.values()) == [
        ("hostPrincipalId", "Storage Blob Data Owner", "account"),
        ("hostPrincipalId", "Storage Table Data Contributor", "account"),
    ]
    main = (INFRA / "main.bicep").read_text(encoding="utf-8")
    # The host identity's principal goes to host-storage-roles.bicep alone.
    assert main.count("hostIdentity.outputs.principalId") == 1
    assert (
        "appIdentity.outputs.principalId"
        not in main.split("module hostStorageRoles")[1].split("module roles")[0]
    )


def test_no_output_exposes_the_logic_app_callback_url() -> None:
    """The callback URL carries a SAS signature: it goes to app settings only."""
    for path in BICEP_FILES:
        outputs = parse_bicep(path).get("outputs", {})
        for name, output in outputs.items():
            assert "listCallbackUrl" not in json.dumps(output, default=str), (path, name)
            assert "LOGIC_APP_URL" not in name, (path, name)


# --- the Event Grid subscription map -------------------------------------------


def subscription_map() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(SUBSCRIPTIONS_JSON.read_text(encoding="utf-8"))
    return result


def test_subscriptions_template_loads_the_shared_map() -> None:
    """subscriptions.bicep reads event-subscriptions.json (the dev host's map)."""
    variables = parse_bicep(INFRA / "subscriptions.bicep")["variables"]
    loaded = variables["config"]["value"]["function"]
    assert loaded["type"] == "load_json_content"
    assert (INFRA / loaded["parameters"]["file_path"]).resolve() == SUBSCRIPTIONS_JSON


def test_subscription_map_fits_the_templates() -> None:
    """Sources are the two topics the templates create, every subscription has
    event types, the retry policy is explicit and the blob-drop filter names
    the inbox container infra creates."""
    doc = subscription_map()
    assert doc["retryPolicy"]["maxDeliveryAttempts"] >= 1
    assert doc["retryPolicy"]["eventTimeToLiveInMinutes"] >= 1
    inbox = storage_names()["inboxContainer"]
    for sub in doc["subscriptions"]:
        assert sub["source"] in {"topic", "storage"}, sub["name"]
        assert sub["includedEventTypes"], sub["name"]
        if sub["source"] == "storage":
            assert sub["subjectBeginsWith"] == f"/blobServices/default/containers/{inbox}/blobs/"


@cache
def registered_functions() -> frozenset[str]:
    # get_functions() validates as it indexes and refuses a second call.
    import function_app
    from tools.devhost.functions import app_functions

    return frozenset(str(f.get_function_name()) for f in app_functions(function_app.app))


def subscribed_functions() -> Iterator[str]:
    seen: set[str] = set()
    for sub in json.loads(SUBSCRIPTIONS_JSON.read_text(encoding="utf-8"))["subscriptions"]:
        if sub["function"] not in seen:
            seen.add(sub["function"])
            yield sub["function"]


@pytest.mark.parametrize("function", list(subscribed_functions()))
def test_subscribed_function_is_registered(function: str) -> None:
    """Each function event-subscriptions.json routes events to exists in the app
    (functions marked pending in PENDING_FUNCTIONS may be absent for now)."""
    registered = registered_functions()
    if function not in registered and function in PENDING_FUNCTIONS:
        pytest.skip(f"{function} is pending: {PENDING_FUNCTIONS[function]}")
    assert function in registered
