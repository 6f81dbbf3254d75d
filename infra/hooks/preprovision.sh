#!/bin/sh
# azd runs this before every `azd provision` / `azd up` (azure.yaml
# hooks.preprovision). Idempotent; two steps (docs/deploy.md):
#  1. SECRETS_KEY, the key ring the webhook signing secrets are encrypted
#     under: generated once (k1:<base64 of 32 random bytes>) and kept in the
#     azd environment; main.parameters.json passes it to Key Vault. Never
#     regenerated: a new key would make every stored secret unreadable.
#  2. The Entra ID app registration of the API (app roles from
#     infra/entra/app-roles.json, v2.0 access tokens, identifier URI
#     api://<appId>, a service principal requiring role assignment), found by
#     its display name docflow-api-<azd env name>; AUTH_AUDIENCE is set to its
#     application id, the aud of its v2.0 tokens. Skipped when AUTH_AUDIENCE
#     is already set (bring your own registration).
# Step 2 needs the Azure CLI signed in (`az login`) to the tenant azd uses,
# with the right to create applications in it.
set -eu

: "${AZURE_ENV_NAME:?run through azd (azd up or azd provision)}"
here=$(cd "$(dirname "$0")" && pwd)
entra="$here/../entra"

# --- 1. SECRETS_KEY ------------------------------------------------------------
secrets_key="${SECRETS_KEY:-}"
if [ -z "$secrets_key" ]; then
  secrets_key=$(azd env get-value SECRETS_KEY 2>/dev/null || true)
fi
if [ -n "$secrets_key" ]; then
  echo "preprovision: SECRETS_KEY is set; keeping it."
elif [ -n "${AZURE_KEY_VAULT_NAME:-}" ]; then
  # This environment was provisioned before: its vault holds the key ring the
  # stored secrets are sealed under. A new key would orphan them.
  echo "preprovision: SECRETS_KEY is missing but $AZURE_KEY_VAULT_NAME exists. Restore it:" >&2
  echo "  azd env set SECRETS_KEY \"\$(az keyvault secret show --vault-name $AZURE_KEY_VAULT_NAME --name secrets-key --query value -o tsv)\"" >&2
  exit 1
else
  command -v openssl >/dev/null 2>&1 || {
    echo "preprovision: openssl is needed to generate SECRETS_KEY (or set it: azd env set SECRETS_KEY k1:<base64 of 32 bytes>)." >&2
    exit 1
  }
  azd env set SECRETS_KEY "k1:$(openssl rand -base64 32)"
  echo "preprovision: generated SECRETS_KEY (key id k1) in the azd environment."
fi

# --- 2. The Entra ID app registration -----------------------------------------
audience="${AUTH_AUDIENCE:-}"
if [ -z "$audience" ]; then
  audience=$(azd env get-value AUTH_AUDIENCE 2>/dev/null || true)
fi
if [ -n "$audience" ]; then
  echo "preprovision: AUTH_AUDIENCE is set ($audience); not creating an app registration."
  exit 0
fi
command -v az >/dev/null 2>&1 || {
  echo "preprovision: the Azure CLI is needed to create the app registration (or set AUTH_AUDIENCE to an existing one's application id)." >&2
  exit 1
}

name="docflow-api-$AZURE_ENV_NAME"
app_id=$(az ad app list --filter "displayName eq '$name'" --query "[0].appId" --output tsv | tr -d '\r')
if [ -z "$app_id" ]; then
  app_id=$(az ad app create --display-name "$name" --sign-in-audience AzureADMyOrg \
    --query appId --output tsv | tr -d '\r')
  echo "preprovision: created the app registration $name ($app_id)."
else
  echo "preprovision: found the app registration $name ($app_id); updating it."
fi
object_id=$(az ad app show --id "$app_id" --query id --output tsv | tr -d '\r')

az ad app update --id "$app_id" --identifier-uris "api://$app_id" \
  --app-roles "@$entra/app-roles.json"
# v2.0 access tokens (iss .../<tenant>/v2.0, aud = the application id) and a
# delegated scope, then the Azure CLI pre-authorised for it (az account
# get-access-token). Two requests: a pre-authorisation must name a scope that
# already exists.
az rest --method PATCH --uri "https://graph.microsoft.com/v1.0/applications/$object_id" \
  --headers "Content-Type=application/json" --body "@$entra/api-scopes.json" --output none
az rest --method PATCH --uri "https://graph.microsoft.com/v1.0/applications/$object_id" \
  --headers "Content-Type=application/json" --body "@$entra/api.json" --output none

if ! az ad sp show --id "$app_id" --query id --output tsv >/dev/null 2>&1; then
  az ad sp create --id "$app_id" --output none
fi
# Only principals assigned an app role get a token for the API.
az ad sp update --id "$app_id" --set appRoleAssignmentRequired=true --output none

azd env set AUTH_AUDIENCE "$app_id"
echo "preprovision: AUTH_AUDIENCE=$app_id. Assign app roles to users, groups and apps: docs/deploy.md."
