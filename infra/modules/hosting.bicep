// The function app on Flex Consumption (FC1, Linux, Python 3.11) with its two
// user-assigned identities, and its app settings: the settings contract with
// the code (kernel/settings.py and each capability's settings) is checked by
// tests/unit/test_infra.py.
//
// Which identity each setting uses:
//   host identity: AzureWebJobsStorage__* (the Functions host's own storage,
//     the host account) and the deployment package (functionAppConfig).
//   app identity: DATA_STORAGE__* (the app's data and the queue triggers:
//     webhooks, reindex, crawl frontier; the data account), AZURE_CLIENT_ID (the app code's
//     DefaultAzureCredential: Event Grid) and
//     APPLICATIONINSIGHTS_AUTHENTICATION_STRING (telemetry), and the Key Vault
//     references SECRETS_KEY and LOGIC_APP_URL (keyVaultReferenceIdentity).

param location string
param tags object
param planName string
param appName string

@description('The host identity: AzureWebJobsStorage and the deployment package.')
param hostIdentityName string

@description('The app identity: the data account, Event Grid, telemetry.')
param appIdentityName string

param hostStorageBlobEndpoint string
param hostStorageQueueEndpoint string
param hostStorageTableEndpoint string
param dataStorageBlobEndpoint string
param dataStorageQueueEndpoint string
param dataStorageTableEndpoint string

@description('Container, table and queue names shared with the app (main.bicep storageNames).')
param storageNames object

@description('The deployment package container, in the host account.')
param deploymentContainerName string

param appInsightsName string
param topicName string
param instanceMemoryMB int
param maximumInstanceCount int
param httpAlwaysReadyInstances int
param processorAlwaysReadyInstances int
param zoneRedundant bool

@description('Azure AI Language endpoint; empty: language enrichment off.')
param languageEndpoint string

@description('Azure OpenAI (or OpenAI-compatible) endpoint for abstractive summaries; empty: extractive.')
param summaryEndpoint string

param summaryModel string

@description('Azure AI Search endpoint; empty: the embedded engine (local use only).')
param searchEndpoint string

@description('Azure OpenAI endpoint for embeddings; empty: text search only.')
param embeddingsEndpoint string

param embeddingsModel string

param embeddingsDimensions int

// Identity and tenancy (docs/deploy.md, "Sign-in and app roles").
@description('Key Vault secret URI of the SECRETS_KEY key ring (keyvault.bicep), resolved by the platform as the app identity.')
param secretsKeySecretUri string

@description('Key Vault secret URI of the Logic App callback URL; empty: LOGIC_APP_URL stays empty.')
param logicAppUrlSecretUri string

@description('Token issuer (AUTH_ISSUER), https://login.microsoftonline.com/<tenant>/v2.0.')
param authIssuer string

@description('Token audience (AUTH_AUDIENCE): the API app registration\'s application id.')
param authAudience string

param authLeewaySeconds int
param authOwnerScope string

@description('Days before results and document records are deleted; 0 keeps them.')
param resultsRetentionDays int

@description('Stored documents per owner; 0: no cap.')
param documentsMaxPerOwner int

@description('Owner of inbox files outside an <owner>/ folder.')
param inboxDefaultOwner string

// Single-line, parenthesised ternary (pycep-parser).
var summaryProvider = empty(summaryEndpoint) ? 'extractive' : 'azure-openai'

resource hostIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: hostIdentityName
}

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: appIdentityName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: topicName
}

// Always-ready instances per scale group: 'http' is every HTTP function,
// 'function:<name>' one event-driven function. Empty: everything scales from
// zero. (Single-line, parenthesised ternaries: pycep-parser rejects multi-line ones
// and binds `?` tighter than comparisons.)
var httpAlwaysReady = (httpAlwaysReadyInstances > 0) ? [{ name: 'http', instanceCount: httpAlwaysReadyInstances }] : []
var processorAlwaysReady = (processorAlwaysReadyInstances > 0) ? [{ name: 'function:process_document', instanceCount: processorAlwaysReadyInstances }] : []

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

// App settings (siteConfig.appSettings) replace the whole collection on every
// provision. Every name the code reads is set unless it has a default
// (each settings module's OPTIONAL) or is platform-provided;
// tests/unit/test_infra.py checks both ways. Not set on purpose:
// EVENTGRID_TOPIC_KEY (the topic refuses keys), WEBHOOK_ALLOWED_CIDRS (the
// webhook SSRF exception stays empty in Azure; so does WEBINGEST_ALLOWED_CIDRS),
// AzureWebJobsStorage and DATA_STORAGE themselves (identity-based connections
// instead), FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION (Flex
// Consumption rejects them).
// (pycep-parser, hence checkov, fails on more than four comment lines in a row
// inside an object: longer notes live outside the resource body.)
resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, {
    'azd-service-name': 'functions'
  })
  kind: 'functionapp,linux'
  // Both identities are attached (the platform's identity endpoint serves a
  // token for either to code in the app process; docs/deploy.md).
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${hostIdentity.id}': {}
      '${appIdentity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    clientCertEnabled: false
    // Key Vault references (SECRETS_KEY, LOGIC_APP_URL) resolve as the app identity.
    keyVaultReferenceIdentity: appIdentity.id
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // The whole app settings collection (see the note above the resource).
      appSettings: [
        // The Functions host's own storage (keys, locks, diagnostic events):
        // the host account, as the host identity (no connection string, no key).
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: hostIdentity.properties.clientId
        }
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: hostStorageBlobEndpoint
        }
        {
          name: 'AzureWebJobsStorage__queueServiceUri'
          value: hostStorageQueueEndpoint
        }
        {
          name: 'AzureWebJobsStorage__tableServiceUri'
          value: hostStorageTableEndpoint
        }
        // The app's data: the data account, as the app identity. The app
        // reads these (kernel/settings.py); the host reads them for the
        // queue triggers (connection DATA_STORAGE).
        {
          name: 'DATA_STORAGE__credential'
          value: 'managedidentity'
        }
        {
          name: 'DATA_STORAGE__clientId'
          value: appIdentity.properties.clientId
        }
        {
          name: 'DATA_STORAGE__blobServiceUri'
          value: dataStorageBlobEndpoint
        }
        {
          name: 'DATA_STORAGE__queueServiceUri'
          value: dataStorageQueueEndpoint
        }
        {
          name: 'DATA_STORAGE__tableServiceUri'
          value: dataStorageTableEndpoint
        }
        // storage.bicep creates every container, table and queue; the app
        // identity's scoped roles could not create them anyway.
        {
          name: 'STORAGE_PROVISIONED'
          value: 'true'
        }
        // DefaultAzureCredential (the app's Event Grid publisher) picks the
        // app identity of the two.
        {
          name: 'AZURE_CLIENT_ID'
          value: appIdentity.properties.clientId
        }
        // Telemetry: the Python worker exports through OpenTelemetry with the
        // identity (the component refuses its instrumentation key alone).
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${appIdentity.properties.clientId};Authorization=AAD'
        }
        {
          name: 'PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY'
          value: 'true'
        }
        // Publishing with the identity: endpoint only, no key.
        {
          name: 'EVENTGRID_TOPIC_ENDPOINT'
          value: topic.properties.endpoint
        }
        {
          name: 'UPLOADS_CONTAINER'
          value: storageNames.uploadsContainer
        }
        {
          name: 'INBOX_CONTAINER'
          value: storageNames.inboxContainer
        }
        {
          name: 'RESULTS_CONTAINER'
          value: storageNames.resultsContainer
        }
        {
          name: 'DOCUMENTS_TABLE'
          value: storageNames.documentsTable
        }
        {
          name: 'WEBHOOK_QUEUE'
          value: storageNames.webhookQueue
        }
        {
          name: 'WEBHOOK_SUBSCRIPTIONS_TABLE'
          value: storageNames.webhookSubscriptionsTable
        }
        {
          name: 'WEBHOOK_DELIVERIES_TABLE'
          value: storageNames.webhookDeliveriesTable
        }
        // Web ingestion: the frontier queue (one message per URL) and its table.
        {
          name: 'WEBINGEST_QUEUE'
          value: storageNames.webingestQueue
        }
        {
          name: 'WEBINGEST_TABLE'
          value: storageNames.webingestTable
        }
        // Enrichment: endpoints only; the identity signs in (no keys).
        {
          name: 'LANGUAGE_ENDPOINT'
          value: languageEndpoint
        }
        {
          name: 'SUMMARY_PROVIDER'
          value: summaryProvider
        }
        {
          name: 'SUMMARY_ENDPOINT'
          value: summaryEndpoint
        }
        {
          name: 'SUMMARY_MODEL'
          value: summaryModel
        }
        // Search: endpoints only; the identity signs in (no keys).
        {
          name: 'SEARCH_ENDPOINT'
          value: searchEndpoint
        }
        {
          name: 'SEARCH_INDEX'
          value: 'documents'
        }
        {
          name: 'SEARCH_STATUS_TABLE'
          value: storageNames.searchStatusTable
        }
        {
          name: 'SEARCH_REINDEX_QUEUE'
          value: storageNames.searchReindexQueue
        }
        {
          name: 'EMBEDDINGS_ENDPOINT'
          value: embeddingsEndpoint
        }
        {
          name: 'EMBEDDINGS_MODEL'
          value: embeddingsModel
        }
        {
          name: 'EMBEDDINGS_DIMENSIONS'
          value: string(embeddingsDimensions)
        }
        // The URL carries the trigger's SAS: kept in Key Vault, never output.
        {
          name: 'LOGIC_APP_URL'
          value: empty(logicAppUrlSecretUri) ? '' : '@Microsoft.KeyVault(SecretUri=${logicAppUrlSecretUri})'
        }
        // Identity and tenancy: bearer tokens from Entra ID (kernel/auth),
        // the webhook secrets' key ring from Key Vault, retention and quotas.
        {
          name: 'AUTH_MODE'
          value: 'jwt'
        }
        {
          name: 'AUTH_ISSUER'
          value: authIssuer
        }
        {
          name: 'AUTH_AUDIENCE'
          value: authAudience
        }
        // Empty: the keys come from the issuer's OpenID discovery document.
        {
          name: 'AUTH_JWKS_URL'
          value: ''
        }
        {
          name: 'AUTH_LEEWAY_SECONDS'
          value: string(authLeewaySeconds)
        }
        {
          name: 'AUTH_OWNER_SCOPE'
          value: authOwnerScope
        }
        {
          name: 'SECRETS_KEY'
          value: '@Microsoft.KeyVault(SecretUri=${secretsKeySecretUri})'
        }
        {
          name: 'RESULTS_RETENTION_DAYS'
          value: string(resultsRetentionDays)
        }
        {
          name: 'DOCUMENTS_MAX_PER_OWNER'
          value: string(documentsMaxPerOwner)
        }
        {
          name: 'INBOX_DEFAULT_OWNER'
          value: inboxDefaultOwner
        }
      ]
    }
    // Flex Consumption takes the runtime, scale and deployment source here.
    functionAppConfig: {
      runtime: {
        name: 'python'
        version: '3.11'
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: concat(httpAlwaysReady, processorAlwaysReady)
      }
      // The package lives in the host account and is read as the host
      // identity: the app identity cannot replace the code that runs.
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: hostIdentity.id
          }
        }
      }
    }
  }
}

// Deployments (azd, Core Tools) authenticate with Entra ID; no publishing
// user names or passwords exist.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output url string = 'https://${app.properties.defaultHostName}'
