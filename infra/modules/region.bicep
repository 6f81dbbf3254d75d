// The passive region of an active-passive pair (main.bicep secondaryLocation,
// docs/operations.md): a second function app and Flex Consumption plan with the
// same code and app settings (hosting.bicep), on the same storage account as
// the primary, with this region's own identity, Event Grid topic, Logic App,
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

param storageAccountName string
param storageResourceGroupName string
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

module identity 'identity.bicep' = {
  name: 'secondary-identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
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
    deadLetterContainerName: storageNames.deadLetterContainer
    inboxContainerName: storageNames.inboxContainer
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

module hosting 'hosting.bicep' = {
  name: 'secondary-hosting'
  params: {
    location: location
    tags: tags
    planName: names.plan
    appName: names.functionApp
    identityName: names.identity
    storageBlobEndpoint: 'https://${storageAccountName}.blob.${environment().suffixes.storage}/'
    storageQueueEndpoint: 'https://${storageAccountName}.queue.${environment().suffixes.storage}/'
    storageTableEndpoint: 'https://${storageAccountName}.table.${environment().suffixes.storage}/'
    storageNames: storageNames
    appInsightsName: names.appInsights
    topicName: names.topic
    logicAppName: names.logicApp
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
  }
  dependsOn: [
    identity
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
