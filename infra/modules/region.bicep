// The passive region of an active-passive pair (main.bicep secondaryLocation,
// docs/operations.md): a second function app and Flex Consumption plan with the
// same code and app settings (hosting.bicep), on the same data account as the
// primary, with this region's own host account (host keys, leases, the
// package), host and app identities, Event Grid topic, Logic App,
// Application Insights and Log Analytics, so nothing it needs at run time but
// storage lives in the primary region. Deployed in its own resource group in
// its region: Resource Manager keeps serving it while the primary's is down.
// Event Grid subscriptions to this app's functions: the postdeploy hook.

param location string
param tags object

@description('Resource names in this region (main.bicep secondaryNames).')
param names object

@description('Container, table and queue names shared with the app (main.bicep storageNames).')
param storageNames object

@description('The shared data account and its resource group.')
param storageAccountName string
param storageResourceGroupName string

@description('SKU of this region\'s host account.')
param hostStorageSku string
param blobRecoveryDays int
param alertEmail string
param logRetentionDays int
param logDailyCapGb int
param instanceMemoryMB int
param maximumInstanceCount int

@description('Azure AI Language endpoint (the primary region\'s account); empty: enrichment off.')
param languageEndpoint string

param languageAccountName string

@description('Resource group of the primary\'s AI services (Language, Search, OpenAI).')
param aiResourceGroupName string
param summaryEndpoint string
param summaryModel string

@description('Azure AI Search endpoint and service name (the primary\'s); empty: the embedded engine.')
param searchEndpoint string
param searchServiceName string

@description('Embeddings endpoint, account and deployment (the primary\'s); empty: text search only.')
param embeddingsEndpoint string
param embeddingsAccountName string
param embeddingsModel string
param embeddingsDimensions int

// Identity and tenancy: the same key ring (the shared tables hold secrets
// sealed under it), issuer, audience, retention and quotas as the primary.
@secure()
param secretsKey string
param keyVaultSoftDeleteDays int
param authIssuer string
param authAudience string
param authLeewaySeconds int
param authOwnerScope string
param resultsRetentionDays int
param documentsMaxPerOwner int
param inboxDefaultOwner string

var deploymentContainer = 'app-package-${uniqueString(names.functionApp)}'

module hostStorage 'host-storage.bicep' = {
  name: 'secondary-host-storage'
  params: {
    name: names.hostStorageAccount
    location: location
    tags: tags
    sku: hostStorageSku
    deploymentContainerName: deploymentContainer
    blobRecoveryDays: blobRecoveryDays
  }
}

module hostIdentity 'identity.bicep' = {
  name: 'secondary-host-identity'
  params: {
    name: names.hostIdentity
    location: location
    tags: tags
  }
}

module identity 'identity.bicep' = {
  name: 'secondary-app-identity'
  params: {
    name: names.appIdentity
    location: location
    tags: tags
  }
}

module hostStorageRoles 'host-storage-roles.bicep' = {
  name: 'secondary-host-storage-roles'
  params: {
    storageAccountName: names.hostStorageAccount
    hostPrincipalId: hostIdentity.outputs.principalId
  }
  dependsOn: [
    hostStorage
  ]
}

module monitoring 'monitoring.bicep' = {
  name: 'secondary-monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    actionGroupName: names.actionGroup
    budgetName: names.budget
    alertEmail: alertEmail
    logRetentionDays: logRetentionDays
    logDailyCapGb: logDailyCapGb
    // The primary resource group's budget covers the pair's main costs.
    monthlyBudget: 0
    budgetStartDate: ''
  }
}

// This region's topic: the app here publishes its uploads and completions to
// it, and its subscriptions deliver them to the app here. No storage system
// topic: an account has one, with the primary (blob drops, docs/operations.md).
module events 'events.bicep' = {
  name: 'secondary-events'
  params: {
    location: location
    tags: tags
    topicName: names.topic
    systemTopicName: names.systemTopic
    createSystemTopic: false
    storageAccountId: ''
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module workflow 'workflow.bicep' = {
  name: 'secondary-workflow'
  params: {
    name: names.logicApp
    location: location
    tags: tags
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module roles 'roles.bicep' = {
  name: 'secondary-roles'
  params: {
    appPrincipalId: identity.outputs.principalId
    topicName: names.topic
    appInsightsName: names.appInsights
  }
  dependsOn: [
    events
    monitoring
  ]
}

// The same data roles as the primary's identity, on the shared account, made
// while both regions are up: during an outage Resource Manager cannot change
// anything in the primary's resource group.
module storageRoles 'storage-roles.bicep' = {
  name: 'storage-roles-${names.functionApp}'
  scope: resourceGroup(storageResourceGroupName)
  params: {
    storageAccountName: storageAccountName
    names: storageNames
    appPrincipalId: identity.outputs.principalId
    topicPrincipalId: events.outputs.topicPrincipalId
    systemTopicPrincipalId: ''
    developerPrincipalId: ''
    developerPrincipalType: 'User'
  }
}

module aiAccess 'ai-access.bicep' = {
  name: 'ai-access-${names.functionApp}'
  scope: resourceGroup(aiResourceGroupName)
  params: {
    appPrincipalId: identity.outputs.principalId
    languageAccountName: empty(languageEndpoint) ? '' : languageAccountName
    searchServiceName: empty(searchEndpoint) ? '' : searchServiceName
    embeddingsAccountName: empty(embeddingsEndpoint) ? '' : embeddingsAccountName
  }
}

// This region's own vault (a vault lives in one region; the passive app must
// resolve its references while the primary's is unreachable): the same key
// ring, this region's Logic App URL, read by this region's app identity only.
module keyVault 'keyvault.bicep' = {
  name: 'secondary-key-vault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    secretsKey: secretsKey
    logicAppName: workflow.outputs.name
    softDeleteRetentionDays: keyVaultSoftDeleteDays
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module hosting 'hosting.bicep' = {
  name: 'secondary-hosting'
  params: {
    location: location
    tags: tags
    planName: names.plan
    appName: names.functionApp
    hostIdentityName: names.hostIdentity
    appIdentityName: names.appIdentity
    hostStorageBlobEndpoint: 'https://${names.hostStorageAccount}.blob.${environment().suffixes.storage}/'
    hostStorageQueueEndpoint: 'https://${names.hostStorageAccount}.queue.${environment().suffixes.storage}/'
    hostStorageTableEndpoint: 'https://${names.hostStorageAccount}.table.${environment().suffixes.storage}/'
    dataStorageBlobEndpoint: 'https://${storageAccountName}.blob.${environment().suffixes.storage}/'
    dataStorageQueueEndpoint: 'https://${storageAccountName}.queue.${environment().suffixes.storage}/'
    dataStorageTableEndpoint: 'https://${storageAccountName}.table.${environment().suffixes.storage}/'
    storageNames: storageNames
    deploymentContainerName: deploymentContainer
    appInsightsName: names.appInsights
    topicName: names.topic
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    // Passive: scales from zero; Front Door's probes keep an instance warm.
    httpAlwaysReadyInstances: 0
    processorAlwaysReadyInstances: 0
    zoneRedundant: false
    languageEndpoint: languageEndpoint
    summaryEndpoint: summaryEndpoint
    summaryModel: summaryModel
    searchEndpoint: searchEndpoint
    embeddingsEndpoint: embeddingsEndpoint
    embeddingsModel: embeddingsModel
    embeddingsDimensions: embeddingsDimensions
    secretsKeySecretUri: keyVault.outputs.secretsKeySecretUri
    logicAppUrlSecretUri: keyVault.outputs.logicAppUrlSecretUri
    authIssuer: authIssuer
    authAudience: authAudience
    authLeewaySeconds: authLeewaySeconds
    authOwnerScope: authOwnerScope
    resultsRetentionDays: resultsRetentionDays
    documentsMaxPerOwner: documentsMaxPerOwner
    inboxDefaultOwner: inboxDefaultOwner
  }
  dependsOn: [
    hostIdentity
    identity
    hostStorageRoles
    storageRoles
    roles
    workflow
    aiAccess
  ]
}

output functionAppName string = hosting.outputs.name
output url string = hosting.outputs.url
output topicName string = names.topic
output topicEndpoint string = events.outputs.topicEndpoint
output actionGroupId string = monitoring.outputs.actionGroupId
