// A Key Vault for the app's secrets (one per region, so the passive region
// resolves its settings while the primary is down): the SECRETS_KEY key ring
// (webhook signing secrets are encrypted at rest under it) and the Logic App
// callback URL (it carries the trigger's SAS). hosting.bicep reads both as
// Key Vault references (@Microsoft.KeyVault(SecretUri=...)) the platform
// resolves with the app identity. Authorisation is Azure RBAC only (no access
// policies); the app identity holds Key Vault Secrets User on each secret it
// reads, not on the vault. Soft delete and purge protection are on: a deleted
// vault or secret stays recoverable for softDeleteRetentionDays (docs/deploy.md).

param name string
param location string
param tags object

@description('Principal id of the app\'s user-assigned identity (reads the secrets).')
param appPrincipalId string

@secure()
@minLength(1)
@description('The SECRETS_KEY key ring: comma-separated <key id>:<base64 of 32 bytes>, the first encrypts.')
param secretsKey string

@description('The Logic App whose manual trigger\'s callback URL becomes the logic-app-url secret.')
param logicAppName string

@description('Days a deleted vault or secret stays recoverable (purge protection holds it that long).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionDays int = 90

param logAnalyticsId string

var roleIds = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionDays
    enablePurgeProtection: true
    // Resource Manager reads no secret of this vault during deployments, and
    // no VM or disk encryption uses it.
    enabledForDeployment: false
    enabledForTemplateDeployment: false
    enabledForDiskEncryption: false
    // Flex Consumption without VNet integration resolves the references over
    // the public endpoint; every call needs an Entra ID token and a role.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource secretsKeySecret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = {
  parent: vault
  name: 'secrets-key'
  properties: {
    value: secretsKey
    contentType: 'text/plain; SECRETS_KEY key ring'
    attributes: {
      enabled: true
    }
  }
}

resource logicApp 'Microsoft.Logic/workflows@2019-05-01' existing = {
  name: logicAppName
}

resource logicAppTrigger 'Microsoft.Logic/workflows/triggers@2019-05-01' existing = {
  parent: logicApp
  name: 'manual'
}

// Read at deployment straight into the vault, never output.
resource logicAppUrlSecret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = {
  parent: vault
  name: 'logic-app-url'
  properties: {
    value: logicAppTrigger.listCallbackUrl().value
    contentType: 'text/plain; LOGIC_APP_URL'
    attributes: {
      enabled: true
    }
  }
}

// Per secret, the narrowest scope Key Vault RBAC offers: the app identity
// cannot list the vault's secrets or read any other.
resource appReadsSecretsKey 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(secretsKeySecret.id, appPrincipalId, roleIds.keyVaultSecretsUser)
  scope: secretsKeySecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appReadsLogicAppUrl 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(logicAppUrlSecret.id, appPrincipalId, roleIds.keyVaultSecretsUser)
  scope: logicAppUrlSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Every secret read (the platform resolving a reference included) is audited
// in Log Analytics.
resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
// Versioned: a new key ring (rotation) changes the app setting, so the app
// restarts on it at once instead of within the platform's 24-hour refresh.
output secretsKeySecretUri string = secretsKeySecret.properties.secretUriWithVersion
output logicAppUrlSecretUri string = logicAppUrlSecret.properties.secretUriWithVersion
