// The function app on Flex Consumption (FC1, Linux, Python 3.11), running as
// the user-assigned identity, and its app settings: the settings contract with
// processing/settings.py is checked by tests/unit/test_infra.py.

param location string
param tags object
param planName string
param appName string
param identityName string
param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string

@description('Container, table and queue names shared with the app (main.bicep storageNames).')
param storageNames object

param appInsightsName string
param topicName string
param logicAppName string
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

// Single-line, parenthesised ternary (pycep-parser).
var summaryProvider = empty(summaryEndpoint) ? 'extractive' : 'azure-openai'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: topicName
}

resource logicApp 'Microsoft.Logic/workflows@2019-05-01' existing = {
  name: logicAppName
}

resource logicAppTrigger 'Microsoft.Logic/workflows/triggers@2019-05-01' existing = {
  parent: logicApp
  name: 'manual'
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
// (processing/settings.py OPTIONAL) or is platform-provided;
// tests/unit/test_infra.py checks both ways. Not set on purpose:
// EVENTGRID_TOPIC_KEY (the topic refuses keys), WEBHOOK_ALLOWED_CIDRS (the
// webhook SSRF exception stays empty in Azure; so does WEBINGEST_ALLOWED_CIDRS),
// AzureWebJobsStorage itself
// (identity-based connection instead), FUNCTIONS_WORKER_RUNTIME and
// FUNCTIONS_EXTENSION_VERSION (Flex Consumption rejects them).
// (pycep-parser, hence checkov, fails on more than four comment lines in a row
// inside an object: longer notes live outside the resource body.)
resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, {
    'azd-service-name': 'functions'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    clientCertEnabled: false
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // The whole app settings collection (see the note above the resource).
      appSettings: [
        // Host storage through the identity (no connection string, no key).
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identity.properties.clientId
        }
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: storageBlobEndpoint
        }
        {
          name: 'AzureWebJobsStorage__queueServiceUri'
          value: storageQueueEndpoint
        }
        {
          name: 'AzureWebJobsStorage__tableServiceUri'
          value: storageTableEndpoint
        }
        // DefaultAzureCredential picks the user-assigned identity.
        {
          name: 'AZURE_CLIENT_ID'
          value: identity.properties.clientId
        }
        // Telemetry: the Python worker exports through OpenTelemetry with the
        // identity (the component refuses its instrumentation key alone).
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identity.properties.clientId};Authorization=AAD'
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
        // Read at deployment, never output: the URL carries the trigger's SAS.
        {
          name: 'LOGIC_APP_URL'
          value: logicAppTrigger.listCallbackUrl().value
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
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${storageNames.deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
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
