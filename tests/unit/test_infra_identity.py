"""Identity and tenancy in infra/, checked offline: the Entra ID app roles
match the roles the code checks, the Key Vault holds the key ring and the Logic
App URL under RBAC with the app identity reading only those secrets, the app
settings reference them, the results retention drives the lifecycle rule,
API Management is off by default, and the preprovision hook (run here with
stand-in `azd` and `az` executables) generates SECRETS_KEY once and creates
or finds the app registration idempotently."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from kernel.identity import ROLES
from tests.unit.test_infra import (
    INFRA,
    app_settings,
    function_app_site,
    parse_bicep,
    resource_config,
)

ENTRA = INFRA / "entra"
KEY_VAULT = INFRA / "modules" / "keyvault.bicep"
HOOK = INFRA / "hooks" / "preprovision.sh"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


def load(name: str) -> Any:
    return json.loads((ENTRA / name).read_text(encoding="utf-8"))


# --- the app registration ------------------------------------------------------


def test_app_roles_are_the_roles_the_code_checks() -> None:
    roles = load("app-roles.json")
    assert {role["value"] for role in roles} == set(ROLES)
    assert len(roles) == len(ROLES)


def test_app_role_ids_are_unique_guids_and_every_role_is_for_users_and_apps() -> None:
    roles = load("app-roles.json")
    ids = [str(uuid.UUID(role["id"])) for role in roles]
    assert ids == [role["id"] for role in roles], "ids must be lower-case canonical GUIDs"
    assert len(set(ids)) == len(ids)
    for role in roles:
        assert sorted(role["allowedMemberTypes"]) == ["Application", "User"], role["value"]
        assert role["isEnabled"] is True
        assert role["displayName"] and role["description"]


def test_the_api_issues_v2_tokens_and_preauthorises_the_azure_cli_for_its_own_scope() -> None:
    """v2.0 tokens make iss .../<tenant>/v2.0 (AUTH_ISSUER) and aud the
    application id (AUTH_AUDIENCE); api.json is api-scopes.json plus the
    pre-authorisation, which names a scope that exists."""
    scopes, full = load("api-scopes.json")["api"], load("api.json")["api"]
    assert scopes["requestedAccessTokenVersion"] == full["requestedAccessTokenVersion"] == 2
    assert full["oauth2PermissionScopes"] == scopes["oauth2PermissionScopes"]
    scope_ids = {scope["id"] for scope in scopes["oauth2PermissionScopes"]}
    role_ids = {role["id"] for role in load("app-roles.json")}
    assert scope_ids.isdisjoint(role_ids)
    (cli,) = full["preAuthorizedApplications"]
    assert cli["appId"] == AZURE_CLI_APP_ID
    assert set(cli["delegatedPermissionIds"]) <= scope_ids


# --- Key Vault --------------------------------------------------------------------


def key_vault_resources() -> dict[str, Any]:
    resources: dict[str, Any] = parse_bicep(KEY_VAULT)["resources"]
    return resources


def test_the_vault_uses_rbac_soft_delete_and_purge_protection() -> None:
    vault = resource_config(key_vault_resources()["vault"])["properties"]
    assert vault["enableRbacAuthorization"] is True
    assert vault["enableSoftDelete"] is True
    assert vault["enablePurgeProtection"] is True
    assert "accessPolicies" not in vault
    assert vault["enabledForTemplateDeployment"] is False


def test_the_app_identity_reads_each_secret_it_needs_and_nothing_else() -> None:
    resources = key_vault_resources()
    secrets = {
        resource_config(r)["name"]: key
        for key, r in resources.items()
        if r["type"] == "Microsoft.KeyVault/vaults/secrets"
    }
    assert set(secrets) == {"secrets-key", "logic-app-url"}
    assignments = [
        resource_config(r)
        for r in resources.values()
        if r["type"] == "Microsoft.Authorization/roleAssignments"
    ]
    assert sorted(a["scope"] for a in assignments) == sorted(secrets.values())
    role_ids = parse_bicep(KEY_VAULT)["variables"]["roleIds"]["value"]
    for assignment in assignments:
        properties = assignment["properties"]
        assert properties["principalId"] == "appPrincipalId"
        role = properties["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
        assert role_ids[role["operator"]["operands"]["operand_2"]] == KEY_VAULT_SECRETS_USER


def test_the_key_ring_is_a_secure_parameter_that_must_be_given() -> None:
    for path in (KEY_VAULT, INFRA / "main.bicep", INFRA / "modules" / "region.bicep"):
        param = parse_bicep(path)["parameters"]["secretsKey"]
        assert {"type": "secure"} in [{"type": d["type"]} for d in param["decorators"]], path
        assert param.get("default") is None, path
    parameters = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert parameters["secretsKey"]["value"] == "${SECRETS_KEY}"
    assert parameters["authAudience"]["value"] == "${AUTH_AUDIENCE}"


def test_the_app_resolves_its_secrets_from_key_vault_as_the_app_identity() -> None:
    site = function_app_site()
    identity = site["properties"]["keyVaultReferenceIdentity"]["operator"]["operands"]
    assert (identity["operand_1"], identity["operand_2"]) == ("appIdentity", "id")
    settings = app_settings()
    assert settings["SECRETS_KEY"] == "@Microsoft.KeyVault(SecretUri=${secretsKeySecretUri})"
    logic = settings["LOGIC_APP_URL"]["operator"]["operands"]
    assert logic["false_value"] == "@Microsoft.KeyVault(SecretUri=${logicAppUrlSecretUri})"
    assert "listCallbackUrl" not in (INFRA / "modules" / "hosting.bicep").read_text()


def test_the_deployed_app_requires_entra_id_tokens() -> None:
    settings = app_settings()
    assert settings["AUTH_MODE"] == "jwt"
    assert settings["AUTH_ISSUER"] == "authIssuer"
    assert settings["AUTH_JWKS_URL"] == ""
    main = (INFRA / "main.bicep").read_text()
    assert (
        "var authIssuer = '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'"
        in main
    )


def test_each_region_has_its_own_vault_for_its_own_identity() -> None:
    region = parse_bicep(INFRA / "modules" / "region.bicep")["modules"]
    params = region["keyVault"]["config"]["params"]
    assert region["keyVault"]["detail"]["path"] == "keyvault.bicep"
    principal = params["appPrincipalId"]["operator"]["operands"]
    assert principal["operand_1"] == "identity"  # this region's app identity
    assert principal["operand_2"]["operator"]["operands"]["operand_2"] == "principalId"
    assert params["secretsKey"] == "secretsKey"


# --- retention and API Management ------------------------------------------------


def test_results_retention_deletes_results_and_caps_raw_uploads() -> None:
    storage = (INFRA / "modules" / "storage.bicep").read_text()
    assert (
        "var deleteResults = expireResults ? { delete: { daysAfterModificationGreaterThan:"
        " resultsRetentionDays } } : {}" in storage
    )
    assert "daysAfterModificationGreaterThan: rawUploadDays" in storage
    assert "daysAfterModificationGreaterThan: uploadRetentionDays" not in storage
    main = parse_bicep(INFRA / "main.bicep")
    assert main["parameters"]["resultsRetentionDays"]["default"] == 90
    assert app_settings()["RESULTS_RETENTION_DAYS"]["function"]["type"] == "string"


def test_api_management_is_off_by_default_and_conditional() -> None:
    main = parse_bicep(INFRA / "main.bicep")
    assert main["parameters"]["apiManagement"]["default"] is False
    assert main["modules"]["gateway"]["config"]["condition"] == "apiManagement"
    assert main["parameters"]["apiManagementSku"]["default"] != "Consumption"


def test_the_gateway_policy_validates_tokens_and_limits_each_caller() -> None:
    policy = (INFRA / "apim" / "policy.xml").read_text(encoding="utf-8")
    placeholders = set(re.findall(r"__[A-Z_]+__", policy)) - {"__PLACEHOLDERS__"}
    module = (INFRA / "modules" / "apim.bicep").read_text(encoding="utf-8")
    assert placeholders and {p for p in placeholders if f"'{p}'" not in module} == set()
    validate = policy.split("<validate-jwt", 1)[1].split("</validate-jwt>", 1)[0]
    assert '<openid-config url="__OPENID_CONFIG_URL__" />' in validate
    assert "<audience>__AUDIENCE__</audience>" in validate
    assert "<issuer>__ISSUER__</issuer>" in validate
    assert 'require-signed-tokens="true"' in validate
    limit = re.search(r"<rate-limit-by-key [^\n]*/>", policy)
    assert limit is not None
    assert 'calls="__CALLS__" renewal-period="__PERIOD__"' in limit.group(0)
    assert '"oid"' in limit.group(0)


# --- the preprovision hook, run with stand-ins -----------------------------------

FAKE_AZD = """#!/bin/sh
# Stand-in azd: the environment is one file per name under $FAKE_ENV.
case "$1 $2" in
  "env get-value") [ -f "$FAKE_ENV/$3" ] && cat "$FAKE_ENV/$3" && exit 0
                   echo "ERROR: key '$3' not found" >&2; exit 1 ;;
  "env set") printf '%s' "$4" > "$FAKE_ENV/$3"; echo "azd $*" >> "$FAKE_LOG" ;;
  *) exit 2 ;;
esac
"""

FAKE_AZ = """#!/bin/sh
# Stand-in az: records each call, answers the look-ups the hook makes.
echo "az $*" >> "$FAKE_LOG"
case "$1 $2 $3" in
  "ad app list") cat "$FAKE_STATE/app" 2>/dev/null || true ;;
  "ad app create") echo 11111111-2222-3333-4444-555555555555 > "$FAKE_STATE/app"
                   cat "$FAKE_STATE/app" ;;
  "ad app show") echo 99999999-8888-7777-6666-555555555555 ;;
  "ad sp show") [ -f "$FAKE_STATE/sp" ] || exit 3; echo sp-object-id ;;
  "ad sp create") touch "$FAKE_STATE/sp" ;;
esac
exit 0
"""


class Hook:
    def __init__(self, root: Path) -> None:
        self.bin, self.env, self.state = root / "bin", root / "env", root / "state"
        for folder in (self.bin, self.env, self.state):
            folder.mkdir()
        self.log = root / "calls.log"
        self.log.touch()
        for name, text in (("azd", FAKE_AZD), ("az", FAKE_AZ)):
            tool = self.bin / name
            tool.write_text(text)
            tool.chmod(0o755)

    def run(self, **extra: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "AZURE_ENV_NAME": "team-a",
            "FAKE_ENV": str(self.env),
            "FAKE_STATE": str(self.state),
            "FAKE_LOG": str(self.log),
            **extra,
        }
        return subprocess.run(
            ["sh", str(HOOK)], env=env, capture_output=True, text=True, timeout=60, check=False
        )

    def value(self, name: str) -> str | None:
        path = self.env / name
        return path.read_text() if path.exists() else None

    def calls(self, prefix: str) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.startswith(prefix)]


@pytest.fixture
def hook(tmp_path: Path) -> Hook:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    return Hook(tmp_path)


def test_the_hook_generates_a_32_byte_key_once_and_keeps_it(hook: Hook) -> None:
    first = hook.run(AUTH_AUDIENCE="existing-app-id")
    assert first.returncode == 0, first.stderr
    key = hook.value("SECRETS_KEY")
    assert key is not None
    key_id, _, material = key.partition(":")
    assert key_id == "k1"
    assert len(base64.b64decode(material, validate=True)) == 32
    second = hook.run(AUTH_AUDIENCE="existing-app-id")
    assert second.returncode == 0, second.stderr
    assert hook.value("SECRETS_KEY") == key
    assert len(hook.calls("azd env set SECRETS_KEY")) == 1
    assert hook.calls("az ") == [], "AUTH_AUDIENCE set: no app registration is touched"
    assert "not creating an app registration" in second.stdout


def test_the_hook_never_replaces_the_key_of_a_provisioned_environment(hook: Hook) -> None:
    result = hook.run(AUTH_AUDIENCE="x", AZURE_KEY_VAULT_NAME="kv-abc")
    assert result.returncode == 1
    assert "az keyvault secret show --vault-name kv-abc --name secrets-key" in result.stderr
    assert hook.value("SECRETS_KEY") is None


def test_the_hook_creates_the_app_registration_then_finds_it(hook: Hook) -> None:
    app_id = "11111111-2222-3333-4444-555555555555"
    first = hook.run(SECRETS_KEY="k1:AAAA")
    assert first.returncode == 0, first.stderr
    assert len(hook.calls("az ad app create --display-name docflow-api-team-a")) == 1
    (update,) = hook.calls("az ad app update")
    assert f"--identifier-uris api://{app_id}" in update
    assert f"--app-roles @{HOOK.parent}/../entra/app-roles.json" in update
    patches = hook.calls("az rest --method PATCH")
    assert [p.split("--body @")[1].split()[0].rsplit("/", 1)[1] for p in patches] == [
        "api-scopes.json",
        "api.json",
    ]
    assert len(hook.calls("az ad sp create")) == 1
    assert hook.calls("az ad sp update") == [
        f"az ad sp update --id {app_id} --set appRoleAssignmentRequired=true --output none"
    ]
    assert hook.value("AUTH_AUDIENCE") == app_id
    assert hook.value("SECRETS_KEY") is None, "a given SECRETS_KEY is not rewritten"

    (hook.env / "AUTH_AUDIENCE").unlink()
    second = hook.run(SECRETS_KEY="k1:AAAA")
    assert second.returncode == 0, second.stderr
    assert len(hook.calls("az ad app create")) == 1, "found by display name, not created again"
    assert len(hook.calls("az ad sp create")) == 1
    assert hook.value("AUTH_AUDIENCE") == app_id


def test_azd_runs_the_hook_before_provisioning_on_every_platform() -> None:
    text = (INFRA.parent / "azure.yaml").read_text()
    block = text.split("  preprovision:", 1)[1].split("  postdeploy:", 1)[0]
    assert "run: ./infra/hooks/preprovision.sh" in block
    assert "run: ./infra/hooks/preprovision.ps1" in block
    assert (INFRA / "hooks" / "preprovision.ps1").is_file()
    ps1 = (INFRA / "hooks" / "preprovision.ps1").read_text()
    for needle in ("RandomNumberGenerator", "app-roles.json", "AUTH_AUDIENCE", "api.json"):
        assert needle in ps1, needle
