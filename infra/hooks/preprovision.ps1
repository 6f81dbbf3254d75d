# azd runs this before every `azd provision` / `azd up` on Windows (azure.yaml
# hooks.preprovision); preprovision.sh is the same for macOS and Linux and
# explains both steps: SECRETS_KEY generated once and kept, and the Entra ID
# app registration of the API (skipped when AUTH_AUDIENCE is already set).
# Step 2 needs the Azure CLI signed in (`az login`) to the tenant azd uses.
$ErrorActionPreference = 'Stop'

if (-not $env:AZURE_ENV_NAME) { throw 'preprovision: run through azd (azd up or azd provision)' }
$entra = Join-Path $PSScriptRoot '..' 'entra'

# Native commands do not stop the script on failure: check each exit code.
function Invoke-Checked([scriptblock] $command, [string] $what) {
    $output = & $command
    if ($LASTEXITCODE -ne 0) { throw "preprovision: $what failed (exit code $LASTEXITCODE)" }
    return $output
}

function Get-AzdValue([string] $name) {
    $fromEnv = [Environment]::GetEnvironmentVariable($name)
    if ($fromEnv) { return $fromEnv }
    $value = azd env get-value $name 2>$null
    if ($LASTEXITCODE -ne 0) { return '' }
    return "$value".Trim()
}

# --- 1. SECRETS_KEY ------------------------------------------------------------
if (Get-AzdValue 'SECRETS_KEY') {
    Write-Host 'preprovision: SECRETS_KEY is set; keeping it.'
}
elseif ($env:AZURE_KEY_VAULT_NAME) {
    # Provisioned before: a new key would orphan the secrets sealed under the old one.
    throw ("preprovision: SECRETS_KEY is missing but $($env:AZURE_KEY_VAULT_NAME) exists. Restore it: " +
        "azd env set SECRETS_KEY (az keyvault secret show --vault-name $($env:AZURE_KEY_VAULT_NAME) --name secrets-key --query value -o tsv)")
}
else {
    $bytes = [System.Security.Cryptography.RandomNumberGenerator]::GetBytes(32)
    $key = 'k1:' + [Convert]::ToBase64String($bytes)
    Invoke-Checked { azd env set SECRETS_KEY $key } 'azd env set SECRETS_KEY' | Out-Null
    Write-Host 'preprovision: generated SECRETS_KEY (key id k1) in the azd environment.'
}

# --- 2. The Entra ID app registration -----------------------------------------
$audience = Get-AzdValue 'AUTH_AUDIENCE'
if ($audience) {
    Write-Host "preprovision: AUTH_AUDIENCE is set ($audience); not creating an app registration."
    exit 0
}
if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    throw 'preprovision: the Azure CLI is needed to create the app registration (or set AUTH_AUDIENCE to an existing one''s application id).'
}

$name = "docflow-api-$($env:AZURE_ENV_NAME)"
$appId = "$(Invoke-Checked { az ad app list --filter "displayName eq '$name'" --query '[0].appId' --output tsv } 'az ad app list')".Trim()
if (-not $appId) {
    $appId = "$(Invoke-Checked { az ad app create --display-name $name --sign-in-audience AzureADMyOrg --query appId --output tsv } 'az ad app create')".Trim()
    Write-Host "preprovision: created the app registration $name ($appId)."
}
else {
    Write-Host "preprovision: found the app registration $name ($appId); updating it."
}
$objectId = "$(Invoke-Checked { az ad app show --id $appId --query id --output tsv } 'az ad app show')".Trim()

$roles = Join-Path $entra 'app-roles.json'
Invoke-Checked { az ad app update --id $appId --identifier-uris "api://$appId" --app-roles "@$roles" } 'az ad app update' | Out-Null
# v2.0 access tokens and a delegated scope, then the Azure CLI pre-authorised
# for it: two requests (a pre-authorisation must name an existing scope).
$graph = "https://graph.microsoft.com/v1.0/applications/$objectId"
foreach ($body in 'api-scopes.json', 'api.json') {
    $path = Join-Path $entra $body
    Invoke-Checked { az rest --method PATCH --uri $graph --headers 'Content-Type=application/json' --body "@$path" --output none } "az rest PATCH $body" | Out-Null
}

az ad sp show --id $appId --query id --output tsv 2>$null | Out-Null
if ($LASTEXITCODE -ne 0) {
    Invoke-Checked { az ad sp create --id $appId --output none } 'az ad sp create' | Out-Null
}
# Only principals assigned an app role get a token for the API.
Invoke-Checked { az ad sp update --id $appId --set appRoleAssignmentRequired=true --output none } 'az ad sp update' | Out-Null

Invoke-Checked { azd env set AUTH_AUDIENCE $appId } 'azd env set AUTH_AUDIENCE' | Out-Null
Write-Host "preprovision: AUTH_AUDIENCE=$appId. Assign app roles to users, groups and apps: docs/deploy.md."
